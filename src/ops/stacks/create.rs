//! `create` and `validate`: check a request (and, for a user's template, what Compose makes
//! of it) before anything is written, write the stack, then create its DNS record and start
//! it when asked; a failure after the write keeps the stack and names its retry steps.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::*;
use crate::envfile;
use crate::error::{Error, Result};
use crate::ops::next::{CreateAgain, DnsRecord, Hint, Next};
use crate::ops::{Ctx, Report};
use crate::stack::{self, CreateRequest};

/// The result of `create` (and of a dry run).
#[derive(Debug, Serialize)]
pub struct Created {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub path: PathBuf,
    pub domain: String,
    pub image: Option<String>,
    pub port: Option<u16>,
    pub host_port: Option<u16>,
    /// Paths inside the stack folder.
    pub files: Vec<String>,
    pub dry_run: bool,
    pub started: bool,
    /// The DNS record change, when `--dns` was asked.
    pub dns: Option<serde_json::Value>,
    /// Dry run only: the rendered files, `.env` values redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<BTreeMap<String, String>>,
    /// What to do next (each face words it: a command, a tool call).
    pub next: Next,
}

impl Report for Created {
    fn human(&self) -> String {
        let mut out = String::new();
        if let Some(rendered) = &self.rendered {
            for (file, text) in rendered {
                let _ = writeln!(out, "--- {}/{file}", self.path.display());
                out.push_str(text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
            }
            let _ = writeln!(
                out,
                "(dry run: nothing was written; .env values are shown as ****)"
            );
            return out;
        }
        let _ = writeln!(
            out,
            "Created stack {} ({}) at {}",
            self.name,
            self.kind,
            self.path.display()
        );
        let mut facts = vec![format!("domain: {}", self.domain)];
        facts.extend(self.image.as_ref().map(|i| format!("image: {i}")));
        facts.extend(self.port.map(|p| format!("port: {p}")));
        facts.extend(self.host_port.map(|p| format!("host port: {p}")));
        let _ = writeln!(out, "  {}", facts.join("  "));
        if self.dns.is_some() {
            let _ = writeln!(out, "  DNS record for {} is in place", self.domain);
        }
        if self.started {
            let _ = writeln!(out, "  started");
        }
        let _ = writeln!(out, "Next: {}", self.next);
        out
    }
}

/// Validate, render and (unless `dry_run`) write a stack; then create its DNS record and
/// start it when asked. A failure after the files are written keeps the stack and says how
/// to retry.
pub fn create(ctx: &Ctx, req: &CreateRequest, dry_run: bool) -> Result<Created> {
    let plan = checked_plan(ctx, req)?;
    if let Some(file) = &plan.template_file {
        check_with_compose(ctx, &plan, file)?;
    }
    let mut report = Created {
        name: plan.name.clone(),
        kind: plan.kind.clone(),
        path: plan.path.clone(),
        domain: plan.domain.clone(),
        image: plan.image.clone(),
        port: plan.port,
        host_port: plan.host_port,
        files: plan.files(),
        dry_run,
        started: false,
        dns: None,
        rendered: None,
        next: Next::Start {
            name: plan.name.clone(),
        },
    };
    if dry_run {
        let mut rendered = BTreeMap::new();
        rendered.insert(stack::COMPOSE_FILE.to_string(), plan.compose.clone());
        rendered.insert(stack::ENV_FILE.to_string(), envfile::redact(&plan.env));
        report.rendered = Some(rendered);
        report.next = create_step(req);
        return Ok(report);
    }
    stack::write(&ctx.cfg, &plan)?;
    after_write(ctx, req, &plan, report)
}

/// The stack's plan, or every problem with the request at once: the plan's and, with
/// `--dns`, the DNS prerequisites'.
fn checked_plan(ctx: &Ctx, req: &CreateRequest) -> Result<stack::Plan> {
    let planned = stack::plan(&ctx.cfg, req);
    let dns_problems = if req.dns {
        dns_prerequisites(ctx, req)
    } else {
        Vec::new()
    };
    match (planned, dns_problems.is_empty()) {
        (Ok(plan), true) => Ok(plan),
        (Ok(_), false) => Err(stack::one_or_many(dns_problems)),
        (Err(e), true) => Err(e),
        (Err(Error::InvalidMany(mut all)), false) => {
            all.extend(dns_problems);
            Err(Error::InvalidMany(all))
        }
        (Err(e), false) => {
            let mut all = vec![e];
            all.extend(dns_problems);
            Err(Error::InvalidMany(all))
        }
    }
}

/// The DNS record and the start, once the files are written. Each step is tried even when
/// the other failed: a DNS outage must not keep a stack from starting. Failures keep the
/// stack and name their retry steps.
fn after_write(
    ctx: &Ctx,
    req: &CreateRequest,
    plan: &stack::Plan,
    mut report: Created,
) -> Result<Created> {
    let mut failed: Vec<(Error, Next)> = Vec::new();
    let mut done = vec![format!(
        "stack {} was created at {}",
        plan.name,
        plan.path.display()
    )];
    if req.dns {
        match crate::ops::dns::create_for_stack(ctx, &plan.name, &plan.domain) {
            Ok(change) => {
                report.dns = Some(serde_json::to_value(change).unwrap_or_default());
                done.push(format!("its DNS record for {} is in place", plan.domain));
            }
            Err(e) => failed.push((
                e,
                Next::DnsCreate(Box::new(DnsRecord {
                    name: plan.domain.clone(),
                    stack: Some(plan.name.clone()),
                    ..DnsRecord::default()
                })),
            )),
        }
    }
    if req.start {
        match start_stack(ctx, &plan.name, &plan.path) {
            Ok(_) => {
                report.started = true;
                report.next = Next::Status {
                    name: plan.name.clone(),
                };
                done.push("it was started".into());
            }
            Err(e) => failed.push((
                e,
                Next::Start {
                    name: plan.name.clone(),
                },
            )),
        }
    }
    if failed.is_empty() {
        return Ok(report);
    }
    Err(partly_created(done.join(" and "), failed))
}

/// What a create that wrote the stack but failed after says: what was done, why it
/// stopped (every failure), and the step that retries each.
fn partly_created(done: String, mut failed: Vec<(Error, Next)>) -> Error {
    let retry = failed.iter().map(|(_, step)| step.clone()).collect();
    let source = match failed.pop() {
        Some((only, _)) if failed.is_empty() => only,
        last => {
            let mut messages: Vec<String> = failed.iter().map(|(e, _)| e.to_string()).collect();
            messages.extend(last.map(|(e, _)| e.to_string()));
            Error::other(messages.join("; and "))
        }
    };
    Error::Partial {
        done,
        source: Box::new(source),
        retry,
    }
}

/// The create that a dry run previewed. Environment values are secrets: they are named by
/// key and must be given again.
fn create_step(req: &CreateRequest) -> Next {
    Next::Create(Box::new(CreateAgain {
        name: req.name.clone(),
        kind: req.kind.clone(),
        image: req.image.clone(),
        port: req.port,
        host_port: req.host_port,
        domain: req.domain.clone(),
        env_keys: req.env.keys().cloned().collect(),
        dns: req.dns,
        start: req.start,
    }))
}

/// A user's template is only known to be valid YAML and valid Compose once Compose has read
/// it: do that before anything is written. Without Compose (stackwiz may run on a host that
/// only writes stacks) the check is skipped; `start` would report the problem.
fn check_with_compose(ctx: &Ctx, plan: &stack::Plan, template: &Path) -> Result<()> {
    let docker = ctx.docker();
    let checked =
        stack::with_scratch_copy(&ctx.cfg, plan, |dir| docker.config_check(&plan.name, dir))
            .map_err(|e| {
                let gate = envfile::scrubber(&plan.env, &[&plan.name]);
                e.scrub(&|text| gate.scrub(text).into_owned())
            });
    match checked {
        Err(Error::ProgramNotFound { .. }) | Ok(()) => Ok(()),
        Err(Error::Command { stderr, .. }) => Err(Error::Template {
            file: template.display().to_string(),
            line: None,
            message: format!(
                "Compose rejects what it renders to: {}",
                stderr
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
        }),
        Err(e) => Err(e),
    }
}

/// `--dns` needs a name a Cloudflare zone can hold and a usable token; found before
/// anything is written.
fn dns_prerequisites(ctx: &Ctx, req: &CreateRequest) -> Vec<Error> {
    let mut problems = Vec::new();
    let domain = stack::domain_of(&ctx.cfg, req);
    if !crate::ops::dns::zone_could_exist(&domain) {
        problems.push(Error::invalid(
            "dns",
            format!(
                "{domain} is a special-use name that no DNS zone can hold; give the stack a \
                 real hostname as its domain (e.g. {}.example.com), or do not ask for its DNS \
                 record",
                req.name
            ),
        ));
    }
    problems.extend(ctx.cfg.token().err());
    problems
}

/// What `validate_stack` reports: the plan, or every problem.
#[derive(Debug, Serialize)]
pub struct Validation {
    pub valid: bool,
    /// Each problem, with its advice where one helps (JSON: strings in the face's words).
    pub problems: Vec<Hint>,
    pub would_create: Option<Created>,
}

impl Report for Validation {
    fn human(&self) -> String {
        if self.valid {
            self.would_create
                .as_ref()
                .map(Report::human)
                .unwrap_or_default()
        } else {
            self.problems.iter().map(|p| format!("✗ {p}\n")).collect()
        }
    }
}

/// A dry run that reports every validation problem instead of failing on them.
pub fn validate(ctx: &Ctx, req: &CreateRequest) -> Result<Validation> {
    // A dry run writes nothing, so whatever stops it is a problem with the request.
    Ok(match create(ctx, req, true) {
        Ok(created) => Validation {
            valid: true,
            problems: Vec::new(),
            would_create: Some(created),
        },
        Err(Error::InvalidMany(errors)) => Validation {
            valid: false,
            problems: errors.iter().map(|e| Hint::from(e.to_string())).collect(),
            would_create: None,
        },
        Err(e) => {
            let problem = match e.advice() {
                Some(hint) => Hint::from(format!("{e} (")).and(hint).text(")"),
                None => Hint::from(e.to_string()),
            };
            Validation {
                valid: false,
                problems: vec![problem],
                would_create: None,
            }
        }
    })
}
