//! The MCP server's line handler: after a valid handshake, any line (or lines) a client
//! sends gets well-formed JSON-RPC back, one object per line, never `"id": null`, never a
//! panic, and the server ends when its input ends. Tool calls run for real against a
//! settings file in a temp dir: docker is a missing program and Cloudflare and the IP
//! services a closed loopback port, so nothing leaves the process but failed spawns.
#![no_main]

use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use stackwiz::config::{Config, Env, Overrides};
use stackwiz::mcp::dispatch::McpServer;
use stackwiz::mcp::server::serve;
use stackwiz::mcp::tools::CATALOG;
use stackwiz::ops::{Ctx, Stream};

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn config(read_only: bool) -> Config {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("stackwiz-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(d.join("base")).unwrap();
        std::fs::write(d.join("config.toml"), "").unwrap();
        d
    });
    let p = |s: &str| dir.join(s).display().to_string();
    let env = Env::from_pairs([
        ("HOME", p("")),
        ("STACKWIZ_CONFIG", p("config.toml")),
        ("STACKWIZ_BASE_DIR", p("base")),
        ("STACKWIZ_DOCKER", "/nonexistent/docker".to_string()),
        ("STACKWIZ_CF_API_URL", "http://127.0.0.1:9".to_string()),
        ("STACKWIZ_IP_SERVICES", "http://127.0.0.1:9".to_string()),
    ]);
    let overrides = Overrides {
        read_only,
        ..Default::default()
    };
    Config::resolve(&overrides, &env).expect("fuzz config")
}

fuzz_target!(|input: (bool, Vec<u8>)| {
    let (read_only, body) = input;
    let server = Arc::new(McpServer::new(
        Ctx::new(config(read_only), Stream::Capture),
        &CATALOG,
    ));
    let mut text = format!("{INIT}\n{INITIALIZED}\n").into_bytes();
    text.extend_from_slice(&body);
    text.push(b'\n');
    let sink = Sink::default();
    serve(Cursor::new(text), sink.clone(), server).expect("in-memory streams do not fail");
    let out = sink.0.lock().unwrap().clone();
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("every reply is JSON");
        assert_eq!(v["jsonrpc"], "2.0", "{v}");
        assert!(v.get("id") != Some(&serde_json::Value::Null), "id null: {v}");
        let is_reply = v.get("result").is_some() ^ v.get("error").is_some();
        let is_notification = v.get("method").is_some() && v.get("id").is_none();
        assert!(is_reply || is_notification, "{v}");
    }
});
