//! Faults from the world around stackwiz: a full disk, a read-only base dir, Compose
//! missing, an engine that goes away or stops answering, every IP service failing,
//! Cloudflare answering 5xx or garbage, and `create` racing `remove`.
//!
//! Each test asserts what a root tool owes its user on the unhappy path: a clear error
//! (one `error:` line, `hint:`/`warning:` lines at most), the right exit code, nothing lost
//! (an existing stack byte for byte), nothing written outside the base dir, no secret
//! printed, and bounded time (every command is killed after a generous limit, which fails
//! the test; nothing asserts speed).
//!
//! Mounts (tmpfs, read-only) need root, as the whole suite does: a mount that fails fails
//! the test, it never skips.
#![allow(clippy::disallowed_methods)]

use crate::dns_world;
use crate::fake_cloudflare;
use crate::support;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dns_world::{world, TOKEN};
use fake_cloudflare::Fault;
use support::{write, Out, Run, TestEnv};

/// The most any command here may take; far beyond what each needs, so only a hang trips it.
const LIMIT: Duration = Duration::from_secs(60);
/// A value in the `.env` of the stack every lab holds.
const ENV_SECRET: &str = "keep-pw-FAULTS-9dQw2Lz";
const KEEP: &str = "keep";

// ---------------------------------------------------------------------------------------
// harness

/// Runs `run` with stdin closed, killing it (and failing the test) after `limit`.
fn bounded(run: Run, limit: Duration) -> Out {
    let mut cmd = run.cmd;
    let desc = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so a kill on timeout takes docker and Compose with it.
    cmd.process_group(0);
    let mut child = cmd.spawn().expect("spawn");
    let pipe = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = pipe(Box::new(child.stdout.take().unwrap()));
    let stderr = pipe(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{desc} still running after {limit:?}: killed\n--- stderr\n{}",
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Out {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// `stackwiz ARGS` in `env`, bounded by [`LIMIT`].
fn run(env: &TestEnv, args: &[&str]) -> Out {
    bounded(env.cmd(args), LIMIT)
}

/// A failure as a user should see it: exit `code`, stderr made of one `error:` line that
/// says `needle` (in any case), plus `hint:`/`warning:` lines; no panic, no secret.
fn fails_clearly(out: &Out, code: i32, needle: &str) {
    assert_eq!(out.code, code, "expected exit {code}:\n{out}");
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one `error:` line:\n{out}");
    assert!(
        errors[0].to_lowercase().contains(&needle.to_lowercase()),
        "the error says `{needle}`:\n{out}"
    );
    for line in out.stderr.lines() {
        assert!(
            ["error: ", "hint: ", "warning: "]
                .iter()
                .any(|p| line.starts_with(p)),
            "a stray stderr line {line:?}:\n{out}"
        );
    }
    no_secret(out);
}

/// Neither a secret nor a panic in anything printed.
fn no_secret(out: &Out) {
    for secret in [ENV_SECRET, TOKEN] {
        assert!(!out.says(secret), "a secret was printed:\n{out}");
    }
    assert!(!out.says("panicked"), "a panic:\n{out}");
}

/// Every path under `root` (but `skip`) with its type, mode, size and a hash of its bytes;
/// symlinks are not followed.
fn snapshot(root: &Path, skip: &[&Path]) -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, skip: &[&Path], out: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if skip.contains(&path.as_path()) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            if meta.is_file() {
                std::fs::read(&path).unwrap_or_default().hash(&mut h);
            }
            let kind = if meta.is_dir() {
                "dir"
            } else if meta.is_symlink() {
                "link"
            } else {
                "file"
            };
            out.insert(
                path.clone(),
                format!(
                    "{kind} {:o} {} {:x}",
                    meta.permissions().mode(),
                    meta.len(),
                    h.finish()
                ),
            );
            if meta.is_dir() {
                walk(&path, skip, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, skip, &mut out);
    out
}

/// Everything of `env` outside its base dir (home, config, cache, the fakes' folder...).
fn outside(env: &TestEnv) -> BTreeMap<PathBuf, String> {
    let bin = env.path("bin");
    snapshot(env.dir.path(), &[&env.base, &bin])
}

/// A fake docker that succeeds at everything (logging each call to `bin/docker.log`):
/// `compose version` names Compose v2, `compose ls` lists nothing.
const FAKE_DOCKER: &str = r#"#!/bin/sh
echo "$*" >> "$(dirname "$0")/docker.log"
case " $* " in
  *" compose version "*) echo "Docker Compose version v2.40.3";;
  *" network ls "*) echo "traefik_proxy";;
  *" ls "*) echo "[]";;
esac
exit 0
"#;

/// A TestEnv on the fake docker; [`add_keep`] gives it a stack.
fn lab() -> TestEnv {
    let mut env = TestEnv::new();
    let bin = env.path("bin");
    write(&bin.join("docker"), FAKE_DOCKER);
    std::fs::set_permissions(bin.join("docker"), std::fs::Permissions::from_mode(0o755)).unwrap();
    env.set("STACKWIZ_DOCKER", bin.join("docker"))
        .set("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .unset("DOCKER_CONFIG");
    env
}

/// The stack `keep`, with [`ENV_SECRET`] in its `.env`.
fn add_keep(env: &TestEnv) {
    let pw = format!("PW={ENV_SECRET}");
    let out = run(
        env,
        &[
            "create", KEEP, "--image", "nginx", "--port", "80", "-e", &pw,
        ],
    );
    assert_eq!(out.code, 0, "{out}");
}

fn docker_calls(env: &TestEnv) -> String {
    std::fs::read_to_string(env.path("bin/docker.log")).unwrap_or_default()
}

/// A stack folder holding both its files, the compose file naming its services.
fn is_whole_stack(dir: &Path) -> Result<(), String> {
    let compose = std::fs::read_to_string(dir.join("docker-compose.yml"))
        .map_err(|e| format!("{}: docker-compose.yml: {e}", dir.display()))?;
    if !compose.contains("services:") {
        return Err(format!("{}: a truncated compose file", dir.display()));
    }
    let env = std::fs::read_to_string(dir.join(".env"))
        .map_err(|e| format!("{}: .env: {e}", dir.display()))?;
    if !env.ends_with('\n') {
        return Err(format!("{}: a truncated .env", dir.display()));
    }
    Ok(())
}

/// Build folders `create` left in the base dir.
fn leftovers(env: &TestEnv) -> Vec<String> {
    env.base_entries()
        .into_iter()
        .filter(|e| e.starts_with(".stackwiz-new-"))
        .collect()
}

/// A filesystem mounted for one test, unmounted (lazily, so a busy one goes too) on drop.
struct Mount(PathBuf);

impl Mount {
    /// A tmpfs of `size` (e.g. `64k`) on `dir`. Needs root; fails the test otherwise.
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        mount(
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=755"),
                "tmpfs",
            ],
            dir,
        );
        Mount(dir.to_path_buf())
    }

    fn read_only(&self) {
        mount(&["-o", "remount,ro"], &self.0);
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount(args: &[&str], dir: &Path) {
    let out = Command::new("mount")
        .args(args)
        .arg(dir)
        .output()
        .expect("run mount");
    assert!(
        out.status.success(),
        "mount {args:?} {} failed (these tests need root): {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fills the filesystem holding `file` until it is full, but `spare` bytes.
fn fill(file: &Path, spare: usize) {
    use std::io::Write;
    let _ = std::fs::remove_file(file);
    let mut f = std::fs::File::create(file).unwrap();
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    let len = f.metadata().unwrap().len() as usize;
    f.set_len(len.saturating_sub(spare) as u64).unwrap();
}

// ---------------------------------------------------------------------------------------
// full disk

#[test]
fn a_full_disk_fails_create_cleanly_and_keeps_every_stack() {
    let env = lab();
    let _mount = Mount::tmpfs(&env.base, "64k");
    add_keep(&env);
    let keep = snapshot(&env.stack(KEEP), &[]);
    let away = outside(&env);
    let filler = env.base.join("filler");
    let mut failed = 0;
    // No room at all, then a page or two: the compose file fits, the .env does not.
    for spare in [0, 4096, 8192, 12288] {
        fill(&filler, spare);
        let big = format!("BIG={}", "x".repeat(3000));
        let out = run(
            &env,
            &[
                "create", "app", "--image", "nginx", "--port", "80", "-e", &big,
            ],
        );
        if out.code == 0 {
            is_whole_stack(&env.stack("app")).unwrap();
            std::fs::remove_dir_all(env.stack("app")).unwrap();
        } else {
            failed += 1;
            fails_clearly(&out, 1, "No space left on device");
            assert!(!env.stack("app").exists(), "a half-written stack:\n{out}");
        }
        assert_eq!(leftovers(&env), Vec::<String>::new(), "{out}");
        assert_eq!(snapshot(&env.stack(KEEP), &[]), keep, "{out}");
        assert_eq!(outside(&env), away, "{out}");
    }
    assert!(failed >= 2, "the disk was never full enough to fail");
}

// ---------------------------------------------------------------------------------------
// read-only base dir

/// A lab whose base dir is a tmpfs holding `keep`, remounted read-only.
fn read_only_lab() -> (TestEnv, Mount) {
    let env = lab();
    let mount = Mount::tmpfs(&env.base, "1m");
    add_keep(&env);
    mount.read_only();
    (env, mount)
}

#[test]
fn a_read_only_base_dir_fails_create_and_remove_changing_nothing() {
    let (env, _mount) = read_only_lab();
    let before = snapshot(&env.base, &[]);
    let away = outside(&env);
    let out = run(&env, &["create", "app", "--image", "nginx", "--port", "80"]);
    fails_clearly(&out, 1, "read-only file system");
    for args in [
        &["remove", KEEP, "--yes"][..],
        &["remove", KEEP, "--yes", "--purge"],
        &["remove", KEEP, "--yes", "--volumes"],
    ] {
        let out = run(&env, args);
        fails_clearly(&out, 1, "read-only file system");
        assert!(out.stderr.contains(&*env.base.to_string_lossy()), "{out}");
    }
    assert_eq!(snapshot(&env.base, &[]), before);
    assert_eq!(outside(&env), away);
}

#[test]
fn a_read_only_base_dir_takes_no_stack_down() {
    let (env, _mount) = read_only_lab();
    let _ = std::fs::remove_file(env.path("bin/docker.log"));
    for args in [
        &["remove", KEEP, "--yes"][..],
        &["remove", KEEP, "--yes", "--purge"],
    ] {
        let out = run(&env, args);
        fails_clearly(&out, 1, "read-only file system");
    }
    let calls = docker_calls(&env);
    assert!(!calls.contains(" down"), "containers taken down:\n{calls}");
}

// ---------------------------------------------------------------------------------------
// Compose missing

#[test]
fn without_compose_start_and_status_give_the_install_hint() {
    support::require_engine();
    let mut env = TestEnv::new();
    add_keep(&env);
    // The docker CLI alone: no plugin (an empty DOCKER_CONFIG), no docker-compose on PATH.
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let docker = std::env::var("STACKWIZ_TEST_DOCKER").unwrap_or("/usr/local/bin/docker".into());
    std::os::unix::fs::symlink(&docker, bin.join("docker")).unwrap();
    std::fs::create_dir_all(env.path("empty-docker-config")).unwrap();
    env.set("DOCKER_CONFIG", env.path("empty-docker-config"))
        .set("PATH", &bin);
    let before = snapshot(&env.base, &[]);
    for args in [&["start", KEEP][..], &["status", KEEP]] {
        let out = run(&env, args);
        fails_clearly(&out, 1, "Docker Compose");
        assert!(out.stderr.contains("hint: install Compose"), "{out}");
    }
    // `list` still lists the stacks, their states unknown, and says why.
    let out = run(&env, &["list"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains(KEEP) && out.stdout.contains("unknown"),
        "{out}"
    );
    assert!(
        out.says("warning: stack states unknown: Docker Compose"),
        "{out}"
    );
    no_secret(&out);
    assert_eq!(snapshot(&env.base, &[]), before);
}

// ---------------------------------------------------------------------------------------
// engine gone

/// A unix socket in `dir` whose listener accepts every connection and then closes it
/// (`silent`: keeps it open and never answers). The thread lives as long as the test
/// process.
fn fake_engine(dir: &Path, silent: bool) -> String {
    let path = dir.join(if silent { "silent.sock" } else { "eof.sock" });
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            if silent {
                held.push(conn);
            }
        }
    });
    format!("unix://{}", path.display())
}

/// A TestEnv on the real docker CLI and Compose plugin, holding `keep`, whose engine is
/// the fake at `DOCKER_HOST`.
fn engine_lab(silent: bool) -> TestEnv {
    support::require_compose();
    let mut env = TestEnv::new();
    add_keep(&env);
    let host = fake_engine(env.dir.path(), silent);
    env.set("DOCKER_HOST", host)
        .set("STACKWIZ_DOCKER_TIMEOUT", "2");
    env
}

#[test]
fn an_engine_that_hangs_up_ends_every_command_with_a_clear_error() {
    let env = engine_lab(false);
    let before = snapshot(&env.base, &[]);
    let away = outside(&env);
    for args in [&["status", KEEP][..], &["remove", KEEP, "--yes"]] {
        let out = run(&env, args);
        assert_eq!(out.code, 1, "{out}");
        let error = out.stderr.lines().find(|l| l.starts_with("error: "));
        assert!(
            error.is_some_and(|l| l.contains("`docker compose")),
            "an error naming the docker call:\n{out}"
        );
        no_secret(&out);
    }
    let out = run(&env, &["doctor"]);
    assert_eq!(out.code, 1, "{out}");
    assert!(out.says("✗ docker engine"), "{out}");
    no_secret(&out);
    // `list` lists the stacks, their states unknown, and says which call failed.
    let out = run(&env, &["list"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains(KEEP) && out.stdout.contains("unknown"),
        "{out}"
    );
    assert!(
        out.says("warning: stack states unknown: `docker compose ls"),
        "{out}"
    );
    no_secret(&out);
    // Nothing lost: `remove` stopped at its first docker call, the stack is where it was.
    assert_eq!(snapshot(&env.base, &[]), before);
    assert_eq!(outside(&env), away);
}

#[test]
fn an_engine_that_hangs_up_is_reported_on_one_line() {
    let env = engine_lab(false);
    fails_clearly(&run(&env, &["status", KEEP]), 1, "`docker compose");
    // `remove` streams docker's own output (here its complaint) before the error; the
    // error itself still ends on its line.
    let out = run(&env, &["remove", KEEP, "--yes"]);
    assert_eq!(out.code, 1, "{out}");
    let after: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("error: "))
        .collect();
    assert!(
        after.first().is_some_and(|l| l.contains("`docker compose")),
        "{out}"
    );
    for line in &after[1..] {
        assert!(
            line.starts_with("hint: ") || line.starts_with("warning: "),
            "the error goes on over several lines:\n{out}"
        );
    }
}

#[test]
fn a_silent_engine_ends_every_command_within_the_deadline() {
    let env = engine_lab(true);
    let before = snapshot(&env.base, &[]);
    let away = outside(&env);
    for args in [&["status", KEEP][..], &["remove", KEEP, "--yes"]] {
        let out = run(&env, args);
        fails_clearly(&out, 1, "`docker");
        assert!(out.stderr.contains("2 s"), "names the deadline:\n{out}");
    }
    let out = run(&env, &["doctor"]);
    assert_eq!(out.code, 1, "{out}");
    assert!(out.says("✗ docker engine"), "{out}");
    no_secret(&out);
    let out = run(&env, &["list"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.says("warning: stack states unknown: `docker compose ls"),
        "{out}"
    );
    no_secret(&out);
    // No docker (or Compose) process is left talking to the silent engine.
    let host = env.var("DOCKER_HOST").unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_using(&host).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(processes_using(&host), Vec::<String>::new(), "left running");
    assert_eq!(snapshot(&env.base, &[]), before);
    assert_eq!(outside(&env), away);
}

/// The command lines of the processes whose environment holds `DOCKER_HOST=host`.
fn processes_using(host: &str) -> Vec<String> {
    let needle = format!("DOCKER_HOST={host}\0");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let dir = entry.path();
        let Ok(environ) = std::fs::read(dir.join("environ")) else {
            continue;
        };
        if String::from_utf8_lossy(&environ).contains(&needle) {
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            found.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
        }
    }
    found
}

// ---------------------------------------------------------------------------------------
// every IP service failing

#[test]
fn when_every_ip_service_fails_ip_and_dns_create_say_why_for_each() {
    let mut w = world();
    // 503, bytes that are no address, silence, and a closed port.
    let services = format!(
        "{},{}",
        w.ips.urls(&["/error", "/garbage", "/silent"]),
        support::CLOSED
    );
    w.env
        .set("STACKWIZ_IP_SERVICES", &services)
        .set("STACKWIZ_HTTP_TIME_SCALE", "0.05");
    for args in [
        &["ip"][..],
        &["dns", "create", "app"],
        &["dns", "create", "app", "--value", "AUTO"],
    ] {
        let out = run(&w.env, args);
        fails_clearly(&out, 1, "/error");
        let err = out.stderr.lines().next().unwrap();
        for service in ["/error", "/garbage", "/silent", support::CLOSED] {
            assert!(err.contains(service), "{service} not named:\n{out}");
        }
    }
    assert_eq!(
        w.cf.writes(),
        0,
        "a record was written: {:?}",
        w.cf.records()
    );
    assert!(w.cf.records().is_empty());
}

// ---------------------------------------------------------------------------------------
// Cloudflare faults (429 and slow answers: tests/dns.rs)

#[test]
fn cloudflare_answering_5xx_throughout_is_a_clear_error() {
    let w = world();
    for _ in 0..50 {
        w.cf.fault(Fault::Raw(503, "<html>Service Unavailable</html>".into()));
    }
    for args in [
        &["dns", "list"][..],
        &["dns", "create", "app", "--value", "203.0.113.9"],
    ] {
        let away = outside(&w.env);
        let out = run(&w.env, args);
        assert_eq!(outside(&w.env), away);
        fails_clearly(&out, 1, "Cloudflare");
        assert!(out.stderr.contains("503"), "the status is named:\n{out}");
    }
    assert!(w.cf.records().is_empty());
}

#[test]
fn a_malformed_answer_to_a_write_is_a_clear_error() {
    let w = world();
    // The zone lookup and the list answer; the POST gets a broken body.
    let out = run(&w.env, &["dns", "list", "--name", "app"]);
    assert_eq!(out.code, 0, "{out}");
    w.cf.fault(Fault::Delay(Duration::ZERO));
    for _ in 0..5 {
        w.cf.fault(Fault::Raw(
            200,
            "{\"success\":true,\"result\":{\"id\":".into(),
        ));
    }
    let away = outside(&w.env);
    let out = run(&w.env, &["dns", "create", "app", "--value", "192.0.2.7"]);
    fails_clearly(&out, 1, "Cloudflare");
    assert!(
        w.cf.count("POST", |_| true) >= 1,
        "no POST was answered badly"
    );
    assert_eq!(outside(&w.env), away);
}

// ---------------------------------------------------------------------------------------
// create against remove

#[test]
fn create_racing_remove_leaves_a_whole_stack_or_none() {
    let env = lab();
    add_keep(&env);
    let away = outside(&env);
    for round in 0..40 {
        let (a, b) = std::thread::scope(|s| {
            let create = s.spawn(|| {
                run(
                    &env,
                    &[
                        "create", "x", "--image", "nginx", "--port", "80", "-e", "A=1",
                    ],
                )
            });
            let remove = s.spawn(|| run(&env, &["remove", "x", "--yes"]));
            (create.join().unwrap(), remove.join().unwrap())
        });
        for out in [&a, &b] {
            assert!(matches!(out.code, 0 | 1), "round {round}:\n{out}");
            if out.code != 0 {
                fails_clearly(out, 1, "");
            }
            no_secret(out);
        }
        assert_eq!(leftovers(&env), Vec::<String>::new(), "round {round}");
        if env.stack("x").exists() {
            is_whole_stack(&env.stack("x")).unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        let trash = env.base.join(".trash");
        for entry in std::fs::read_dir(&trash).into_iter().flatten().flatten() {
            is_whole_stack(&entry.path()).unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
    is_whole_stack(&env.stack(KEEP)).unwrap();
    assert_eq!(outside(&env), away);
}
