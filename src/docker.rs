//! The only place that spawns processes: `docker`, `docker compose` (or the standalone
//! `docker-compose`), nothing else.
//!
//! Every child gets stdin null. In `Stream::Capture` mode (`--json`, MCP) its stdout and
//! stderr are captured, so nothing can leak into our stdout; in `Stream::Terminal` mode long
//! operations show docker's own progress on the terminal. A failed call reports the exact
//! command line (shell-quoted, ready to paste), its exit status and docker's stderr.
//! `--context` is passed to every docker call; DOCKER_HOST and DOCKER_CONTEXT reach docker
//! through the inherited environment.

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
    /// `docker-compose` on PATH.
    pub fn compose_kind(&self) -> Result<&Compose> {
        if let Some(c) = self.compose.get() {
            return Ok(c);
        }
        let mut probe = self.docker();
        probe.args(["compose", "version"]);
        let found = match probe.output() {
            Ok(out) if out.status.success() => Compose::Plugin,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match which::which("docker-compose") {
                Ok(path) => Compose::Standalone(path),
                Err(_) => return Err(self.not_found()),
            },
            _ => match which::which("docker-compose") {
                Ok(path) => Compose::Standalone(path),
                Err(_) => {
                    return Err(Error::ProgramNotFound {
                        program: "docker compose (or docker-compose)".into(),
                        hint: COMPOSE_HINT.into(),
                    })
                }
            },
        };
        Ok(self.compose.get_or_init(|| found))
    }

    fn not_found(&self) -> Error {
        Error::ProgramNotFound {
            program: format!("docker program `{}`", self.program.to_string_lossy()),
            hint: "install Docker (Debian/Ubuntu: apt-get install docker.io), or set STACKWIZ_DOCKER \
                   to the docker program's path"
                .into(),
        }
    }

    /// `docker compose -p NAME --project-directory DIR -f DIR/docker-compose.yml ARGS`.
    fn compose(&self, project: &str, dir: &Path) -> Result<Command> {
        let mut cmd = match self.compose_kind()? {
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
        Ok(cmd)
    }

    /// Run and capture; a non-zero exit is an error.
    fn run(&self, mut cmd: Command) -> Result<Output> {
        let line = command_line(&cmd);
        let out = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).output().map_err(|e| self.spawn_error(&cmd, e))?;
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
    fn run_long(&self, mut cmd: Command) -> Result<String> {
        if self.stream == Stream::Capture {
            let out = self.run(cmd)?;
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            return Ok(text);
        }
        let line = command_line(&cmd);
        // Progress goes to our stderr, keeping stdout for results.
        let status = cmd
            .stdout(Stdio::from(std::io::stderr().as_fd_owned().map_err(|e| Error::io("use", "stderr", e))?))
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| self.spawn_error(&cmd, e))?;
        if status.success() {
            Ok(String::new())
        } else {
            Err(Error::Command {
                command: line,
                status: status.code(),
                stderr: "see docker's output above".into(),
                hint: None,
            })
        }
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
        Error::Command { command: command_line(cmd), status: None, stderr: e.to_string(), hint: None }
    }

    fn hint_for(&self, stderr: &str) -> Option<String> {
        if stderr.contains("Cannot connect to the Docker daemon") || stderr.contains("connect: no such file") {
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
        cmd.args(["up", "-d", "--remove-orphans"]);
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

    /// `logs`: on the terminal (followed if asked) in human mode, captured otherwise.
    pub fn logs(&self, project: &str, dir: &Path, tail: u32, follow: bool, since: Option<&str>) -> Result<String> {
        let mut cmd = self.compose(project, dir)?;
        cmd.args(["logs", "--no-color", "--tail"]).arg(tail.to_string());
        if let Some(s) = since {
            cmd.arg("--since").arg(s);
        }
        if follow {
            cmd.arg("--follow");
        }
        if self.stream == Stream::Terminal {
            let line = command_line(&cmd);
            let status = cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit()).status().map_err(|e| self.spawn_error(&cmd, e))?;
            if !status.success() {
                return Err(Error::Command { command: line, status: status.code(), stderr: String::new(), hint: None });
            }
            return Ok(String::new());
        }
        let out = self.run(cmd)?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(text)
    }

    /// The containers of a project, running or not.
    pub fn ps(&self, project: &str, dir: &Path) -> Result<Vec<Service>> {
        match self.compose_kind()? {
            Compose::Plugin => {
                let mut cmd = self.compose(project, dir)?;
                cmd.args(["ps", "-a", "--format", "json"]);
                let out = self.run(cmd)?;
                parse_ps(&String::from_utf8_lossy(&out.stdout))
            }
            // v1 has no JSON output: ask the engine for the project's containers instead.
            Compose::Standalone(_) => {
                let mut cmd = self.docker();
                cmd.args(["ps", "-a", "--no-trunc", "--format", "{{json .}}", "--filter"])
                    .arg(format!("label=com.docker.compose.project={project}"));
                let out = self.run(cmd)?;
                parse_docker_ps(&String::from_utf8_lossy(&out.stdout))
            }
        }
    }

    /// Every Compose project the engine knows (`docker compose ls -a`), in one call.
    pub fn projects(&self) -> Result<Vec<Project>> {
        match self.compose_kind()? {
            Compose::Plugin => {
                let mut cmd = self.docker();
                cmd.args(["compose", "ls", "-a", "--format", "json"]);
                let out = self.run(cmd)?;
                let text = String::from_utf8_lossy(&out.stdout);
                let text = text.trim();
                if text.is_empty() {
                    return Ok(Vec::new());
                }
                serde_json::from_str(text).map_err(|e| Error::other(format!("cannot read `docker compose ls` output: {e}")))
            }
            Compose::Standalone(_) => {
                let mut cmd = self.docker();
                cmd.args(["ps", "-a", "--no-trunc", "--format", "{{json .}}", "--filter", "label=com.docker.compose.project"]);
                let out = self.run(cmd)?;
                Ok(projects_from_docker_ps(&String::from_utf8_lossy(&out.stdout)))
            }
        }
    }

    pub fn network_exists(&self, name: &str) -> Result<bool> {
        let mut cmd = self.docker();
        cmd.args(["network", "ls", "--format", "{{.Name}}", "--filter"]).arg(format!("name=^{name}$"));
        let out = self.run(cmd)?;
        Ok(String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == name))
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
        cmd.args(["inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}\n{{end}}", container]);
        let out = self.run(cmd)?;
        Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
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

/// `docker compose ps --format json`: a JSON array (Compose < 2.21) or one object per line.
pub fn parse_ps(text: &str) -> Result<Vec<Service>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<serde_json::Value> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(bad_json)?
    } else {
        text.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect::<std::result::Result<_, _>>().map_err(bad_json)?
    };
    Ok(values.iter().map(service_from_compose).collect())
}

fn bad_json(e: serde_json::Error) -> Error {
    Error::other(format!("cannot read docker's JSON output: {e}"))
}

fn s(v: &serde_json::Value, key: &str) -> String {
    v.get(key).and_then(|x| x.as_str()).unwrap_or_default().to_string()
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
        let label = |key: &str| {
            labels.split(',').find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('='))).unwrap_or_default().to_string()
        };
        let status = s(&v, "Status");
        let health = ["healthy", "unhealthy", "starting"]
            .into_iter()
            .find(|h| status.contains(&format!("({h})")) || status.contains(&format!("(health: {h})")))
            .map(String::from);
        services.push(Service {
            service: label("com.docker.compose.service"),
            container: s(&v, "Names"),
            state: s(&v, "State"),
            health,
            status,
            image: s(&v, "Image"),
            ports: s(&v, "Ports").split(", ").filter(|p| !p.is_empty()).map(String::from).collect(),
        });
    }
    Ok(services)
}

fn projects_from_docker_ps(text: &str) -> Vec<Project> {
    let mut projects: Vec<(String, String, usize, usize)> = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let labels = s(&v, "Labels");
        let label = |key: &str| {
            labels.split(',').find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('='))).unwrap_or_default().to_string()
        };
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
            Project { name, status: parts.join(", "), config_files }
        })
        .collect()
}

/// The command line, shell-quoted so it can be pasted and rerun.
pub fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(shell_quote).collect::<Vec<_>>().join(" ")
}

fn shell_quote(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%^$".contains(c)) && !s.contains('$') {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_parses_both_shapes() {
        let array = r#"[{"Name":"app","Service":"app","State":"running","Health":"healthy","Status":"Up 2s (healthy)","Image":"nginx","Publishers":[{"URL":"0.0.0.0","TargetPort":80,"PublishedPort":8080,"Protocol":"tcp"},{"URL":"::","TargetPort":80,"PublishedPort":8080,"Protocol":"tcp"}]}]"#;
        let lines = "{\"Name\":\"a\",\"Service\":\"a\",\"State\":\"exited\",\"Health\":\"\",\"Image\":\"x\",\"Publishers\":null}\n{\"Name\":\"b\",\"Service\":\"b\",\"State\":\"running\",\"Image\":\"y\"}\n";
        let a = parse_ps(array).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].health.as_deref(), Some("healthy"));
        assert_eq!(a[0].ports, ["0.0.0.0:8080->80/tcp", ":::8080->80/tcp"]);
        let l = parse_ps(lines).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].state, "exited");
        assert_eq!(l[0].health, None);
        assert!(parse_ps("").unwrap().is_empty());
        assert!(parse_ps("not json").is_err());
    }

    #[test]
    fn command_lines_are_pastable() {
        #[allow(clippy::disallowed_methods)]
        let mut c = Command::new("docker");
        c.args(["compose", "-f", "/a b/x.yml", "it's", "$HOME"]);
        assert_eq!(command_line(&c), r"docker compose -f '/a b/x.yml' 'it'\''s' '$HOME'");
    }
}
