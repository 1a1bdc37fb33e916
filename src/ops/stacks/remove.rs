//! `remove`: what a name refers to (a stack folder, or an orphan by its Compose project
//! name), then containers down, folder to the trash (or purged), and the stack's DNS records
//! deleted; everything that can be checked is checked before a container is touched.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::*;
use crate::error::{Error, Result};
use crate::ops::next::{Hint, Next};
use crate::ops::{Ctx, Report};
use crate::stack::{self, StackMeta};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveRequest {
    pub name: String,
    #[serde(default)]
    pub purge: bool,
    #[serde(default)]
    pub volumes: bool,
    #[serde(default)]
    pub keep_dns: bool,
}

#[derive(Debug, Serialize)]
pub struct Removed {
    pub name: String,
    /// Where the folder went (None when purged, or for an orphan).
    pub trashed_to: Option<PathBuf>,
    pub purged: bool,
    pub volumes_removed: bool,
    /// What was done about the stack's DNS records.
    pub dns: Option<RemovedDns>,
    /// True when only containers were left: the stack's folder was already gone.
    pub orphan: bool,
}

/// What `remove` did about the stack's DNS records. JSON: the records deleted (and kept),
/// or `{"skipped": why, "retry": step}` (the step that deletes them once that is fixed).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum RemovedDns {
    Deleted(crate::ops::dns::DnsDeleted),
    Skipped { skipped: String, retry: Next },
}

impl Report for Removed {
    fn human(&self) -> String {
        let mut out = match (&self.trashed_to, self.orphan) {
            (_, true) => format!("removed orphan {}: containers down (its folder was already gone)\n", self.name),
            (Some(p), false) => format!(
                "removed {}: containers down, folder moved to {}\n(restore it by moving it back; delete it for good with --purge)\n",
                self.name,
                p.display()
            ),
            (None, false) => format!("removed {}: containers down, folder deleted\n", self.name),
        };
        if let Some(RemovedDns::Skipped { skipped, retry }) = &self.dns {
            out.push_str(&format!(
                "note: DNS records not checked: {skipped}; once it is set: {retry}\n"
            ));
        }
        out
    }
}

/// What `remove NAME` would act on: a stack folder, or an orphan (containers whose folder is
/// gone). Anything else is refused before anyone is asked to confirm.
///
/// An orphan is addressed by its Compose project name only, and only a project whose compose
/// files all lay in one folder of the base dir is one: a project of the same name elsewhere
/// on the engine is never touched. Compose allows names that stack names do not (`a_b`), so
/// such a name is looked up among the orphans before it is refused.
pub fn removable(ctx: &Ctx, name: &str) -> Result<Option<StackMeta>> {
    let refused = match stack::locate(&ctx.cfg, name) {
        Ok(meta) => return Ok(Some(meta)),
        Err(e @ Error::StackNotFound { .. }) => e,
        Err(e @ Error::Invalid { .. }) if is_project_name(name) => e,
        Err(e) => return Err(e),
    };
    let orphans = list(ctx)?.orphans;
    if orphans.iter().any(|o| o.name == name) {
        return Ok(None);
    }
    // The folder was NAME, but Compose knows the project by another name: say which.
    if let Some(o) = orphans
        .iter()
        .find(|o| o.path.file_name().is_some_and(|f| f == name))
    {
        return Err(Error::with_hint(
            format!(
                "no stack {name} in {}; the containers from its folder belong to the Compose \
                 project {}",
                ctx.cfg.base_dir.display(),
                o.name
            ),
            Hint::from("remove them by their project name: ").then(Next::Remove {
                name: o.name.clone(),
                purge: false,
                volumes: false,
                keep_dns: false,
            }),
        ));
    }
    Err(refused)
}

/// A Compose project name: lowercase letters, digits, `_` and `-`, starting with a letter or
/// digit.
fn is_project_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-'))
}

/// Take a stack down and move its folder to the trash (or delete it with `purge`), then
/// delete the DNS records it owns. An orphan's containers are taken down. The caller has
/// already obtained confirmation.
///
/// Everything that can be checked is checked before a container is touched (the trash can
/// be made, is a real folder on the stack's filesystem, the base dir may be changed); what
/// still fails after the containers went down says what was done.
pub fn remove(ctx: &Ctx, req: &RemoveRequest) -> Result<Removed> {
    stack::sweep_abandoned(&ctx.cfg.base_dir);
    let Some(meta) = removable(ctx, &req.name)? else {
        ctx.docker().down_orphan(&req.name, req.volumes)?;
        return Ok(Removed {
            name: req.name.clone(),
            trashed_to: None,
            purged: false,
            volumes_removed: req.volumes,
            dns: None,
            orphan: true,
        });
    };
    let trashed_to = take_down(ctx, req, &meta)?;
    let report = Removed {
        name: meta.name.clone(),
        trashed_to,
        purged: req.purge,
        volumes_removed: req.volumes,
        dns: None,
        orphan: false,
    };
    delete_dns(ctx, req, &meta, report)
}

/// Containers down, then the folder into the trash (or deleted, with `purge`); where it
/// went. The trash is made before a container is touched; a folder that could not be moved
/// after the containers went down is an error that says so.
fn take_down(ctx: &Ctx, req: &RemoveRequest, meta: &StackMeta) -> Result<Option<PathBuf>> {
    let trash = stack::prepare_removal(&ctx.cfg, meta, req.purge)?;
    let down = scrubbed(
        &meta.path,
        ctx.docker().down(&meta.name, &meta.path, req.volumes),
    );
    if let Err(e) = down {
        if let Some(t) = trash {
            t.discard();
        }
        return Err(e);
    }
    let moved = match &trash {
        None => stack::purge(meta).map(|()| None),
        Some(trash) => stack::trash(trash, meta).map(Some),
    };
    if moved.is_err() {
        if let Some(t) = trash {
            t.discard();
        }
    }
    moved.map_err(|e| {
        let volumes = if req.volumes {
            " and its volumes removed"
        } else {
            ""
        };
        let what = if req.purge {
            "was not deleted (or only partly)"
        } else {
            "was not moved to the trash"
        };
        Error::Partial {
            done: format!(
                "the containers of stack {} were taken down{volumes}; its folder {} {what}",
                meta.name,
                meta.path.display()
            ),
            source: Box::new(e),
            retry: vec![Next::Confirmed(Box::new(Next::Remove {
                name: meta.name.clone(),
                purge: req.purge,
                volumes: false,
                keep_dns: req.keep_dns,
            }))],
        }
    })
}

/// The DNS records the stack owns, deleted unless `keep_dns` (or its domain is one no zone
/// holds). Without a token they are skipped, and the report says how to delete them later.
fn delete_dns(
    ctx: &Ctx,
    req: &RemoveRequest,
    meta: &StackMeta,
    mut report: Removed,
) -> Result<Removed> {
    // A stack at a name no zone holds (`app.localhost`) may still own records made with
    // `dns create NAME --stack STACK` in the default domain's zone: asked for when a token
    // is there to ask with.
    let asks = |d: &str| {
        crate::ops::dns::zone_could_exist(d)
            || (ctx.cfg.token_configured()
                && crate::ops::dns::zone_could_exist(&ctx.cfg.default_domain))
    };
    let Some(domain) = meta.domain.as_deref().filter(|d| !req.keep_dns && asks(d)) else {
        return Ok(report);
    };
    let retry = Next::Confirmed(Box::new(Next::DnsDelete {
        name: domain.to_string(),
        record_type: None,
        stack: Some(meta.name.clone()),
        force: false,
    }));
    if !ctx.cfg.token_configured() {
        // Not an error: many stacks never had a record. But say so, and how to clean up.
        report.dns = Some(RemovedDns::Skipped {
            skipped: "no Cloudflare token is configured".into(),
            retry,
        });
        return Ok(report);
    }
    let change =
        crate::ops::dns::delete_for_stack(ctx, &meta.name, domain).map_err(|e| Error::Partial {
            done: format!("stack {} was removed", meta.name),
            source: Box::new(e),
            retry: vec![retry],
        })?;
    report.dns = Some(RemovedDns::Deleted(change));
    Ok(report)
}
