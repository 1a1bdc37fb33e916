//! The one integration test binary (as ripgrep's and just's): every test runs the real
//! `stackwiz` binary, through the small builder in `support` (`TestEnv::cmd(..).ok()`), in a
//! temp dir with a cleaned environment; the Cloudflare API and the IP services are loopback
//! fakes, Docker is the private test engine (tests/setup/README.md) or a fake script.
//! One binary links once and shares one harness; `cargo test --test stackwiz MODULE::` runs
//! one file's tests.

mod support;

#[path = "support/dns_world.rs"]
mod dns_world;
#[path = "support/fake_cloudflare.rs"]
mod fake_cloudflare;
#[path = "support/fake_http.rs"]
mod fake_http;
#[path = "support/fake_ip.rs"]
mod fake_ip;
#[path = "support/hostile.rs"]
mod hostile_lab;

mod config;
mod create;
mod dns;
mod faults;
mod files;
mod hostile;
mod lifecycle;
mod mcp;
mod mcp_dns;
mod runner;
