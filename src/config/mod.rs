//! Turns command-line flags, the environment and the config file into one resolved
//! [`Config`], remembering where every value came from.
//!
//! Precedence: flag > environment > config file > default. This is the only module that
//! reads environment variables (it takes a snapshot, [`Env`], so tests can hand it one).
//! The Cloudflare token is kept in a [`Secret`] whose `Debug` and `Display` never show it.
//!
//! Values are checked here, where it is still known where each came from, so an error names
//! the flag, variable or file line to fix: file values must have their key's TOML type,
//! folders must be absolute, and the default domain must be a hostname. Every error is one
//! line.

//!
//! The rooms: `env` (the environment snapshot), `file` (the config file), `settings` (one
//! setting by precedence), `token` (the Cloudflare token), `resolve` (all of them into a
//! [`Config`]); the resolved types are here.

mod env;
mod file;
mod resolve;
mod settings;
mod token;

use std::path::PathBuf;

use serde::Serialize;

pub use env::Env;
pub use token::{Secret, Token};

use crate::error::{Error, Result};
use env::refuse_non_utf8;
use token::TRAEFIK_ENV;

pub const DEFAULT_CF_API_URL: &str = "https://api.cloudflare.com/client/v4";
pub const DEFAULT_IP_SERVICES: &str =
    "https://ipv4.icanhazip.com,https://api.ipify.org,https://ifconfig.me/ip";
/// The smallest `STACKWIZ_HTTP_TIME_SCALE`: a 1 s retry wait stays at least 10 ms.
pub const MIN_HTTP_TIME_SCALE: f64 = 0.01;
const HTTP_TIME_SCALE_VAR: &str = "STACKWIZ_HTTP_TIME_SCALE";

/// Flags from the command line that override everything else.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub base_dir: Option<PathBuf>,
    pub templates_dir: Option<PathBuf>,
    pub network: Option<String>,
    pub default_domain: Option<String>,
    pub context: Option<String>,
    pub read_only: bool,
}

/// One line of `stackwiz config`: a setting, its effective value and its source.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub key: &'static str,
    pub value: String,
    pub source: String,
    /// The environment variable that sets this key, so that `mcp --print-config` can hand a
    /// flag's or a variable's value on to the server. None for the token (never handed on),
    /// the config file (its own rule) and the test-only time scale.
    #[serde(skip)]
    pub env_var: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub struct DnsConfig {
    pub token: Option<Token>,
    /// Why a configured token could not be read (an empty or unreadable token file), as
    /// (message, hint). Kept until a DNS operation asks for the token, so that a DNS-only
    /// setting never breaks the commands that need no token.
    pub token_problem: Option<(String, Option<crate::ops::Hint>)>,
    pub api_url: String,
    pub ip_services: Vec<String>,
    pub public_ip: Option<String>,
    /// Where `public_ip` came from (`env STACKWIZ_PUBLIC_IP`, `file PATH`), for its errors.
    pub public_ip_source: String,
    pub allow_private_ip: bool,
    pub zone_id: Option<String>,
    pub cache_dir: PathBuf,
    /// A testing aid, not a setting: `STACKWIZ_HTTP_TIME_SCALE` (default 1) multiplies every
    /// HTTP timeout and retry wait, so tests of timeouts and rate limits take seconds, not
    /// minutes. Only the environment sets it (the config file has no such key), `stackwiz
    /// config` lists it only when set, and it is held to [`MIN_HTTP_TIME_SCALE`]..=1: it can
    /// shorten the waits but never turn retries into a tight loop against Cloudflare.
    pub http_time_scale: f64,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub base_dir: PathBuf,
    pub templates_dir: PathBuf,
    pub scripts_dir: PathBuf,
    pub default_user: String,
    pub default_group: String,
    pub default_domain: String,
    pub network: String,
    pub entrypoint: String,
    pub certresolver: String,
    /// The docker program (a name looked up on PATH, or a path).
    pub docker: String,
    /// `--context NAME`, passed to every docker call.
    pub context: Option<String>,
    /// The deadline of every docker query (ps, ls, inspect, version, config, logs without
    /// --follow); long operations (up, pull, down, logs --follow) have none but stay killable.
    pub docker_timeout: std::time::Duration,
    /// DOCKER_HOST as docker will see it (for `doctor`'s socket check).
    pub docker_host: Option<String>,
    /// DOCKER_CONFIG as docker will see it (where its CLI plugins, Compose among them, live).
    pub docker_config: Option<String>,
    pub dns: DnsConfig,
    pub read_only: bool,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    pub entries: Vec<Entry>,
    /// Things the user should know about the resolution (printed to stderr by the CLI).
    pub warnings: Vec<String>,
    /// What [`Config::finish`] has yet to resolve (the owner and the token).
    pending: Option<Box<resolve::Pending>>,
}

impl Config {
    /// Resolve the configuration from the process environment.
    pub fn load(overrides: &Overrides) -> Result<Config> {
        refuse_non_utf8(std::env::vars_os(), overrides)?;
        Config::resolve(overrides, &Env::from_process())
    }

    /// [`Config::load`] without the owner and the token, for the MCP server (see
    /// [`Config::resolve_deferring`]).
    pub fn load_deferring(overrides: &Overrides) -> Result<Config> {
        refuse_non_utf8(std::env::vars_os(), overrides)?;
        Config::resolve_deferring(overrides, &Env::from_process())
    }

    /// The folder where removed stacks are moved.
    pub fn trash_dir(&self) -> PathBuf {
        self.base_dir.join(crate::validate::TRASH_DIR)
    }

    /// The token, or the error that says why there is none and how to set one.
    pub fn token(&self) -> Result<&Token> {
        match (&self.dns.token, &self.dns.token_problem) {
            (Some(t), _) => Ok(t),
            (None, Some((message, hint))) => Err(Error::Other {
                message: message.clone(),
                hint: hint.clone(),
            }),
            (None, None) => Err(Error::NoToken {
                traefik_env: self.base_dir.join(TRAEFIK_ENV),
            }),
        }
    }

    /// Whether the user configured a token at all (usable or not).
    pub fn token_configured(&self) -> bool {
        self.dns.token.is_some() || self.dns.token_problem.is_some()
    }
}

#[cfg(test)]
mod tests;
