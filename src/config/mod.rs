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

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

pub const DEFAULT_CF_API_URL: &str = "https://api.cloudflare.com/client/v4";
pub const DEFAULT_IP_SERVICES: &str =
    "https://ipv4.icanhazip.com,https://api.ipify.org,https://ifconfig.me/ip";
/// The smallest `STACKWIZ_HTTP_TIME_SCALE`: a 1 s retry wait stays at least 10 ms.
pub const MIN_HTTP_TIME_SCALE: f64 = 0.01;
const HTTP_TIME_SCALE_VAR: &str = "STACKWIZ_HTTP_TIME_SCALE";

/// A snapshot of the environment variables stackwiz cares about.
#[derive(Clone, Debug, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect())
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env(pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect())
    }

    /// A set, non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

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
}

impl Config {
    /// Resolve the configuration from the process environment.
    pub fn load(overrides: &Overrides) -> Result<Config> {
        refuse_non_utf8(std::env::vars_os(), overrides)?;
        Config::resolve(overrides, &Env::from_process())
    }

    pub fn resolve(overrides: &Overrides, env: &Env) -> Result<Config> {
        let file = ConfigFile::find_and_read(overrides, env)?;
        let mut r = Resolver {
            env,
            file: &file,
            entries: Vec::new(),
        };

        let base_dir = r.pick_dir(
            "base_dir",
            overrides.base_dir.as_ref().map(|p| ("--base-dir", p)),
            "STACKWIZ_BASE_DIR",
            || "/srv/dockerdata".into(),
        )?;
        let base = base_dir.display().to_string();
        let templates_dir = r.pick_dir(
            "templates_dir",
            overrides
                .templates_dir
                .as_ref()
                .map(|p| ("--templates-dir", p)),
            "STACKWIZ_TEMPLATES_DIR",
            || format!("{base}/_templates"),
        )?;
        let scripts_dir = r.pick_dir("scripts_dir", None, "STACKWIZ_SCRIPTS_DIR", || {
            format!("{base}/_scripts")
        })?;
        let default_user = r.pick("default_user", None, "STACKWIZ_DEFAULT_USER", current_user);
        let mut warnings = Vec::new();
        let default_group = r.pick("default_group", None, "STACKWIZ_DEFAULT_GROUP", || {
            if uzers::get_group_by_name("docker").is_some() {
                "docker".into()
            } else {
                let group = primary_group(&default_user);
                warnings.push(format!(
                    "group `docker` does not exist; stack files will belong to group `{group}` \
                     (set STACKWIZ_DEFAULT_GROUP to choose)"
                ));
                group
            }
        });
        let default_domain = r.pick(
            "default_domain",
            overrides
                .default_domain
                .clone()
                .map(|d| ("--default-domain", d)),
            "STACKWIZ_DEFAULT_DOMAIN",
            || "localhost".into(),
        );
        // Every stack's hostname ends in it: a bad one is the setting's fault, said now.
        crate::validate::domain(&r.named("default_domain"), &default_domain)?;
        let network = r.pick(
            "network",
            overrides.network.clone().map(|n| ("--network", n)),
            "STACKWIZ_DOCKER_NETWORK",
            || "traefik_proxy".into(),
        );
        let entrypoint = r.pick(
            "traefik_entrypoint",
            None,
            "STACKWIZ_TRAEFIK_ENTRYPOINT",
            || "websecure".into(),
        );
        let certresolver = r.pick(
            "traefik_certresolver",
            None,
            "STACKWIZ_TRAEFIK_CERTRESOLVER",
            || "cf".into(),
        );
        // These go into compose files: hold them to Docker's and Traefik's name rules so no
        // setting can inject YAML.
        r.check("network", &network, "[A-Za-z0-9][A-Za-z0-9_.-]*", |c, i| {
            c.is_ascii_alphanumeric() || (i > 0 && matches!(c, '_' | '.' | '-'))
        })?;
        for (key, value) in [
            ("traefik_entrypoint", &entrypoint),
            ("traefik_certresolver", &certresolver),
        ] {
            r.check(key, value, "[A-Za-z0-9_-]+", |c, _| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '-')
            })?;
        }
        let docker = r.pick("docker", None, "STACKWIZ_DOCKER", || "docker".into());
        let context = r.pick_opt(
            "context",
            overrides.context.clone().map(|c| ("--context", c)),
            "DOCKER_CONTEXT",
        );
        let docker_timeout = r.pick_seconds("docker_timeout", "STACKWIZ_DOCKER_TIMEOUT", 30)?;
        let read_only_flag = overrides
            .read_only
            .then(|| ("--read-only", "true".to_string()));
        let read_only = r.pick_bool("read_only", read_only_flag, "STACKWIZ_READ_ONLY")?;

        let api_url = r.pick("dns.api_url", None, "STACKWIZ_CF_API_URL", || {
            DEFAULT_CF_API_URL.into()
        });
        let ip_services = r.pick("dns.ip_services", None, "STACKWIZ_IP_SERVICES", || {
            DEFAULT_IP_SERVICES.into()
        });
        let public_ip = r.pick_opt("dns.public_ip", None, "STACKWIZ_PUBLIC_IP");
        let public_ip_source = r.source("dns.public_ip");
        let allow_private_ip =
            r.pick_bool("dns.allow_private_ip", None, "STACKWIZ_ALLOW_PRIVATE_IP")?;
        let zone_id = r.pick_opt("dns.zone_id", None, "STACKWIZ_CF_ZONE_ID");
        let token_file = r
            .pick_opt("dns.api_token_file", None, "STACKWIZ_CF_API_TOKEN_FILE")
            .map(|path| TokenFile {
                path: PathBuf::from(path),
                source: r.source("dns.api_token_file"),
            });
        let http_time_scale = match env.get(HTTP_TIME_SCALE_VAR) {
            None => 1.0,
            Some(raw) => {
                let scale = raw
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| (MIN_HTTP_TIME_SCALE..=1.0).contains(x))
                    .ok_or_else(|| {
                        Error::invalid(
                            HTTP_TIME_SCALE_VAR,
                            format!(
                                "`{}` must be a number from {MIN_HTTP_TIME_SCALE} to 1 \
                                 (a testing aid; leave it unset)",
                                crate::validate::printable(raw)
                            ),
                        )
                    })?;
                r.entries.push(Entry {
                    key: "http_time_scale",
                    value: raw.to_string(),
                    source: format!("env {HTTP_TIME_SCALE_VAR}"),
                    env_var: None,
                });
                scale
            }
        };
        let cache_dir = env
            .get("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from("/tmp"))
            .join("stackwiz");

        let (token, token_problem) = match find_token(env, &file, token_file.as_ref(), &base_dir) {
            // An HTTP header cannot carry it; say so here rather than as a transport error.
            Ok(Some(t)) if t.secret.expose().chars().any(|c| c.is_whitespace() || c.is_control()) => (
                None,
                Some((
                    format!("the Cloudflare token from {} contains spaces or control characters", t.source),
                    Some("paste the token again, without quotes, spaces or line breaks inside it".into()),
                )),
            ),
            Ok(t) => (t, None),
            Err(e) => (None, Some((e.to_string(), e.advice()))),
        };
        r.entries.push(Entry {
            key: "dns.api_token",
            value: match (&token, &token_problem) {
                (Some(t), _) => format!("set (from {})", t.source),
                (None, Some((problem, _))) => format!("unusable: {problem}"),
                (None, None) => "not set".into(),
            },
            source: token
                .as_ref()
                .map(|t| t.source.clone())
                .unwrap_or_else(|| "default".into()),
            env_var: None,
        });
        let mut entries = r.entries;
        entries.push(Entry {
            key: "config_file",
            value: file
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "none".into()),
            source: file.found_by.clone(),
            env_var: None,
        });

        let ip_services = ip_services
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();

        Ok(Config {
            base_dir,
            templates_dir,
            scripts_dir,
            default_user,
            default_group,
            default_domain,
            network,
            entrypoint,
            certresolver,
            docker,
            context,
            docker_timeout,
            docker_host: env.get("DOCKER_HOST").map(String::from),
            docker_config: env.get("DOCKER_CONFIG").map(String::from),
            dns: DnsConfig {
                token,
                token_problem,
                api_url: api_url.trim_end_matches('/').to_string(),
                ip_services,
                public_ip,
                public_ip_source,
                allow_private_ip,
                zone_id,
                cache_dir,
                http_time_scale,
            },
            read_only,
            config_file: file.path,
            entries,
            warnings,
        })
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

/// Traefik's `.env` inside the base dir, the last place a token is looked for.
const TRAEFIK_ENV: &str = "traefik/.env";

struct Resolver<'a> {
    env: &'a Env,
    file: &'a ConfigFile,
    entries: Vec<Entry>,
}

impl Resolver<'_> {
    /// Where the resolved `key` came from (`flag --x`, `env X`, `file PATH`, `default`).
    fn source(&self, key: &str) -> String {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| e.source.clone())
            .unwrap_or_default()
    }

    /// `key (from SOURCE)`: how errors name a setting, so the user knows what to fix.
    fn named(&self, key: &str) -> String {
        format!("{key} (from {})", self.source(key))
    }

    /// A resolved value must be 1-128 characters each passing `ok(char, index)`; the error
    /// names the setting, where the value came from and the rule.
    fn check(
        &self,
        key: &str,
        value: &str,
        rule: &str,
        ok: impl Fn(char, usize) -> bool,
    ) -> Result<()> {
        let valid = !value.is_empty()
            && value.len() <= 128
            && value.chars().enumerate().all(|(i, c)| ok(c, i));
        if valid {
            return Ok(());
        }
        Err(Error::invalid(
            self.named(key),
            format!("`{}` must match {rule}", crate::validate::printable(value)),
        ))
    }

    fn pick_opt(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, String)>,
        var: &'static str,
    ) -> Option<String> {
        let found = if let Some((name, value)) = flag {
            Some((value, format!("flag {name}")))
        } else if let Some(value) = self.env.get(var) {
            Some((value.to_string(), format!("env {var}")))
        } else {
            self.file.get(key).map(|v| (v, self.file.source()))
        };
        let (value, source) = match &found {
            Some((value, source)) => (value.clone(), source.clone()),
            None => ("not set".into(), "default".into()),
        };
        self.entries.push(Entry {
            key,
            value,
            source,
            env_var: Some(var),
        });
        found.map(|(value, _)| value)
    }

    fn pick(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, String)>,
        var: &'static str,
        default: impl FnOnce() -> String,
    ) -> String {
        match self.pick_opt(key, flag, var) {
            Some(value) => value,
            None => {
                let value = default();
                let entry = self.entries.last_mut().expect("pick_opt pushed an entry");
                entry.value = value.clone();
                value
            }
        }
    }

    /// A folder must be an absolute path: a relative one would depend on where stackwiz
    /// happens to run (stacks landing in `./5`, or wherever an MCP client starts us).
    fn pick_dir(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, &PathBuf)>,
        var: &'static str,
        default: impl FnOnce() -> String,
    ) -> Result<PathBuf> {
        let flag = flag.map(|(name, p)| (name, p.display().to_string()));
        let dir = PathBuf::from(self.pick(key, flag, var, default));
        if dir.is_absolute() {
            Ok(dir)
        } else {
            Err(Error::invalid(
                self.named(key),
                format!(
                    "`{}` must be an absolute path (starting with /)",
                    crate::validate::printable(&dir.display().to_string())
                ),
            ))
        }
    }

    /// A time budget in seconds (a positive number, fractions allowed, at most a day).
    fn pick_seconds(
        &mut self,
        key: &'static str,
        var: &'static str,
        default: u32,
    ) -> Result<std::time::Duration> {
        let value = self.pick(key, None, var, || default.to_string());
        value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0 && *s <= 86_400.0)
            .map(std::time::Duration::from_secs_f64)
            .ok_or_else(|| {
                Error::invalid(
                    self.named(key),
                    format!(
                        "`{}` is not a number of seconds from 0.001 to 86400",
                        crate::validate::printable(&value)
                    ),
                )
            })
    }

    /// A boolean (default false): 1/0, true/false, yes/no, on/off.
    fn pick_bool(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, String)>,
        var: &'static str,
    ) -> Result<bool> {
        let value = self.pick(key, flag, var, || "false".into());
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            _ => Err(Error::invalid(
                self.named(key),
                format!(
                    "`{}` is not a boolean (use 1/0, true/false)",
                    crate::validate::printable(&value)
                ),
            )),
        }
    }
}

fn current_user() -> String {
    uzers::get_current_username()
        .and_then(|n| n.into_string().ok())
        .unwrap_or_else(|| uzers::get_current_uid().to_string())
}

fn primary_group(user: &str) -> String {
    uzers::get_user_by_name(user)
        .and_then(|u| uzers::get_group_by_gid(u.primary_group_id()))
        .and_then(|g| g.name().to_str().map(String::from))
        .unwrap_or_else(|| uzers::get_current_gid().to_string())
}

/// What TOML type a config file key takes. Paths and names are strings only: `base_dir = 5`
/// is a mistake, not the folder `5`.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    /// `true`/`false`, or a string such as "yes".
    Bool,
    /// An array of strings, or one comma-separated string.
    List,
    /// A number (or a string holding one).
    Number,
}

/// Keys the config file may hold, top level and under [dns].
const FILE_KEYS: &[(&str, Kind)] = &[
    ("base_dir", Kind::Str),
    ("templates_dir", Kind::Str),
    ("scripts_dir", Kind::Str),
    ("default_user", Kind::Str),
    ("default_group", Kind::Str),
    ("default_domain", Kind::Str),
    ("network", Kind::Str),
    ("traefik_entrypoint", Kind::Str),
    ("traefik_certresolver", Kind::Str),
    ("docker", Kind::Str),
    ("context", Kind::Str),
    ("docker_timeout", Kind::Number),
    ("read_only", Kind::Bool),
];
const DNS_KEYS: &[(&str, Kind)] = &[
    ("api_token", Kind::Str),
    ("api_token_file", Kind::Str),
    ("api_url", Kind::Str),
    ("ip_services", Kind::List),
    ("public_ip", Kind::Str),
    ("allow_private_ip", Kind::Bool),
    ("zone_id", Kind::Str),
];

fn key_names(keys: &[(&str, Kind)]) -> String {
    keys.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

#[derive(Default)]
struct ConfigFile {
    path: Option<PathBuf>,
    found_by: String,
    values: BTreeMap<String, String>,
}

impl ConfigFile {
    fn find_and_read(overrides: &Overrides, env: &Env) -> Result<ConfigFile> {
        let explicit = overrides
            .config
            .clone()
            .map(|p| (p, "flag --config"))
            .or_else(|| {
                env.get("STACKWIZ_CONFIG")
                    .map(|p| (PathBuf::from(p), "env STACKWIZ_CONFIG"))
            });
        if let Some((path, by)) = explicit {
            let bytes =
                std::fs::read(&path).map_err(|e| Error::io("read config file", &path, e))?;
            let text = config_text(&path, bytes)?;
            return ConfigFile::parse(path, by.into(), &text);
        }
        let xdg = env
            .get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".config")));
        let candidates = xdg
            .map(|d| (d.join("stackwiz/config.toml"), "user config"))
            .into_iter()
            .chain([(PathBuf::from("/etc/stackwiz/config.toml"), "system config")]);
        for (path, by) in candidates {
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let text = config_text(&path, bytes)?;
                    return ConfigFile::parse(path, by.into(), &text);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("read config file", &path, e)),
            }
        }
        Ok(ConfigFile {
            path: None,
            found_by: "none found".into(),
            values: BTreeMap::new(),
        })
    }

    fn parse(path: PathBuf, found_by: String, text: &str) -> Result<ConfigFile> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::Config {
            path: path.clone(),
            line: e.span().map(|s| line_of(text, s.start)),
            key: None,
            message: one_line(e.message()),
        })?;
        let mut values = BTreeMap::new();
        let bad = |key: &str, message: String| Error::Config {
            path: path.clone(),
            line: find_key_line(text, key),
            key: Some(crate::validate::printable(key)),
            message,
        };
        for (key, value) in &table {
            if key == "dns" {
                let dns = value
                    .as_table()
                    .ok_or_else(|| bad("dns", "must be a table ([dns])".into()))?;
                for (k, v) in dns {
                    let full = format!("dns.{k}");
                    let Some((_, kind)) = DNS_KEYS.iter().find(|(name, _)| name == k) else {
                        return Err(bad(
                            &full,
                            format!("unknown key (known: {})", key_names(DNS_KEYS)),
                        ));
                    };
                    values.insert(full.clone(), typed(v, *kind).map_err(|m| bad(&full, m))?);
                }
            } else if let Some((_, kind)) = FILE_KEYS.iter().find(|(name, _)| name == key) {
                values.insert(key.clone(), typed(value, *kind).map_err(|m| bad(key, m))?);
            } else {
                return Err(bad(
                    key,
                    format!("unknown key (known: {}, [dns])", key_names(FILE_KEYS)),
                ));
            }
        }
        Ok(ConfigFile {
            path: Some(path),
            found_by,
            values,
        })
    }

    fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).cloned()
    }

    fn source(&self) -> String {
        match &self.path {
            Some(p) => format!("file {}", p.display()),
            None => "file".into(),
        }
    }
}

/// A file value as the string the resolver works with, if it has the key's type.
fn typed(value: &toml::Value, kind: Kind) -> std::result::Result<String, String> {
    match (kind, value) {
        (_, toml::Value::String(s)) => Ok(s.clone()),
        (Kind::Bool, toml::Value::Boolean(b)) => Ok(b.to_string()),
        (Kind::Number, toml::Value::Integer(n)) => Ok(n.to_string()),
        (Kind::Number, toml::Value::Float(n)) => Ok(n.to_string()),
        (Kind::List, toml::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| format!("array items must be strings, not {}", i.type_str()))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        (Kind::Str, other) => Err(format!(
            "must be a string (in quotes), not {}",
            other.type_str()
        )),
        (Kind::Bool, other) => Err(format!("must be true or false, not {}", other.type_str())),
        (Kind::Number, other) => Err(format!("must be a number, not {}", other.type_str())),
        (Kind::List, other) => Err(format!(
            "must be an array of strings or a string, not {}",
            other.type_str()
        )),
    }
}

/// toml's messages span lines (the problem, then what was expected); errors are one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A config file's bytes as text: TOML is UTF-8, so anything else is a file that cannot be
/// parsed (exit 2, naming the file and the line), not a failure to read it.
fn config_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::Config {
            path: path.to_path_buf(),
            line: Some(line),
            key: None,
            message: format!("not UTF-8 text (invalid byte at offset {at}); save it as UTF-8"),
        }
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line that sets `key` (`dns.x` is looked for under `[dns]`, or written out as `dns.x`),
/// or its table header.
fn find_key_line(text: &str, key: &str) -> Option<usize> {
    let assigns = |line: &str, name: &str| {
        line.trim_start()
            .strip_prefix(name)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let header = |line: &str| {
        let l = line.trim();
        l.starts_with('[').then(|| {
            let name = l.trim_start_matches('[').split(']').next().unwrap_or("");
            name.trim().to_string()
        })
    };
    let (table, bare) = match key.split_once('.') {
        Some((table, bare)) => (Some(table), bare),
        None => (None, key),
    };
    let mut current: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(name) = header(line) {
            if table.is_none() && name == key {
                return Some(i + 1);
            }
            current = Some(name);
            continue;
        }
        let here = match (table, &current) {
            (None, None) => assigns(line, bare),
            (Some(_), None) => assigns(line, key),
            (Some(t), Some(c)) => c == t && assigns(line, bare),
            (None, Some(_)) => false,
        };
        if here {
            return Some(i + 1);
        }
    }
    None
}

/// A token file setting: the path and where it was set.
struct TokenFile {
    path: PathBuf,
    source: String,
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
fn find_token(
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

/// A setting that is not UTF-8 would be dropped by [`Env`] (and a folder flag mangled), and
/// the default used in its place: a different base dir without a word. Refuse it instead.
fn refuse_non_utf8(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    overrides: &Overrides,
) -> Result<()> {
    let refuse = |name: &str, value: &std::ffi::OsStr| {
        Error::invalid(
            name,
            format!(
                "`{}` is not valid UTF-8; stackwiz does not guess what it means (use a UTF-8 \
                 name)",
                crate::validate::printable(&value.to_string_lossy())
            ),
        )
    };
    for (key, value) in vars {
        let Some(key) = key.to_str() else { continue };
        if (key.starts_with("STACKWIZ_") || key == "DOCKER_CONTEXT") && value.to_str().is_none() {
            return Err(refuse(key, &value));
        }
    }
    for (flag, path) in [
        ("--config", &overrides.config),
        ("--base-dir", &overrides.base_dir),
        ("--templates-dir", &overrides.templates_dir),
    ] {
        if let Some(p) = path.as_ref().filter(|p| p.to_str().is_none()) {
            return Err(refuse(flag, p.as_os_str()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_setting_that_is_not_utf8_is_refused_not_replaced() {
        use std::os::unix::ffi::OsStringExt;
        let bad = std::ffi::OsString::from_vec(b"/srv/st\xffcks".to_vec());
        let vars = vec![
            ("HOME".into(), std::ffi::OsString::from("/root")),
            ("STACKWIZ_BASE_DIR".into(), bad.clone()),
        ];
        let e = super::refuse_non_utf8(vars.into_iter(), &super::Overrides::default()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "invalid STACKWIZ_BASE_DIR: `/srv/st\\u{fffd}cks` is not valid UTF-8; stackwiz does not \
             guess what it means (use a UTF-8 name)"
        );
        let flag = super::Overrides {
            base_dir: Some(bad.into()),
            ..Default::default()
        };
        let e = super::refuse_non_utf8(std::iter::empty(), &flag).unwrap_err();
        assert!(e.to_string().starts_with("invalid --base-dir: "), "{e}");
        // Other programs' variables are not ours to judge.
        let other = vec![(
            "LANGUAGE".into(),
            std::ffi::OsString::from_vec(b"\xff".to_vec()),
        )];
        super::refuse_non_utf8(other.into_iter(), &super::Overrides::default()).unwrap();
    }

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let home = std::env::temp_dir().join("stackwiz-config-test-home-none");
        let mut all: Vec<(String, String)> = vec![("HOME".into(), home.display().to_string())];
        all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Env::from_pairs(all)
    }

    #[test]
    fn defaults_apply_without_anything_set() {
        let c = Config::resolve(&Overrides::default(), &env(&[])).unwrap();
        assert_eq!(c.base_dir, PathBuf::from("/srv/dockerdata"));
        assert_eq!(c.templates_dir, PathBuf::from("/srv/dockerdata/_templates"));
        assert_eq!(c.default_domain, "localhost");
        assert_eq!(c.network, "traefik_proxy");
        assert_eq!(c.entrypoint, "websecure");
        assert_eq!(c.certresolver, "cf");
        assert_eq!(c.dns.api_url, DEFAULT_CF_API_URL);
        assert_eq!(c.dns.ip_services.len(), 3);
        assert!(c.dns.token.is_none());
    }

    #[test]
    fn a_config_file_not_in_utf8_is_a_config_error_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, b"network = \"a\"\ndefault_domain = \"\xff\"\n").unwrap();
        let err = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_CONFIG", &file.display().to_string())]),
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
        assert!(
            matches!(&err, Error::Config { path, line: Some(2), .. } if *path == file),
            "{err:?}"
        );
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn flag_beats_env_beats_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "network = \"from_file\"\ndefault_domain = \"file.example\"\nbase_dir = \"/f\"\n",
        )
        .unwrap();
        let e = env(&[
            ("STACKWIZ_CONFIG", file.to_str().unwrap()),
            ("STACKWIZ_DOCKER_NETWORK", "from_env"),
            ("STACKWIZ_BASE_DIR", "/e"),
        ]);
        let o = Overrides {
            base_dir: Some("/flag".into()),
            ..Default::default()
        };
        let c = Config::resolve(&o, &e).unwrap();
        assert_eq!(c.base_dir, PathBuf::from("/flag"));
        assert_eq!(c.network, "from_env");
        assert_eq!(c.default_domain, "file.example");
        let src = |k: &str| {
            c.entries
                .iter()
                .find(|e| e.key == k)
                .unwrap()
                .source
                .clone()
        };
        assert_eq!(src("base_dir"), "flag --base-dir");
        assert_eq!(src("network"), "env STACKWIZ_DOCKER_NETWORK");
        assert!(src("default_domain").starts_with("file "));
        assert_eq!(src("traefik_entrypoint"), "default");
    }

    #[test]
    fn malformed_file_names_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "network = \"x\"\nbogus = 1\n").unwrap();
        let err = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_CONFIG", file.to_str().unwrap())]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("c.toml line 2 key `bogus`"), "{err}");
        std::fs::write(&file, "network = \n").unwrap();
        let err = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_CONFIG", file.to_str().unwrap())]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 1"), "{err}");
        std::fs::write(&file, "[dns]\nnope = \"x\"\n").unwrap();
        let err = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_CONFIG", file.to_str().unwrap())]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 2 key `dns.nope`"), "{err}");
    }

    #[test]
    fn token_order_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("traefik")).unwrap();
        std::fs::write(
            dir.path().join("traefik/.env"),
            "OTHER=1\nCF_DNS_API_TOKEN=\"tok-traefik\"\n",
        )
        .unwrap();
        let base = dir.path().to_str().unwrap();
        let c =
            Config::resolve(&Overrides::default(), &env(&[("STACKWIZ_BASE_DIR", base)])).unwrap();
        assert_eq!(c.dns.token.as_ref().unwrap().secret.expose(), "tok-traefik");
        let c = Config::resolve(
            &Overrides::default(),
            &env(&[
                ("STACKWIZ_BASE_DIR", base),
                ("CF_API_TOKEN", "tok-cf"),
                ("CF_DNS_API_TOKEN", "tok-dns"),
            ]),
        )
        .unwrap();
        let t = c.dns.token.as_ref().unwrap();
        assert_eq!(t.secret.expose(), "tok-dns");
        assert_eq!(t.source, "env CF_DNS_API_TOKEN");
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok-dns"), "{shown}");
        let entry = c.entries.iter().find(|e| e.key == "dns.api_token").unwrap();
        assert_eq!(entry.value, "set (from env CF_DNS_API_TOKEN)");
    }

    /// The token stackwiz finds in `{base}/traefik/.env` holding `text`, or the problem it
    /// reports.
    fn traefik_env_token(text: &str) -> std::result::Result<String, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("traefik")).unwrap();
        std::fs::write(dir.path().join("traefik/.env"), text).unwrap();
        let base = dir.path().to_str().unwrap();
        let c =
            Config::resolve(&Overrides::default(), &env(&[("STACKWIZ_BASE_DIR", base)])).unwrap();
        match (&c.dns.token, &c.dns.token_problem) {
            (Some(t), _) => Ok(t.secret.expose().to_string()),
            (None, Some((problem, _))) => Err(problem.clone()),
            (None, None) => Err("not set".into()),
        }
    }

    #[test]
    fn the_traefik_token_is_read_as_compose_reads_it() {
        for (text, token) in [
            ("CF_DNS_API_TOKEN=abc # comment\n", "abc"),
            ("export CF_DNS_API_TOKEN='abc' # comment\n", "abc"),
            ("CF_DNS_API_TOKEN: \"abc\"\r\n", "abc"),
            (
                "\u{feff}CF_DNS_API_TOKEN=old\nCF_DNS_API_TOKEN=new\n",
                "new",
            ),
            ("CF_DNS_API_TOKEN=\nCF_API_TOKEN=\"a$$b\"\n", "a$b"),
            (
                "A=\"multi\nCF_DNS_API_TOKEN=inside-a-value\"\nCF_API_TOKEN=real\n",
                "real",
            ),
        ] {
            assert_eq!(traefik_env_token(text).as_deref(), Ok(token), "{text:?}");
        }
        for (text, problem) in [
            (
                "CF_DNS_API_TOKEN=${TOKEN}\n",
                "line 1: CF_DNS_API_TOKEN takes its value from the environment",
            ),
            (
                "A=1\nCF_DNS_API_TOKEN\n",
                "line 2: CF_DNS_API_TOKEN takes its value",
            ),
            (
                "A='open\nCF_DNS_API_TOKEN=abc\n",
                "line 1: unterminated quoted value (Compose refuses the file too)",
            ),
            (
                "CF_DNS_API_TOKEN=' abc'\n",
                "contains spaces or control characters",
            ),
        ] {
            let got = traefik_env_token(text).unwrap_err();
            assert!(got.contains(problem), "{text:?}: {got}");
            assert!(!got.contains("abc"), "{got}");
        }
    }

    fn with_file(text: &str, pairs: &[(&str, &str)]) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, text).unwrap();
        let mut all = vec![("STACKWIZ_CONFIG", file.to_str().unwrap())];
        all.extend_from_slice(pairs);
        Config::resolve(&Overrides::default(), &env(&all))
    }

    fn entry<'a>(c: &'a Config, key: &str) -> &'a Entry {
        c.entries.iter().find(|e| e.key == key).unwrap()
    }

    #[test]
    fn a_syntax_error_is_one_line() {
        let err = with_file("base_dir = \n", &[]).unwrap_err();
        assert!(
            matches!(err, Error::Config { line: Some(1), .. }),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(!err.contains('\n'), "{err}");
        assert!(
            err.contains("line 1: string values must be quoted"),
            "{err}"
        );
    }

    #[test]
    fn paths_and_names_in_the_file_must_be_strings() {
        for (text, line, key, rule) in [
            (
                "network = \"n\"\nbase_dir = 5\n",
                2,
                "base_dir",
                "must be a string",
            ),
            (
                "default_domain = true\n",
                1,
                "default_domain",
                "must be a string",
            ),
            (
                "[dns]\npublic_ip = [\"1.1.1.1\"]\n",
                2,
                "dns.public_ip",
                "must be a string",
            ),
            (
                "read_only = 1\n",
                1,
                "read_only",
                "must be true or false, not integer",
            ),
            (
                "[dns]\nip_services = [1]\n",
                2,
                "dns.ip_services",
                "array items must be strings",
            ),
        ] {
            let err = with_file(text, &[]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{err}");
            let err = err.to_string();
            assert!(
                err.contains(&format!("line {line} key `{key}`: {rule}")),
                "{err}"
            );
        }
        let c = with_file(
            "read_only = true\n[dns]\nallow_private_ip = \"yes\"\nip_services = [\"http://a\", \"http://b\"]\n",
            &[],
        )
        .unwrap();
        assert!(c.read_only && c.dns.allow_private_ip);
        assert_eq!(c.dns.ip_services, ["http://a", "http://b"]);
    }

    #[test]
    fn dotted_dns_keys_are_found_on_their_line() {
        let err = with_file("network = \"n\"\ndns.public_ip = 7\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2 key `dns.public_ip`"), "{err}");
        // [dns]'s key, not another table's of the same name.
        let err = with_file("[other]\npublic_ip = 1\n[dns]\npublic_ip = 7\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 4 key `dns.public_ip`"), "{err}");
    }

    #[test]
    fn folders_must_be_absolute_and_the_error_names_the_source() {
        let err = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_BASE_DIR", "stacks")]),
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.to_string(),
            "invalid base_dir (from env STACKWIZ_BASE_DIR): `stacks` must be an absolute path \
             (starting with /)"
        );
        let o = Overrides {
            templates_dir: Some("t".into()),
            ..Default::default()
        };
        let err = Config::resolve(&o, &env(&[])).unwrap_err().to_string();
        assert!(
            err.contains("templates_dir (from flag --templates-dir)"),
            "{err}"
        );
        let err = with_file("scripts_dir = \"./s\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("scripts_dir (from file "), "{err}");
    }

    #[test]
    fn the_default_domain_is_checked_when_resolved() {
        let err = with_file("default_domain = \"Bad\"\n", &[]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = err.to_string();
        assert!(
            err.starts_with("invalid default_domain (from file "),
            "{err}"
        );
        assert!(err.contains("`Bad` must be a lowercase hostname"), "{err}");
        let o = Overrides {
            default_domain: Some("a..b".into()),
            ..Default::default()
        };
        let err = Config::resolve(&o, &env(&[])).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid default_domain (from flag --default-domain)"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_boolean_names_its_source() {
        let err = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_ALLOW_PRIVATE_IP", "maybe")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("invalid dns.allow_private_ip (from env STACKWIZ_ALLOW_PRIVATE_IP)"),
            "{err}"
        );
    }

    #[test]
    fn the_public_ip_remembers_where_it_came_from() {
        let c = with_file("[dns]\npublic_ip = \"nonsense\"\n", &[]).unwrap();
        assert!(
            c.dns.public_ip_source.starts_with("file "),
            "{}",
            c.dns.public_ip_source
        );
        let c = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_PUBLIC_IP", "203.0.113.7")]),
        )
        .unwrap();
        assert_eq!(c.dns.public_ip_source, "env STACKWIZ_PUBLIC_IP");
    }

    #[test]
    fn the_docker_timeout_is_30_s_unless_set_by_env_or_file() {
        use std::time::Duration;
        let c = Config::resolve(&Overrides::default(), &env(&[])).unwrap();
        assert_eq!(c.docker_timeout, Duration::from_secs(30));
        assert_eq!(entry(&c, "docker_timeout").value, "30");
        let c = with_file("docker_timeout = 5\n", &[]).unwrap();
        assert_eq!(c.docker_timeout, Duration::from_secs(5));
        let c = with_file(
            "docker_timeout = 5\n",
            &[("STACKWIZ_DOCKER_TIMEOUT", "0.5")],
        )
        .unwrap();
        assert_eq!(c.docker_timeout, Duration::from_millis(500));
        assert_eq!(
            entry(&c, "docker_timeout").source,
            "env STACKWIZ_DOCKER_TIMEOUT"
        );
        for bad in ["0", "-1", "soon", "NaN", "inf", "100000"] {
            let err = Config::resolve(
                &Overrides::default(),
                &env(&[("STACKWIZ_DOCKER_TIMEOUT", bad)]),
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("docker_timeout (from env STACKWIZ_DOCKER_TIMEOUT)")
                    && err.contains("is not a number of seconds"),
                "{bad}: {err}"
            );
        }
        let err = with_file("docker_timeout = true\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be a number, not boolean"), "{err}");
    }

    #[test]
    fn the_http_time_scale_is_a_floored_env_only_testing_aid() {
        let c = Config::resolve(&Overrides::default(), &env(&[])).unwrap();
        assert_eq!(c.dns.http_time_scale, 1.0);
        assert!(!c.entries.iter().any(|e| e.key.contains("time_scale")));
        let c = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_HTTP_TIME_SCALE", "0.01")]),
        )
        .unwrap();
        assert_eq!(c.dns.http_time_scale, 0.01);
        assert_eq!(
            entry(&c, "http_time_scale").source,
            "env STACKWIZ_HTTP_TIME_SCALE"
        );
        for bad in ["0.009", "0", "-1", "1.5", "NaN", "fast"] {
            let err = Config::resolve(
                &Overrides::default(),
                &env(&[("STACKWIZ_HTTP_TIME_SCALE", bad)]),
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("must be a number from 0.01 to 1"),
                "{bad}: {err}"
            );
        }
        let err = with_file("[dns]\nhttp_time_scale = \"0.1\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown key"), "{err}");
    }

    #[test]
    fn an_unusable_token_file_says_where_it_was_set_and_how_to_undo_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let c = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_CF_API_TOKEN_FILE", missing.to_str().unwrap())]),
        )
        .unwrap();
        let err = c.token().unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "cannot read token file {} (from env STACKWIZ_CF_API_TOKEN_FILE): ",
                missing.display()
            )),
            "{err}"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("check the path, or unset STACKWIZ_CF_API_TOKEN_FILE")
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let text = format!("[dns]\napi_token_file = \"{}\"\n", empty.display());
        let err = with_file(&text, &[]).unwrap().token().unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "token file {} is empty (from file ",
                empty.display()
            )),
            "{err}"
        );
        let hint = err.hint().unwrap();
        assert!(
            hint.starts_with(
                "write the Cloudflare API token into it, or remove api_token_file from [dns] in /"
            ),
            "{hint}"
        );
    }

    #[test]
    fn an_unreadable_token_file_hints_at_its_permissions() {
        let dir = tempfile::tempdir().unwrap();
        // A folder cannot be read as a file, even by root.
        let c = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_CF_API_TOKEN_FILE", dir.path().to_str().unwrap())]),
        )
        .unwrap();
        let hint = c.token().unwrap_err().hint().unwrap();
        assert_eq!(
            hint,
            "point it at a readable file, or unset STACKWIZ_CF_API_TOKEN_FILE"
        );
    }

    #[test]
    fn no_token_points_at_the_real_traefik_env() {
        let c = Config::resolve(
            &Overrides::default(),
            &env(&[("STACKWIZ_BASE_DIR", "/srv/stacks")]),
        )
        .unwrap();
        let err = c.token().unwrap_err();
        assert!(matches!(err, Error::NoToken { .. }), "{err:?}");
        let hint = err.hint().unwrap();
        assert!(
            hint.ends_with("a CF_DNS_API_TOKEN= line in /srv/stacks/traefik/.env"),
            "{hint}"
        );
        assert!(!hint.contains('{'), "{hint}");
    }

    #[test]
    fn every_given_setting_knows_its_variable() {
        let o = Overrides {
            context: Some("remote".into()),
            ..Default::default()
        };
        let c = Config::resolve(&o, &env(&[])).unwrap();
        assert_eq!(entry(&c, "context").env_var, Some("DOCKER_CONTEXT"));
        assert_eq!(entry(&c, "base_dir").env_var, Some("STACKWIZ_BASE_DIR"));
        assert_eq!(
            entry(&c, "dns.api_token_file").env_var,
            Some("STACKWIZ_CF_API_TOKEN_FILE")
        );
        assert_eq!(entry(&c, "dns.api_token").env_var, None);
        let json = serde_json::to_value(entry(&c, "context")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"key": "context", "value": "remote", "source": "flag --context"})
        );
    }
}
