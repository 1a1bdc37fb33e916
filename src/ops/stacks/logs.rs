//! `logs`: a stack's container logs, its `.env` values hidden.

use serde::Serialize;

use super::*;
use crate::error::Result;
use crate::ops::{Ctx, Report};
use crate::stack;

#[derive(Debug, Serialize)]
pub struct Logs {
    pub name: String,
    pub tail: u32,
    pub logs: String,
}

impl Report for Logs {
    fn human(&self) -> String {
        self.logs.clone()
    }
}

pub fn logs(ctx: &Ctx, name: &str, tail: u32, follow: bool, since: Option<&str>) -> Result<Logs> {
    let meta = stack::locate(&ctx.cfg, name)?;
    let logs = scrubbed(
        &meta.path,
        ctx.docker()
            .logs(&meta.name, &meta.path, tail, follow, since),
    )?;
    Ok(Logs {
        name: meta.name,
        tail,
        logs,
    })
}
