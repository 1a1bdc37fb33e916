//! Setting stackwiz itself up: the templates it knows (`templates`, a template's text),
//! `init` (the base dir, the proxy network, a config file) and the resolved configuration
//! (`config`).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::config::{Config, Entry};
use crate::error::{Error, Result};
use crate::ops::{Ctx, Report};
use crate::template::{self, KindInfo};

#[derive(Debug, Serialize)]
pub struct Templates {
    pub templates_dir: PathBuf,
    pub templates: Vec<KindInfo>,
}

impl Report for Templates {
    fn human(&self) -> String {
        let mut out = String::new();
        for t in &self.templates {
            let _ = writeln!(
                out,
                "{:<12} {:<10} {}",
                t.name,
                t.source
                    .replace(&format!("{}/", self.templates_dir.display()), ""),
                t.description
            );
        }
        out
    }
}

pub fn templates(cfg: &Config) -> Result<Templates> {
    let kinds = template::all(cfg)?;
    Ok(Templates {
        templates_dir: cfg.templates_dir.clone(),
        templates: kinds.iter().map(|k| k.info()).collect(),
    })
}

/// The text of one template type (compose and env), for `template://TYPE`.
pub fn template_text(cfg: &Config, kind: &str) -> Result<String> {
    let k = template::find(cfg, kind)?;
    let mut text = format!("# {}\n{}", k.compose.origin, k.compose.body);
    if let Some(env) = &k.env {
        let _ = write!(text, "\n# {}\n{}", env.origin, env.body);
    }
    Ok(text)
}

#[derive(Debug, Serialize)]
pub struct Init {
    pub base_dir: PathBuf,
    pub templates_dir: PathBuf,
    pub created_dirs: Vec<PathBuf>,
    pub written: Vec<PathBuf>,
    pub kept: Vec<PathBuf>,
    /// `created`, `exists`, or why it was not checked.
    pub network: String,
}

impl Report for Init {
    fn human(&self) -> String {
        let mut out = String::new();
        for d in &self.created_dirs {
            let _ = writeln!(out, "created {}", d.display());
        }
        for f in &self.written {
            let _ = writeln!(out, "wrote {}", f.display());
        }
        if !self.kept.is_empty() {
            let _ = writeln!(out, "kept {} existing template file(s)", self.kept.len());
        }
        let _ = writeln!(out, "network: {}", self.network);
        if self.created_dirs.is_empty() && self.written.is_empty() {
            out.insert_str(0, "already initialised; nothing changed\n");
        }
        out
    }
}

/// Create the base dir, templates and scripts folders, write the embedded templates there as
/// editable files (never overwriting one), and create the network when the engine is reachable.
pub fn init(ctx: &Ctx) -> Result<Init> {
    let cfg = &ctx.cfg;
    let mut report = Init {
        base_dir: cfg.base_dir.clone(),
        templates_dir: cfg.templates_dir.clone(),
        created_dirs: Vec::new(),
        written: Vec::new(),
        kept: Vec::new(),
        network: String::new(),
    };
    for dir in [&cfg.base_dir, &cfg.templates_dir, &cfg.scripts_dir] {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
            report.created_dirs.push(dir.clone());
        }
    }
    for (file, text) in template::embedded_files() {
        let path = cfg.templates_dir.join(file);
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        match created {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(text.as_bytes())
                    .map_err(|e| Error::io("write", &path, e))?;
                report.written.push(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => report.kept.push(path),
            Err(e) => return Err(Error::io("write", &path, e)),
        }
    }
    let docker = ctx.docker();
    report.network = match docker.server_version() {
        Err(e) => format!(
            "not checked, the engine is not reachable ({})",
            first_line(&e.to_string())
        ),
        Ok(_) => match docker.ensure_network(&cfg.network)? {
            true => format!("{} created", cfg.network),
            false => format!("{} exists", cfg.network),
        },
    };
    Ok(report)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[derive(Debug, Serialize)]
pub struct ConfigReport {
    pub settings: Vec<Entry>,
    pub warnings: Vec<String>,
}

impl Report for ConfigReport {
    fn human(&self) -> String {
        let width = self.settings.iter().map(|e| e.key.len()).max().unwrap_or(0);
        let mut out = String::new();
        for e in &self.settings {
            let _ = writeln!(out, "{:<width$}  {}  ({})", e.key, e.value, e.source);
        }
        out
    }
}

pub fn config(cfg: &Config) -> ConfigReport {
    ConfigReport {
        settings: cfg.entries.clone(),
        warnings: cfg.warnings.clone(),
    }
}
