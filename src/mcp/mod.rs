//! `stackwiz mcp`: the stack and DNS operations as an MCP server over stdio, for AI agents.
//!
//! A small synchronous JSON-RPC loop in the style of rust-analyzer's `lsp-server`:
//! [`protocol`] holds the wire types, [`server`] the loop that alone writes to stdout,
//! [`dispatch`] the MCP methods of both protocol eras over a static tool table, and [`tools`]
//! that table, which maps every tool onto the operations in `crate::ops` (nothing is written
//! twice). Nothing in this module may print to stdout: it carries protocol messages only
//! (`clippy::print_stdout` is denied here); logs go to stderr.
//!
//! Facts relied on, from the specification repository (modelcontextprotocol/modelcontextprotocol,
//! docs/specification/{2025-11-25,2026-07-28}, schema/2026-07-28/schema.ts) and the official
//! Python SDK (PyPI `mcp` 2.3.0, the version pip installs):
//! - stdio: UTF-8, one JSON-RPC message per line, no embedded newlines, nothing else on stdout;
//!   the client shuts down by closing stdin, and servers should exit promptly on EOF (the SDK
//!   then waits 2 s before SIGTERM).
//! - Ids are strings or integers and never null; responses echo them. An error whose request
//!   id could not be read has id null. Batches were removed in 2025-06-18.
//! - Handshake era (2024-11-05 … 2025-11-25): `initialize` answers the client's version if
//!   supported, else another one it supports (should be the newest). `notifications/cancelled`
//!   may be ignored when the request is unknown or already answered.
//! - Tool errors: unknown tool and malformed requests are JSON-RPC errors (-32602 "Unknown
//!   tool: x"); input validation, API and business failures are results with `isError: true`.
//!   With an `outputSchema`, successful results must carry conforming `structuredContent`
//!   (an object in 2025-11-25) and should repeat it as a text block. The SDK validates
//!   `structuredContent` of non-error results against the listed schema and raises if it is
//!   missing or wrong; it does not validate `isError` results.
//! - Stateless era (2026-07-28): no handshake. Every request's `params._meta` carries
//!   `io.modelcontextprotocol/protocolVersion` and `io.modelcontextprotocol/clientCapabilities`
//!   (required; missing: -32602), optionally `clientInfo` and `logLevel`. An unsupported
//!   version gets -32022 "Unsupported protocol version" with `data: {supported, requested}`.
//!   `server/discover` must be implemented; its result has `supportedVersions`,
//!   `capabilities`, `instructions?`, `_meta["io.modelcontextprotocol/serverInfo"]`. Every
//!   result carries `resultType: "complete"`; servers should put `serverInfo` in every
//!   result's `_meta`. `server/discover`, `tools/list`, `resources/list`,
//!   `resources/templates/list` and `resources/read` must carry `ttlMs` (integer ≥ 0) and
//!   `cacheScope` (`"public"`/`"private"`). `ping` and `logging/setLevel` are gone. Resource
//!   not found is -32602 (it was -32002). Tools should be listed in a deterministic order.
//! - A dual-era server may serve both eras on one process. The SDK's default
//!   `Client(mode="auto")` first sends `server/discover` at 2026-07-28 (10 s timeout); a
//!   `DiscoverResult` listing 2026-07-28 makes it stateless; -32022 whose `supported` list
//!   names a handshake version, or any other error, makes it fall back to `initialize` with
//!   2025-11-25. `mode="legacy"` sends `initialize` directly. Its legacy `tools/list` has no
//!   `params` at all.
//! - The SDK starts a stdio server with only HOME, LOGNAME, PATH, SHELL, TERM and USER in its
//!   environment unless `env=` is given.
#![deny(clippy::print_stdout, clippy::dbg_macro)]

use std::io::{self, BufWriter};
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::config::Env;
use crate::error::{Error, Result};
use crate::ops::{Ctx, Stream};

pub mod dispatch;
pub mod protocol;
pub mod server;
pub mod tools;

/// Serves MCP on stdin/stdout until stdin closes.
pub fn run(mut ctx: Ctx) -> Result<()> {
    // Child output must never reach stdout: it is the protocol stream.
    ctx.stream = Stream::Capture;
    for warning in &ctx.cfg.warnings {
        eprintln!("stackwiz mcp: warning: {warning}");
    }
    eprintln!(
        "stackwiz mcp {}: serving on stdio{}",
        env!("CARGO_PKG_VERSION"),
        if ctx.cfg.read_only {
            " (read-only)"
        } else {
            ""
        }
    );
    let mut handler = dispatch::McpServer::new(&ctx, &tools::CATALOG);
    let stdin = io::stdin().lock();
    let stdout = BufWriter::new(io::stdout().lock());
    match server::serve(stdin, stdout, &mut handler) {
        Ok(()) => Ok(()),
        // The client went away; there is nobody left to tell.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::other(format!("stdio: {e}"))),
    }
}

/// The MCP clients `--print-config` writes a snippet for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientKind {
    /// `claude_desktop_config.json`.
    ClaudeDesktop,
    /// A project's `.mcp.json` (or `claude mcp add-json`).
    ClaudeCode,
}

/// The `mcpServers` snippet that starts this binary as an MCP server, for `--print-config`.
pub fn print_config(client: ClientKind, env: &Env, read_only: bool) -> Result<String> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::other(format!("cannot find the path of this program: {e}")))?;
    Ok(config_snippet(client, &exe, env, read_only))
}

/// The snippet for `exe`: the user's STACKWIZ_* settings go into `env`, except any whose
/// value may be a token or other secret (`STACKWIZ_CF_API_TOKEN`); a token file's path stays.
pub fn config_snippet(client: ClientKind, exe: &Path, env: &Env, read_only: bool) -> String {
    let vars: Map<String, Value> = env
        .stackwiz_vars()
        .filter(|(key, _)| !is_secret_name(key))
        .map(|(key, value)| (key.to_string(), json!(value)))
        .collect();
    let mut args = vec!["mcp"];
    if read_only {
        args.push("--read-only");
    }
    let mut server = json!({"command": exe.display().to_string(), "args": args, "env": vars});
    if client == ClientKind::ClaudeCode {
        server["type"] = json!("stdio");
    }
    let snippet = json!({"mcpServers": {"stackwiz": server}});
    serde_json::to_string_pretty(&snippet).expect("a JSON value serializes") + "\n"
}

/// A variable whose value may be a secret. A `*_FILE` variable holds a path to one, which is
/// safe to show and is how the README says to hand the token to the server.
fn is_secret_name(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    !key.ends_with("_FILE")
        && ["TOKEN", "SECRET", "PASSWORD", "KEY"]
            .iter()
            .any(|w| key.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_snippet_carries_settings_but_never_a_token() {
        let env = Env::from_pairs([
            ("STACKWIZ_BASE_DIR", "/srv/stacks"),
            ("STACKWIZ_CF_API_TOKEN", "tok-secret"),
            ("STACKWIZ_CF_API_TOKEN_FILE", "/run/secrets/cf"),
            ("CF_DNS_API_TOKEN", "tok-other"),
            ("HOME", "/home/u"),
        ]);
        let text = config_snippet(
            ClientKind::ClaudeDesktop,
            Path::new("/usr/local/bin/stackwiz"),
            &env,
            false,
        );
        assert!(!text.contains("tok-"), "{text}");
        let snippet: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            snippet,
            json!({"mcpServers": {"stackwiz": {
                "command": "/usr/local/bin/stackwiz",
                "args": ["mcp"],
                "env": {
                    "STACKWIZ_BASE_DIR": "/srv/stacks",
                    "STACKWIZ_CF_API_TOKEN_FILE": "/run/secrets/cf",
                },
            }}})
        );
    }

    #[test]
    fn the_claude_code_snippet_names_its_transport_and_keeps_read_only() {
        let env = Env::from_pairs([("STACKWIZ_READ_ONLY", "1")]);
        let text = config_snippet(
            ClientKind::ClaudeCode,
            Path::new("/opt/stackwiz"),
            &env,
            true,
        );
        let server = &serde_json::from_str::<Value>(&text).unwrap()["mcpServers"]["stackwiz"];
        assert_eq!(server["type"], "stdio");
        assert_eq!(server["args"], json!(["mcp", "--read-only"]));
        assert_eq!(server["env"], json!({"STACKWIZ_READ_ONLY": "1"}));
    }
}
