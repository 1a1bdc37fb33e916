//! `stackwiz doctor`: the design document's verification steps as a checklist. Each check
//! says ✓ or ✗ and, when it fails, the one command or setting that fixes it. `--fix` creates
//! what can be created (the base dir, the network). The token's value is never shown.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::{Ctx, Hint, Next, Report};
use crate::config::Config;
use crate::docker::Docker;
use crate::error::{Error, Result};

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// A failing required check makes `doctor` exit 1.
    pub required: bool,
    pub detail: String,
    /// The step or setting that fixes it (JSON: a string in the face's words).
    pub fix: Option<Hint>,
}

#[derive(Debug, Serialize)]
pub struct Doctor {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Report for Doctor {
    fn human(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let mark = if c.ok {
                "✓"
            } else if c.required {
                "✗"
            } else {
                "!"
            };
            let _ = writeln!(out, "{mark} {}: {}", c.name, c.detail);
            if let (false, Some(fix)) = (c.ok, &c.fix) {
                let _ = writeln!(out, "    fix: {fix}");
            }
        }
        let _ = writeln!(
            out,
            "{}",
            if self.ok {
                "all required checks passed"
            } else {
                "some required checks failed"
            }
        );
        out
    }
}

fn check(name: &str, required: bool, result: Found) -> Check {
    match result {
        Ok(detail) => Check {
            name: name.into(),
            ok: true,
            required,
            detail,
            fix: None,
        },
        Err((detail, fix)) => Check {
            name: name.into(),
            ok: false,
            required,
            detail,
            fix: Some(fix),
        },
    }
}

fn writable(path: &Path) -> bool {
    rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_ok()
}

pub fn doctor(ctx: &Ctx, fix: bool) -> Doctor {
    let cfg = &ctx.cfg;
    let mut checks = vec![
        check("base dir", true, base_dir(cfg, fix)),
        check("templates", true, templates(cfg)),
    ];
    let docker = ctx.docker();
    checks.push(check("docker CLI", true, docker_cli(cfg, &docker)));
    let engine = docker.server_version();
    checks.extend([
        check("docker engine", true, docker_engine(cfg, &engine)),
        check("compose", true, compose(&docker)),
        check("network", true, network(cfg, &docker, &engine, fix)),
        check("owner", true, owner(cfg)),
        check("cloudflare token", false, cloudflare_token(cfg)),
    ]);
    let ok = checks.iter().all(|c| c.ok || !c.required);
    Doctor { ok, checks }
}

/// What one check found: its detail, or what is wrong and what fixes it.
type Found = Result<String, (String, Hint)>;

/// The base dir exists (made with `fix`) and this user may write in it.
fn base_dir(cfg: &Config, fix: bool) -> Found {
    if fix && !cfg.base_dir.exists() {
        let _ = std::fs::create_dir_all(&cfg.base_dir);
    }
    let base = cfg.base_dir.display();
    if !cfg.base_dir.is_dir() {
        Err((
            format!("{base} does not exist"),
            Hint::step(Next::Init).text(format!(" (or mkdir -p {base})")),
        ))
    } else if !writable(&cfg.base_dir) {
        Err((
            format!("{base} is not writable by this user"),
            "run as root, or set STACKWIZ_BASE_DIR to a folder you own".into(),
        ))
    } else {
        Ok(format!("{base} exists and is writable"))
    }
}

/// Every template, embedded or from the templates folder, loads.
fn templates(cfg: &Config) -> Found {
    match super::stacks::templates(cfg) {
        Ok(t) => {
            let from_folder = t
                .templates
                .iter()
                .filter(|k| k.source != "embedded")
                .count();
            Ok(format!(
                "{} types ({} from {}, the rest embedded)",
                t.templates.len(),
                from_folder,
                cfg.templates_dir.display()
            ))
        }
        Err(e) => Err((
            e.to_string(),
            format!("fix or remove the file in {}", cfg.templates_dir.display()).into(),
        )),
    }
}

/// The docker program is on PATH.
fn docker_cli(cfg: &Config, docker: &Docker) -> Found {
    match docker.program_path() {
        Some(p) => Ok(p.display().to_string()),
        None => Err((
            format!("`{}` not found on PATH", cfg.docker),
            "install Docker (apt-get install docker.io) or set STACKWIZ_DOCKER".into(),
        )),
    }
}

/// The engine answers; when it does not, whether the socket is there but not ours to use.
fn docker_engine(cfg: &Config, engine: &Result<String>) -> Found {
    let socket = cfg
        .docker_host
        .as_deref()
        .map(|h| h.strip_prefix("unix://").map(String::from))
        .unwrap_or_else(|| {
            cfg.context
                .is_none()
                .then(|| "/var/run/docker.sock".to_string())
        });
    match (engine, &socket) {
        (Ok(v), _) => Ok(format!("reachable, version {v}")),
        (Err(_), Some(sock)) if Path::new(sock).exists() && !writable(Path::new(sock)) => Err((
            format!("this user may not use the socket {sock}"),
            "add the user to the `docker` group (then log in again), or run as root".into(),
        )),
        (Err(e), _) => Err((
            first_line(&e.to_string()),
            "start the engine (systemctl start docker) or point DOCKER_HOST or DOCKER_CONTEXT at it"
                .into(),
        )),
    }
}

/// Compose v2, as the docker plugin or the standalone program.
fn compose(docker: &Docker) -> Found {
    match docker.compose_version() {
        Ok(v) => Ok(match docker.compose_kind() {
            Ok(crate::docker::Compose::Standalone(p)) => format!("{} version {v}", p.display()),
            _ => format!("docker compose version {v}"),
        }),
        Err(e) => Err((first_line(&e.to_string()), "install docker-compose-plugin (or the Compose v2 binary as ~/.docker/cli-plugins/docker-compose)".into())),
    }
}

/// The proxy network exists (created with `fix`); not checked without an engine.
fn network(cfg: &Config, docker: &Docker, engine: &Result<String>, fix: bool) -> Found {
    match engine {
        Err(_) => Err((
            "not checked: the engine is not reachable".to_string(),
            "fix the engine first".into(),
        )),
        Ok(_) => match docker.network_exists(&cfg.network) {
            Ok(true) => Ok(format!("{} exists", cfg.network)),
            Ok(false) if fix => match docker.network_create(&cfg.network) {
                Ok(()) => Ok(format!("{} created", cfg.network)),
                Err(e) => Err((
                    first_line(&e.to_string()),
                    format!("docker network create {}", cfg.network).into(),
                )),
            },
            Ok(false) => Err((
                format!("{} does not exist", cfg.network),
                Hint::step(Next::DoctorFix)
                    .text(format!(" (or docker network create {})", cfg.network)),
            )),
            Err(e) => Err((
                first_line(&e.to_string()),
                format!("docker network create {}", cfg.network).into(),
            )),
        },
    }
}

/// The user and group new stacks will belong to exist.
fn owner(cfg: &Config) -> Found {
    match crate::perms::resolve(&cfg.default_user, &cfg.default_group) {
        Ok(_) => Ok(format!(
            "stacks will belong to {}:{}",
            cfg.default_user, cfg.default_group
        )),
        Err(e) => Err((
            e.to_string(),
            e.advice()
                .unwrap_or_else(|| "set STACKWIZ_DEFAULT_USER and STACKWIZ_DEFAULT_GROUP".into()),
        )),
    }
}

/// A Cloudflare token is configured and Cloudflare says it is active (only DNS needs it).
fn cloudflare_token(cfg: &Config) -> Found {
    match cfg.token() {
        Err(Error::NoToken { .. }) => Err((
            "Cloudflare API token not configured (needed only for DNS)".to_string(),
            Hint::from(
                "export STACKWIZ_CF_API_TOKEN=... (the settings, and where each comes from: ",
            )
            .then(Next::Config)
            .text(")"),
        )),
        Err(e) => Err((
            first_line(&e.to_string()),
            e.advice().unwrap_or_else(|| {
                Hint::from("see the settings, and where each comes from: ").then(Next::Config)
            }),
        )),
        Ok(t) => match super::dns::verify_token(cfg) {
            Ok(status) => Ok(format!("found ({}), {status}", t.source)),
            Err(e) => Err((
                format!("found ({}) but {}", t.source, first_line(&e.to_string())),
                e.advice().unwrap_or_else(|| match &e {
                    // Not the token's fault: the API could not be reached or read.
                    Error::Http { .. } => {
                        "check the network, a proxy, or STACKWIZ_CF_API_URL".into()
                    }
                    _ => "create a token with Zone:DNS:Edit permission".into(),
                }),
            )),
        },
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}
