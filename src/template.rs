//! Stack templates: the embedded defaults, the user's templates folder, and rendering.
//!
//! A type is a compose template plus an optional env template. The embedded ones are
//! compiled in so a fresh install works with no folder; files in STACKWIZ_TEMPLATES_DIR
//! override them by name (`stack-template.yml`/`env-template` for `generic`,
//! `NAME-template.yml`/`NAME-env-template` for the others) or add new types.
//!
//! Two placeholder styles are supported so existing templates keep working: the design
//! document's `__APP_NAME__` tokens, replaced first, and minijinja (`{{ name }}`). A token
//! left over or an undefined variable is an error naming the file and line; rendering never
//! writes anything, so a broken template leaves nothing behind.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};

/// What a type brings and needs, beyond its text.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub description: &'static str,
    /// The image used when none is given.
    pub image: Option<&'static str>,
    /// The container port used when none is given.
    pub port: Option<u16>,
    /// Whether `--image` / `--port` must be given (no default, and the template needs them).
    pub needs_image: bool,
    pub needs_port: bool,
    /// Whether `--port` / `--host-port` mean anything to this type (else they are refused
    /// rather than silently ignored or, worse, half-applied).
    pub takes_port: bool,
    pub takes_host_port: bool,
    /// Whether the type routes through Traefik (and so needs a domain and the proxy network).
    pub traefik: bool,
    /// Whether the type publishes a host port (`--host-port`).
    pub host_port: bool,
    /// Folders created inside the stack (bind-mount targets).
    pub folders: &'static [&'static str],
    /// `.env` keys that must be given with `--env`.
    pub required_env: &'static [&'static str],
}

const USER_SPEC: Spec = Spec {
    description: "user template",
    image: None,
    port: None,
    needs_image: false,
    needs_port: false,
    takes_port: true,
    takes_host_port: true,
    traefik: true,
    host_port: false,
    folders: &[],
    required_env: &[],
};

struct Embedded {
    name: &'static str,
    compose: (&'static str, &'static str),
    env: (&'static str, &'static str),
    spec: Spec,
}

macro_rules! embedded_file {
    ($file:literal) => {
        ($file, include_str!(concat!("../templates/", $file)))
    };
}

const EMBEDDED: &[Embedded] = &[
    Embedded {
        name: "generic",
        compose: embedded_file!("stack-template.yml"),
        env: embedded_file!("env-template"),
        spec: Spec {
            description: "any image behind Traefik (needs --image and --port)",
            image: None,
            port: None,
            needs_image: true,
            needs_port: true,
            takes_port: true,
            takes_host_port: false,
            traefik: true,
            host_port: false,
            folders: &[],
            required_env: &[],
        },
    },
    Embedded {
        name: "pocketbase",
        compose: embedded_file!("pocketbase-template.yml"),
        env: embedded_file!("pocketbase-env-template"),
        spec: Spec {
            description: "PocketBase backend behind Traefik, with a generated encryption key",
            image: Some("ghcr.io/muchobien/pocketbase:latest"),
            port: Some(8090),
            needs_image: false,
            needs_port: false,
            takes_port: false,
            takes_host_port: false,
            traefik: true,
            host_port: false,
            folders: &["pb_data", "pb_public", "pb_migrations", "pb_hooks"],
            required_env: &[],
        },
    },
    Embedded {
        name: "standalone",
        compose: embedded_file!("standalone-template.yml"),
        env: embedded_file!("standalone-env-template"),
        spec: Spec {
            description: "any image without Traefik, published on a host port (--host-port)",
            image: None,
            port: None,
            needs_image: true,
            needs_port: true,
            takes_port: true,
            takes_host_port: true,
            traefik: false,
            host_port: true,
            folders: &[],
            required_env: &[],
        },
    },
    Embedded {
        name: "cloudflared",
        compose: embedded_file!("cloudflared-template.yml"),
        env: embedded_file!("cloudflared-env-template"),
        spec: Spec {
            description:
                "Cloudflare Tunnel connector on the proxy network (needs --env TUNNEL_TOKEN=...)",
            image: Some("cloudflare/cloudflared:latest"),
            port: None,
            needs_image: false,
            needs_port: false,
            takes_port: false,
            takes_host_port: false,
            traefik: false,
            host_port: false,
            folders: &[],
            required_env: &["TUNNEL_TOKEN"],
        },
    },
];

/// The text of one template file and where it came from.
#[derive(Clone, Debug)]
pub struct Text {
    /// `embedded:stack-template.yml` or the file's path; used in errors and listings.
    pub origin: String,
    pub path: Option<PathBuf>,
    pub body: Cow<'static, str>,
}

/// A stack type: compose template, optional env template, and its spec.
#[derive(Clone, Debug)]
pub struct Kind {
    pub name: String,
    pub compose: Text,
    pub env: Option<Text>,
    pub spec: Spec,
}

/// One line of `stackwiz templates`.
#[derive(Clone, Debug, Serialize)]
pub struct KindInfo {
    pub name: String,
    pub description: String,
    /// `embedded` or the compose template's path.
    pub source: String,
    /// `embedded`, the env template's path, or `none`.
    pub env_source: String,
    pub default_image: Option<String>,
    pub default_port: Option<u16>,
    pub required_env: Vec<String>,
}

impl Kind {
    pub fn info(&self) -> KindInfo {
        let source = |t: &Text| match &t.path {
            Some(p) => p.display().to_string(),
            None => "embedded".to_string(),
        };
        KindInfo {
            name: self.name.clone(),
            description: self.spec.description.to_string(),
            source: source(&self.compose),
            env_source: self
                .env
                .as_ref()
                .map(source)
                .unwrap_or_else(|| "none".into()),
            default_image: self.spec.image.map(String::from),
            default_port: self.spec.port,
            required_env: self
                .spec
                .required_env
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

fn file_names(kind: &str) -> (String, String) {
    if kind == "generic" {
        ("stack-template.yml".into(), "env-template".into())
    } else {
        (
            format!("{kind}-template.yml"),
            format!("{kind}-env-template"),
        )
    }
}

/// A template file larger than this is refused, and so is a rendering that grows past it:
/// a compose file is a few kilobytes, and a template must not fill the memory or the disk.
const MAX_TEMPLATE_BYTES: usize = 1 << 20;

/// The minijinja instructions one rendering may run. The embedded templates need a few
/// hundred; a loop that does not end runs out in well under a second.
const TEMPLATE_FUEL: u64 = 1_000_000;

/// A user template file: only a regular file, opened without following a symlink (anyone who
/// can write in the templates folder could link `x-env-template` to a stack's `.env` or to
/// a system file, which `template://x` would then serve) and without blocking on a FIFO.
fn read_text(path: &Path) -> Result<Option<Text>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;

    let refuse = |what: &str| Error::Template {
        file: path.display().to_string(),
        line: None,
        message: format!(
            "is not a regular file but {what}; put the template itself in the templates folder"
        ),
    };
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            return Err(refuse("a symlink"))
        }
        Err(e) => return Err(Error::io("read template", path, e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| Error::io("read template", path, e))?;
    if !meta.is_file() {
        return Err(refuse(if meta.is_dir() {
            "a folder"
        } else {
            "a FIFO, socket or device"
        }));
    }
    let mut bytes = Vec::new();
    file.take(MAX_TEMPLATE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read template", path, e))?;
    if bytes.len() > MAX_TEMPLATE_BYTES {
        return Err(too_large(path.display().to_string(), "is"));
    }
    let body = String::from_utf8(bytes).map_err(|_| {
        Error::io(
            "read template",
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text"),
        )
    })?;
    Ok(Some(Text {
        origin: path.display().to_string(),
        path: Some(path.to_path_buf()),
        body: Cow::Owned(body),
    }))
}

fn too_large(file: String, verb: &str) -> Error {
    Error::Template {
        file,
        line: None,
        message: format!(
            "{verb} larger than {} MiB; a template is a compose or .env file",
            MAX_TEMPLATE_BYTES >> 20
        ),
    }
}

fn embedded_text((file, body): (&'static str, &'static str)) -> Text {
    Text {
        origin: format!("embedded:{file}"),
        path: None,
        body: Cow::Borrowed(body),
    }
}

/// Every available type, embedded ones first (possibly overridden), then the folder's own.
pub fn all(cfg: &Config) -> Result<Vec<Kind>> {
    all_names(cfg).iter().map(|name| find(cfg, name)).collect()
}

/// The type called `name`: the folder's files where present, else the embedded ones.
pub fn find(cfg: &Config, name: &str) -> Result<Kind> {
    crate::validate::type_name(name)?;
    let (compose_file, env_file) = file_names(name);
    let user_compose = read_text(&cfg.templates_dir.join(&compose_file))?;
    let user_env = read_text(&cfg.templates_dir.join(&env_file))?;
    let embedded = EMBEDDED.iter().find(|e| e.name == name);
    let (compose, spec) = match (user_compose, embedded) {
        (Some(text), Some(e)) => (text, e.spec),
        (Some(text), None) => (text, USER_SPEC),
        (None, Some(e)) => (embedded_text(e.compose), e.spec),
        (None, None) => {
            let names: Vec<String> = all_names(cfg);
            return Err(Error::invalid(
                "type",
                format!(
                    "unknown template type `{name}` (available: {})",
                    names.join(", ")
                ),
            ));
        }
    };
    let env = user_env.or_else(|| embedded.map(|e| embedded_text(e.env)));
    Ok(Kind {
        name: name.to_string(),
        compose,
        env,
        spec,
    })
}

/// The type names: the embedded ones, then the folder's own `NAME-template.yml` types (valid
/// names only, sorted).
fn all_names(cfg: &Config) -> Vec<String> {
    let mut extra: Vec<String> = std::fs::read_dir(&cfg.templates_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let file = entry.file_name();
            let kind = file.to_str()?.strip_suffix("-template.yml")?.to_string();
            let own = kind != "stack"
                && !kind.ends_with("-env")
                && !EMBEDDED.iter().any(|e| e.name == kind);
            (own && crate::validate::type_name(&kind).is_ok()).then_some(kind)
        })
        .collect();
    extra.sort();
    EMBEDDED
        .iter()
        .map(|e| e.name.to_string())
        .chain(extra)
        .collect()
}

/// The embedded templates as (file name, text), for `stackwiz init`.
pub fn embedded_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    EMBEDDED.iter().flat_map(|e| [e.compose, e.env])
}

/// The values a template can use. Documented in the README; keep both lists in step.
#[derive(Clone, Debug, Serialize)]
pub struct Vars {
    pub name: String,
    pub service_name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub domain: String,
    // Absent values stay undefined, so `default(...)` works and strict mode names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_port: Option<u16>,
    pub network: String,
    pub entrypoint: String,
    pub certresolver: String,
}

impl Vars {
    fn tokens(&self) -> [(&'static str, Option<String>); 9] {
        [
            ("__APP_NAME__", Some(self.name.clone())),
            ("__SERVICE_NAME__", Some(self.service_name.clone())),
            ("__APP_DOMAIN__", Some(self.domain.clone())),
            ("__APP_IMAGE__", self.image.clone()),
            ("__APP_PORT__", self.port.map(|p| p.to_string())),
            ("__HOST_PORT__", self.host_port.map(|p| p.to_string())),
            ("__TRAEFIK_NETWORK__", Some(self.network.clone())),
            ("__TRAEFIK_ENTRYPOINT__", Some(self.entrypoint.clone())),
            ("__TRAEFIK_CERTRESOLVER__", Some(self.certresolver.clone())),
        ]
    }
}

/// Render one template. Nothing is written here; errors name the template file and line.
pub fn render(text: &Text, vars: &Vars) -> Result<String> {
    let mut body = text.body.to_string();
    for (token, value) in vars.tokens() {
        if let Some(value) = value {
            body = body.replace(token, &value);
        }
    }
    if body.contains("{{") || body.contains("{%") || body.contains("{#") {
        body = render_jinja(text, &body, vars)?;
    }
    if body.len() > MAX_TEMPLATE_BYTES {
        return Err(too_large(text.origin.clone(), "renders to"));
    }
    if let Some((line, token)) = leftover_token(&body) {
        let why = match token {
            "__APP_IMAGE__" => "no image was given (use --image)".to_string(),
            "__APP_PORT__" => "no port was given (use --port)".to_string(),
            "__HOST_PORT__" => "no host port was given (use --host-port)".to_string(),
            _ => "it is not a placeholder stackwiz knows".to_string(),
        };
        return Err(Error::Template {
            file: text.origin.clone(),
            line: Some(line),
            message: format!("{token} was left unreplaced: {why}"),
        });
    }
    Ok(body)
}

fn render_jinja(text: &Text, body: &str, vars: &Vars) -> Result<String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| Error::Template {
            file: text.origin.clone(),
            line: None,
            message: e.to_string(),
        })?;
    env.set_syntax(syntax);
    env.add_function("random_key", random_key);
    let name = text
        .origin
        .rsplit('/')
        .next()
        .unwrap_or(&text.origin)
        .to_string();
    env.set_fuel(Some(TEMPLATE_FUEL));
    let mut out = Capped(Vec::new());
    env.template_from_named_str(&name, body)
        .and_then(|t| {
            t.render_captured_to(
                minijinja::Value::from(minijinja::value::Serde(vars)),
                &mut out,
            )
            .map(drop)
        })
        .map_err(|e| {
            let message = match e.kind() {
                ErrorKind::UndefinedError => undefined_message(body, e.line()),
                ErrorKind::WriteFailure => return too_large(text.origin.clone(), "renders to"),
                ErrorKind::OutOfFuel => {
                    "takes too many steps to render (a loop that never ends?)".to_string()
                }
                _ => e
                    .detail()
                    .map(String::from)
                    .unwrap_or_else(|| e.kind().to_string()),
            };
            Error::Template {
                file: text.origin.clone(),
                line: e.line(),
                message,
            }
        })?;
    // Whole strings were written, so the bytes are UTF-8; checked anyway, never assumed.
    String::from_utf8(out.0).map_err(|_| Error::Template {
        file: text.origin.clone(),
        line: None,
        message: "rendered to text that is not UTF-8".into(),
    })
}

/// The rendering's output, refusing to grow past [`MAX_TEMPLATE_BYTES`].
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_TEMPLATE_BYTES {
            return Err(std::io::Error::other("the rendering is too large"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every variable a template can use, in the README's order.
const VARIABLES: &[&str] = &[
    "name",
    "service_name",
    "type",
    "domain",
    "image",
    "port",
    "host_port",
    "network",
    "entrypoint",
    "certresolver",
];

/// Say which name on the failing line is undefined: a value that was not given (image,
/// port, host_port), or a name that is no template variable at all.
fn undefined_message(body: &str, line: Option<usize>) -> String {
    let text = line
        .and_then(|l| body.lines().nth(l.wrapping_sub(1)))
        .unwrap_or_default();
    let names = text.split("{{").skip(1).filter_map(|expr| {
        let ident: String = expr
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!ident.is_empty()).then_some(ident)
    });
    for ident in names {
        match ident.as_str() {
            "image" => return "uses image, which was not given (--image / image)".into(),
            "port" => return "uses port, which was not given (--port / port)".into(),
            "host_port" => {
                return "uses host_port, which was not given (--host-port / host_port)".into()
            }
            known if VARIABLES.contains(&known) || known == "random_key" => continue,
            unknown => {
                return format!(
                    "`{unknown}` is not a template variable (known: {}, random_key())",
                    VARIABLES.join(", ")
                )
            }
        }
    }
    format!(
        "uses a value that is not defined (known: {})",
        VARIABLES.join(", ")
    )
}

/// The first `__UPPER_CASE__` token left in the text, with its line.
fn leftover_token(body: &str) -> Option<(usize, &str)> {
    for (i, line) in body.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("__") {
            let after = &rest[start + 2..];
            let len = after
                .bytes()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
                .count();
            let candidate = &after[..len];
            if let Some(end) = candidate.find("__") {
                let inner = &candidate[..end];
                if inner.bytes().next().is_some_and(|c| c.is_ascii_uppercase()) {
                    let token = &rest[start..start + 2 + end + 2];
                    return Some((i + 1, token));
                }
            }
            rest = &rest[start + 2..];
        }
    }
    None
}

/// `{{ random_key(32) }}`: a fresh alphanumeric key from the OS CSPRNG.
fn random_key(len: Option<usize>) -> std::result::Result<String, minijinja::Error> {
    let len = len.unwrap_or(32);
    if !(16..=256).contains(&len) {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            "random_key length must be 16-256",
        ));
    }
    generate_key(len).map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e))
}

/// An alphanumeric key of `len` characters, each uniformly chosen (rejection sampling).
pub fn generate_key(len: usize) -> std::result::Result<String, String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(|e| format!("the OS random source failed: {e}"))?;
        for b in buf {
            // 248 = 4 * 62: values above are rejected so every character is equally likely.
            if b < 248 && out.len() < len {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            name: "app".into(),
            service_name: "app".into(),
            kind: "generic".into(),
            domain: "app.localhost".into(),
            image: Some("nginx:alpine".into()),
            port: Some(80),
            host_port: None,
            network: "traefik_proxy".into(),
            entrypoint: "websecure".into(),
            certresolver: "cf".into(),
        }
    }

    fn text(body: &str) -> Text {
        Text {
            origin: "/t/x-template.yml".into(),
            path: None,
            body: Cow::Owned(body.into()),
        }
    }

    #[test]
    fn both_placeholder_styles_render() {
        let out = render(
            &text("a: __APP_NAME__ {{ domain }} __APP_PORT__\n"),
            &vars(),
        )
        .unwrap();
        assert_eq!(out, "a: app app.localhost 80\n");
    }

    #[test]
    fn leftover_token_names_file_and_line() {
        let err = render(&text("a: 1\nb: __NOPE__\n"), &vars())
            .unwrap_err()
            .to_string();
        assert_eq!(err, "template /t/x-template.yml line 2: __NOPE__ was left unreplaced: it is not a placeholder stackwiz knows");
        let mut v = vars();
        v.image = None;
        let err = render(&text("image: __APP_IMAGE__\n"), &v)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1") && err.contains("--image"), "{err}");
        assert!(render(&text("a: __init__ x__Y z__\n"), &vars()).is_ok());
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel_instead_of_hanging() {
        let body =
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}\n";
        let err = render(&text(body), &vars()).unwrap_err().to_string();
        assert!(
            err.starts_with("template /t/x-template.yml line 1:"),
            "{err}"
        );
        assert!(err.contains("too many steps"), "{err}");
    }

    #[test]
    fn jinja_errors_name_file_and_line() {
        let mut v = vars();
        v.image = None;
        let err = render(&text("a: 1\n\nimage: {{ image }}\n"), &v)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("template /t/x-template.yml line 3:"),
            "{err}"
        );
        let err = render(&text("a: {% if %}\n"), &vars())
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn rendering_is_bounded_in_steps_and_size() {
        let endless =
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
        let err = render(&text(endless), &vars()).unwrap_err().to_string();
        assert!(err.contains("too many steps"), "{err}");
        let huge = "{% set s = 'x' * 600000 %}{{ s }}{{ s }}";
        let err = render(&text(huge), &vars()).unwrap_err().to_string();
        assert!(err.contains("larger than 1 MiB"), "{err}");
        let loops = "{% for i in range(1000) %}{{ name }}-{{ i }}\n{% endfor %}";
        assert_eq!(render(&text(loops), &vars()).unwrap().lines().count(), 1000);
    }

    #[test]
    fn keys_are_random_alphanumeric() {
        let a = generate_key(32).unwrap();
        let b = generate_key(32).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
