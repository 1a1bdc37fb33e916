//! DNS and public-IP behaviour, through the real binary (and, for the helpers the stack
//! operations call, through the library), against fakes of Cloudflare and the IP services
//! on loopback. No test reaches the internet: every environment points both at a fake.
//! Every command's output is checked for the token, and every exchange with the fake
//! Cloudflare API (what stackwiz sent, what the fake answered) against Cloudflare's own
//! schema (tests/fixtures/cloudflare/).

use crate::dns_world;
use crate::fake_cloudflare;
use crate::fake_http;
use crate::support;

use std::time::{Duration, Instant};

use dns_world::{world, World, IP, NEW_IP, SCALE, TOKEN};
use fake_cloudflare::Fault;
use serde_json::Value;
use support::{Out, TestEnv};

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

    /// Everything stackwiz sent the fake Cloudflare API (endpoint, parameters, bodies) and
    /// everything the fake answered conforms to Cloudflare's schema.
    fn traffic_follows_the_schema(&self) {
        let problems: Vec<String> = self
            .cf
            .log()
            .iter()
            .flat_map(openapi::check_exchange)
            .collect();
        assert!(
            problems.is_empty(),
            "traffic breaks Cloudflare's schema:\n{}",
            problems.join("\n")
        );
    }
}

/// Every test's Cloudflare traffic is checked against the schema as its world goes away.
impl Drop for World {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.traffic_follows_the_schema();
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
        (Some("stackwiz:app ip=auto"), Some("app"))
    );
    assert_eq!(out["ip_source"], w.ips.url("/valid"));
    let stored = w.cf.record("A", "app.example.com").unwrap();
    assert_eq!((stored.content.as_str(), stored.proxied), (IP, true));
    let post = w.cf.log().into_iter().find(|l| l.method == "POST").unwrap();
    let body: Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"type": "A", "name": "app.example.com", "content": IP, "proxied": true, "ttl": 1, "comment": "stackwiz:app ip=auto"})
    );
    assert!(w.cf.log().iter().all(|l| l.authorized));
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
            "unchanged: A app.example.com -> 93.184.216.34 (proxied, TTL auto, stackwiz:app ip=auto)"
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
    assert!(
        text.contains("\"example.com\"") && !text.contains(TOKEN),
        "{text}"
    );
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
    // The schema's PATCH body is a whole record of one type: it names the record.
    assert_eq!(
        serde_json::from_str::<Value>(&patch.body).unwrap(),
        serde_json::json!({"type": "A", "name": "app.example.com", "content": NEW_IP, "proxied": true, "ttl": 1, "comment": "stackwiz:app ip=fixed"})
    );
    let stored = w.cf.record("A", "app.example.com").unwrap();
    assert_eq!(
        (
            stored.content.as_str(),
            stored.proxied,
            stored.comment.as_deref()
        ),
        (NEW_IP, true, Some("stackwiz:app ip=fixed"))
    );
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
    assert_eq!(
        patch.body,
        format!(
            r#"{{"type":"A","name":"app.example.com","content":"{IP}","proxied":false,"ttl":300}}"#
        )
    );
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
fn delete_with_stack_removes_only_that_stacks_records_without_a_terminal() {
    let w = world();
    w.cf.add_record("A", "shop.example.com", IP, true, 1, Some("stackwiz:shop"));
    w.cf.add_record(
        "TXT",
        "shop.example.com",
        "v",
        false,
        1,
        Some("stackwiz:blog"),
    );
    w.cf.add_record("TXT", "shop.example.com", "hand", false, 1, None);
    // What `stackwiz remove` names as its retry; stdin is not a terminal here.
    let out = w.ok(&[
        "dns",
        "delete",
        "shop.example.com",
        "--stack",
        "shop",
        "--yes",
    ]);
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("deleted "))
            .count(),
        1,
        "{out}"
    );
    assert_eq!(w.cf.records().len(), 2);
    assert!(w.cf.record("A", "shop.example.com").is_none());
    // Again: nothing of the stack is left, which is no error.
    let out = w.json(&[
        "dns",
        "delete",
        "shop.example.com",
        "--stack",
        "shop",
        "--yes",
    ]);
    assert_eq!(out["deleted"], serde_json::json!([]));
    assert_eq!(out["kept"].as_array().unwrap().len(), 2);
    assert_eq!(w.cf.records().len(), 2);
    // Without --yes it refuses, naming the whole command to rerun.
    let out = w.fails(2, &["dns", "delete", "shop.example.com", "--stack", "blog"]);
    assert!(
        out.stderr
            .contains("stackwiz dns delete shop.example.com --stack blog --yes"),
        "{out}"
    );
    let out = w.fails(
        2,
        &[
            "dns", "delete", "shop", "--stack", "shop", "--force", "--yes",
        ],
    );
    assert!(out.stderr.contains("--force"), "{out}");
    let out = w.fails(
        2,
        &["dns", "delete", "shop", "--stack", "Bad_Name", "--yes"],
    );
    assert!(out.stderr.contains("invalid name"), "{out}");
    assert_eq!(w.cf.records().len(), 2);
}

#[test]
fn special_use_names_are_refused_or_skipped_without_a_request() {
    let mut w = world();
    for (args, name) in [
        (&["dns", "create", "app.localhost"][..], "app.localhost"),
        (
            &["dns", "create", "app", "--default-domain", "localhost"],
            "app.localhost",
        ),
        (
            &["dns", "update", "app.home.arpa", "--value", IP],
            "app.home.arpa",
        ),
        (&["dns", "delete", "app.test", "--yes"], "app.test"),
        (&["dns", "list", "--name", "x.internal"], "x.internal"),
    ] {
        let out = w.fails(2, args);
        assert_eq!(
            out.stderr.lines().next().unwrap_or_default(),
            format!(
                "error: invalid name: {name} is a special-use name no DNS zone can hold; \
                 use a name in one of your Cloudflare zones, e.g. app.example.com"
            ),
            "{args:?}"
        );
    }
    // A stack's records at such a name: there are none, and nobody is asked.
    let out = w.ok(&["dns", "delete", "app.localhost", "--stack", "app", "--yes"]);
    assert_eq!(
        out.stdout,
        "no Cloudflare zone holds app.localhost; nothing to delete\n"
    );
    let out = w.json(&["dns", "sync", "--domain", "lan.home.arpa"]);
    assert_eq!(out["skipped"], serde_json::json!(["lan.home.arpa"]));
    assert!(w.cf.log().is_empty(), "{:?}", w.cf.log());
    assert!(w.ips.hits().is_empty());
    // Not even an unreachable API is a problem then.
    w.env.set("STACKWIZ_CF_API_URL", support::CLOSED);
    w.ok(&["dns", "delete", "app.localhost", "--stack", "app", "--yes"]);
}

#[test]
fn an_unreadable_token_file_is_named_by_every_dns_command() {
    let mut w = world();
    let empty = w.env.path("token");
    std::fs::write(&empty, "\n").unwrap();
    w.env
        .unset("STACKWIZ_CF_API_TOKEN")
        .set("STACKWIZ_CF_API_TOKEN_FILE", &empty);
    for args in [
        &["dns", "list"][..],
        &["dns", "create", "app", "--value", IP],
        &["dns", "update", "app", "--value", IP],
        &["dns", "delete", "app", "--yes"],
        &["dns", "delete", "app", "--stack", "app", "--yes"],
        &["dns", "sync", "--domain", "example.com"],
    ] {
        let out = w.fails(1, args);
        assert!(
            out.stderr
                .contains(&format!("token file {} is empty", empty.display())),
            "{args:?}: {out}"
        );
        assert!(!out.stderr.contains("not configured"), "{args:?}: {out}");
    }
    let out = w.run(&["doctor"]);
    assert!(out.stdout.contains("is empty"), "{out}");
    w.env
        .set("STACKWIZ_CF_API_TOKEN_FILE", w.env.path("no-such-file"));
    let out = w.fails(1, &["dns", "list"]);
    assert!(out.stderr.contains("no-such-file"), "{out}");
    assert!(w.cf.log().is_empty());
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

/// How many times a run of `args` renamed a file over `zones.json` (each write of the cache
/// is a private temporary file renamed into place), counted with strace.
fn cache_writes(w: &World, args: &[&str]) -> usize {
    let trace = w.env.path("trace");
    let bin = env!("CARGO_BIN_EXE_stackwiz");
    let mut all = vec!["-f", "-qq", "-e", "trace=rename,renameat,renameat2", "-o"];
    let trace_arg = trace.display().to_string();
    all.push(&trace_arg);
    all.push(bin);
    all.extend_from_slice(args);
    no_token(w.env.program("strace", &all).ok());
    std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|l| l.contains("zones.json\"") && !l.contains("resumed"))
        .count()
}

#[test]
fn a_cold_sync_of_twenty_stacks_in_one_zone_asks_for_the_zone_once_and_writes_the_cache_once() {
    let w = world();
    for i in 0..20 {
        stack(&w, &format!("s{i}"), &format!("s{i}.example.com"));
    }
    assert_eq!(cache_writes(&w, &["dns", "sync"]), 1);
    // s0.example.com (no zone), example.com (the zone), then its stackwiz records.
    assert!(w.cf.log().len() <= 3, "{:?}", w.cf.log());
    assert_eq!(w.cf.zone_lookups(), 2);
    w.cf.clear_log();
    assert_eq!(
        cache_writes(&w, &["dns", "sync"]),
        0,
        "a warm run learns nothing and writes nothing"
    );
    assert_eq!(w.cf.zone_lookups(), 0);
}

#[test]
fn a_warm_create_of_a_new_name_in_a_known_zone_costs_two_requests() {
    let w = world();
    w.ok(&["dns", "create", "app"]);
    w.cf.clear_log();
    w.ok(&["dns", "create", "blog.example.com", "--value", IP]);
    // The list of that name, then the POST; the zone is known by suffix.
    assert_eq!(w.cf.zone_lookups(), 0, "{:?}", w.cf.log());
    assert!(w.cf.log().len() <= 2, "{:?}", w.cf.log());
    assert!(w.cf.record("A", "blog.example.com").is_some());
}

#[test]
fn an_old_host_keyed_cache_is_read_by_its_zone_and_a_broken_one_is_ignored() {
    let w = world();
    w.ok(&["dns", "create", "app"]);
    let cache = w.env.path("cache/stackwiz/zones.json");
    let now: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(now["version"], 2);
    // What version 1 wrote: host name -> the zone holding it.
    let entry = now["zones"]["example.com"].clone();
    assert_eq!(entry["name"], "example.com");
    let old = serde_json::json!({"version": 1, "zones": {"app.example.com": entry}});
    support::write(&cache, &old.to_string());
    w.cf.clear_log();
    w.ok(&["dns", "create", "blog.example.com", "--value", IP]);
    assert_eq!(w.cf.zone_lookups(), 0, "{:?}", w.cf.log());
    for broken in [
        "",
        "{",
        "[]",
        "{\"version\":1,\"zones\":{\"a\":{\"id\":1}}}",
    ] {
        support::write(&cache, broken);
        w.cf.clear_log();
        w.ok(&["dns", "list", "--name", "blog"]);
        assert_eq!(w.cf.zone_lookups(), 2, "{broken:?} is ignored");
    }
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
    // Per-request limit 10 s at scale 0.1 = 1 s (budget 3 s); the first answer takes 5 s.
    w.env.set("STACKWIZ_HTTP_TIME_SCALE", "0.1");
    w.cf.clear_log();
    // A cold zone cache again, so the slow answer is the first zone lookup's.
    std::fs::remove_file(w.env.path("cache/stackwiz/zones.json")).unwrap();
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
    w.cf.add_record(
        "A",
        "app.example.com",
        IP,
        true,
        1,
        Some("stackwiz:app ip=auto"),
    );
    w.cf.add_record(
        "A",
        "blog.example.com",
        IP,
        true,
        1,
        Some("stackwiz:blog ip=auto"),
    );
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
        let body: Value = serde_json::from_str(&l.body).unwrap();
        assert_eq!(body["content"], NEW_IP);
        assert_eq!(
            body.as_object().unwrap().len(),
            3,
            "type, name, content: {body}"
        );
    }
    w.cf.clear_log();
    let out = w.json(&["dns", "sync"]);
    assert_eq!(
        (out["checked"].as_u64(), out["writes"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(w.cf.writes(), 0);
    assert_eq!(w.cf.zone_lookups(), 0, "warm zone cache");
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
        Some("stackwiz:app ip=auto"),
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
    assert!(
        w.cf.log().is_empty(),
        "a special-use name is never looked up"
    );
    // Cron on a LAN-only host needs no token either.
    let mut run = w.env.cmd(["dns", "sync"]);
    run.cmd.env_remove("STACKWIZ_CF_API_TOKEN");
    no_token(run.ok());
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
        serde_json::json!({"ip": IP, "family": "ipv4", "source": w.ips.url("/trace"), "warning": null})
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
    // A documentation address set by hand is taken, with a warning (README examples use
    // them); a private one still needs STACKWIZ_ALLOW_PRIVATE_IP.
    assert_eq!(w.ok(&["ip"]).stdout, "198.51.100.7\n");
    let out = w.json(&["ip"]);
    assert!(
        out["warning"]
            .as_str()
            .unwrap()
            .contains("198.51.100.7 (from env STACKWIZ_PUBLIC_IP) is a documentation address"),
        "{out}"
    );
    w.env.set("STACKWIZ_PUBLIC_IP", "10.1.2.3");
    let out = w.fails(2, &["ip"]);
    assert!(
        out.stderr
            .contains("invalid STACKWIZ_PUBLIC_IP: 10.1.2.3 is a private address"),
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
        Ctx::new(
            Config::resolve(&Overrides::default(), &env).unwrap(),
            Stream::Capture,
        )
    }

    #[test]
    fn a_cancelled_operation_sends_nothing_and_a_cancel_ends_a_retry_wait() {
        let w = world();
        let ctx = ctx(&w);
        ctx.cancel.cancel();
        let err = dns::list(&ctx, &dns::DnsList::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cancelled while talking to the Cloudflare API"),
            "{err}"
        );
        assert!(w.cf.log().is_empty());
        // Retry-After 20 s x 0.2 = 4 s fits the 6 s budget: only the cancel ends the wait.
        let ctx = self::ctx(&w);
        w.cf.fault(Fault::RateLimit(Some("20".into())));
        let cancel = ctx.cancel.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.cancel();
        });
        let err = dns::list(&ctx, &dns::DnsList::default())
            .unwrap_err()
            .to_string();
        canceller.join().unwrap();
        assert!(err.contains("cancelled"), "{err}");
        assert_eq!(w.cf.log().len(), 1, "nothing sent after the cancel");
    }

    #[test]
    fn create_for_stack_owns_the_record_and_delete_for_stack_removes_only_its_own() {
        let w = world();
        let ctx = ctx(&w);
        let change = dns::create_for_stack(&ctx, "notes", "notes.example.com").unwrap();
        assert_eq!(
            serde_json::to_value(&change).unwrap()["record"]["comment"],
            "stackwiz:notes ip=auto"
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
        // A domain outside every zone of the account: asked once, nothing deleted.
        let other = dns::delete_for_stack(&ctx, "x", "x.example.net").unwrap();
        assert!(other.zone.is_none() && other.deleted.is_empty());
    }

    #[test]
    fn the_stack_helpers_never_ask_cloudflare_about_special_use_domains() {
        let w = world();
        let ctx = ctx(&w);
        for domain in ["notes.localhost", "notes.home.arpa", "localhost"] {
            // Only the default domain's zone is searched (for records made with `dns create
            // LABEL --stack notes`); the special-use name itself never reaches Cloudflare.
            let gone = dns::delete_for_stack(&ctx, "notes", domain).unwrap();
            assert!(gone.zone.is_none() && gone.deleted.is_empty(), "{domain}");
            let err = dns::create_for_stack(&ctx, "notes", domain).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{domain}");
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid domain: {domain} is a special-use name no DNS zone can hold; \
                     give the stack a real domain, e.g. notes.example.com"
                )
            );
        }
        let log = w.cf.log();
        assert!(
            log.iter().all(|r| r.method == "GET"
                && !format!("{} {:?}", r.path, r.query).contains("localhost")
                && !format!("{} {:?}", r.path, r.query).contains("arpa")),
            "{log:?}"
        );
        // Without a default domain a zone could hold, nothing is asked at all.
        let w = world();
        let mut local = self::ctx(&w);
        local.cfg.default_domain = "localhost".into();
        dns::delete_for_stack(&local, "notes", "notes.localhost").unwrap();
        assert!(w.cf.log().is_empty(), "{:?}", w.cf.log());
    }

    #[test]
    fn verify_token_names_an_unreadable_token_file() {
        let w = world();
        let file = w.env.path("token");
        std::fs::write(&file, "").unwrap();
        let home = w.env.path("home").display().to_string();
        let env = Env::from_pairs([
            ("HOME", home.as_str()),
            ("STACKWIZ_BASE_DIR", w.env.base.to_str().unwrap()),
            ("STACKWIZ_CF_API_URL", w.cf.url.as_str()),
            ("STACKWIZ_CF_API_TOKEN_FILE", file.to_str().unwrap()),
        ]);
        let cfg = Config::resolve(&Overrides::default(), &env).unwrap();
        let err = dns::verify_token(&cfg).unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
        assert!(w.cf.log().is_empty());
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
fn every_endpoint_stackwiz_uses_follows_cloudflares_schema_both_ways() {
    let w = world();
    w.cf.add_record("TXT", "app.example.com", "hand-made", false, 300, None);
    w.run(&["doctor"]);
    w.ok(&["dns", "create", "app"]);
    w.ok(&[
        "dns",
        "update",
        "app",
        "--type",
        "A",
        "--no-proxied",
        "--ttl",
        "300",
    ]);
    w.ok(&["dns", "sync", "--domain", "example.com"]);
    w.ok(&["dns", "delete", "app", "--type", "A", "--yes"]);
    w.cf.fault(Fault::RateLimit(Some("1".into())));
    w.ok(&["dns", "list", "--name", "app"]);
    w.cf.set_read_only(true);
    w.fails(1, &["dns", "create", "other"]);
    w.cf.set_read_only(false);
    no_token(
        w.env
            .cmd(["dns", "list"])
            .env("STACKWIZ_CF_API_TOKEN", "nope")
            .fails(1),
    );
    no_token(
        w.env
            .cmd(["doctor"])
            .env("STACKWIZ_CF_API_TOKEN", "nope")
            .output(),
    );
    let zone = w.cf.add_zone("other.org");
    let missing = format!("/client/v4/zones/{zone}/dns_records/{:032x}", 7);
    let auth = format!("Bearer {TOKEN}");
    let (status, _, _) = fake_http::raw_get(w.cf.addr, &missing, &[("Authorization", &auth)]);
    assert_eq!(status, 404);

    let api = openapi::api();
    let mut seen: Vec<String> =
        w.cf.log()
            .iter()
            .map(|l| {
                let template = api
                    .operation(&l.method, &l.path)
                    .expect("a schema operation")
                    .template;
                let status = l.reply.as_ref().map_or(0, |(s, _)| *s);
                format!("{} {template} {status}", l.method)
            })
            .collect();
    seen.sort();
    seen.dedup();
    for wanted in [
        "GET /user/tokens/verify 200",
        "GET /user/tokens/verify 401",
        "GET /zones 200",
        "GET /zones/{zone_id}/dns_records 200",
        "GET /zones/{zone_id}/dns_records 403",
        "GET /zones/{zone_id}/dns_records 429",
        "GET /zones/{zone_id}/dns_records/{dns_record_id} 404",
        "POST /zones/{zone_id}/dns_records 200",
        "POST /zones/{zone_id}/dns_records 403",
        "PATCH /zones/{zone_id}/dns_records/{dns_record_id} 200",
        "DELETE /zones/{zone_id}/dns_records/{dns_record_id} 200",
    ] {
        assert!(
            seen.iter().any(|s| s == wanted),
            "{wanted} not exercised: {seen:#?}"
        );
    }
    w.traffic_follows_the_schema();
}

#[test]
fn the_schema_check_catches_what_the_schema_forbids() {
    let api = openapi::api();
    let post = |body: Value| {
        api.check_request(
            "POST",
            "/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records",
            &[],
            &body.to_string(),
        )
    };
    let record = serde_json::json!({"type": "A", "name": "app.example.com", "content": IP, "proxied": true, "ttl": 1, "comment": "stackwiz:app"});
    assert_eq!(post(record.clone()), Vec::<String>::new());
    let broken = |field: &str, value: Value| {
        let mut body = record.clone();
        match value {
            Value::Null => body.as_object_mut().unwrap().remove(field),
            v => body.as_object_mut().unwrap().insert(field.into(), v),
        };
        body
    };
    for (field, value, says) in [
        ("ttl", serde_json::json!(10), "matches no anyOf alternative"),
        (
            "ttl",
            serde_json::json!(86401),
            "matches no anyOf alternative",
        ),
        ("proxied", serde_json::json!("yes"), "not of type boolean"),
        ("proxiable", serde_json::json!(true), "read-only, but sent"),
        (
            "type",
            serde_json::json!("SPF"),
            "matches 0 oneOf alternatives",
        ),
        ("content", Value::Null, "matches 0 oneOf alternatives"),
        (
            "name",
            serde_json::json!("a".repeat(256)),
            "longer than 255",
        ),
    ] {
        let problems = post(broken(field, value)).join("\n");
        assert!(problems.contains(says), "{field}: {problems}");
    }
    // A partial PATCH body is no record of any type: stackwiz sends whole ones.
    let patch =
        "/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records/372e67954025e0ba6aaa6d586b9e0b59";
    assert!(!api
        .check_request("PATCH", patch, &[], r#"{"content":"93.184.216.99"}"#)
        .is_empty());
    let query = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    assert!(
        api.check_request("GET", "/zones", &query("per_page", "100"), "")[0]
            .contains("above the maximum 50")
    );
    assert!(
        api.check_request("GET", "/zones", &query("nonsense", "1"), "")[0]
            .contains("no query parameter")
    );
    assert!(
        api.check_request("GET", "/accounts/x/tokens/verify", &[], "")[0]
            .contains("no such operation")
    );

    let records = "/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records";
    let mut answer = serde_json::json!({"success": true, "errors": [], "messages": [], "result": [
        {"id": "372e67954025e0ba6aaa6d586b9e0b59", "type": "A", "name": "app.example.com", "content": IP,
         "proxiable": true, "proxied": true, "ttl": 1, "created_on": "2024-01-01T05:20:00Z", "modified_on": "2024-01-01T05:20:00Z"}
    ]});
    assert_eq!(
        api.check_reply("GET", records, 200, &answer),
        Vec::<String>::new()
    );
    answer["result"][0]["comment"] = Value::Null;
    assert!(api.check_reply("GET", records, 200, &answer)[0].contains("null is not of type string"));
    answer["result"][0]
        .as_object_mut()
        .unwrap()
        .remove("comment");
    answer["result"][0]
        .as_object_mut()
        .unwrap()
        .remove("proxiable");
    assert!(!api.check_reply("GET", records, 200, &answer).is_empty());
    let failure = |code: i64| serde_json::json!({"success": false, "errors": [{"code": code, "message": "x"}], "messages": [], "result": null});
    assert_eq!(
        api.check_reply("GET", records, 403, &failure(9109)),
        Vec::<String>::new()
    );
    assert_eq!(
        api.check_reply("GET", records, 429, &failure(971)),
        Vec::<String>::new()
    );
    assert!(!api
        .check_reply("GET", records, 400, &failure(971))
        .is_empty());
    assert!(!api
        .check_reply("GET", records, 429, &failure(970))
        .is_empty());
    let mut wrong = failure(9109);
    wrong["success"] = serde_json::json!(true);
    assert!(!api.check_reply("GET", records, 403, &wrong).is_empty());
    wrong = failure(9109);
    wrong["errors"] = serde_json::json!([]);
    assert!(!api.check_reply("GET", records, 403, &wrong).is_empty());
    let zones = serde_json::json!({"success": true, "errors": [], "messages": [], "result": [{"id": "a", "name": "example.com"}]});
    assert!(api
        .check_reply("GET", "/zones", 200, &zones)
        .join("\n")
        .contains("`owner` is missing"));
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
    assert_eq!(rec.comment.as_deref(), Some("stackwiz:shop ip=auto"));
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
        Some("stackwiz:kept ip=auto")
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

#[test]
fn remove_of_a_localhost_stack_asks_cloudflare_nothing() {
    support::require_engine();
    let w = world();
    let mut env = TestEnv::new();
    env.set("STACKWIZ_BASE_DIR", &w.env.base)
        .set("STACKWIZ_CF_API_URL", &w.cf.url)
        .set("STACKWIZ_CF_API_TOKEN", TOKEN)
        .set(
            "STACKWIZ_DOCKER_NETWORK",
            format!("swt-dnsl-{}", std::process::id()),
        )
        .set("STACKWIZ_HTTP_TIME_SCALE", SCALE);
    env.cmd(["create", "loc", "--image", "nginx", "--port", "80"])
        .ok();
    let out = no_token(env.cmd(["remove", "loc", "--yes", "--json"]).ok());
    let dns = &out.json()["dns"];
    assert!(
        dns.is_null() || (dns["zone"].is_null() && dns["deleted"] == serde_json::json!([])),
        "{out}"
    );
    assert!(w.cf.log().is_empty(), "{:?}", w.cf.log());
    assert!(!w.env.stack("loc").exists());
}

// ---------------------------------------------------------------------------------------
// Cloudflare's schema

/// Cloudflare's OpenAPI subset (tests/fixtures/cloudflare/) and a checker for the part of
/// JSON Schema, OpenAPI 3.0 flavour, that it uses. Every keyword in the document is either
/// checked or named as one this checker leaves alone, so a rule it does not know is never
/// skipped in silence.
mod openapi {
    use std::sync::OnceLock;

    use serde_json::Value;

    use super::fake_cloudflare::Logged;

    /// Problems with one logged exchange: the request, and the fake's answer when it gave a
    /// JSON one.
    pub fn check_exchange(l: &Logged) -> Vec<String> {
        let api = api();
        let mut problems = api.check_request(&l.method, &l.path, &l.query, &l.body);
        if let Some((status, body)) = &l.reply {
            problems.extend(api.check_reply(&l.method, &l.path, *status, body));
        }
        problems
    }

    /// Checked: what a value must be.
    const CHECKED: &[&str] = &[
        "$ref",
        "type",
        "nullable",
        "enum",
        "properties",
        "required",
        "items",
        "allOf",
        "anyOf",
        "oneOf",
        "maxLength",
        "minLength",
        "minimum",
        "maximum",
        "readOnly",
    ];
    /// Not checked: notes for readers (`format` is one in JSON Schema too), `pattern` (only
    /// on zone names, which the tests choose) and `uniqueItems` (misplaced inside `items`).
    const NOT_CHECKED: &[&str] = &[
        "description",
        "example",
        "title",
        "default",
        "deprecated",
        "format",
        "pattern",
        "uniqueItems",
    ];
    /// `required` but assigned by Cloudflare, so never in a request. The schema marks the
    /// other such fields `readOnly` (which OpenAPI drops from a request's `required`); `id`,
    /// which a PATCH carries in its URL, it forgot.
    const SERVER_ASSIGNED: &[&str] = &["id"];

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum Direction {
        Request,
        Response,
    }

    pub struct Api {
        doc: Value,
    }

    /// One operation of the schema, as a request matched it.
    pub struct Operation<'a> {
        /// The path template, e.g. `/zones/{zone_id}/dns_records`.
        pub template: &'a str,
        pub op: &'a Value,
        /// The path parameters' names and values.
        pub params: Vec<(String, String)>,
    }

    pub fn api() -> &'static Api {
        static API: OnceLock<Api> = OnceLock::new();
        API.get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/cloudflare/openapi-dns-subset.json"
            );
            let text = std::fs::read_to_string(path).expect("the vendored Cloudflare schema");
            Api {
                doc: serde_json::from_str(&text).expect("the Cloudflare schema is JSON"),
            }
        })
    }

    impl Api {
        /// The operation a request is, with its path parameters.
        pub fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
            let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
            for (template, item) in self.doc["paths"].as_object().unwrap() {
                let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
                if parts.len() != segments.len() {
                    continue;
                }
                let mut params = Vec::new();
                let fits = parts.iter().zip(&segments).all(|(t, s)| {
                    match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                        Some(name) => {
                            params.push((name.to_string(), s.to_string()));
                            true
                        }
                        None => t == s,
                    }
                });
                if let (true, Some(op)) = (fits, item.get(method.to_ascii_lowercase())) {
                    return Some(Operation {
                        template,
                        op,
                        params,
                    });
                }
            }
            None
        }

        /// Problems with a request: an endpoint or parameter the schema does not have, a
        /// parameter value or a body that breaks its schema.
        pub fn check_request(
            &self,
            method: &str,
            path: &str,
            query: &[(String, String)],
            body: &str,
        ) -> Vec<String> {
            let what = format!("{method} {path}");
            let Some(Operation {
                op,
                params: path_params,
                ..
            }) = self.operation(method, path)
            else {
                return vec![format!("{what}: no such operation in the schema")];
            };
            let declared = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut problems = Vec::new();
            let sent = path_params
                .iter()
                .map(|p| ("path", p))
                .chain(query.iter().map(|q| ("query", q)));
            for (place, (name, value)) in sent {
                let Some(param) = declared
                    .iter()
                    .find(|p| p["in"] == place && p["name"] == *name)
                else {
                    problems.push(format!("{what}: no {place} parameter `{name}`"));
                    continue;
                };
                let schema = self.resolve(&param["schema"]);
                let value = match schema["type"].as_str() {
                    Some("number" | "integer") => match value.parse::<f64>() {
                        Ok(n) => serde_json::json!(n),
                        Err(_) => Value::String(value.clone()),
                    },
                    Some("boolean") => match value.as_str() {
                        "true" => Value::Bool(true),
                        "false" => Value::Bool(false),
                        _ => Value::String(value.clone()),
                    },
                    _ => Value::String(value.clone()),
                };
                let at = format!("{what} {place} `{name}`");
                problems.extend(self.check(schema, &value, &at, Direction::Request));
            }
            match op["requestBody"]["content"]["application/json"].get("schema") {
                Some(schema) => match serde_json::from_str::<Value>(body) {
                    Ok(body) => {
                        let at = format!("{what} body $");
                        problems.extend(self.check(schema, &body, &at, Direction::Request));
                    }
                    Err(e) => problems.push(format!("{what}: the body is not JSON ({e})")),
                },
                // DELETE declares a body without a schema; stackwiz sends none.
                None if body.is_empty() => {}
                None => problems.push(format!("{what}: a body the schema has no place for")),
            }
            problems
        }

        /// Problems with an answer of status `status` and body `body` to `method path`.
        pub fn check_reply(
            &self,
            method: &str,
            path: &str,
            status: u16,
            body: &Value,
        ) -> Vec<String> {
            let what = format!("{method} {path} -> {status}");
            let Some(Operation { op, .. }) = self.operation(method, path) else {
                return vec![format!("{what}: no such operation in the schema")];
            };
            let responses = &op["responses"];
            let mut problems = match status {
                200..=299 => {
                    let schema = &responses["200"]["content"]["application/json"]["schema"];
                    self.check(schema, body, &format!("{what}: $"), Direction::Response)
                }
                400..=499 => {
                    let schema = responses
                        .get("4XX")
                        .or_else(|| responses.get("4xx"))
                        .map(|r| &r["content"]["application/json"]["schema"])
                        .expect("every operation documents its 4xx answers");
                    let at = format!("{what}: $");
                    let mut problems =
                        self.check(self.failure_part(schema), body, &at, Direction::Response);
                    // `minLength: 1` on `errors`, meant as "at least one" (NOTES.md: on
                    // failure at least one error), but a no-op on an array.
                    if body["errors"].as_array().is_some_and(Vec::is_empty) {
                        problems.push(format!("{what}: a failure without errors"));
                    }
                    problems
                }
                _ => vec![format!("{what}: a status the schema does not document")],
            };
            // The one place the real API leaves the schema: throttled requests get code
            // 971 (NOTES.md), under the schema's `minimum: 1000` for error codes.
            if status == 429 {
                problems
                    .retain(|p| !p.ends_with("$.errors[0].code: 971 is below the minimum 1000"));
            }
            problems
        }

        /// Cloudflare's 4xx schemas combine the success envelope (`success: true`) with the
        /// failure one (`success: false`) in an `allOf` that no answer can satisfy. The
        /// failure part alone is the envelope a failed call has.
        fn failure_part<'a>(&'a self, schema: &'a Value) -> &'a Value {
            let is_failure = |s: &Value| {
                s["$ref"]
                    .as_str()
                    .is_some_and(|r| r.ends_with("api-response-common-failure"))
            };
            if is_failure(schema) {
                return self.resolve(schema);
            }
            let part = schema["allOf"]
                .as_array()
                .and_then(|all| all.iter().find(|s| is_failure(s)))
                .unwrap_or_else(|| panic!("no failure envelope in {schema}"));
            self.resolve(part)
        }

        /// A `$ref` within the document, followed (to the end of a chain).
        pub fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
            match schema["$ref"].as_str() {
                Some(r) => {
                    let pointer = r
                        .strip_prefix('#')
                        .unwrap_or_else(|| panic!("outside ref {r}"));
                    let target = self
                        .doc
                        .pointer(pointer)
                        .unwrap_or_else(|| panic!("dangling ref {r}"));
                    self.resolve(target)
                }
                None => schema,
            }
        }

        /// The schema of property `name` as `schema` (or a part it combines) declares it.
        fn property<'a>(&'a self, schema: &'a Value, name: &str) -> Option<&'a Value> {
            let schema = self.resolve(schema);
            if let Some(p) = schema["properties"].get(name) {
                return Some(self.resolve(p));
            }
            ["allOf", "anyOf", "oneOf"]
                .iter()
                .filter_map(|k| schema[*k].as_array())
                .flatten()
                .find_map(|part| self.property(part, name))
        }

        /// Every way `value` breaks `schema` (empty: it conforms). In a request, `readOnly`
        /// properties must not be sent and are not required.
        pub fn check(
            &self,
            schema: &Value,
            value: &Value,
            at: &str,
            dir: Direction,
        ) -> Vec<String> {
            let object = schema
                .as_object()
                .unwrap_or_else(|| panic!("{at}: schema {schema} is not an object"));
            for key in object.keys() {
                assert!(
                    CHECKED.contains(&key.as_str()) || NOT_CHECKED.contains(&key.as_str()),
                    "{at}: the checker does not know the keyword `{key}`"
                );
            }
            if object.contains_key("$ref") {
                return self.check(self.resolve(schema), value, at, dir);
            }
            if value.is_null() && schema["nullable"] == true {
                return Vec::new();
            }
            let mut problems = Vec::new();
            if let Some(kind) = schema["type"].as_str() {
                let fits = match kind {
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "boolean" => value.is_boolean(),
                    "number" => value.is_number(),
                    "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
                    other => panic!("{at}: type {other}"),
                };
                if !fits {
                    return vec![format!("{at}: {value} is not of type {kind}")];
                }
            }
            if let Some(options) = schema["enum"].as_array() {
                if !options.contains(value) {
                    problems.push(format!("{at}: {value} is not one of {options:?}"));
                }
            }
            if let Some(text) = value.as_str() {
                let len = text.chars().count() as u64;
                if schema["maxLength"].as_u64().is_some_and(|max| len > max) {
                    problems.push(format!("{at}: longer than {}", schema["maxLength"]));
                }
                if schema["minLength"].as_u64().is_some_and(|min| len < min) {
                    problems.push(format!("{at}: shorter than {}", schema["minLength"]));
                }
            }
            if let Some(n) = value.as_f64() {
                if let Some(min) = schema["minimum"].as_f64().filter(|min| n < *min) {
                    problems.push(format!("{at}: {value} is below the minimum {min}"));
                }
                if let Some(max) = schema["maximum"].as_f64().filter(|max| n > *max) {
                    problems.push(format!("{at}: {value} is above the maximum {max}"));
                }
            }
            if let Some(fields) = value.as_object() {
                if let Some(properties) = schema["properties"].as_object() {
                    for (name, sub) in properties {
                        let Some(field) = fields.get(name) else {
                            continue;
                        };
                        let at = format!("{at}.{name}");
                        if dir == Direction::Request && self.resolve(sub)["readOnly"] == true {
                            problems.push(format!("{at}: read-only, but sent"));
                        }
                        problems.extend(self.check(sub, field, &at, dir));
                    }
                }
                for name in schema["required"].as_array().into_iter().flatten() {
                    let name = name.as_str().unwrap();
                    let response_only = dir == Direction::Request
                        && (SERVER_ASSIGNED.contains(&name)
                            || self
                                .property(schema, name)
                                .is_some_and(|p| p["readOnly"] == true));
                    if !fields.contains_key(name) && !response_only {
                        problems.push(format!("{at}: `{name}` is missing"));
                    }
                }
            }
            if let (Some(items), Some(sub)) = (value.as_array(), schema.get("items")) {
                for (i, item) in items.iter().enumerate() {
                    problems.extend(self.check(sub, item, &format!("{at}[{i}]"), dir));
                }
            }
            for part in schema["allOf"].as_array().into_iter().flatten() {
                problems.extend(self.check(part, value, at, dir));
            }
            if let Some(parts) = schema["anyOf"].as_array() {
                let each: Vec<Vec<String>> = parts
                    .iter()
                    .map(|p| self.check(p, value, at, dir))
                    .collect();
                if !each.iter().any(Vec::is_empty) {
                    problems.push(format!("{at}: matches no anyOf alternative: {each:?}"));
                }
            }
            if let Some(parts) = schema["oneOf"].as_array() {
                let each: Vec<Vec<String>> = parts
                    .iter()
                    .map(|p| self.check(p, value, at, dir))
                    .collect();
                let matching = each.iter().filter(|p| p.is_empty()).count();
                if matching != 1 {
                    // Why the nearest alternative (a record of the type sent) does not fit.
                    let nearest = each
                        .iter()
                        .min_by_key(|p| p.len())
                        .cloned()
                        .unwrap_or_default();
                    problems.push(format!(
                        "{at}: matches {matching} oneOf alternatives, not exactly one; nearest: {nearest:?}"
                    ));
                }
            }
            problems
        }
    }
}

// ---------------------------------------------------------------------------------------
// what sync may move, what remove deletes, and time budgets

#[test]
fn sync_moves_only_detected_records_of_this_hosts_stacks() {
    let w = world();
    stack(&w, "app", "app.example.com");
    stack(&w, "blog", "blog.example.com");
    stack(&w, "old", "old.example.com");
    // Detected for a stack here: follows. Given by hand: pinned (the multi-host advice).
    w.ok(&["dns", "create", "app", "--stack", "app"]);
    w.ok(&["dns", "create", "blog", "--value", "93.184.216.77"]);
    // A stack of another host, and a record from before the intent was recorded.
    let far = Some("stackwiz:far ip=auto");
    w.cf.add_record("A", "far.example.com", "93.184.216.5", true, 1, far);
    w.cf.add_record("A", "old.example.com", IP, true, 1, Some("stackwiz:old"));
    w.ips.set_ip(NEW_IP);
    let out = w.json(&["dns", "sync"]);
    assert_eq!(
        (out["checked"].as_u64(), out["writes"].as_u64()),
        (Some(1), Some(1)),
        "{out}"
    );
    assert_eq!(out["changes"][0]["name"], "app.example.com");
    let left: Vec<(String, String)> = out["left_alone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().into(),
                l["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    let pair = |n: &str, r: &str| (n.to_string(), r.to_string());
    assert_eq!(
        left,
        [
            pair("blog.example.com", "fixed"),
            pair("far.example.com", "not_a_stack_here"),
            pair("old.example.com", "no_intent"),
        ]
    );
    let content = |name: &str| w.cf.record("A", name).unwrap().content;
    assert_eq!(content("app.example.com"), NEW_IP);
    assert_eq!(
        content("blog.example.com"),
        "93.184.216.77",
        "pinned by hand"
    );
    assert_eq!(content("far.example.com"), "93.184.216.5", "another host's");
    assert_eq!(
        content("old.example.com"),
        IP,
        "intent unknown: never moved unasked"
    );
    // The human report says what was left alone and how to let an old record follow.
    let out = w.ok(&["dns", "sync", "--dry-run"]);
    assert!(
        out.stdout
            .contains("left alone (value given by hand): blog.example.com"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("left alone (not a stack on this host): far.example.com"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("stackwiz dns update old.example.com --type A --value AUTO"),
        "{out}"
    );
    // Doing so records the intent; from then on sync keeps it current.
    let updated = w.json(&["dns", "update", "old", "--value", "AUTO"]);
    assert_eq!(updated["record"]["comment"], "stackwiz:old ip=auto");
    assert_eq!(updated["record"]["content"], NEW_IP);
    w.ips.set_ip(IP);
    let out = w.json(&["dns", "sync"]);
    assert_eq!(out["writes"].as_u64(), Some(2), "{out}");
    assert_eq!(content("old.example.com"), IP);
    assert_eq!(content("blog.example.com"), "93.184.216.77");
    // `dns create --value` over an identical detected record of ours pins it.
    let pinned = w.json(&["dns", "create", "app", "--value", IP, "--stack", "app"]);
    assert_eq!(
        pinned["record"]["comment"], "stackwiz:app ip=fixed",
        "{pinned}"
    );
    w.ips.set_ip(NEW_IP);
    w.ok(&["dns", "sync"]);
    assert_eq!(content("app.example.com"), IP);
}

#[test]
fn remove_deletes_every_record_of_the_stack_made_with_dns_create_stack() {
    support::require_engine();
    let mut w = world();
    let net = format!("swt-dnsr-{}", std::process::id());
    w.env.set("STACKWIZ_DOCKER_NETWORK", &net);
    w.ok(&[
        "create", "shop", "--image", "nginx", "--port", "80", "--dns",
    ]);
    // Other names, made for the stack by hand, as `dns create --help` describes.
    w.ok(&["dns", "create", "www", "--stack", "shop"]);
    w.ok(&[
        "dns", "create", "_verify", "--type", "TXT", "--value", "x", "--stack", "shop",
    ]);
    // A stack whose name starts like it, and a record not stackwiz's.
    w.ok(&["dns", "create", "api", "--stack", "shopping"]);
    w.cf.add_record("TXT", "shop.example.com", "hand-made", false, 1, None);
    let out = w.ok(&["remove", "shop", "--yes", "--json"]);
    let mut deleted: Vec<String> = out.json()["dns"]["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    deleted.sort();
    assert_eq!(
        deleted,
        ["_verify.example.com", "shop.example.com", "www.example.com"],
        "{out}"
    );
    let left: Vec<(String, String)> =
        w.cf.records()
            .into_iter()
            .map(|r| (r.kind, r.name))
            .collect();
    assert_eq!(
        left,
        [
            ("A".to_string(), "api.example.com".to_string()),
            ("TXT".to_string(), "shop.example.com".to_string()),
        ]
    );
}

#[test]
fn remove_of_a_localhost_stack_deletes_the_records_it_owns_in_the_default_zone() {
    support::require_engine();
    let mut w = world();
    let net = format!("swt-dnsl-{}", std::process::id());
    w.env.set("STACKWIZ_DOCKER_NETWORK", &net);
    w.ok(&[
        "create",
        "shop",
        "--image",
        "nginx",
        "--port",
        "80",
        "--domain",
        "shop.localhost",
    ]);
    w.ok(&["dns", "create", "www", "--stack", "shop"]);
    w.ok(&["dns", "create", "api", "--stack", "shopping"]);
    let out = w.ok(&["remove", "shop", "--yes", "--json"]);
    let deleted: Vec<String> = out.json()["dns"]["deleted"]
        .as_array()
        .unwrap_or_else(|| panic!("no DNS step: {out}"))
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(deleted, ["www.example.com"], "{out}");
    let left: Vec<String> = w.cf.records().into_iter().map(|r| r.name).collect();
    assert_eq!(left, ["api.example.com"]);
}

#[test]
fn a_delete_whose_answer_is_lost_after_it_landed_succeeds_on_the_retried_404() {
    let w = world();
    w.ok(&["dns", "create", "app"]);
    w.ok(&["dns", "create", "blog"]);
    // Zone cached: the list, then the DELETE, which deletes and never answers (timeout).
    w.cf.fault(Fault::Delay(Duration::ZERO));
    w.cf.fault(Fault::DoThenHang);
    let out = w.ok(&["dns", "delete", "app", "--yes"]);
    assert!(out.stdout.starts_with("deleted A app.example.com"), "{out}");
    assert!(w.cf.record("A", "app.example.com").is_none());
    assert_eq!(w.cf.count("DELETE", |_| true), 2, "retried once, met 404");
    // The same when a proxy loses the answer (502).
    w.cf.fault(Fault::Delay(Duration::ZERO));
    w.cf.fault(Fault::AnswerLost);
    w.ok(&["dns", "delete", "blog", "--yes"]);
    assert!(w.cf.records().is_empty());
    // A 404 on a first attempt stays an error: that id never existed.
    w.ok(&["dns", "create", "gone"]);
    let id = w.cf.record("A", "gone.example.com").unwrap().id;
    w.cf.fault(Fault::Delay(Duration::ZERO));
    w.cf.fault(Fault::Raw(
        404,
        r#"{"success":false,"errors":[{"code":81044,"message":"Record does not exist."}],"messages":[],"result":null}"#.into(),
    ));
    let out = w.fails(1, &["dns", "delete", "gone", "--yes"]);
    assert!(out.stderr.contains("[81044]"), "{out}");
    assert_eq!(w.cf.record("A", "gone.example.com").unwrap().id, id);
}

#[test]
fn a_retry_after_beyond_the_budget_ends_the_command_at_once_saying_when_to_retry() {
    let w = world();
    for _ in 0..4 {
        w.cf.fault(Fault::RateLimit(Some("120".into())));
    }
    let started = Instant::now();
    let out = w.fails(1, &["dns", "list"]);
    assert_eq!(w.cf.log().len(), 1, "no retry it would have to wait for");
    assert!(
        out.stderr
            .contains("error: the Cloudflare API is rate limiting this client (HTTP 429 at ")
            && out.stderr.contains("it asks to wait 120 s, more than the"),
        "{out}"
    );
    assert!(
        out.stderr.contains("of this command's 6 s time budget"),
        "{out}"
    );
    assert!(out.stderr.contains("hint: retry after "), "{out}");
    assert!(out.stderr.contains("GMT (in 120 s)"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_429_storm_ends_within_the_commands_budget() {
    let w = world();
    // Each wait fits (10 s x 0.2 = 2 s), their sum does not (budget 30 s x 0.2 = 6 s).
    for _ in 0..10 {
        w.cf.fault(Fault::RateLimit(Some("10".into())));
    }
    let started = Instant::now();
    let out = w.fails(1, &["dns", "list"]);
    let asked = w.cf.log().len();
    assert!(asked < 4, "{asked} requests: the third wait no longer fits");
    assert!(out.stderr.contains("rate limiting this client"), "{out}");
    assert!(out.stderr.contains("retry after"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_slow_api_ends_the_command_within_its_budget() {
    let w = world();
    for i in 0..12 {
        w.cf.add_record("TXT", &format!("t{i}.example.com"), "x", false, 1, None);
    }
    w.cf.set_page_cap(1);
    // Every answer takes 1.5 s: under the per-request limit (10 s x 0.2), but 14 requests
    // (2 zone lookups, 12 pages) would take 21 s, beyond the budget (30 s x 0.2 = 6 s).
    for _ in 0..20 {
        w.cf.fault(Fault::Delay(Duration::from_millis(1500)));
    }
    let started = Instant::now();
    let out = w.fails(1, &["dns", "list"]);
    let asked = w.cf.log().len();
    assert!(asked <= 5, "{asked} requests in a 6 s budget at 1.5 s each");
    assert!(out.stderr.contains("time budget"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn silent_ip_services_share_the_commands_budget() {
    let mut w = world();
    // Each silent service costs 5 s x 0.2 = 1 s; ten of them would take 10 s.
    w.env
        .set("STACKWIZ_IP_SERVICES", w.ips.urls(&["/silent"; 10]));
    let started = Instant::now();
    let out = w.fails(1, &["ip"]);
    let asked = w.ips.hits().len();
    assert!(asked <= 7, "{asked} services asked in a 6 s budget");
    assert!(
        out.stderr
            .contains("not asked, the command's time budget is spent"),
        "{out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------
// the README's examples run as written

/// The `stackwiz ...` commands of the README's Cloudflare DNS section: the lines of its
/// shell blocks and the inline examples (`export STACKWIZ_...=...` included).
fn readme_dns_examples() -> (Vec<String>, Vec<String>) {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## Cloudflare DNS").expect("the DNS section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut block = Vec::new();
    let mut inline = Vec::new();
    let mut in_sh = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if in_sh {
            let cmd = line.split(" #").next().unwrap().trim();
            if cmd.starts_with("stackwiz ") {
                block.push(cmd.to_string());
            }
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && (span.starts_with("stackwiz ") || span.starts_with("export STACKWIZ_"))
            {
                inline.push(span.to_string());
            }
        }
    }
    (block, inline)
}

#[test]
fn the_readmes_dns_examples_run_as_written() {
    let (block, inline) = readme_dns_examples();
    assert!(block.len() >= 6, "{block:?}");
    assert!(
        inline
            .iter()
            .any(|c| c.starts_with("export STACKWIZ_PUBLIC_IP=")),
        "{inline:?}"
    );
    // The block runs in order, in one world. `create --start` meets a docker that agrees.
    let mut w = world();
    let docker = w.env.path("fake-docker");
    support::write(&docker, "#!/bin/sh\nexit 0\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.env.set("STACKWIZ_DOCKER", &docker);
    for cmd in &block {
        let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
        w.ok(&args);
    }
    // Each inline DNS example alone, in a fresh world. An `export` is followed by the
    // commands that use it: an AUTO record and `ip`.
    let mut ran = 0;
    for example in &inline {
        let mut w = world();
        if let Some(assignment) = example.strip_prefix("export ") {
            let (key, value) = assignment.split_once('=').unwrap();
            w.env.set(key, value);
            let out = w.json(&["dns", "create", "app"]);
            assert_eq!(out["record"]["content"], value, "{out}");
            let warning = out["warning"].as_str().unwrap_or_default();
            assert!(warning.contains("documentation address"), "{out}");
            assert_eq!(w.ok(&["ip"]).stdout, format!("{value}\n"));
            ran += 1;
        } else if example.starts_with("stackwiz dns ") || example.starts_with("stackwiz ip") {
            let args: Vec<&str> = example.split_whitespace().skip(1).collect();
            // A template (`dns update NAME --value AUTO`) is not an example to run.
            let placeholder = |a: &&str| {
                a.len() > 1
                    && a.chars().all(|c| c.is_ascii_uppercase())
                    && !["AAAA", "CNAME", "TXT", "AUTO"].contains(a)
            };
            if !args.iter().any(placeholder) {
                w.ok(&args);
                ran += 1;
            }
        }
    }
    assert!(ran >= 3, "{inline:?}");
}
