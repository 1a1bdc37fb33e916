//! The only place that spawns processes: `docker`, `docker compose` (or the standalone
//! `docker-compose`), nothing else.
//!
//! Every child gets stdin null. In `Stream::Capture` mode (`--json`, MCP) its stdout and
//! stderr are captured, so nothing can leak into our stdout; in `Stream::Terminal` mode long
//! operations show docker's own progress on our stderr as it comes (its stderr passes
//! through a pipe so its last lines are kept for the error). A failed call reports the exact
//! command line (shell-quoted, ready to paste), its exit status and docker's stderr.
//! `--context` (or DOCKER_CONTEXT, resolved by `config`) is passed to every docker call;
//! DOCKER_HOST reaches docker through the inherited environment.
//!
//! Compose is the v2 plugin when `docker compose` works, else a standalone `docker-compose`.
//! Read-only queries (`ps`, `compose ls`) call the plugin straight away and probe only when
//! that fails, so `list` stays one docker process however many stacks there are.

use std::cell::OnceCell;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ops::Stream;

const COMPOSE_HINT: &str = "install Compose v2 as a docker CLI plugin (Debian/Ubuntu: apt-get install \
                            docker-compose-plugin, or copy the docker-compose binary to \
                            ~/.docker/cli-plugins/docker-compose), or the standalone docker-compose";

/// How Compose is invoked here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Compose {
    /// `docker compose` (v2 plugin).
    Plugin,
    /// A standalone `docker-compose` program (v1, or v2 installed standalone).
    Standalone(PathBuf),
}

pub struct Docker {
    program: OsString,
    context: Option<String>,
    stream: Stream,
    compose: OnceCell<Compose>,
}

/// One service's container, from `docker compose ps`.
#[derive(Clone, Debug, Serialize)]
pub struct Service {
    pub service: String,
    pub container: String,
    pub state: String,
    pub health: Option<String>,
    pub status: String,
    pub image: String,
    pub ports: Vec<String>,
}

/// One project from `docker compose ls -a`.
#[derive(Clone, Debug, Deserialize)]
pub struct Project {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Status", default)]
    pub status: String,
    #[serde(rename = "ConfigFiles", default)]
    pub config_files: String,
}

impl Docker {
    pub fn new(cfg: &Config, stream: Stream) -> Docker {
        Docker {
            program: OsString::from(&cfg.docker),
            context: cfg.context.clone(),
            stream,
            compose: OnceCell::new(),
        }
    }

    /// `docker [--context C] ARGS`, stdin null.
    fn docker(&self) -> Command {
        #[allow(clippy::disallowed_methods)]
        let mut cmd = Command::new(&self.program);
        if let Some(c) = &self.context {
            cmd.arg("--context").arg(c);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Which Compose to use: the plugin if `docker compose version` works, else a standalone
    /// `docker-compose` on PATH. Probed once per `Docker`; `ps` and `projects` skip the probe
    /// (see [`Docker::plugin_first`]).
    pub fn compose_kind(&self) -> Result<&Compose> {
        if let Some(c) = self.compose.get() {
            return Ok(c);
        }
        let mut probe = self.docker();
        probe.args(["compose", "version"]);
        let found = match probe.output() {
            Ok(out) if out.status.success() => Compose::Plugin,
            Ok(out) if !plugin_missing(&String::from_utf8_lossy(&out.stderr)) => {
                // The plugin is there but broken (or docker itself is): say so, do not guess.
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                return Err(Error::Command {
                    command: command_line(&probe),
                    status: out.status.code(),
                    hint: self.hint_for(&stderr),
                    stderr,
                });
            }
            // No docker program: that is the problem to report. (A standalone docker-compose
            // would not help: status and list ask `docker` itself, and STACKWIZ_DOCKER named it.)
            Err(e) => return Err(self.spawn_error(&probe, e)),
            Ok(_) => match which::which("docker-compose") {
                Ok(path) => Compose::Standalone(path),
                Err(_) => return Err(Error::ProgramNotFound {
                    program:
                        "Docker Compose (neither the `docker compose` plugin nor `docker-compose`)"
                            .into(),
                    hint: COMPOSE_HINT.into(),
                }),
            },
        };
        Ok(self.compose.get_or_init(|| found))
    }

    /// Run a captured `docker compose ...` call straight away, without the probe, so the
    /// common case (the plugin is installed) costs one process: `list` over hundreds of
    /// stacks is one docker call. Only when it fails does the probe run, to tell "no plugin,
    /// use the standalone program" (`Ok(None)`) from a real failure (returned as is).
    fn plugin_first(&self, cmd: Command) -> Result<Option<Output>> {
        match self.compose.get() {
            Some(Compose::Plugin) => return self.run(cmd).map(Some),
            Some(Compose::Standalone(_)) => return Ok(None),
            None => {}
        }
        match self.run(cmd) {
            Ok(out) => {
                let _ = self.compose.set(Compose::Plugin);
                Ok(Some(out))
            }
            Err(e) => match self.compose_kind()? {
                Compose::Plugin => Err(e),
                Compose::Standalone(_) => Ok(None),
            },
        }
    }

    fn not_found(&self) -> Error {
        Error::ProgramNotFound {
            program: format!("docker program `{}`", self.program.to_string_lossy()),
            hint:
                "install Docker (Debian/Ubuntu: apt-get install docker.io), or set STACKWIZ_DOCKER \
                   to the docker program's path"
                    .into(),
        }
    }

    /// `docker compose -p NAME --project-directory DIR -f DIR/docker-compose.yml ARGS`.
    fn compose(&self, project: &str, dir: &Path) -> Result<Command> {
        let kind = self.compose_kind()?;
        Ok(self.compose_with(kind, project, dir))
    }

    fn compose_with(&self, kind: &Compose, project: &str, dir: &Path) -> Command {
        let mut cmd = match kind {
            Compose::Plugin => {
                let mut c = self.docker();
                c.arg("compose");
                c
            }
            Compose::Standalone(path) => {
                #[allow(clippy::disallowed_methods)]
                let mut c = Command::new(path);
                if let Some(ctx) = &self.context {
                    c.arg("--context").arg(ctx);
                }
                c.stdin(Stdio::null());
                c
            }
        };
        cmd.arg("-p").arg(project);
        cmd.arg("--project-directory").arg(dir);
        cmd.arg("-f").arg(dir.join(crate::stack::COMPOSE_FILE));
        cmd.current_dir(dir);
        cmd
    }

    /// Run and capture; a non-zero exit is an error.
    fn run(&self, mut cmd: Command) -> Result<Output> {
        let line = command_line(&cmd);
        let out = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| self.spawn_error(&cmd, e))?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(Error::Command {
                command: line,
                status: out.status.code(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                hint: self.hint_for(&String::from_utf8_lossy(&out.stderr)),
            })
        }
    }

    /// Run a long operation: docker's progress on the terminal in human mode, captured
    /// otherwise (returned so callers may report it).
    fn run_long(&self, cmd: Command) -> Result<String> {
        if self.stream == Stream::Capture {
            let out = self.run(cmd)?;
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            return Ok(text);
        }
        // Progress goes to our stderr, keeping stdout for results.
        let stdout = std::io::stderr()
            .as_fd_owned()
            .map_err(|e| Error::io("use", "stderr", e))?;
        self.run_shown(cmd, Stdio::from(stdout))?;
        Ok(String::new())
    }

    /// Run with docker's stderr passed through to ours as it comes, keeping its last lines
    /// for the error: a failure then names its reason (and gets its hint) in human mode too.
    fn run_shown(&self, mut cmd: Command, stdout: Stdio) -> Result<()> {
        use std::io::{Read, Write};
        const KEEP: usize = 16 * 1024;
        let line = command_line(&cmd);
        let mut child = cmd
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(&cmd, e))?;
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut err = std::io::stderr().lock();
                    let _ = err.write_all(&buf[..n]).and_then(|()| err.flush());
                    kept.extend_from_slice(&buf[..n]);
                    if kept.len() > KEEP {
                        kept.drain(..kept.len() - KEEP);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        drop(pipe);
        let status = child.wait().map_err(|e| self.spawn_error(&cmd, e))?;
        if status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&kept).into_owned();
        Err(Error::Command {
            command: line,
            status: status.code(),
            hint: self.hint_for(&stderr),
            stderr,
        })
    }

    fn spawn_error(&self, cmd: &Command, e: std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::NotFound {
            if cmd.get_program() == self.program {
                return self.not_found();
            }
            return Error::ProgramNotFound {
                program: cmd.get_program().to_string_lossy().into_owned(),
                hint: COMPOSE_HINT.into(),
            };
        }
        Error::Command {
            command: command_line(cmd),
            status: None,
            stderr: e.to_string(),
            hint: None,
        }
    }

    fn hint_for(&self, stderr: &str) -> Option<crate::ops::Hint> {
        if stderr.contains("Cannot connect to the Docker daemon")
            || stderr.contains("connect: no such file")
        {
            Some("is the Docker engine running? Check DOCKER_HOST / --context, then `stackwiz doctor`".into())
        } else if stderr.contains("permission denied") && stderr.contains("docker.sock") {
            Some("this user may not use the Docker socket: add it to the `docker` group or run as root".into())
        } else if stderr.contains("declared as external, but could not be found") {
            Some("create the network: stackwiz doctor --fix (or docker network create NAME)".into())
        } else {
            None
        }
    }

    pub fn up(&self, project: &str, dir: &Path) -> Result<String> {
        let mut cmd = self.compose(project, dir)?;
        cmd.args(["up", "-d"]);
        self.run_long(cmd)
    }

    pub fn pull(&self, project: &str, dir: &Path) -> Result<String> {
        let mut cmd = self.compose(project, dir)?;
        cmd.arg("pull");
        self.run_long(cmd)
    }

    pub fn stop(&self, project: &str, dir: &Path) -> Result<String> {
        let mut cmd = self.compose(project, dir)?;
        cmd.arg("stop");
        self.run_long(cmd)
    }

    pub fn restart(&self, project: &str, dir: &Path) -> Result<String> {
        let mut cmd = self.compose(project, dir)?;
        cmd.arg("restart");
        self.run_long(cmd)
    }

    pub fn down(&self, project: &str, dir: &Path, volumes: bool) -> Result<String> {
        let mut cmd = self.compose(project, dir)?;
        cmd.args(["down", "--remove-orphans"]);
        if volumes {
            cmd.arg("-v");
        }
        self.run_long(cmd)
    }

    /// `docker compose config -q` on a stack folder: whether Compose accepts its files.
    pub fn config_check(&self, project: &str, dir: &Path) -> Result<()> {
        let mut cmd = self.compose(project, dir)?;
        cmd.args(["config", "-q"]);
        self.run(cmd).map(drop)
    }

    /// `docker compose -p NAME down` for a project whose folder is gone (an orphan): Compose
    /// v2 finds its containers (and, with `-v`, its volumes) by the project label, no compose
    /// file needed. Run from `/` without COMPOSE_FILE, so no compose file that Compose would
    /// find on its own (in our working folder or its parents) adds anything to the project.
    pub fn down_orphan(&self, project: &str, volumes: bool) -> Result<String> {
        let mut cmd = self.docker();
        cmd.current_dir("/").env_remove("COMPOSE_FILE");
        cmd.args(["compose", "-p", project, "down", "--remove-orphans"]);
        if volumes {
            cmd.arg("-v");
        }
        self.run_long(cmd)
    }

    /// `logs`: on the terminal (followed if asked) in human mode, captured otherwise.
    pub fn logs(
        &self,
        project: &str,
        dir: &Path,
        tail: u32,
        follow: bool,
        since: Option<&str>,
    ) -> Result<String> {
        let mut cmd = self.compose(project, dir)?;
        cmd.args(["logs", "--no-color", "--tail"])
            .arg(tail.to_string());
        if let Some(s) = since {
            if let Compose::Standalone(path) = self.compose_kind()? {
                return Err(Error::with_hint(
                    format!(
                        "--since needs Compose v2; {} (v1) has no such option",
                        path.display()
                    ),
                    "install the Compose v2 plugin, or drop --since and use --tail",
                ));
            }
            cmd.arg("--since").arg(s);
        }
        if follow {
            cmd.arg("--follow");
        }
        if self.stream == Stream::Terminal {
            self.run_shown(cmd, Stdio::inherit())?;
            return Ok(String::new());
        }
        let out = self.run(cmd)?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(text)
    }

    /// The containers of a project, running or not.
    pub fn ps(&self, project: &str, dir: &Path) -> Result<Vec<Service>> {
        let mut cmd = self.compose_with(&Compose::Plugin, project, dir);
        cmd.args(["ps", "-a", "--format", "json"]);
        if let Some(out) = self.plugin_first(cmd)? {
            return parse_ps(&String::from_utf8_lossy(&out.stdout));
        }
        // v1 has no JSON output: ask the engine for the project's containers instead.
        let out = self.containers(&format!("label=com.docker.compose.project={project}"))?;
        parse_docker_ps(&out)
    }

    /// Every Compose project the engine knows (`docker compose ls -a`), in one call.
    pub fn projects(&self) -> Result<Vec<Project>> {
        let mut cmd = self.docker();
        cmd.args(["compose", "ls", "-a", "--format", "json"]);
        if let Some(out) = self.plugin_first(cmd)? {
            return parse_ls(&String::from_utf8_lossy(&out.stdout));
        }
        let out = self.containers("label=com.docker.compose.project")?;
        Ok(projects_from_docker_ps(&out))
    }

    /// `docker ps -a` as JSON lines, for the containers matching `filter` (one call).
    fn containers(&self, filter: &str) -> Result<String> {
        let mut cmd = self.docker();
        cmd.args([
            "ps",
            "-a",
            "--no-trunc",
            "--format",
            "{{json .}}",
            "--filter",
            filter,
        ]);
        let out = self.run(cmd)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn network_exists(&self, name: &str) -> Result<bool> {
        let mut cmd = self.docker();
        cmd.args(["network", "ls", "--format", "{{.Name}}", "--filter"])
            .arg(format!("name=^{name}$"));
        let out = self.run(cmd)?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim() == name))
    }

    pub fn network_create(&self, name: &str) -> Result<()> {
        let mut cmd = self.docker();
        cmd.args(["network", "create", name]);
        match self.run(cmd) {
            Ok(_) => Ok(()),
            // Created by someone else in between: that is what we wanted.
            Err(Error::Command { stderr, .. }) if stderr.contains("already exists") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Create the network if missing; true when it was created.
    pub fn ensure_network(&self, name: &str) -> Result<bool> {
        if self.network_exists(name)? {
            return Ok(false);
        }
        self.network_create(name)?;
        Ok(true)
    }

    /// The engine's version, or the error saying why it cannot be reached.
    pub fn server_version(&self) -> Result<String> {
        let mut cmd = self.docker();
        cmd.args(["version", "--format", "{{.Server.Version}}"]);
        let out = self.run(cmd)?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The Compose version string.
    pub fn compose_version(&self) -> Result<String> {
        let cmd = match self.compose_kind()? {
            Compose::Plugin => {
                let mut c = self.docker();
                c.args(["compose", "version", "--short"]);
                c
            }
            Compose::Standalone(path) => {
                #[allow(clippy::disallowed_methods)]
                let mut c = Command::new(path);
                c.arg("version").arg("--short").stdin(Stdio::null());
                c
            }
        };
        let out = self.run(cmd)?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The docker program's full path, if it can be found.
    pub fn program_path(&self) -> Option<PathBuf> {
        which::which(&self.program).ok()
    }

    /// Whether a network is attached to a container (`docker inspect`), for checks and tests.
    pub fn container_networks(&self, container: &str) -> Result<Vec<String>> {
        let mut cmd = self.docker();
        cmd.args([
            "inspect",
            "--format",
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}\n{{end}}",
            container,
        ]);
        let out = self.run(cmd)?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect())
    }
}

trait AsFdOwned {
    fn as_fd_owned(&self) -> std::io::Result<std::os::fd::OwnedFd>;
}

impl AsFdOwned for std::io::Stderr {
    fn as_fd_owned(&self) -> std::io::Result<std::os::fd::OwnedFd> {
        use std::os::fd::AsFd;
        self.as_fd().try_clone_to_owned()
    }
}

/// Whether a failed `docker compose ...` means the plugin is not installed: docker then
/// takes `compose` for an unknown command (`unknown command: docker compose`, or `'compose'
/// is not a docker command` before Docker 28), or tries to parse compose's flags as its own.
fn plugin_missing(stderr: &str) -> bool {
    stderr.contains("unknown command")
        || stderr.contains("is not a docker command")
        || stderr.contains("unknown shorthand flag")
        || stderr.contains("unknown flag")
}

/// `docker compose ls --format json`: one JSON array (empty output when there is nothing).
fn parse_ls(text: &str) -> Result<Vec<Project>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text)
        .map_err(|e| Error::other(format!("cannot read `docker compose ls` output: {e}")))
}

/// One label's value from `docker ps`'s `Labels` column (`k=v,k2=v2`). A value may itself
/// hold commas (`config_files` of a multi-file project): a piece without `=` belongs to the
/// value before it.
fn label(labels: &str, key: &str) -> String {
    let mut found: Option<String> = None;
    for piece in labels.split(',') {
        match (&mut found, piece.split_once('=')) {
            (Some(_), Some(_)) => break,
            (Some(value), None) => {
                value.push(',');
                value.push_str(piece);
            }
            (None, Some((k, v))) if k == key => found = Some(v.to_string()),
            (None, _) => {}
        }
    }
    found.unwrap_or_default()
}

/// `docker compose ps --format json`: a JSON array (Compose < 2.21) or one object per line.
pub fn parse_ps(text: &str) -> Result<Vec<Service>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<serde_json::Value> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(bad_json)?
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<std::result::Result<_, _>>()
            .map_err(bad_json)?
    };
    Ok(values.iter().map(service_from_compose).collect())
}

fn bad_json(e: serde_json::Error) -> Error {
    Error::other(format!("cannot read docker's JSON output: {e}"))
}

fn s(v: &serde_json::Value, key: &str) -> String {
    v.get(key)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string()
}

fn service_from_compose(v: &serde_json::Value) -> Service {
    let mut ports = Vec::new();
    if let Some(publishers) = v.get("Publishers").and_then(|p| p.as_array()) {
        for p in publishers {
            let target = p.get("TargetPort").and_then(|x| x.as_u64()).unwrap_or(0);
            let published = p.get("PublishedPort").and_then(|x| x.as_u64()).unwrap_or(0);
            let proto = p.get("Protocol").and_then(|x| x.as_str()).unwrap_or("tcp");
            let entry = if published > 0 {
                let url = p.get("URL").and_then(|x| x.as_str()).unwrap_or("0.0.0.0");
                // IPv6 in brackets, as `docker ps` shows it: [::]:8080->80/tcp.
                let url = if url.contains(':') {
                    format!("[{url}]")
                } else {
                    url.to_string()
                };
                format!("{url}:{published}->{target}/{proto}")
            } else {
                format!("{target}/{proto}")
            };
            if !ports.contains(&entry) {
                ports.push(entry);
            }
        }
    }
    let health = s(v, "Health");
    Service {
        service: s(v, "Service"),
        container: s(v, "Name"),
        state: s(v, "State"),
        health: (!health.is_empty()).then_some(health),
        status: s(v, "Status"),
        image: s(v, "Image"),
        ports,
    }
}

/// `docker ps --format '{{json .}}'` lines (used with standalone Compose).
fn parse_docker_ps(text: &str) -> Result<Vec<Service>> {
    let mut services = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(bad_json)?;
        let labels = s(&v, "Labels");
        let label = |key: &str| label(&labels, key);
        let status = s(&v, "Status");
        let health = ["healthy", "unhealthy", "starting"]
            .into_iter()
            .find(|h| {
                status.contains(&format!("({h})")) || status.contains(&format!("(health: {h})"))
            })
            .map(String::from);
        services.push(Service {
            service: label("com.docker.compose.service"),
            container: s(&v, "Names"),
            state: s(&v, "State"),
            health,
            status,
            image: s(&v, "Image"),
            ports: s(&v, "Ports")
                .split(", ")
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
        });
    }
    Ok(services)
}

fn projects_from_docker_ps(text: &str) -> Vec<Project> {
    let mut projects: Vec<(String, String, usize, usize)> = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let labels = s(&v, "Labels");
        let label = |key: &str| label(&labels, key);
        let name = label("com.docker.compose.project");
        let files = label("com.docker.compose.project.config_files");
        let running = usize::from(s(&v, "State") == "running");
        match projects.iter_mut().find(|p| p.0 == name) {
            Some(p) => {
                p.2 += running;
                p.3 += 1 - running;
            }
            None => projects.push((name, files, running, 1 - running)),
        }
    }
    projects
        .into_iter()
        .map(|(name, config_files, running, other)| {
            let mut parts = Vec::new();
            if running > 0 {
                parts.push(format!("running({running})"));
            }
            if other > 0 {
                parts.push(format!("exited({other})"));
            }
            Project {
                name,
                status: parts.join(", "),
                config_files,
            }
        })
        .collect()
}

/// The command line, shell-quoted so it can be pasted and rerun.
pub fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%^$".contains(c))
        && !s.contains('$')
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keep_commas_inside_values() {
        let labels = "com.docker.compose.project=app,com.docker.compose.project.config_files=/s/app/a.yml,/s/app/b.yml,com.docker.compose.service=web";
        assert_eq!(label(labels, "com.docker.compose.project"), "app");
        assert_eq!(
            label(labels, "com.docker.compose.project.config_files"),
            "/s/app/a.yml,/s/app/b.yml"
        );
        assert_eq!(label(labels, "com.docker.compose.service"), "web");
        assert_eq!(label(labels, "missing"), "");
    }

    #[test]
    fn ps_parses_both_shapes() {
        let array = r#"[{"Name":"app","Service":"app","State":"running","Health":"healthy","Status":"Up 2s (healthy)","Image":"nginx","Publishers":[{"URL":"0.0.0.0","TargetPort":80,"PublishedPort":8080,"Protocol":"tcp"},{"URL":"::","TargetPort":80,"PublishedPort":8080,"Protocol":"tcp"}]}]"#;
        let lines = "{\"Name\":\"a\",\"Service\":\"a\",\"State\":\"exited\",\"Health\":\"\",\"Image\":\"x\",\"Publishers\":null}\n{\"Name\":\"b\",\"Service\":\"b\",\"State\":\"running\",\"Image\":\"y\"}\n";
        let a = parse_ps(array).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].health.as_deref(), Some("healthy"));
        assert_eq!(a[0].ports, ["0.0.0.0:8080->80/tcp", "[::]:8080->80/tcp"]);
        let l = parse_ps(lines).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].state, "exited");
        assert_eq!(l[0].health, None);
        assert!(parse_ps("").unwrap().is_empty());
        assert!(parse_ps("not json").is_err());
    }

    #[test]
    fn docker_ps_lines_serve_the_standalone_compose() {
        // Real `docker ps --format '{{json .}}'` lines (Docker 28 CLI), trimmed.
        let lines = concat!(
            r#"{"Image":"busybox","Labels":"com.docker.compose.project.config_files=/srv/a/docker-compose.yml,com.docker.compose.project=a,com.docker.compose.service=web","Names":"a-web","Ports":"0.0.0.0:8080->80/tcp, [::]:8080->80/tcp","State":"running","Status":"Up 5 minutes (healthy)"}"#,
            "\n",
            r#"{"Image":"busybox","Labels":"com.docker.compose.project=a,com.docker.compose.service=db,com.docker.compose.project.config_files=/srv/a/docker-compose.yml","Names":"a-db","Ports":"","State":"exited","Status":"Exited (0) 2 minutes ago"}"#,
            "\n",
        );
        let services = parse_docker_ps(lines).unwrap();
        assert_eq!(services.len(), 2);
        assert_eq!(
            (services[0].service.as_str(), services[0].container.as_str()),
            ("web", "a-web")
        );
        assert_eq!(services[0].health.as_deref(), Some("healthy"));
        assert_eq!(
            services[0].ports,
            ["0.0.0.0:8080->80/tcp", "[::]:8080->80/tcp"]
        );
        assert_eq!(
            (services[1].state.as_str(), services[1].health.as_deref()),
            ("exited", None)
        );
        let projects = projects_from_docker_ps(lines);
        assert_eq!(projects.len(), 1);
        assert_eq!(projects[0].name, "a");
        assert_eq!(projects[0].status, "running(1), exited(1)");
        assert_eq!(projects[0].config_files, "/srv/a/docker-compose.yml");
    }

    #[test]
    fn compose_ls_output_is_read() {
        let text = r#"[{"Name":"a","Status":"running(2)","ConfigFiles":"/srv/a/docker-compose.yml"},{"Name":"b","Status":"exited(1)","ConfigFiles":""}]"#;
        let projects = parse_ls(text).unwrap();
        assert_eq!(projects.len(), 2);
        assert_eq!(
            (projects[0].name.as_str(), projects[0].status.as_str()),
            ("a", "running(2)")
        );
        assert!(parse_ls("\n").unwrap().is_empty());
        assert!(parse_ls("[{").is_err());
    }

    #[test]
    fn a_missing_plugin_is_told_from_a_failure() {
        // Docker 28, Docker 20.10, and docker parsing compose's flags as its own.
        assert!(plugin_missing("docker: unknown command: docker compose\n"));
        assert!(plugin_missing(
            "docker: 'compose' is not a docker command.\nSee 'docker --help'"
        ));
        assert!(plugin_missing(
            "unknown shorthand flag: 'p' in -p\nUsage:  docker [OPTIONS] COMMAND"
        ));
        assert!(!plugin_missing(
            "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?"
        ));
        assert!(!plugin_missing("no configuration file provided: not found"));
    }

    #[test]
    fn command_lines_are_pastable() {
        #[allow(clippy::disallowed_methods)]
        let mut c = Command::new("docker");
        c.args(["compose", "-f", "/a b/x.yml", "it's", "$HOME"]);
        assert_eq!(
            command_line(&c),
            r"docker compose -f '/a b/x.yml' 'it'\''s' '$HOME'"
        );
    }
}
