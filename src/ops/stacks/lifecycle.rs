//! start, stop, restart, down and update of one stack; starting creates the proxy network
//! first when the stack joins it.

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

/// Create the proxy network if the stack joins it and it is missing, then `up -d`. Compose
/// is looked for first, so a missing Compose changes nothing on the engine.
fn start_with(ctx: &Ctx, docker: &Docker, name: &str, path: &Path) -> Result<(bool, String)> {
    docker.compose_kind()?;
    let compose = stack::read_in(path, stack::COMPOSE_FILE)?;
    let created = if names_network(&compose, &ctx.cfg.network) {
        docker.ensure_network(&ctx.cfg.network)?
    } else {
        false
    };
    let output = scrubbed(path, docker.up(name, path))?;
    Ok((created, output))
}

/// Whether a compose file names `network` (`name: NETWORK` under `networks:`). A plain
/// line match: the templates declare the proxy network that way, and a false "no" only
/// means Compose reports the missing network itself.
fn names_network(compose: &str, network: &str) -> bool {
    compose.lines().any(|line| {
        let line = line.split(" #").next().unwrap_or(line).trim();
        line.strip_prefix("name:")
            .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\''))
            == Some(network)
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
    fn the_proxy_network_is_found_by_its_name_line() {
        let compose = "services:\n  a:\n    image: x\nnetworks:\n  default:\n    name: proxy\n    external: true\n";
        assert!(names_network(compose, "proxy"));
        assert!(names_network("    name: \"proxy\"  # shared\n", "proxy"));
        assert!(!names_network(compose, "prox"));
        assert!(!names_network(compose, "proxy-2"));
        assert!(!names_network(
            "networks:\n  default:\n    driver: bridge\n",
            "proxy"
        ));
    }
}
