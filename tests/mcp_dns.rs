//! The DNS tools and the secrets of a stack, through `stackwiz mcp` over real pipes: the
//! binary in a temp dir with a cleaned environment (support::TestEnv), spoken to one request
//! at a time in the handshake era, against the fakes of Cloudflare and the IP services that
//! tests/dns.rs uses, on loopback.
//!
//! Every successful tool result is checked the way a validating client checks it: an object
//! as `structuredContent` that the tool's `outputSchema` (from tools/list) accepts, and one
//! text block holding the same JSON. Every line the server wrote, on stdout and on stderr,
//! is searched for the token and for every secret a stack holds.

use crate::dns_world;
use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dns_world::{world, IP, NEW_IP, TOKEN};
use serde_json::{json, Value};
use support::TestEnv;

const WRONG_TOKEN: &str = "cf-tok-WR0NGsecretQz4";
/// Every HTTP timeout and wait x 0.2, as in tests/dns.rs.
/// The longest a reply may take: generous, since the fakes answer at once.
const REPLY_WAIT: Duration = Duration::from_secs(60);
const SECRET_VALUE: &str = "s3cr3t-value-123";

// ---------------------------------------------------------------------------------------
// A session with `stackwiz mcp`

/// A running `stackwiz mcp`, initialized in the handshake era, with its tools listed. Each
/// request waits for its reply, so a test can change the fakes between two calls. Every
/// line the server writes is kept for the secret checks of [`Session::close`].
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
    /// Every stdout line, in order.
    written: Vec<String>,
    tools: Vec<Value>,
    next_id: i64,
}

/// What the server wrote over a whole session.
struct Transcript {
    stdout: Vec<String>,
    stderr: String,
}

impl Transcript {
    /// Neither stream holds `secret` anywhere.
    fn never_says(&self, secret: &str, what: &str) {
        for line in &self.stdout {
            assert!(!line.contains(secret), "{what} leaked on stdout:\n{line}");
        }
        assert!(
            !self.stderr.contains(secret),
            "{what} leaked on stderr:\n{}",
            self.stderr
        );
    }
}

impl Session {
    fn open(env: &TestEnv) -> Session {
        let mut run = env.cmd(["mcp"]);
        run.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = run.cmd.spawn().expect("spawn stackwiz mcp");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut session = Session {
            child,
            stdin,
            lines,
            stderr: Some(stderr),
            written: Vec::new(),
            tools: Vec::new(),
            next_id: 0,
        };
        let init = session.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "mcp_dns", "version": "1"}}),
        );
        assert_eq!(init["result"]["protocolVersion"], "2025-11-25", "{init}");
        session.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        let listed = session.request("tools/list", json!({}));
        session.tools = listed["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("tools/list: {listed}"))
            .clone();
        session
    }

    fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().expect("the session is open");
        writeln!(stdin, "{message}").expect("write to stackwiz mcp");
        stdin.flush().unwrap();
    }

    /// Sends `method` with `params` and returns the whole reply (one JSON-RPC message).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + REPLY_WAIT;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(wait) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no reply to {method} (id {id}) within {REPLY_WAIT:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let transcript = self.close();
                    panic!(
                        "stackwiz mcp closed stdout before answering {method}:\n{}",
                        transcript.stderr
                    )
                }
            };
            self.written.push(line.clone());
            let reply: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
            assert_eq!(reply["jsonrpc"], "2.0", "{line}");
            if reply["id"] == json!(id) {
                return reply;
            }
            // A notification from the server: kept for the secret checks, not an answer.
            assert!(reply.get("id").is_none(), "a reply to another id: {line}");
        }
    }

    /// `tools/call` of `tool`: its result, which must be a tool result, not a protocol error.
    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let reply = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        assert!(
            reply.get("error").is_none(),
            "{tool}: a protocol error, not a tool result: {reply}"
        );
        reply["result"].clone()
    }

    /// Calls `tool`, expects success, checks the result as a validating client would, and
    /// returns its `structuredContent`.
    fn succeeds(&mut self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments.clone());
        assert_eq!(
            result["isError"], false,
            "{tool} {arguments} failed: {result}"
        );
        let structured = result["structuredContent"].clone();
        assert!(
            structured.is_object(),
            "{tool}: structuredContent is not an object: {result}"
        );
        let schema = self.output_schema(tool);
        assert_eq!(schema["type"], "object", "{tool}: outputSchema {schema}");
        let mut problems = conforms(&structured, &schema, "structuredContent");
        // The schemas are open, so a report field they do not list would pass unseen: an
        // agent reads the schema to learn what a result holds.
        for field in structured.as_object().into_iter().flat_map(|o| o.keys()) {
            if schema["properties"].get(field).is_none() {
                problems.push(format!(
                    "structuredContent.{field}: not in the outputSchema"
                ));
            }
        }
        assert!(
            problems.is_empty(),
            "{tool}: structuredContent breaks its outputSchema:\n{}\nschema: {schema}\nresult: {structured:#}",
            problems.join("\n")
        );
        let content = result["content"].as_array().unwrap_or_else(|| {
            panic!("{tool}: no content: {result}");
        });
        assert_eq!(content.len(), 1, "{tool}: one text block: {result}");
        assert_eq!(content[0]["type"], "text", "{tool}: {result}");
        let text = content[0]["text"].as_str().unwrap();
        let parsed: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{tool}: the text block is not JSON ({e}): {text:?}"));
        assert_eq!(
            parsed, structured,
            "{tool}: the text block is not the structuredContent"
        );
        structured
    }

    /// Calls `tool`, expects an `isError` result, and returns its text.
    fn fails(&mut self, tool: &str, arguments: Value) -> String {
        let result = self.call(tool, arguments.clone());
        assert_eq!(
            result["isError"], true,
            "{tool} {arguments} did not fail: {result}"
        );
        assert!(
            result.get("structuredContent").is_none(),
            "{tool}: a failure with structuredContent: {result}"
        );
        result["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn output_schema(&self, tool: &str) -> Value {
        let listed = self
            .tools
            .iter()
            .find(|t| t["name"] == tool)
            .unwrap_or_else(|| panic!("tools/list has no {tool}"));
        listed
            .get("outputSchema")
            .unwrap_or_else(|| panic!("{tool} has no outputSchema: {listed}"))
            .clone()
    }

    /// Closes stdin, waits for the server to exit (cleanly), and returns all it wrote.
    fn close(&mut self) -> Transcript {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("stackwiz mcp still running 10 s after stdin closed");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        // Lines written after the last reply (there should be none) count as well.
        while let Ok(line) = self.lines.try_recv() {
            self.written.push(line);
        }
        assert!(status.success(), "stackwiz mcp exited {status}:\n{stderr}");
        Transcript {
            stdout: std::mem::take(&mut self.written),
            stderr,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The output-schema subset the tools use: `type` (a name or a list of names, "null"
// among them), `properties` and `required`. Anything else in a schema fails the check, so
// a richer schema cannot pass unchecked here.

fn conforms(value: &Value, schema: &Value, at: &str) -> Vec<String> {
    let Some(schema) = schema.as_object() else {
        return vec![format!("{at}: the schema is not an object: {schema}")];
    };
    let mut problems = Vec::new();
    for keyword in schema.keys() {
        if !matches!(
            keyword.as_str(),
            "type" | "properties" | "required" | "title" | "description"
        ) {
            problems.push(format!("{at}: keyword `{keyword}` is beyond this checker"));
        }
    }
    if let Some(kind) = schema.get("type") {
        let kinds: Vec<&str> = match kind {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            other => {
                problems.push(format!("{at}: `type` is {other}"));
                Vec::new()
            }
        };
        if !kinds.iter().any(|k| is_of_type(value, k)) {
            problems.push(format!("{at}: {value} is not of type {kind}"));
        }
    }
    if let (Some(object), Some(properties)) = (value.as_object(), schema.get("properties")) {
        let Some(properties) = properties.as_object() else {
            return vec![format!("{at}: `properties` is not an object")];
        };
        for (name, sub) in properties {
            if let Some(field) = object.get(name) {
                problems.extend(conforms(field, sub, &format!("{at}.{name}")));
            }
        }
    }
    if let (Some(object), Some(required)) = (value.as_object(), schema.get("required")) {
        for name in required.as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                problems.push(format!("{at}: required field `{name}` is missing"));
            }
        }
    }
    problems
}

fn is_of_type(value: &Value, kind: &str) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => panic!("unknown JSON type `{other}` in an output schema"),
    }
}

#[test]
fn the_schema_checker_catches_what_a_validating_client_would() {
    let schema = json!({
        "type": "object",
        "properties": {"n": {"type": "integer"}, "s": {"type": ["string", "null"]}},
        "required": ["n", "s"],
    });
    assert!(conforms(&json!({"n": 1, "s": null, "extra": 1}), &schema, "r").is_empty());
    assert_eq!(
        conforms(&json!({"n": 1.5, "s": 2}), &schema, "r"),
        [
            "r.n: 1.5 is not of type \"integer\"",
            "r.s: 2 is not of type [\"string\",\"null\"]"
        ]
    );
    assert_eq!(
        conforms(&json!({"n": 1}), &schema, "r"),
        ["r: required field `s` is missing"]
    );
    assert_eq!(
        conforms(
            &json!({}),
            &json!({"type": "object", "additionalProperties": false}),
            "r"
        ),
        ["r: keyword `additionalProperties` is beyond this checker"]
    );
}

// ---------------------------------------------------------------------------------------
// DNS tools

/// The records of a result that has a `records`, `deleted` or `kept` array, as
/// `(type, name, content, owner)`.
fn records(of: &Value) -> Vec<(String, String, String, Value)> {
    of.as_array()
        .unwrap_or_else(|| panic!("not an array of records: {of}"))
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap_or_default().to_string(),
                r["name"].as_str().unwrap_or_default().to_string(),
                r["content"].as_str().unwrap_or_default().to_string(),
                r["owner"].clone(),
            )
        })
        .collect()
}

fn rec(kind: &str, name: &str, content: &str, owner: &str) -> (String, String, String, Value) {
    (kind.into(), name.into(), content.into(), json!(owner))
}

#[test]
fn create_dns_record_makes_a_record_at_the_detected_address_owned_by_its_name_or_stack() {
    let w = world();
    let mut mcp = Session::open(&w.env);

    let made = mcp.succeeds("create_dns_record", json!({"subdomain": "app"}));
    assert_eq!(made["action"], "created");
    assert_eq!(made["zone"]["name"], "example.com");
    assert_eq!(
        records(&json!([made["record"]])),
        [rec("A", "app.example.com", IP, "app")]
    );
    assert_eq!(made["record"]["proxied"], true);
    assert_eq!(made["ip_source"], w.ips.url("/valid"));

    let owned = mcp.succeeds(
        "create_dns_record",
        json!({"subdomain": "api", "stack": "shop"}),
    );
    assert_eq!(owned["action"], "created");
    assert_eq!(owned["record"]["comment"], "stackwiz:shop ip=auto");
    assert_eq!(owned["record"]["owner"], "shop");

    let again = mcp.succeeds("create_dns_record", json!({"subdomain": "app"}));
    assert_eq!(again["action"], "unchanged");

    let stored: Vec<(String, String, Option<String>)> =
        w.cf.records()
            .into_iter()
            .map(|r| (r.name, r.content, r.comment))
            .collect();
    assert_eq!(
        stored,
        [
            (
                "app.example.com".into(),
                IP.into(),
                Some("stackwiz:app ip=auto".into())
            ),
            (
                "api.example.com".into(),
                IP.into(),
                Some("stackwiz:shop ip=auto".into())
            ),
        ]
    );
    mcp.close().never_says(TOKEN, "the token");
}

#[test]
fn records_are_listed_updated_and_deleted_by_their_stack() {
    let w = world();
    let mut mcp = Session::open(&w.env);
    mcp.succeeds("create_dns_record", json!({"subdomain": "app"}));
    mcp.succeeds(
        "create_dns_record",
        json!({"subdomain": "api", "stack": "shop"}),
    );

    let listed = mcp.succeeds("list_dns_records", json!({}));
    assert_eq!(listed["zone"]["name"], "example.com");
    let mut all = records(&listed["records"]);
    all.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        all,
        [
            rec("A", "api.example.com", IP, "shop"),
            rec("A", "app.example.com", IP, "app"),
        ]
    );
    let one = mcp.succeeds("list_dns_records", json!({"subdomain": "app", "type": "A"}));
    assert_eq!(
        records(&one["records"]),
        [rec("A", "app.example.com", IP, "app")]
    );

    let updated = mcp.succeeds(
        "update_dns_record",
        json!({"subdomain": "app", "value": NEW_IP}),
    );
    assert_eq!(updated["action"], "updated");
    assert_eq!(updated["previous"]["content"], IP);
    assert_eq!(updated["record"]["content"], NEW_IP);
    // An address given by hand pins the record: its comment now says so.
    assert_eq!(updated["changed"], json!(["content", "comment"]));
    assert_eq!(updated["record"]["comment"], "stackwiz:app ip=fixed");
    assert_eq!(w.cf.record("A", "app.example.com").unwrap().content, NEW_IP);

    // Another stack's filter deletes nothing, and that is not an error.
    let none = mcp.succeeds(
        "delete_dns_record",
        json!({"subdomain": "api", "stack": "blog"}),
    );
    assert_eq!(none["deleted"], json!([]));
    assert_eq!(none["dry_run"], false);
    assert!(w.cf.record("A", "api.example.com").is_some());

    let gone = mcp.succeeds(
        "delete_dns_record",
        json!({"subdomain": "api", "stack": "shop"}),
    );
    assert_eq!(gone["name"], "api.example.com");
    assert_eq!(
        records(&gone["deleted"]),
        [rec("A", "api.example.com", IP, "shop")]
    );
    assert!(w.cf.record("A", "api.example.com").is_none());
    assert!(w.cf.record("A", "app.example.com").is_some());

    // A name in no zone of the account: nothing to delete, and `zone` is null.
    let outside = mcp.succeeds(
        "delete_dns_record",
        json!({"subdomain": "shop.example.org", "stack": "shop"}),
    );
    assert_eq!(
        (&outside["zone"], &outside["deleted"]),
        (&Value::Null, &json!([]))
    );
    mcp.close().never_says(TOKEN, "the token");
}

#[test]
fn sync_dns_points_a_stacks_record_at_the_new_address() {
    let w = world();
    let mut mcp = Session::open(&w.env);
    let created = mcp.succeeds(
        "create_stack",
        json!({"name": "web", "image": "nginx:alpine", "port": 80, "create_dns": true}),
    );
    assert_eq!(created["domain"], "web.example.com");
    assert!(created["dns"].is_object(), "{created}");
    assert!(w.env.stack("web").join("docker-compose.yml").is_file());
    assert_eq!(w.cf.record("A", "web.example.com").unwrap().content, IP);

    let same = mcp.succeeds("sync_dns", json!({}));
    assert_eq!(
        (&same["checked"], &same["writes"], &same["changes"]),
        (&json!(1), &json!(0), &json!([]))
    );

    w.ips.set_ip(NEW_IP);
    let planned = mcp.succeeds("sync_dns", json!({"dry_run": true}));
    assert_eq!(planned["dry_run"], true);
    assert_eq!(planned["writes"], 0);
    assert_eq!(planned["changes"].as_array().map(Vec::len), Some(1));
    assert_eq!(w.cf.record("A", "web.example.com").unwrap().content, IP);

    let synced = mcp.succeeds("sync_dns", json!({}));
    assert_eq!(synced["ipv4"], NEW_IP);
    assert_eq!(synced["writes"], 1);
    let change = &synced["changes"][0];
    assert_eq!(
        (&change["name"], &change["from"], &change["to"]),
        (&json!("web.example.com"), &json!(IP), &json!(NEW_IP))
    );
    assert_eq!(w.cf.record("A", "web.example.com").unwrap().content, NEW_IP);
    mcp.close().never_says(TOKEN, "the token");
}

#[test]
fn get_server_ip_and_check_environment_answer_in_their_schemas() {
    let w = world();
    let mut mcp = Session::open(&w.env);
    let ip = mcp.succeeds("get_server_ip", json!({}));
    assert_eq!(
        ip,
        json!({"ip": IP, "family": "ipv4", "source": w.ips.url("/valid"), "warning": null})
    );

    let doctor = mcp.succeeds("check_environment", json!({}));
    let token = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "cloudflare token")
        .unwrap_or_else(|| panic!("no token check: {doctor:#}"))
        .clone();
    assert_eq!(token["ok"], true, "{token}");
    assert!(
        token["detail"]
            .as_str()
            .unwrap()
            .contains("valid and active"),
        "{token}"
    );
    mcp.close().never_says(TOKEN, "the token");
}

#[test]
fn a_refused_token_is_an_is_error_result_naming_cloudflares_code_never_the_token() {
    let mut w = world();
    w.env.set("STACKWIZ_CF_API_TOKEN", WRONG_TOKEN);
    let mut mcp = Session::open(&w.env);
    for (tool, arguments) in [
        ("create_dns_record", json!({"subdomain": "app"})),
        ("list_dns_records", json!({})),
        ("delete_dns_record", json!({"subdomain": "app"})),
    ] {
        let text = mcp.fails(tool, arguments);
        assert!(text.contains("[9109]"), "{tool}: {text}");
    }
    // The doctor reports the refusal as a failed check, in a successful result.
    let doctor = mcp.succeeds("check_environment", json!({}));
    let token = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "cloudflare token")
        .unwrap()
        .clone();
    assert_eq!(token["ok"], false, "{token}");
    assert!(
        token["detail"].as_str().unwrap().contains("[1000]"),
        "{token}"
    );
    assert!(w.cf.records().is_empty());
    let said = mcp.close();
    said.never_says(WRONG_TOKEN, "the token");

    // A token that may read but not edit: the write is refused with [10000].
    w.env.set("STACKWIZ_CF_API_TOKEN", TOKEN);
    w.cf.set_read_only(true);
    let mut mcp = Session::open(&w.env);
    let text = mcp.fails("create_dns_record", json!({"subdomain": "app"}));
    assert!(text.contains("[10000]"), "{text}");
    mcp.close().never_says(TOKEN, "the token");
}

// ---------------------------------------------------------------------------------------
// Secrets of a stack

/// The value of `key` in .env text (quotes removed).
fn env_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.trim().strip_prefix(key)?.strip_prefix('=')?;
        Some(
            value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string(),
        )
    })
}

#[test]
fn a_pocketbase_stacks_generated_key_and_environment_never_reach_the_client() {
    let w = world();
    let mut mcp = Session::open(&w.env);
    let environment = json!({"SECRET_X": SECRET_VALUE});

    let created = mcp.succeeds(
        "create_stack",
        json!({"name": "pb", "type": "pocketbase", "environment": environment}),
    );
    assert_eq!(created["started"], false);
    let env_file = std::fs::read_to_string(w.env.stack("pb").join(".env")).unwrap();
    let key = env_value(&env_file, "PB_ENCRYPTION_KEY")
        .unwrap_or_else(|| panic!("no PB_ENCRYPTION_KEY in .env:\n{env_file}"));
    assert!(key.len() >= 16, "a short key proves nothing: {key:?}");
    assert_eq!(
        env_value(&env_file, "SECRET_X").as_deref(),
        Some(SECRET_VALUE)
    );

    let validated = mcp.succeeds(
        "validate_stack",
        json!({"name": "pb2", "type": "pocketbase", "environment": environment}),
    );
    assert_eq!(validated["valid"], true, "{validated:#}");
    let rendered_env = validated["would_create"]["rendered"][".env"]
        .as_str()
        .unwrap_or_else(|| panic!("no rendered .env: {validated:#}"));
    assert!(
        rendered_env.contains("PB_ENCRYPTION_KEY="),
        "{rendered_env}"
    );
    assert!(rendered_env.contains("SECRET_X="), "{rendered_env}");
    assert!(!w.env.stack("pb2").exists(), "validate_stack wrote pb2");

    let listed = mcp.request("resources/list", json!({}));
    let uris: Vec<&str> = listed["result"]["resources"]
        .as_array()
        .unwrap_or_else(|| panic!("resources/list: {listed}"))
        .iter()
        .filter_map(|r| r["uri"].as_str())
        .collect();
    for uri in [
        "stack://pb/compose",
        "stack://pb/status",
        "template://pocketbase",
    ] {
        assert!(uris.contains(&uri), "{uri} not in {uris:?}");
    }
    assert!(
        uris.iter().all(|u| !u.contains("env")),
        "a .env as a resource: {uris:?}"
    );
    for uri in [
        "stack://pb/compose",
        "template://pocketbase",
        "stack://pb/status",
    ] {
        let read = mcp.request("resources/read", json!({"uri": uri}));
        let text = read["result"]["contents"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{uri}: {read}"));
        assert!(!text.is_empty(), "{uri}");
    }
    for uri in ["stack://pb/.env", "stack://pb/env"] {
        let read = mcp.request("resources/read", json!({"uri": uri}));
        assert!(read.get("error").is_some(), "{uri} was served: {read}");
    }
    mcp.succeeds("list_stacks", json!({}));

    let said = mcp.close();
    said.never_says(&key, "PB_ENCRYPTION_KEY");
    said.never_says(SECRET_VALUE, "an environment value");
    said.never_says(TOKEN, "the token");
}
