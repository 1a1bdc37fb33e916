//! Stack operations: create, validate, templates, init, config, list, status, start, stop,
//! restart, down, update, logs and remove. Each takes a request, does the work through
//! `stack`, `template` and `docker`, and returns a report both faces render.
//!
//! The rooms: `create` (with `validate`), `setup` (templates, init, config), `list` (with
//! `status`), `lifecycle`, `logs`, `remove`. What they share is here: the docker runner of
//! a context and the gate that hides a stack's `.env` values in its errors.

mod create;
mod lifecycle;
mod list;
mod logs;
mod remove;
mod setup;

use std::path::Path;

pub use create::{create, validate, Created, Validation};
pub use lifecycle::{lifecycle, Action, Lifecycle};
pub use list::{list, status, List, ListedStack, Status};
pub use logs::{logs, Logs};
pub use remove::{removable, remove, RemoveRequest, Removed, RemovedDns};
pub use setup::{config, init, template_text, templates, ConfigReport, Init, Templates};

use lifecycle::start_stack;

use super::Ctx;
use crate::docker::Docker;
use crate::envfile;
use crate::error::Result;
use crate::stack;

impl Ctx {
    pub fn docker(&self) -> Docker {
        Docker::new(&self.cfg, self.stream, self.cancel.clone())
    }
}

/// Hide the stack's `.env` values in an error about it (the docker runner's gate already
/// hid them in what docker printed; this covers every other message). The stack's name,
/// which names its containers, stays shown.
fn scrubbed<T>(dir: &Path, result: Result<T>) -> Result<T> {
    result.map_err(|e| {
        let env = stack::read_in(dir, stack::ENV_FILE).unwrap_or_default();
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let gate = envfile::scrubber(&env, &[name]);
        e.scrub(&|text| gate.scrub(text).into_owned())
    })
}
