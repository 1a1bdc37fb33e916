//! `stackwiz mcp` over real pipes: the binary in a temp dir with a cleaned environment
//! (support::TestEnv: HOME, XDG folders and the base dir in the temp dir, Cloudflare and the
//! IP services on a closed loopback port), spoken to line by line, and then by the official
//! MCP Python SDK (tests/mcp_client.py, run with $STACKWIZ_TEST_PYTHON from
//! tests/setup/engine.sh) in its default and legacy modes, against the test engine.

use crate::support;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::TestEnv;

const DISCOVER_META: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

fn initialize(id: i64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"test","version":"1"}}}}}}"#
    )
}

const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// `stackwiz mcp ARGS` on pipes, spoken to one line at a time: stdout is read on a thread,
/// stderr goes to a file (a child that outlives the server cannot hold a pipe of ours open).
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    replies: Receiver<String>,
    stderr: PathBuf,
}

/// How long a test waits for what must happen; a server that needs longer is hung.
const PATIENCE: Duration = Duration::from_secs(20);

impl Server {
    fn start(env: &TestEnv, args: &[&str]) -> Server {
        let mut argv = vec!["mcp"];
        argv.extend_from_slice(args);
        let stderr = env.path(&format!(
            "mcp-stderr-{}",
            SERVERS.fetch_add(1, Ordering::SeqCst)
        ));
        let mut run = env.cmd(&argv);
        run.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut child = run.cmd.spawn().expect("spawn stackwiz mcp");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            stdin,
            replies,
            stderr,
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").expect("write to stackwiz mcp");
        stdin.flush().unwrap();
    }

    /// The next stdout line, which must be one JSON-RPC message.
    fn reply(&self) -> Value {
        let line = self
            .replies
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|e| panic!("no reply within {PATIENCE:?} ({e})"));
        parse_reply(&line)
    }

    /// Closes stdin and waits (at most `PATIENCE`) for the server to exit. Returns its
    /// status, the replies not yet read and its stderr.
    fn close(mut self) -> (ExitStatus, Vec<Value>, String) {
        drop(self.stdin.take());
        let closed = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if closed.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("stackwiz mcp still running {PATIENCE:?} after stdin closed");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let rest = self.replies.iter().map(|l| parse_reply(&l)).collect();
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        (status, rest, stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

fn parse_reply(line: &str) -> Value {
    let reply: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
    assert_eq!(reply["jsonrpc"], "2.0", "{line}");
    reply
}

/// Whether the server answers `line`: anything but a notification or a client's response.
fn gets_a_reply(line: &str) -> bool {
    let Ok(Value::Object(message)) = serde_json::from_str::<Value>(line) else {
        return true;
    };
    let notification =
        !message.contains_key("id") && message.get("method").is_some_and(Value::is_string);
    let response = message.contains_key("result") || message.contains_key("error");
    !(notification || response)
}

/// `stackwiz mcp ARGS` spoken to in lock step: each line is sent once the previous one is
/// answered (a client that closes stdin with requests in flight cancels them). Returns the
/// replies and stderr; the server must exit 0 at EOF.
fn converse(env: &TestEnv, args: &[&str], lines: &[&str]) -> (Vec<Value>, String) {
    let mut server = Server::start(env, args);
    let mut replies = Vec::new();
    for line in lines {
        server.send(line);
        if gets_a_reply(line) {
            replies.push(server.reply());
        }
    }
    let (status, rest, stderr) = server.close();
    assert!(status.success(), "stackwiz mcp failed: {status}\n{stderr}");
    assert!(rest.is_empty(), "replies nobody asked for: {rest:?}");
    (replies, stderr)
}

fn tool_names(reply: &Value) -> Vec<String> {
    reply["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_handshake_session_over_pipes_answers_every_request_in_order() {
    let env = TestEnv::new();
    let (replies, stderr) = converse(
        &env,
        &[],
        &[
            &initialize(0),
            INITIALIZED,
            r#"{"jsonrpc":"2.0","id":"list","method":"tools/list"}"#,
            "this is not json",
            r#"[{"jsonrpc":"2.0","id":9,"method":"ping"}]"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"no/such/method"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_templates","arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope"}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}"#,
            r#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
        ],
    );
    let summary: Vec<(Option<Value>, Value)> = replies
        .iter()
        .map(|r| (r.get("id").cloned(), r["error"]["code"].clone()))
        .collect();
    // A line whose id cannot be read is answered without one: MCP ids are strings or
    // integers, never null.
    assert_eq!(
        summary,
        [
            (Some(json!(0)), Value::Null),
            (Some(json!("list")), Value::Null),
            (None, json!(-32700)),
            (None, json!(-32600)),
            (Some(json!(1)), json!(-32601)),
            (Some(json!(2)), Value::Null),
            (Some(json!(3)), json!(-32602)),
            (Some(json!(4)), Value::Null),
            (None, json!(-32600)),
        ]
    );
    assert_eq!(replies[0]["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(replies[0]["result"]["serverInfo"]["name"], "stackwiz");
    assert_eq!(tool_names(&replies[1]).len(), 18);
    let templates = &replies[5]["result"];
    assert_eq!(templates["isError"], false);
    assert_eq!(
        templates["content"][0]["text"]
            .as_str()
            .map(|t| serde_json::from_str::<Value>(t).unwrap()),
        Some(templates["structuredContent"].clone())
    );
    assert!(stderr.contains("stackwiz mcp"), "{stderr}");
}

#[test]
fn a_stateless_session_discovers_and_lists() {
    let env = TestEnv::new();
    let (replies, _) = converse(
        &env,
        &[],
        &[
            &format!(
                r#"{{"jsonrpc":"2.0","id":"d","method":"server/discover","params":{{"_meta":{DISCOVER_META}}}}}"#
            ),
            &format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"_meta":{DISCOVER_META}}}}}"#
            ),
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2030-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
            &format!(
                r#"{{"jsonrpc":"2.0","id":4,"method":"ping","params":{{"_meta":{DISCOVER_META}}}}}"#
            ),
        ],
    );
    assert_eq!(
        replies[0]["result"]["supportedVersions"],
        json!(["2026-07-28"])
    );
    assert_eq!(replies[0]["result"]["resultType"], "complete");
    assert_eq!(replies[1]["result"]["cacheScope"], "public");
    assert!(replies[1]["result"]["ttlMs"].is_u64());
    assert_eq!(replies[2]["error"]["code"], -32022);
    assert_eq!(replies[2]["error"]["data"]["requested"], "2030-01-01");
    assert_eq!(replies[3]["error"]["code"], -32602);
    // 2026-07-28 removed ping.
    assert_eq!(replies[4]["error"]["code"], -32601);
    assert_eq!(replies[4]["id"], 4);
}

#[test]
fn it_exits_promptly_when_stdin_closes() {
    let env = TestEnv::new();
    let mut child: Child = {
        let mut run = env.cmd(["mcp"]);
        run.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        run.cmd.spawn().expect("spawn stackwiz mcp")
    };
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    writeln!(stdin, "{}", initialize(1)).unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains(r#""protocolVersion""#), "{line}");
    let closed = Instant::now();
    drop(stdin);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        if closed.elapsed() > Duration::from_secs(2) {
            let _ = child.kill();
            panic!("stackwiz mcp still running 2 s after stdin closed");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        closed.elapsed() < Duration::from_secs(1),
        "took {:?}",
        closed.elapsed()
    );
}

#[test]
fn read_only_mode_lists_only_the_readers_from_the_flag_or_the_environment() {
    let mut env = TestEnv::new();
    let lines = [
        initialize(0),
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_string(),
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"remove_stack","arguments":{"name":"x","confirm":true}}}"#.to_string(),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (by_flag, _) = converse(&env, &["--read-only"], &lines);
    env.set("STACKWIZ_READ_ONLY", "1");
    let (by_env, _) = converse(&env, &[], &lines);
    for replies in [by_flag, by_env] {
        assert_eq!(
            tool_names(&replies[1]),
            [
                "list_templates",
                "validate_stack",
                "list_stacks",
                "get_stack_status",
                "get_stack_logs",
                "check_environment",
                "get_server_ip",
                "list_dns_records"
            ]
        );
        let refused = &replies[2]["result"];
        assert_eq!(refused["isError"], true);
        assert!(
            refused["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("read-only"),
            "{refused}"
        );
    }
}

#[test]
fn print_config_names_this_binary_and_never_the_token() {
    let mut env = TestEnv::new();
    env.set("STACKWIZ_CF_API_TOKEN", "tok-very-secret");
    env.set("STACKWIZ_DEFAULT_DOMAIN", "example.com");
    for (client, transport) in [("claude-desktop", None), ("claude-code", Some("stdio"))] {
        let out = env.cmd(["mcp", "--print-config", client]).ok();
        assert!(!out.says("tok-very-secret"), "{out}");
        let server = &out.json()["mcpServers"]["stackwiz"];
        let command = Path::new(server["command"].as_str().unwrap()).to_path_buf();
        let this = Path::new(env!("CARGO_BIN_EXE_stackwiz"))
            .canonicalize()
            .unwrap();
        assert_eq!(command.canonicalize().unwrap(), this);
        assert!(command.is_absolute());
        assert_eq!(server["args"], json!(["mcp"]));
        assert_eq!(server["env"]["STACKWIZ_DEFAULT_DOMAIN"], "example.com");
        assert_eq!(
            server["env"]["STACKWIZ_BASE_DIR"],
            env.base.display().to_string()
        );
        assert!(server["env"].get("STACKWIZ_CF_API_TOKEN").is_none());
        assert_eq!(server.get("type").and_then(Value::as_str), transport);
    }
}

// ------------------------------------------------------------------------------------
// The official Python SDK

/// Runs tests/mcp_client.py SCENARIO against this binary with `env`'s environment.
fn python_client(env: &TestEnv, scenario: &str) -> support::Out {
    let python = std::env::var("STACKWIZ_TEST_PYTHON")
        .expect("STACKWIZ_TEST_PYTHON is not set: run the tests with `make test` (tests/setup/engine.sh makes the venv)");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let args = [
        script.as_os_str(),
        OsStr::new(env!("CARGO_BIN_EXE_stackwiz")),
        OsStr::new(scenario),
    ];
    let mut run = env.program(&python, args);
    run.cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    run.output()
}

#[test]
fn the_python_sdk_speaks_to_it_in_both_eras() {
    let env = TestEnv::new();
    let out = python_client(&env, "protocol");
    assert_eq!(out.code, 0, "mcp_client.py protocol failed:\n{out}");
    assert!(out.stdout.contains("PASS (protocol)"), "{out}");
}

#[test]
fn the_python_sdk_is_answered_while_a_tool_hangs_and_may_cancel_it() {
    let mut env = TestEnv::new();
    let docker = SleepingDocker::install(&mut env);
    env.set("STACKWIZ_TEST_DOCKER_PIDS", &docker.pids);
    let out = python_client(&env, "cancel");
    assert_eq!(out.code, 0, "mcp_client.py cancel failed:\n{out}");
    assert!(out.stdout.contains("PASS (cancel)"), "{out}");
}

#[test]
fn the_python_sdk_sees_only_the_readers_in_read_only_mode() {
    let env = TestEnv::new();
    let out = python_client(&env, "read-only");
    assert_eq!(out.code, 0, "mcp_client.py read-only failed:\n{out}");
}

/// What a test puts on the shared engine: a stack's containers and volumes (found by their
/// Compose project label, exactly) and a proxy network. Dropping it removes them, so a test
/// that fails or panics halfway leaves nothing behind. A killed test process runs no `Drop`:
/// tests/setup/engine.sh sweeps what such runs leave (the `mcp-` and `swmcp-` prefixes).
struct EngineObjects {
    stack: String,
    network: String,
    /// Runs `docker` with the test engine's DOCKER_HOST and DOCKER_CONFIG.
    docker: TestEnv,
}

impl EngineObjects {
    /// `mcp-<pid>-<what>` and `swmcp-<pid>-<what>`: this process's own names.
    fn new(what: &str) -> EngineObjects {
        let id = std::process::id();
        EngineObjects {
            stack: format!("mcp-{id}-{what}"),
            network: format!("swmcp-{id}-{what}"),
            docker: TestEnv::new(),
        }
    }

    fn docker<I, S>(&self, args: I) -> support::Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.docker.program("docker", args).output()
    }

    /// The ids a `docker ... ls -q`-style command lists.
    fn ids(&self, list: &[&str]) -> Vec<String> {
        let out = self.docker(list);
        out.stdout.split_whitespace().map(String::from).collect()
    }

    fn project(&self) -> String {
        format!("label=com.docker.compose.project={}", self.stack)
    }

    fn containers(&self) -> Vec<String> {
        self.ids(&["ps", "-aq", "--filter", &self.project()])
    }

    fn volumes(&self) -> Vec<String> {
        self.ids(&["volume", "ls", "-q", "--filter", &self.project()])
    }

    fn networks(&self) -> Vec<String> {
        self.ids(&[
            "network",
            "ls",
            "-q",
            "--filter",
            &format!("name=^{}$", self.network),
        ])
    }

    /// `docker REMOVE IDS...`, unless there is nothing to remove.
    fn remove(&self, remove: &[&str], ids: Vec<String>) {
        if !ids.is_empty() {
            let args = remove.iter().map(|a| a.to_string()).chain(ids);
            self.docker(args);
        }
    }
}

impl Drop for EngineObjects {
    fn drop(&mut self) {
        // Containers first: a network or volume in use cannot go.
        self.remove(&["rm", "-f", "-v"], self.containers());
        self.remove(&["volume", "rm", "-f"], self.volumes());
        self.remove(&["network", "rm"], self.networks());
    }
}

#[test]
fn the_python_sdk_runs_a_stack_lifecycle_on_the_engine() {
    support::require_engine();
    let mut env = TestEnv::new();
    let engine = EngineObjects::new("life");
    env.set("STACKWIZ_TEST_STACK", &engine.stack);
    env.set("STACKWIZ_TEST_IMAGE", support::test_image());
    env.set("STACKWIZ_DOCKER_NETWORK", &engine.network);
    let out = python_client(&env, "lifecycle");
    assert_eq!(out.code, 0, "mcp_client.py lifecycle failed:\n{out}");
}

#[test]
fn engine_objects_are_removed_even_when_the_test_panics() {
    support::require_engine();
    let mut made = Vec::new();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let engine = EngineObjects::new("guard");
        let label = format!("com.docker.compose.project={}", engine.stack);
        let image = support::test_image();
        let network = engine.docker(["network", "create", &engine.network]);
        let container = engine.docker([
            "create",
            "--name",
            &engine.stack,
            "--label",
            &label,
            "--network",
            &engine.network,
            &image,
        ]);
        made = vec![
            (engine.networks().len(), network.to_string()),
            (engine.containers().len(), container.to_string()),
        ];
        panic!("a test failing halfway");
    }));
    assert!(panicked.is_err());
    assert_eq!(made.len(), 2, "the test stopped before making anything");
    for (count, out) in made {
        assert_eq!(count, 1, "the test made nothing:\n{out}");
    }
    let engine = EngineObjects::new("guard");
    assert_eq!(
        engine.containers(),
        Vec::<String>::new(),
        "container {} left",
        engine.stack
    );
    assert_eq!(
        engine.networks(),
        Vec::<String>::new(),
        "network {} left",
        engine.network
    );
}

/// The binary's stdout carries nothing but protocol messages even when docker fails loudly.
#[test]
fn docker_output_never_reaches_stdout() {
    let mut env = TestEnv::new();
    let fake = env.path("fake-docker");
    support::write(
        &fake,
        "#!/bin/sh\necho 'fake docker says hello on stdout'\necho 'and on stderr' >&2\nexit 1\n",
    );
    make_executable(&fake);
    env.set("STACKWIZ_DOCKER", &fake);
    let (replies, _) = converse(
        &env,
        &[],
        &[
            &initialize(0),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_stack","arguments":{"name":"web","image":"nginx:alpine","port":80}}}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"start_stack","arguments":{"name":"web"}}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_stacks","arguments":{}}}"#,
        ],
    );
    assert_eq!(replies.len(), 4);
    assert_eq!(replies[1]["result"]["isError"], false, "{}", replies[1]);
    assert_eq!(replies[2]["result"]["isError"], true, "{}", replies[2]);
    assert_eq!(replies[3]["result"]["isError"], false, "{}", replies[3]);
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A `docker` that records each call and then sleeps for a minute, as a hung engine makes
/// the real one do. Dropping it kills the sleepers this test started (by their pids).
struct SleepingDocker {
    pids: PathBuf,
}

impl SleepingDocker {
    fn install(env: &mut TestEnv) -> SleepingDocker {
        let fake = env.path("sleeping-docker");
        let pids = env.path("sleeping-docker.pids");
        support::write(
            &fake,
            &format!(
                "#!/bin/sh\necho $$ >> '{}'\nexec sleep 60\n",
                pids.display()
            ),
        );
        make_executable(&fake);
        env.set("STACKWIZ_DOCKER", &fake);
        SleepingDocker { pids }
    }

    fn pids(&self) -> Vec<i32> {
        let text = std::fs::read_to_string(&self.pids).unwrap_or_default();
        text.lines().filter_map(|l| l.trim().parse().ok()).collect()
    }

    /// Waits until stackwiz has called it (the tool is then in flight).
    fn wait_for_a_call(&self) {
        let start = Instant::now();
        while self.pids().is_empty() {
            assert!(start.elapsed() < PATIENCE, "docker was never called");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for SleepingDocker {
    fn drop(&mut self) {
        for pid in self.pids() {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

const LIST_STACKS: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_stacks","arguments":{}}}"#;

#[test]
fn a_slow_tool_call_holds_up_no_other_request_and_a_cancelled_one_gets_no_reply() {
    let mut env = TestEnv::new();
    let docker = SleepingDocker::install(&mut env);
    let mut server = Server::start(&env, &[]);
    server.send(&initialize(0));
    assert_eq!(server.reply()["id"], 0);
    server.send(LIST_STACKS);
    docker.wait_for_a_call();
    server.send(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#);
    assert_eq!(
        server.reply(),
        json!({"jsonrpc": "2.0", "id": 2, "result": {}})
    );
    server.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#);
    assert_eq!(server.reply()["id"], 3);
    server.send(
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"the user gave up"}}"#,
    );
    server.send(r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_templates","arguments":{}}}"#);
    let templates = server.reply();
    assert_eq!(templates["id"], 4);
    assert_eq!(templates["result"]["isError"], false, "{templates}");
    let (status, rest, stderr) = server.close();
    assert!(status.success(), "{status}\n{stderr}");
    assert!(rest.is_empty(), "the cancelled call was answered: {rest:?}");
}

#[test]
fn closing_stdin_while_a_tool_runs_ends_the_server_at_once_without_a_reply() {
    let mut env = TestEnv::new();
    let docker = SleepingDocker::install(&mut env);
    let mut server = Server::start(&env, &[]);
    server.send(&initialize(0));
    assert_eq!(server.reply()["id"], 0);
    server.send(LIST_STACKS);
    docker.wait_for_a_call();
    // Server::close fails the test if the server outlives PATIENCE (the sleep is 60 s).
    let (status, rest, stderr) = server.close();
    assert!(status.success(), "{status}\n{stderr}");
    assert!(rest.is_empty(), "{rest:?}");
}

#[test]
fn a_closed_stderr_never_makes_the_server_panic() {
    let env = TestEnv::new();
    let mut run = env.cmd(["mcp"]);
    run.cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = run.cmd.spawn().expect("spawn stackwiz mcp");
    // The reading end is gone: every write to stderr now fails with EPIPE.
    drop(child.stderr.take());
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "this is not json").unwrap();
    writeln!(stdin, "{}", initialize(1)).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}\n{stdout}", out.status);
    let replies: Vec<Value> = stdout.lines().map(parse_reply).collect();
    assert_eq!(replies.len(), 2, "{stdout}");
    assert_eq!(replies[0]["error"]["code"], -32700);
    assert!(replies[0].get("id").is_none(), "{}", replies[0]);
    assert_eq!(replies[1]["id"], 1);
}
