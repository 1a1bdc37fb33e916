//! The hostile-input lab: a [`TestEnv`] with secrets planted where stackwiz could leak them,
//! a fake `docker` that never reaches an engine, a snapshot of everything in the temp dir
//! (to prove that a refused input changed nothing, inside the base dir or outside it), and
//! a runner that kills a command (its whole process group) after [`TIMEOUT`].
//!
//! A case is one command line (or one MCP request) plus what must come of it. Every case,
//! whatever it expects, is also held to the common rules in [`Case::problems`]: no panic,
//! no secret on either stream, one `error:` line per problem (no stray lines, no control
//! characters, no endless lines), and an end within the timeout.
//! Include it with `#[path = "support/hostile.rs"] mod hostile_lab;` next to `mod support;`.
#![allow(dead_code, clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{write, TestEnv};

/// Generous: these commands fail at validation in milliseconds. Never a speed assertion.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// The Cloudflare token every lab sets (env STACKWIZ_CF_API_TOKEN).
pub const TOKEN: &str = "cf-tok-HOSTILE-4xQ9zT7w";
/// A value in the `.env` of the stack `keep` that every lab holds.
pub const ENV_SECRET: &str = "keep-pw-HOSTILE-Vb81sQ";
/// What a case passes as a secret value of its own (`--env`, an env file, a config token).
pub const SECRET: &str = "case-secret-HOSTILE-p0Lk3";
/// The stack every lab starts with.
pub const KEEP: &str = "keep";

/// The fake docker: `compose version`, `compose ... config -q` (so user templates pass the
/// Compose check) and the proxy network's checks succeed, so commands reach their real docker
/// call; that and everything else fails as an engine that is not there would.
/// `FAKE_DOCKER_LEAK` makes `config -q` fail quoting that text, as Compose quotes `.env`
/// values in its errors; `FAKE_DOCKER_UP_LEAK` does the same for `up`. Each call is logged,
/// one line per call.
const FAKE_DOCKER: &str = r#"#!/bin/sh
echo "$*" >> "$(dirname "$0")/docker.log"
case " $* " in
  *" compose version "*) echo "Docker Compose version v2.40.3"; exit 0;;
  *" config -q "*)
    if [ -n "$FAKE_DOCKER_LEAK" ]; then
      echo "services.app.ports: invalid hostPort: $FAKE_DOCKER_LEAK" >&2; exit 15
    fi
    exit 0;;
  *" network ls "*) echo "traefik_proxy"; exit 0;;
  *" network inspect "*|*" network create "*) exit 0;;
  *" up "*)
    if [ -n "$FAKE_DOCKER_UP_LEAK" ]; then
      echo "Error response from daemon: invalid hostPort: $FAKE_DOCKER_UP_LEAK" >&2; exit 1
    fi;;
esac
echo "fake docker: Cannot connect to the Docker daemon at unix:///nonexistent.sock" >&2
exit 1
"#;

pub struct Lab {
    pub env: TestEnv,
    /// The temp dir holding everything (base dir, home, config, cache, tmp, outside).
    pub root: PathBuf,
    /// A folder outside the base dir, with a file nothing may touch.
    pub outside: PathBuf,
    /// Where the fake docker lives (not part of the snapshot: it logs there).
    pub bin: PathBuf,
}

impl Lab {
    pub fn new() -> Lab {
        let mut env = TestEnv::new();
        let root = env.dir.path().to_path_buf();
        let bin = root.join("bin");
        let outside = root.join("outside");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        write(&outside.join("victim.txt"), "do not touch\n");
        std::fs::set_permissions(
            outside.join("victim.txt"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let docker = bin.join("docker");
        write(&docker, FAKE_DOCKER);
        std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
        env.set("STACKWIZ_DOCKER", &docker)
            .set("STACKWIZ_CF_API_TOKEN", TOKEN)
            .set("STACKWIZ_HTTP_TIME_SCALE", "0.05")
            .set("TMPDIR", root.join("tmp"))
            // No engine anywhere: the fake answers, and a real docker would find nothing.
            .set("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .unset("DOCKER_CONFIG");
        let keep = env.stack(KEEP);
        write(
            &keep.join("docker-compose.yml"),
            "# stackwiz: type=generic domain=keep.localhost\nservices:\n  keep:\n    image: nginx\n    env_file: .env\n",
        );
        write(&keep.join(".env"), &format!("PASSWORD={ENV_SECRET}\n"));
        Lab {
            env,
            root,
            outside,
            bin,
        }
    }

    pub fn base(&self) -> &Path {
        &self.env.base
    }

    /// The user templates folder (STACKWIZ_TEMPLATES_DIR points here once used).
    pub fn templates(&mut self) -> PathBuf {
        let dir = self.root.join("templates");
        std::fs::create_dir_all(&dir).unwrap();
        self.env.set("STACKWIZ_TEMPLATES_DIR", &dir);
        dir
    }

    /// Every path under the temp dir (but `bin/`) with its type, mode, owner, size, symlink
    /// target and a hash of its bytes; symlinks are not followed.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        walk(&self.root, &self.root, &self.bin, &mut out);
        out
    }

    pub fn docker_calls(&self) -> String {
        std::fs::read_to_string(self.bin.join("docker.log")).unwrap_or_default()
    }
}

fn walk(root: &Path, dir: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path == skip {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        let ft = meta.file_type();
        let mut desc = format!(
            "mode {:o} owner {}:{} size {}",
            meta.mode(),
            meta.uid(),
            meta.gid(),
            meta.len()
        );
        if ft.is_symlink() {
            desc.push_str(&format!(
                " -> {}",
                std::fs::read_link(&path).unwrap_or_default().display()
            ));
        } else if ft.is_file() {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(&path).unwrap_or_default().hash(&mut h);
            // The time too: a file rewritten with the same bytes was still written.
            desc.push_str(&format!(
                " hash {:x} mtime {}.{}",
                h.finish(),
                meta.mtime(),
                meta.mtime_nsec()
            ));
        } else if ft.is_dir() {
            walk(root, &path, skip, out);
        }
        out.insert(rel, desc);
    }
}

/// What changed between two snapshots, one line per path.
pub fn diff(before: &BTreeMap<PathBuf, String>, after: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let mut changes = Vec::new();
    for (path, was) in before {
        match after.get(path) {
            None => changes.push(format!("removed {}", path.display())),
            Some(now) if now != was => {
                changes.push(format!("changed {} ({was} => {now})", path.display()))
            }
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        changes.push(format!("created {}", path.display()));
    }
    changes
}

/// How a command ended.
pub struct Outcome {
    /// None when killed by a signal (our timeout included).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cut = |s: &str| -> String {
            if s.len() > 3000 {
                let mut end = 3000;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}… ({} bytes)", &s[..end], s.len())
            } else {
                s.to_string()
            }
        };
        write!(
            f,
            "exit {:?}{}\n--- stdout\n{}--- stderr\n{}",
            self.code,
            if self.timed_out { " (TIMED OUT)" } else { "" },
            cut(&self.stdout),
            cut(&self.stderr)
        )
    }
}

/// Run `stackwiz ARGS` in the lab with `stdin`, killing its process group after [`TIMEOUT`].
pub fn run(lab: &Lab, args: &[OsString], envs: &[(String, OsString)], stdin: &[u8]) -> Outcome {
    let mut cmd = lab.env.cmd(args).cmd;
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().expect("spawn stackwiz");
    let pid = child.id();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    // The MCP server cancels what is still running when its input ends (as a client's
    // shutdown asks), so an MCP conversation keeps stdin open until every request that
    // carries an id has its reply (or the case times out).
    let awaited = requests_with_ids(&stdin);
    let lines = std::sync::Arc::new((std::sync::Mutex::new(0usize), std::sync::Condvar::new()));
    let seen = lines.clone();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
        let (count, changed) = &*seen;
        let guard = count.lock().unwrap();
        let _ = changed.wait_timeout_while(guard, TIMEOUT, |n| *n < awaited);
        drop(input);
    });
    let reader =
        |mut pipe: Box<dyn Read + Send>,
         lines: Option<std::sync::Arc<(std::sync::Mutex<usize>, std::sync::Condvar)>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            buf.extend_from_slice(&chunk[..n]);
                            if let Some(lines) = &lines {
                                let (count, changed) = &**lines;
                                *count.lock().unwrap() +=
                                    chunk[..n].iter().filter(|b| **b == b'\n').count();
                                changed.notify_all();
                            }
                        }
                    }
                }
                if let Some(lines) = &lines {
                    // Output is over: no more replies will come; let the writer go.
                    *lines.0.lock().unwrap() = usize::MAX;
                    lines.1.notify_all();
                }
                String::from_utf8_lossy(&buf).into_owned()
            })
        };
    let out = reader(Box::new(child.stdout.take().unwrap()), Some(lines));
    let err = reader(Box::new(child.stderr.take().unwrap()), None);
    let deadline = Instant::now() + TIMEOUT;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            timed_out = true;
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // Whatever the command left running in its group (a fake docker) goes with it.
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = writer.join();
    Outcome {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        timed_out,
    }
}

/// How many replies a stdin of JSON-RPC lines asks for: one per request with an id.
fn requests_with_ids(stdin: &[u8]) -> usize {
    stdin
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .filter(|v| v.get("id").is_some() && v.get("method").is_some())
        .count()
}

/// What a case must come to.
#[derive(Clone, Debug)]
pub enum Expect {
    /// Refused by the argument parser: exit 2, clap's one `error:` line (plus its usage).
    Clap,
    /// A usage or validation error: exit 2, an `error:` line containing the text.
    Invalid(&'static str),
    /// An operational failure: exit 1, an `error:` line containing the text.
    Fails(&'static str),
    /// Success that changes nothing (a dry run, a listing).
    Succeeds,
    /// Success that creates exactly the stack folder NAME (with its two files) and nothing
    /// else.
    Creates(&'static str),
    /// A failure after the stack was written (start or DNS): exit 1, an `error:` line
    /// containing the text, and the stack folder NAME kept (and nothing else changed).
    FailsKeeping(&'static str, &'static str),
    /// `stackwiz mcp`: the reply to request id 2 is a tool result with `isError: true` whose
    /// text contains this.
    ToolError(&'static str),
    /// `stackwiz mcp`: the reply to request id 2 is a JSON-RPC error with this code.
    RpcError(i64),
    /// `stackwiz mcp`: the reply to request id 2 is a result (and no tool error).
    Answered,
}

type Setup = Box<dyn Fn(&mut Lab)>;
type After = Box<dyn Fn(&Lab, &Outcome) -> Result<(), String>>;

pub struct Case {
    pub id: String,
    pub args: Vec<OsString>,
    pub envs: Vec<(String, OsString)>,
    pub stdin: Vec<u8>,
    pub expect: Expect,
    /// Text that must not appear on either stream, beyond the lab's own secrets.
    pub secrets: Vec<String>,
    pub setup: Option<Setup>,
    pub after: Option<After>,
    /// Docker's own output may pass through on stderr (terminal mode streams it).
    pub passthrough: bool,
    /// A stack an MCP call may create (and must leave complete); see [`Case::keeps`].
    pub keeps: Option<&'static str>,
    /// Folders (relative to the temp dir) where the command may create files.
    pub allowed: Vec<PathBuf>,
}

/// `stackwiz ARGS`.
pub fn cli<S: Into<OsString> + Clone>(id: &str, args: &[S], expect: Expect) -> Case {
    Case {
        id: id.to_string(),
        args: args.iter().cloned().map(Into::into).collect(),
        envs: Vec::new(),
        stdin: Vec::new(),
        expect,
        secrets: Vec::new(),
        setup: None,
        after: None,
        passthrough: false,
        keeps: None,
        allowed: Vec::new(),
    }
}

/// `stackwiz mcp` answering an initialize, then one request (id 2) of `method`.
pub fn mcp(id: &str, method: &str, params: Value, expect: Expect) -> Case {
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "hostile", "version": "1"}}});
    let initialized = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let request =
        serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": method, "params": params});
    let stdin = format!("{init}\n{initialized}\n{request}\n");
    let mut case = cli(id, &["mcp"], expect);
    case.stdin = stdin.into_bytes();
    case
}

/// `tools/call` of `tool` with `arguments`.
pub fn tool(id: &str, tool: &str, arguments: Value, expect: Expect) -> Case {
    mcp(
        id,
        "tools/call",
        serde_json::json!({"name": tool, "arguments": arguments}),
        expect,
    )
}

impl Case {
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Case {
        self.envs.push((key.to_string(), value.into()));
        self
    }

    /// Let docker's streamed output through on stderr (lines that are not `error:`...).
    pub fn passthrough(mut self) -> Case {
        self.passthrough = true;
        self
    }

    /// The stack folder NAME may be created (complete, and nothing else may change): for MCP
    /// calls that create a stack.
    pub fn keeps(mut self, name: &'static str) -> Case {
        self.keeps = Some(name);
        self
    }

    /// The command may create files under `rel` (relative to the temp dir, e.g.
    /// `stacks/_templates` for `init`); nothing else may change.
    pub fn allows(mut self, rel: &str) -> Case {
        self.allowed.push(PathBuf::from(rel));
        self
    }

    pub fn secret(mut self, text: impl Into<String>) -> Case {
        self.secrets.push(text.into());
        self
    }

    pub fn setup(mut self, f: impl Fn(&mut Lab) + 'static) -> Case {
        self.setup = Some(Box::new(f));
        self
    }

    pub fn after(mut self, f: impl Fn(&Lab, &Outcome) -> Result<(), String> + 'static) -> Case {
        self.after = Some(Box::new(f));
        self
    }

    /// Run the case in a fresh lab; the problems found (empty when it behaved).
    pub fn problems(&self) -> Vec<String> {
        let mut lab = Lab::new();
        if let Some(setup) = &self.setup {
            setup(&mut lab);
        }
        let before = lab.snapshot();
        let out = run(&lab, &self.args, &self.envs, &self.stdin);
        let after = lab.snapshot();
        let mut problems = Vec::new();
        let mut problem = |p: String| problems.push(p);

        if out.timed_out {
            problem(format!("still running after {TIMEOUT:?} (killed)"));
        }
        for marker in [
            "panicked",
            "RUST_BACKTRACE",
            "stack backtrace",
            "thread 'main'",
        ] {
            if out.stdout.contains(marker) || out.stderr.contains(marker) {
                problem(format!("panic text `{marker}` in the output"));
            }
        }
        let mut secrets = vec![TOKEN.to_string(), ENV_SECRET.to_string()];
        secrets.extend(self.secrets.iter().cloned());
        for s in &secrets {
            if out.stdout.contains(s.as_str()) || out.stderr.contains(s.as_str()) {
                problem(format!("the secret `{s}` was printed"));
            }
        }
        for line in out.stderr.lines() {
            if let Some(c) = line.chars().find(|c| c.is_control() && *c != '\t') {
                problem(format!("control character {c:?} on stderr: {line:?}"));
            }
            if line.chars().count() > 1000 {
                problem(format!(
                    "a stderr line of {} characters",
                    line.chars().count()
                ));
            }
        }
        let leftovers: Vec<&PathBuf> = after
            .keys()
            .filter(|p| p.to_string_lossy().contains(".stackwiz-new-"))
            .collect();
        if !leftovers.is_empty() {
            problem(format!("build folders left behind: {leftovers:?}"));
        }
        let allowed = |change: &String| {
            let path = change.split_whitespace().nth(1).unwrap_or_default();
            change.starts_with("created ")
                && self.allowed.iter().any(|a| Path::new(path).starts_with(a))
        };
        let changes: Vec<String> = diff(&before, &after)
            .into_iter()
            .filter(|c| !allowed(c))
            .collect();
        let error_lines: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        // A stackwiz failure: every stderr line is `error:`, `hint:` or `warning:`.
        let tidy = |problem: &mut dyn FnMut(String)| {
            if self.passthrough {
                return;
            }
            for line in out.stderr.lines() {
                let ok = ["error: ", "hint: ", "warning: "]
                    .iter()
                    .any(|p| line.starts_with(p));
                if !ok {
                    problem(format!("a stray stderr line {line:?}"));
                }
            }
        };
        let says = |needle: &str| error_lines.iter().any(|l| l.contains(needle));
        // With --json a failure is also one JSON object on stdout, with the same exit code.
        let json_flag = self.args.iter().any(|a| a == "--json");
        if json_flag && out.code.is_some_and(|c| c != 0) && !matches!(self.expect, Expect::Clap) {
            match serde_json::from_str::<Value>(&out.stdout) {
                Ok(v) if v["ok"] == false && v["error"]["exit_code"] == out.code.unwrap() => {}
                _ => problem("--json: stdout is not one {\"ok\":false,...} object".into()),
            }
        }
        match &self.expect {
            Expect::Clap => {
                if out.code != Some(2) {
                    problem(format!("exit {:?}, expected 2 (usage)", out.code));
                }
                if !out.stderr.starts_with("error: ") || error_lines.len() != 1 {
                    problem("expected clap's one `error:` line first on stderr".into());
                }
            }
            Expect::Invalid(needle) | Expect::Fails(needle) | Expect::FailsKeeping(needle, _) => {
                let code = if matches!(self.expect, Expect::Invalid(_)) {
                    2
                } else {
                    1
                };
                if out.code != Some(code) {
                    problem(format!("exit {:?}, expected {code}", out.code));
                }
                tidy(&mut problem);
                if error_lines.is_empty() {
                    problem("no `error:` line on stderr".into());
                } else if !says(needle) {
                    problem(format!("no `error:` line says `{needle}`"));
                }
            }
            Expect::Succeeds | Expect::Creates(_) => {
                if out.code != Some(0) {
                    problem(format!("exit {:?}, expected 0", out.code));
                }
                tidy(&mut problem);
            }
            Expect::ToolError(_) | Expect::RpcError(_) | Expect::Answered => {
                if out.code != Some(0) {
                    problem(format!("the MCP server ended with {:?}", out.code));
                }
                match mcp_reply(&out.stdout) {
                    Err(e) => problem(e),
                    Ok(reply) => match (&self.expect, reply) {
                        (Expect::ToolError(needle), r) if r["result"]["isError"] == true => {
                            let text = r["result"]["content"][0]["text"].as_str().unwrap_or("");
                            if !text.contains(needle) {
                                problem(format!("the tool error does not say `{needle}`: {text}"));
                            }
                        }
                        (Expect::RpcError(code), r) if r["error"]["code"] == *code => {}
                        (Expect::Answered, r)
                            if r["result"].is_object() && r["result"]["isError"] != true => {}
                        (_, r) => problem(format!("unexpected reply {r}")),
                    },
                }
            }
        }
        let new_stack = match &self.expect {
            Expect::Creates(name) | Expect::FailsKeeping(_, name) => Some(*name),
            _ => self.keeps,
        };
        match new_stack {
            Some(name) => {
                let own = Path::new("stacks").join(name);
                for change in &changes {
                    let path = change.split_whitespace().nth(1).unwrap_or_default();
                    if !(change.starts_with("created ") && Path::new(path).starts_with(&own)) {
                        problem(format!("outside the new stack: {change}"));
                    }
                }
                for file in ["docker-compose.yml", ".env"] {
                    if !after.contains_key(&own.join(file)) {
                        problem(format!("the new stack has no {file}"));
                    }
                }
            }
            _ if !changes.is_empty() => problem(format!("the command changed files: {changes:#?}")),
            _ => {}
        }
        if let Some(check) = &self.after {
            if let Err(e) = check(&lab, &out) {
                problem(e);
            }
        }
        if !problems.is_empty() {
            problems.push(format!("{out}"));
        }
        problems
    }
}

/// The reply to request id 2, after checking that every stdout line is one JSON-RPC message.
fn mcp_reply(stdout: &str) -> Result<Value, String> {
    let mut found = None;
    for line in stdout.lines() {
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("stdout line is not JSON ({e})"))?;
        if v["jsonrpc"] != "2.0" {
            return Err(format!("not a JSON-RPC message: {line}"));
        }
        if v["id"] == 2 {
            found = Some(v);
        }
    }
    found.ok_or_else(|| "no reply to request 2".to_string())
}

/// Run every case (on a few threads: each is a separate process) and fail listing each case
/// that misbehaved with why.
pub fn run_all(cases: Vec<Case>) {
    eprintln!("{} hostile cases", cases.len());
    let failures = run_cases(cases);
    let report: Vec<String> = failures
        .iter()
        .map(|(id, problems)| format!("== {id}\n{}", problems.join("\n")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) misbehaved:\n{}",
        failures.len(),
        report.join("\n")
    );
}

/// Every case with its problems; only the cases that had some.
pub fn run_cases(cases: Vec<Case>) -> Vec<(String, Vec<String>)> {
    let mut ids = std::collections::BTreeSet::new();
    for c in &cases {
        assert!(ids.insert(c.id.clone()), "duplicate case id {}", c.id);
    }
    // Cases hold closures that are not Send: run them in order. Each is a few ms.
    cases
        .iter()
        .filter_map(|c| {
            let p = c.problems();
            (!p.is_empty()).then(|| (c.id.clone(), p))
        })
        .collect()
}
