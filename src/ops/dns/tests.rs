use super::*;
use crate::cancel::Cancel;
use crate::cloudflare::{Fields, Record};
use crate::config::{Config, Env, Overrides};

fn cfg() -> Config {
    let env = Env::from_pairs([
        ("HOME", "/nonexistent"),
        ("STACKWIZ_DEFAULT_DOMAIN", "example.com"),
    ]);
    Config::resolve(&Overrides::default(), &env).unwrap()
}

fn record(kind: &str, content: &str, proxied: bool, ttl: u32, comment: Option<&str>) -> Record {
    Record {
        id: "r1".into(),
        kind: kind.into(),
        name: "app.example.com".into(),
        content: content.into(),
        proxied,
        ttl,
        comment: comment.map(String::from),
    }
}

#[test]
fn names_resolve_under_the_default_domain() {
    let c = cfg();
    assert_eq!(full_name(&c, "app").unwrap(), "app.example.com");
    assert_eq!(full_name(&c, "App.Other.org.").unwrap(), "app.other.org");
    assert_eq!(full_name(&c, "@").unwrap(), "example.com");
    assert_eq!(
        full_name(&c, "_acme-challenge").unwrap(),
        "_acme-challenge.example.com"
    );
    assert_eq!(full_name(&c, "*").unwrap(), "*.example.com");
    // A trailing dot makes a name absolute, as a stack's domain is.
    assert_eq!(full_name(&c, "app.other.org.").unwrap(), "app.other.org");
    assert_eq!(
        full_name(&c, &absolute("Shop.Example.COM")).unwrap(),
        "shop.example.com"
    );
    assert!(full_name(&c, "app.").is_err());
    for bad in [
        "",
        "-x",
        "a b",
        "bücher",
        "a..b.com",
        "x/y",
        &"a".repeat(64),
        // An IP address (or any numeric last label) names no record.
        "1.2.3.4",
        "1.2.3.4.",
        "app.example.123",
    ] {
        let err = full_name(&c, bad).unwrap_err().to_string();
        assert!(err.starts_with("invalid name:"), "{bad}: {err}");
    }
}

#[test]
fn owner_is_the_label_or_the_full_name() {
    let c = cfg();
    assert_eq!(default_owner(&c, "app.example.com"), "app");
    assert_eq!(default_owner(&c, "a.b.example.com"), "a.b.example.com");
    assert_eq!(default_owner(&c, "app.other.org"), "app.other.org");
    assert_eq!(
        ownership_comment("app", None, Some(" blog ")).unwrap(),
        "stackwiz:app blog"
    );
    assert_eq!(
        ownership_comment("app", Some(Intent::Auto), Some("blog")).unwrap(),
        "stackwiz:app ip=auto blog"
    );
    assert!(ownership_comment("app", None, Some(&"x".repeat(95))).is_err());
    let r = record("A", "1.1.1.1", true, 1, Some("stackwiz:app blog"));
    assert_eq!(owner_of(&r), Some("app"));
    assert_eq!(
        owner_of(&record("A", "1.1.1.1", true, 1, Some("made by hand"))),
        None
    );
    assert_eq!(
        owner_of(&record("A", "1.1.1.1", true, 1, Some("stackwiz:"))),
        None
    );
    assert_eq!(owner_of(&record("A", "1.1.1.1", true, 1, None)), None);
}

#[test]
fn the_marker_keeps_owner_intent_and_note_apart() {
    let m = |c: &str| {
        let r = record("A", "1.1.1.1", true, 1, Some(c));
        Marker::of(&r).map(|m| (m.owner.to_string(), m.intent, m.note.map(String::from)))
    };
    let some = |o: &str, i, n: Option<&str>| Some((o.to_string(), i, n.map(String::from)));
    assert_eq!(
        m("stackwiz:app ip=auto"),
        some("app", Some(Intent::Auto), None)
    );
    assert_eq!(
        m("stackwiz:app ip=fixed my blog"),
        some("app", Some(Intent::Fixed), Some("my blog"))
    );
    // Old markers: no intent, the rest is the note.
    assert_eq!(m("stackwiz:app"), some("app", None, None));
    assert_eq!(m("stackwiz:app blog"), some("app", None, Some("blog")));
    assert_eq!(
        m("stackwiz:app ip=autox"),
        some("app", None, Some("ip=autox"))
    );
    assert_eq!(m("stackwiz: ip=auto"), some("ip=auto", None, None));
    assert_eq!(m("stackwiz:"), None);
    assert_eq!(m("made by hand"), None);
    assert_eq!(Intent::of_value(" auto "), Intent::Auto);
    assert_eq!(Intent::of_value("203.0.113.5"), Intent::Fixed);
}

#[test]
fn values_are_validated_per_type() {
    let c = cfg();
    let budget = Budget::new(1.0, &Cancel::new());
    let v = |k, s| resolve_value(&c, k, "app.example.com", s, &budget).map(|(c, _)| c);
    assert_eq!(
        v(RecordType::A, " 93.184.216.34 ").unwrap(),
        "93.184.216.34"
    );
    assert_eq!(
        v(RecordType::AAAA, "2606:4700:0::1111").unwrap(),
        "2606:4700::1111"
    );
    assert_eq!(
        v(RecordType::CNAME, "Main.Example.com.").unwrap(),
        "main.example.com"
    );
    assert!(v(RecordType::CNAME, "app.example.com")
        .unwrap_err()
        .to_string()
        .contains("own name"));
    assert!(v(RecordType::CNAME, "not a host").is_err());
    assert!(v(RecordType::A, "2606:4700::1111").is_err());
    assert!(v(RecordType::TXT, "AUTO")
        .unwrap_err()
        .to_string()
        .contains("only for A and AAAA"));
    assert!(v(RecordType::TXT, "a\nb").is_err());
    assert_eq!(v(RecordType::TXT, "v=spf1 -all").unwrap(), "v=spf1 -all");
}

#[test]
fn special_use_names_are_refused_with_the_alternative() {
    for name in [
        "app.localhost",
        "localhost",
        "x.home.arpa",
        "a.test.",
        "b.internal",
    ] {
        assert!(!zone_could_exist(name), "{name}");
    }
    for name in ["app.example.com", "localhost.example.com", "test.dev"] {
        assert!(zone_could_exist(name), "{name}");
        assert_eq!(public_host("name", name).unwrap(), name);
    }
    let err = public_host("name", "app.localhost").unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert_eq!(
        err.to_string(),
        "invalid name: app.localhost is a special-use name no DNS zone can hold; \
         use a name in one of your Cloudflare zones, e.g. app.example.com"
    );
}

#[test]
fn ttl_rules() {
    assert_eq!(checked_ttl(None, true).unwrap(), None);
    assert_eq!(checked_ttl(Some(1), true).unwrap(), Some(1));
    assert_eq!(checked_ttl(Some(300), false).unwrap(), Some(300));
    assert!(checked_ttl(Some(29), false).is_err());
    assert!(checked_ttl(Some(86401), false).is_err());
    assert!(checked_ttl(Some(300), true)
        .unwrap_err()
        .to_string()
        .contains("always automatic"));
}

#[test]
fn identity_and_minimal_diff() {
    let want = Fields {
        kind: Some("A".into()),
        name: Some("app.example.com".into()),
        content: Some("93.184.216.34".into()),
        proxied: Some(true),
        ttl: Some(1),
        comment: Some("stackwiz:app".into()),
    };
    assert!(same_record(
        &record("A", "93.184.216.34", true, 1, None),
        &want
    ));
    assert!(!same_record(
        &record("A", "93.184.216.35", true, 1, None),
        &want
    ));
    assert!(!same_record(
        &record("A", "93.184.216.34", false, 1, None),
        &want
    ));
    let d = diff(
        &record("A", "93.184.216.35", true, 1, Some("stackwiz:app")),
        &want,
    );
    assert_eq!(
        d,
        Fields {
            content: Some("93.184.216.34".into()),
            ..Fields::default()
        }
    );
    assert!(same_content("TXT", "\"hello\"", "hello"));
    assert!(same_content(
        "AAAA",
        "2606:4700:0:0::1111",
        "2606:4700::1111"
    ));
}

#[test]
fn record_types_parse_case_insensitively() {
    let t: RecordType = serde_json::from_str("\"cname\"").unwrap();
    assert_eq!(t, RecordType::CNAME);
    assert!(serde_json::from_str::<RecordType>("\"MX\"").is_err());
    assert_eq!(
        serde_json::to_string(&RecordType::AAAA).unwrap(),
        "\"AAAA\""
    );
    let req: DnsCreate =
        serde_json::from_str(r#"{"name":"app","type":"a","proxied":false}"#).unwrap();
    assert_eq!(req.r#type, Some(RecordType::A));
    assert!(serde_json::from_str::<DnsCreate>(r#"{"name":"app","typo":1}"#).is_err());
}
