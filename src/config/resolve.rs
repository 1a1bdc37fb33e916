//! [`Config::resolve`]: every setting picked in a fixed order (the order `stackwiz config`
//! lists them in), checked where it is still known where it came from, into one [`Config`].

use std::path::{Path, PathBuf};

use super::file::ConfigFile;
use super::settings::Resolver;
use super::token::{find_token, TokenFile};
use super::{Config, DnsConfig, Entry, Env, Overrides, Token};
use super::{DEFAULT_CF_API_URL, DEFAULT_IP_SERVICES, HTTP_TIME_SCALE_VAR, MIN_HTTP_TIME_SCALE};
use crate::error::{Error, Result};

/// What [`Config::resolve_deferring`] leaves for [`Config::finish`]: the owner (an NSS
/// look-up of the user and the `docker` group) and the token (Traefik's `.env` among its
/// sources), with the environment and config file they are resolved from.
#[derive(Clone)]
pub(super) struct Pending {
    env: Env,
    file: ConfigFile,
    token_file: Option<TokenFile>,
    /// Where the owner's entries go in the listing (the token's go before `config_file`).
    owner_at: usize,
}

impl std::fmt::Debug for Pending {
    // The environment may hold a token: never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

impl Config {
    pub fn resolve(overrides: &Overrides, env: &Env) -> Result<Config> {
        let mut cfg = Config::resolve_deferring(overrides, env)?;
        cfg.finish();
        Ok(cfg)
    }

    /// Resolves and checks every setting but the owner and the token, which need NSS and
    /// Traefik's `.env` and are wanted only by operations: the MCP server answers its first
    /// requests without them. [`Config::finish`] resolves them.
    pub fn resolve_deferring(overrides: &Overrides, env: &Env) -> Result<Config> {
        let file = ConfigFile::find_and_read(overrides, env)?;
        let mut r = Resolver {
            env,
            file: &file,
            entries: Vec::new(),
        };
        let folders = folders(&mut r, overrides)?;
        let owner_at = r.entries.len();
        let proxy = proxy(&mut r, overrides)?;
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
        let (dns, token_file) = dns(&mut r)?;
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
        Ok(Config {
            base_dir: folders.base_dir,
            templates_dir: folders.templates_dir,
            scripts_dir: folders.scripts_dir,
            default_user: String::new(),
            default_group: String::new(),
            default_domain: proxy.default_domain,
            network: proxy.network,
            entrypoint: proxy.entrypoint,
            certresolver: proxy.certresolver,
            docker,
            context,
            docker_timeout,
            docker_host: env.get("DOCKER_HOST").map(String::from),
            docker_config: env.get("DOCKER_CONFIG").map(String::from),
            dns,
            read_only,
            config_file: file.path.clone(),
            entries,
            warnings: Vec::new(),
            pending: Some(Box::new(Pending {
                env: env.clone(),
                file,
                token_file,
                owner_at,
            })),
        })
    }

    /// Resolves what [`Config::resolve_deferring`] left: the owner and the token, their
    /// entries put where `stackwiz config` lists them. Does nothing the second time.
    pub fn finish(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let mut r = Resolver {
            env: &p.env,
            file: &p.file,
            entries: Vec::new(),
        };
        let (default_user, default_group) = owner(&mut r, &mut self.warnings);
        let owner_entries = std::mem::take(&mut r.entries);
        let (token, token_problem) = token(&mut r, p.token_file.as_ref(), &self.base_dir);
        let before_config_file = self.entries.len().saturating_sub(1);
        self.entries
            .splice(before_config_file..before_config_file, r.entries);
        self.entries.splice(p.owner_at..p.owner_at, owner_entries);
        self.default_user = default_user;
        self.default_group = default_group;
        self.dns.token = token;
        self.dns.token_problem = token_problem;
    }

    /// Whether [`Config::finish`] is still to run.
    pub fn is_deferred(&self) -> bool {
        self.pending.is_some()
    }
}

struct Folders {
    base_dir: PathBuf,
    templates_dir: PathBuf,
    scripts_dir: PathBuf,
}

/// The base dir, and the templates and scripts folders (by default inside it).
fn folders(r: &mut Resolver, overrides: &Overrides) -> Result<Folders> {
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
    Ok(Folders {
        base_dir,
        templates_dir,
        scripts_dir,
    })
}

/// The user and group new stack files belong to: this user, and `docker` where that group
/// exists (else the user's own group, with a warning).
fn owner(r: &mut Resolver, warnings: &mut Vec<String>) -> (String, String) {
    let default_user = r.pick("default_user", None, "STACKWIZ_DEFAULT_USER", current_user);
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
    (default_user, default_group)
}

/// What goes into every stack's labels: the default domain, the proxy network, Traefik's
/// entrypoint and certificate resolver.
struct Proxy {
    default_domain: String,
    network: String,
    entrypoint: String,
    certresolver: String,
}

/// The proxy settings, each held to the rule of where it ends up.
fn proxy(r: &mut Resolver, overrides: &Overrides) -> Result<Proxy> {
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
    Ok(Proxy {
        default_domain,
        network,
        entrypoint,
        certresolver,
    })
}

/// The `[dns]` settings, the test-only time scale, the cache folder and where the token file
/// is (the token itself is for [`Config::finish`]).
fn dns(r: &mut Resolver) -> Result<(DnsConfig, Option<TokenFile>)> {
    let env = r.env;
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
    let http_time_scale = http_time_scale(r)?;
    let cache_dir = env
        .get("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join("stackwiz");
    let ip_services = ip_services
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let dns = DnsConfig {
        token: None,
        token_problem: None,
        api_url: api_url.trim_end_matches('/').to_string(),
        ip_services,
        public_ip,
        public_ip_source,
        allow_private_ip,
        zone_id,
        cache_dir,
        http_time_scale,
    };
    Ok((dns, token_file))
}

/// `STACKWIZ_HTTP_TIME_SCALE`, a testing aid from the environment only (listed only when
/// set).
fn http_time_scale(r: &mut Resolver) -> Result<f64> {
    let env = r.env;
    Ok(match env.get(HTTP_TIME_SCALE_VAR) {
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
    })
}

/// The token, or why a configured one is unusable (kept until a DNS operation asks for it),
/// recorded as the `dns.api_token` entry without its value.
fn token(
    r: &mut Resolver,
    token_file: Option<&TokenFile>,
    base_dir: &Path,
) -> (Option<Token>, Option<(String, Option<crate::ops::Hint>)>) {
    let (token, token_problem) = match find_token(r.env, r.file, token_file, base_dir) {
        // An HTTP header cannot carry it; say so here rather than as a transport error.
        Ok(Some(t))
            if t.secret
                .expose()
                .chars()
                .any(|c| c.is_whitespace() || c.is_control()) =>
        {
            (
                None,
                Some((
                    format!(
                        "the Cloudflare token from {} contains spaces or control characters",
                        t.source
                    ),
                    Some(
                        "paste the token again, without quotes, spaces or line breaks inside it"
                            .into(),
                    ),
                )),
            )
        }
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
    (token, token_problem)
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
