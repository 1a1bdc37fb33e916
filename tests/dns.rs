//! DNS and public-IP behaviour, through the real binary (and, for the helpers the stack
//! operations call, through the library), against fakes of Cloudflare and the IP services
//! on loopback. No test reaches the internet: every environment points both at a fake.
//! Every command's output is checked for the token.

#[path = "support/fake_cloudflare.rs"]
mod fake_cloudflare;
#[path = "support/fake_http.rs"]
mod fake_http;
#[path = "support/fake_ip.rs"]
mod fake_ip;
mod support;

use std::time::{Duration, Instant};

use fake_cloudflare::{FakeCloudflare, Fault};
use fake_ip::FakeIp;
use serde_json::Value;
use support::{Out, TestEnv};

const TOKEN: &str = "cf-tok-7Hq2ZsecretXk9";
const IP: &str = "93.184.216.34";
const NEW_IP: &str = "93.184.216.99";
/// Every HTTP timeout and wait x 0.2: Cloudflare requests may take 6 s, IP services 1 s
/// (ample for a fake on loopback, even on a busy machine), a 10 s Retry-After waits 2 s.
const SCALE: &str = "0.2";

struct World {
    env: TestEnv,
    cf: FakeCloudflare,
    ips: FakeIp,
}

fn world() -> World {
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

impl World {
    fn run(&self, args: &[&str]) -> Out {
        no_token(self.env.cmd(args).output())
    }

    fn ok(&self, args: &[&str]) -> Out {
        no_token(self.env.cmd(args).ok())
    }

    fn fails(&self, code: i32, args: &[&str]) -> Out {
        no_token(self.env.cmd(args).fails(code))
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.ok(&all).json()
    }

    /// Request bodies and query parameters stay within the official schema subset.
    fn requests_follow_the_schema(&self) {
        for l in self.cf.log() {
            let allowed: &[&str] = match (l.method.as_str(), l.path.as_str()) {
                ("GET", "/zones") => &["name", "page", "per_page"],
                ("GET", p) if p.ends_with("/dns_records") => {
                    &["name", "type", "page", "per_page", "comment.startswith"]
                }
                _ => &[],
            };
            for (k, _) in &l.query {
                assert!(
                    allowed.contains(&k.as_str()),
                    "{} {} sends `{k}`",
                    l.method,
                    l.path
                );
            }
            if let Some(pp) = l.param("per_page").and_then(|v| v.parse::<u32>().ok()) {
                let range = if l.path == "/zones" {
                    5..=50
                } else {
                    1..=5_000_000
                };
                assert!(range.contains(&pp), "per_page {pp} on {}", l.path);
            }
            if l.method == "POST" || l.method == "PATCH" {
                let body: Value = serde_json::from_str(&l.body).expect("JSON body");
                for (k, v) in body.as_object().expect("object body") {
                    let ok = match k.as_str() {
                        "type" => v
                            .as_str()
                            .is_some_and(|t| ["A", "AAAA", "CNAME", "TXT"].contains(&t)),
                        "name" | "content" | "comment" => v.is_string(),
                        "proxied" => v.is_boolean(),
                        "ttl" => v
                            .as_u64()
                            .is_some_and(|t| t == 1 || (30..=86400).contains(&t)),
                        _ => false,
                    };
                    assert!(ok, "{} {} body field {k} = {v}", l.method, l.path);
                }
            }
        }
    }
}

fn no_token(out: Out) -> Out {
    assert!(!out.says(TOKEN), "the token leaked:\n{out}");
    out
}

// ---------------------------------------------------------------------------------------
// create

#[test]
fn create_makes_a_proxied_a_record_at_the_detected_address_owned_by_its_name() {
    let w = world();
    let out = w.json(&["dns", "create", "app"]);
    assert_eq!(out["action"], "created");
    assert_eq!(out["zone"]["name"], "example.com");
    let r = &out["record"];
    assert_eq!(
        (
            r["type"].as_str(),
            r["name"].as_str(),
            r["content"].as_str()
        ),
        (Some("A"), Some("app.example.com"), Some(IP))
    );
    assert_eq!(
        (r["proxied"].as_bool(), r["ttl"].as_u64()),
        (Some(true), Some(1))
    );
    assert_eq!(
        (r["comment"].as_str(), r["owner"].as_str()),
        (Some("stackwiz:app"), Some("app"))
    );
    assert_eq!(out["ip_source"], w.ips.url("/valid"));
    let stored = w.cf.record("A", "app.example.com").unwrap();
    assert_eq!((stored.content.as_str(), stored.proxied), (IP, true));
    let post = w.cf.log().into_iter().find(|l| l.method == "POST").unwrap();
    let body: Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"type": "A", "name": "app.example.com", "content": IP, "proxied": true, "ttl": 1, "comment": "stackwiz:app"})
    );
    assert!(w.cf.log().iter().all(|l| l.authorized));
    w.requests_follow_the_schema();
}

#[test]
fn create_again_is_unchanged_without_a_write_or_a_zone_lookup() {
    let w = world();
    w.ok(&["dns", "create", "app"]);
    assert_eq!(w.cf.zone_lookups(), 2, "app.example.com, then example.com");
    w.cf.clear_log();
    let out = w.ok(&["dns", "create", "app"]);
    assert!(
        out.stdout.starts_with(
            "unchanged: A app.example.com -> 93.184.216.34 (proxied, TTL auto, stackwiz:app)"
        ),
        "{out}"
    );
    assert_eq!(w.cf.writes(), 0, "{:?}", w.cf.log());
    assert_eq!(w.cf.zone_lookups(), 0, "the zone came from the disk cache");
    let cache = w.env.path("cache/stackwiz/zones.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&cache).unwrap();
    assert!(text.contains("app.example.com") && !text.contains(TOKEN));
}

#[test]
fn a_different_record_of_that_name_is_an_error_naming_it_unless_update() {
    let w = world();
    w.cf.add_record("A", "app.example.com", "93.184.216.1", false, 300, None);
    let out = w.fails(1, &["dns", "create", "app", "--value", NEW_IP]);
    assert!(
        out.stderr.contains("error: app.example.com already has a different record: A app.example.com -> 93.184.216.1 (DNS only, TTL 300, not stackwiz's)"),
        "{out}"
    );
    assert!(out.stderr.contains("--update"), "{out}");
    assert_eq!(w.cf.writes(), 0);
    let out = w.json(&["dns", "create", "app", "--value", NEW_IP, "--update"]);
    assert_eq!(out["action"], "updated");
    assert_eq!(out["previous"]["content"], "93.184.216.1");
    assert_eq!(
        out["changed"],
        serde_json::json!(["content", "proxied", "ttl", "comment"])
    );
    let patch =
        w.cf.log()
            .into_iter()
            .find(|l| l.method == "PATCH")
            .unwrap();
    assert!(
        !patch.body.contains("\"type\"") && !patch.body.contains("\"name\""),
        "{}",
        patch.body
    );
    let stored = w.cf.record("A", "app.example.com").unwrap();
    assert_eq!(
        (
            stored.content.as_str(),
            stored.proxied,
            stored.comment.as_deref()
        ),
        (NEW_IP, true, Some("stackwiz:app"))
    );
    w.requests_follow_the_schema();
}

#[test]
fn an_identical_hand_made_record_is_left_alone_and_not_claimed() {
    let w = world();
    w.cf.add_record("A", "app.example.com", IP, true, 1, Some("made by hand"));
    let out = w.json(&["dns", "create", "app"]);
    assert_eq!(out["action"], "unchanged");
    assert_eq!(out["record"]["owner"], Value::Null);
    assert_eq!(w.cf.writes(), 0);
}

#[test]
fn cname_targets_and_conflicts() {
    let w = world();
    let out = w.json(&[
        "dns",
        "create",
        "www",
        "--type",
        "cname",
        "--value",
        "Main.Example.com.",
    ]);
    assert_eq!(out["record"]["content"], "main.example.com");
    assert_eq!(out["record"]["proxied"], true);
    let out = w.fails(1, &["dns", "create", "www", "--value", "93.184.216.34"]);
    assert!(
        out.stderr
            .contains("www.example.com already has a different record: CNAME"),
        "{out}"
    );
    assert!(out.stderr.contains("cannot share a name"), "{out}");
    let out = w.fails(
        2,
        &[
            "dns",
            "create",
            "x",
            "--type",
            "CNAME",
            "--value",
            "not a host",
        ],
    );
    assert!(
        out.stderr
            .contains("error: invalid value: `not a host` is not a DNS name"),
        "{out}"
    );
    let out = w.fails(
        2,
        &[
            "dns",
            "create",
            "x",
            "--type",
            "CNAME",
            "--value",
            "x.example.com",
        ],
    );
    assert!(out.stderr.contains("own name"), "{out}");
}

#[test]
fn invalid_input_is_refused_before_any_request() {
    let w = world();
    let cases: &[(&[&str], &str)] = &[
        (
            &["dns", "create", "app", "--ttl", "10", "--no-proxied"],
            "invalid ttl: 10 is out of range",
        ),
        (
            &["dns", "create", "app", "--ttl", "300"],
            "a proxied record's TTL is always automatic",
        ),
        (
            &[
                "dns",
                "create",
                "t",
                "--type",
                "TXT",
                "--value",
                "x",
                "--proxied",
            ],
            "only A, AAAA and CNAME records can be proxied",
        ),
        (
            &["dns", "create", "t", "--type", "TXT"],
            "a TXT record needs a value",
        ),
        (
            &["dns", "create", "t", "--type", "TXT", "--value", "AUTO"],
            "AUTO works only for A and AAAA",
        ),
        (&["dns", "create", "bad name"], "invalid name"),
        (&["dns", "create", "bücher"], "Punycode"),
        (
            &["dns", "create", "app", "--value", "300.1.1.1"],
            "is not an IPv4 address",
        ),
        (
            &[
                "dns", "create", "app", "--type", "AAAA", "--value", "1.2.3.4",
            ],
            "is not an IPv6 address",
        ),
        (&["dns", "update", "app"], "nothing to change"),
    ];
    for (args, says) in cases {
        let out = w.fails(2, args);
        assert!(out.stderr.contains(says), "{args:?}: {out}");
    }
    let out = w.fails(2, &["dns", "create", "app", "--type", "MX"]);
    assert!(
        out.stderr.contains("possible values: A, AAAA, CNAME, TXT"),
        "{out}"
    );
    assert!(w.cf.log().is_empty(), "{:?}", w.cf.log());
    assert!(w.ips.hits().is_empty());
}

#[test]
fn cloudflare_rules_reach_the_user_with_its_codes() {
    let w = world();
    w.cf.set_read_only(true);
    let out = w.fails(1, &["dns", "create", "app"]);
    assert!(
        out.stderr
            .contains("error: Cloudflare API error (HTTP 403): [10000] Authentication error"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("hint: the token may not do this: give it DNS:Edit"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------
// update, delete, list

#[test]
fn update_changes_only_the_fields_given() {
    let w = world();
    w.cf.add_record("A", "app.example.com", IP, true, 1, Some("stackwiz:app"));
    let out = w.json(&["dns", "update", "app", "--no-proxied", "--ttl", "300"]);
    assert_eq!(out["action"], "updated");
    assert_eq!(out["changed"], serde_json::json!(["proxied", "ttl"]));
    let patch =
        w.cf.log()
            .into_iter()
            .find(|l| l.method == "PATCH")
            .unwrap();
    assert_eq!(patch.body, r#"{"proxied":false,"ttl":300}"#);
    w.cf.clear_log();
    let out = w.json(&[
        "dns",
        "update",
        "app.example.com",
        "--type",
        "A",
        "--ttl",
        "300",
    ]);
    assert_eq!(out["action"], "unchanged");
    assert_eq!(w.cf.writes(), 0);
    let out = w.fails(1, &["dns", "update", "nope", "--value", IP]);
    assert!(
        out.stderr.contains("no DNS record named nope.example.com"),
        "{out}"
    );
    w.ips.set_ip(NEW_IP);
    let out = w.json(&["dns", "update", "app", "--value", "auto"]);
    assert_eq!(out["record"]["content"], NEW_IP);
    w.requests_follow_the_schema();
}

#[test]
fn delete_needs_confirmation_and_touches_only_stackwiz_records_unless_forced() {
    let w = world();
    w.cf.add_record("A", "app.example.com", IP, true, 1, Some("stackwiz:app"));
    w.cf.add_record("TXT", "app.example.com", "keep me", false, 1, None);
    let out = w.fails(2, &["dns", "delete", "app"]);
    assert!(
        out.stderr
            .contains("error: dns delete app needs confirmation"),
        "{out}"
    );
    assert!(out.stderr.contains("--yes"), "{out}");
    assert_eq!(w.cf.writes(), 0);
    let out = w.json(&["dns", "delete", "app", "--dry-run"]);
    assert_eq!(
        (
            out["deleted"].as_array().unwrap().len(),
            out["kept"].as_array().unwrap().len()
        ),
        (1, 1)
    );
    assert_eq!(w.cf.writes(), 0);
    let out = w.ok(&["dns", "delete", "app", "--yes"]);
    assert!(
        out.stdout.contains("deleted A app.example.com")
            && out.stdout.contains("kept TXT app.example.com"),
        "{out}"
    );
    assert_eq!(w.cf.records().len(), 1);
    let out = w.fails(1, &["dns", "delete", "app", "--yes"]);
    assert!(
        out.stderr
            .contains("stackwiz did not create the records of app.example.com"),
        "{out}"
    );
    assert!(out.stderr.contains("--force"), "{out}");
    w.ok(&["dns", "delete", "app", "--yes", "--force", "--type", "TXT"]);
    assert!(w.cf.records().is_empty());
    let out = w.fails(1, &["dns", "delete", "app", "--yes"]);
    assert!(
        out.stderr.contains("no DNS record named app.example.com"),
        "{out}"
    );
}

#[test]
fn list_follows_pagination_to_the_end() {
    let w = world();
    for i in 0..5 {
        w.cf.add_record("A", &format!("h{i}.example.com"), IP, false, 300, None);
    }
    w.cf.add_record("TXT", "h0.example.com", "x", false, 1, None);
    w.cf.set_page_cap(2);
    let out = w.json(&["dns", "list"]);
    assert_eq!(out["records"].as_array().unwrap().len(), 6);
    let pages: Vec<String> =
        w.cf.log()
            .iter()
            .filter(|l| l.path.ends_with("/dns_records"))
            .filter_map(|l| l.param("page").map(String::from))
            .collect();
    assert_eq!(pages, ["1", "2", "3"]);
    let out = w.json(&["dns", "list", "--name", "h0", "--type", "txt"]);
    assert_eq!(out["records"].as_array().unwrap().len(), 1);
    assert_eq!(out["records"][0]["owner"], Value::Null);
    let out = w.ok(&["dns", "list", "--zone", "example.com", "--type", "A"]);
    assert_eq!(out.stdout.lines().count(), 5, "{out}");
    w.requests_follow_the_schema();
}

// ---------------------------------------------------------------------------------------
// zones

#[test]
fn the_longest_zone_wins_and_a_zone_id_skips_the_lookup() {
    let w = world();
    let sub = w.cf.add_zone("sub.example.com");
    let out = w.json(&["dns", "create", "x.Sub.Example.com", "--value", IP]);
    assert_eq!(out["zone"]["name"], "sub.example.com");
    let names: Vec<String> =
        w.cf.log()
            .iter()
            .filter(|l| l.path == "/zones")
            .map(|l| l.param("name").unwrap().to_string())
            .collect();
    assert_eq!(names, ["x.sub.example.com", "sub.example.com"]);
    w.cf.clear_log();
    let out = no_token(
        w.env
            .cmd(["--json", "dns", "list", "--name", "y.sub.example.com"])
            .env("STACKWIZ_CF_ZONE_ID", &sub)
            .ok(),
    );
    assert_eq!(out.json()["zone"]["id"], sub.as_str());
    assert_eq!(w.cf.zone_lookups(), 0);
    let out = w.fails(1, &["dns", "create", "a.nowhere.org"]);
    assert!(
        out.stderr.contains(
            "no Cloudflare zone holds a.nowhere.org (looked for a.nowhere.org, nowhere.org)"
        ),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------
// HTTP behaviour

#[test]
fn rate_limits_wait_retry_after_then_succeed() {
    let w = world();
    w.cf.fault(Fault::RateLimit(Some("10".into())));
    let started = Instant::now();
    w.ok(&["dns", "list"]);
    // Retry-After 10 s at time scale 0.2.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        w.cf.zone_lookups(),
        2,
        "the rate-limited lookup was repeated"
    );
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(5));
    w.cf.fault(Fault::RateLimit(Some(date)));
    w.cf.fault(Fault::RateLimit(None));
    w.ok(&["dns", "list"]);
}

#[test]
fn rate_limits_give_up_after_three_retries_with_cloudflares_code() {
    let w = world();
    for _ in 0..4 {
        w.cf.fault(Fault::RateLimit(Some("1".into())));
    }
    let out = w.fails(1, &["dns", "list"]);
    assert!(
        out.stderr
            .contains("error: Cloudflare API error (HTTP 429): [971] Please wait"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("hint: Cloudflare is rate limiting this token"),
        "{out}"
    );
    assert_eq!(w.cf.log().len(), 4);
}

#[test]
fn server_errors_and_slow_answers_are_retried() {
    let mut w = world();
    w.cf.fault(Fault::Raw(502, "<html>Bad gateway</html>".into()));
    w.cf.fault(Fault::Raw(
        500,
        r#"{"success":false,"errors":[{"code":10001,"message":"internal"}],"messages":[],"result":null}"#.into(),
    ));
    w.ok(&["dns", "list"]);
    assert_eq!(w.cf.zone_lookups(), 3);
    // Whole-request limit 30 s at scale 0.1 = 3 s; the first answer takes 5 s.
    w.env.set("STACKWIZ_HTTP_TIME_SCALE", "0.1");
    w.cf.clear_log();
    w.cf.fault(Fault::Delay(Duration::from_secs(5)));
    let started = Instant::now();
    w.ok(&["dns", "list", "--name", "slow"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let names: Vec<String> =
        w.cf.log()
            .iter()
            .filter_map(|l| l.param("name").map(String::from))
            .collect();
    assert_eq!(
        names[..3],
        ["slow.example.com", "slow.example.com", "example.com"]
    );
}

#[test]
fn a_create_whose_answer_got_lost_is_retried_without_a_duplicate() {
    let w = world();
    w.ok(&["dns", "list", "--name", "app"]);
    // Zone cached; next: the list, then the POST whose answer is lost.
    w.cf.fault(Fault::Delay(Duration::ZERO));
    w.cf.fault(Fault::AnswerLost);
    let out = w.json(&["dns", "create", "app"]);
    assert_eq!(out["action"], "created");
    assert_eq!(w.cf.records().len(), 1);
    assert_eq!(
        w.cf.count("POST", |_| true),
        2,
        "the retried POST met 81058"
    );
}

#[test]
fn malformed_answers_are_clear_errors_not_panics() {
    let w = world();
    for body in [
        "{\"success\":true,\"result\":",
        "<html>hello</html>",
        "{\"success\":true,\"result\":[{\"id\":7}]}",
        "",
    ] {
        w.cf.fault(Fault::Raw(200, body.into()));
        let out = w.fails(1, &["dns", "list", "--name", "m"]);
        assert!(out.stderr.starts_with("error: "), "{out}");
        assert!(out.stderr.contains("Cloudflare"), "{out}");
        assert!(!out.stderr.contains("panicked"), "{out}");
    }
}

#[test]
fn a_bad_token_is_reported_with_cloudflares_code_and_never_shown() {
    let w = world();
    let wrong = "cf-wrong-tok-Zq81";
    let out = no_token(
        w.env
            .cmd(["dns", "list"])
            .env("STACKWIZ_CF_API_TOKEN", wrong)
            .fails(1),
    );
    assert!(out.stderr.contains("[9109] Invalid access token"), "{out}");
    assert!(out.stderr.contains("STACKWIZ_CF_API_TOKEN"), "{out}");
    assert!(!out.says(wrong), "{out}");
    let mut run = w.env.cmd(["dns", "list"]);
    run.cmd.env_remove("STACKWIZ_CF_API_TOKEN");
    let out = no_token(run.fails(1));
    assert!(
        out.stderr
            .contains("error: Cloudflare API token not configured"),
        "{out}"
    );
}

#[test]
fn the_token_appears_in_no_output() {
    let mut w = world();
    w.run(&["config"]);
    w.run(&["--json", "config"]);
    w.run(&["doctor"]);
    w.run(&["--json", "doctor"]);
    w.run(&["dns", "list", "--name", "a"]);
    w.run(&["--json", "dns", "create", "a", "--value", "1.1.1.1"]);
    w.run(&["dns", "delete", "a"]);
    w.run(&["dns", "sync", "--domain", "example.com"]);
    w.run(&["mcp", "--print-config", "claude-desktop"]);
    // From a file, and from traefik/.env.
    let file = w.env.path("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    w.env
        .unset("STACKWIZ_CF_API_TOKEN")
        .set("STACKWIZ_CF_API_TOKEN_FILE", &file);
    let out = w.run(&["config"]);
    assert!(out.stdout.contains("set (from file"), "{out}");
    w.ok(&["dns", "list"]);
    w.env.unset("STACKWIZ_CF_API_TOKEN_FILE");
    support::write(
        &w.env.base.join("traefik/.env"),
        &format!("CF_DNS_API_TOKEN=\"{TOKEN}\"\n"),
    );
    w.ok(&["--json", "dns", "list"]);
}

// ---------------------------------------------------------------------------------------
// sync

fn stack(w: &World, name: &str, domain: &str) {
    let compose =
        format!("services:\n  app:\n    labels:\n      - \"traefik.http.routers.{name}.rule=Host(`{domain}`)\"\n");
    support::write(&w.env.stack(name).join("docker-compose.yml"), &compose);
}

#[test]
fn sync_updates_only_stale_stackwiz_records_and_then_writes_nothing() {
    let w = world();
    stack(&w, "app", "app.example.com");
    stack(&w, "blog", "blog.example.com");
    w.cf.add_record("A", "app.example.com", IP, true, 1, Some("stackwiz:app"));
    w.cf.add_record("A", "blog.example.com", IP, true, 1, Some("stackwiz:blog"));
    w.cf.add_record("A", "hand.example.com", IP, true, 1, None);
    w.cf.add_record(
        "TXT",
        "app.example.com",
        "stackwiz",
        false,
        1,
        Some("stackwiz:app"),
    );
    let out = w.ok(&["dns", "sync"]);
    assert_eq!(
        out.stdout,
        "dns sync: all 2 stackwiz records in example.com point to 93.184.216.34; nothing changed\n"
    );
    assert_eq!(w.cf.writes(), 0);
    w.ips.set_ip(NEW_IP);
    let out = w.json(&["dns", "sync", "--dry-run"]);
    assert_eq!(
        (
            out["changes"].as_array().unwrap().len(),
            out["writes"].as_u64()
        ),
        (2, Some(0))
    );
    assert_eq!(w.cf.writes(), 0);
    let out = w.ok(&["dns", "sync"]);
    assert_eq!(
        out.stdout,
        "dns sync: updated 2 of 2 records in example.com to 93.184.216.99: app.example.com, blog.example.com\n"
    );
    assert_eq!(w.cf.count("PATCH", |_| true), 2);
    assert_eq!(
        w.cf.record("A", "hand.example.com").unwrap().content,
        IP,
        "not stackwiz's: untouched"
    );
    for l in w.cf.log().iter().filter(|l| l.method == "PATCH") {
        assert_eq!(l.body, format!(r#"{{"content":"{NEW_IP}"}}"#));
    }
    w.cf.clear_log();
    let out = w.json(&["dns", "sync"]);
    assert_eq!(
        (out["checked"].as_u64(), out["writes"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(w.cf.writes(), 0);
    assert_eq!(w.cf.zone_lookups(), 0, "warm zone cache");
    w.requests_follow_the_schema();
}

#[test]
fn sync_with_a_failed_detection_changes_nothing() {
    let mut w = world();
    stack(&w, "app", "app.example.com");
    w.cf.add_record(
        "A",
        "app.example.com",
        "93.184.216.1",
        true,
        1,
        Some("stackwiz:app"),
    );
    w.env.set(
        "STACKWIZ_IP_SERVICES",
        w.ips.urls(&["/html", "/ipv6", "/private"]),
    );
    let out = w.fails(1, &["dns", "sync"]);
    assert!(
        out.stderr.contains("cannot detect the public IPv4 address"),
        "{out}"
    );
    assert_eq!(w.cf.writes(), 0);
    assert_eq!(
        w.cf.record("A", "app.example.com").unwrap().content,
        "93.184.216.1"
    );
}

#[test]
fn sync_without_stacks_does_nothing() {
    let w = world();
    let out = w.ok(&["dns", "sync"]);
    assert_eq!(
        out.stdout,
        "dns sync: no stack domains in Cloudflare zones; nothing to do\n"
    );
    assert!(w.cf.log().is_empty() && w.ips.hits().is_empty());
    stack(&w, "lan", "lan.home.arpa");
    let out = w.ok(&["dns", "sync"]);
    assert_eq!(
        out.stdout,
        "dns sync: no stack domains in Cloudflare zones; nothing to do (skipped, in no zone of this account: lan.home.arpa)\n"
    );
    assert_eq!(w.cf.writes(), 0);
}

// ---------------------------------------------------------------------------------------
// ip

#[test]
fn ip_skips_bad_services_and_names_each_failure() {
    let mut w = world();
    w.env.set(
        "STACKWIZ_IP_SERVICES",
        w.ips.urls(&[
            "/html", "/ipv6", "/garbage", "/big", "/error", "/silent", "/trace",
        ]),
    );
    let started = Instant::now();
    let out = w.json(&["ip"]);
    assert_eq!(
        out,
        serde_json::json!({"ip": IP, "family": "ipv4", "source": w.ips.url("/trace")})
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the silent service costs 5 s x 0.2"
    );
    w.env.set(
        "STACKWIZ_IP_SERVICES",
        w.ips
            .urls(&["/html", "/ipv6", "/garbage", "/private", "/silent"]),
    );
    let out = w.fails(1, &["ip"]);
    let err = out.stderr.lines().next().unwrap();
    for why in [
        "/html: answered an HTML page, not an address",
        "/ipv6: answered IPv6 address 2606:4700:4700::1111, asked for IPv4",
        "/garbage: answer is not text",
        "/private: answered 192.168.1.20, a private address",
        "/silent: no complete answer in time",
    ] {
        assert!(err.contains(why), "{why}: {out}");
    }
    let out = no_token(w.env.cmd(["ip"]).env("STACKWIZ_ALLOW_PRIVATE_IP", "1").ok());
    assert_eq!(out.stdout, "192.168.1.20\n");
}

#[test]
fn ip_prefers_the_configured_address() {
    let mut w = world();
    w.env
        .set("STACKWIZ_PUBLIC_IP", "198.51.100.7, 2606:4700::6810:84e5");
    let out = w.fails(2, &["ip"]);
    assert!(
        out.stderr
            .contains("invalid STACKWIZ_PUBLIC_IP: 198.51.100.7 is a documentation"),
        "{out}"
    );
    w.env
        .set("STACKWIZ_PUBLIC_IP", "104.16.132.229, 2606:4700::6810:84e5");
    assert_eq!(w.ok(&["ip"]).stdout, "104.16.132.229\n");
    let out = w.json(&["ip", "--ipv6"]);
    assert_eq!(out["ip"], "2606:4700::6810:84e5");
    assert_eq!(out["source"], "env STACKWIZ_PUBLIC_IP");
    assert!(w.ips.hits().is_empty());
    let out = w.json(&["dns", "create", "v6", "--type", "AAAA"]);
    assert_eq!(out["record"]["content"], "2606:4700::6810:84e5");
}

// ---------------------------------------------------------------------------------------
// the stack helpers, through the library

mod helpers {
    use super::*;
    use stackwiz::config::{Config, Env, Overrides};
    use stackwiz::ops::{dns, Ctx, Stream};

    fn ctx(w: &World) -> Ctx {
        let home = w.env.path("home").display().to_string();
        let cache = w.env.path("cache").display().to_string();
        let env = Env::from_pairs([
            ("HOME", home.as_str()),
            ("XDG_CONFIG_HOME", home.as_str()),
            ("XDG_CACHE_HOME", cache.as_str()),
            ("STACKWIZ_BASE_DIR", w.env.base.to_str().unwrap()),
            ("STACKWIZ_CF_API_URL", w.cf.url.as_str()),
            ("STACKWIZ_IP_SERVICES", w.ips.url("/valid").as_str()),
            ("STACKWIZ_CF_API_TOKEN", TOKEN),
            ("STACKWIZ_DEFAULT_DOMAIN", "example.com"),
            ("STACKWIZ_HTTP_TIME_SCALE", SCALE),
        ]);
        Ctx {
            cfg: Config::resolve(&Overrides::default(), &env).unwrap(),
            stream: Stream::Capture,
        }
    }

    #[test]
    fn create_for_stack_owns_the_record_and_delete_for_stack_removes_only_its_own() {
        let w = world();
        let ctx = ctx(&w);
        let change = dns::create_for_stack(&ctx, "notes", "notes.example.com").unwrap();
        assert_eq!(
            serde_json::to_value(&change).unwrap()["record"]["comment"],
            "stackwiz:notes"
        );
        let again = dns::create_for_stack(&ctx, "notes", "notes.example.com").unwrap();
        assert_eq!(serde_json::to_value(&again).unwrap()["action"], "unchanged");
        w.cf.add_record(
            "TXT",
            "notes.example.com",
            "other",
            false,
            1,
            Some("stackwiz:other"),
        );
        w.cf.add_record("TXT", "notes.example.com", "hand", false, 1, None);
        let gone = serde_json::to_value(
            dns::delete_for_stack(&ctx, "notes", "notes.example.com").unwrap(),
        )
        .unwrap();
        assert_eq!(
            (
                gone["deleted"].as_array().unwrap().len(),
                gone["kept"].as_array().unwrap().len()
            ),
            (1, 2)
        );
        assert_eq!(w.cf.records().len(), 2);
        let none = serde_json::to_value(
            dns::delete_for_stack(&ctx, "notes", "notes.example.com").unwrap(),
        )
        .unwrap();
        assert_eq!(none["deleted"], serde_json::json!([]));
        let elsewhere = dns::delete_for_stack(&ctx, "lan", "lan.home.arpa").unwrap();
        assert!(elsewhere.zone.is_none() && elsewhere.deleted.is_empty());
    }

    #[test]
    fn verify_token_says_active_or_names_the_problem() {
        let w = world();
        let ctx = ctx(&w);
        assert_eq!(dns::verify_token(&ctx.cfg).unwrap(), "valid and active");
        w.cf.set_token_status("expired");
        let err = dns::verify_token(&ctx.cfg).unwrap_err();
        assert_eq!(err.to_string(), "the Cloudflare API token is expired");
        assert!(!format!("{err:?} {}", err.hint().unwrap_or_default()).contains(TOKEN));
    }

    #[test]
    fn requests_deserialize_from_tool_arguments() {
        let req: dns::DnsCreate = serde_json::from_value(serde_json::json!({
            "name": "app", "type": "aaaa", "value": "2606:4700::1", "proxied": false, "ttl": 300, "update": true
        }))
        .unwrap();
        assert_eq!(
            (req.r#type, req.ttl, req.update),
            (Some(dns::RecordType::AAAA), Some(300), true)
        );
        assert!(serde_json::from_value::<dns::DnsDelete>(
            serde_json::json!({"name": "a", "forced": true})
        )
        .is_err());
    }
}

#[test]
fn the_fakes_answer_in_the_schemas_envelope() {
    let w = world();
    w.cf.add_record("A", "app.example.com", IP, true, 1, None);
    let auth = format!("Bearer {TOKEN}");
    let (status, _, body) = fake_http::raw_get(
        w.cf.addr,
        "/client/v4/zones?name=example.com",
        &[("Authorization", &auth)],
    );
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200);
    for key in ["success", "errors", "messages", "result", "result_info"] {
        assert!(v.get(key).is_some(), "{key}");
    }
    for key in ["page", "per_page", "count", "total_count", "total_pages"] {
        assert!(v["result_info"][key].is_u64(), "{key}");
    }
    let zone = &v["result"][0];
    for key in [
        "id",
        "name",
        "development_mode",
        "owner",
        "account",
        "meta",
        "name_servers",
        "original_name_servers",
        "original_registrar",
        "original_dnshost",
        "created_on",
        "modified_on",
        "activated_on",
    ] {
        assert!(zone.get(key).is_some(), "zone {key}");
    }
    let path = format!(
        "/client/v4/zones/{}/dns_records",
        zone["id"].as_str().unwrap()
    );
    let (_, _, body) = fake_http::raw_get(w.cf.addr, &path, &[("Authorization", &auth)]);
    let v: Value = serde_json::from_slice(&body).unwrap();
    let r = &v["result"][0];
    for key in [
        "id",
        "type",
        "name",
        "content",
        "proxied",
        "proxiable",
        "ttl",
        "comment",
        "tags",
        "meta",
        "created_on",
        "modified_on",
    ] {
        assert!(r.get(key).is_some(), "record {key}");
    }
    let (status, _, body) =
        fake_http::raw_get(w.cf.addr, &path, &[("Authorization", "Bearer nope")]);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 403);
    assert_eq!(
        (v["success"].as_bool(), v["result"].is_null()),
        (Some(false), true)
    );
    assert!(
        v["errors"][0]["code"].as_i64().unwrap() >= 1000 && v["errors"][0]["message"].is_string()
    );
}

// ---------------------------------------------------------------------------------------
// stacks and their records: create --dns, remove

#[test]
fn create_with_dns_writes_the_stack_and_its_owned_record() {
    let w = world();
    let out = w.json(&[
        "create", "shop", "--image", "nginx", "--port", "80", "--dns",
    ]);
    assert_eq!(out["dns"]["action"], "created", "{out}");
    let rec =
        w.cf.record("A", "shop.example.com")
            .expect("record created");
    assert_eq!((rec.content.as_str(), rec.proxied), (IP, true));
    assert_eq!(rec.comment.as_deref(), Some("stackwiz:shop"));
    assert!(w.env.stack("shop").join("docker-compose.yml").exists());
}

#[test]
fn a_dns_failure_after_create_keeps_the_stack_and_names_the_retry() {
    let w = world();
    let mut env_bad = TestEnv::new();
    env_bad
        .set("STACKWIZ_BASE_DIR", &w.env.base)
        .set("STACKWIZ_CF_API_URL", &w.cf.url)
        .set("STACKWIZ_IP_SERVICES", w.ips.url("/valid"))
        .set("STACKWIZ_CF_API_TOKEN", "wrong-token-value")
        .set("STACKWIZ_DEFAULT_DOMAIN", "example.com")
        .set("STACKWIZ_HTTP_TIME_SCALE", SCALE);
    let out = env_bad
        .cmd([
            "create", "kept", "--image", "nginx", "--port", "80", "--dns",
        ])
        .fails(1);
    assert!(!out.says("wrong-token-value"), "{out}");
    assert!(out.stderr.contains("stack kept was created at"), "{out}");
    assert!(
        out.stderr
            .contains("retry with: stackwiz dns create kept.example.com --stack kept"),
        "{out}"
    );
    assert!(
        w.env.stack("kept").join("docker-compose.yml").exists(),
        "the stack must stay"
    );
    // The retry command works once the token is right.
    w.ok(&["dns", "create", "kept.example.com", "--stack", "kept"]);
    assert_eq!(
        w.cf.record("A", "kept.example.com")
            .unwrap()
            .comment
            .as_deref(),
        Some("stackwiz:kept")
    );
}

#[test]
fn remove_deletes_the_stacks_own_records_unless_keep_dns() {
    support::require_engine();
    let w = world();
    let net = format!("swt-dns-{}", std::process::id());
    let env = {
        let mut e = TestEnv::new();
        e.set("STACKWIZ_BASE_DIR", &w.env.base)
            .set("STACKWIZ_CF_API_URL", &w.cf.url)
            .set("STACKWIZ_IP_SERVICES", w.ips.url("/valid"))
            .set("STACKWIZ_CF_API_TOKEN", TOKEN)
            .set("STACKWIZ_DEFAULT_DOMAIN", "example.com")
            .set("STACKWIZ_DOCKER_NETWORK", &net)
            .set("STACKWIZ_HTTP_TIME_SCALE", SCALE);
        e
    };
    env.cmd([
        "create", "gone", "--image", "nginx", "--port", "80", "--dns",
    ])
    .ok();
    env.cmd([
        "create", "stays", "--image", "nginx", "--port", "80", "--dns",
    ])
    .ok();
    // A record at the same name that stackwiz did not make.
    w.cf.add_record("TXT", "gone.example.com", "hand-made", false, 1, None);
    let out = no_token(env.cmd(["remove", "gone", "--yes", "--json"]).ok());
    assert_eq!(
        out.json()["dns"]["deleted"][0]["name"],
        "gone.example.com",
        "{out}"
    );
    assert!(w.cf.record("A", "gone.example.com").is_none());
    assert!(
        w.cf.record("TXT", "gone.example.com").is_some(),
        "a record stackwiz does not own was deleted"
    );
    no_token(env.cmd(["remove", "stays", "--yes", "--keep-dns"]).ok());
    assert!(w.cf.record("A", "stays.example.com").is_some());
}
