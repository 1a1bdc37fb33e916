//! The life of a stack on a real Docker engine: create --start, status, logs, stop,
//! restart, update, down, remove and purge; the pocketbase type going healthy; `list` over
//! 200 stacks in one docker call; the engine unreachable; the standalone `docker-compose`
//! fallback; `--context`; doctor and init.
//!
//! Tests run in parallel against one engine, so every name a test puts on the engine (stack,
//! container, network, context) starts with the test's own random id, and a [`Cleanup`]
//! guard removes those containers and networks when the test ends, pass or fail. No
//! container needs the internet: the images are the local busybox test image and a
//! pocketbase stand-in committed from it.

// The tests inspect the engine with docker directly, independently of stackwiz's wrapper.
#![allow(clippy::disallowed_methods)]

use crate::support;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{require_engine, test_image, write, Out, TestEnv};

// ---------------------------------------------------------------------------------------
// helpers

/// `swt` and 8 hex digits, different for every call, in every process.
fn unique() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("swt{:08x}", h.finish() as u32)
}

/// `docker ARGS` against the test engine, with this process's own environment (whatever
/// a test did to its TestEnv's DOCKER_HOST or DOCKER_CONFIG).
fn engine<I, S>(args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new("docker");
    cmd.args(args).stdin(Stdio::null());
    Out::from(cmd.output().expect("run docker"))
}

/// `docker ARGS` that must succeed; its stdout, trimmed.
fn engine_ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = engine(&args);
    assert_eq!(out.code, 0, "docker {args:?} failed:\n{out}");
    out.stdout.trim().to_string()
}

/// The ids of the containers of a Compose project (any state).
fn project_containers(project: &str) -> Vec<String> {
    let out = engine_ok([
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    out.lines().map(String::from).collect()
}

fn network_exists(name: &str) -> bool {
    engine(["network", "inspect", name]).code == 0
}

/// Poll `probe` every 100 ms until it returns Some, or fail after `timeout` saying `what`.
fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Removes, when dropped (also when the test panics), every container and network whose
/// name starts with the test's id.
struct Cleanup {
    id: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let filter = format!("name=^/?{}", self.id);
        let ids = engine(["ps", "-aq", "--filter", &filter]).stdout;
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            engine(["rm", "-f", "-v"].into_iter().chain(ids));
        }
        let nets = engine([
            "network",
            "ls",
            "-q",
            "--filter",
            &format!("name=^{}", self.id),
        ])
        .stdout;
        let nets: Vec<&str> = nets.split_whitespace().collect();
        if !nets.is_empty() {
            engine(["network", "rm"].into_iter().chain(nets));
        }
    }
}

/// A test's world: its TestEnv with its own proxy network, the test templates, and the
/// cleanup guard. Every name comes from [`Lab::name`].
struct Lab {
    // Declared first so it drops first: the engine is cleaned while the folders still exist.
    _cleanup: Cleanup,
    env: TestEnv,
    id: String,
    net: String,
}

/// A user type for the tests: one busybox service behind the proxy network that prints
/// `hello-from-test` and 150 numbered lines, then serves HTTP. `init: true` makes it stop
/// at once on SIGTERM (a shell or httpd as PID 1 ignores it, costing 10 s per stop).
const ECHO_TEMPLATE: &str = r#"# Test type: a busybox service that logs numbered lines, then serves HTTP.
services:
  {{ name }}:
    image: {{ image }}
    container_name: {{ name }}
    init: true
    restart: unless-stopped
    command: ["sh", "-c", "echo hello-from-test; i=0; while [ $$i -lt 150 ]; do echo line-$$i; i=$$((i+1)); done; exec httpd -f -p {{ port }}"]
    env_file:
      - .env
    labels:
      - "traefik.enable=true"
      - "traefik.http.routers.{{ name }}.rule=Host(`{{ domain }}`)"

networks:
  default:
    name: {{ network }}
    external: true
"#;

/// A user type with two services, to see a stack "partly running".
const PAIR_TEMPLATE: &str = r#"# Test type: two busybox services.
services:
  first:
    image: {{ image }}
    container_name: {{ name }}-first
    init: true
    command: ["httpd", "-f", "-p", "{{ port }}"]
  second:
    image: {{ image }}
    container_name: {{ name }}-second
    init: true
    command: ["httpd", "-f", "-p", "{{ port }}"]

networks:
  default:
    name: {{ network }}
    external: true
"#;

impl Lab {
    fn new() -> Lab {
        require_engine();
        let id = unique();
        let net = format!("{id}-net");
        let mut env = TestEnv::new();
        env.set("STACKWIZ_DOCKER_NETWORK", &net);
        let templates = env.base.join("_templates");
        write(&templates.join("echo-template.yml"), ECHO_TEMPLATE);
        write(&templates.join("pair-template.yml"), PAIR_TEMPLATE);
        Lab {
            env,
            _cleanup: Cleanup { id: id.clone() },
            id,
            net,
        }
    }

    /// A stack (and container) name owned by this test.
    fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.id)
    }

    /// `stackwiz create NAME --type echo --start`, checked.
    fn start_echo(&self, name: &str) {
        self.env
            .cmd([
                "create",
                name,
                "--type",
                "echo",
                "--image",
                &test_image(),
                "--port",
                "8080",
                "--start",
            ])
            .ok();
    }

    /// `stackwiz status NAME --json`, checked.
    fn status(&self, name: &str) -> Value {
        self.env.cmd(["status", name, "--json"]).ok().json()
    }

    /// A script that logs each call's arguments (one line) to `log`, then runs docker.
    fn docker_wrapper(&self, log: &Path) -> PathBuf {
        let path = self.env.path("bin/docker-logged");
        write(
            &path,
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec docker \"$@\"\n",
                log.display()
            ),
        );
        chmod_x(&path);
        path
    }
}

fn chmod_x(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The one service of a status report.
fn only_service(status: &Value) -> &Value {
    let services = status["services"].as_array().expect("services");
    assert_eq!(services.len(), 1, "expected one service: {status:#}");
    &services[0]
}

fn container_id(name: &str) -> String {
    engine_ok(["inspect", "-f", "{{.Id}}", name])
}

/// The message lines of `docker compose logs` output (the `NAME  | ` prefix removed).
fn log_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_once("| ").map(|(_, m)| m.trim_end().to_string()))
        .collect()
}

/// A listed stack by name, from `list --json`.
fn listed<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {key}: {list:#}"))
}

// ---------------------------------------------------------------------------------------
// the whole life of one stack

#[test]
fn a_stack_lives_through_create_start_stop_restart_update_down_remove_and_purge() {
    let lab = Lab::new();
    let env = &lab.env;
    let name = lab.name("life");
    assert!(!network_exists(&lab.net));

    // create --start: the network is created, the container runs on it.
    let created = env
        .cmd([
            "create",
            &name,
            "--type",
            "echo",
            "--image",
            &test_image(),
            "--port",
            "8080",
            "--start",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(created["started"], true);
    assert_eq!(
        created["next"]["command"],
        format!("stackwiz status {name}")
    );
    assert!(created["next"].get("tool").is_none(), "{created}");
    assert!(
        network_exists(&lab.net),
        "create --start did not create the network {}",
        lab.net
    );

    let status = lab.status(&name);
    assert_eq!(status["status"], "running");
    assert_eq!(status["type"], "echo");
    assert_eq!(status["domain"], format!("{name}.localhost"));
    let service = only_service(&status);
    assert_eq!(service["service"], name.as_str());
    assert_eq!(service["container"], name.as_str());
    assert_eq!(service["state"], "running");
    assert_eq!(service["health"], Value::Null);
    assert_eq!(service["image"], test_image());
    assert_eq!(service["ports"], serde_json::json!([]));
    let networks = engine_ok([
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        &name,
    ]);
    assert_eq!(
        networks, lab.net,
        "the container must be attached to the proxy network only"
    );

    let human = env.cmd(["status", &name]).ok();
    assert_eq!(
        human.stdout.lines().next().unwrap(),
        format!("{name} (echo) {name}.localhost: running")
    );

    // logs: the last 100 lines by default, --tail, --since, and --follow.
    let all = wait_for("all 150 lines in the log", Duration::from_secs(10), || {
        let logs = env
            .cmd(["logs", &name, "--tail", "1000", "--json"])
            .ok()
            .json();
        let lines = log_lines(logs["logs"].as_str().unwrap());
        (lines.last().map(String::as_str) == Some("line-149")).then_some(lines)
    });
    assert_eq!(all.len(), 151);
    assert_eq!(all[0], "hello-from-test");
    let expected: Vec<String> = (50..150).map(|i| format!("line-{i}")).collect();
    let logs = env.cmd(["logs", &name]).ok();
    assert_eq!(
        log_lines(&logs.stdout),
        expected,
        "logs shows the last 100 lines by default"
    );
    let logs = env
        .cmd(["logs", &name, "--tail", "3", "--json"])
        .ok()
        .json();
    assert_eq!(logs["tail"], 3);
    assert_eq!(
        log_lines(logs["logs"].as_str().unwrap()),
        ["line-147", "line-148", "line-149"]
    );
    let logs = env
        .cmd([
            "logs",
            &name,
            "--since",
            "2000-01-01T00:00:00",
            "--tail",
            "1000",
        ])
        .ok();
    assert_eq!(log_lines(&logs.stdout).len(), 151);
    let logs = env
        .cmd(["logs", &name, "--since", "2099-01-01T00:00:00"])
        .ok();
    assert_eq!(
        log_lines(&logs.stdout),
        Vec::<String>::new(),
        "nothing was logged after 2099"
    );
    let bad = env
        .cmd(["logs", &name, "--since", "yesterday-ish"])
        .fails(1);
    assert!(
        bad.stderr
            .contains("logs --no-color --tail 100 --since yesterday-ish"),
        "the failed command line is shown:\n{bad}"
    );
    env.cmd(["logs", &name, "--follow", "--json"]).fails(2);
    follow_shows_new_lines(&lab, &name);

    // stop keeps the container; restart brings the same one back.
    let id = container_id(&name);
    // (--json captures docker's progress into the report; stdout holds only the JSON.)
    let stopped = env.cmd(["stop", &name, "--json"]).ok().json();
    assert_eq!(stopped["action"], "stopped (containers kept)");
    assert_eq!(stopped["next"]["command"], format!("stackwiz start {name}"));
    assert!(
        stopped["output"]
            .as_str()
            .unwrap()
            .contains(&format!("Container {name}  Stopped")),
        "{stopped:#}"
    );
    let status = lab.status(&name);
    assert_eq!(status["status"], "stopped");
    assert_eq!(only_service(&status)["state"], "exited");
    assert_eq!(container_id(&name), id);
    let list = env.cmd(["list", "--json"]).ok().json();
    assert_eq!(listed(&list, "stacks", &name)["status"], "stopped");

    // (In human mode docker's progress streams to stderr; stdout holds only the result.)
    let restarted = env.cmd(["restart", &name]).ok();
    assert_eq!(
        restarted.stdout,
        format!("{name} restarted\nNext: stackwiz status {name}\n")
    );
    assert!(
        restarted
            .stderr
            .contains(&format!("Container {name}  Started")),
        "{restarted}"
    );
    assert_eq!(lab.status(&name)["status"], "running");
    assert_eq!(container_id(&name), id, "restart keeps the container");
    let list = env.cmd(["list", "--json"]).ok().json();
    assert_eq!(listed(&list, "stacks", &name)["status"], "running");

    // update: the image exists only on this engine, so the pull fails; the container stays.
    let started_at = engine_ok(["inspect", "-f", "{{.State.StartedAt}}", &name]);
    let update = env.cmd(["update", &name]).fails(1);
    let pull = format!("error: `docker compose -p {name} --project-directory {dir} -f {dir}/docker-compose.yml pull` failed with exit status 1", dir = env.stack(&name).display());
    assert!(
        update.stderr.contains(&pull),
        "the pull's command line and status are reported:\n{update}"
    );
    assert!(
        update
            .stderr
            .contains("hint: the pull failed, so the running containers were left as they are"),
        "{update}"
    );
    let update = env.cmd(["update", &name, "--json"]).fails(1);
    let error = &update.json()["error"];
    assert_eq!(error["kind"], "command");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(" pull` failed with exit status 1: "),
        "docker's stderr is in the message: {error:#}"
    );
    assert_eq!(lab.status(&name)["status"], "running");
    assert_eq!(
        container_id(&name),
        id,
        "a failed update must not recreate the container"
    );
    assert_eq!(
        engine_ok(["inspect", "-f", "{{.State.StartedAt}}", &name]),
        started_at,
        "a failed update must not restart it"
    );

    // down removes the containers and keeps the files; start creates them again.
    let down = env.cmd(["down", &name, "--json"]).ok().json();
    assert_eq!(down["action"], "down (containers removed, files kept)");
    assert_eq!(project_containers(&name), Vec::<String>::new());
    assert!(env.stack(&name).join("docker-compose.yml").is_file());
    assert_eq!(lab.status(&name)["status"], "not started");
    let list = env.cmd(["list", "--json"]).ok().json();
    assert_eq!(listed(&list, "stacks", &name)["status"], "not started");
    let started = env.cmd(["start", &name, "--json"]).ok().json();
    assert_eq!(started["action"], "started");
    assert_eq!(started["network_created"], false);
    assert_eq!(lab.status(&name)["status"], "running");

    // remove without a terminal and without --yes: refused, nothing touched.
    let before = env.base_entries();
    let refused = env.cmd(["remove", &name]).fails(2);
    assert!(
        refused
            .stderr
            .contains(&format!("error: remove {name} needs confirmation")),
        "{refused}"
    );
    assert!(
        refused
            .stderr
            .contains(&format!("stackwiz remove {name} --yes")),
        "{refused}"
    );
    assert_eq!(env.base_entries(), before);
    assert_eq!(lab.status(&name)["status"], "running");

    // remove: containers gone, the folder in the trash under a UTC timestamp.
    let removed = env.cmd(["remove", &name, "--yes", "--json"]).ok().json();
    assert_eq!(removed["purged"], false);
    assert_eq!(project_containers(&name), Vec::<String>::new());
    assert!(!env.stack(&name).exists());
    let trashed = PathBuf::from(removed["trashed_to"].as_str().unwrap());
    assert_eq!(trashed.parent().unwrap(), env.base.join(".trash"));
    let stamp = trashed
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .strip_prefix(&format!("{name}-"))
        .expect("NAME-stamp");
    assert!(
        stamp.len() == 16
            && stamp.as_bytes()[8] == b'T'
            && stamp.ends_with('Z')
            && stamp[..8]
                .bytes()
                .chain(stamp[9..15].bytes())
                .all(|b| b.is_ascii_digit()),
        "not a UTC timestamp: {stamp}"
    );
    assert!(trashed.join("docker-compose.yml").is_file() && trashed.join(".env").is_file());
    let list = env.cmd(["list", "--json"]).ok().json();
    assert_eq!(list["stacks"], serde_json::json!([]));
    assert_eq!(list["orphans"], serde_json::json!([]));

    // Moving it back restores it; --purge then deletes it for good.
    std::fs::rename(&trashed, env.stack(&name)).unwrap();
    env.cmd(["start", &name]).ok();
    assert_eq!(lab.status(&name)["status"], "running");
    let purged = env
        .cmd(["remove", &name, "--yes", "--purge", "--json"])
        .ok()
        .json();
    assert_eq!(purged["purged"], true);
    assert_eq!(purged["trashed_to"], Value::Null);
    assert!(!env.stack(&name).exists());
    assert_eq!(
        std::fs::read_dir(env.base.join(".trash")).unwrap().count(),
        0,
        "purge must not use the trash"
    );
    assert_eq!(project_containers(&name), Vec::<String>::new());
}

/// `logs --follow` prints what is logged after it started, and keeps running.
fn follow_shows_new_lines(lab: &Lab, name: &str) {
    let mut cmd = lab.env.cmd(["logs", name, "--follow", "--tail", "1"]).cmd;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = cmd.spawn().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = |what: &str| {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("logs --follow printed no {what}"))
    };
    assert_eq!(log_lines(&next_line("tail")), ["line-149"]);
    let marker = format!("followed-{}", lab.id);
    engine_ok([
        "exec",
        name,
        "sh",
        "-c",
        &format!("echo {marker} > /proc/1/fd/1"),
    ]);
    assert_eq!(log_lines(&next_line("new line")), [marker]);
    assert!(
        child.try_wait().unwrap().is_none(),
        "logs --follow must keep running"
    );
    // The process group we created for the child.
    let group = rustix::process::Pid::from_raw(child.id() as i32).expect("a child's pid");
    let _ = rustix::process::kill_process_group(group, rustix::process::Signal::TERM);
    child.wait().unwrap();
}

// ---------------------------------------------------------------------------------------
// the pocketbase type, for real

/// PocketBase's stand-in: the busybox test image with an entrypoint that insists on the
/// template's arguments and serves `/api/health` on 8090, tagged as the pocketbase image
/// so nothing is pulled. Built once per run (and reused while its recipe is unchanged).
fn fake_pocketbase_image() -> &'static str {
    const IMAGE: &str = "ghcr.io/muchobien/pocketbase:latest";
    const RECIPE: &str = "1";
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let label = engine(["image", "inspect", "-f", "{{index .Config.Labels \"org.stackwiz.test.fake-pocketbase\"}}", IMAGE]);
        if label.code == 0 && label.stdout.trim() == RECIPE {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("pocketbase");
        write(
            &script,
            "#!/bin/sh\n\
             # Stand-in for PocketBase in stackwiz's tests: the same arguments, the same health endpoint.\n\
             if [ \"$#\" -ne 2 ] || [ \"$1\" != --encryptionEnv ] || [ \"$2\" != PB_ENCRYPTION_KEY ]; then\n\
             \x20 echo \"fake pocketbase: unexpected arguments: $*\" >&2\n\
             \x20 exit 64\n\
             fi\n\
             mkdir -p /tmp/pb/api\n\
             echo '{\"message\":\"API is healthy.\",\"code\":200,\"data\":{}}' > /tmp/pb/api/health\n\
             echo 'fake pocketbase: serving on :8090'\n\
             trap 'exit 0' TERM INT\n\
             httpd -f -p 8090 -h /tmp/pb &\n\
             wait $!\n",
        );
        chmod_x(&script);
        let builder = format!("{}-pbbuild", unique());
        let _cleanup = Cleanup { id: builder.clone() };
        engine_ok(["create", "--name", &builder, &test_image()]);
        let dest = format!("{builder}:/bin/pocketbase");
        engine_ok([std::ffi::OsStr::new("cp"), script.as_os_str(), std::ffi::OsStr::new(&dest)]);
        engine_ok([
            "commit",
            "--change",
            "ENTRYPOINT [\"/bin/pocketbase\"]",
            "--change",
            "CMD []",
            "--change",
            &format!("LABEL org.stackwiz.test.fake-pocketbase={RECIPE}"),
            &builder,
            IMAGE,
        ]);
    });
    IMAGE
}

#[test]
fn the_pocketbase_type_starts_with_its_key_and_goes_healthy() {
    let image = fake_pocketbase_image();
    let lab = Lab::new();
    let env = &lab.env;
    let name = lab.name("pb");
    let created = env
        .cmd(["create", &name, "--type", "pocketbase", "--start", "--json"])
        .ok()
        .json();
    assert_eq!(created["image"], image);
    assert_eq!(created["port"], 8090);

    // The template's health check passes as soon as the server is up...
    wait_for("/api/health to answer", Duration::from_secs(10), || {
        (engine([
            "exec",
            &name,
            "wget",
            "--spider",
            "-q",
            "http://localhost:8090/api/health",
        ])
        .code
            == 0)
            .then_some(())
    });
    // ...and the key of .env reached the container (compared there; never printed).
    let env_file = std::fs::read_to_string(env.stack(&name).join(".env")).unwrap();
    let key = env_file
        .lines()
        .find_map(|l| l.strip_prefix("PB_ENCRYPTION_KEY="))
        .expect("a PB_ENCRYPTION_KEY line");
    assert_eq!(key.len(), 32, "the generated key has 32 characters");
    let same = engine([
        "exec",
        "-e",
        &format!("EXPECTED={key}"),
        &name,
        "sh",
        "-c",
        "test ${#PB_ENCRYPTION_KEY} -eq 32 && test \"$PB_ENCRYPTION_KEY\" = \"$EXPECTED\"",
    ]);
    assert!(
        same.code == 0,
        "PB_ENCRYPTION_KEY in the container is not the 32-character key of .env (exit {})",
        same.code
    );
    let mounts = engine_ok([
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}",
        &name,
    ]);
    let dir = env.stack(&name);
    for folder in ["pb_data", "pb_public", "pb_migrations", "pb_hooks"] {
        assert!(
            mounts.contains(&format!("{}:/{folder}", dir.join(folder).display())),
            "{folder} not mounted: {mounts}"
        );
    }

    // Docker runs the first check one interval (30 s in the template) after the start.
    wait_for(
        "the container to become healthy",
        Duration::from_secs(90),
        || {
            let health = engine_ok(["inspect", "-f", "{{.State.Health.Status}}", &name]);
            assert_ne!(health, "unhealthy", "the health check failed");
            (health == "healthy").then_some(())
        },
    );
    let status = lab.status(&name);
    assert_eq!(status["status"], "running");
    let service = only_service(&status);
    assert_eq!(service["service"], "pocketbase");
    assert_eq!(service["health"], "healthy");
    assert_eq!(service["image"], image);
    let human = env.cmd(["status", &name]).ok();
    assert!(
        human.stdout.contains(&format!(
            "  pocketbase       {name:<20} running (healthy)  {image}"
        )),
        "{human}"
    );

    let removed = env
        .cmd(["remove", &name, "--yes", "--purge", "--volumes", "--json"])
        .ok()
        .json();
    assert_eq!(removed["volumes_removed"], true);
    assert!(!dir.exists());
    assert_eq!(project_containers(&name), Vec::<String>::new());
}

#[test]
fn status_shows_the_ports_a_standalone_stack_publishes() {
    let lab = Lab::new();
    let env = &lab.env;
    // The standalone type, overridden in the templates folder only to give busybox a server
    // to run; the type's settings (a published host port, no proxy network) stay.
    let embedded = env.cmd(["templates", "--json"]).ok().json();
    assert!(embedded["templates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "standalone"));
    write(
        &env.base.join("_templates/standalone-template.yml"),
        "services:\n  {{ service_name }}:\n    image: {{ image }}\n    container_name: {{ name }}\n    init: true\n    \
         command: [\"httpd\", \"-f\", \"-p\", \"{{ port }}\"]\n    ports:\n      - \"{{ host_port }}:{{ port }}\"\n\n\
         networks:\n  default:\n    driver: bridge\n",
    );
    let name = lab.name("ports");
    let host_port = 20000
        + std::process::id() % 20000
        + u32::from_str_radix(&lab.id[3..7], 16).unwrap() % 20000;
    let started = env
        .cmd([
            "create",
            &name,
            "--type",
            "standalone",
            "--image",
            &test_image(),
            "--port",
            "8080",
            "--host-port",
            &host_port.to_string(),
            "--start",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(started["host_port"], host_port);
    assert!(
        !network_exists(&lab.net),
        "a standalone stack does not join the proxy network"
    );
    let status = lab.status(&name);
    let service = only_service(&status);
    assert_eq!(service["state"], "running");
    let ports: Vec<&str> = service["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        ports.contains(&format!("0.0.0.0:{host_port}->8080/tcp").as_str()),
        "{ports:?}"
    );
    assert!(
        ports
            .iter()
            .all(|p| p.ends_with(&format!(":{host_port}->8080/tcp"))),
        "{ports:?}"
    );
    let human = env.cmd(["status", &name]).ok();
    assert!(
        human
            .stdout
            .contains(&format!("  0.0.0.0:{host_port}->8080/tcp")),
        "{human}"
    );
    env.cmd(["remove", &name, "--yes", "--purge"]).ok();
    assert_eq!(project_containers(&name), Vec::<String>::new());
    assert!(
        !network_exists(&format!("{name}_default")),
        "compose removes the stack's own network"
    );
}

// ---------------------------------------------------------------------------------------
// list

#[test]
fn list_of_200_stacks_makes_exactly_one_docker_call() {
    let lab = Lab::new();
    let env = &lab.env;
    let (running, stopped, partly, gone) = (
        lab.name("running"),
        lab.name("stopped"),
        lab.name("partly"),
        lab.name("gone"),
    );
    lab.start_echo(&running);
    lab.start_echo(&stopped);
    env.cmd(["stop", &stopped]).ok();
    env.cmd([
        "create",
        &partly,
        "--type",
        "pair",
        "--image",
        &test_image(),
        "--port",
        "8080",
        "--start",
    ])
    .ok();
    engine_ok(["stop", &format!("{partly}-second")]);
    // An orphan: its containers run, its folder is gone.
    lab.start_echo(&gone);
    std::fs::remove_dir_all(env.stack(&gone)).unwrap();
    let idle: Vec<String> = (0..197).map(|i| lab.name(&format!("idle{i:03}"))).collect();
    for name in &idle {
        env.cmd(["create", name, "--image", &test_image(), "--port", "80"])
            .ok();
    }

    let log = env.path("docker-calls.log");
    let wrapper = lab.docker_wrapper(&log);
    let started = Instant::now();
    let list = env
        .cmd(["list", "--json"])
        .env("STACKWIZ_DOCKER", &wrapper)
        .ok()
        .json();
    let took = started.elapsed();
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls, "compose ls -a --format json\n",
        "list must make exactly one docker call"
    );

    let stacks = list["stacks"].as_array().unwrap();
    assert_eq!(stacks.len(), 200);
    let status = |name: &str| {
        listed(&list, "stacks", name)["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status(&running), "running");
    assert_eq!(status(&stopped), "stopped");
    assert_eq!(status(&partly), "partly running");
    assert_eq!(listed(&list, "stacks", &partly)["type"], "pair");
    for name in &idle {
        assert_eq!(status(name), "not started", "{name}");
    }
    assert_eq!(
        listed(&list, "stacks", &idle[0])["domain"],
        format!("{}.localhost", idle[0])
    );
    let orphans = list["orphans"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{list:#}");
    assert_eq!(orphans[0]["name"], gone.as_str());
    assert_eq!(orphans[0]["status"], "orphan");
    assert_eq!(orphans[0]["path"], env.stack(&gone).display().to_string());
    assert_eq!(list["warning"], Value::Null);

    let human = env.cmd(["list"]).ok();
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    partly.as_str(),
                    "pair",
                    "partly",
                    "running",
                    &format!("{partly}.localhost")
                ]),
        "{human}"
    );
    // Speed is measured by `make bench`, not asserted here; the one docker call above is
    // what keeps it fast.
    let _ = took;

    // An orphan can be removed: its containers go down although its folder is gone.
    let out = env.cmd(["remove", &gone, "--yes"]).ok();
    assert!(
        out.stdout.contains(&format!("removed orphan {gone}")),
        "{out}"
    );
    assert!(project_containers(&gone).is_empty());
    let list = env.cmd(["list", "--json"]).ok().json();
    assert_eq!(list["orphans"], serde_json::json!([]), "{list:#}");
}

// ---------------------------------------------------------------------------------------
// failures

#[test]
fn an_unreachable_engine_is_named_and_no_file_is_lost() {
    let mut lab = Lab::new();
    lab.env.set("DOCKER_HOST", "unix:///nonexistent.sock");
    let env = &lab.env;
    let name = lab.name("nowhere");
    let cannot = "Cannot connect to the Docker daemon at unix:///nonexistent.sock";

    let out = env
        .cmd([
            "create",
            &name,
            "--image",
            &test_image(),
            "--port",
            "80",
            "--start",
        ])
        .fails(1);
    assert!(
        out.stderr.contains(&format!(
            "error: stack {name} was created at {}, but `docker compose -p {name} --project-directory {}",
            env.stack(&name).display(),
            env.stack(&name).display()
        )),
        "{out}"
    );
    assert!(out.stderr.contains(cannot), "{out}");
    assert!(
        out.stderr
            .contains(&format!("hint: is the Docker engine running? Check DOCKER_HOST or DOCKER_CONTEXT, then: stackwiz doctor; then retry with: stackwiz start {name}")),
        "{out}"
    );
    assert!(
        env.stack(&name).join("docker-compose.yml").is_file()
            && env.stack(&name).join(".env").is_file()
    );

    for args in [
        vec!["start", &name],
        vec!["status", &name],
        vec!["stop", &name],
    ] {
        let out = env.cmd(&args).fails(1);
        assert!(out.stderr.contains(cannot), "{args:?}:\n{out}");
        assert!(out.stderr.contains("hint: is the Docker engine running? Check DOCKER_HOST or DOCKER_CONTEXT, then: stackwiz doctor"), "{args:?}:\n{out}");
    }

    let list = env.cmd(["list", "--json"]).ok().json();
    assert_eq!(listed(&list, "stacks", &name)["status"], "unknown");
    assert!(
        list["warning"]
            .as_str()
            .unwrap()
            .starts_with("stack states unknown: `docker compose ls -a --format json` failed"),
        "{list:#}"
    );
    assert!(list["warning"].as_str().unwrap().contains(cannot));

    let doctor = env.cmd(["doctor", "--json"]).fails(1).json();
    assert_eq!(doctor["ok"], false);
    let check = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "docker engine")
        .unwrap();
    assert_eq!(check["ok"], false);
    assert!(
        check["detail"].as_str().unwrap().contains(cannot),
        "{check:#}"
    );

    env.cmd(["remove", &name, "--yes"]).fails(1);
    assert!(
        env.stack(&name).join("docker-compose.yml").is_file(),
        "a failed remove must keep the folder"
    );
    assert!(!env.base.join(".trash").exists());
}

#[test]
fn a_start_that_fails_keeps_the_files_and_says_how_to_retry() {
    let lab = Lab::new();
    let env = &lab.env;
    let name = lab.name("noimage");
    // Not on the engine and no registry reachable: compose cannot pull it.
    let out = env
        .cmd([
            "create",
            &name,
            "--image",
            "stackwiz-test/not-here:1",
            "--port",
            "80",
            "--start",
        ])
        .fails(1);
    assert!(
        out.stderr.contains(&format!(
            "error: stack {name} was created at {}, but `docker compose -p {name} ",
            env.stack(&name).display()
        )),
        "{out}"
    );
    assert!(
        out.stderr.contains(" up -d` failed with exit status 1"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains(&format!("hint: retry with: stackwiz start {name}")),
        "{out}"
    );
    assert!(env.stack(&name).join("docker-compose.yml").is_file());
    let list = env.cmd(["list", "--json"]).ok().json();
    assert_eq!(listed(&list, "stacks", &name)["status"], "not started");
}

#[test]
fn remove_refuses_a_symlink_and_anything_that_is_not_a_stack_folder() {
    let lab = Lab::new();
    let env = &lab.env;
    let target = env.path("elsewhere/app");
    write(&target.join("docker-compose.yml"), "services: {}\n");
    let link = env.stack("linked");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    write(&env.stack("plain").join("notes.txt"), "not a stack\n");

    for extra in [vec![], vec!["--purge"]] {
        let out = env
            .cmd([vec!["remove", "linked", "--yes"], extra.clone()].concat())
            .fails(1);
        assert!(
            out.stderr.contains(&format!(
                "error: {} is a symlink, not a stack folder",
                link.display()
            )),
            "{out}"
        );
        let out = env
            .cmd([vec!["remove", "plain", "--yes"], extra].concat())
            .fails(1);
        assert!(
            out.stderr
                .contains("has no docker-compose.yml, so it is not a stack"),
            "{out}"
        );
    }
    let out = env.cmd(["remove", "../elsewhere", "--yes"]).fails(2);
    assert!(out.stderr.contains("invalid name"), "{out}");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(target.join("docker-compose.yml")).unwrap(),
        "services: {}\n"
    );
    assert!(env.stack("plain").join("notes.txt").is_file());
    assert!(!env.base.join(".trash").exists());
}

// ---------------------------------------------------------------------------------------
// compose flavours and engines

#[test]
fn the_standalone_docker_compose_runs_up_ps_and_down_when_the_plugin_is_missing() {
    // Debian's docker-compose package (tests/setup/engine.sh installs it).
    let compose_v1 = PathBuf::from(
        std::env::var_os("STACKWIZ_TEST_COMPOSE_V1")
            .unwrap_or_else(|| "/usr/bin/docker-compose".into()),
    );
    assert!(
        compose_v1.is_file(),
        "{} is not installed: run the tests with `make test`",
        compose_v1.display()
    );
    let mut lab = Lab::new();
    // A docker config without cli-plugins: `docker compose` is an unknown command. The
    // standalone program is found on PATH.
    let empty = lab.env.path("no-plugins");
    std::fs::create_dir_all(&empty).unwrap();
    let path = format!(
        "{}:{}",
        compose_v1.parent().unwrap().display(),
        lab.env.var("PATH").unwrap()
    );
    lab.env.set("DOCKER_CONFIG", &empty).set("PATH", path);
    let env = &lab.env;
    let name = lab.name("v1");

    lab.start_echo(&name);
    let version = engine_ok([
        "inspect",
        "-f",
        "{{index .Config.Labels \"com.docker.compose.version\"}}",
        &name,
    ]);
    assert_eq!(
        version, "1.29.2",
        "the container was not created by docker-compose v1"
    );
    let status = lab.status(&name);
    assert_eq!(status["status"], "running");
    let service = only_service(&status);
    assert_eq!(
        (
            service["service"].as_str(),
            service["container"].as_str(),
            service["state"].as_str()
        ),
        (Some(name.as_str()), Some(name.as_str()), Some("running"))
    );
    assert_eq!(service["image"], test_image());
    let logs = wait_for(
        "the first lines in the log",
        Duration::from_secs(10),
        || {
            let logs = env.cmd(["logs", &name, "--tail", "1000"]).ok();
            log_lines(&logs.stdout)
                .contains(&"line-149".to_string())
                .then_some(logs)
        },
    );
    assert_eq!(log_lines(&logs.stdout)[0], "hello-from-test");

    env.cmd(["stop", &name]).ok();
    assert_eq!(lab.status(&name)["status"], "stopped");
    let list = env.cmd(["list", "--json"]).ok().json();
    assert_eq!(listed(&list, "stacks", &name)["status"], "stopped");
    let doctor = env.cmd(["doctor", "--json"]).ok().json();
    let check = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "compose")
        .unwrap();
    assert_eq!(
        check["detail"],
        format!("{} version 1.29.2", compose_v1.display())
    );

    env.cmd(["down", &name]).ok();
    assert_eq!(project_containers(&name), Vec::<String>::new());
    assert_eq!(lab.status(&name)["status"], "not started");
    env.cmd(["start", &name]).ok();
    env.cmd(["remove", &name, "--yes"]).ok();
    assert_eq!(project_containers(&name), Vec::<String>::new());
}

#[test]
fn without_any_compose_the_error_says_what_to_install() {
    let mut lab = Lab::new();
    let empty = lab.env.path("no-plugins");
    std::fs::create_dir_all(&empty).unwrap();
    let bin = lab.env.path("only-docker");
    std::fs::create_dir_all(&bin).unwrap();
    let docker = which_docker();
    std::os::unix::fs::symlink(&docker, bin.join("docker")).unwrap();
    lab.env.set("DOCKER_CONFIG", &empty).set("PATH", &bin);
    let env = &lab.env;
    let name = lab.name("nocompose");
    env.cmd(["create", &name, "--image", &test_image(), "--port", "80"])
        .ok();
    for command in ["status", "start"] {
        let out = env.cmd([command, &name]).fails(1);
        assert!(out.stderr.contains("error: Docker Compose (neither the `docker compose` plugin nor `docker-compose`) not found"), "{out}");
        assert!(
            out.stderr
                .contains("hint: install Compose v2 as a docker CLI plugin"),
            "{out}"
        );
    }
    assert!(env.stack(&name).join("docker-compose.yml").is_file());
    assert!(
        !network_exists(&lab.net),
        "compose is looked for before anything changes on the engine"
    );
}

#[test]
fn a_missing_docker_program_is_named_even_with_docker_compose_installed() {
    let mut lab = Lab::new();
    let missing = lab.env.path("no/docker");
    lab.env.set("STACKWIZ_DOCKER", &missing);
    let env = &lab.env;
    let name = lab.name("nodocker");
    env.cmd(["create", &name, "--image", &test_image(), "--port", "80"])
        .ok();
    for command in ["status", "start", "stop"] {
        let out = env.cmd([command, &name]).fails(1);
        let expected = format!(
            "error: docker program `{}` not found\nhint: install Docker (Debian/Ubuntu: apt-get install docker.io), \
             or set STACKWIZ_DOCKER to the docker program's path\n",
            missing.display()
        );
        assert_eq!(out.stderr, expected, "{command}");
    }
    let list = env.cmd(["list", "--json"]).ok().json();
    assert_eq!(listed(&list, "stacks", &name)["status"], "unknown");
}

fn which_docker() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("docker"))
        .find(|p| p.is_file())
        .expect("docker on PATH")
}

#[test]
fn the_context_flag_reaches_every_docker_call() {
    let mut lab = Lab::new();
    let context = lab.name("ctx");
    // A docker config of our own (the plugin linked in) holding a context for the engine,
    // and a DOCKER_HOST that leads nowhere: only the context can reach the engine.
    let config = lab.env.path("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    let plugins =
        Path::new(&std::env::var("DOCKER_CONFIG").expect("DOCKER_CONFIG of the test engine"))
            .join("cli-plugins");
    std::os::unix::fs::symlink(plugins, config.join("cli-plugins")).unwrap();
    let host = std::env::var("DOCKER_HOST").unwrap();
    let made = Command::new("docker")
        .args([
            "context",
            "create",
            &context,
            "--docker",
            &format!("host={host}"),
        ])
        .env("DOCKER_CONFIG", &config)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "docker context create: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    lab.env
        .set("DOCKER_CONFIG", &config)
        .set("DOCKER_HOST", "unix:///nonexistent.sock");
    let log = lab.env.path("docker-calls.log");
    let wrapper = lab.docker_wrapper(&log);
    lab.env.set("STACKWIZ_DOCKER", &wrapper);
    let env = &lab.env;
    let name = lab.name("remote");

    let ctx = |args: &[&str]| -> Vec<String> {
        ["--context", &context]
            .iter()
            .chain(args)
            .map(|a| a.to_string())
            .collect()
    };
    env.cmd(ctx(&[
        "create",
        &name,
        "--type",
        "echo",
        "--image",
        &test_image(),
        "--port",
        "8080",
        "--start",
    ]))
    .ok();
    assert_eq!(
        env.cmd(ctx(&["status", &name, "--json"])).ok().json()["status"],
        "running"
    );
    env.cmd(ctx(&["stop", &name])).ok();
    let list = env.cmd(ctx(&["list", "--json"])).ok().json();
    assert_eq!(listed(&list, "stacks", &name)["status"], "stopped");
    let doctor = env.cmd(ctx(&["doctor", "--json"])).ok().json();
    assert_eq!(doctor["ok"], true, "{doctor:#}");
    // DOCKER_CONTEXT is honoured the same way.
    let status = env
        .cmd(["status", &name, "--json"])
        .env("DOCKER_CONTEXT", &context)
        .ok()
        .json();
    assert_eq!(status["status"], "stopped");

    let calls = std::fs::read_to_string(&log).unwrap();
    let prefix = format!("--context {context} ");
    assert!(calls.lines().count() >= 8, "{calls}");
    for call in calls.lines() {
        assert!(
            call.starts_with(&prefix),
            "a docker call without --context: {call}\nall calls:\n{calls}"
        );
    }
    assert!(
        calls.contains(&format!("{prefix}compose -p {name} "))
            && calls.contains(&format!("{prefix}network create {}", lab.net)),
        "{calls}"
    );

    // Without a context nothing reaches the engine.
    let out = env.cmd(["status", &name]).fails(1);
    assert!(
        out.stderr
            .contains("Cannot connect to the Docker daemon at unix:///nonexistent.sock"),
        "{out}"
    );
    env.cmd(ctx(&["remove", &name, "--yes"])).ok();
    assert_eq!(project_containers(&name), Vec::<String>::new());
}

#[test]
fn doctor_checks_and_fixes_the_network_and_init_creates_it() {
    let lab = Lab::new();
    let env = &lab.env;
    let doctor = env.cmd(["doctor", "--json"]).fails(1).json();
    assert_eq!(doctor["ok"], false);
    let failing: Vec<&str> = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["required"] == true && c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["network"], "{doctor:#}");
    let network = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "network")
        .unwrap();
    assert_eq!(network["detail"], format!("{} does not exist", lab.net));
    assert_eq!(
        network["fix"],
        format!(
            "stackwiz doctor --fix (or docker network create {})",
            lab.net
        )
    );
    let human = env.cmd(["doctor"]).fails(1);
    assert!(
        human
            .stdout
            .contains(&format!("✗ network: {} does not exist\n", lab.net)),
        "{human}"
    );
    assert!(
        human
            .stdout
            .contains("✓ docker engine: reachable, version "),
        "{human}"
    );
    assert!(
        human.stdout.ends_with("some required checks failed\n"),
        "{human}"
    );
    assert!(!network_exists(&lab.net));

    let fixed = env.cmd(["doctor", "--fix", "--json"]).ok().json();
    assert_eq!(fixed["ok"], true);
    let network = fixed["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "network")
        .unwrap();
    assert_eq!(network["detail"], format!("{} created", lab.net));
    assert!(network_exists(&lab.net));
    env.cmd(["doctor"]).ok();

    engine_ok(["network", "rm", &lab.net]);
    let init = env.cmd(["init", "--json"]).ok().json();
    assert_eq!(init["network"], format!("{} created", lab.net));
    assert!(network_exists(&lab.net));
    let again = env.cmd(["init", "--json"]).ok().json();
    assert_eq!(again["network"], format!("{} exists", lab.net));
    assert_eq!(again["written"], serde_json::json!([]));
}

#[test]
fn remove_asks_on_a_terminal_and_only_a_yes_goes_ahead() {
    let lab = Lab::new();
    let env = &lab.env;
    let name = lab.name("ask");
    lab.start_echo(&name);
    let bin = env!("CARGO_BIN_EXE_stackwiz");
    // `script` (util-linux) gives the binary a pseudo-terminal; the answer comes through it.
    let ask = |answer: &str| {
        env.program(
            "script",
            ["-qec", &format!("{bin} remove {name}"), "/dev/null"],
        )
        .stdin(format!("{answer}\n"))
        .output()
    };
    let out = ask("n");
    assert!(
        out.stdout.contains(&format!(
            "Take stack {name} down and move its folder to the trash? [y/N]"
        )),
        "{out}"
    );
    assert!(out.stdout.contains("needs confirmation"), "{out}");
    assert!(env.stack(&name).is_dir(), "a `n` must change nothing");
    assert_eq!(only_service(&lab.status(&name))["state"], "running");
    let out = ask("y");
    assert!(out.stdout.contains(&format!("removed {name}")), "{out}");
    assert!(!env.stack(&name).exists());
    assert!(project_containers(&name).is_empty());
}

#[test]
fn a_dns_failure_does_not_keep_create_from_starting_the_stack() {
    let lab = Lab::new();
    let mut env = TestEnv::new();
    env.set("STACKWIZ_BASE_DIR", &lab.env.base)
        .set("STACKWIZ_DOCKER_NETWORK", &lab.net)
        // Cloudflare stays on a closed loopback port: every request fails at once.
        .set("STACKWIZ_CF_API_TOKEN", "tok-unused-9")
        .set("STACKWIZ_PUBLIC_IP", "93.184.216.34")
        .set("STACKWIZ_HTTP_TIME_SCALE", "0.01");
    let name = lab.name("dnsfail");
    let domain = format!("{name}.example.com");
    let out = env
        .cmd([
            "create",
            &name,
            "--type",
            "echo",
            "--image",
            &test_image(),
            "--port",
            "8080",
            "--domain",
            &domain,
            "--dns",
            "--start",
        ])
        .fails(1);
    assert!(
        out.stderr.contains(&format!(
            "error: stack {name} was created at {} and it was started, but ",
            lab.env.stack(&name).display()
        )),
        "{out}"
    );
    assert!(
        out.stderr.contains(&format!(
            "retry with: stackwiz dns create {domain} --stack {name}"
        )),
        "{out}"
    );
    assert!(!out.says("tok-unused-9"));
    assert_eq!(only_service(&lab.status(&name))["state"], "running");
}

#[test]
fn a_crash_looping_container_is_restarting_not_stopped() {
    let lab = Lab::new();
    let env = &lab.env;
    write(
        &env.base.join("_templates/crash-template.yml"),
        "services:\n  {{ name }}:\n    image: {{ image }}\n    container_name: {{ name }}\n    restart: always\n    command: [\"sh\", \"-c\", \"exit 3\"]\nnetworks:\n  default:\n    name: {{ network }}\n    external: true\n",
    );
    let name = lab.name("crash");
    env.cmd([
        "create",
        &name,
        "--type",
        "crash",
        "--image",
        &test_image(),
        "--start",
    ])
    .ok();
    let status = wait_for("the container to restart", Duration::from_secs(30), || {
        let s = lab.status(&name);
        (only_service(&s)["state"] == "restarting").then_some(s)
    });
    assert_eq!(status["status"], "restarting", "{status}");
    // The container flips between restarting and a brief run: the list must reach
    // "restarting" too.
    wait_for(
        "list to show it restarting",
        Duration::from_secs(30),
        || {
            let list = env.cmd(["list", "--json"]).ok().json();
            let state = listed(&list, "stacks", &name)["status"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (state == "restarting").then_some(())
        },
    );
}

#[test]
fn removing_a_stack_with_a_real_domain_but_no_token_says_its_records_were_not_checked() {
    let lab = Lab::new();
    let env = &lab.env;
    let name = lab.name("notoken");
    let domain = format!("{name}.example.com");
    env.cmd([
        "create",
        &name,
        "--image",
        &test_image(),
        "--port",
        "80",
        "--domain",
        &domain,
    ])
    .ok();
    let out = env.cmd(["remove", &name, "--yes"]).ok();
    assert!(
        out.stdout.contains(&format!(
            "note: DNS records not checked: no Cloudflare token is configured; once it is set: stackwiz dns delete {domain} --stack {name} --yes"
        )),
        "{out}"
    );
    // A *.localhost stack has nothing to say about DNS.
    let local = lab.name("local");
    env.cmd(["create", &local, "--image", &test_image(), "--port", "80"])
        .ok();
    let out = env.cmd(["remove", &local, "--yes", "--json"]).ok();
    assert_eq!(out.json()["dns"], Value::Null, "{out}");
}

// ---------------------------------------------------------------------------------------
// orphans

/// Removes, when dropped, the named volumes a test made outside stackwiz.
struct Volumes(Vec<String>);

impl Drop for Volumes {
    fn drop(&mut self) {
        engine(
            ["volume", "rm", "-f"]
                .into_iter()
                .chain(self.0.iter().map(String::as_str)),
        );
    }
}

/// A compose file with one sleeping busybox service and a named volume `data`.
fn compose_with_volume(container: &str) -> String {
    format!(
        "services:\n  app:\n    image: {}\n    container_name: {container}\n    init: true\n    \
         command: [\"sleep\", \"3600\"]\n    volumes: [\"data:/data\"]\nvolumes:\n  data: {{}}\n",
        test_image()
    )
}

#[test]
fn removing_an_orphan_touches_only_its_own_compose_project_and_its_volumes() {
    let lab = Lab::new();
    let env = &lab.env;
    // A folder NAME in the base dir whose project Compose knows as `ID_orphan` (a name a
    // stack could not have), and an unrelated project called NAME elsewhere on the engine.
    let name = lab.name("web");
    let project = format!("{}_orphan", lab.id);
    let _volumes = Volumes(vec![format!("{name}_data"), format!("{project}_data")]);
    let folder = env.stack(&name);
    write(
        &folder.join("docker-compose.yml"),
        &compose_with_volume(&lab.name("orphan")),
    );
    let unrelated = env.path(&format!("elsewhere/{name}/docker-compose.yml"));
    write(&unrelated, &compose_with_volume(&lab.name("other")));
    for (p, file) in [
        (&project, folder.join("docker-compose.yml")),
        (&name, unrelated),
    ] {
        engine_ok(["compose", "-p", p, "-f", file.to_str().unwrap(), "up", "-d"]);
    }
    std::fs::remove_dir_all(&folder).unwrap();
    let list = env.cmd(["list", "--json"]).ok().json();
    let orphans = list["orphans"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{list:#}");
    assert_eq!(orphans[0]["name"], project.as_str());
    assert_eq!(orphans[0]["path"], folder.display().to_string());

    // By its folder's name: refused, and the project name is given.
    let out = env.cmd(["remove", &name, "--yes", "--volumes"]).fails(1);
    assert!(
        out.stderr
            .contains(&format!("belong to the Compose project {project}")),
        "{out}"
    );
    assert!(
        out.stderr.contains(&format!(
            "hint: remove them by their project name: stackwiz remove {project}"
        )),
        "{out}"
    );
    // By its project name: only that project goes, with its volume.
    let out = env.cmd(["remove", &project, "--yes", "--volumes"]).ok();
    assert!(
        out.stdout.contains(&format!("removed orphan {project}")),
        "{out}"
    );
    assert!(project_containers(&project).is_empty());
    assert_ne!(
        engine(["volume", "inspect", &format!("{project}_data")]).code,
        0
    );
    // The unrelated project is untouched: its container and its volume are still there.
    assert_eq!(project_containers(&name).len(), 1);
    assert_eq!(
        engine(["volume", "inspect", &format!("{name}_data")]).code,
        0
    );
    // And it is no orphan of ours: a remove by its name is refused.
    let out = env.cmd(["remove", &name, "--yes", "--volumes"]).fails(1);
    assert!(
        out.stderr.contains("not found") || out.stderr.contains("no stack"),
        "{out}"
    );
    assert_eq!(project_containers(&name).len(), 1);
    assert_eq!(
        engine(["volume", "inspect", &format!("{name}_data")]).code,
        0
    );
    engine(["compose", "-p", &name, "down", "-v"]);
}

// ---------------------------------------------------------------------------------------
// docker calls per command (a fake docker that logs each call)

/// A TestEnv whose docker is a script logging each call (one line) to `bin/calls.log`.
/// `compose` behaves as `plugin` says: `ok` (v2 installed; `up` fails on the proxy network
/// until `bin/net` exists, and `network create` makes it), `missing` (docker's answer
/// when the plugin is not installed; a logging `docker-compose` on PATH instead).
fn counted(plugin: &str, network_present: bool) -> TestEnv {
    let mut env = TestEnv::new();
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = bin.join("calls.log");
    let net = bin.join("net");
    if network_present {
        write(&net, "");
    }
    let compose = match plugin {
        "ok" => format!(
            "*' up -d'*) [ -e '{net}' ] || {{ echo 'network traefik_proxy declared as external, but could not be found' >&2; exit 1; }};;\n\
             *) ;;",
            net = net.display()
        ),
        _ => "*) echo \"docker: 'compose' is not a docker command.\" >&2; echo \"See 'docker --help'\" >&2; exit 1;;".into(),
    };
    write(
        &bin.join("docker"),
        &format!(
            "#!/bin/sh\nprintf 'docker %s\\n' \"$*\" >> '{log}'\n\
             case \"$1\" in\n\
             compose) case \" $* \" in\n{compose}\nesac;;\n\
             network) [ \"$2\" = create ] && : > '{net}';;\n\
             esac\nexit 0\n",
            log = log.display(),
            net = net.display()
        ),
    );
    write(
        &bin.join("docker-compose"),
        &format!(
            "#!/bin/sh\nprintf 'docker-compose %s\\n' \"$*\" >> '{}'\nexit 0\n",
            log.display()
        ),
    );
    chmod_x(&bin.join("docker"));
    chmod_x(&bin.join("docker-compose"));
    let path = format!("{}:{}", bin.display(), env.var("PATH").unwrap_or_default());
    env.set("STACKWIZ_DOCKER", bin.join("docker"))
        .set("PATH", path)
        .set("STACKWIZ_DOCKER_NETWORK", "traefik_proxy")
        .set("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .unset("DOCKER_CONFIG");
    env.cmd(["create", "web", "--image", "nginx", "--port", "80"])
        .ok();
    env
}

/// The calls logged since the last look, each as `docker ARGS` with the stack's flags
/// (`-p web --project-directory DIR -f FILE`) left out; the log is emptied.
fn calls(env: &TestEnv) -> Vec<String> {
    let log = env.path("bin/calls.log");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let dir = env.stack("web");
    let flags = format!(
        " -p web --project-directory {} -f {}",
        dir.display(),
        dir.join("docker-compose.yml").display()
    );
    text.lines().map(|l| l.replace(&flags, "")).collect()
}

#[test]
fn each_lifecycle_command_is_one_docker_call_when_all_is_well() {
    let env = counted("ok", true);
    assert_eq!(calls(&env), Vec::<String>::new(), "create calls no docker");
    for (command, call) in [
        ("start", "docker compose up -d"),
        ("stop", "docker compose stop"),
        ("restart", "docker compose restart"),
        ("down", "docker compose down --remove-orphans"),
    ] {
        env.cmd([command, "web"]).ok();
        assert_eq!(calls(&env), [call], "{command}");
    }
    env.cmd(["update", "web"]).ok();
    assert_eq!(
        calls(&env),
        ["docker compose pull", "docker compose up -d"],
        "update"
    );
    env.cmd(["remove", "web", "--yes"]).ok();
    assert_eq!(calls(&env), ["docker compose down --remove-orphans"]);
}

#[test]
fn start_creates_the_missing_proxy_network_when_up_reports_it_then_starts_again() {
    let env = counted("ok", false);
    let _ = calls(&env);
    let out = env.cmd(["start", "web", "--json"]).ok().json();
    assert_eq!(out["network_created"], true, "{out:#}");
    assert_eq!(
        calls(&env),
        [
            "docker compose up -d",
            "docker network create traefik_proxy",
            "docker compose up -d"
        ]
    );
    env.cmd(["start", "web"]).ok();
    assert_eq!(calls(&env), ["docker compose up -d"]);
}

#[test]
fn without_the_plugin_the_standalone_docker_compose_runs_the_command() {
    let env = counted("missing", true);
    let _ = calls(&env);
    let out = env.cmd(["start", "web"]).ok();
    assert!(
        !out.stderr.contains("docker"),
        "docker's \"not a docker command\" is kept back:\n{out}"
    );
    assert_eq!(
        calls(&env),
        [
            "docker compose up -d",
            "docker compose version",
            "docker-compose up -d"
        ]
    );
    env.cmd(["stop", "web"]).ok();
    assert_eq!(
        calls(&env),
        [
            "docker compose stop",
            "docker compose version",
            "docker-compose stop"
        ]
    );
    env.cmd(["remove", "web", "--yes"]).ok();
    assert_eq!(
        calls(&env),
        [
            "docker compose down --remove-orphans",
            "docker compose version",
            "docker-compose down --remove-orphans"
        ]
    );
}
