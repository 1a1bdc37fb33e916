//! The Cloudflare token: where it is looked for (config file, environment, a token file,
//! Traefik's `.env` read as Compose reads it), and the [`Secret`] that keeps it from ever
//! being printed.

use std::fmt;
use std::path::{Path, PathBuf};

use super::file::ConfigFile;
use super::Env;
use crate::error::{Error, Result};

/// A value that must never be printed. Only [`Secret::expose`] gives it out, for the one
/// place that sends it (the Authorization header).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// The Cloudflare token and where it was found.
#[derive(Clone, Debug)]
pub struct Token {
    pub secret: Secret,
    pub source: String,
}

/// Traefik's `.env` inside the base dir, the last place a token is looked for.
pub(super) const TRAEFIK_ENV: &str = "traefik/.env";

/// A token file setting: the path and where it was set.
#[derive(Clone)]
pub(super) struct TokenFile {
    pub(super) path: PathBuf,
    pub(super) source: String,
}

impl TokenFile {
    /// How to stop using this setting, as the end of a hint.
    fn undo(&self) -> String {
        if let Some(var) = self.source.strip_prefix("env ") {
            return format!("unset {var}");
        }
        let file = self.source.strip_prefix("file ").unwrap_or(&self.source);
        format!("remove api_token_file from [dns] in {file}")
    }
}

/// Token discovery, in the design document's order, plus STACKWIZ_CF_API_TOKEN_FILE.
pub(super) fn find_token(
    env: &Env,
    file: &ConfigFile,
    token_file: Option<&TokenFile>,
    base_dir: &Path,
) -> Result<Option<Token>> {
    let token = |value: &str, source: String| {
        Some(Token {
            secret: Secret::new(value.trim()),
            source,
        })
    };
    if let Some(v) = file.get("dns.api_token").filter(|v| !v.trim().is_empty()) {
        return Ok(token(&v, format!("{} [dns] api_token", file.source())));
    }
    if let Some(v) = env.get("STACKWIZ_CF_API_TOKEN") {
        return Ok(token(v, "env STACKWIZ_CF_API_TOKEN".into()));
    }
    if let Some(tf) = token_file {
        let named = format!("token file {} (from {})", tf.path.display(), tf.source);
        let text = std::fs::read_to_string(&tf.path).map_err(|e| {
            let fix = match e.kind() {
                std::io::ErrorKind::NotFound => "check the path",
                std::io::ErrorKind::PermissionDenied => "fix its permissions",
                _ => "point it at a readable file",
            };
            Error::with_hint(
                format!("cannot read {named}: {e}"),
                format!("{fix}, or {}", tf.undo()),
            )
        })?;
        if text.trim().is_empty() {
            return Err(Error::with_hint(
                format!(
                    "token file {} is empty (from {})",
                    tf.path.display(),
                    tf.source
                ),
                format!("write the Cloudflare API token into it, or {}", tf.undo()),
            ));
        }
        return Ok(token(
            &text,
            format!("file {} ({})", tf.path.display(), tf.source),
        ));
    }
    for var in ["CF_DNS_API_TOKEN", "CF_API_TOKEN"] {
        if let Some(v) = env.get(var) {
            return Ok(token(v, format!("env {var}")));
        }
    }
    let traefik_env = base_dir.join(TRAEFIK_ENV);
    match std::fs::read(&traefik_env) {
        Ok(bytes) => traefik_token(&traefik_env, &bytes),
        Err(_) => Ok(None),
    }
}

/// The token in Traefik's `.env`, read as Compose reads it when it starts Traefik: the last
/// non-empty `CF_DNS_API_TOKEN`, else the last non-empty `CF_API_TOKEN`.
fn traefik_token(path: &Path, bytes: &[u8]) -> Result<Option<Token>> {
    use crate::dotenv::{self, Value};
    let statements = dotenv::parse_bytes(bytes).map_err(|e| {
        Error::with_hint(
            format!(
                "{} line {}: {} (Compose refuses the file too)",
                path.display(),
                e.line,
                e.message
            ),
            "fix that line, or set STACKWIZ_CF_API_TOKEN",
        )
    })?;
    for var in ["CF_DNS_API_TOKEN", "CF_API_TOKEN"] {
        let Some(s) = statements.iter().rev().find(|s| s.key == var) else {
            continue;
        };
        match &s.value {
            Value::Exact(v) if v.is_empty() => {}
            // As Compose hands it to Traefik: not trimmed (a space inside makes it unusable).
            Value::Exact(v) => {
                return Ok(Some(Token {
                    secret: Secret::new(v.as_str()),
                    source: format!("{} {var}", path.display()),
                }))
            }
            Value::FromEnvironment => {
                return Err(Error::with_hint(
                    format!(
                        "{} line {}: {var} takes its value from the environment Compose runs \
                         in, which stackwiz cannot know",
                        path.display(),
                        s.line
                    ),
                    "write the token itself on that line, or set STACKWIZ_CF_API_TOKEN",
                ))
            }
        }
    }
    Ok(None)
}
