//! Turns command-line flags, the environment and the config file into one resolved
//! [`Config`], remembering where every value came from.
//!
//! Precedence: flag > environment > config file > default. This is the only module that
//! reads environment variables (it takes a snapshot, [`Env`], so tests can hand it one).
//! The Cloudflare token is kept in a [`Secret`] whose `Debug` and `Display` never show it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

pub const DEFAULT_CF_API_URL: &str = "https://api.cloudflare.com/client/v4";
pub const DEFAULT_IP_SERVICES: &str =
    "https://ipv4.icanhazip.com,https://api.ipify.org,https://ifconfig.me/ip";

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

    /// The STACKWIZ_* variables, for `mcp --print-config`.
    pub fn stackwiz_vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .filter(|(k, _)| k.starts_with("STACKWIZ_"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
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
}

#[derive(Clone, Debug)]
pub struct DnsConfig {
    pub token: Option<Token>,
    /// Why a configured token could not be read (an empty or unreadable token file), as
    /// (message, hint). Kept until a DNS operation asks for the token, so that a DNS-only
    /// setting never breaks the commands that need no token.
    pub token_problem: Option<(String, String)>,
    pub api_url: String,
    pub ip_services: Vec<String>,
    pub public_ip: Option<String>,
    pub allow_private_ip: bool,
    pub zone_id: Option<String>,
    pub cache_dir: PathBuf,
    /// `STACKWIZ_HTTP_TIME_SCALE` (0 < x <= 1, default 1): multiplies every HTTP timeout and
    /// retry wait, so tests of timeouts and rate limits take seconds, not minutes. It can
    /// only shorten the waits, never lengthen them.
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
    /// DOCKER_HOST as docker will see it (for `doctor`'s socket check).
    pub docker_host: Option<String>,
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
        Config::resolve(overrides, &Env::from_process())
    }

    pub fn resolve(overrides: &Overrides, env: &Env) -> Result<Config> {
        let file = ConfigFile::find_and_read(overrides, env)?;
        let mut r = Resolver {
            env,
            file: &file,
            entries: Vec::new(),
        };

        let base_dir = PathBuf::from(
            r.pick(
                "base_dir",
                overrides
                    .base_dir
                    .as_ref()
                    .map(|p| ("--base-dir", p.display().to_string())),
                "STACKWIZ_BASE_DIR",
                || "/srv/dockerdata".into(),
            ),
        );
        let base = base_dir.display().to_string();
        let templates_dir = PathBuf::from(
            r.pick(
                "templates_dir",
                overrides
                    .templates_dir
                    .as_ref()
                    .map(|p| ("--templates-dir", p.display().to_string())),
                "STACKWIZ_TEMPLATES_DIR",
                || format!("{base}/_templates"),
            ),
        );
        let scripts_dir =
            PathBuf::from(r.pick("scripts_dir", None, "STACKWIZ_SCRIPTS_DIR", || {
                format!("{base}/_scripts")
            }));
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
        let read_only_flag = overrides
            .read_only
            .then(|| ("--read-only", "true".to_string()));
        let read_only = r.pick("read_only", read_only_flag, "STACKWIZ_READ_ONLY", || {
            "false".into()
        });
        let read_only = parse_bool("read_only", &read_only)?;

        let api_url = r.pick("dns.api_url", None, "STACKWIZ_CF_API_URL", || {
            DEFAULT_CF_API_URL.into()
        });
        let ip_services = r.pick("dns.ip_services", None, "STACKWIZ_IP_SERVICES", || {
            DEFAULT_IP_SERVICES.into()
        });
        let public_ip = r.pick_opt("dns.public_ip", None, "STACKWIZ_PUBLIC_IP");
        let allow_private = r.pick(
            "dns.allow_private_ip",
            None,
            "STACKWIZ_ALLOW_PRIVATE_IP",
            || "false".into(),
        );
        let allow_private_ip = parse_bool("dns.allow_private_ip", &allow_private)?;
        let zone_id = r.pick_opt("dns.zone_id", None, "STACKWIZ_CF_ZONE_ID");
        let scale = r.pick(
            "dns.http_time_scale",
            None,
            "STACKWIZ_HTTP_TIME_SCALE",
            || "1".into(),
        );
        let http_time_scale = match scale.trim().parse::<f64>() {
            Ok(x) if x > 0.0 && x <= 1.0 => x,
            _ => {
                return Err(Error::invalid(
                    "STACKWIZ_HTTP_TIME_SCALE",
                    format!("`{scale}` must be a number above 0 and at most 1"),
                ))
            }
        };
        let cache_dir = env
            .get("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from("/tmp"))
            .join("stackwiz");

        let (token, token_problem) = match find_token(env, &file, &base_dir) {
            Ok(t) => (t, None),
            Err(e) => (None, Some((e.to_string(), e.hint().unwrap_or_default()))),
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
            docker_host: env.get("DOCKER_HOST").map(String::from),
            dns: DnsConfig {
                token,
                token_problem,
                api_url: api_url.trim_end_matches('/').to_string(),
                ip_services,
                public_ip,
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
        self.base_dir.join(TRASH_DIR)
    }

    /// The token, or the error that says why there is none and how to set one.
    pub fn token(&self) -> Result<&Token> {
        match (&self.dns.token, &self.dns.token_problem) {
            (Some(t), _) => Ok(t),
            (None, Some((message, hint))) => Err(Error::with_hint(message.clone(), hint.clone())),
            (None, None) => Err(Error::NoToken),
        }
    }

    /// Whether the user configured a token at all (usable or not).
    pub fn token_configured(&self) -> bool {
        self.dns.token.is_some() || self.dns.token_problem.is_some()
    }
}

/// The name of the trash folder inside the base dir.
pub const TRASH_DIR: &str = ".trash";

struct Resolver<'a> {
    env: &'a Env,
    file: &'a ConfigFile,
    entries: Vec<Entry>,
}

impl Resolver<'_> {
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
        let source = self
            .entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| e.source.clone())
            .unwrap_or_default();
        Err(Error::invalid(
            format!("{key} (from {source})"),
            format!("`{}` must match {rule}", crate::validate::printable(value)),
        ))
    }

    fn pick_opt(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, String)>,
        var: &str,
    ) -> Option<String> {
        let found = if let Some((name, value)) = flag {
            Some((value, format!("flag {name}")))
        } else if let Some(value) = self.env.get(var) {
            Some((value.to_string(), format!("env {var}")))
        } else {
            self.file.get(key).map(|v| (v, self.file.source()))
        };
        match found {
            Some((value, source)) => {
                self.entries.push(Entry {
                    key,
                    value: value.clone(),
                    source,
                });
                Some(value)
            }
            None => {
                self.entries.push(Entry {
                    key,
                    value: "not set".into(),
                    source: "default".into(),
                });
                None
            }
        }
    }

    fn pick(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, String)>,
        var: &str,
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
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(Error::invalid(
            key,
            format!("`{value}` is not a boolean (use 1/0, true/false)"),
        )),
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

/// Keys the config file may hold, top level and under [dns].
const FILE_KEYS: &[&str] = &[
    "base_dir",
    "templates_dir",
    "scripts_dir",
    "default_user",
    "default_group",
    "default_domain",
    "network",
    "traefik_entrypoint",
    "traefik_certresolver",
    "docker",
    "context",
    "read_only",
];
const DNS_KEYS: &[&str] = &[
    "api_token",
    "api_token_file",
    "api_url",
    "ip_services",
    "public_ip",
    "allow_private_ip",
    "zone_id",
];

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
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::io("read config file", &path, e))?;
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
            match std::fs::read_to_string(&path) {
                Ok(text) => return ConfigFile::parse(path, by.into(), &text),
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
            message: e.message().to_string(),
        })?;
        let mut values = BTreeMap::new();
        let bad = |key: &str, message: String| Error::Config {
            path: path.clone(),
            line: find_key_line(text, key.rsplit('.').next().unwrap_or(key)),
            key: Some(key.to_string()),
            message,
        };
        for (key, value) in &table {
            if key == "dns" {
                let dns = value
                    .as_table()
                    .ok_or_else(|| bad("dns", "must be a table ([dns])".into()))?;
                for (k, v) in dns {
                    let full = format!("dns.{k}");
                    if !DNS_KEYS.contains(&k.as_str()) {
                        return Err(bad(
                            &full,
                            format!("unknown key (known: {})", DNS_KEYS.join(", ")),
                        ));
                    }
                    values.insert(full.clone(), scalar(v).map_err(|m| bad(&full, m))?);
                }
            } else if FILE_KEYS.contains(&key.as_str()) {
                values.insert(key.clone(), scalar(value).map_err(|m| bad(key, m))?);
            } else {
                return Err(bad(
                    key,
                    format!("unknown key (known: {}, [dns])", FILE_KEYS.join(", ")),
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

fn scalar(value: &toml::Value) -> std::result::Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| "array items must be strings".to_string())
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        other => Err(format!("must be a string, not {}", other.type_str())),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn find_key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
                || l.trim() == format!("[{key}]")
        })
        .map(|i| i + 1)
}

/// Token discovery, in the design document's order, plus STACKWIZ_CF_API_TOKEN_FILE.
fn find_token(env: &Env, file: &ConfigFile, base_dir: &Path) -> Result<Option<Token>> {
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
    let token_file = env
        .get("STACKWIZ_CF_API_TOKEN_FILE")
        .map(|p| {
            (
                PathBuf::from(p),
                "env STACKWIZ_CF_API_TOKEN_FILE".to_string(),
            )
        })
        .or_else(|| {
            file.get("dns.api_token_file")
                .map(|p| (PathBuf::from(p), file.source()))
        });
    if let Some((path, by)) = token_file {
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::io("read token file", &path, e))?;
        if text.trim().is_empty() {
            return Err(Error::with_hint(
                format!("token file {} is empty", path.display()),
                format!("write the Cloudflare API token into it, or unset {by}"),
            ));
        }
        return Ok(token(&text, format!("file {} ({by})", path.display())));
    }
    for var in ["CF_DNS_API_TOKEN", "CF_API_TOKEN"] {
        if let Some(v) = env.get(var) {
            return Ok(token(v, format!("env {var}")));
        }
    }
    let traefik_env = base_dir.join("traefik/.env");
    if let Ok(text) = std::fs::read_to_string(&traefik_env) {
        for var in ["CF_DNS_API_TOKEN", "CF_API_TOKEN"] {
            for line in text.lines() {
                let line = line.trim();
                let line = line.strip_prefix("export ").unwrap_or(line);
                if let Some(value) = line.strip_prefix(var).and_then(|r| r.strip_prefix('=')) {
                    let value = strip_quotes(value.trim());
                    if !value.is_empty() {
                        return Ok(token(value, format!("{} {var}", traefik_env.display())));
                    }
                }
            }
        }
    }
    Ok(None)
}

fn strip_quotes(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
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
}
