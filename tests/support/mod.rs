//! Shared test harness: run the real `stackwiz` binary in a temp dir with a cleaned
//! environment. HOME, XDG folders and STACKWIZ_BASE_DIR point into the temp dir; the
//! Cloudflare API and IP services point at a closed loopback port unless a test sets its own
//! fakes, so no test can reach the internet or touch real settings.
#![allow(dead_code, clippy::disallowed_methods)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A closed port on loopback: anything sent there fails at once.
pub const CLOSED: &str = "http://127.0.0.1:9";

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub base: PathBuf,
    vars: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("sw")
            .tempdir()
            .expect("temp dir");
        let base = dir.path().join("stacks");
        std::fs::create_dir_all(&base).unwrap();
        for d in ["home", "config", "cache"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let p = |s: &str| dir.path().join(s).display().to_string();
        let mut vars = vec![
            ("HOME".to_string(), p("home")),
            ("XDG_CONFIG_HOME".to_string(), p("config")),
            ("XDG_CACHE_HOME".to_string(), p("cache")),
            ("STACKWIZ_BASE_DIR".to_string(), base.display().to_string()),
            ("STACKWIZ_CF_API_URL".to_string(), CLOSED.to_string()),
            ("STACKWIZ_IP_SERVICES".to_string(), CLOSED.to_string()),
            (
                "PATH".to_string(),
                std::env::var("PATH").unwrap_or_default(),
            ),
        ];
        // The private test engine and its Compose plugin (tests/setup/engine.sh).
        for key in ["DOCKER_HOST", "DOCKER_CONFIG"] {
            if let Ok(v) = std::env::var(key) {
                vars.push((key.to_string(), v));
            }
        }
        TestEnv { dir, base, vars }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Set a variable for every later command of this environment.
    pub fn set(&mut self, key: &str, value: impl AsRef<OsStr>) -> &mut Self {
        let value = value.as_ref().to_string_lossy().into_owned();
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value));
        self
    }

    pub fn unset(&mut self, key: &str) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self
    }

    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A `stackwiz ARGS` command with this environment.
    pub fn cmd<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackwiz"));
        cmd.args(args).env_clear().current_dir(self.dir.path());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        Run {
            cmd,
            stdin: None,
            replies: 0,
        }
    }

    /// Any other program with this environment (docker, for checks).
    pub fn program<I, S>(&self, program: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(program);
        cmd.args(args).env_clear().current_dir(self.dir.path());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        Run {
            cmd,
            stdin: None,
            replies: 0,
        }
    }

    /// Where a stack lives.
    pub fn stack(&self, name: &str) -> PathBuf {
        self.base.join(name)
    }

    /// Names of the entries of the base dir (hidden ones included), sorted.
    pub fn base_entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.base)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

pub struct Run {
    pub cmd: Command,
    stdin: Option<Vec<u8>>,
    /// Keep stdin open until this many lines came out (an MCP conversation: the server
    /// cancels what still runs when its input ends).
    replies: usize,
}

impl Run {
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// JSON-RPC lines for `stackwiz mcp`: stdin stays open until every request with an id
    /// has its reply (60 s at most), as a client waits for its answers before it leaves.
    pub fn mcp_input(mut self, lines: &[&str]) -> Self {
        self.replies = lines
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("id").is_some() && v.get("method").is_some())
            .count();
        self.stdin = Some(
            lines
                .iter()
                .map(|l| format!("{l}\n"))
                .collect::<String>()
                .into(),
        );
        self
    }

    pub fn output(mut self) -> Out {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if self.replies > 0 {
            return self.conversation();
        }
        self.cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = self.cmd.spawn().expect("spawn");
        if let Some(input) = self.stdin.take() {
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(&input);
        }
        Out::from(child.wait_with_output().expect("wait"))
    }

    fn conversation(mut self) -> Out {
        use std::io::{BufRead, BufReader, Read};
        use std::sync::mpsc;
        self.cmd.stdin(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn");
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(&self.stdin.take().unwrap_or_default());
        let (tx, rx) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            for line in stdout.lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
                let _ = tx.send(());
            }
            text
        });
        let mut stderr = child.stderr.take().unwrap();
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        for _ in 0..self.replies {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if rx.recv_timeout(left).is_err() {
                break;
            }
        }
        drop(stdin);
        let status = child.wait().expect("wait");
        Out {
            code: status.code().unwrap_or(-1),
            stdout: reader.join().unwrap(),
            stderr: errors.join().unwrap(),
        }
    }

    /// Run and expect exit status 0.
    pub fn ok(self) -> Out {
        let desc = format!("{:?}", self.cmd);
        let out = self.output();
        assert_eq!(out.code, 0, "{desc} failed:\n{out}");
        out
    }

    /// Run and expect exit status `code`.
    pub fn fails(self, code: i32) -> Out {
        let desc = format!("{:?}", self.cmd);
        let out = self.output();
        assert_eq!(out.code, code, "{desc}: expected exit {code}:\n{out}");
        out
    }
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Out {
    fn from(o: Output) -> Out {
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Out {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }

    /// The output (both streams) contains `needle`.
    pub fn says(&self, needle: &str) -> bool {
        self.stdout.contains(needle) || self.stderr.contains(needle)
    }
}

/// The test engine (tests/setup/engine.sh exports DOCKER_HOST and DOCKER_CONFIG). A missing
/// engine fails the test, never skips it: run the suite through `make test`.
pub fn require_engine() {
    let ok = std::env::var("DOCKER_HOST").is_ok()
        && Command::new("docker")
            .args(["version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "no Docker engine reachable through DOCKER_HOST: run the tests with `make test`"
    );
}

/// `docker compose` (no engine needed for `config`). Missing fails the test.
pub fn require_compose() {
    let ok = Command::new("docker")
        .args(["compose", "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`docker compose` is not installed: run the tests with `make test`"
    );
}

/// The local test image built by tests/setup/engine.sh.
pub fn test_image() -> String {
    std::env::var("STACKWIZ_TEST_IMAGE").unwrap_or_else(|_| "stackwiz-test/busybox:latest".into())
}

/// Write a file, creating parent folders.
pub fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}
