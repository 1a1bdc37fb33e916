//! Hostile input, table by table: command-line arguments, MCP arguments and resource URIs,
//! config files, env files and user templates, as an attacker, a confused agent or a typo
//! would give them. Every case runs the real binary in a fresh lab (tests/support/hostile.rs)
//! and must end in the expected way (exit 2 for usage and validation, 1 for operational
//! failures, an MCP tool error or JSON-RPC error) with a clear one-line error, within the
//! timeout, without printing a planted secret, without a panic, and without changing a file
//! anywhere in the temp dir (the base dir, the planted stack `keep`, the config and home
//! folders, a folder outside the base dir) except the one stack a successful create makes.
//!
//! `KNOWN_BUGS` holds cases that still misbehave because of bugs owned elsewhere; the test
//! asserts that they still do, so a fix shows up as a failure asking to move the case into
//! its table.

use crate::support;

use crate::hostile_lab;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use hostile_lab::{cli, tool, Case, Expect, Lab, ENV_SECRET, KEEP, SECRET};
use serde_json::json;
use support::write;

use Expect::{
    Answered, Clap, Creates, Fails, FailsKeeping, Invalid, RpcError, Succeeds, ToolError,
};

/// `create NAME --image nginx --port 80 EXTRA...`
fn create(name: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["create", name, "--image", "nginx", "--port", "80"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// `--json create NAME --image nginx --port 80 EXTRA...`: docker's output captured.
fn json_create(name: &str, extra: &[&str]) -> Vec<String> {
    let mut v = vec!["--json".to_string()];
    v.extend(create(name, extra));
    v
}

/// `create app --image nginx --port 80 --domain DOMAIN`
fn with_domain(domain: &str) -> Vec<String> {
    create("app", &[&format!("--domain={domain}")])
}

fn read(lab: &Lab, rel: &str) -> String {
    std::fs::read_to_string(lab.base().join(rel)).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// command-line arguments

#[test]
#[rustfmt::skip]
fn hostile_stack_names_are_refused_before_anything_is_written() {
    let name_rule = "invalid name";
    let reserved = "is reserved";
    let mut cases = vec![
        cli("name dotdot", &create("..", &[]), Invalid(name_rule)),
        cli("name dot", &create(".", &[]), Invalid(name_rule)),
        cli("name parent", &create("../x", &[]), Invalid(name_rule)),
        cli("name deep parent", &create("../../outside", &[]), Invalid(name_rule)),
        cli("name slash", &create("a/b", &[]), Invalid(name_rule)),
        cli("name absolute", &create("/etc", &[]), Invalid(name_rule)),
        cli("name trailing slash", &create("app/", &[]), Invalid(name_rule)),
        cli("name through keep", &create("keep/../x", &[]), Invalid(name_rule)),
        cli("name backslash", &create("a\\b", &[]), Invalid(name_rule)),
        cli("name space", &create("a b", &[]), Invalid(name_rule)),
        cli("name tab", &create("a\tb", &[]), Invalid(name_rule)),
        cli("name newline", &create("app\n", &[]), Invalid(name_rule)),
        cli("name ansi escape", &create("a\u{1b}[31mb", &[]), Invalid(name_rule)),
        cli("name bell and backspace", &create("a\u{7}\u{8}b", &[]), Invalid(name_rule)),
        cli("name percent nul", &create("a%00b", &[]), Invalid(name_rule)),
        cli("name nul symbol", &create("a\u{2400}b", &[]), Invalid(name_rule)),
        cli("name delete char", &create("a\u{7f}", &[]), Invalid(name_rule)),
        cli("name cyrillic a", &create("\u{430}pp", &[]), Invalid(name_rule)),
        cli("name fullwidth", &create("\u{ff41}pp", &[]), Invalid(name_rule)),
        cli("name zero width space", &create("app\u{200b}", &[]), Invalid(name_rule)),
        cli("name combining accent", &create("app\u{301}", &[]), Invalid(name_rule)),
        cli("name right-to-left override", &create("\u{202e}ppa", &[]), Invalid(name_rule)),
        cli("name leading hyphen after --", &["create", "--image", "nginx", "--port", "80", "--", "-app"], Invalid(name_rule)),
        cli("name leading hyphen", &["create", "-app", "--image", "nginx"], Clap),
        cli("name 300 chars", &create(&"a".repeat(300), &[]), Invalid(name_rule)),
        cli("name 64 chars", &create(&"a".repeat(64), &[]), Invalid(name_rule)),
        cli("name 100k chars", &create(&"a".repeat(100_000), &[]), Invalid(name_rule)),
        cli("name uppercase", &create("APP", &[]), Invalid(name_rule)),
        cli("name trailing hyphen", &create("app-", &[]), Invalid(name_rule)),
        cli("name underscore", &create("app_1", &[]), Invalid(name_rule)),
        cli("name dotted", &create("app.example", &[]), Invalid(name_rule)),
        cli("name empty", &create("", &[]), Invalid(name_rule)),
        cli("name tilde", &create("~root", &[]), Invalid(name_rule)),
        cli("name command substitution", &create("$(id)", &[]), Invalid(name_rule)),
        cli("name backticks", &create("`id`", &[]), Invalid(name_rule)),
        cli("name glob", &create("*", &[]), Invalid(name_rule)),
        cli("name shell chain", &create("app;rm -rf /", &[]), Invalid(name_rule)),
        cli("name yaml injection", &create("app\nprivileged: true", &[]), Invalid(name_rule)),
        cli("name trash", &create(".trash", &[]), Invalid(reserved)),
        cli("name traefik", &create("traefik", &[]), Invalid(reserved)),
        cli("name templates", &create("_templates", &[]), Invalid(reserved)),
        cli("name scripts", &create("_scripts", &[]), Invalid(reserved)),
        cli("name existing stack", &create(KEEP, &[]), Fails("already exists")),
        cli("name taken by a symlink to outside", &create("link", &[]), Fails("already exists"))
            .setup(|lab| {
                std::os::unix::fs::symlink(&lab.outside, lab.base().join("link")).unwrap();
            }),
        cli("name taken by a dangling symlink", &create("dangling", &[]), Fails("already exists"))
            .setup(|lab| {
                std::os::unix::fs::symlink("/nonexistent/x", lab.base().join("dangling")).unwrap();
            }),
    ];
    // The same refusals from every command that takes a stack name.
    for cmd in [
        "status", "start", "stop", "restart", "down", "update", "logs",
    ] {
        cases.push(cli(
            &format!("{cmd} parent"),
            &[cmd, "../keep"],
            Invalid(name_rule),
        ));
    }
    cases.extend([
        cli("remove parent", &["remove", "../keep", "--yes"], Invalid(name_rule)),
        cli("remove trash purge", &["remove", ".trash", "--yes", "--purge"], Invalid(reserved)),
        cli("remove traefik purge", &["remove", "traefik", "--yes", "--purge"], Invalid(reserved)),
        cli("remove absolute", &["remove", "/etc", "--yes", "--purge"], Invalid(name_rule)),
        cli("remove trailing slash", &["remove", "keep/", "--yes", "--purge"], Invalid(name_rule)),
        cli("remove uppercase", &["remove", "KEEP", "--yes", "--purge"], Invalid(name_rule)),
        cli("remove without yes", &["remove", KEEP], Invalid("needs confirmation")),
        cli("status missing stack", &["status", "ghost"], Fails("no stack named ghost")),
        cli("status symlinked stack", &["status", "link"], Fails("is a symlink"))
            .setup(|lab| {
                std::os::unix::fs::symlink(lab.base().join(KEEP), lab.base().join("link")).unwrap();
            }),
        cli("logs negative tail", &["logs", KEEP, "--tail", "-5"], Clap),
        cli("logs huge tail", &["logs", KEEP, "--tail", "99999999999"], Clap),
        cli("logs follow json", &["--json", "logs", KEEP, "--follow"], Invalid("--follow")),
        cli("unknown subcommand", &["frobnicate"], Clap),
        cli("name not utf-8", &[OsString::from("create"), OsString::from_vec(b"a\xff".to_vec())], Clap),
        cli("env not utf-8", &[OsString::from("create"), "app".into(), "--env".into(), OsString::from_vec(b"A=\xff".to_vec())], Clap),
        cli("base dir flag not utf-8", &[OsString::from("--base-dir"), OsString::from_vec(b"/nonexistent/\xff".to_vec()), "list".into()], Invalid("is not valid UTF-8")),
        cli("unknown flag", &["list", "--frobnicate"], Clap),
    ]);
    hostile_lab::run_all(cases);
}

#[test]
#[rustfmt::skip]
fn hostile_domains_ports_and_images_are_refused() {
    let domain = "invalid domain";
    let long_domain = format!("{}.com", vec!["a".repeat(63); 4].join("."));
    let long_label = format!("{}.example.com", "a".repeat(64));
    let cases = vec![
        cli("domain ipv4", &with_domain("1.2.3.4"), Invalid(domain)),
        cli("domain loopback ip", &with_domain("127.0.0.1"), Invalid(domain)),
        cli("domain numeric tld", &with_domain("app.123"), Invalid(domain)),
        cli("domain hex ip", &with_domain("0x7f.0.0.1"), Invalid(domain)),
        cli("domain ipv6 bracketed", &with_domain("[::1]"), Invalid(domain)),
        cli("domain ipv6", &with_domain("::1"), Invalid(domain)),
        cli("domain wildcard", &with_domain("*.example.com"), Invalid(domain)),
        cli("domain uppercase", &with_domain("App.Example.com"), Invalid(domain)),
        cli("domain trailing dot", &with_domain("app.example.com."), Invalid(domain)),
        cli("domain leading dot", &with_domain(".example.com"), Invalid(domain)),
        cli("domain empty label", &with_domain("app..example.com"), Invalid(domain)),
        cli("domain leading hyphen", &with_domain("-app.example.com"), Invalid(domain)),
        cli("domain underscore", &with_domain("app_x.example.com"), Invalid(domain)),
        cli("domain 254 chars", &with_domain(&long_domain), Invalid(domain)),
        cli("domain 64-char label", &with_domain(&long_label), Invalid(domain)),
        cli("domain with port", &with_domain("app.example.com:8080"), Invalid(domain)),
        cli("domain url", &with_domain("http://app.example.com"), Invalid(domain)),
        cli("domain with path", &with_domain("app.example.com/x"), Invalid(domain)),
        cli("domain cyrillic", &with_domain("\u{430}pp.example.com"), Invalid(domain)),
        cli("domain yaml injection", &with_domain("a.com`)\n    privileged: true"), Invalid(domain)),
        cli(
            "domain traefik rule injection",
            &with_domain("a.com`) || Host(`b.com"),
            Invalid(domain),
        ),
        cli("domain empty", &with_domain(""), Invalid(domain)),
        cli("domain space", &with_domain("app example.com"), Invalid(domain)),
        cli("domain punycode", &with_domain("xn--80ak6aa92e.com"), Creates("app")),
        cli("domain ip-like but named", &with_domain("10.0.0.1.nip.io"), Creates("app")),
        cli("port zero", &["create", "app", "--image", "nginx", "--port", "0"], Invalid("invalid port")),
        cli("port 65536", &["create", "app", "--image", "nginx", "--port", "65536"], Invalid("invalid port")),
        cli("port u32 max", &["create", "app", "--image", "nginx", "--port", "4294967295"], Invalid("invalid port")),
        cli("port beyond u32", &["create", "app", "--image", "nginx", "--port", "4294967296"], Clap),
        cli("port negative", &["create", "app", "--image", "nginx", "--port", "-1"], Clap),
        cli("port fraction", &["create", "app", "--image", "nginx", "--port", "80.5"], Clap),
        cli("port hex", &["create", "app", "--image", "nginx", "--port", "0x50"], Clap),
        cli("port empty", &["create", "app", "--image", "nginx", "--port", ""], Clap),
        cli("port padded", &["create", "app", "--image", "nginx", "--port", " 80"], Clap),
        cli("port missing", &["create", "app", "--image", "nginx"], Invalid("needs the container port")),
        cli("host port 70000", &["create", "app", "--type", "standalone", "--image", "nginx", "--port", "80", "--host-port", "70000"], Invalid("invalid host_port")),
        cli("host port zero", &["create", "app", "--type", "standalone", "--image", "nginx", "--port", "80", "--host-port", "0"], Invalid("invalid host_port")),
        cli("host port on generic", &create("app", &["--host-port", "8080"]), Invalid("publishes no host port")),
        cli("port on pocketbase", &["create", "app", "--type", "pocketbase", "--port", "80"], Invalid("does not take a port")),
        cli("image yaml injection", &["create", "app", "--image", "nginx\nprivileged: true", "--port", "80"], Invalid("invalid image")),
        cli("image uppercase", &["create", "app", "--image", "NGINX", "--port", "80"], Invalid("invalid image")),
        cli("image jinja", &["create", "app", "--image", "{{ 7*7 }}", "--port", "80"], Invalid("invalid image")),
        cli("image variable", &["create", "app", "--image", "${HOME}", "--port", "80"], Invalid("invalid image")),
        cli("image empty", &["create", "app", "--image", "", "--port", "80"], Invalid("invalid image")),
        cli("image quote", &["create", "app", "--image", "nginx:latest\"", "--port", "80"], Invalid("invalid image")),
        cli("image 300 chars", &["create", "app", "--image", &"a".repeat(300), "--port", "80"], Invalid("invalid image")),
        cli("image bad digest", &["create", "app", "--image", "nginx@sha256:zz", "--port", "80"], Invalid("invalid image")),
        cli("image path traversal", &["create", "app", "--image", "../../etc/passwd", "--port", "80"], Invalid("invalid image")),
        cli("image leading hyphen", &["create", "app", "--image=-nginx", "--port", "80"], Invalid("invalid image")),
        cli("image missing", &["create", "app", "--port", "80"], Invalid("needs an image")),
        cli("type traversal", &create("app", &["--type", "../x"]), Invalid("invalid type")),
        cli("type absolute", &create("app", &["--type", "/etc/passwd"]), Invalid("invalid type")),
        cli("type env suffix traversal", &create("app", &["--type", "../../etc/passwd-env"]), Invalid("invalid type")),
        cli("type uppercase", &create("app", &["--type", "GENERIC"]), Invalid("invalid type")),
        cli("type unknown", &create("app", &["--type", "nope"]), Invalid("unknown template type")),
        cli("type empty", &create("app", &["--type", ""]), Invalid("invalid type")),
        cli("every problem at once", &["create", "A", "--image", "B", "--port", "0", "--domain", "1.2.3.4", "--env", "1=x"], Invalid("invalid name"))
            .after(|_, out| {
                let n = out
                    .stderr
                    .lines()
                    .filter(|l| l.starts_with("error: "))
                    .count();
                if n == 5 {
                    Ok(())
                } else {
                    Err(format!("{n} error lines, expected 5 (one per problem)"))
                }
            }),
    ];
    hostile_lab::run_all(cases);
}

#[test]
#[rustfmt::skip]
fn hostile_env_arguments_are_refused_or_stored_literally_and_never_echoed() {
    let env_rule = "invalid env";
    let arg = |a: &str| create("app", &["--env", a]);
    let mut many = create("app", &[]);
    for i in 0..500 {
        many.extend(["--env".to_string(), format!("K{i}=v{i}")]);
    }
    let cases = vec![
        cli("env no equals", &arg(SECRET), Invalid("has no `=`")).secret(SECRET),
        cli("env empty key", &arg(&format!("={SECRET}")), Invalid(env_rule))
            .secret(SECRET),
        cli("env hyphen key", &arg(&format!("A-B={SECRET}")), Invalid(env_rule))
            .secret(SECRET),
        cli("env digit key", &arg(&format!("1A={SECRET}")), Invalid(env_rule))
            .secret(SECRET),
        cli("env space key", &arg(&format!("A B={SECRET}")), Invalid(env_rule))
            .secret(SECRET),
        cli("env export key", &arg("export A=1"), Invalid(env_rule)),
        cli("env unicode key", &arg("\u{c9}=1"), Invalid(env_rule)),
        cli("env ansi key", &arg("\u{1b}[2J=1"), Invalid(env_rule)),
        cli("env newline value", &arg(&format!("A={SECRET}\nB=1")), Creates("app"))
            .secret(SECRET),
        cli("env carriage return value", &arg(&format!("A=x\r{SECRET}")), Creates("app"))
            .secret(SECRET),
        cli("env newline injection of a key", &arg("A=1\nPRIVILEGED=true"), Creates("app")),
        cli("env control characters kept", &arg(&format!("A=\u{1}\u{1b}[31m{SECRET}")), Creates("app"))
            .secret(SECRET),
        cli("env value with equals", &arg(&format!("A={SECRET}=b=c")), Creates("app"))
            .secret(SECRET),
        cli("env jinja value stays literal", &arg("A={{ 7*7 }}"), Creates("app"))
            .after(|lab, _| {
                let env = read(lab, "app/.env");
                let compose = read(lab, "app/docker-compose.yml");
                if env.contains("{{ 7*7 }}") && !env.contains("49") && !compose.contains("49") {
                    Ok(())
                } else {
                    Err(format!("the value was rendered:\n{env}\n{compose}"))
                }
            }),
        cli("env token value stays literal", &arg("A=__APP_NAME__"), Creates("app"))
            .after(|lab, _| {
                let env = read(lab, "app/.env");
                if env.contains("__APP_NAME__") {
                    Ok(())
                } else {
                    Err(format!("replaced:\n{env}"))
                }
            }),
        cli("env shell value stays literal", &arg("A=$(id) `id` ${HOME}"), Creates("app"))
            .after(|lab, _| {
                let env = read(lab, "app/.env");
                if env.contains("$(id) `id` ${HOME}") {
                    Ok(())
                } else {
                    Err(format!("changed:\n{env}"))
                }
            }),
        cli("env value never in the yaml", &arg(&format!("A={SECRET}")), Creates("app"))
            .secret(SECRET)
            .after(|lab, _| {
                if read(lab, "app/docker-compose.yml").contains(SECRET) {
                    Err("the value reached docker-compose.yml".into())
                } else {
                    Ok(())
                }
            }),
        cli("env dry run hides values", &create("app", &["--env", &format!("A={SECRET}"), "--dry-run"]), Succeeds)
            .secret(SECRET),
        cli("env json dry run hides values", &["--json", "create", "app", "--image", "nginx", "--port", "80", "--env", &format!("A={SECRET}"), "--dry-run"], Succeeds)
            .secret(SECRET),
        cli("env overrides a template key", &["create", "app", "--type", "pocketbase", "--env", &format!("PB_ENCRYPTION_KEY={SECRET}")], Creates("app"))
            .secret(SECRET)
            .after(|lab, _| {
                let env = read(lab, "app/.env");
                match env.matches("PB_ENCRYPTION_KEY=").count() {
                    1 => Ok(()),
                    n => Err(format!("{n} PB_ENCRYPTION_KEY lines:\n{env}")),
                }
            }),
        cli("env cloudflared without token", &["create", "app", "--type", "cloudflared"], Invalid("needs TUNNEL_TOKEN")),
        cli("env 500 pairs", &many, Creates("app")),
        // One argument may hold at most 128 KiB (MAX_ARG_STRLEN).
        cli("env 100 KB value", &arg(&format!("A={}", "x".repeat(100_000))), Creates("app")),
        cli("dns without a zone", &create("app", &["--dns"]), Invalid("special-use name")),
    ];
    hostile_lab::run_all(cases);
}

// ---------------------------------------------------------------------------------------
// deeper paths: a fake docker with no engine behind it, Cloudflare on a closed port

#[test]
#[rustfmt::skip]
fn operational_failures_say_what_was_done_and_touch_nothing_else() {
    let engine = "Cannot connect to the Docker daemon";
    let cases = vec![
        // In terminal mode docker's own stderr streams through; --json captures it, so the
        // error line is all there is.
        cli("start without engine", &["--json", "start", KEEP], Fails(engine)),
        cli("start without engine on a terminal", &["start", KEEP], Fails(engine))
            .passthrough(),
        cli("stop without engine", &["--json", "stop", KEEP], Fails(engine)),
        cli("status without engine", &["status", KEEP], Fails(engine)),
        cli("logs since injection", &["--json", "logs", KEEP, "--since", "$(id)"], Fails(engine)),
        cli("remove without engine keeps the stack", &["--json", "remove", KEEP, "--yes"], Fails(engine)),
        cli("remove purge without engine keeps the stack", &["--json", "remove", KEEP, "--yes", "--purge", "--volumes"], Fails(engine)),
        cli("remove a stack that is not there", &["remove", "ghost", "--yes"], Fails("")),
        cli("remove a folder without compose file", &["remove", "plain", "--yes", "--purge"], Fails("not a stack"))
            .setup(|lab| write(&lab.base().join("plain/data.txt"), "mine\n")),
        cli("list with hostile folder names", &["list"], Succeeds).setup(|lab| {
            for name in ["a\nb", "\u{1b}[2J", "-rf", "..x", "UPPER"] {
                write(
                    &lab.base().join(name).join("docker-compose.yml"),
                    "services: {}\n",
                );
            }
            let raw = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"bad\xff");
            write(
                &lab.base().join(raw).join("docker-compose.yml"),
                "services: {}\n",
            );
        }),
        cli("create and start without engine keeps the stack", &json_create("app", &["--start"]), FailsKeeping("stack app was created", "app"))
            .after(|_, out| {
                if out.stderr.contains("stackwiz start app") {
                    Ok(())
                } else {
                    Err("no retry command".into())
                }
            }),
        cli("create with dns and cloudflare down keeps the stack", &create("app", &["--domain", "app.example.com", "--dns"]), FailsKeeping("stack app was created", "app")),
        cli("create with dns and start both failing", &json_create("app", &["--domain", "app.example.com", "--dns", "--start"]), FailsKeeping("stack app was created", "app")),
        cli("start error quoting an env value is scrubbed", &json_create("app", &["--env", &format!("PW={SECRET}"), "--start"]), FailsKeeping("stack app was created", "app"))
            .env("FAKE_DOCKER_UP_LEAK", SECRET)
            .secret(SECRET),
        // On a terminal docker's stderr streams through the same gate.
        cli("start error on a terminal quoting an env value", &["start", KEEP], Fails("invalid hostPort"))
            .env("FAKE_DOCKER_UP_LEAK", ENV_SECRET)
            .passthrough(),
        cli("create and start on a terminal quoting an env value", &create("app", &["--env", &format!("PW={SECRET}"), "--start"]), FailsKeeping("stack app was created", "app"))
            .env("FAKE_DOCKER_UP_LEAK", SECRET)
            .secret(SECRET)
            .passthrough(),
        cli("dns create wildcard", &["dns", "create", "*.example.com", "--value", "1.1.1.1"], Fails("")),
        cli("dns create with an ip as name", &["dns", "create", "1.2.3.4", "--value", "1.1.1.1"], Invalid("invalid name")),
        cli("dns delete traversal", &["dns", "delete", "../x", "--yes"], Invalid("invalid name")),
        cli("dns list zone traversal", &["dns", "list", "--zone", "../../x"], Invalid("invalid zone")),
        cli("dns value with newline", &["dns", "create", "a.example.com", "--type", "A", "--value", "1.1.1.1\nx"], Invalid("")),
        cli("ip with every service down", &["ip"], Fails("")),
        cli("init writes no template through a planted symlink", &["init"], Succeeds)
            .allows("stacks/_templates")
            .allows("stacks/_scripts")
            .setup(|lab| {
                let dir = lab.base().join("_templates");
                std::fs::create_dir_all(&dir).unwrap();
                std::os::unix::fs::symlink(lab.outside.join("new.txt"), dir.join("stack-template.yml")).unwrap();
                std::os::unix::fs::symlink(lab.outside.join("victim.txt"), dir.join("env-template")).unwrap();
            }),
        cli("init writes nothing into a symlinked scripts folder", &["init"], Succeeds)
            .allows("stacks/_templates")
            .setup(|lab| {
                std::os::unix::fs::symlink(&lab.outside, lab.base().join("_scripts")).unwrap();
            }),
        cli("init with a base dir that is a file", &["init"], Fails(""))
            .setup(|lab| {
                let file = lab.outside.join("victim.txt");
                lab.env.set("STACKWIZ_BASE_DIR", file);
            }),
        // The same over MCP, where every child's output is captured.
        tool("mcp create with a secret value", "create_stack", json!({"name": "app", "image": "nginx", "port": 80, "environment": {"PW": SECRET}}), Answered)
            .keeps("app")
            .secret(SECRET),
        tool("mcp validate with a secret value", "validate_stack", json!({"name": "app", "image": "nginx", "port": 80, "environment": {"PW": SECRET}}), Answered)
            .secret(SECRET),
        tool("mcp create and start quoting a secret", "create_stack", json!({"name": "app", "image": "nginx", "port": 80, "auto_start": true, "environment": {"PW": SECRET}}), ToolError("stack app was created"))
            .keeps("app")
            .env("FAKE_DOCKER_UP_LEAK", SECRET)
            .secret(SECRET),
        tool("mcp start quoting the env of keep", "start_stack", json!({"name": KEEP}), ToolError("invalid hostPort"))
            .env("FAKE_DOCKER_UP_LEAK", ENV_SECRET),
        tool("mcp logs without engine", "get_stack_logs", json!({"name": KEEP, "since": "$(id)"}), ToolError(engine)),
        tool("mcp remove without engine keeps the stack", "remove_stack", json!({"name": KEEP, "confirm": true, "purge": true, "volumes": true}), ToolError(engine)),
    ];
    hostile_lab::run_all(cases);
}

// ---------------------------------------------------------------------------------------
// env files

#[test]
#[rustfmt::skip]
fn hostile_env_files_are_refused_without_quoting_their_values() {
    let file = |id: &str, bytes: Vec<u8>, expect: Expect| {
        cli(id, &create("app", &["--env-file", "hostile.env"]), expect).setup(move |lab| {
            std::fs::write(lab.root.join("hostile.env"), &bytes).unwrap();
        })
    };
    let text = |s: &str| s.as_bytes().to_vec();
    let cases = vec![
        file("envfile bare line", text(&format!("A=1\n{SECRET}\n")), Invalid("line 2: expected KEY=VALUE"))
            .secret(SECRET),
        file("envfile unclosed double quote", text(&format!("A=\"{SECRET}\n")), Invalid("unterminated quoted value"))
            .secret(SECRET),
        file("envfile unclosed single quote", text(&format!("A='{SECRET}\n")), Invalid("unterminated quoted value"))
            .secret(SECRET),
        file("envfile text after quote", text(&format!("A='x'{SECRET}\n")), Invalid("text after a closing quote starts a new name"))
            .secret(SECRET),
        file("envfile interpolation", text(&format!("A=${SECRET}\n")), Invalid("would come from the environment Compose runs in"))
            .secret(SECRET),
        file("envfile interpolation in double quotes", text(&format!("A=\"${{{SECRET}}}\"\n")), Invalid("would come from the environment Compose runs in"))
            .secret(SECRET),
        file("envfile invalid key", text(&format!("A-B={SECRET}\n")), Invalid("invalid env"))
            .secret(SECRET),
        file("envfile empty key", text(&format!("={SECRET}\n")), Invalid("invalid env"))
            .secret(SECRET),
        file("envfile nul byte", [b"A=".as_slice(), SECRET.as_bytes(), b"\0B=2\n"].concat(), Invalid("NUL"))
            .secret(SECRET),
        file("envfile escaped newline", text(&format!("A=\"{SECRET}\\nB=1\"\n")), Creates("app"))
            .secret(SECRET),
        file("envfile ansi in key", text("\u{1b}[2J=1\n"), Invalid("invalid env")),
        file("envfile 5 MB line", text(&format!("A={}\n", "x".repeat(5 << 20))), Invalid("larger than 1 MiB")),
        file(
            "envfile 100k lines",
            (0..100_000)
                .map(|i| format!("K{i}=v\n"))
                .collect::<String>()
                .into_bytes(),
            Creates("app"),
        ),
        file("envfile crlf", text(&format!("A={SECRET}\r\nB=2\r\n")), Creates("app"))
            .secret(SECRET),
        file("envfile comment after value", text(&format!("A={SECRET} # note\n")), Creates("app"))
            .secret(SECRET)
            .after(|lab, _| {
                let env = read(lab, "app/.env");
                if env.contains("note") {
                    Err(format!("the comment became part of the value:\n{env}"))
                } else {
                    Ok(())
                }
            }),
        file("envfile binary bytes", b"A=\xff\xfeabc\nB=\x00\x01\n".to_vec(), Invalid("env-file")),
        file("envfile export prefix", text("export A=1\n"), Creates("app")),
        file("envfile empty", Vec::new(), Creates("app")),
        cli("envfile missing", &create("app", &["--env-file", "/nonexistent/x.env"]), Fails("cannot read env file")),
        cli("envfile is a directory", &create("app", &["--env-file", "outside"]), Fails("cannot read env file")),
        cli("envfile is dev null", &create("app", &["--env-file", "/dev/null"]), Creates("app")),
        cli("envfile is a symlink to a stack env", &create("app", &["--env-file", "link.env"]), Creates("app"))
            .setup(|lab| {
                std::os::unix::fs::symlink(lab.base().join("keep/.env"), lab.root.join("link.env"))
                    .unwrap();
            }),
    ];
    hostile_lab::run_all(cases);
}

// ---------------------------------------------------------------------------------------
// config files and settings

#[test]
#[rustfmt::skip]
fn hostile_config_files_and_settings_are_refused_naming_the_source() {
    let config = |id: &str, toml: String, args: &[&str], expect: Expect| {
        cli(id, args, expect)
            .env("STACKWIZ_CONFIG", "hostile.toml")
            .setup(move |lab| {
                // A file's base_dir must win over the lab's environment (and a file without
                // one must not fall back on the real default, /srv/dockerdata).
                if toml.contains("base_dir") {
                    lab.env.unset("STACKWIZ_BASE_DIR");
                }
                if toml.contains("docker =") {
                    lab.env.unset("STACKWIZ_DOCKER");
                }
                std::fs::write(lab.root.join("hostile.toml"), &toml).unwrap();
            })
    };
    let bad = "config file";
    let s = |t: &str| t.to_string();
    let cases = vec![
        config("config syntax error", s("base_dir = \n"), &["list"], Invalid(bad)),
        config("config integer path", s("base_dir = 5\n"), &["list"], Invalid("must be a string")),
        config("config bool path", s("base_dir = true\n"), &["list"], Invalid("must be a string")),
        config("config array path", s("base_dir = [\"/a\"]\n"), &["list"], Invalid("must be a string")),
        config("config table path", s("base_dir = { x = 1 }\n"), &["list"], Invalid("must be a string")),
        config("config unknown key", s("nope = \"x\"\n"), &["list"], Invalid("unknown key")),
        config("config unknown dns key", s("[dns]\nzzz = 1\n"), &["list"], Invalid("unknown key")),
        config("config dns not a table", s("dns = 1\n"), &["list"], Invalid("must be a table")),
        config("config dns subtable", s("[dns.sub]\na = 1\n"), &["list"], Invalid("unknown key")),
        config("config duplicate key", s("network = \"a\"\nnetwork = \"b\"\n"), &["list"], Invalid("duplicate key")),
        config("config control chars in key", s("\"a\\u001b[2J\" = 1\n"), &["list"], Invalid("unknown key")),
        config("config relative base dir", s("base_dir = \"relative/stacks\"\n"), &["list"], Invalid("must be an absolute path")),
        config("config empty base dir", s("base_dir = \"\"\n"), &["list"], Invalid("must be an absolute path")),
        config("config relative templates dir", s("templates_dir = \"t\"\n"), &["templates"], Invalid("must be an absolute path")),
        config("config base dir root lists", s("base_dir = \"/\"\n"), &["list"], Succeeds),
        config("config base dir root status", s("base_dir = \"/\"\n"), &["status", "etc"], Fails("not a stack")),
        config("config base dir root create dry run", s("base_dir = \"/\"\n"), &["create", "etc", "--image", "nginx", "--port", "80", "--dry-run"], Fails("already exists")),
        config("config base dir etc lists", s("base_dir = \"/etc\"\n"), &["list"], Succeeds),
        config("config base dir etc status", s("base_dir = \"/etc\"\n"), &["status", "passwd"], Fails("no stack named passwd")),
        config("config base dir etc status ssh", s("base_dir = \"/etc\"\n"), &["status", "ssh"], Fails("not a stack")),
        config("config templates dir etc", s("templates_dir = \"/etc\"\n"), &["templates"], Succeeds),
        config("config huge network", format!("network = \"{}\"\n", "a".repeat(100_000)), &["list"], Invalid("invalid network")),
        config("config network injection", s("network = \"x\\ny: 1\"\n"), &["list"], Invalid("invalid network")),
        config("config network space", s("network = \"a b\"\n"), &["list"], Invalid("invalid network")),
        config("config entrypoint injection", s("traefik_entrypoint = \"web`)\"\n"), &["list"], Invalid("invalid traefik_entrypoint")),
        config("config certresolver injection", s("traefik_certresolver = \"cf\\n\"\n"), &["list"], Invalid("invalid traefik_certresolver")),
        config("config ip domain", s("default_domain = \"1.2.3.4\"\n"), &["list"], Invalid("invalid default_domain")),
        config("config wildcard domain", s("default_domain = \"*.example.com\"\n"), &["list"], Invalid("invalid default_domain")),
        config("config trailing dot domain", s("default_domain = \"example.com.\"\n"), &["list"], Invalid("invalid default_domain")),
        config("config bad boolean", s("read_only = \"maybe\"\n"), &["list"], Invalid("not a boolean")),
        config("config token with bad boolean", format!("[dns]\napi_token = \"{SECRET}\"\nallow_private_ip = \"maybe\"\n"), &["list"], Invalid("not a boolean"))
            .secret(SECRET),
        config("config token as integer", s("[dns]\napi_token = 12\n"), &["list"], Invalid("must be a string")),
        config("config token not shown by config", format!("[dns]\napi_token = \"{SECRET}\"\n"), &["config"], Succeeds)
            .secret(SECRET),
        config("config token not shown by json config", format!("[dns]\napi_token = \"{SECRET}\"\n"), &["--json", "config"], Succeeds)
            .secret(SECRET),
        config("config ip services not strings", s("[dns]\nip_services = [1, 2]\n"), &["list"], Invalid("must be strings")),
        config("config deep nesting", format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)), &["list"], Invalid(bad)),
        config("config deep inline tables", format!("a = {}1{}\n", "{x=".repeat(5000), "}".repeat(5000)), &["list"], Invalid(bad)),
        config("config 1 MB of comments", "# x\n".repeat(1 << 18), &["list"], Succeeds),
        config("config missing docker", s("docker = \"/nonexistent/docker\"\n"), &["status", KEEP], Fails("not found")),
        cli("config file missing", &["--config", "/nonexistent/c.toml", "list"], Fails("cannot read config file")),
        cli("config file is a directory", &["--config", "outside", "list"], Fails("cannot read config file")),
        cli("config not utf-8", &["list"], Invalid(bad))
            .env("STACKWIZ_CONFIG", "hostile.toml")
            .setup(|lab| {
                std::fs::write(lab.root.join("hostile.toml"), b"network = \"\xff\"\n").unwrap()
            }),
        cli("env relative base dir", &["list"], Invalid("must be an absolute path"))
            .env("STACKWIZ_BASE_DIR", "stacks"),
        cli("flag empty base dir", &["--base-dir", "", "list"], Clap),
        cli("flag relative base dir", &["--base-dir", "stacks", "list"], Invalid("must be an absolute path")),
        cli("flag network injection", &["--network", "a;b", "list"], Invalid("invalid network")),
        cli("flag ip default domain", &["--default-domain", "10.0.0.1", "list"], Invalid("invalid default_domain")),
        cli("flag empty default domain", &["--default-domain", "", "list"], Invalid("invalid default_domain")),
        cli("env ip default domain", &["list"], Invalid("invalid default_domain"))
            .env("STACKWIZ_DEFAULT_DOMAIN", "1.2.3.4"),
        cli("env entrypoint newline", &["list"], Invalid("invalid traefik_entrypoint"))
            .env("STACKWIZ_TRAEFIK_ENTRYPOINT", "web\nx"),
        cli("env time scale", &["list"], Invalid("STACKWIZ_HTTP_TIME_SCALE"))
            .env("STACKWIZ_HTTP_TIME_SCALE", "abc"),
        cli("env private ip flag", &["list"], Invalid("not a boolean"))
            .env("STACKWIZ_ALLOW_PRIVATE_IP", "maybe"),
        cli("env public ip junk", &["ip"], Invalid("is not an IP address"))
            .env("STACKWIZ_PUBLIC_IP", "1.2.3.4%0a"),
        cli("env token with a newline", &["dns", "list"], Fails("contains spaces or control characters"))
            .env("STACKWIZ_CF_API_TOKEN", format!("{SECRET}\nx"))
            .secret(SECRET),
        cli("env token file missing", &["dns", "list"], Fails("cannot read token file"))
            .env("STACKWIZ_CF_API_TOKEN_FILE", "/nonexistent/token")
            .setup(|lab| {
                lab.env.unset("STACKWIZ_CF_API_TOKEN");
            }),
    ];
    hostile_lab::run_all(cases);
}

// ---------------------------------------------------------------------------------------
// user templates

/// A case whose lab has a user template type `x` (compose text, and env text if given).
fn template(id: &str, compose: &str, env: Option<&str>, args: &[&str], expect: Expect) -> Case {
    let (compose, env) = (compose.to_string(), env.map(String::from));
    let mut argv = vec!["create", "app", "--type", "x"];
    argv.extend_from_slice(args);
    cli(id, &argv, expect).setup(move |lab| {
        let dir = lab.templates();
        write(&dir.join("x-template.yml"), &compose);
        if let Some(env) = &env {
            write(&dir.join("x-env-template"), env);
        }
    })
}

#[test]
#[rustfmt::skip]
fn hostile_user_templates_fail_cleanly_and_trusted_ones_render_as_written() {
    let t = "template ";
    let svc = |body: &str| format!("services:\n  app:\n    image: nginx\n{body}");
    let cases = vec![
        template("template undefined variable", "x: {{ nope }}\n", None, &[], Fails("`nope` is not a template variable")),
        template("template undefined attribute", "x: {{ name.nope.deeper }}\n", None, &[], Fails(t)),
        template("template image not given", "image: {{ image }}\n", None, &[], Fails("uses image")),
        template("template leftover token", "image: __NOPE__\n", None, &[], Fails("__NOPE__ was left unreplaced")),
        template("template port token not given", "port: __APP_PORT__\n", None, &[], Fails("no port was given")),
        template("template syntax error", "x: {% if %}\n", None, &[], Fails(t)),
        template("template unclosed tag", "x: {{ name\n", None, &[], Fails(t)),
        template("template include a system file", "x: {% include \"/etc/passwd\" %}\n", None, &[], Fails(t)),
        template("template include the keep env", "x: {% include \"../stacks/keep/.env\" %}\n", None, &[], Fails(t)),
        template("template import", "{% import \"x\" as y %}\n", None, &[], Fails(t)),
        template("template extends", "{% extends \"/etc/passwd\" %}\n", None, &[], Fails(t)),
        template("template macro", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\n", None, &[], Fails(t)),
        template("template huge range", "x: {% for i in range(1000000000) %}x{% endfor %}\n", None, &[], Fails(t)),
        template("template nested loops never end", "x: {% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n", None, &[], Fails(t)),
        template("template huge string", "x: {{ \"x\" * 1000000000 }}\n", None, &[], Fails(t)),
        template("template huge output", "{% set s = \"x\" * 50000000 %}x: {{ s }}{{ s }}{{ s }}{{ s }}{{ s }}\n", None, &[], Fails(t)),
        template("template random key too long", "k: {{ random_key(100000) }}\n", None, &[], Fails("random_key length")),
        template("template random key negative", "k: {{ random_key(-1) }}\n", None, &[], Fails(t)),
        template("template integer division by zero", "x: {{ 1 // 0 }}\n", None, &[], Fails(t)),
        template("template env undefined", &svc(""), Some("A={{ secret_value }}\n"), &[], Fails("`secret_value` is not a template variable")),
        template("template env syntax error", &svc(""), Some("A={% for %}\n"), &[], Fails(t)),
        template("template compose rejects", &svc("    ports: [\"x\"]\n"), Some(&format!("PW={SECRET}\n")), &[], Fails("Compose rejects"))
            .env("FAKE_DOCKER_LEAK", SECRET)
            .secret(SECRET),
        template("template arithmetic renders", "services:\n  app:\n    image: nginx\n    labels: [\"n={{ 7*7 }}\"]\n", None, &[], Creates("app"))
            .after(|lab, _| {
                if read(lab, "app/docker-compose.yml").contains("n=49") {
                    Ok(())
                } else {
                    Err("not rendered".into())
                }
            }),
        template("template privileged is passed through", &svc("    privileged: true\n"), None, &[], Creates("app"))
            .after(|lab, _| {
                if read(lab, "app/docker-compose.yml").contains("privileged: true") {
                    Ok(())
                } else {
                    Err("privileged dropped".into())
                }
            }),
        template("template bind mount of root is passed through", &svc("    volumes: [\"/:/host\"]\n"), None, &[], Creates("app"))
            .after(|lab, _| {
                if read(lab, "app/docker-compose.yml").contains("/:/host") {
                    Ok(())
                } else {
                    Err("volume dropped".into())
                }
            }),
        template("template build context is passed through", "services:\n  app:\n    build: .\n", None, &[], Creates("app"))
            .after(|lab, _| {
                if read(lab, "app/docker-compose.yml").contains("build: .") {
                    Ok(())
                } else {
                    Err("build dropped".into())
                }
            }),
        template("template build of root is passed through", "services:\n  app:\n    build: /\n", None, &[], Creates("app")),
        template("template random key never printed", &svc(""), Some("KEY={{ random_key(32) }}\n"), &[], Creates("app"))
            .after(|lab, out| {
                let env = read(lab, "app/.env");
                let key = env.trim().strip_prefix("KEY=").unwrap_or_default();
                if key.len() != 32 {
                    Err(format!("no key in .env:\n{env}"))
                } else if out.stdout.contains(key) || out.stderr.contains(key) {
                    Err("the generated key was printed".into())
                } else {
                    Ok(())
                }
            }),
        template("template random key hidden in dry run", &svc(""), Some("KEY={{ random_key(32) }}\n"), &["--dry-run"], Succeeds)
            .after(|_, out| {
                if out.stdout.contains("KEY=****") {
                    Ok(())
                } else {
                    Err("KEY not shown as ****".into())
                }
            }),
        template("template values cannot inject", "services:\n  app:\n    image: nginx\n    labels: [\"{{ domain }}\"]\n", None, &["--domain", "{{7*7}}.example.com"], Invalid("invalid domain")),
        cli("template is a directory", &["create", "app", "--type", "x"], Fails("not a regular file"))
            .setup(|lab| {
                std::fs::create_dir_all(lab.templates().join("x-template.yml")).unwrap();
            }),
        cli("template not utf-8", &["create", "app", "--type", "x"], Fails("not UTF-8"))
            .setup(|lab| {
                std::fs::write(lab.templates().join("x-template.yml"), b"x: \xff\xfe\n").unwrap();
            }),
        cli("template symlink to a system file", &["create", "app", "--type", "x"], Fails("not a regular file"))
            .setup(|lab| {
                std::os::unix::fs::symlink("/etc/passwd", lab.templates().join("x-template.yml"))
                    .unwrap();
            }),
        cli("template env symlink to a stack env", &["create", "app", "--type", "x"], Fails("not a regular file"))
            .setup(|lab| {
                let dir = lab.templates();
                write(
                    &dir.join("x-template.yml"),
                    "services:\n  app:\n    image: nginx\n",
                );
                std::os::unix::fs::symlink(lab.base().join("keep/.env"), dir.join("x-env-template"))
                    .unwrap();
            }),
        cli("template dangling symlink", &["create", "app", "--type", "x"], Fails("not a regular file"))
            .setup(|lab| {
                std::os::unix::fs::symlink(
                    "/nonexistent/t.yml",
                    lab.templates().join("x-template.yml"),
                )
                .unwrap();
            }),
        cli("template fifo listed", &["templates"], Fails("not a regular file"))
            .setup(|lab| {
                let path = lab.templates().join("x-template.yml");
                rustix::fs::mkfifoat(
                    rustix::fs::CWD,
                    &path,
                    rustix::fs::Mode::from_raw_mode(0o600),
                )
                .unwrap();
            }),
        cli("template fifo used", &["create", "app", "--type", "x"], Fails("not a regular file"))
            .setup(|lab| {
                let path = lab.templates().join("x-template.yml");
                rustix::fs::mkfifoat(
                    rustix::fs::CWD,
                    &path,
                    rustix::fs::Mode::from_raw_mode(0o600),
                )
                .unwrap();
            }),
        cli("template 20 MB file", &["create", "app", "--type", "x"], Fails("larger than"))
            .setup(|lab| {
                write(
                    &lab.templates().join("x-template.yml"),
                    &format!("# {}\nservices: {{}}\n", "x".repeat(20 << 20)),
                );
            }),
        cli("template bad type file names are ignored", &["templates"], Succeeds)
            .setup(|lab| {
                let dir = lab.templates();
                for f in [
                    "..-template.yml",
                    "A B-template.yml",
                    "-x-template.yml",
                    "\u{430}-template.yml",
                ] {
                    write(&dir.join(f), "services: {}\n");
                }
            })
            .after(|_, out| {
                if out.stdout.lines().count() == 4 {
                    Ok(())
                } else {
                    Err("a bad file name became a type".into())
                }
            }),
    ];
    hostile_lab::run_all(cases);
}

// ---------------------------------------------------------------------------------------
// MCP arguments

#[test]
#[rustfmt::skip]
fn hostile_mcp_arguments_are_tool_errors_the_model_can_read() {
    let args = "invalid arguments";
    let name = "invalid name";
    let big = "a".repeat(1 << 20);
    let create =
        |id: &str, a: serde_json::Value, expect: Expect| tool(id, "create_stack", a, expect);
    let cases = vec![
        create("mcp name traversal", json!({"name": "../x", "image": "nginx", "port": 80}), ToolError(name)),
        create("mcp name slash", json!({"name": "a/b", "image": "nginx", "port": 80}), ToolError(name)),
        create("mcp name trash", json!({"name": ".trash", "image": "nginx", "port": 80}), ToolError("reserved")),
        create("mcp name 1 MB", json!({"name": big, "image": "nginx", "port": 80}), ToolError(name)),
        create("mcp name number", json!({"name": 5, "image": "nginx", "port": 80}), ToolError(args)),
        create("mcp name null", json!({"name": null, "image": "nginx", "port": 80}), ToolError(args)),
        create("mcp name array", json!({"name": ["a"], "image": "nginx", "port": 80}), ToolError(args)),
        create("mcp name object", json!({"name": {"a": 1}}), ToolError(args)),
        create("mcp name missing", json!({"image": "nginx", "port": 80}), ToolError("missing field `name`")),
        create("mcp extra field", json!({"name": "app", "image": "nginx", "port": 80, "privileged": true}), ToolError("unknown field")),
        create("mcp port string", json!({"name": "app", "image": "nginx", "port": "80"}), ToolError(args)),
        create("mcp port negative", json!({"name": "app", "image": "nginx", "port": -1}), ToolError(args)),
        create("mcp port float", json!({"name": "app", "image": "nginx", "port": 80.5}), ToolError(args)),
        create("mcp port 70000", json!({"name": "app", "image": "nginx", "port": 70000}), ToolError("invalid port")),
        create("mcp port 2^40", json!({"name": "app", "image": "nginx", "port": 1_u64 << 40}), ToolError(args)),
        create("mcp port huge", json!({"name": "app", "image": "nginx", "port": 1e300}), ToolError(args)),
        create("mcp host port string", json!({"name": "app", "type": "standalone", "image": "nginx", "port": 80, "host_port": "x"}), ToolError(args)),
        create("mcp environment array", json!({"name": "app", "image": "nginx", "port": 80, "environment": ["A=1"]}), ToolError(args)),
        create("mcp environment number value", json!({"name": "app", "image": "nginx", "port": 80, "environment": {"A": 1}}), ToolError(args)),
        create("mcp environment bad key", json!({"name": "app", "image": "nginx", "port": 80, "environment": {"A-B": SECRET}}), ToolError("invalid env")).secret(SECRET),
        create("mcp environment newline", json!({"name": "app", "image": "nginx", "port": 80, "environment": {"A": format!("{SECRET}\nB=1")}}), Answered).keeps("app").secret(SECRET),
        create("mcp environment nul", json!({"name": "app", "image": "nginx", "port": 80, "environment": {"A": format!("{SECRET}\u{0}")}}), ToolError("NUL")).secret(SECRET),
        create("mcp both env spellings", json!({"name": "app", "image": "nginx", "port": 80, "env": {}, "environment": {}}), ToolError(args)),
        create("mcp domain ip", json!({"name": "app", "image": "nginx", "port": 80, "domain": "1.2.3.4"}), ToolError("invalid domain")),
        create("mcp domain wildcard", json!({"name": "app", "image": "nginx", "port": 80, "domain": "*.example.com"}), ToolError("invalid domain")),
        create("mcp type traversal", json!({"name": "app", "type": "../../etc/passwd", "image": "nginx", "port": 80}), ToolError("invalid type")),
        create("mcp type number", json!({"name": "app", "type": 5}), ToolError(args)),
        create("mcp auto start string", json!({"name": "app", "image": "nginx", "port": 80, "auto_start": "true"}), ToolError(args)),
        create("mcp create dns string", json!({"name": "app", "image": "nginx", "port": 80, "create_dns": "yes"}), ToolError(args)),
        create("mcp image injection", json!({"name": "app", "image": "nginx\nprivileged: true", "port": 80}), ToolError("invalid image")),
        create("mcp image 1 MB", json!({"name": "app", "image": big, "port": 80}), ToolError("invalid image")),
        create("mcp arguments array", json!([]), RpcError(-32602)),
        create("mcp arguments string", json!("name=app"), RpcError(-32602)),
        tool("mcp validate traversal", "validate_stack", json!({"name": "../keep", "image": "nginx", "port": 80}), Answered)
            .after(|_, out| {
                if out.stdout.contains(r#"\"valid\":false"#) && out.stdout.contains("invalid name") {
                    Ok(())
                } else {
                    Err("validate_stack did not report the name as invalid".into())
                }
            }),
        tool("mcp validate extra", "validate_stack", json!({"name": "app", "confirm": true}), ToolError("unknown field")),
        tool("mcp status traversal", "get_stack_status", json!({"name": "../keep"}), ToolError(name)),
        tool("mcp status through keep", "get_stack_status", json!({"name": "keep/../keep"}), ToolError(name)),
        tool("mcp status trash", "get_stack_status", json!({"name": ".trash"}), ToolError("reserved")),
        tool("mcp status number", "get_stack_status", json!({"name": 1}), ToolError(args)),
        tool("mcp status missing", "get_stack_status", json!({}), ToolError("missing field")),
        tool("mcp logs negative tail", "get_stack_logs", json!({"name": KEEP, "tail": -1}), ToolError(args)),
        tool("mcp logs tail string", "get_stack_logs", json!({"name": KEEP, "tail": "5"}), ToolError(args)),
        tool("mcp logs tail huge", "get_stack_logs", json!({"name": KEEP, "tail": 1e20}), ToolError(args)),
        tool("mcp logs since number", "get_stack_logs", json!({"name": KEEP, "since": 5}), ToolError(args)),
        tool("mcp logs traversal", "get_stack_logs", json!({"name": "../keep"}), ToolError(name)),
        tool("mcp start reserved", "start_stack", json!({"name": "traefik"}), ToolError("reserved")),
        tool("mcp stop uppercase", "stop_stack", json!({"name": "KEEP"}), ToolError(name)),
        tool("mcp remove confirm string", "remove_stack", json!({"name": KEEP, "confirm": "true"}), ToolError("needs confirmation")),
        tool("mcp remove confirm missing", "remove_stack", json!({"name": KEEP, "purge": true}), ToolError("needs confirmation")),
        tool("mcp remove traversal", "remove_stack", json!({"name": "../keep", "confirm": true, "purge": true}), ToolError(name)),
        tool("mcp remove trash", "remove_stack", json!({"name": ".trash", "confirm": true, "purge": true}), ToolError("reserved")),
        tool("mcp remove absolute", "remove_stack", json!({"name": "/etc", "confirm": true, "purge": true}), ToolError(name)),
        tool("mcp remove purge string", "remove_stack", json!({"name": KEEP, "confirm": true, "purge": "yes"}), ToolError(args)),
        tool("mcp list extra", "list_stacks", json!({"all": true}), ToolError("unknown field")),
        tool("mcp templates extra", "list_templates", json!({"dir": "/etc"}), ToolError("unknown field")),
        tool("mcp dns ttl string", "create_dns_record", json!({"subdomain": "a.example.com", "ttl": "60"}), ToolError(args)),
        tool("mcp dns ttl negative", "create_dns_record", json!({"subdomain": "a.example.com", "ttl": -60}), ToolError(args)),
        tool("mcp dns bad type", "create_dns_record", json!({"subdomain": "a.example.com", "type": "ZZ"}), ToolError(args)),
        tool("mcp dns name traversal", "create_dns_record", json!({"subdomain": "../x", "value": "1.1.1.1"}), ToolError("invalid name")),
        tool("mcp dns delete traversal", "delete_dns_record", json!({"subdomain": "../../x", "confirm": true}), ToolError("")),
        tool("mcp dns sync string", "sync_dns", json!({"dry_run": "no"}), ToolError(args)),
        tool("mcp templates with a fifo do not hang", "list_templates", json!({}), ToolError("not a regular file"))
            .setup(|lab| {
                let path = lab.templates().join("x-template.yml");
                rustix::fs::mkfifoat(rustix::fs::CWD, &path, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
            }),
        tool("mcp validate a type whose template loops forever", "validate_stack", json!({"name": "app", "type": "x"}), Answered)
            .setup(|lab| {
                let endless = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n";
                write(&lab.templates().join("x-template.yml"), endless);
            })
            .after(|_, out| {
                if out.stdout.contains("too many steps") { Ok(()) } else { Err("no `too many steps` problem".into()) }
            }),
        tool("mcp unknown tool", "../x", json!({}), RpcError(-32602)),
        tool("mcp huge tool name", &"x".repeat(1 << 20), json!({}), RpcError(-32602)),
        hostile_lab::mcp("mcp arguments null", "tools/call", json!({"name": "list_stacks", "arguments": null}), Answered),
        hostile_lab::mcp("mcp call without name", "tools/call", json!({"arguments": {}}), RpcError(-32602)),
        hostile_lab::mcp("mcp call name number", "tools/call", json!({"name": 5}), RpcError(-32602)),
    ];
    hostile_lab::run_all(cases);
}

#[test]
#[rustfmt::skip]
fn hostile_resource_uris_name_no_resource_and_never_a_stack_env() {
    let read = |id: &str, uri: serde_json::Value| {
        hostile_lab::mcp(id, "resources/read", json!({"uri": uri}), RpcError(-32002))
    };
    let mut cases = vec![
        read("uri parent", json!("stack://../x/compose")),
        read("uri encoded slash", json!("stack://a%2fb/compose")),
        read("uri encoded traversal", json!("stack://keep%2f..%2fkeep/compose")),
        read("uri through parent", json!("stack://keep/../keep/compose")),
        read("uri env file", json!("stack://keep/.env")),
        read("uri env after compose", json!("stack://keep/compose/../.env")),
        read("uri env by encoded name", json!("stack://keep/%2eenv")),
        read("uri uppercase", json!("stack://KEEP/compose")),
        read("uri empty name", json!("stack:///compose")),
        read("uri absolute", json!("stack:///etc/passwd")),
        read("uri status then compose", json!("stack://keep/status/../compose")),
        read("uri trash", json!("stack://.trash/compose")),
        read("uri template traversal", json!("template://../../etc/passwd")),
        read("uri template absolute", json!("template:///etc/passwd")),
        read("uri template of stack env", json!("template://../stacks/keep/.env")),
        read("uri file scheme", json!("file:///etc/passwd")),
        read("uri other scheme", json!("http://127.0.0.1:9/")),
        read("uri 1 MB", json!(format!("stack://{}/compose", "a".repeat(1 << 20)))),
        read("uri missing stack", json!("stack://ghost/compose")),
        // A template's env file is served with it: a symlink there must not serve a stack's .env.
        hostile_lab::mcp("uri template with a symlinked env file", "resources/read", json!({"uri": "template://x"}), RpcError(-32603))
            .setup(|lab| {
                let dir = lab.templates();
                write(&dir.join("x-template.yml"), "services: {}\n");
                std::os::unix::fs::symlink(lab.base().join("keep/.env"), dir.join("x-env-template")).unwrap();
            }),
        hostile_lab::mcp("uri template that is a fifo", "resources/read", json!({"uri": "template://x"}), RpcError(-32603))
            .setup(|lab| {
                let path = lab.templates().join("x-template.yml");
                rustix::fs::mkfifoat(rustix::fs::CWD, &path, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
            }),
        hostile_lab::mcp("uri number", "resources/read", json!({"uri": 5}), RpcError(-32602)),
        hostile_lab::mcp("uri missing", "resources/read", json!({}), RpcError(-32602)),
    ];
    // A symlink in the base dir is no stack: no such resource.
    cases.push(
        hostile_lab::mcp("uri symlinked stack", "resources/read", json!({"uri": "stack://link/compose"}), RpcError(-32002))
            .setup(|lab| {
                std::os::unix::fs::symlink(lab.base().join(KEEP), lab.base().join("link")).unwrap();
            }),
    );
    // The compose file is served; its stack's .env is not, whatever the compose file says.
    cases.push(
        hostile_lab::mcp("uri compose of keep", "resources/read", json!({"uri": "stack://keep/compose"}), Answered)
            .after(|_, out| {
                if out.stdout.contains("env_file: .env") {
                    Ok(())
                } else {
                    Err("the compose file was not served as it is".into())
                }
            }),
    );
    hostile_lab::run_all(cases);
}

// ---------------------------------------------------------------------------------------
// known bugs, owned elsewhere: asserted to still misbehave

/// Cases that misbehave today because of bugs in files this suite does not own. Each names
/// what happens, what should, and where the fix belongs; the test fails once one behaves,
/// so it can move into its table above.
#[rustfmt::skip]
fn known_bugs() -> Vec<(Case, &'static str)> {
    // Every bug this suite found is fixed; a new one goes here, with what it should do,
    // until its fix moves it into its table.
    Vec::new()
}

#[test]
fn known_bugs_still_misbehave() {
    let mut fixed = Vec::new();
    for (case, bug) in known_bugs() {
        let problems = case.problems();
        // Shown with --nocapture: how each bug shows today.
        eprintln!("== known bug: {}\n{bug}\n{}", case.id, problems.join("\n"));
        if problems.is_empty() {
            fixed.push(format!("{}: {bug}", case.id));
        }
    }
    assert!(
        fixed.is_empty(),
        "known bugs now behave; move these cases into their tables:\n{}",
        fixed.join("\n")
    );
}
