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
//!   id could not be read leaves `id` out (JSON-RPC says null, which every MCP schema
//!   revision forbids). Batches were removed in 2025-06-18.
//! - Handshake era (2024-11-05 … 2025-11-25): `initialize` answers the client's version if
//!   supported, else another one it supports (should be the newest). `notifications/cancelled`
//!   names a request in flight: the receiver should stop it and must not answer it; unknown
//!   or already answered ids are ignored.
//! - Tool errors: unknown tool and malformed requests are JSON-RPC errors (-32602 "Unknown
//!   tool: x"); input validation, API and business failures are results with `isError: true`.
//!   With an `outputSchema`, successful results must carry conforming `structuredContent`
//!   (an object in 2025-11-25) and should repeat it as a text block. The SDK validates
//!   `structuredContent` of non-error results against the listed schema and raises if it is
//!   missing or wrong; it does not validate `isError` results.
//! - Stateless era (2026-07-28): no handshake. Every request's `params._meta` carries
//!   `io.modelcontextprotocol/protocolVersion` and `io.modelcontextprotocol/clientCapabilities`
//!   (required; missing: -32602), optionally `clientInfo` and `logLevel` (a logging level;
//!   anything else should be -32602). An unsupported version gets -32022 "Unsupported
//!   protocol version" with `data: {supported, requested}`; the client retries with one of
//!   `supported`, so that list names exactly what the envelope accepts, as
//!   `server/discover`'s `supportedVersions` does.
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
// stdout is the protocol stream; stderr may be closed, and `eprintln!` panics then: [`log`].
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ops::{Ctx, Stream};

pub mod dispatch;
pub mod next;
pub mod protocol;
pub mod server;
pub mod tools;

/// Serves MCP on stdin/stdout until stdin closes.
pub fn run(mut ctx: Ctx) -> Result<()> {
    // Child output must never reach stdout: it is the protocol stream.
    ctx.stream = Stream::Capture;
    for warning in &ctx.cfg.warnings {
        log(format_args!("warning: {warning}"));
    }
    log(format_args!(
        "version {}, serving on stdio{}",
        env!("CARGO_PKG_VERSION"),
        if ctx.cfg.read_only {
            " (read-only)"
        } else {
            ""
        }
    ));
    let handler = Arc::new(dispatch::McpServer::new(ctx, &tools::CATALOG));
    let stdin = io::stdin().lock();
    // Workers write replies too, so the writer is the shared handle, locked per message.
    let stdout = BufWriter::new(io::stdout());
    match server::serve(stdin, stdout, handler) {
        Ok(()) => Ok(()),
        // The client went away; there is nobody left to tell.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::other(format!("stdio: {e}"))),
    }
}

/// One line on stderr, the log of an MCP server. Never panics: a client that closed our
/// stderr (or never read it) must not take the server down, as `eprintln!` would.
pub(crate) fn log(args: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "stackwiz mcp: {args}");
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
pub fn print_config(client: ClientKind, cfg: &Config) -> Result<String> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::other(format!("cannot find the path of this program: {e}")))?;
    Ok(config_snippet(client, &exe, cfg))
}

/// The snippet for `exe`, built from the resolved configuration so that the server an MCP
/// client starts (often with a bare environment) sees what this shell sees:
/// - every setting given by a flag or an environment variable, as that setting's variable
///   (`--base-dir` → STACKWIZ_BASE_DIR, `--context` → DOCKER_CONTEXT);
/// - STACKWIZ_CONFIG naming the config file that was read, wherever it was found (the
///   client's XDG_CONFIG_HOME or HOME may differ);
/// - DOCKER_HOST and DOCKER_CONFIG as docker sees them;
/// - read-only mode as `--read-only`.
///
/// Only known settings are written, and never a token: a token's source is not handed on
/// (the README says to give it through STACKWIZ_CF_API_TOKEN_FILE or the config file, whose
/// paths are), and [`is_secret_name`] guards the names once more.
pub fn config_snippet(client: ClientKind, exe: &Path, cfg: &Config) -> String {
    let mut vars = BTreeMap::new();
    for entry in &cfg.entries {
        let Some(var) = entry.env_var else { continue };
        // `--read-only` below says it whatever set it.
        let given = entry.source.starts_with("flag ") || entry.source.starts_with("env ");
        if given && entry.key != "read_only" {
            vars.insert(var.to_string(), entry.value.clone());
        }
    }
    if let Some(path) = &cfg.config_file {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        vars.insert("STACKWIZ_CONFIG".into(), path.display().to_string());
    }
    for (var, value) in [
        ("DOCKER_HOST", &cfg.docker_host),
        ("DOCKER_CONFIG", &cfg.docker_config),
    ] {
        if let Some(value) = value {
            vars.insert(var.into(), value.clone());
        }
    }
    vars.retain(|name, _| !is_secret_name(name));
    let vars: Map<String, Value> = vars.into_iter().map(|(k, v)| (k, json!(v))).collect();
    let mut args = vec!["mcp"];
    if cfg.read_only {
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
    use crate::config::{Env, Overrides};

    fn snippet(client: ClientKind, overrides: &Overrides, pairs: &[(&str, &str)]) -> Value {
        let mut all = vec![("HOME", "/nonexistent-stackwiz-home")];
        all.extend_from_slice(pairs);
        let cfg = Config::resolve(overrides, &Env::from_pairs(all.iter().copied())).unwrap();
        let text = config_snippet(client, Path::new("/usr/local/bin/stackwiz"), &cfg);
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_config_snippet_carries_settings_but_never_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("cf");
        std::fs::write(&token_file, "tok-file\n").unwrap();
        let token_file = token_file.display().to_string();
        let text = serde_json::to_string(&snippet(
            ClientKind::ClaudeDesktop,
            &Overrides::default(),
            &[
                ("STACKWIZ_BASE_DIR", "/srv/stacks"),
                ("STACKWIZ_CF_API_TOKEN", "tok-secret"),
                ("STACKWIZ_CF_API_TOKEN_FILE", &token_file),
                ("CF_DNS_API_TOKEN", "tok-other"),
                ("CF_API_TOKEN", "tok-third"),
                ("STACKWIZ_TEST_FOO", "leak"),
            ],
        ))
        .unwrap();
        assert!(!text.contains("tok-"), "{text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"mcpServers": {"stackwiz": {
                "command": "/usr/local/bin/stackwiz",
                "args": ["mcp"],
                "env": {
                    "STACKWIZ_BASE_DIR": "/srv/stacks",
                    "STACKWIZ_CF_API_TOKEN_FILE": token_file,
                },
            }}})
        );
    }

    #[test]
    fn the_config_snippet_turns_flags_into_their_variables() {
        let overrides = Overrides {
            base_dir: Some("/flag/base".into()),
            templates_dir: Some("/flag/templates".into()),
            network: Some("flag_net".into()),
            default_domain: Some("flag.example".into()),
            context: Some("remote".into()),
            ..Default::default()
        };
        let got = snippet(
            ClientKind::ClaudeDesktop,
            &overrides,
            &[
                ("STACKWIZ_BASE_DIR", "/env/base"),
                ("DOCKER_HOST", "unix:///run/d.sock"),
                ("DOCKER_CONFIG", "/etc/docker-cli"),
            ],
        );
        assert_eq!(
            got["mcpServers"]["stackwiz"]["env"],
            json!({
                "STACKWIZ_BASE_DIR": "/flag/base",
                "STACKWIZ_TEMPLATES_DIR": "/flag/templates",
                "STACKWIZ_DOCKER_NETWORK": "flag_net",
                "STACKWIZ_DEFAULT_DOMAIN": "flag.example",
                "DOCKER_CONTEXT": "remote",
                "DOCKER_HOST": "unix:///run/d.sock",
                "DOCKER_CONFIG": "/etc/docker-cli",
            })
        );
    }

    #[test]
    fn the_claude_code_snippet_names_its_transport_and_keeps_read_only() {
        for (overrides, pairs) in [
            (
                Overrides {
                    read_only: true,
                    ..Default::default()
                },
                &[][..],
            ),
            (Overrides::default(), &[("STACKWIZ_READ_ONLY", "1")][..]),
        ] {
            let got = snippet(ClientKind::ClaudeCode, &overrides, pairs);
            let server = &got["mcpServers"]["stackwiz"];
            assert_eq!(server["type"], "stdio");
            assert_eq!(server["args"], json!(["mcp", "--read-only"]));
            assert_eq!(server["env"], json!({}));
        }
    }

    #[test]
    fn secret_names_are_recognised_but_file_paths_are_not() {
        for name in [
            "STACKWIZ_CF_API_TOKEN",
            "CF_DNS_API_TOKEN",
            "X_SECRET",
            "API_KEY",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "STACKWIZ_CF_API_TOKEN_FILE",
            "STACKWIZ_BASE_DIR",
            "DOCKER_HOST",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
