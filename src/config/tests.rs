#[test]
fn a_setting_that_is_not_utf8_is_refused_not_replaced() {
    use std::os::unix::ffi::OsStringExt;
    let bad = std::ffi::OsString::from_vec(b"/srv/st\xffcks".to_vec());
    let vars = vec![
        ("HOME".into(), std::ffi::OsString::from("/root")),
        ("STACKWIZ_BASE_DIR".into(), bad.clone()),
    ];
    let e = super::refuse_non_utf8(vars.into_iter(), &super::Overrides::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert_eq!(
        e.to_string(),
        "invalid STACKWIZ_BASE_DIR: `/srv/st\\u{fffd}cks` is not valid UTF-8; stackwiz does not \
         guess what it means (use a UTF-8 name)"
    );
    let flag = super::Overrides {
        base_dir: Some(bad.into()),
        ..Default::default()
    };
    let e = super::refuse_non_utf8(std::iter::empty(), &flag).unwrap_err();
    assert!(e.to_string().starts_with("invalid --base-dir: "), "{e}");
    // Other programs' variables are not ours to judge.
    let other = vec![(
        "LANGUAGE".into(),
        std::ffi::OsString::from_vec(b"\xff".to_vec()),
    )];
    super::refuse_non_utf8(other.into_iter(), &super::Overrides::default()).unwrap();
}

use super::*;

fn env(pairs: &[(&str, &str)]) -> Env {
    let home = std::env::temp_dir().join("stackwiz-config-test-home-none");
    let mut all: Vec<(String, String)> = vec![("HOME".into(), home.display().to_string())];
    all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Env::from_pairs(all)
}

#[test]
fn defaults_apply_without_anything_set() {
    let c = Config::resolve(&Overrides::default(), &env(&[])).unwrap();
    assert_eq!(c.base_dir, PathBuf::from("/srv/dockerdata"));
    assert_eq!(c.templates_dir, PathBuf::from("/srv/dockerdata/_templates"));
    assert_eq!(c.default_domain, "localhost");
    assert_eq!(c.network, "traefik_proxy");
    assert_eq!(c.entrypoint, "websecure");
    assert_eq!(c.certresolver, "cf");
    assert_eq!(c.dns.api_url, DEFAULT_CF_API_URL);
    assert_eq!(c.dns.ip_services.len(), 3);
    assert!(c.dns.token.is_none());
}

#[test]
fn a_config_file_not_in_utf8_is_a_config_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, b"network = \"a\"\ndefault_domain = \"\xff\"\n").unwrap();
    let err = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_CONFIG", &file.display().to_string())]),
    )
    .unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(
        matches!(&err, Error::Config { path, line: Some(2), .. } if *path == file),
        "{err:?}"
    );
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

#[test]
fn flag_beats_env_beats_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "network = \"from_file\"\ndefault_domain = \"file.example\"\nbase_dir = \"/f\"\n",
    )
    .unwrap();
    let e = env(&[
        ("STACKWIZ_CONFIG", file.to_str().unwrap()),
        ("STACKWIZ_DOCKER_NETWORK", "from_env"),
        ("STACKWIZ_BASE_DIR", "/e"),
    ]);
    let o = Overrides {
        base_dir: Some("/flag".into()),
        ..Default::default()
    };
    let c = Config::resolve(&o, &e).unwrap();
    assert_eq!(c.base_dir, PathBuf::from("/flag"));
    assert_eq!(c.network, "from_env");
    assert_eq!(c.default_domain, "file.example");
    let src = |k: &str| {
        c.entries
            .iter()
            .find(|e| e.key == k)
            .unwrap()
            .source
            .clone()
    };
    assert_eq!(src("base_dir"), "flag --base-dir");
    assert_eq!(src("network"), "env STACKWIZ_DOCKER_NETWORK");
    assert!(src("default_domain").starts_with("file "));
    assert_eq!(src("traefik_entrypoint"), "default");
}

#[test]
fn malformed_file_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "network = \"x\"\nbogus = 1\n").unwrap();
    let err = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_CONFIG", file.to_str().unwrap())]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("c.toml line 2 key `bogus`"), "{err}");
    std::fs::write(&file, "network = \n").unwrap();
    let err = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_CONFIG", file.to_str().unwrap())]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("line 1"), "{err}");
    std::fs::write(&file, "[dns]\nnope = \"x\"\n").unwrap();
    let err = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_CONFIG", file.to_str().unwrap())]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("line 2 key `dns.nope`"), "{err}");
}

#[test]
fn token_order_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("traefik")).unwrap();
    std::fs::write(
        dir.path().join("traefik/.env"),
        "OTHER=1\nCF_DNS_API_TOKEN=\"tok-traefik\"\n",
    )
    .unwrap();
    let base = dir.path().to_str().unwrap();
    let c = Config::resolve(&Overrides::default(), &env(&[("STACKWIZ_BASE_DIR", base)])).unwrap();
    assert_eq!(c.dns.token.as_ref().unwrap().secret.expose(), "tok-traefik");
    let c = Config::resolve(
        &Overrides::default(),
        &env(&[
            ("STACKWIZ_BASE_DIR", base),
            ("CF_API_TOKEN", "tok-cf"),
            ("CF_DNS_API_TOKEN", "tok-dns"),
        ]),
    )
    .unwrap();
    let t = c.dns.token.as_ref().unwrap();
    assert_eq!(t.secret.expose(), "tok-dns");
    assert_eq!(t.source, "env CF_DNS_API_TOKEN");
    let shown = format!("{c:?}");
    assert!(!shown.contains("tok-dns"), "{shown}");
    let entry = c.entries.iter().find(|e| e.key == "dns.api_token").unwrap();
    assert_eq!(entry.value, "set (from env CF_DNS_API_TOKEN)");
}

/// The token stackwiz finds in `{base}/traefik/.env` holding `text`, or the problem it
/// reports.
fn traefik_env_token(text: &str) -> std::result::Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("traefik")).unwrap();
    std::fs::write(dir.path().join("traefik/.env"), text).unwrap();
    let base = dir.path().to_str().unwrap();
    let c = Config::resolve(&Overrides::default(), &env(&[("STACKWIZ_BASE_DIR", base)])).unwrap();
    match (&c.dns.token, &c.dns.token_problem) {
        (Some(t), _) => Ok(t.secret.expose().to_string()),
        (None, Some((problem, _))) => Err(problem.clone()),
        (None, None) => Err("not set".into()),
    }
}

#[test]
fn the_traefik_token_is_read_as_compose_reads_it() {
    for (text, token) in [
        ("CF_DNS_API_TOKEN=abc # comment\n", "abc"),
        ("export CF_DNS_API_TOKEN='abc' # comment\n", "abc"),
        ("CF_DNS_API_TOKEN: \"abc\"\r\n", "abc"),
        (
            "\u{feff}CF_DNS_API_TOKEN=old\nCF_DNS_API_TOKEN=new\n",
            "new",
        ),
        ("CF_DNS_API_TOKEN=\nCF_API_TOKEN=\"a$$b\"\n", "a$b"),
        (
            "A=\"multi\nCF_DNS_API_TOKEN=inside-a-value\"\nCF_API_TOKEN=real\n",
            "real",
        ),
    ] {
        assert_eq!(traefik_env_token(text).as_deref(), Ok(token), "{text:?}");
    }
    for (text, problem) in [
        (
            "CF_DNS_API_TOKEN=${TOKEN}\n",
            "line 1: CF_DNS_API_TOKEN takes its value from the environment",
        ),
        (
            "A=1\nCF_DNS_API_TOKEN\n",
            "line 2: CF_DNS_API_TOKEN takes its value",
        ),
        (
            "A='open\nCF_DNS_API_TOKEN=abc\n",
            "line 1: unterminated quoted value (Compose refuses the file too)",
        ),
        (
            "CF_DNS_API_TOKEN=' abc'\n",
            "contains spaces or control characters",
        ),
    ] {
        let got = traefik_env_token(text).unwrap_err();
        assert!(got.contains(problem), "{text:?}: {got}");
        assert!(!got.contains("abc"), "{got}");
    }
}

fn with_file(text: &str, pairs: &[(&str, &str)]) -> Result<Config> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, text).unwrap();
    let mut all = vec![("STACKWIZ_CONFIG", file.to_str().unwrap())];
    all.extend_from_slice(pairs);
    Config::resolve(&Overrides::default(), &env(&all))
}

fn entry<'a>(c: &'a Config, key: &str) -> &'a Entry {
    c.entries.iter().find(|e| e.key == key).unwrap()
}

#[test]
fn a_syntax_error_is_one_line() {
    let err = with_file("base_dir = \n", &[]).unwrap_err();
    assert!(
        matches!(err, Error::Config { line: Some(1), .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(!err.contains('\n'), "{err}");
    assert!(
        err.contains("line 1: string values must be quoted"),
        "{err}"
    );
}

#[test]
fn paths_and_names_in_the_file_must_be_strings() {
    for (text, line, key, rule) in [
        (
            "network = \"n\"\nbase_dir = 5\n",
            2,
            "base_dir",
            "must be a string",
        ),
        (
            "default_domain = true\n",
            1,
            "default_domain",
            "must be a string",
        ),
        (
            "[dns]\npublic_ip = [\"1.1.1.1\"]\n",
            2,
            "dns.public_ip",
            "must be a string",
        ),
        (
            "read_only = 1\n",
            1,
            "read_only",
            "must be true or false, not integer",
        ),
        (
            "[dns]\nip_services = [1]\n",
            2,
            "dns.ip_services",
            "array items must be strings",
        ),
    ] {
        let err = with_file(text, &[]).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
        let err = err.to_string();
        assert!(
            err.contains(&format!("line {line} key `{key}`: {rule}")),
            "{err}"
        );
    }
    let c = with_file(
        "read_only = true\n[dns]\nallow_private_ip = \"yes\"\nip_services = [\"http://a\", \"http://b\"]\n",
        &[],
    )
    .unwrap();
    assert!(c.read_only && c.dns.allow_private_ip);
    assert_eq!(c.dns.ip_services, ["http://a", "http://b"]);
}

#[test]
fn dotted_dns_keys_are_found_on_their_line() {
    let err = with_file("network = \"n\"\ndns.public_ip = 7\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2 key `dns.public_ip`"), "{err}");
    // [dns]'s key, not another table's of the same name.
    let err = with_file("[other]\npublic_ip = 1\n[dns]\npublic_ip = 7\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 4 key `dns.public_ip`"), "{err}");
}

#[test]
fn folders_must_be_absolute_and_the_error_names_the_source() {
    let err = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_BASE_DIR", "stacks")]),
    )
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert_eq!(
        err.to_string(),
        "invalid base_dir (from env STACKWIZ_BASE_DIR): `stacks` must be an absolute path \
         (starting with /)"
    );
    let o = Overrides {
        templates_dir: Some("t".into()),
        ..Default::default()
    };
    let err = Config::resolve(&o, &env(&[])).unwrap_err().to_string();
    assert!(
        err.contains("templates_dir (from flag --templates-dir)"),
        "{err}"
    );
    let err = with_file("scripts_dir = \"./s\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("scripts_dir (from file "), "{err}");
}

#[test]
fn the_default_domain_is_checked_when_resolved() {
    let err = with_file("default_domain = \"Bad\"\n", &[]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = err.to_string();
    assert!(
        err.starts_with("invalid default_domain (from file "),
        "{err}"
    );
    assert!(err.contains("`Bad` must be a lowercase hostname"), "{err}");
    let o = Overrides {
        default_domain: Some("a..b".into()),
        ..Default::default()
    };
    let err = Config::resolve(&o, &env(&[])).unwrap_err().to_string();
    assert!(
        err.starts_with("invalid default_domain (from flag --default-domain)"),
        "{err}"
    );
}

#[test]
fn a_bad_boolean_names_its_source() {
    let err = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_ALLOW_PRIVATE_IP", "maybe")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("invalid dns.allow_private_ip (from env STACKWIZ_ALLOW_PRIVATE_IP)"),
        "{err}"
    );
}

#[test]
fn the_public_ip_remembers_where_it_came_from() {
    let c = with_file("[dns]\npublic_ip = \"nonsense\"\n", &[]).unwrap();
    assert!(
        c.dns.public_ip_source.starts_with("file "),
        "{}",
        c.dns.public_ip_source
    );
    let c = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_PUBLIC_IP", "203.0.113.7")]),
    )
    .unwrap();
    assert_eq!(c.dns.public_ip_source, "env STACKWIZ_PUBLIC_IP");
}

#[test]
fn the_docker_timeout_is_30_s_unless_set_by_env_or_file() {
    use std::time::Duration;
    let c = Config::resolve(&Overrides::default(), &env(&[])).unwrap();
    assert_eq!(c.docker_timeout, Duration::from_secs(30));
    assert_eq!(entry(&c, "docker_timeout").value, "30");
    let c = with_file("docker_timeout = 5\n", &[]).unwrap();
    assert_eq!(c.docker_timeout, Duration::from_secs(5));
    let c = with_file(
        "docker_timeout = 5\n",
        &[("STACKWIZ_DOCKER_TIMEOUT", "0.5")],
    )
    .unwrap();
    assert_eq!(c.docker_timeout, Duration::from_millis(500));
    assert_eq!(
        entry(&c, "docker_timeout").source,
        "env STACKWIZ_DOCKER_TIMEOUT"
    );
    for bad in ["0", "-1", "soon", "NaN", "inf", "100000"] {
        let err = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_DOCKER_TIMEOUT", bad)]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("docker_timeout (from env STACKWIZ_DOCKER_TIMEOUT)")
                && err.contains("is not a number of seconds"),
            "{bad}: {err}"
        );
    }
    let err = with_file("docker_timeout = true\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("must be a number, not boolean"), "{err}");
}

#[test]
fn the_http_time_scale_is_a_floored_env_only_testing_aid() {
    let c = Config::resolve(&Overrides::default(), &env(&[])).unwrap();
    assert_eq!(c.dns.http_time_scale, 1.0);
    assert!(!c.entries.iter().any(|e| e.key.contains("time_scale")));
    let c = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_HTTP_TIME_SCALE", "0.01")]),
    )
    .unwrap();
    assert_eq!(c.dns.http_time_scale, 0.01);
    assert_eq!(
        entry(&c, "http_time_scale").source,
        "env STACKWIZ_HTTP_TIME_SCALE"
    );
    for bad in ["0.009", "0", "-1", "1.5", "NaN", "fast"] {
        let err = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_HTTP_TIME_SCALE", bad)]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("must be a number from 0.01 to 1"),
            "{bad}: {err}"
        );
    }
    let err = with_file("[dns]\nhttp_time_scale = \"0.1\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown key"), "{err}");
}

#[test]
fn an_unusable_token_file_says_where_it_was_set_and_how_to_undo_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let c = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_CF_API_TOKEN_FILE", missing.to_str().unwrap())]),
    )
    .unwrap();
    let err = c.token().unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "cannot read token file {} (from env STACKWIZ_CF_API_TOKEN_FILE): ",
            missing.display()
        )),
        "{err}"
    );
    assert_eq!(
        err.hint().as_deref(),
        Some("check the path, or unset STACKWIZ_CF_API_TOKEN_FILE")
    );
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let text = format!("[dns]\napi_token_file = \"{}\"\n", empty.display());
    let err = with_file(&text, &[]).unwrap().token().unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "token file {} is empty (from file ",
            empty.display()
        )),
        "{err}"
    );
    let hint = err.hint().unwrap();
    assert!(
        hint.starts_with(
            "write the Cloudflare API token into it, or remove api_token_file from [dns] in /"
        ),
        "{hint}"
    );
}

#[test]
fn an_unreadable_token_file_hints_at_its_permissions() {
    let dir = tempfile::tempdir().unwrap();
    // A folder cannot be read as a file, even by root.
    let c = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_CF_API_TOKEN_FILE", dir.path().to_str().unwrap())]),
    )
    .unwrap();
    let hint = c.token().unwrap_err().hint().unwrap();
    assert_eq!(
        hint,
        "point it at a readable file, or unset STACKWIZ_CF_API_TOKEN_FILE"
    );
}

#[test]
fn no_token_points_at_the_real_traefik_env() {
    let c = Config::resolve(
        &Overrides::default(),
        &env(&[("STACKWIZ_BASE_DIR", "/srv/stacks")]),
    )
    .unwrap();
    let err = c.token().unwrap_err();
    assert!(matches!(err, Error::NoToken { .. }), "{err:?}");
    let hint = err.hint().unwrap();
    assert!(
        hint.ends_with("a CF_DNS_API_TOKEN= line in /srv/stacks/traefik/.env"),
        "{hint}"
    );
    assert!(!hint.contains('{'), "{hint}");
}

#[test]
fn every_given_setting_knows_its_variable() {
    let o = Overrides {
        context: Some("remote".into()),
        ..Default::default()
    };
    let c = Config::resolve(&o, &env(&[])).unwrap();
    assert_eq!(entry(&c, "context").env_var, Some("DOCKER_CONTEXT"));
    assert_eq!(entry(&c, "base_dir").env_var, Some("STACKWIZ_BASE_DIR"));
    assert_eq!(
        entry(&c, "dns.api_token_file").env_var,
        Some("STACKWIZ_CF_API_TOKEN_FILE")
    );
    assert_eq!(entry(&c, "dns.api_token").env_var, None);
    let json = serde_json::to_value(entry(&c, "context")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"key": "context", "value": "remote", "source": "flag --context"})
    );
}

#[test]
fn the_deferred_parts_wait_for_finish_and_then_match_a_full_resolve() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("traefik")).unwrap();
    std::fs::write(
        dir.path().join("traefik/.env"),
        "CF_DNS_API_TOKEN=tok-traefik\n",
    )
    .unwrap();
    let base = dir.path().display().to_string();
    let env = Env::from_pairs([
        ("HOME", "/nonexistent-stackwiz-home"),
        ("STACKWIZ_BASE_DIR", base.as_str()),
        ("STACKWIZ_DEFAULT_USER", "alice"),
        ("STACKWIZ_DEFAULT_GROUP", "staff"),
    ]);
    let mut lazy = Config::resolve_deferring(&Overrides::default(), &env).unwrap();
    assert!(lazy.is_deferred());
    assert!(lazy.dns.token.is_none() && lazy.default_user.is_empty());
    // The Traefik .env is read at finish, not before.
    std::fs::write(
        dir.path().join("traefik/.env"),
        "CF_DNS_API_TOKEN=tok-later\n",
    )
    .unwrap();
    lazy.finish();
    assert!(!lazy.is_deferred());
    assert_eq!(lazy.token().unwrap().secret.expose(), "tok-later");
    assert_eq!(
        (lazy.default_user.as_str(), lazy.default_group.as_str()),
        ("alice", "staff")
    );
    let full = Config::resolve(&Overrides::default(), &env).unwrap();
    let listing = |c: &Config| -> Vec<(String, String, String)> {
        c.entries
            .iter()
            .map(|e| (e.key.to_string(), e.value.clone(), e.source.clone()))
            .collect()
    };
    assert_eq!(listing(&lazy), listing(&full));
}
