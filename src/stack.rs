//! Stack folders on disk: planning a new stack (validate and render, no writes), writing it
//! atomically, finding existing stacks, and moving one to the trash.
//!
//! A stack is the folder `{base_dir}/{name}` holding `docker-compose.yml` and `.env`. A new
//! one is built in a hidden temporary folder inside the base dir and moved into place with a
//! no-replace rename: an existing stack is never touched, of concurrent creates exactly one
//! wins, and a failure at any step leaves nothing behind. Nothing here talks to docker.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::envfile;
use crate::error::{Error, Result};
use crate::perms::{self, Owner};
use crate::template::{self, Vars};
use crate::validate;

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
    match validate::stack_name(&req.name) {
        // Checked again, race-free, when the stack is moved into place.
        Ok(()) => match refuse_existing(&req.name, &cfg.base_dir.join(&req.name)) {
            Err(e @ Error::StackExists { .. }) => problems.push(e),
            // Not a problem with the request: the base dir itself is unusable.
            Err(e) => return Err(e),
            Ok(()) => {}
        },
        Err(e) => problems.push(e),
    }
    let kind = match template::find(cfg, &req.kind) {
        Ok(k) => Some(k),
        Err(e @ Error::Invalid { .. }) => {
            problems.push(e);
            None
        }
        Err(e) => return Err(e),
    };
    let spec = kind.as_ref().map(|k| k.spec);
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
    let domain = domain_of(cfg, req);
    if req.domain.is_some() || validate::stack_name(&req.name).is_ok() {
        problems.extend((validate::domain("domain", &domain)).err());
    }
    for (key, value) in &req.env {
        problems
            .extend((validate::env_key(key).and_then(|()| validate::env_value(key, value))).err());
    }
    if let Some(k) = &kind {
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
    let body = template::render(&kind.compose, &vars)?;
    let compose = format!("{HEADER_PREFIX} type={} domain={domain}\n{body}", kind.name);
    // What Compose would refuse in the template's `.env` is refused here, naming the line.
    let env = match &kind.env {
        Some(t) => envfile::with_overrides(&t.origin, &template::render(t, &vars)?, &req.env)?,
        None => envfile::with_overrides("", "", &req.env)?,
    };
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
        cfg.base_dir.clone()
    } else {
        std::env::temp_dir()
    };
    let dir = parent.join(format!(
        "{TMP_PREFIX}{}-{}-{}",
        plan.name,
        std::process::id(),
        nanos()
    ));
    fs::create_dir(&dir).map_err(|e| Error::io("create folder", &dir, e))?;
    let result = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io("set the mode of", &dir, e))
        .and_then(|()| write_file(&dir.join(COMPOSE_FILE), &plan.compose, 0o600))
        .and_then(|()| write_file(&dir.join(ENV_FILE), &plan.env, 0o600))
        .and_then(|()| check(&dir));
    let _ = fs::remove_dir_all(&dir);
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
    let tmp = cfg.base_dir.join(format!(
        "{TMP_PREFIX}{}-{}-{}",
        plan.name,
        std::process::id(),
        nanos()
    ));
    let result = build(&tmp, plan).and_then(|()| move_into_place(&tmp, &plan.path, &plan.name));
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// Hidden folders where new stacks are built: `.stackwiz-new-NAME-PID-NANOS`.
const TMP_PREFIX: &str = ".stackwiz-new-";

/// Remove build folders left by a create that was killed (its process gone, the folder an
/// hour old), so an interrupted create leaves nothing behind for long.
fn sweep_abandoned(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TMP_PREFIX)) else {
            continue;
        };
        let pid = rest.rsplit('-').nth(1).and_then(|p| p.parse::<u32>().ok());
        // An hour old and its process gone: a create in another PID namespace (stackwiz in a
        // container sharing the base dir) looks gone from here but is never that slow.
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 3600);
        if let (Some(pid), true) = (pid, old) {
            if Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

fn build(tmp: &Path, plan: &Plan) -> Result<()> {
    make_dir(tmp)?;
    write_file(&tmp.join(COMPOSE_FILE), &plan.compose, 0o644)?;
    write_file(&tmp.join(ENV_FILE), &plan.env, 0o640)?;
    for folder in &plan.folders {
        make_dir(&tmp.join(folder))?;
    }
    perms::apply(tmp, plan.owner)
}

fn make_dir(path: &Path) -> Result<()> {
    fs::create_dir(path).map_err(|e| Error::io("create folder", path, e))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o750))
        .map_err(|e| Error::io("set the mode of", path, e))
}

fn write_file(path: &Path, text: &str, mode: u32) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("write", path, e))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("set the mode of", path, e))
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

/// `renameat2(RENAME_NOREPLACE)`: fails if anything (a folder, a file, a symlink) is there.
fn move_into_place(tmp: &Path, dest: &Path, name: &str) -> Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes()).map_err(|_| Error::invalid("path", "contains NUL"))
    };
    let (from, to) = (c(tmp)?, c(dest)?);
    // SAFETY: both are valid NUL-terminated paths that live across the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EEXIST) | Some(libc::ENOTEMPTY) => Err(Error::StackExists {
            name: name.to_string(),
            path: dest.to_path_buf(),
        }),
        // Filesystems without RENAME_NOREPLACE: claim the name with mkdir (atomic, fails if
        // anything is there), then move the contents in.
        Some(libc::EINVAL) | Some(libc::ENOSYS) => {
            fs::create_dir(dest).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Error::StackExists {
                    name: name.to_string(),
                    path: dest.to_path_buf(),
                },
                _ => Error::io("create folder", dest, e),
            })?;
            let moved = (|| {
                for entry in fs::read_dir(tmp).map_err(|e| Error::io("read", tmp, e))? {
                    let entry = entry.map_err(|e| Error::io("read", tmp, e))?;
                    fs::rename(entry.path(), dest.join(entry.file_name()))
                        .map_err(|e| Error::io("move", entry.path(), e))?;
                }
                let meta = fs::symlink_metadata(tmp).map_err(|e| Error::io("inspect", tmp, e))?;
                fs::set_permissions(dest, meta.permissions())
                    .map_err(|e| Error::io("set the mode of", dest, e))?;
                std::os::unix::fs::lchown(
                    dest,
                    Some(std::os::unix::fs::MetadataExt::uid(&meta)),
                    Some(std::os::unix::fs::MetadataExt::gid(&meta)),
                )
                .map_err(|e| Error::io("set the owner of", dest, e))?;
                fs::remove_dir(tmp).map_err(|e| Error::io("remove", tmp, e))
            })();
            if moved.is_err() {
                let _ = fs::remove_dir_all(dest);
            }
            moved
        }
        _ => Err(Error::io("move the new stack to", dest, err)),
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
    let entries = match fs::read_dir(&cfg.base_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read the base dir", &cfg.base_dir, e)),
    };
    let mut stacks = Vec::new();
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(String::from) else {
            continue;
        };
        if validate::stack_name(&name).is_err() {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if let Some(meta) = read_meta(&name, &entry.path()) {
            stacks.push(meta);
        }
    }
    stacks.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stacks)
}

fn read_meta(name: &str, path: &Path) -> Option<StackMeta> {
    let text = fs::read_to_string(path.join(COMPOSE_FILE)).ok()?;
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
    Some(meta)
}

/// The folder of the existing stack `name`: a real folder (not a symlink) directly inside
/// the base dir holding a compose file.
pub fn locate(cfg: &Config, name: &str) -> Result<StackMeta> {
    validate::stack_name(name)?;
    let path = cfg.base_dir.join(name);
    let not_found = || Error::StackNotFound {
        name: name.to_string(),
        path: path.clone(),
    };
    let meta = fs::symlink_metadata(&path).map_err(|_| not_found())?;
    if meta.file_type().is_symlink() {
        return Err(Error::other(format!(
            "{} is a symlink, not a stack folder; stackwiz only manages real folders inside {}",
            path.display(),
            cfg.base_dir.display()
        )));
    }
    if !meta.is_dir() {
        return Err(not_found());
    }
    read_meta(name, &path).ok_or_else(|| {
        Error::with_hint(
            format!(
                "{} has no {COMPOSE_FILE}, so it is not a stack",
                path.display()
            ),
            "stackwiz only manages folders it created (or that hold a docker-compose.yml)",
        )
    })
}

/// Move a stack folder to `{base_dir}/.trash/NAME-<UTC timestamp>`; returns the new path.
pub fn trash(cfg: &Config, stack: &StackMeta) -> Result<PathBuf> {
    let trash = cfg.trash_dir();
    fs::create_dir_all(&trash).map_err(|e| Error::io("create the trash folder", &trash, e))?;
    let _ = fs::set_permissions(&trash, fs::Permissions::from_mode(0o700));
    let mut dest = trash.join(format!("{}-{}", stack.name, utc_stamp()));
    let mut n = 1;
    while fs::symlink_metadata(&dest).is_ok() {
        n += 1;
        dest = trash.join(format!("{}-{}-{n}", stack.name, utc_stamp()));
    }
    fs::rename(&stack.path, &dest).map_err(|e| Error::io("move the stack to", &dest, e))?;
    Ok(dest)
}

/// Delete a stack folder for good (`remove --purge`).
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
