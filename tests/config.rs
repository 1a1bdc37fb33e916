//! How settings are resolved, checked and reported: `stackwiz config`, the config file's
//! errors, and the settings `mcp --print-config` hands on to the server it configures.

use crate::support;

use serde_json::{json, Value};
use support::{write, TestEnv};

/// `stackwiz --json config` as key → value.
fn settings(out: &support::Out) -> Value {
    out.json()["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["key"].as_str().unwrap().to_string(), e["value"].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The `error:` and `hint:` lines of a failed run, each checked to be one whole line.
fn error_lines(out: &support::Out) -> Vec<&str> {
    let lines: Vec<&str> = out.stderr.lines().collect();
    for line in &lines {
        assert!(
            line.starts_with("error: ") || line.starts_with("hint: "),
            "a stray line {line:?} in:\n{out}"
        );
    }
    lines
}

// ---------------------------------------------------------------------------------------
// mcp --print-config

#[test]
fn print_config_hands_on_flags_docker_settings_and_the_config_file_but_no_token() {
    let mut env = TestEnv::new();
    // Found through XDG_CONFIG_HOME, which an MCP client will not set.
    let file = env.path("config/stackwiz/config.toml");
    write(&file, "traefik_entrypoint = \"web\"\n");
    let token_file = env.path("token");
    write(&token_file, "tok-in-file\n");
    env.set("STACKWIZ_CF_API_TOKEN", "tok-env")
        .set("CF_DNS_API_TOKEN", "tok-dns")
        .set("CF_API_TOKEN", "tok-cf")
        .set("STACKWIZ_CF_API_TOKEN_FILE", &token_file)
        .set("STACKWIZ_TEST_FOO", "not a setting")
        .set("DOCKER_HOST", "unix:///run/test-docker.sock")
        .set("DOCKER_CONFIG", "/etc/test-docker-config")
        .unset("STACKWIZ_CF_API_URL")
        .unset("STACKWIZ_IP_SERVICES");
    let base = env.path("flag-base");
    let templates = env.path("flag-templates");
    let flags = [
        "--base-dir",
        base.to_str().unwrap(),
        "--templates-dir",
        templates.to_str().unwrap(),
        "--network",
        "flag_net",
        "--default-domain",
        "flag.example",
        "--context",
        "flag-context",
    ];
    for client in ["claude-desktop", "claude-code"] {
        let out = env
            .cmd(
                flags
                    .iter()
                    .copied()
                    .chain(["mcp", "--print-config", client]),
            )
            .ok();
        assert!(!out.says("tok-"), "{out}");
        assert_eq!(
            out.json()["mcpServers"]["stackwiz"]["env"],
            json!({
                "STACKWIZ_BASE_DIR": base,
                "STACKWIZ_TEMPLATES_DIR": templates,
                "STACKWIZ_DOCKER_NETWORK": "flag_net",
                "STACKWIZ_DEFAULT_DOMAIN": "flag.example",
                "DOCKER_CONTEXT": "flag-context",
                "STACKWIZ_CONFIG": file,
                "STACKWIZ_CF_API_TOKEN_FILE": token_file,
                "DOCKER_HOST": "unix:///run/test-docker.sock",
                "DOCKER_CONFIG": "/etc/test-docker-config",
            }),
            "{client}"
        );
    }
}

#[test]
fn the_printed_environment_gives_the_server_the_same_settings() {
    let mut env = TestEnv::new();
    write(
        &env.path("config/stackwiz/config.toml"),
        "traefik_entrypoint = \"web\"\n[dns]\nzone_id = \"z1\"\n",
    );
    env.set("DOCKER_CONTEXT", "env-context")
        .set("STACKWIZ_READ_ONLY", "1")
        .set("STACKWIZ_TEST_FOO", "x");
    let flags = ["--network", "flag_net", "--default-domain", "flag.example"];
    let out = env
        .cmd(
            flags
                .iter()
                .copied()
                .chain(["mcp", "--print-config", "claude-code"]),
        )
        .ok();
    let server = out.json()["mcpServers"]["stackwiz"].clone();
    assert_eq!(server["args"], json!(["mcp", "--read-only"]));
    assert_eq!(server["env"]["DOCKER_CONTEXT"], "env-context");
    assert!(server["env"].get("STACKWIZ_TEST_FOO").is_none(), "{server}");
    let here = settings(
        &env.cmd(flags.iter().copied().chain(["--json", "config"]))
            .ok(),
    );

    // The client starts the server with little more than HOME and PATH, and what we printed.
    let mut client = TestEnv::new();
    for var in [
        "XDG_CONFIG_HOME",
        "STACKWIZ_BASE_DIR",
        "STACKWIZ_CF_API_URL",
        "STACKWIZ_IP_SERVICES",
        "DOCKER_HOST",
        "DOCKER_CONFIG",
    ] {
        client.unset(var);
    }
    for (var, value) in server["env"].as_object().unwrap() {
        client.set(var, value.as_str().unwrap());
    }
    let mut there = settings(&client.cmd(["--json", "config"]).ok());
    // Read-only mode travels in the server's args (checked above), not its environment.
    assert_eq!(here["read_only"], "1");
    there["read_only"] = here["read_only"].clone();
    assert_eq!(there, here);
}

// ---------------------------------------------------------------------------------------
// config file errors

#[test]
fn a_config_syntax_error_is_one_line() {
    let env = TestEnv::new();
    let file = env.path("config/stackwiz/config.toml");
    write(&file, "base_dir = \n");
    let out = env.cmd(["config"]).fails(2);
    let lines = error_lines(&out);
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&format!(
            "error: config file {} line 1: string values must be quoted",
            file.display()
        )),
        "{out}"
    );
}

#[test]
fn a_number_is_no_folder() {
    let env = TestEnv::new();
    let file = env.path("config/stackwiz/config.toml");
    write(&file, "network = \"n\"\nbase_dir = 5\n");
    let out = env
        .cmd(["create", "app", "--image", "nginx", "--port", "80"])
        .env("STACKWIZ_BASE_DIR", "")
        .fails(2);
    assert_eq!(
        error_lines(&out)[0],
        format!(
            "error: config file {} line 2 key `base_dir`: must be a string (in quotes), not integer",
            file.display()
        )
    );
    assert!(!env.path("5").exists());
}

#[test]
fn relative_folders_are_refused_naming_their_source() {
    let mut env = TestEnv::new();
    env.set("STACKWIZ_BASE_DIR", "stacks");
    let out = env.cmd(["list"]).fails(2);
    assert_eq!(
        error_lines(&out),
        ["error: invalid base_dir (from env STACKWIZ_BASE_DIR): `stacks` must be an absolute path (starting with /)"]
    );
    env.set("STACKWIZ_BASE_DIR", env.base.clone());
    let out = env.cmd(["--templates-dir", "tpl", "templates"]).fails(2);
    assert!(
        out.stderr
            .contains("invalid templates_dir (from flag --templates-dir): `tpl`"),
        "{out}"
    );
    let file = env.path("config/stackwiz/config.toml");
    write(&file, "scripts_dir = \"_scripts\"\n");
    let out = env.cmd(["config"]).fails(2);
    assert!(
        out.stderr.contains(&format!(
            "invalid scripts_dir (from file {}): `_scripts`",
            file.display()
        )),
        "{out}"
    );
}

#[test]
fn a_bad_default_domain_is_refused_before_any_command_naming_its_source() {
    let env = TestEnv::new();
    let file = env.path("config/stackwiz/config.toml");
    write(&file, "default_domain = \"Bad\"\n");
    let out = env.cmd(["list"]).fails(2);
    assert!(
        out.stderr.starts_with(&format!(
            "error: invalid default_domain (from file {}): `Bad` must be a lowercase hostname",
            file.display()
        )),
        "{out}"
    );
    let out = env
        .cmd([
            "--default-domain",
            "x_y",
            "create",
            "app",
            "--image",
            "nginx",
            "--port",
            "80",
        ])
        .fails(2);
    assert!(
        out.stderr
            .starts_with("error: invalid default_domain (from flag --default-domain): `x_y`"),
        "{out}"
    );
    assert!(env.base_entries().is_empty());
}

#[test]
fn a_bad_public_ip_from_the_file_is_blamed_on_the_file() {
    let env = TestEnv::new();
    let file = env.path("config/stackwiz/config.toml");
    write(&file, "[dns]\npublic_ip = \"nonsense\"\n");
    let out = env.cmd(["ip"]).fails(2);
    assert_eq!(
        error_lines(&out)[0],
        format!(
            "error: invalid dns.public_ip (from file {}): `nonsense` is not an IP address",
            file.display()
        )
    );
    let out = env
        .cmd(["ip"])
        .env("STACKWIZ_PUBLIC_IP", "nonsense")
        .fails(2);
    assert!(
        out.stderr
            .starts_with("error: invalid STACKWIZ_PUBLIC_IP: `nonsense` is not an IP address"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------
// the token

#[test]
fn an_unreadable_token_file_names_its_setting_and_a_real_hint() {
    let mut env = TestEnv::new();
    let missing = env.path("no-such-token");
    env.set("STACKWIZ_CF_API_TOKEN_FILE", &missing);
    let out = env.cmd(["dns", "list"]).fails(1);
    let lines = error_lines(&out);
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&format!(
            "error: cannot read token file {} (from env STACKWIZ_CF_API_TOKEN_FILE): ",
            missing.display()
        )),
        "{out}"
    );
    assert_eq!(
        lines[1],
        "hint: check the path, or unset STACKWIZ_CF_API_TOKEN_FILE"
    );

    let folder = env.path("home");
    env.set("STACKWIZ_CF_API_TOKEN_FILE", &folder);
    let out = env.cmd(["dns", "list"]).fails(1);
    assert_eq!(
        error_lines(&out)[1],
        "hint: point it at a readable file, or unset STACKWIZ_CF_API_TOKEN_FILE"
    );
}

#[test]
fn no_token_names_the_real_traefik_env() {
    let env = TestEnv::new();
    let out = env.cmd(["dns", "list"]).fails(1);
    let lines = error_lines(&out);
    assert_eq!(lines[0], "error: Cloudflare API token not configured");
    assert!(
        lines[1].ends_with(&format!(
            "or a CF_DNS_API_TOKEN= line in {}",
            env.base.join("traefik/.env").display()
        )),
        "{out}"
    );
}

#[test]
fn the_traefik_env_token_is_read_as_compose_reads_it() {
    let env = TestEnv::new();
    let traefik_env = env.base.join("traefik/.env");
    let token_of = |text: &str| {
        write(&traefik_env, text);
        let out = env.cmd(["--json", "config"]).ok();
        assert!(!out.says("tok-SECRET"), "{out}");
        settings(&out)["dns.api_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Compose hands Traefik `tok-SECRET`: the comment is no part of it.
    let set = format!("set (from {} CF_DNS_API_TOKEN)", traefik_env.display());
    assert_eq!(token_of("CF_DNS_API_TOKEN=tok-SECRET # comment\n"), set);
    assert_eq!(
        token_of("export CF_DNS_API_TOKEN='tok-SECRET' # c\r\n"),
        set
    );
    let unusable = token_of("CF_DNS_API_TOKEN=${MY_TOKEN:-tok-SECRET}\n");
    assert!(
        unusable.starts_with("unusable: ")
            && unusable.contains("line 1: CF_DNS_API_TOKEN takes its value from the environment"),
        "{unusable}"
    );
    let unusable = token_of("A=\"open\nCF_DNS_API_TOKEN=tok-SECRET\n");
    assert!(
        unusable.contains("line 1: unterminated quoted value"),
        "{unusable}"
    );
}

// ---------------------------------------------------------------------------------------
// the HTTP time scale, a testing aid

#[test]
fn the_http_time_scale_is_listed_only_when_set_and_has_a_floor() {
    let mut env = TestEnv::new();
    let out = env.cmd(["--json", "config"]).ok();
    assert!(!out.stdout.contains("time_scale"), "{out}");
    env.set("STACKWIZ_HTTP_TIME_SCALE", "0.5");
    let out = env.cmd(["config"]).ok();
    assert!(
        out.stdout.lines().any(|l| l.starts_with("http_time_scale ")
            && l.ends_with("  0.5  (env STACKWIZ_HTTP_TIME_SCALE)")),
        "{out}"
    );
    env.set("STACKWIZ_HTTP_TIME_SCALE", "0.001");
    let out = env.cmd(["config"]).fails(2);
    assert!(
        out.stderr
            .contains("invalid STACKWIZ_HTTP_TIME_SCALE: `0.001` must be a number from 0.01 to 1"),
        "{out}"
    );
}
