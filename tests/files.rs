//! Files and signals on the unhappy path, through the real binary: a racer swapping files for
//! symlinks, symlinks planted where stackwiz reads or moves, `remove` checking before it
//! downs anything and saying what it did when it fails midway, SIGINT/SIGTERM/SIGKILL during
//! a create, the terminal's echo after Ctrl-C, and settings that are not UTF-8.
//!
//! None of these needs the engine: a fake `docker` (a script named by STACKWIZ_DOCKER) logs
//! its calls, and holds a create in the middle where a test needs it held.
#![allow(clippy::disallowed_methods)]

use crate::support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{write, TestEnv};

const BUILD_PREFIX: &str = ".stackwiz-new-";

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Mode, owner, group and content of a file, to see that nothing touched it.
fn fingerprint(path: &Path) -> (u32, u32, u32, String) {
    let m = std::fs::symlink_metadata(path).unwrap();
    let text = if m.is_file() {
        std::fs::read_to_string(path).unwrap()
    } else {
        String::new()
    };
    (m.mode() & 0o7777, m.uid(), m.gid(), text)
}

fn builds_in(base: &Path) -> Vec<String> {
    std::fs::read_dir(base)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(BUILD_PREFIX))
        .collect()
}

/// A fake docker: logs each call to `calls.log`; `compose version` works; a `compose ...
/// config -q` (the check of a user's template) writes its PID to `held` and sleeps; `compose
/// ... down` runs `on_down` (shell) first. Everything else succeeds quietly.
fn fake_docker(env: &TestEnv, on_down: &str) -> PathBuf {
    let path = env.path("bin/docker");
    let dir = env.path("");
    write(
        &path,
        &format!(
            r#"#!/bin/sh
printf '%s\n' "$*" >> '{dir}/calls.log'
case "$*" in
  "compose version"*) echo "Docker Compose version v2.99.0"; exit 0 ;;
  *" config -q"*) echo $$ > '{dir}/held.tmp'; mv '{dir}/held.tmp' '{dir}/held'; exec sleep 60 ;;
  *" down"*) {on_down} ;;
esac
exit 0
"#,
            dir = dir.display(),
        ),
    );
    chmod(&path, 0o755);
    path
}

fn calls(env: &TestEnv) -> String {
    std::fs::read_to_string(env.path("calls.log")).unwrap_or_default()
}

fn wait_for(what: &str, timeout: Duration, mut probe: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !probe() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "stackwiz did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pid(n: u32) -> rustix::process::Pid {
    rustix::process::Pid::from_raw(n as i32).unwrap()
}

// ---------------------------------------------------------------------------------------
// races and symlinks

#[test]
fn a_racer_swapping_the_new_env_for_a_symlink_never_reaches_the_victim() {
    let env = TestEnv::new();
    let victim = env.path("victim");
    write(&victim, "the victim's own content\n");
    chmod(&victim, 0o600);
    let before = fingerprint(&victim);
    let stop = Arc::new(AtomicBool::new(false));
    let racer = {
        let (stop, base, victim) = (stop.clone(), env.base.clone(), victim.clone());
        std::thread::spawn(move || {
            let mut swaps = 0;
            while !stop.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir(&base).unwrap().flatten() {
                    if !entry
                        .file_name()
                        .to_string_lossy()
                        .starts_with(BUILD_PREFIX)
                    {
                        continue;
                    }
                    let dotenv = entry.path().join(".env");
                    if std::fs::remove_file(&dotenv).is_ok()
                        && std::os::unix::fs::symlink(&victim, &dotenv).is_ok()
                    {
                        swaps += 1;
                    }
                }
            }
            swaps
        })
    };
    let mut created = 0;
    for i in 0..100 {
        let out = env
            .cmd([
                "create",
                &format!("s{i}"),
                "--image",
                "nginx",
                "--port",
                "80",
            ])
            .env("STACKWIZ_DEFAULT_USER", "nobody")
            .env("STACKWIZ_DEFAULT_GROUP", "nogroup")
            .output();
        // Each create either wins or fails cleanly; none may touch the victim.
        assert!(matches!(out.code, 0 | 1), "{out}");
        created += usize::from(out.code == 0);
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = racer.join().unwrap();
    assert_eq!(
        fingerprint(&victim),
        before,
        "the victim changed ({swaps} swaps)"
    );
    assert!(created > 0);
    assert!(swaps > 0, "the racer never got in: the test proves nothing");
    assert_eq!(builds_in(&env.base), Vec::<String>::new());
}

#[test]
fn a_trash_symlink_is_refused_before_any_container_goes_down() {
    let env = TestEnv::new();
    let docker = fake_docker(&env, "exit 0");
    env.cmd(["create", "app", "--image", "nginx", "--port", "80"])
        .ok();
    let outside = env.path("outside");
    std::fs::create_dir(&outside).unwrap();
    chmod(&outside, 0o755);
    let before = fingerprint(&outside);
    let trash = env.base.join(".trash");
    std::os::unix::fs::symlink(&outside, &trash).unwrap();

    for extra in [None, Some("--volumes")] {
        let mut args = vec!["remove", "app", "--yes"];
        args.extend(extra);
        let out = env.cmd(args).env("STACKWIZ_DOCKER", &docker).fails(1);
        assert_eq!(
            out.stderr,
            format!(
                "error: {} is a symlink; stackwiz does not follow symlinks inside the base dir\n",
                trash.display()
            )
        );
    }
    assert!(!calls(&env).contains("down"), "{}", calls(&env));
    assert!(env.stack("app").join(".env").is_file());
    assert_eq!(fingerprint(&outside), before);
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

#[test]
fn a_trash_that_is_a_file_is_refused_before_any_container_goes_down() {
    let env = TestEnv::new();
    let docker = fake_docker(&env, "exit 0");
    env.cmd(["create", "app", "--image", "nginx", "--port", "80"])
        .ok();
    write(&env.base.join(".trash"), "not a folder\n");
    let out = env
        .cmd(["remove", "app", "--yes"])
        .env("STACKWIZ_DOCKER", &docker)
        .fails(1);
    assert!(
        out.stderr.starts_with(&format!(
            "error: cannot open folder {}",
            env.base.join(".trash").display()
        )),
        "{out}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(!calls(&env).contains("down"), "{}", calls(&env));
    assert!(env.stack("app").is_dir());
}

#[test]
fn a_trash_on_another_filesystem_is_refused_before_any_container_goes_down() {
    let env = TestEnv::new();
    let docker = fake_docker(&env, "exit 0");
    env.cmd(["create", "app", "--image", "nginx", "--port", "80"])
        .ok();
    let trash = env.base.join(".trash");
    std::fs::create_dir(&trash).unwrap();
    // A tmpfs mounted on the trash, in a mount namespace of its own (the test runs as root).
    let script = format!(
        "mount -t tmpfs none '{}' && exec '{}' remove app --yes",
        trash.display(),
        env!("CARGO_BIN_EXE_stackwiz")
    );
    let out = env
        .program("unshare", ["-m", "sh", "-c", &script])
        .env("STACKWIZ_DOCKER", &docker)
        .fails(1);
    assert!(
        out.stderr.starts_with(&format!(
            "error: {} is on another filesystem than {}, so the stack cannot be moved there\nhint: ",
            trash.display(),
            env.stack("app").display()
        )),
        "{out}"
    );
    assert!(!calls(&env).contains("down"), "{}", calls(&env));
    assert!(env.stack("app").join(".env").is_file());
}

#[test]
fn a_remove_that_fails_after_the_containers_went_down_says_what_was_done() {
    let env = TestEnv::new();
    // While the containers go down, the folder disappears from under stackwiz.
    let away = env.path("moved-away");
    let docker = fake_docker(
        &env,
        &format!("mv '{}' '{}'", env.stack("app").display(), away.display()),
    );
    env.cmd(["create", "app", "--image", "nginx", "--port", "80"])
        .ok();
    let out = env
        .cmd(["remove", "app", "--yes", "--volumes"])
        .env("STACKWIZ_DOCKER", &docker)
        .fails(1);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!(
            "error: the containers of stack app were taken down and its volumes removed; its \
             folder {} was not moved to the trash, but cannot move the stack to {}/",
            env.stack("app").display(),
            env.base.join(".trash").display()
        )),
        "{out}"
    );
    assert!(out.stderr.contains("stackwiz remove app --yes"), "{out}");
    assert!(calls(&env).contains("down"));
    assert!(away.join(".env").is_file(), "nothing may be lost");
    assert!(
        !env.base.join(".trash").exists(),
        "the trash made for it is taken back"
    );
}

#[test]
fn a_symlinked_compose_file_or_stack_folder_is_never_read() {
    let env = TestEnv::new();
    let docker = fake_docker(&env, "exit 0");
    env.cmd(["create", "app", "--image", "nginx", "--port", "80"])
        .ok();
    // The compose file swapped for a symlink to the stack's own .env (secrets).
    let compose = env.stack("app").join("docker-compose.yml");
    std::fs::remove_file(&compose).unwrap();
    std::os::unix::fs::symlink(env.stack("app").join(".env"), &compose).unwrap();
    let said = format!(
        "error: {} is a symlink; stackwiz does not follow symlinks inside the base dir\n",
        compose.display()
    );
    for cmd in ["status", "start", "logs"] {
        let out = env
            .cmd([cmd, "app"])
            .env("STACKWIZ_DOCKER", &docker)
            .fails(1);
        assert_eq!(out.stderr, said, "{cmd}: {out}");
    }
    assert!(!calls(&env).contains(" up"), "{}", calls(&env));
    // Not listed as a stack either.
    let list = env
        .cmd(["list", "--json"])
        .env("STACKWIZ_DOCKER", &docker)
        .ok()
        .json();
    assert_eq!(list["stacks"], serde_json::json!([]), "{list}");

    // Over MCP, the resource stack://app/compose is not served through the symlink.
    let out = env
        .cmd(["mcp"])
        .env("STACKWIZ_DOCKER", &docker)
        .mcp_input(&[
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"stack://app/compose"}}"#,
        ])
        .output();
    let env_text = std::fs::read_to_string(env.stack("app").join(".env")).unwrap();
    assert!(out.stdout.contains(r#""id":2"#), "{out}");
    assert!(out.stdout.contains("is a symlink"), "{out}");
    for line in env_text.lines().filter(|l| l.contains('=')) {
        assert!(!out.stdout.contains(line), "{out}");
    }

    // A stack folder that is itself a symlink is refused as well.
    let elsewhere = env.path("elsewhere");
    write(&elsewhere.join("docker-compose.yml"), "services: {}\n");
    std::os::unix::fs::symlink(&elsewhere, env.stack("linked")).unwrap();
    let out = env.cmd(["status", "linked"]).fails(1);
    assert!(
        out.stderr.starts_with(&format!(
            "error: {} is a symlink, not a stack folder",
            env.stack("linked").display()
        )),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------
// signals

/// A create of a user type, held in its Compose check (the fake docker sleeps there), with
/// its build folder (and `.env`) in the base dir. Returns the child and the sleeping PID.
fn held_create(env: &TestEnv) -> (Child, u32) {
    let docker = fake_docker(env, "exit 0");
    write(
        &env.base.join("_templates/held-template.yml"),
        "services:\n  {{ name }}:\n    image: {{ image }}\n",
    );
    let mut run = env
        .cmd([
            "create",
            "app",
            "--type",
            "held",
            "--image",
            "busybox",
            "--env",
            "PASSWORD=hunter2",
        ])
        .env("STACKWIZ_DOCKER", &docker);
    let child = run
        .cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let held = env.path("held");
    wait_for(
        "the create to reach its Compose check",
        Duration::from_secs(30),
        || held.exists(),
    );
    let sleeper: u32 = std::fs::read_to_string(&held)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let builds = builds_in(&env.base);
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert!(env.base.join(&builds[0]).join(".env").is_file());
    (child, sleeper)
}

fn stop_sleeper(sleeper: u32) {
    let _ = rustix::process::kill_process(pid(sleeper), rustix::process::Signal::KILL);
}

#[test]
fn sigterm_and_sigint_during_a_create_leave_no_build_folder() {
    for (signal, code) in [
        (rustix::process::Signal::TERM, 143),
        (rustix::process::Signal::INT, 130),
    ] {
        let env = TestEnv::new();
        let (mut child, sleeper) = held_create(&env);
        rustix::process::kill_process(pid(child.id()), signal).unwrap();
        let status = wait_exit(&mut child);
        stop_sleeper(sleeper);
        assert_eq!(status.code(), Some(code), "{signal:?}");
        assert_eq!(builds_in(&env.base), Vec::<String>::new(), "{signal:?}");
        assert!(!env.stack("app").exists());
    }
}

#[test]
fn a_build_folder_left_by_sigkill_is_swept_by_the_next_command_at_once() {
    let env = TestEnv::new();
    let (mut child, sleeper) = held_create(&env);
    rustix::process::kill_process(pid(child.id()), rustix::process::Signal::KILL).unwrap();
    // Reaped, so its PID is gone (a zombie still has /proc/PID).
    let status = wait_exit(&mut child);
    stop_sleeper(sleeper);
    assert_eq!(status.code(), None);
    assert_eq!(builds_in(&env.base).len(), 1, "SIGKILL cannot clean up");
    env.cmd(["list"]).ok();
    assert_eq!(builds_in(&env.base), Vec::<String>::new());
}

#[test]
fn ctrl_c_at_a_hidden_prompt_gives_the_terminal_its_echo_back() {
    let env = TestEnv::new();
    let script = r#"
import fcntl, os, pty, select, subprocess, sys, termios, time
master, slave = pty.openpty()
def ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen([sys.argv[1], "create"], stdin=slave, stdout=slave, stderr=slave,
                     start_new_session=True, preexec_fn=ctty)
answers = [("Stack name", "tun"), ("Type", "cloudflared"), ("Image", ""), ("port", ""),
           ("Domain", "")]
seen, deadline = "", time.time() + 20
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 0.2)
    if not r:
        continue
    seen += os.read(master, 4096).decode(errors="replace")
    if "(not shown)" in seen:
        time.sleep(0.2)
        echo = termios.tcgetattr(slave)[3] & termios.ECHO
        print("echo at the prompt:", "on" if echo else "off")
        os.write(master, b"\x03")
        break
    for key, answer in answers:
        if key in seen and seen.rstrip().endswith(":"):
            os.write(master, (answer + "\n").encode())
            seen = ""
            break
else:
    print("no hidden prompt; saw:", repr(seen))
try:
    rc = p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "hung"
echo = termios.tcgetattr(slave)[3] & termios.ECHO
print("exit:", rc)
print("echo after:", "on" if echo else "off")
"#;
    let out = env
        .program("python3", ["-c", script, env!("CARGO_BIN_EXE_stackwiz")])
        .ok();
    assert!(out.stdout.contains("echo at the prompt: off"), "{out}");
    assert!(out.stdout.contains("exit: 130"), "{out}");
    assert!(out.stdout.contains("echo after: on"), "{out}");
    assert_eq!(builds_in(&env.base), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// settings

#[test]
fn a_base_dir_that_is_not_utf8_is_refused_not_replaced_by_the_default() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let bad = std::ffi::OsStr::from_bytes(b"/tmp/st\xffcks");
    let out = env.cmd(["list"]).env("STACKWIZ_BASE_DIR", bad).fails(2);
    assert_eq!(
        out.stderr,
        "error: invalid STACKWIZ_BASE_DIR: `/tmp/st\\u{fffd}cks` is not valid UTF-8; stackwiz \
         does not guess what it means (use a UTF-8 name)\n"
    );
    let mut args = vec![std::ffi::OsStr::new("--base-dir"), bad];
    args.push(std::ffi::OsStr::new("list"));
    let out = env.cmd(args).fails(2);
    assert!(
        out.stderr.starts_with("error: invalid --base-dir: "),
        "{out}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
}
