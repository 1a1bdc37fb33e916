//! Stack folders on disk: planning a new stack (validate and render, no writes), writing it
//! atomically, finding existing stacks, and moving one to the trash.
//!
//! A stack is the folder `{base_dir}/{name}` holding `docker-compose.yml` and `.env`. A new
//! one is built in a hidden temporary folder inside the base dir and moved into place with a
//! no-replace rename: an existing stack is never touched, of concurrent creates exactly one
//! wins, and a failure at any step leaves nothing behind. Nothing here talks to docker.
//!
//! Every file below the base dir is made and read through `files` (directory handles, no
//! symlink followed). A build folder's name records its creator (PID, start time, PID
//! namespace): SIGINT/SIGTERM remove the folders of this process ([`abandon_builds`]), and
//! the next run sweeps one whose creator is gone ([`sweep_abandoned`]).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustix::fs::FileType;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::envfile;
use crate::error::{Error, Result};
use crate::files::{self, Dir, RenameError};
use crate::ops::{Hint, Next};
use crate::perms::{self, Owner};
use crate::template::{self, Vars};
use crate::validate;
use crate::validate::TRASH_DIR;

pub const COMPOSE_FILE: &str = "docker-compose.yml";
pub const ENV_FILE: &str = ".env";
/// The first line of every compose file we write; `scan` reads type and domain back from it.
const HEADER_PREFIX: &str = "# stackwiz:";

/// What to create. Shared by the CLI (`stackwiz create`) and MCP (`create_stack`,
/// `validate_stack`); the MCP names `auto_start`, `create_dns` and `environment` are aliases.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub name: String,
    #[serde(rename = "type", default = "default_type")]
    pub kind: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub port: Option<u32>,
    #[serde(default)]
    pub host_port: Option<u32>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default, alias = "environment")]
    pub env: BTreeMap<String, String>,
    #[serde(default, alias = "auto_start")]
    pub start: bool,
    #[serde(default, alias = "create_dns")]
    pub dns: bool,
}

fn default_type() -> String {
    "generic".into()
}

/// A validated, rendered stack, ready to write. Holds `.env` text, which may hold secrets:
/// show it only through [`envfile::redact`].
#[derive(Debug)]
pub struct Plan {
    pub name: String,
    pub kind: String,
    pub domain: String,
    pub image: Option<String>,
    pub port: Option<u16>,
    pub host_port: Option<u16>,
    pub path: PathBuf,
    pub compose: String,
    pub env: String,
    pub folders: Vec<String>,
    pub owner: Owner,
    /// The user's compose template file, when the type did not come embedded (embedded
    /// templates are checked by the test suite; a user's is checked by Compose at create).
    pub template_file: Option<PathBuf>,
}

impl Plan {
    /// The paths the stack will hold, relative to its folder.
    pub fn files(&self) -> Vec<String> {
        let mut files = vec![COMPOSE_FILE.to_string(), ENV_FILE.to_string()];
        files.extend(self.folders.iter().map(|f| format!("{f}/")));
        files
    }
}

/// Validate every input and render the templates. Writes nothing. Returns every problem
/// found (not just the first), so `validate_stack` can report them all.
pub fn plan(cfg: &Config, req: &CreateRequest) -> Result<Plan> {
    let mut problems = Vec::new();
    check_name(cfg, req, &mut problems)?;
    let kind = match template::find(cfg, &req.kind) {
        Ok(k) => Some(k),
        Err(e @ Error::Invalid { .. }) => {
            problems.push(e);
            None
        }
        Err(e) => return Err(e),
    };
    let spec = kind.as_ref().map(|k| k.spec);
    let image = image_of(req, spec, &mut problems);
    let (port, host_port) = ports_of(req, spec, &mut problems);
    let domain = domain_of(cfg, req);
    if req.domain.is_some() || validate::stack_name(&req.name).is_ok() {
        problems.extend((validate::domain("domain", &domain)).err());
    }
    check_env(req, kind.as_ref(), &mut problems);
    let owner = match perms::resolve(&cfg.default_user, &cfg.default_group) {
        Ok(o) => Some(o),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let (Some(kind), Some(owner), true) = (kind, owner, problems.is_empty()) else {
        return Err(one_or_many(problems));
    };
    let vars = Vars {
        name: req.name.clone(),
        service_name: req.name.clone(),
        kind: kind.name.clone(),
        domain: domain.clone(),
        image: image.clone(),
        port,
        host_port,
        network: cfg.network.clone(),
        entrypoint: cfg.entrypoint.clone(),
        certresolver: cfg.certresolver.clone(),
    };
    let (compose, env) = render(req, &kind, &vars)?;
    Ok(Plan {
        path: cfg.base_dir.join(&req.name),
        name: req.name.clone(),
        kind: kind.name.clone(),
        domain,
        image,
        port,
        host_port,
        compose,
        env,
        folders: kind.spec.folders.iter().map(|s| s.to_string()).collect(),
        owner,
        template_file: kind.compose.path.clone(),
    })
}

/// A valid stack name no stack has yet. A base dir that cannot be looked at is no problem
/// with the request: that error ends the plan.
fn check_name(cfg: &Config, req: &CreateRequest, problems: &mut Vec<Error>) -> Result<()> {
    match validate::stack_name(&req.name) {
        // Checked again, race-free, when the stack is moved into place.
        Ok(()) => match refuse_existing(&req.name, &cfg.base_dir.join(&req.name)) {
            Err(e @ Error::StackExists { .. }) => problems.push(e),
            Err(e) => return Err(e),
            Ok(()) => {}
        },
        Err(e) => problems.push(e),
    }
    Ok(())
}

/// The image: as given, else the type's default; required by some types.
fn image_of(
    req: &CreateRequest,
    spec: Option<template::Spec>,
    problems: &mut Vec<Error>,
) -> Option<String> {
    let image = req
        .image
        .clone()
        .or_else(|| spec.and_then(|s| s.image.map(String::from)));
    match &image {
        Some(i) => problems.extend((validate::image(i)).err()),
        None if spec.is_some_and(|s| s.needs_image) => problems.push(Error::invalid(
            "image",
            format!("type `{}` needs an image (--image / image)", req.kind),
        )),
        None => {}
    }
    image
}

/// The container port and the host port: as given where the type takes them, else the
/// type's defaults (a type that publishes one uses the container port on the host).
fn ports_of(
    req: &CreateRequest,
    spec: Option<template::Spec>,
    problems: &mut Vec<Error>,
) -> (Option<u16>, Option<u16>) {
    let kind_name = &req.kind;
    if req.port.is_some() && spec.is_some_and(|s| !s.takes_port) {
        problems.push(Error::invalid(
            "port",
            format!("type `{kind_name}` does not take a port (its port is fixed by the template)"),
        ));
    }
    if req.host_port.is_some() && spec.is_some_and(|s| !s.takes_host_port) {
        problems.push(Error::invalid(
            "host_port",
            format!("type `{kind_name}` publishes no host port; use the type standalone for that"),
        ));
    }
    let mut port = spec.and_then(|s| s.port);
    match req.port.map(|p| validate::port("port", p)) {
        Some(Ok(p)) => port = Some(p),
        Some(Err(e)) => problems.push(e),
        None if port.is_none() && spec.is_some_and(|s| s.needs_port) => {
            problems.push(Error::invalid(
                "port",
                format!(
                    "type `{}` needs the container port (--port / port)",
                    req.kind
                ),
            ))
        }
        None => {}
    }
    let mut host_port = None;
    if let Some(p) = req.host_port {
        match validate::port("host_port", p) {
            Ok(p) => host_port = Some(p),
            Err(e) => problems.push(e),
        }
    } else if spec.is_some_and(|s| s.host_port) {
        host_port = port;
    }
    (port, host_port)
}

/// Every `--env` key and value valid, and every key the type requires given.
fn check_env(req: &CreateRequest, kind: Option<&template::Kind>, problems: &mut Vec<Error>) {
    for (key, value) in &req.env {
        problems
            .extend((validate::env_key(key).and_then(|()| validate::env_value(key, value))).err());
    }
    if let Some(k) = kind {
        for key in k.spec.required_env {
            if !req.env.contains_key(*key) {
                problems.push(Error::invalid(
                    "env",
                    format!(
                        "type `{}` needs {key} (--env {key}=... / environment)",
                        k.name
                    ),
                ));
            }
        }
    }
}

/// The compose file (with the header `scan` reads back) and the `.env` text.
fn render(req: &CreateRequest, kind: &template::Kind, vars: &Vars) -> Result<(String, String)> {
    let body = template::render(&kind.compose, vars)?;
    let compose = format!(
        "{HEADER_PREFIX} type={} domain={}\n{body}",
        kind.name, vars.domain
    );
    // What Compose would refuse in the template's `.env` is refused here, naming the line.
    let env = match &kind.env {
        Some(t) => envfile::with_overrides(&t.origin, &template::render(t, vars)?, &req.env)?,
        None => envfile::with_overrides("", "", &req.env)?,
    };
    Ok((compose, env))
}

/// Write the plan's compose file and `.env` into a private scratch folder, hand it to
/// `check`, and remove it again: for checks that need the files on disk before the stack is
/// created (or in a dry run, without creating it).
pub fn with_scratch_copy<T>(
    cfg: &Config,
    plan: &Plan,
    check: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    // Inside the base dir, named like a build folder: the `.env` (secrets) stays where the
    // stack would live, and a killed run's copy is swept like any abandoned build.
    let parent = if cfg.base_dir.is_dir() {
        sweep_abandoned(&cfg.base_dir);
        cfg.base_dir.clone()
    } else {
        std::env::temp_dir()
    };
    let parent = Dir::open(&parent)?;
    let build = Building::start(&parent, &plan.name, 0o700)?;
    let result = build
        .dir
        .create_file(COMPOSE_FILE, plan.compose.as_bytes(), 0o600, None)
        .and_then(|()| {
            build
                .dir
                .create_file(ENV_FILE, plan.env.as_bytes(), 0o600, None)
        })
        .and_then(|()| check(&build.path));
    drop(build);
    result
}

/// The stack's hostname: `--domain`, else NAME.DEFAULT_DOMAIN.
pub fn domain_of(cfg: &Config, req: &CreateRequest) -> String {
    req.domain
        .clone()
        .unwrap_or_else(|| format!("{}.{}", req.name, cfg.default_domain))
}

pub fn one_or_many(mut problems: Vec<Error>) -> Error {
    if problems.len() == 1 {
        problems.remove(0)
    } else {
        Error::InvalidMany(problems)
    }
}

/// Write a planned stack: build it in a temporary folder inside the base dir, then move it
/// into place without replacing anything.
pub fn write(cfg: &Config, plan: &Plan) -> Result<()> {
    refuse_existing(&plan.name, &plan.path)?;
    if !cfg.base_dir.exists() {
        fs::create_dir_all(&cfg.base_dir)
            .map_err(|e| Error::io("create the base dir", &cfg.base_dir, e))?;
    }
    sweep_abandoned(&cfg.base_dir);
    let base = Dir::open(&cfg.base_dir)?;
    // Private (0700, ours) while it is built: nobody else can enter it or plant anything.
    let build = Building::start(&base, &plan.name, 0o700)?;
    fill(&build.dir, plan)?;
    build.finish(&base, &plan.name, &plan.path)
}

/// Hidden folders where new stacks are built: `.stackwiz-new-NAME-OWNER-NANOS`, where OWNER
/// is `PID.START.PIDNS` (the creating process, its start time and its PID namespace), so a
/// later run can tell for sure that the creator is gone. Older folders carry the PID alone.
const TMP_PREFIX: &str = ".stackwiz-new-";

/// Build folders of this process that are not finished yet: a SIGINT or SIGTERM removes them
/// (see [`abandon_builds`]) before the process exits.
static BUILDS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn builds() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    BUILDS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Remove every unfinished build folder of this process, for a signal handler that is about
/// to exit: the registry stays locked, so no build is moved into place afterwards.
pub fn abandon_builds() {
    let guard = builds();
    for path in guard.iter() {
        let _ = fs::remove_dir_all(path);
    }
    std::mem::forget(guard);
}

/// A build folder being filled. Dropped unfinished (an error, a panic), it is removed.
struct Building {
    dir: Dir,
    name: String,
    path: PathBuf,
    parent: Dir,
}

impl Building {
    fn start(parent: &Dir, stack: &str, bits: u32) -> Result<Building> {
        let name = format!("{TMP_PREFIX}{stack}-{}-{}", owner_tag(), nanos());
        let path = parent.join(&name);
        // Registered before it exists: a signal in between finds nothing to remove.
        builds().push(path.clone());
        let dir = match parent.create_dir(&name, bits) {
            Ok(d) => d,
            Err(e) => {
                builds().retain(|p| p != &path);
                return Err(e);
            }
        };
        Ok(Building {
            dir,
            name,
            path,
            parent: parent.try_clone()?,
        })
    }

    /// Move the build folder to `dest_name` in `base` without replacing anything, with the
    /// registry locked so a signal cannot remove the folder halfway through the move.
    fn finish(self, base: &Dir, dest_name: &str, dest: &Path) -> Result<()> {
        let mut registry = builds();
        let moved = files::rename_noreplace(&self.parent, &self.name, base, dest_name);
        if moved.is_ok() {
            registry.retain(|p| p != &self.path);
        }
        drop(registry);
        match moved {
            // Someone who may write in the base dir could swap folders around: make sure the
            // folder now in place is the one we built.
            Ok(()) if base.holds(dest_name, &self.dir) => Ok(()),
            Ok(()) => Err(Error::other(format!(
                "{} changed while it was moved into place; check the base dir for intruders",
                dest.display()
            ))),
            Err(RenameError::Exists) => Err(Error::StackExists {
                name: dest_name.to_string(),
                path: dest.to_path_buf(),
            }),
            Err(RenameError::Other(e)) => Err(Error::io("move the new stack to", dest, e)),
        }
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        let mut registry = builds();
        if registry.contains(&self.path) {
            let _ = self.parent.remove_all(&self.name);
            registry.retain(|p| p != &self.path);
        }
    }
}

/// `PID.START.PIDNS` for this process, or the PID alone where /proc cannot tell more.
fn owner_tag() -> String {
    let pid = std::process::id();
    match (start_time(pid), pid_namespace()) {
        (Some(start), Some(ns)) => format!("{pid}.{start}.{ns}"),
        _ => pid.to_string(),
    }
}

/// A process's start time (clock ticks after boot, field 22 of /proc/PID/stat): with the
/// PID it names one process, even after the PID is reused.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count after the last `)`.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// The inode of this process's PID namespace: PIDs are comparable only within one.
fn pid_namespace() -> Option<u64> {
    let link = fs::read_link("/proc/self/ns/pid").ok()?;
    link.to_str()?
        .strip_prefix("pid:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Whether the build folder `name` was left by a process that is gone: at once when its
/// owner tag names a process of this PID namespace that no longer runs; otherwise (an old
/// folder, or one made in another PID namespace such as a container sharing the base dir)
/// only when it is an hour old and its PID is not running here.
fn abandoned(name: &str, age: Option<std::time::Duration>) -> bool {
    let Some(rest) = name.strip_prefix(TMP_PREFIX) else {
        return false;
    };
    let Some(tag) = rest.rsplit('-').nth(1) else {
        return false;
    };
    let parts: Vec<u64> = tag.split('.').map_while(|p| p.parse().ok()).collect();
    let gone = |pid: u64| !Path::new(&format!("/proc/{pid}")).exists();
    if !Path::new("/proc/self").exists() {
        return false;
    }
    match parts[..] {
        [pid, start, ns] if pid_namespace() == Some(ns) => {
            u32::try_from(pid).map_or(true, |p| start_time(p) != Some(start))
        }
        [pid, ..] => gone(pid) && age.is_some_and(|a| a.as_secs() > 3600),
        [] => false,
    }
}

/// Remove build folders left by a create that was killed, so an interrupted create leaves
/// nothing behind for long. Runs before every create and in `list` and `remove`.
pub fn sweep_abandoned(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(String::from) else {
            continue;
        };
        if !name.starts_with(TMP_PREFIX) {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if abandoned(&name, age) {
            // std's remove_dir_all never follows a symlink, at the top or below.
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn fill(dir: &Dir, plan: &Plan) -> Result<()> {
    let owner = Some(plan.owner);
    dir.create_file(COMPOSE_FILE, plan.compose.as_bytes(), 0o644, owner)?;
    dir.create_file(ENV_FILE, plan.env.as_bytes(), 0o640, owner)?;
    for folder in &plan.folders {
        let sub = dir.create_dir(folder, 0o750)?;
        sub.set_owner(plan.owner)?;
        sub.set_mode(0o750)?;
    }
    dir.set_owner(plan.owner)?;
    dir.set_mode(0o750)
}

fn refuse_existing(name: &str, path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(_) => Err(Error::StackExists {
            name: name.to_string(),
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("inspect", path, e)),
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// An existing stack folder.
#[derive(Clone, Debug, Serialize)]
pub struct StackMeta {
    pub name: String,
    pub path: PathBuf,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub domain: Option<String>,
}

/// Every stack folder directly inside the base dir, sorted by name. Hidden and reserved
/// folders, symlinks and folders without a compose file are not stacks.
pub fn scan(cfg: &Config) -> Result<Vec<StackMeta>> {
    let base = match Dir::open(&cfg.base_dir) {
        Ok(d) => d,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new())
        }
        Err(Error::Io { source, .. }) => {
            return Err(Error::io("read the base dir", &cfg.base_dir, source))
        }
        Err(e) => return Err(e),
    };
    let mut stacks = Vec::new();
    for (name, kind) in base.entries()? {
        if validate::stack_name(&name).is_err() {
            continue;
        }
        // The folder entry's own type (no stat), unless the file system does not give one.
        let kind = match kind {
            FileType::Unknown => base.kind(&name).ok().flatten(),
            known => Some(known),
        };
        if kind != Some(FileType::Directory) {
            continue;
        }
        let Some(text) = base.read_beneath(&format!("{name}/{COMPOSE_FILE}")) else {
            continue;
        };
        stacks.push(read_meta(&name, &base.join(&name), &text));
    }
    stacks.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stacks)
}

fn read_meta(name: &str, path: &Path, text: &str) -> StackMeta {
    let mut meta = StackMeta {
        name: name.to_string(),
        path: path.to_path_buf(),
        kind: None,
        domain: None,
    };
    if let Some(header) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(HEADER_PREFIX))
    {
        for pair in header.split_whitespace() {
            match pair.split_once('=') {
                Some(("type", v)) => meta.kind = Some(v.to_string()),
                Some(("domain", v)) => meta.domain = Some(v.to_string()),
                _ => {}
            }
        }
    }
    if meta.domain.is_none() {
        // A stack written by hand or by the original wizard: take the Traefik rule's host.
        meta.domain = text
            .split("Host(`")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .filter(|d| validate::domain("domain", d).is_ok())
            .map(String::from);
    }
    meta
}

/// The folder of the existing stack `name`: a real folder (not a symlink) directly inside
/// the base dir holding a compose file (a real file, not a symlink).
pub fn locate(cfg: &Config, name: &str) -> Result<StackMeta> {
    locate_with_text(cfg, name).map(|(meta, _)| meta)
}

fn locate_with_text(cfg: &Config, name: &str) -> Result<(StackMeta, String)> {
    validate::stack_name(name)?;
    let path = cfg.base_dir.join(name);
    let not_found = || Error::StackNotFound {
        name: name.to_string(),
        path: path.clone(),
    };
    let base = Dir::open(&cfg.base_dir).map_err(|_| not_found())?;
    match base.kind(name)? {
        None => return Err(not_found()),
        Some(FileType::Symlink) => {
            return Err(Error::other(format!(
                "{} is a symlink, not a stack folder; stackwiz only manages real folders inside {}",
                path.display(),
                cfg.base_dir.display()
            )))
        }
        Some(FileType::Directory) => {}
        Some(_) => return Err(not_found()),
    }
    let text = match base.sub(name)?.read_to_string(COMPOSE_FILE) {
        Ok(text) => text,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::with_hint(
                format!(
                    "{} has no {COMPOSE_FILE}, so it is not a stack",
                    path.display()
                ),
                "stackwiz only manages folders it created (or that hold a docker-compose.yml)",
            ))
        }
        Err(e) => return Err(e),
    };
    Ok((read_meta(name, &path, &text), text))
}

/// The compose file of the stack `name` (for `stack://NAME/compose`), never through a symlink.
pub fn read_compose(cfg: &Config, name: &str) -> Result<String> {
    locate_with_text(cfg, name).map(|(_, text)| text)
}

/// The file `file` of the stack folder `stack_dir` (a path from [`locate`]), read without
/// following a symlink at the folder or the file.
pub fn read_in(stack_dir: &Path, file: &str) -> Result<String> {
    let (Some(parent), Some(name)) = (
        stack_dir.parent(),
        stack_dir.file_name().and_then(|n| n.to_str()),
    ) else {
        return Err(Error::other(format!(
            "{} is not a stack folder",
            stack_dir.display()
        )));
    };
    Dir::open(parent)?.sub(name)?.read_to_string(file)
}

/// The trash folder, opened and checked before anything is changed: it can be created, it
/// is a real folder (not a symlink), and it lies on the stack's filesystem.
pub struct Trash {
    base: Dir,
    dir: Dir,
    /// Made by [`prepare_removal`]: removed again by [`Trash::discard`].
    created: bool,
}

impl Trash {
    /// The remove did not happen: take back the trash folder if it was made for it (and is
    /// still empty), so a failure leaves nothing behind.
    pub fn discard(self) {
        if self.created {
            let _ = self.base.remove_empty_dir(TRASH_DIR);
        }
    }
}

/// Get everything `trash` needs ready, so that a `remove` that would fail to move the
/// folder fails before it takes any container down.
pub fn prepare_removal(cfg: &Config, stack: &StackMeta, purge: bool) -> Result<Option<Trash>> {
    let base = Dir::open(&cfg.base_dir)?;
    let folder = base.sub(&stack.name)?;
    if !base.writable() {
        let action = if purge { "delete" } else { "move to the trash" };
        if base.on_read_only_fs() {
            return Err(Error::Permission {
                message: format!(
                    "{} is on a read-only file system, so stackwiz cannot {action} stack {}; \
                     nothing was changed",
                    cfg.base_dir.display(),
                    stack.name
                ),
                hint: Some("remount it read-write, then try again".into()),
            });
        }
        return Err(Error::Permission {
            message: format!(
                "stackwiz may not change {} (no write permission), so it cannot {action} stack {}",
                cfg.base_dir.display(),
                stack.name
            ),
            hint: Some("run as the owner of the base dir, or as root".into()),
        });
    }
    if purge {
        return Ok(None);
    }
    let (dir, created) = base.ensure_dir(TRASH_DIR, 0o700)?;
    let trash = Trash { base, dir, created };
    let checked = check_trash(&trash, &folder, stack);
    if checked.is_err() {
        trash.discard();
        return checked.map(|()| None);
    }
    Ok(Some(trash))
}

fn check_trash(trash: &Trash, folder: &Dir, stack: &StackMeta) -> Result<()> {
    let dir = &trash.dir;
    // Private, as it holds `.env` files; an existing trash of another owner is still usable.
    let _ = dir.set_mode(0o700);
    if !dir.writable() {
        return Err(Error::Permission {
            message: format!(
                "stackwiz may not write in {}, so it cannot move stack {} there",
                dir.path().display(),
                stack.name
            ),
            hint: Some(
                Hint::from("fix the trash folder's owner, or delete the stack for good: ").then(
                    Next::Remove {
                        name: stack.name.clone(),
                        purge: true,
                        volumes: false,
                        keep_dns: false,
                    },
                ),
            ),
        });
    }
    if dir.device()? != folder.device()? {
        return Err(Error::with_hint(
            format!(
                "{} is on another filesystem than {}, so the stack cannot be moved there",
                dir.path().display(),
                stack.path.display()
            ),
            Hint::from("unmount or remove that trash folder, or delete the stack for good: ").then(
                Next::Remove {
                    name: stack.name.clone(),
                    purge: true,
                    volumes: false,
                    keep_dns: false,
                },
            ),
        ));
    }
    Ok(())
}

/// Move a stack folder to `{base_dir}/.trash/NAME-<UTC timestamp>`; returns the new path.
pub fn trash(trash: &Trash, stack: &StackMeta) -> Result<PathBuf> {
    let stamp = utc_stamp();
    for n in 1..1000 {
        let name = match n {
            1 => format!("{}-{stamp}", stack.name),
            n => format!("{}-{stamp}-{n}", stack.name),
        };
        match files::rename_noreplace(&trash.base, &stack.name, &trash.dir, &name) {
            Ok(()) => return Ok(trash.dir.join(&name)),
            Err(RenameError::Exists) => continue,
            Err(RenameError::Other(e)) => {
                return Err(Error::io("move the stack to", trash.dir.join(&name), e))
            }
        }
    }
    Err(Error::other(format!(
        "{} holds too many copies of {}",
        trash.dir.path().display(),
        stack.name
    )))
}

/// Delete a stack folder for good (`remove --purge`), never following a symlink.
pub fn purge(stack: &StackMeta) -> Result<()> {
    fs::remove_dir_all(&stack.path).map_err(|e| Error::io("delete", &stack.path, e))
}

/// `20261128T101500Z`.
pub fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_build_folder_whose_owner_is_gone_is_abandoned_at_once() {
        let me = owner_tag();
        assert_eq!(me.split('.').count(), 3, "{me}");
        let ns = pid_namespace().unwrap();
        let young = Some(Duration::from_secs(5));
        let old = Some(Duration::from_secs(7200));
        // Ours, still running: kept.
        assert!(!abandoned(&format!("{TMP_PREFIX}web-{me}-1"), old));
        // A PID of this namespace that runs no process (PIDs stop at 2^22): swept at once.
        let gone = format!("{TMP_PREFIX}web-4194305.12345.{ns}-1");
        assert!(abandoned(&gone, young));
        // Our PID, but another start time: the PID was reused, the owner is gone.
        let reused = format!("{TMP_PREFIX}a-b-{}.1.{ns}-1", std::process::id());
        assert!(abandoned(&reused, young));
        // Another PID namespace, or the old PID-only names: only after an hour.
        let foreign = format!("{TMP_PREFIX}web-4194305.12345.{}-1", ns + 1);
        assert!(!abandoned(&foreign, young));
        assert!(abandoned(&foreign, old));
        assert!(!abandoned(&format!("{TMP_PREFIX}web-4194305-1"), young));
        assert!(abandoned(&format!("{TMP_PREFIX}web-4194305-1"), old));
        assert!(!abandoned(
            &format!("{TMP_PREFIX}web-{}-1", std::process::id()),
            old
        ));
        assert!(!abandoned("web", old));
    }
}
