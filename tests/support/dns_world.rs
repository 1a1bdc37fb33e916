//! The world of the DNS tests (CLI and MCP alike): a fake Cloudflare holding the zone
//! example.com for [`TOKEN`], a fake IP service answering [`IP`], and a [`TestEnv`] pointing
//! stackwiz at both, with TOKEN and example.com as its defaults. Include it next to the fakes:
//! `#[path = "support/dns_world.rs"] mod dns_world;`.
#![allow(dead_code)]

use crate::fake_cloudflare::FakeCloudflare;
use crate::fake_ip::FakeIp;
use crate::support::TestEnv;

pub const TOKEN: &str = "cf-tok-7Hq2ZsecretXk9";
pub const IP: &str = "93.184.216.34";
pub const NEW_IP: &str = "93.184.216.99";
/// Every HTTP timeout and wait x 0.2: Cloudflare requests may take 6 s, IP services 1 s
/// (ample for a fake on loopback, even on a busy machine), a 10 s Retry-After waits 2 s.
pub const SCALE: &str = "0.2";

pub struct World {
    pub env: TestEnv,
    pub cf: FakeCloudflare,
    pub ips: FakeIp,
}

pub fn world() -> World {
    let cf = FakeCloudflare::start(TOKEN);
    cf.add_zone("example.com");
    let ips = FakeIp::start(IP);
    let mut env = TestEnv::new();
    env.set("STACKWIZ_CF_API_URL", &cf.url)
        .set("STACKWIZ_IP_SERVICES", ips.url("/valid"))
        .set("STACKWIZ_CF_API_TOKEN", TOKEN)
        .set("STACKWIZ_DEFAULT_DOMAIN", "example.com")
        .set("STACKWIZ_HTTP_TIME_SCALE", SCALE);
    World { env, cf, ips }
}
