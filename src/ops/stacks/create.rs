//! Stack operations: create, validate, templates, init, config, list, status, start, stop,
//! restart, down, update, logs and remove. Each takes a request, does the work through
//! `stack`, `template` and `docker`, and returns a report both faces render.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ops::{Ctx, Report};
use crate::config::{Config, Entry};
use crate::docker::{Docker, Service};
use crate::envfile;
use crate::error::{Error, Result};
use crate::ops::next::{CreateAgain, DnsRecord, Hint, Next};
use crate::stack::{self, CreateRequest, StackMeta};
use crate::template::{self, KindInfo};

impl Ctx {
    pub fn docker(&self) -> Docker {
        Docker::new(&self.cfg, self.stream, self.cancel.clone())
    }
}

// ---------------------------------------------------------------------------------------
// create / validate

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
    let planned = stack::plan(&ctx.cfg, req);
    let dns_problems = if req.dns {
        dns_prerequisites(ctx, req)
    } else {
        Vec::new()
    };
    let plan = match (planned, dns_problems.is_empty()) {
        (Ok(plan), true) => plan,
        (Ok(_), false) => return Err(stack::one_or_many(dns_problems)),
        (Err(e), true) => return Err(e),
        (Err(Error::InvalidMany(mut all)), false) => {
            all.extend(dns_problems);
            return Err(Error::InvalidMany(all));
        }
        (Err(e), false) => {
            let mut all = vec![e];
            all.extend(dns_problems);
            return Err(Error::InvalidMany(all));
        }
    };
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
    // After the write, each step is tried even when the other failed: a DNS outage must not
    // keep a stack from starting. Failures keep the stack and name their retry commands.
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
    let done = done.join(" and ");
    if failed.is_empty() {
        return Ok(report);
    }
    let retry = failed.iter().map(|(_, step)| step.clone()).collect();
    let source = match failed.pop() {
        Some((only, _)) if failed.is_empty() => only,
        last => {
            let mut messages: Vec<String> = failed.iter().map(|(e, _)| e.to_string()).collect();
            messages.extend(last.map(|(e, _)| e.to_string()));
            Error::other(messages.join("; and "))
        }
    };
    Err(Error::Partial {
        done,
        source: Box::new(source),
        retry,
    })
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

/// Hide the stack's `.env` values in an error about it (the docker runner's gate already
/// hid them in what docker printed; this covers every other message). The stack's name,
/// which names its containers, stays shown.
fn scrubbed<T>(dir: &std::path::Path, result: Result<T>) -> Result<T> {
    result.map_err(|e| {
        let env = stack::read_in(dir, stack::ENV_FILE).unwrap_or_default();
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let gate = envfile::scrubber(&env, &[name]);
        e.scrub(&|text| gate.scrub(text).into_owned())
    })
}

/// A user's template is only known to be valid YAML and valid Compose once Compose has read
/// it: do that before anything is written. Without Compose (stackwiz may run on a host that
/// only writes stacks) the check is skipped; `start` would report the problem.
fn check_with_compose(ctx: &Ctx, plan: &stack::Plan, template: &std::path::Path) -> Result<()> {
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

// ---------------------------------------------------------------------------------------
// templates / init / config

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

// ---------------------------------------------------------------------------------------
// list / status

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
    let base = cfg
        .base_dir
        .canonicalize()
        .unwrap_or_else(|_| cfg.base_dir.clone());
    // The folder of a project whose compose files all lie directly in one folder of the base
    // dir: only such a project is a stack's (or an orphan). A project that also has files
    // elsewhere shares its name with something that is not ours.
    let in_base = |files: &str| -> Option<String> {
        let mut folder: Option<String> = None;
        for file in files.split(',') {
            let dir = std::path::Path::new(file).parent()?;
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
    let mut by_folder: std::collections::HashMap<String, &crate::docker::Project> =
        std::collections::HashMap::new();
    for p in projects.iter().flatten() {
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

// ---------------------------------------------------------------------------------------
// lifecycle

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

fn start_stack(ctx: &Ctx, name: &str, path: &std::path::Path) -> Result<(bool, String)> {
    start_with(ctx, &ctx.docker(), name, path)
}

/// Create the proxy network if the stack joins it and it is missing, then `up -d`. Compose
/// is looked for first, so a missing Compose changes nothing on the engine.
fn start_with(
    ctx: &Ctx,
    docker: &Docker,
    name: &str,
    path: &std::path::Path,
) -> Result<(bool, String)> {
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

// ---------------------------------------------------------------------------------------
// remove

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
    let trash = stack::prepare_removal(&ctx.cfg, &meta, req.purge)?;
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
        None => stack::purge(&meta).map(|()| None),
        Some(trash) => stack::trash(trash, &meta).map(Some),
    };
    if moved.is_err() {
        if let Some(t) = trash {
            t.discard();
        }
    }
    let trashed_to = moved.map_err(|e| {
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
    })?;
    let mut report = Removed {
        name: meta.name.clone(),
        trashed_to,
        purged: req.purge,
        volumes_removed: req.volumes,
        dns: None,
        orphan: false,
    };
    let Some(domain) = meta
        .domain
        .as_deref()
        .filter(|d| !req.keep_dns && crate::ops::dns::zone_could_exist(d))
    else {
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
