//! The docker runner on its unhappy paths: a silent engine (every command ends within the
//! deadline, names the command, and leaves no process behind), a reader that closes our
//! stdout (`logs | head -1` ends quietly with exit 0), and `.env` values that docker or
//! Compose print raw, Go-quoted or JSON-escaped (never shown, in any mode).
//!
//! Fake docker programs are small shell scripts first in STACKWIZ_DOCKER; the last tests
//! use the real engine (tests/setup/engine.sh).

// The tests run the binary and docker directly.
#![allow(clippy::disallowed_methods)]

use crate::support;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::{require_engine, test_image, write, Out, Run, TestEnv};

/// No test command may take longer than this: a hang fails the test instead of the suite.
const WATCHDOG: Duration = Duration::from_secs(60);

fn script(env: &TestEnv, name: &str, body: &str) -> PathBuf {
    let path = env.path(&format!("bin/{name}"));
    write(&path, &format!("#!/bin/sh\n{body}"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A stack folder written by hand (no docker needed to make it).
fn stack(env: &TestEnv, name: &str, compose: &str, dotenv: &str) -> PathBuf {
    let dir = env.stack(name);
    write(
        &dir.join("docker-compose.yml"),
        &format!("# stackwiz: type=generic domain={name}.localhost\n{compose}"),
    );
    write(&dir.join(".env"), dotenv);
    dir
}

/// Run with the watchdog: past [`WATCHDOG`] the command is killed and the test fails.
fn bounded(run: Run) -> Out {
    let mut cmd = run.cmd;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let desc = format!("{cmd:?}");
    let mut child = cmd.spawn().expect("spawn");
    let readers = [
        drain(child.stdout.take().unwrap()),
        drain(child.stderr.take().unwrap()),
    ];
    let code = wait_bounded(&mut child, &desc);
    let [stdout, stderr] = readers.map(|r| r.join().unwrap());
    Out {
        code,
        stdout,
        stderr,
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn wait_bounded(child: &mut Child, desc: &str) -> i32 {
    let until = Instant::now() + WATCHDOG;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{desc} did not end within {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a process runs no more (gone, or a zombie not yet reaped by its new parent).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            stat[stat.rfind(')').unwrap() + 1..]
                .split_whitespace()
                .next()
                == Some("Z")
        }
    }
}

/// Every pid a fake docker wrote to `file` runs no more (a kill is delivered, not waited
/// for: allow the kernel a moment, bounded).
fn assert_all_gone(file: &Path) {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let pids: Vec<i32> = text
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(!pids.is_empty(), "the fake docker never ran");
    let until = Instant::now() + Duration::from_secs(5);
    while !pids.iter().all(|p| gone(*p)) {
        assert!(Instant::now() < until, "left running: {pids:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A docker that accepts every call and never answers, like an engine that accepts the
/// connection and then says nothing. It starts a child of its own, as docker starts the
/// Compose plugin, and records both pids.
fn silent_docker(env: &TestEnv, pids: &Path) -> PathBuf {
    script(
        env,
        "docker-silent",
        &format!("sleep 1000 &\necho $$ $! >> '{}'\nwait\n", pids.display()),
    )
}

#[test]
fn a_silent_engine_ends_every_command_within_the_deadline_naming_it_and_leaves_no_process() {
    let mut env = TestEnv::new();
    let pids = env.path("pids");
    let docker = silent_docker(&env, &pids);
    env.set("STACKWIZ_DOCKER", &docker)
        .set("STACKWIZ_DOCKER_TIMEOUT", "1");
    stack(
        &env,
        "app",
        "services:\n  web:\n    image: busybox\n",
        "A=b\n",
    );
    let silent = |out: &Out, command: &str| {
        let said = format!(
            "`{} {command}` gave no answer within 1 s and was stopped",
            docker.display()
        );
        assert!(out.says(&said), "expected {said:?}:\n{out}");
    };

    // list keeps listing the folders, and says why their states are unknown.
    let out = bounded(env.cmd(["list"]));
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("app"), "{out}");
    silent(&out, "compose ls -a --format json");

    let out = bounded(env.cmd(["status", "app"]));
    assert_eq!(out.code, 1, "{out}");
    let dir = env.stack("app");
    silent(
        &out,
        &format!(
            "compose -p app --project-directory {} -f {}/docker-compose.yml ps -a --format json",
            dir.display(),
            dir.display()
        ),
    );
    assert!(
        out.stderr
            .contains("hint: the Docker engine is not answering"),
        "{out}"
    );
    assert!(out.stderr.contains("STACKWIZ_DOCKER_TIMEOUT"), "{out}");

    let out = bounded(env.cmd(["status", "app", "--json"]));
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(out.json()["error"]["kind"], "timeout", "{out}");

    for args in [vec!["logs", "app"], vec!["logs", "app", "--follow"]] {
        let out = bounded(env.cmd(&args));
        assert_eq!(out.code, 1, "{out}");
        silent(&out, "compose version");
    }

    let out = bounded(env.cmd(["remove", "app", "--yes"]));
    assert_eq!(out.code, 1, "{out}");
    silent(
        &out,
        &format!(
            "compose -p app --project-directory {} -f {}/docker-compose.yml down --remove-orphans",
            dir.display(),
            dir.display()
        ),
    );
    assert!(
        env.stack("app").join(".env").exists(),
        "nothing may be lost"
    );

    let out = bounded(env.cmd(["doctor"]));
    assert_eq!(out.code, 1, "{out}");
    silent(&out, "version --format '{{.Server.Version}}'");

    assert_all_gone(&pids);
}

/// The pids of the processes whose environment holds `needle` (a test's own DOCKER_HOST).
fn processes_with_env(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.parse::<i32>().is_err() || gone(name.parse().unwrap()) {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ
            .split(|&b| b == 0)
            .any(|var| var == needle.as_bytes())
        {
            found.push(name);
        }
    }
    found
}

#[test]
fn the_real_docker_on_an_engine_that_never_answers_is_stopped_with_its_compose_plugin() {
    let mut env = TestEnv::new();
    // An engine that takes every connection and never says a word.
    let sock = env.path("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let host = format!("unix://{}", sock.display());
    env.set("DOCKER_HOST", &host)
        .set(
            "STACKWIZ_DOCKER",
            std::env::var("STACKWIZ_TEST_DOCKER").unwrap_or("docker".into()),
        )
        .set("STACKWIZ_DOCKER_TIMEOUT", "1");
    stack(&env, "app", "services:\n  web:\n    image: busybox\n", "");
    for args in [
        vec!["status", "app"],
        vec!["logs", "app"],
        vec!["start", "app"],
        vec!["remove", "app", "--yes"],
        vec!["doctor"],
    ] {
        let out = bounded(env.cmd(&args));
        assert_eq!(out.code, 1, "{args:?}: {out}");
        assert!(
            out.says("gave no answer within 1 s and was stopped"),
            "{args:?}: {out}"
        );
    }
    // docker runs Compose as a child process: neither is left talking to the engine.
    let needle = format!("DOCKER_HOST={host}");
    let until = Instant::now() + Duration::from_secs(5);
    while !processes_with_env(&needle).is_empty() {
        assert!(
            Instant::now() < until,
            "left running: {:?}",
            processes_with_env(&needle)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_long_operation_on_a_silent_engine_ends_within_the_deadline_too() {
    // The Compose probe answers; `up` then hangs before printing anything.
    let mut env = TestEnv::new();
    let pids = env.path("pids");
    let docker = script(
        &env,
        "docker-up-silent",
        &format!(
            "case \"$*\" in *'compose version'*) echo 'Docker Compose version v2.40.3'; exit 0;; esac\n\
             sleep 1000 &\necho $$ $! >> '{}'\nwait\n",
            pids.display()
        ),
    );
    env.set("STACKWIZ_DOCKER", &docker)
        .set("STACKWIZ_DOCKER_TIMEOUT", "1");
    stack(&env, "app", "services:\n  web:\n    image: busybox\n", "");
    for args in [vec!["start", "app"], vec!["down", "app", "--json"]] {
        let out = bounded(env.cmd(&args));
        assert_eq!(out.code, 1, "{out}");
        assert!(
            out.says("gave no answer within 1 s and was stopped"),
            "{out}"
        );
    }
    assert_all_gone(&pids);
}

/// `stackwiz ARGS` with stdout read until its first line, then closed.
fn first_line_then_close(run: Run) -> (String, Out) {
    let mut cmd = run.cmd;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let desc = format!("{cmd:?}");
    let mut child = cmd.spawn().expect("spawn");
    let stderr = drain(child.stderr.take().unwrap());
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // The reader is gone (as `head -1` exits): our end of the pipe is closed here.
    let code = wait_bounded(&mut child, &desc);
    let out = Out {
        code,
        stdout: String::new(),
        stderr: stderr.join().unwrap(),
    };
    (line, out)
}

#[test]
fn logs_into_a_reader_that_stops_after_one_line_end_quietly_and_stop_docker() {
    let mut env = TestEnv::new();
    let pids = env.path("pids");
    // Three lines, then a container that says nothing more for a long time.
    let docker = script(
        &env,
        "docker-logs",
        &format!(
            "case \"$*\" in *'compose version'*) echo 'Docker Compose version v2.40.3'; exit 0;; esac\n\
             sleep 1000 &\necho $$ $! >> '{}'\n\
             printf 'web-1  | one\\nweb-1  | two\\nweb-1  | three\\n'\nwait\n",
            pids.display()
        ),
    );
    // A deadline far away: the closed pipe must end it, not the deadline.
    env.set("STACKWIZ_DOCKER", &docker)
        .set("STACKWIZ_DOCKER_TIMEOUT", "600");
    stack(&env, "app", "services:\n  web:\n    image: busybox\n", "");
    for args in [vec!["logs", "app"], vec!["logs", "app", "--follow"]] {
        let (line, out) = first_line_then_close(env.cmd(&args));
        assert_eq!(line, "web-1  | one\n");
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{args:?}: {out}");
        assert_all_gone(&pids);
    }
}

/// A value with every character that quoting changes: `"`, `\`, a TAB, `$` and spaces.
/// `zq9` is in every form it can be printed in, so no output may contain it.
const SECRET: &str = "pw\"SE\\CR ET$x\tzq9";

/// How the `.env` holds it (single quotes: literal for Compose).
fn secret_env(key: &str) -> String {
    format!("{key}='{SECRET}'\nTZ=UTC\n")
}

/// A docker that fails the way Compose does with a bad value: the value Go-quoted (as a
/// `strconv` error prints it), raw (as the daemon's errors print it) and JSON-escaped, next
/// to a container name that is no secret. `logs` prints it raw on stdout.
fn leaky_docker(env: &TestEnv) -> PathBuf {
    script(
        env,
        "docker-leaky",
        "case \"$*\" in *'compose version'*) echo 'Docker Compose version v2.40.3'; exit 0;; esac\n\
         case \"$*\" in *' logs '*) printf 'web-1  | password is pw\"SE\\\\CR ET$x\\tzq9\\n'; exit 0;; esac\n\
         printf ' Container app-web-1  Creating\\n' >&2\n\
         printf 'strconv.ParseFloat: parsing \"pw\\\\\"SE\\\\\\\\CR ET$x\\\\tzq9\": invalid syntax\\n' >&2\n\
         printf 'Error response from daemon: Invalid container name (pw\"SE\\\\CR ET$x\\tzq9)\\n' >&2\n\
         printf '{\"message\":\"invalid hostPort: pw\\\\\"SE\\\\\\\\CR ET$x\\\\tzq9\"}\\n' >&2\n\
         exit 1\n",
    )
}

fn assert_hidden(out: &Out, what: &str) {
    for form in ["zq9", "SE\\CR", "pw\"SE", "pw\\\"SE"] {
        assert!(!out.says(form), "{what}: {form:?} shown:\n{out}");
    }
}

#[test]
fn no_env_value_is_shown_in_any_form_whatever_docker_prints() {
    let mut env = TestEnv::new();
    let docker = leaky_docker(&env);
    env.set("STACKWIZ_DOCKER", &docker);
    stack(
        &env,
        "app",
        "services:\n  web:\n    image: busybox\n",
        // A value that repeats the stack's name: the name stays shown in container names.
        &format!("{}SVC=app\n", secret_env("PW")),
    );
    // The fake prints exactly the forms the scrubber must know.
    let raw = std::process::Command::new(&docker)
        .arg("up")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&raw.stderr);
    assert!(
        printed.contains(r#"parsing "pw\"SE\\CR ET$x\tzq9""#),
        "{printed}"
    );
    assert!(printed.contains("(pw\"SE\\CR ET$x\tzq9)"), "{printed}");

    for args in [
        vec!["start", "app"],
        vec!["start", "app", "--json"],
        vec!["stop", "app"],
        vec!["update", "app", "--json"],
        vec!["down", "app"],
        vec!["status", "app"],
        vec!["status", "app", "--json"],
        vec!["remove", "app", "--yes"],
        vec!["remove", "app", "--yes", "--json"],
    ] {
        let out = bounded(env.cmd(&args));
        assert_eq!(out.code, 1, "{args:?}: {out}");
        assert_hidden(&out, &format!("{args:?}"));
        assert!(out.says("****"), "{args:?}: {out}");
    }
    // Shown as it comes on a terminal, and still only the value is hidden.
    let out = bounded(env.cmd(["start", "app"]));
    assert!(
        out.stderr.contains(" Container app-web-1  Creating\n"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("Error response from daemon: Invalid container name (****)"),
        "{out}"
    );

    for args in [vec!["logs", "app"], vec!["logs", "app", "--json"]] {
        let out = bounded(env.cmd(&args));
        assert_eq!(out.code, 0, "{args:?}: {out}");
        assert_hidden(&out, &format!("{args:?}"));
        assert!(out.stdout.contains("web-1  | password is ****"), "{out}");
    }
}

/// A stack name no other test (or run) uses on the shared engine.
fn unique() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("swr{:08x}", h.finish() as u32)
}

/// Removes the project's containers and network when dropped, pass or fail.
struct Down(String);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", &format!("{}-web-1", self.0)])
            .output();
        let _ = std::process::Command::new("docker")
            .args(["network", "rm", &format!("{}_default", self.0)])
            .output();
    }
}

#[test]
fn compose_errors_about_an_env_value_never_show_it() {
    require_engine();
    let mut env = TestEnv::new();
    // A name of its own on the shared engine.
    let name = unique();
    let _down = Down(name.clone());
    env.set(
        "STACKWIZ_DOCKER",
        std::env::var("STACKWIZ_TEST_DOCKER").unwrap_or("docker".into()),
    );
    let image = test_image();
    // Compose prints a bad port raw, and a bad memory limit Go-quoted.
    for (field, compose) in [
        (
            "port",
            format!("services:\n  web:\n    image: {image}\n    ports:\n      - \"${{PW}}:80\"\n"),
        ),
        (
            "mem_limit",
            format!("services:\n  web:\n    image: {image}\n    mem_limit: \"${{PW}}\"\n"),
        ),
    ] {
        stack(&env, &name, &compose, &secret_env("PW"));
        for args in [vec!["start", &name], vec!["start", &name, "--json"]] {
            let out = bounded(env.cmd(&args));
            assert_eq!(out.code, 1, "{field} {args:?}: {out}");
            assert_hidden(&out, &format!("{field} {args:?}"));
            assert!(out.says("****"), "{field} {args:?}: {out}");
        }
    }
}

#[test]
fn a_sigterm_takes_the_running_docker_and_its_children_with_stackwiz() {
    let mut env = TestEnv::new();
    let pids = env.path("pids");
    let docker = silent_docker(&env, &pids);
    env.set("STACKWIZ_DOCKER", &docker)
        .set("STACKWIZ_DOCKER_TIMEOUT", "600");
    stack(&env, "app", "services:\n  web:\n    image: busybox\n", "");
    let mut cmd = env.cmd(["status", "app"]).cmd;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let desc = format!("{cmd:?}");
    let mut child = cmd.spawn().unwrap();
    // Once docker runs (and has started its own child), stop stackwiz as a service manager would.
    let until = Instant::now() + WATCHDOG;
    while !std::fs::read_to_string(&pids).is_ok_and(|t| t.ends_with('\n')) {
        assert!(Instant::now() < until, "the fake docker never ran");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(wait_bounded(&mut child, &desc), 143);
    assert_all_gone(&pids);
}
