//! `list` and `status`: the stacks in the base dir with their states, from one `docker
//! compose ls`, and the orphans (containers whose folder is gone); one stack's services.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::*;
use crate::config::Config;
use crate::docker::{Project, Service};
use crate::error::Result;
use crate::ops::{Ctx, Report};
use crate::stack;

#[derive(Debug, Serialize)]
pub struct ListedStack {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub domain: Option<String>,
    /// running, partly running, restarting, stopped, not started, unknown, or orphan.
    pub status: String,
    pub path: PathBuf,
}

#[derive(Debug, Serialize)]
pub struct List {
    pub base_dir: PathBuf,
    pub stacks: Vec<ListedStack>,
    /// Compose projects whose folder was inside the base dir but is gone.
    pub orphans: Vec<ListedStack>,
    /// Set when states could not be read (engine unreachable).
    pub warning: Option<String>,
}

impl Report for List {
    fn human(&self) -> String {
        let mut out = String::new();
        if self.stacks.is_empty() && self.orphans.is_empty() {
            let _ = writeln!(
                out,
                "no stacks in {} (create one: stackwiz create NAME --image IMAGE --port PORT)",
                self.base_dir.display()
            );
        }
        for s in self.stacks.iter().chain(&self.orphans) {
            let _ = writeln!(
                out,
                "{:<24} {:<12} {:<16} {}",
                s.name,
                s.kind.as_deref().unwrap_or("-"),
                s.status,
                s.domain.as_deref().unwrap_or("-")
            );
        }
        if let Some(w) = &self.warning {
            let _ = writeln!(out, "warning: {w}");
        }
        out
    }
}

/// `running(2), exited(1)` → a stack status word.
fn summarize(status: &str) -> &'static str {
    stack_state(
        status
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|part| {
                let (state, n) = part.split_once('(').unwrap_or((part, "1)"));
                (state, n.trim_end_matches(')').parse().unwrap_or(1))
            }),
    )
}

/// A stack's status from its containers' states (with counts): running, partly running,
/// restarting (a container in a crash loop: never "stopped", or an agent would start it
/// again), stopped, or not started.
fn stack_state<'a>(states: impl Iterator<Item = (&'a str, u32)>) -> &'static str {
    let (mut running, mut restarting, mut other) = (0, 0, 0);
    for (state, n) in states {
        match state {
            "running" => running += n,
            "restarting" => restarting += n,
            _ => other += n,
        }
    }
    match (running, restarting, other) {
        (0, 0, 0) => "not started",
        (_, r, _) if r > 0 => "restarting",
        (_, _, 0) => "running",
        (0, _, _) => "stopped",
        _ => "partly running",
    }
}

/// Every stack with its state, from a single `docker compose ls` call.
pub fn list(ctx: &Ctx) -> Result<List> {
    let cfg = &ctx.cfg;
    stack::sweep_abandoned(&cfg.base_dir);
    let stacks = stack::scan(cfg)?;
    let (projects, warning) = match ctx.docker().projects() {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(format!("stack states unknown: {e}"))),
    };
    let by_folder = by_folder(cfg, projects.iter().flatten());
    let listed = stacks
        .iter()
        .map(|s| ListedStack {
            name: s.name.clone(),
            kind: s.kind.clone(),
            domain: s.domain.clone(),
            status: match &projects {
                None => "unknown",
                Some(_) => by_folder
                    .get(&s.name)
                    .map_or("not started", |p| summarize(&p.status)),
            }
            .into(),
            path: s.path.clone(),
        })
        .collect();
    let names: std::collections::HashSet<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
    let mut orphans: Vec<ListedStack> = by_folder
        .iter()
        .filter(|(folder, p)| !p.config_files.is_empty() && !names.contains(folder.as_str()))
        .map(|(folder, p)| ListedStack {
            name: p.name.clone(),
            kind: None,
            domain: None,
            status: "orphan".into(),
            path: cfg.base_dir.join(folder),
        })
        .collect();
    orphans.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(List {
        base_dir: cfg.base_dir.clone(),
        stacks: listed,
        orphans,
        warning,
    })
}

/// The engine's projects by the base-dir folder they belong to. A project belongs to the
/// folder that holds all its compose files, directly in the base dir; a project that also
/// has files elsewhere shares its name with something that is not ours.
fn by_folder<'a>(
    cfg: &Config,
    projects: impl Iterator<Item = &'a Project>,
) -> HashMap<String, &'a Project> {
    let base = cfg
        .base_dir
        .canonicalize()
        .unwrap_or_else(|_| cfg.base_dir.clone());
    // Only a project whose compose files all lie in one folder of the base dir is a stack's
    // (or an orphan).
    let in_base = |files: &str| -> Option<String> {
        let mut folder: Option<String> = None;
        for file in files.split(',') {
            let dir = Path::new(file).parent()?;
            if dir.parent()? != base && dir.parent()? != cfg.base_dir {
                return None;
            }
            let name = dir.file_name()?.to_str()?;
            match &folder {
                Some(f) if f != name => return None,
                _ => folder = Some(name.to_string()),
            }
        }
        folder
    };
    // One pass over the projects, then one lookup per stack: hundreds of each stay cheap.
    let mut by_folder: HashMap<String, &Project> = HashMap::new();
    for p in projects {
        match in_base(&p.config_files) {
            Some(folder) => {
                by_folder.insert(folder, p);
            }
            // Older engines may not report config files: match on the project name.
            None if p.config_files.is_empty() => {
                by_folder.entry(p.name.clone()).or_insert(p);
            }
            None => {}
        }
    }
    by_folder
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub domain: Option<String>,
    pub path: PathBuf,
    /// running, partly running, restarting, stopped, or not started.
    pub status: String,
    pub services: Vec<Service>,
}

impl Report for Status {
    fn human(&self) -> String {
        let mut out = format!(
            "{} ({}) {}: {}\n",
            self.name,
            self.kind.as_deref().unwrap_or("?"),
            self.domain.as_deref().unwrap_or("-"),
            self.status
        );
        for s in &self.services {
            let health = s
                .health
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            let ports = if s.ports.is_empty() {
                String::new()
            } else {
                format!("  {}", s.ports.join(", "))
            };
            let _ = writeln!(
                out,
                "  {:<16} {:<20} {}{}  {}{}",
                s.service, s.container, s.state, health, s.image, ports
            );
        }
        out
    }
}

pub fn status(ctx: &Ctx, name: &str) -> Result<Status> {
    let meta = stack::locate(&ctx.cfg, name)?;
    let services = scrubbed(&meta.path, ctx.docker().ps(&meta.name, &meta.path))?;
    let status = stack_state(services.iter().map(|s| (s.state.as_str(), 1)));
    Ok(Status {
        name: meta.name,
        kind: meta.kind,
        domain: meta.domain,
        path: meta.path,
        status: status.into(),
        services,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_ls_states_become_stack_statuses() {
        assert_eq!(summarize("running(2)"), "running");
        assert_eq!(summarize("running(1), exited(1)"), "partly running");
        assert_eq!(summarize("exited(2)"), "stopped");
        assert_eq!(summarize("created(1)"), "stopped");
        assert_eq!(summarize(""), "not started");
        assert_eq!(summarize("restarting(1)"), "restarting");
        assert_eq!(summarize("running(1), restarting(1)"), "restarting");
        assert_eq!(summarize("exited(1), restarting(2)"), "restarting");
    }
}
