//! `stackwiz create`, templates, init and config, through the real binary.

use crate::support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::{Arc, Barrier};

use support::{require_compose, write, TestEnv};

fn create(env: &TestEnv, extra: &[&str]) -> support::Out {
    let mut args = vec!["create"];
    args.extend_from_slice(extra);
    env.cmd(args).output()
}

/// `docker compose config --format json` of a stack, read back by Compose itself.
fn compose_config(env: &TestEnv, name: &str) -> serde_json::Value {
    let file = env.stack(name).join("docker-compose.yml");
    let out = env
        .program(
            "docker",
            [
                "compose",
                "-f",
                file.to_str().unwrap(),
                "config",
                "--format",
                "json",
            ],
        )
        .ok();
    out.json()
}

#[test]
fn create_writes_a_generic_stack_and_says_what_to_do_next() {
    let env = TestEnv::new();
    let out = env
        .cmd([
            "create",
            "whoami",
            "--image",
            "traefik/whoami",
            "--port",
            "80",
        ])
        .ok();
    assert!(
        out.stdout.contains("Created stack whoami (generic)"),
        "{out}"
    );
    assert!(out.stdout.contains("Next: stackwiz start whoami"), "{out}");
    let compose = std::fs::read_to_string(env.stack("whoami").join("docker-compose.yml")).unwrap();
    for needle in [
        "image: \"traefik/whoami\"",
        "container_name: whoami",
        "restart: unless-stopped",
        "traefik.enable=true",
        "traefik.http.routers.whoami.rule=Host(`whoami.localhost`)",
        "traefik.http.routers.whoami.entrypoints=websecure",
        "traefik.http.routers.whoami.tls.certresolver=cf",
        "traefik.http.services.whoami.loadbalancer.server.port=80",
        "name: traefik_proxy",
        "external: true",
    ] {
        assert!(compose.contains(needle), "missing {needle} in\n{compose}");
    }
}

#[test]
fn json_output_describes_the_stack() {
    let env = TestEnv::new();
    let out = env
        .cmd([
            "create",
            "api",
            "--image",
            "nginx:alpine",
            "--port",
            "8080",
            "--domain",
            "api.example.com",
            "--json",
        ])
        .ok();
    let v = out.json();
    assert_eq!(v["name"], "api");
    assert_eq!(v["type"], "generic");
    assert_eq!(v["domain"], "api.example.com");
    assert_eq!(v["image"], "nginx:alpine");
    assert_eq!(v["port"], 8080);
    assert_eq!(v["path"], env.stack("api").display().to_string());
    assert_eq!(
        v["files"],
        serde_json::json!(["docker-compose.yml", ".env"])
    );
}

#[test]
fn dry_run_prints_the_files_hides_env_values_and_writes_nothing() {
    let env = TestEnv::new();
    let out = env
        .cmd([
            "create",
            "pb",
            "--type",
            "pocketbase",
            "--env",
            "SECRET_THING=hunter2hunter2",
            "--dry-run",
        ])
        .ok();
    assert!(
        out.stdout
            .contains("image: \"ghcr.io/muchobien/pocketbase:latest\""),
        "{out}"
    );
    assert!(out.stdout.contains("PB_ENCRYPTION_KEY=****"), "{out}");
    assert!(out.stdout.contains("SECRET_THING=****"), "{out}");
    assert!(!out.says("hunter2hunter2"), "{out}");
    assert!(env.base_entries().is_empty(), "{:?}", env.base_entries());
}

#[test]
fn every_validation_rule_rejects_with_exit_2_and_one_line_naming_the_field() {
    let env = TestEnv::new();
    let long63 = "a".repeat(63);
    let long64 = "a".repeat(64);
    let long_domain = format!("{}.com", vec!["b".repeat(63); 4].join("."));
    let ok: &[&[&str]] = &[
        &["a", "--image", "nginx", "--port", "1"],
        &[&long63, "--image", "nginx", "--port", "65535"],
        &["x-1", "--image", "ghcr.io/o/app:v1.2", "--port", "80", "--domain", "x.example.co"],
        &["y", "--image", "localhost:5000/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "--port", "80"],
        &["z", "--image", "nginx", "--port", "80", "--env", "_K1=v", "--env", "lower_key=x"],
    ];
    for args in ok {
        let out = create(&env, args);
        assert_eq!(out.code, 0, "{args:?} should pass:\n{out}");
    }
    let bad: &[(&[&str], &str)] = &[
        (
            &["--image", "nginx", "--port", "80", "--", "-a"],
            "invalid name",
        ),
        (
            &["Upper", "--image", "nginx", "--port", "80"],
            "invalid name",
        ),
        (&["a_b", "--image", "nginx", "--port", "80"], "invalid name"),
        (&["a.b", "--image", "nginx", "--port", "80"], "invalid name"),
        (
            &["trailing-", "--image", "nginx", "--port", "80"],
            "invalid name",
        ),
        (
            &[&long64, "--image", "nginx", "--port", "80"],
            "invalid name",
        ),
        (
            &["traefik", "--image", "nginx", "--port", "80"],
            "invalid name",
        ),
        (
            &["_templates", "--image", "nginx", "--port", "80"],
            "invalid name",
        ),
        (&["noimage", "--port", "80"], "invalid image"),
        (
            &["badimage", "--image", "Nginx:latest", "--port", "80"],
            "invalid image",
        ),
        (
            &["badimage2", "--image", "nginx latest", "--port", "80"],
            "invalid image",
        ),
        (
            &["badimage3", "--image", "nginx:", "--port", "80"],
            "invalid image",
        ),
        (&["noport", "--image", "nginx"], "invalid port"),
        (
            &["port0", "--image", "nginx", "--port", "0"],
            "invalid port",
        ),
        (
            &["port-big", "--image", "nginx", "--port", "65536"],
            "invalid port",
        ),
        (
            &[
                "dom",
                "--image",
                "nginx",
                "--port",
                "80",
                "--domain",
                "Dom.example.com",
            ],
            "invalid domain",
        ),
        (
            &[
                "dom2", "--image", "nginx", "--port", "80", "--domain", "a..b",
            ],
            "invalid domain",
        ),
        (
            &[
                "dom3",
                "--image",
                "nginx",
                "--port",
                "80",
                "--domain",
                &long_domain,
            ],
            "invalid domain",
        ),
        (
            &[
                "dom4",
                "--image",
                "nginx",
                "--port",
                "80",
                "--domain=-x.com",
            ],
            "invalid domain",
        ),
        (
            &[
                "envk", "--image", "nginx", "--port", "80", "--env", "1BAD=x",
            ],
            "invalid env",
        ),
        (
            &[
                "envk2",
                "--image",
                "nginx",
                "--port",
                "80",
                "--env",
                "BAD-KEY=x",
            ],
            "invalid env",
        ),
        (
            &[
                "envk3", "--image", "nginx", "--port", "80", "--env", "NOEQUALS",
            ],
            "invalid env",
        ),
        (
            &[
                "unknown-type",
                "--type",
                "nope",
                "--image",
                "nginx",
                "--port",
                "80",
            ],
            "invalid type",
        ),
        (&["tunnel", "--type", "cloudflared"], "TUNNEL_TOKEN"),
    ];
    for (args, expect) in bad {
        let out = create(&env, args);
        assert_eq!(out.code, 2, "{args:?} should be rejected:\n{out}");
        let first = out.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: ") && first.contains(expect),
            "{args:?}: expected `{expect}`:\n{out}"
        );
        assert!(out.stdout.is_empty(), "{out}");
    }
    // Only the accepted stacks exist; nothing half-written.
    assert_eq!(
        env.base_entries(),
        vec![
            "a".to_string(),
            long63.clone(),
            "x-1".into(),
            "y".into(),
            "z".into()
        ]
    );
}

#[test]
fn several_problems_are_reported_together() {
    let env = TestEnv::new();
    let out = create(&env, &["Bad", "--image", "a b", "--port", "0"]);
    assert_eq!(out.code, 2, "{out}");
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 3, "{out}");
}

#[test]
fn hostile_values_cannot_inject_yaml_or_env_lines_and_read_back_exactly() {
    require_compose();
    let env = TestEnv::new();
    // Values that would break naive YAML or .env writing.
    let hostile = [
        ("QUOTES", r#"it's "quoted" \ back\slash"#),
        ("DOLLAR", "${HOME} and $HOME and $$ and $"),
        ("BACKTICKS", "`id` $(id)"),
        ("HASH", "a #not a comment"),
        ("SPACES", "  leading and trailing  "),
        ("YAMLISH", "x: y\t- privileged: true"),
        ("ENDS_BACKSLASH", r"trailing\"),
        ("SINGLE_AND_DOLLAR", r#"'$HOME' "\n""#),
        ("EMPTY", ""),
        ("EQUALS", "a=b=c"),
        // Line breaks, tabs and escapes-looking text are written as Compose reads them back.
        ("MULTI_LINE", "line 1\nline 2\r\nX=injected"),
        ("TAB", "a\tb"),
        ("ESCAPES", r#"\n \t \0123 \$ \\ \" \'"#),
        ("ONLY_QUOTE", "'"),
        ("UNICODE", "ünïcødé ✓ 🦀 \u{a0}\u{85}"),
        ("CONTROL", "\u{7}\u{1b}[31m"),
    ];
    let mut args = vec![
        "create".to_string(),
        "hostile".into(),
        "--image".into(),
        "nginx".into(),
        "--port".into(),
        "80".into(),
    ];
    for (k, v) in hostile {
        args.push("--env".into());
        args.push(format!("{k}={v}"));
    }
    env.cmd(&args).ok();
    let config = compose_config(&env, "hostile");
    let service = &config["services"]["hostile"];
    assert!(service.get("privileged").is_none(), "{service}");
    let environment = service["environment"].as_object().expect("environment");
    for (k, v) in hostile {
        // `config` prints a compose file, where a literal `$` is written `$$`.
        let read = environment
            .get(k)
            .and_then(|x| x.as_str())
            .map(|x| x.replace("$$", "$"));
        assert_eq!(
            read.as_deref(),
            Some(v),
            "{k} read back differently: {environment:?}"
        );
    }
    // TZ from the template plus exactly our keys: no extra lines were injected.
    assert_eq!(environment.len(), hostile.len() + 1, "{environment:?}");

    // Hostile values where YAML is written are rejected outright.
    for (flag, value) in [
        ("--image", "nginx\nprivileged: true"),
        ("--image", "nginx\"\n  privileged: true"),
        ("--domain", "a.com`)\"\n    privileged: true"),
        ("--image", "${HOME}"),
        ("--image", "`id`"),
        ("--domain", "x.com #"),
    ] {
        let mut args = vec!["create", "evil", "--port", "80", flag, value];
        if flag != "--image" {
            args.extend(["--image", "nginx"]);
        }
        let out = env.cmd(args).output();
        assert_eq!(out.code, 2, "{flag} {value:?}:\n{out}");
        assert!(
            !out.stderr.trim_end().contains('\n')
                || out
                    .stderr
                    .lines()
                    .all(|l| l.starts_with("error:") || l.starts_with("hint:")),
            "{out}"
        );
    }
    assert!(!env.stack("evil").exists());
}

#[test]
fn env_file_values_are_merged_and_flags_win() {
    require_compose();
    let env = TestEnv::new();
    let file = env.path("vars.env");
    write(
        &file,
        "# comment\nexport A=from-file\nB=\"quoted value\"\nC='single'\n",
    );
    env.cmd([
        "create",
        "ef",
        "--image",
        "nginx",
        "--port",
        "80",
        "--env-file",
        file.to_str().unwrap(),
        "--env",
        "A=from-flag",
    ])
    .ok();
    let config = compose_config(&env, "ef");
    let e = &config["services"]["ef"]["environment"];
    assert_eq!(e["A"], "from-flag");
    assert_eq!(e["B"], "quoted value");
    assert_eq!(e["C"], "single");
    write(&file, "GOOD=1\nthis line is broken\n");
    let out = env
        .cmd([
            "create",
            "ef2",
            "--image",
            "nginx",
            "--port",
            "80",
            "--env-file",
            file.to_str().unwrap(),
        ])
        .fails(2);
    assert!(out.stderr.contains("line 2"), "{out}");
}

#[test]
fn sixteen_concurrent_creates_of_one_name_let_exactly_one_win() {
    let env = Arc::new(TestEnv::new());
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let env = Arc::clone(&env);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let run = env.cmd([
                    "create",
                    "race",
                    "--image",
                    "nginx",
                    "--port",
                    "80",
                    "--env",
                    &format!("WHO={i}"),
                ]);
                barrier.wait();
                run.output()
            })
        })
        .collect();
    let outs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners = outs.iter().filter(|o| o.code == 0).count();
    assert_eq!(
        winners,
        1,
        "{}",
        outs.iter().map(|o| o.to_string()).collect::<String>()
    );
    for o in outs.iter().filter(|o| o.code != 0) {
        assert_eq!(o.code, 1, "{o}");
        assert!(o.stderr.contains("stack race already exists"), "{o}");
    }
    assert_eq!(
        env.base_entries(),
        ["race"],
        "temporary folders left behind"
    );
    let text = std::fs::read_to_string(env.stack("race").join(".env")).unwrap();
    assert_eq!(text.matches("WHO=").count(), 1, "{text}");
}

#[test]
fn an_existing_stack_is_never_touched() {
    let env = TestEnv::new();
    env.cmd(["create", "keep", "--image", "nginx", "--port", "80"])
        .ok();
    let before = std::fs::read_to_string(env.stack("keep").join("docker-compose.yml")).unwrap();
    let out = env
        .cmd(["create", "keep", "--image", "redis", "--port", "6379"])
        .fails(1);
    assert!(
        out.stderr.contains(&format!(
            "stack keep already exists at {}",
            env.stack("keep").display()
        )),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(env.stack("keep").join("docker-compose.yml")).unwrap(),
        before
    );
}

#[test]
fn a_symlink_planted_at_the_stack_path_is_refused_and_left_alone() {
    let env = TestEnv::new();
    let target = env.path("elsewhere");
    std::fs::create_dir_all(&target).unwrap();
    std::os::unix::fs::symlink(&target, env.stack("linked")).unwrap();
    let out = env
        .cmd(["create", "linked", "--image", "nginx", "--port", "80"])
        .fails(1);
    assert!(out.stderr.contains("already exists"), "{out}");
    assert!(
        std::fs::read_dir(&target).unwrap().next().is_none(),
        "the symlink's target was written to"
    );
    // A dangling symlink too.
    std::os::unix::fs::symlink(env.path("nowhere"), env.stack("dangling")).unwrap();
    env.cmd(["create", "dangling", "--image", "nginx", "--port", "80"])
        .fails(1);
    assert!(!env.path("nowhere").exists());
}

#[test]
fn a_broken_template_leaves_nothing_behind() {
    let mut env = TestEnv::new();
    let templates = env.path("tpl");
    env.set("STACKWIZ_TEMPLATES_DIR", &templates);
    write(
        &templates.join("broken-template.yml"),
        "services:\n  x:\n    image: {{ image }}\n    bad: {% if %}\n",
    );
    let out = env
        .cmd(["create", "b1", "--type", "broken", "--image", "nginx"])
        .fails(1);
    assert!(out.stderr.contains("broken-template.yml line 4"), "{out}");
    write(
        &templates.join("leftover-template.yml"),
        "services:\n  x:\n    image: __APP_IMAGE__\n    x: __MYSTERY__\n",
    );
    let out = env
        .cmd(["create", "b2", "--type", "leftover", "--image", "nginx"])
        .fails(1);
    assert!(
        out.stderr
            .contains("leftover-template.yml line 4: __MYSTERY__ was left unreplaced"),
        "{out}"
    );
    write(&templates.join("badenv-template.yml"), "services: {}\n");
    write(&templates.join("badenv-env-template"), "A={{ nope(\n");
    let out = env.cmd(["create", "b3", "--type", "badenv"]).fails(1);
    assert!(out.stderr.contains("badenv-env-template line 1"), "{out}");
    assert!(env.base_entries().is_empty(), "{:?}", env.base_entries());
}

#[test]
fn an_unusable_base_dir_fails_cleanly() {
    let mut env = TestEnv::new();
    let file = env.path("not-a-dir");
    write(&file, "x");
    env.set("STACKWIZ_BASE_DIR", &file);
    let out = env
        .cmd(["create", "app", "--image", "nginx", "--port", "80"])
        .fails(1);
    assert!(out.stderr.starts_with("error: cannot "), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn a_read_only_base_dir_for_an_unprivileged_user_leaves_nothing_behind() {
    // Root ignores permission bits, so run the binary as `nobody` (setpriv, util-linux).
    if !nix_is_root() || which("setpriv").is_none() {
        panic!("this test runs as root with setpriv available (make test does)");
    }
    let env = TestEnv::new();
    let base = env.path("ro-base");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = env!("CARGO_BIN_EXE_stackwiz");
    let out = env
        .program(
            "setpriv",
            [
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                bin,
                "create",
                "app",
                "--image",
                "nginx",
                "--port",
                "80",
            ],
        )
        .env("STACKWIZ_BASE_DIR", &base)
        .env("STACKWIZ_DEFAULT_USER", "65534")
        .env("STACKWIZ_DEFAULT_GROUP", "65534")
        .output();
    if out.stderr.contains("Permission denied") && out.stderr.contains("stackwiz") && out.code != 1
    {
        panic!("the test binary is not executable by nobody:\n{out}");
    }
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("Permission denied"), "{out}");
    assert!(
        std::fs::read_dir(&base).unwrap().next().is_none(),
        "something was left behind"
    );
}

#[test]
fn an_unprivileged_user_may_not_give_files_away_and_learns_it_before_anything_is_written() {
    let env = TestEnv::new();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&env.base, std::fs::Permissions::from_mode(0o777)).unwrap();
    let bin = env!("CARGO_BIN_EXE_stackwiz");
    let out = env
        .program(
            "setpriv",
            [
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                bin,
                "create",
                "app",
                "--image",
                "nginx",
                "--port",
                "80",
            ],
        )
        .env("STACKWIZ_DEFAULT_USER", "root")
        .env("STACKWIZ_DEFAULT_GROUP", "root")
        .output();
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.stderr
            .contains("may not give stack files to user `root`"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("hint: run as root, or set STACKWIZ_DEFAULT_USER="),
        "{out}"
    );
    assert!(env.base_entries().is_empty());
}

fn nix_is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(program))
            .find(|f| f.exists())
    })
}

#[test]
fn modes_and_ownership_follow_the_rules() {
    let env = TestEnv::new();
    let out = env
        .cmd(["create", "pb", "--type", "pocketbase"])
        .env("STACKWIZ_DEFAULT_USER", "nobody")
        .env("STACKWIZ_DEFAULT_GROUP", "nogroup")
        .ok();
    assert!(
        out.stdout.contains("Created stack pb (pocketbase)"),
        "{out}"
    );
    let nobody = 65534;
    let stack = env.stack("pb");
    let mode =
        |p: &std::path::Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&stack), 0o750);
    assert_eq!(mode(&stack.join(".env")), 0o640);
    assert_eq!(mode(&stack.join("docker-compose.yml")), 0o644);
    for folder in ["pb_data", "pb_public", "pb_migrations", "pb_hooks"] {
        assert_eq!(mode(&stack.join(folder)), 0o750, "{folder}");
    }
    for entry in ["", ".env", "docker-compose.yml", "pb_data", "pb_hooks"] {
        let m = std::fs::symlink_metadata(stack.join(entry)).unwrap();
        assert_eq!((m.uid(), m.gid()), (nobody, nobody), "{entry}");
    }
    // The generated key: 32 alphanumeric characters, different for each stack, never printed.
    let key = |name: &str| {
        let text = std::fs::read_to_string(env.stack(name).join(".env")).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("PB_ENCRYPTION_KEY="))
            .unwrap()
            .to_string()
    };
    let k1 = key("pb");
    assert_eq!(k1.len(), 32);
    assert!(k1.bytes().all(|c| c.is_ascii_alphanumeric()));
    assert!(!out.says(&k1));
    env.cmd(["create", "pb2", "--type", "pocketbase"]).ok();
    assert_ne!(k1, key("pb2"));
}

#[test]
fn user_templates_work_in_both_placeholder_styles_and_override_embedded_ones() {
    require_compose();
    let mut env = TestEnv::new();
    let templates = env.path("tpl");
    env.set("STACKWIZ_TEMPLATES_DIR", &templates);
    // The design document's token style, as the original wizard's users have it.
    write(
        &templates.join("stack-template.yml"),
        "services:\n  __SERVICE_NAME__:\n    image: __APP_IMAGE__\n    container_name: __APP_NAME__\n    env_file: .env\n    labels:\n      - \"traefik.http.routers.__APP_NAME__.rule=Host(`__APP_DOMAIN__`)\"\n      - \"traefik.http.routers.__APP_NAME__.entrypoints=__TRAEFIK_ENTRYPOINT__\"\n      - \"traefik.http.routers.__APP_NAME__.tls.certresolver=__TRAEFIK_CERTRESOLVER__\"\n      - \"traefik.http.services.__APP_NAME__.loadbalancer.server.port=__APP_PORT__\"\nnetworks:\n  default:\n    name: __TRAEFIK_NETWORK__\n    external: true\n",
    );
    write(&templates.join("env-template"), "LEGACY=__APP_NAME__\n");
    // A new type in minijinja style.
    write(
        &templates.join("redis-template.yml"),
        "services:\n  {{ service_name }}:\n    image: {{ image | default('redis:7') }}\n    container_name: {{ name }}\n    labels:\n      - \"x.domain={{ domain }}\"\n    networks: [proxy]\nnetworks:\n  proxy:\n    name: {{ network }}\n    external: true\n",
    );
    env.set("STACKWIZ_DOCKER_NETWORK", "my_net");
    env.set("STACKWIZ_TRAEFIK_ENTRYPOINT", "web");
    env.set("STACKWIZ_TRAEFIK_CERTRESOLVER", "le");
    env.cmd(["create", "old", "--image", "nginx", "--port", "81"])
        .ok();
    let c = compose_config(&env, "old");
    let labels = c["services"]["old"]["labels"].to_string();
    assert!(
        labels.contains("Host(`old.localhost`)")
            && labels.contains("entrypoints\":\"web")
            && labels.contains("certresolver\":\"le")
            && labels.contains("port\":\"81"),
        "{labels}"
    );
    assert_eq!(c["networks"]["default"]["name"], "my_net");
    assert_eq!(c["services"]["old"]["environment"]["LEGACY"], "old");

    env.cmd(["create", "cache", "--type", "redis"]).ok();
    let c = compose_config(&env, "cache");
    assert_eq!(c["services"]["cache"]["image"], "redis:7");
    assert_eq!(c["networks"]["proxy"]["name"], "my_net");

    let out = env.cmd(["templates", "--json"]).ok().json();
    let list = out["templates"].as_array().unwrap();
    let find = |n: &str| {
        list.iter()
            .find(|t| t["name"] == n)
            .unwrap_or_else(|| panic!("{n} missing: {out}"))
    };
    assert_eq!(
        find("generic")["source"],
        templates.join("stack-template.yml").display().to_string()
    );
    assert_eq!(find("pocketbase")["source"], "embedded");
    assert_eq!(
        find("redis")["source"],
        templates.join("redis-template.yml").display().to_string()
    );
}

#[test]
fn every_embedded_template_passes_compose_config() {
    require_compose();
    let env = TestEnv::new();
    let cases: &[&[&str]] = &[
        &["generic", "--image", "nginx:alpine", "--port", "80"],
        &["pocketbase"],
        &[
            "standalone",
            "--image",
            "nginx:alpine",
            "--port",
            "80",
            "--host-port",
            "8080",
        ],
        &["cloudflared", "--env", "TUNNEL_TOKEN=eyJhIjoi"],
    ];
    for case in cases {
        let name = format!("t-{}", case[0]);
        let mut args = vec!["create", &name, "--type"];
        args.extend_from_slice(case);
        env.cmd(&args).ok();
        let file = env.stack(&name).join("docker-compose.yml");
        env.program(
            "docker",
            ["compose", "-f", file.to_str().unwrap(), "config", "-q"],
        )
        .ok();
    }
    let standalone = compose_config(&env, "t-standalone");
    let svc = &standalone["services"]["t-standalone"];
    assert_eq!(svc["ports"][0]["published"], "8080");
    assert_eq!(svc["ports"][0]["target"], 80);
    assert!(
        svc.get("labels").is_none(),
        "standalone has no Traefik labels: {svc}"
    );
    let pb = compose_config(&env, "t-pocketbase");
    assert_eq!(
        pb["services"]["pocketbase"]["healthcheck"]["test"][2],
        "--spider"
    );
    let tunnel = compose_config(&env, "t-cloudflared");
    assert_eq!(
        tunnel["services"]["cloudflared"]["environment"]["TUNNEL_TOKEN"],
        "eyJhIjoi"
    );
}

#[test]
fn no_name_without_a_terminal_is_a_usage_error() {
    let env = TestEnv::new();
    let out = env.cmd(["create", "--image", "nginx"]).fails(2);
    assert!(out.stderr.contains("NAME is required"), "{out}");
}

#[test]
fn init_writes_editable_templates_once_and_never_overwrites() {
    let mut env = TestEnv::new();
    env.set("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let base = env.path("fresh");
    env.set("STACKWIZ_BASE_DIR", &base);
    let out = env.cmd(["init"]).ok();
    assert!(out.stdout.contains("wrote"), "{out}");
    let tpl = base.join("_templates/stack-template.yml");
    assert!(tpl.exists());
    assert!(base.join("_scripts").is_dir());
    std::fs::write(&tpl, "mine\n").unwrap();
    let out = env.cmd(["init"]).ok();
    assert!(
        out.stdout.contains("already initialised; nothing changed"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&tpl).unwrap(), "mine\n");
    let mut names: Vec<String> = std::fs::read_dir(base.join("_templates"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cloudflared-env-template",
            "cloudflared-template.yml",
            "env-template",
            "pocketbase-env-template",
            "pocketbase-template.yml",
            "stack-template.yml",
            "standalone-env-template",
            "standalone-template.yml"
        ]
    );
}

#[test]
fn config_shows_each_value_and_its_source_but_never_the_token() {
    let mut env = TestEnv::new();
    let file = env.path("config/stackwiz/config.toml");
    write(&file, "default_domain = \"file.example\"\nnetwork = \"file_net\"\n[dns]\napi_token = \"tok-SECRET-123\"\n");
    env.set("STACKWIZ_DOCKER_NETWORK", "env_net");
    let out = env.cmd(["--network", "flag_net", "config", "--json"]).ok();
    assert!(!out.says("tok-SECRET-123"), "{out}");
    let v = out.json();
    let get = |k: &str| {
        v["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(get("network")["value"], "flag_net");
    assert_eq!(get("network")["source"], "flag --network");
    assert_eq!(get("default_domain")["value"], "file.example");
    assert_eq!(
        get("default_domain")["source"],
        format!("file {}", file.display())
    );
    assert_eq!(get("traefik_entrypoint")["source"], "default");
    assert_eq!(
        get("dns.api_token")["value"],
        format!("set (from file {} [dns] api_token)", file.display())
    );
    let human = env.cmd(["config"]).ok();
    assert!(!human.says("tok-SECRET-123"), "{human}");
    assert!(
        human
            .stdout
            .contains("network               env_net  (env STACKWIZ_DOCKER_NETWORK)"),
        "{human}"
    );
}

#[test]
fn a_malformed_config_file_names_file_line_and_key() {
    let mut env = TestEnv::new();
    let file = env.path("bad.toml");
    write(&file, "network = \"ok\"\nnetwrok = \"typo\"\n");
    env.set("STACKWIZ_CONFIG", &file);
    let out = env.cmd(["list"]).fails(2);
    assert!(
        out.stderr.starts_with(&format!(
            "error: config file {} line 2 key `netwrok`: unknown key",
            file.display()
        )),
        "{out}"
    );
    write(&file, "network = [unclosed\n");
    let out = env.cmd(["config"]).fails(2);
    assert!(out.stderr.contains("line 1"), "{out}");
}

#[test]
fn completions_and_the_committed_man_page_are_current() {
    let env = TestEnv::new();
    let out = env.cmd(["completions", "bash"]).ok();
    assert!(out.stdout.contains("_stackwiz()"), "{out}");
    env.cmd(["completions", "zsh"]).ok();
    env.cmd(["completions", "fish"]).ok();
    let man = env.cmd(["man"]).ok().stdout;
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/stackwiz.1"))
        .unwrap_or_default();
    assert!(
        man == committed,
        "man/stackwiz.1 is stale: run `make man` and commit it"
    );
}

#[test]
fn every_command_has_help_with_an_example() {
    let env = TestEnv::new();
    let commands: &[&[&str]] = &[
        &["create"],
        &["templates"],
        &["init"],
        &["config"],
        &["list"],
        &["status"],
        &["start"],
        &["stop"],
        &["restart"],
        &["down"],
        &["update"],
        &["logs"],
        &["remove"],
        &["doctor"],
        &["completions"],
        &["mcp"],
        &["ip"],
        &["dns", "list"],
        &["dns", "create"],
        &["dns", "update"],
        &["dns", "delete"],
        &["dns", "sync"],
    ];
    for cmd in commands {
        let out = env.cmd(cmd.iter().chain(&["--help"])).ok();
        assert!(
            out.stdout.contains("Example"),
            "{cmd:?} --help has no example:\n{out}"
        );
    }
}

#[test]
fn without_a_name_on_a_terminal_the_wizard_asks_for_each_value() {
    // `script` (util-linux) gives the binary a pseudo-terminal; answers come through it.
    let env = TestEnv::new();
    let bin = env!("CARGO_BIN_EXE_stackwiz");
    let out = env
        .program("script", ["-qec", &format!("{bin} create"), "/dev/null"])
        .stdin("Bad_Name\nwiz\nnope\nstandalone\nnginx:alpine\n8080\n9090\nwiz.example.com\nn\n")
        .ok();
    assert!(out.stdout.contains("invalid name"), "{out}");
    assert!(out.stdout.contains("unknown type `nope`"), "{out}");
    assert!(
        out.stdout.contains("Created stack wiz (standalone)"),
        "{out}"
    );
    let compose = std::fs::read_to_string(env.stack("wiz").join("docker-compose.yml")).unwrap();
    assert!(compose.contains("\"9090:8080\""), "{compose}");
    assert!(compose.contains("domain=wiz.example.com"), "{compose}");
}

#[test]
fn a_build_folder_left_by_a_killed_create_is_swept_by_the_next_one() {
    let env = TestEnv::new();
    // pid 999999999 does not exist; our own pid does, so that folder stays.
    let dead = env.base.join(".stackwiz-new-app-999999999-123");
    let live = env
        .base
        .join(format!(".stackwiz-new-app-{}-123", std::process::id()));
    let recent_dead = env.base.join(".stackwiz-new-app-999999998-123");
    for dir in [&dead, &live, &recent_dead] {
        write(&dir.join("docker-compose.yml"), "x");
    }
    // Two hours old (touch -d), except `recent_dead`.
    for dir in [&dead, &live] {
        env.program("touch", ["-d", "2 hours ago", dir.to_str().unwrap()])
            .ok();
    }
    env.cmd(["create", "other", "--image", "nginx", "--port", "80"])
        .ok();
    assert!(!dead.exists(), "abandoned build folder was kept");
    assert!(live.exists(), "a live process's build folder was removed");
    assert!(recent_dead.exists(), "a recent build folder was removed");
}

#[test]
fn an_ipv6_registry_image_is_quoted_so_compose_reads_it_back() {
    require_compose();
    let env = TestEnv::new();
    env.cmd([
        "create",
        "v6",
        "--image",
        "[::1]:5000/app:1",
        "--port",
        "80",
    ])
    .ok();
    assert_eq!(
        compose_config(&env, "v6")["services"]["v6"]["image"],
        "[::1]:5000/app:1"
    );
}

#[test]
fn settings_that_reach_the_yaml_are_held_to_their_name_rules() {
    let mut env = TestEnv::new();
    for (var, value, key) in [
        (
            "STACKWIZ_DOCKER_NETWORK",
            "x\n    driver_opts: {a: b}",
            "network (from env STACKWIZ_DOCKER_NETWORK)",
        ),
        (
            "STACKWIZ_TRAEFIK_ENTRYPOINT",
            "web\"",
            "traefik_entrypoint (from env STACKWIZ_TRAEFIK_ENTRYPOINT)",
        ),
        (
            "STACKWIZ_TRAEFIK_CERTRESOLVER",
            "le resolver",
            "traefik_certresolver (from env STACKWIZ_TRAEFIK_CERTRESOLVER)",
        ),
    ] {
        env.set(var, value);
        let out = env
            .cmd(["create", "app", "--image", "nginx", "--port", "80"])
            .fails(2);
        assert!(
            out.stderr.starts_with(&format!("error: invalid {key}: ")),
            "{out}"
        );
        env.unset(var);
    }
    let out = env.cmd(["--network", "bad net", "list"]).fails(2);
    assert!(
        out.stderr.contains("invalid network (from flag --network)"),
        "{out}"
    );
    assert!(env.base_entries().is_empty());
}

#[test]
fn an_unusable_token_file_only_matters_to_dns() {
    let mut env = TestEnv::new();
    env.set("STACKWIZ_CF_API_TOKEN_FILE", env.path("missing-token"));
    env.cmd(["templates"]).ok();
    env.cmd(["create", "app", "--image", "nginx", "--port", "80"])
        .ok();
    let cfg = env.cmd(["config"]).ok();
    assert!(
        cfg.stdout
            .contains("dns.api_token         unusable: cannot read token file"),
        "{cfg}"
    );
    let out = env.cmd(["dns", "list"]).fails(1);
    assert!(out.stderr.contains("cannot read token file"), "{out}");
}

#[test]
fn a_dry_run_of_an_existing_stack_says_it_exists() {
    let env = TestEnv::new();
    env.cmd(["create", "m1", "--image", "nginx", "--port", "80"])
        .ok();
    let out = env
        .cmd([
            "create",
            "m1",
            "--image",
            "nginx",
            "--port",
            "80",
            "--dry-run",
        ])
        .fails(1);
    assert!(out.stderr.contains("stack m1 already exists"), "{out}");
}

#[test]
fn dns_needs_a_real_domain_and_a_token_before_anything_is_written() {
    let mut env = TestEnv::new();
    let out = env
        .cmd(["create", "d1", "--image", "nginx", "--port", "80", "--dns"])
        .output();
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.stderr.contains("d1.localhost is a special-use name"),
        "{out}"
    );
    assert!(
        out.stderr.contains("Cloudflare API token not configured"),
        "{out}"
    );
    env.set("STACKWIZ_CF_API_TOKEN", "tok-abc-123");
    let out = env
        .cmd(["create", "d1", "--image", "nginx", "--port", "80", "--dns"])
        .fails(2);
    assert!(
        out.stderr
            .contains("a real hostname as its domain (e.g. d1.example.com)"),
        "{out}"
    );
    assert!(!out.says("tok-abc-123"));
    assert!(env.base_entries().is_empty());
}

#[test]
fn options_a_type_does_not_use_are_refused() {
    let env = TestEnv::new();
    let out = env
        .cmd(["create", "pb", "--type", "pocketbase", "--port", "9000"])
        .fails(2);
    assert!(
        out.stderr
            .contains("type `pocketbase` does not take a port"),
        "{out}"
    );
    let out = env
        .cmd([
            "create",
            "g",
            "--image",
            "nginx",
            "--port",
            "80",
            "--host-port",
            "8080",
        ])
        .fails(2);
    assert!(
        out.stderr.contains("type `generic` publishes no host port"),
        "{out}"
    );
    let out = env
        .cmd([
            "create",
            "t",
            "--type",
            "cloudflared",
            "--env",
            "TUNNEL_TOKEN=x",
            "--port",
            "1",
        ])
        .fails(2);
    assert!(out.stderr.contains("does not take a port"), "{out}");
    assert!(env.base_entries().is_empty());
}

#[test]
fn an_env_argument_without_a_key_is_refused_without_echoing_it() {
    let env = TestEnv::new();
    let out = env
        .cmd([
            "create",
            "y",
            "--image",
            "nginx",
            "--port",
            "80",
            "--env",
            "A=1",
            "--env",
            "eyJhIjoiSECRETVALUE",
        ])
        .fails(2);
    assert!(out.stderr.contains("--env argument 2 has no `=`"), "{out}");
    assert!(!out.says("SECRETVALUE"), "{out}");
}

#[test]
fn env_files_are_read_the_way_compose_reads_them() {
    require_compose();
    let env = TestEnv::new();
    let file = env.path("vars.env");
    write(
        &file,
        "PLAIN=value # a comment\nSINGLE='keep $HOME # and this'\nDOUBLE=\"say \\\"hi\\\" \\\\ \\$5\"\nHASH=a#b\n\
         TAB=\"a\\tb\"\nSQ_ESCAPE='abc\\' #'\nNEWLINE=\"1\\n2\"\r\nexport MULTI='x\ny'\nDOLLARS=$$5\n",
    );
    env.cmd([
        "create",
        "ef",
        "--image",
        "nginx",
        "--port",
        "80",
        "--env-file",
        file.to_str().unwrap(),
    ])
    .ok();
    let e = &compose_config(&env, "ef")["services"]["ef"]["environment"];
    let get = |k: &str| e[k].as_str().map(|v| v.replace("$$", "$"));
    assert_eq!(get("PLAIN").as_deref(), Some("value"));
    assert_eq!(get("SINGLE").as_deref(), Some("keep $HOME # and this"));
    assert_eq!(get("DOUBLE").as_deref(), Some("say \"hi\" \\ $5"));
    assert_eq!(get("HASH").as_deref(), Some("a#b"));
    assert_eq!(get("TAB").as_deref(), Some("a\tb"));
    assert_eq!(get("SQ_ESCAPE").as_deref(), Some("abc' #"));
    assert_eq!(get("NEWLINE").as_deref(), Some("1\n2"));
    assert_eq!(get("MULTI").as_deref(), Some("x\ny"));
    assert_eq!(get("DOLLARS").as_deref(), Some("$5"));
    for (line, why) in [
        ("A=$HOME\n", "environment Compose runs in"),
        ("A=\"${X}\"\n", "environment Compose runs in"),
        ("A='open\n", "unterminated quoted value"),
        // Compose reads `y` as a name taken from its environment.
        (
            "A=\"x\" y\n",
            "the value of y would come from the environment",
        ),
        ("A=${\n", "`${`"),
        ("A B=1\n", "cannot contain a space"),
    ] {
        write(&file, line);
        let out = env
            .cmd([
                "create",
                "ef2",
                "--image",
                "nginx",
                "--port",
                "80",
                "--env-file",
                file.to_str().unwrap(),
            ])
            .fails(2);
        assert!(
            out.stderr.contains("line 1") && out.stderr.contains(why),
            "{line:?}:\n{out}"
        );
    }
}

#[test]
fn a_json_error_on_a_closed_pipe_is_no_panic() {
    let env = TestEnv::new();
    let mut run = env.cmd(["--json", "create", "x", "--port", "0"]);
    run.cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = run.cmd.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_undefined_template_variable_is_named() {
    let mut env = TestEnv::new();
    let templates = env.path("tpl");
    env.set("STACKWIZ_TEMPLATES_DIR", &templates);
    write(
        &templates.join("typo-template.yml"),
        "services:\n  x:\n    image: {{ imag }}\n",
    );
    let out = env
        .cmd(["create", "t1", "--type", "typo", "--image", "nginx"])
        .fails(1);
    assert!(
        out.stderr
            .contains("typo-template.yml line 3: `imag` is not a template variable (known: name,"),
        "{out}"
    );
    write(
        &templates.join("needs-template.yml"),
        "services:\n  x:\n    image: nginx\n    ports: [\"{{ host_port }}:80\"]\n",
    );
    let out = env.cmd(["create", "t2", "--type", "needs"]).fails(1);
    assert!(
        out.stderr
            .contains("needs-template.yml line 4: uses host_port, which was not given"),
        "{out}"
    );
    assert!(env.base_entries().is_empty());
}

#[test]
fn a_user_template_that_renders_invalid_compose_is_refused_before_anything_is_written() {
    require_compose();
    let mut env = TestEnv::new();
    let templates = env.path("tpl");
    env.set("STACKWIZ_TEMPLATES_DIR", &templates);
    write(&templates.join("bad-template.yml"), "services: [oops\n");
    let out = env.cmd(["create", "b1", "--type", "bad"]).fails(1);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(
            &format!(
                "error: template {} : Compose rejects",
                templates.join("bad-template.yml").display()
            )
            .replace(" :", ":")
        ),
        "{out}"
    );
    let out = env
        .cmd(["create", "b2", "--type", "bad", "--dry-run"])
        .fails(1);
    assert!(out.stderr.contains("Compose rejects"), "{out}");
    write(
        &templates.join("nosvc-template.yml"),
        "services:\n  x:\n    imagee: nginx\n",
    );
    let out = env.cmd(["create", "b3", "--type", "nosvc"]).fails(1);
    assert!(
        out.stderr.contains("Compose rejects") && out.stderr.contains("imagee"),
        "{out}"
    );
    assert!(env.base_entries().is_empty(), "{:?}", env.base_entries());
}

#[test]
fn compose_errors_never_show_env_values() {
    require_compose();
    let mut env = TestEnv::new();
    let templates = env.path("tpl");
    env.set("STACKWIZ_TEMPLATES_DIR", &templates);
    write(
        &templates.join("leak-template.yml"),
        "services:\n  x:\n    image: nginx\n    ports: [\"${PORTX}:80\"]\n",
    );
    for extra in [vec![], vec!["--dry-run"]] {
        let mut args = vec![
            "create",
            "lk",
            "--type",
            "leak",
            "--env",
            "PORTX=notaport_SECRET9",
        ];
        args.extend(extra);
        let out = env.cmd(args).fails(1);
        assert!(out.stderr.contains("Compose rejects"), "{out}");
        assert!(!out.says("SECRET9"), "{out}");
    }
    assert!(env.base_entries().is_empty(), "{:?}", env.base_entries());
}

#[test]
fn a_dry_run_names_the_create_it_previewed() {
    let env = TestEnv::new();
    let out = env
        .cmd([
            "create",
            "web",
            "--type",
            "standalone",
            "--image",
            "nginx",
            "--port",
            "80",
            "--host-port",
            "8080",
            "--env",
            "K=secret-v",
            "--dry-run",
            "--json",
        ])
        .ok();
    assert!(!out.says("secret-v"), "{out}");
    // The command line's words only: a tool call is the MCP server's to show.
    assert_eq!(
        out.json()["next"],
        serde_json::json!({"command": "stackwiz create web --type standalone --image nginx --port 80 --host-port 8080 --env K=… (with the same --env values again)"})
    );
}

#[test]
fn remove_without_a_terminal_names_the_same_remove_confirmed() {
    let env = TestEnv::new();
    env.cmd(["create", "web", "--image", "nginx", "--port", "80"])
        .ok();
    let out = env.cmd(["remove", "web", "--purge", "--volumes"]).fails(2);
    // The rerun keeps what was asked (it used to drop --purge and --volumes).
    assert!(
        out.stderr
            .contains("hint: no terminal to ask on; rerun with --yes: stackwiz remove web --purge --volumes --yes"),
        "{out}"
    );
    assert!(env.stack("web").is_dir());
}
