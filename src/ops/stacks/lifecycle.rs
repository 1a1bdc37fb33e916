//! start, stop, restart, down and update of one stack; starting creates the proxy network
//! when Compose reports it missing, then starts once more.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::*;
use crate::docker::Docker;
use crate::error::{Error, Result};
use crate::ops::next::{Hint, Next};
use crate::ops::{Ctx, Report};
use crate::stack::{self, StackMeta};

/// The outcome of start, stop, restart, down and update.
#[derive(Debug, Serialize)]
pub struct Lifecycle {
    pub name: String,
    /// started, stopped, restarted, down, updated.
    pub action: String,
    pub network_created: bool,
    /// Docker's own output (captured modes only).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub output: String,
    pub next: Next,
}

impl Report for Lifecycle {
    fn human(&self) -> String {
        let mut out = String::new();
        if self.network_created {
            out.push_str("created the proxy network\n");
        }
        let _ = writeln!(out, "{} {}", self.name, self.action);
        let _ = writeln!(out, "Next: {}", self.next);
        out
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Start,
    Stop,
    Restart,
    Down,
    Update,
}

pub(super) fn start_stack(ctx: &Ctx, name: &str, path: &Path) -> Result<(bool, String)> {
    start_with(ctx, &ctx.docker(), name, path)
}

/// `up -d`; when Compose says the proxy network is missing (the stack joins it as an
/// external network), create it and `up -d` once more. The common case (the network is
/// there) is one docker process, and a missing Compose fails before anything changes on
/// the engine.
fn start_with(ctx: &Ctx, docker: &Docker, name: &str, path: &Path) -> Result<(bool, String)> {
    let network = &ctx.cfg.network;
    let first = docker.up(name, path);
    if matches!(&first, Err(Error::Command { stderr, .. }) if network_missing(stderr, network)) {
        docker.network_create(network)?;
        let output = scrubbed(path, docker.up(name, path))?;
        return Ok((true, output));
    }
    Ok((false, scrubbed(path, first)?))
}

/// Whether Compose failed because `network` is declared external but does not exist
/// (v2: `network NAME declared as external, but could not be found`; v1 says `Network`).
/// Any other missing network is not ours to create: Compose's error (and its hint) stands.
fn network_missing(stderr: &str, network: &str) -> bool {
    stderr.lines().any(|line| {
        line.contains("declared as external, but could not be found")
            && line.split_whitespace().any(|w| {
                w.trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | ':' | '.' | ',')) == network
            })
    })
}

pub fn lifecycle(ctx: &Ctx, name: &str, action: Action) -> Result<Lifecycle> {
    let meta: StackMeta = stack::locate(&ctx.cfg, name)?;
    scrubbed(&meta.path.clone(), run_lifecycle(ctx, meta, action))
}

fn run_lifecycle(ctx: &Ctx, meta: StackMeta, action: Action) -> Result<Lifecycle> {
    let docker = ctx.docker();
    let mut network_created = false;
    let (output, word) = match action {
        Action::Start => {
            let (created, out) = start_with(ctx, &docker, &meta.name, &meta.path)?;
            network_created = created;
            (out, "started")
        }
        Action::Stop => (
            docker.stop(&meta.name, &meta.path)?,
            "stopped (containers kept)",
        ),
        Action::Restart => (docker.restart(&meta.name, &meta.path)?, "restarted"),
        Action::Down => (
            docker.down(&meta.name, &meta.path, false)?,
            "down (containers removed, files kept)",
        ),
        Action::Update => {
            // A failed pull leaves the running containers as they are.
            let mut out = docker.pull(&meta.name, &meta.path).map_err(|e| match e {
                Error::Command { command, status, stderr, .. } => Error::Command {
                    command,
                    status,
                    stderr,
                    hint: Some(
                        Hint::from(
                            "the pull failed, so the running containers were left as they are. An image that \
                             exists only on this engine (built or imported here) cannot be pulled: recreate \
                             the containers without pulling with ",
                        )
                        .then(Next::Start {
                            name: meta.name.clone(),
                        }),
                    ),
                },
                other => other,
            })?;
            let (created, up) = start_with(ctx, &docker, &meta.name, &meta.path)?;
            network_created = created;
            out.push_str(&up);
            (out, "updated")
        }
    };
    let name = meta.name.clone();
    let next = match action {
        Action::Stop | Action::Down => Next::Start { name },
        _ => Next::Status { name },
    };
    Ok(Lifecycle {
        name: meta.name,
        action: word.into(),
        network_created,
        output,
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_proxy_network_reported_missing_is_created() {
        let v2 = "network proxy declared as external, but could not be found\n";
        assert!(network_missing(v2, "proxy"));
        assert!(network_missing(
            "Network proxy declared as external, but could not be found. Please create the \
             network manually using `docker network create proxy` and try again.\n",
            "proxy"
        ));
        assert!(!network_missing(v2, "prox"));
        assert!(!network_missing(
            "network other declared as external, but could not be found\n",
            "proxy"
        ));
        assert!(!network_missing(
            "network proxy-2 declared as external, but could not be found\n",
            "proxy"
        ));
        assert!(!network_missing("proxy: no such image\n", "proxy"));
    }
}
