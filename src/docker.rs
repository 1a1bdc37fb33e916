//! The only place that spawns processes: `docker`, `docker compose` (or the standalone
//! `docker-compose`), nothing else. Every spawn goes through one runner, [`Docker::exec`]:
//!
//! - stdin is null; stdout and stderr are pipes that stackwiz reads, so nothing a child
//!   prints reaches the user or an MCP client without passing the secrets gate
//!   ([`crate::scrub`]), which hides the stack's `.env` values in every form Compose prints
//!   them. In `Stream::Terminal` mode docker's stderr (and the progress of long operations)
//!   is shown line by line as it comes; `logs` streams to our stdout. In `Stream::Capture`
//!   mode (`--json`, MCP) everything is captured and never reaches our stdout.
//! - Deadlines: a query (ps, ls, inspect, network ls, version, config, logs without
//!   --follow) must finish within `docker_timeout` (default 30 s, `STACKWIZ_DOCKER_TIMEOUT`).
//!   A long operation (up, pull, stop, restart, down) must start answering (print
//!   anything) within that budget, then runs as long as it needs; `logs --follow` has no
//!   deadline. A child past its deadline is killed, and the error names the exact command
//!   and the budget.
//! - Cancellation: the runner waits in one `poll` on the child's pipes and on the
//!   operation's [`Cancel`] token (an eventfd, [`Cancel::watch`]); cancelling the token
//!   wakes it at once and the child is killed before `exec` returns, within milliseconds.
//!   The MCP server relies on this: a `notifications/cancelled` (or the end of its stdin)
//!   cancels the request's token, and its docker child is gone promptly.
//! - Killing takes the whole tree: docker runs Compose as a plugin child process that
//!   outlives a killed docker, so the tree is stopped (SIGSTOP, so nothing in it forks
//!   meanwhile), then killed (SIGKILL) through pidfds, and the child is reaped.
//!   Children stay in our process group, so a Ctrl-C on the terminal reaches them too;
//!   on SIGINT/SIGTERM the CLI's signal thread kills every running tree ([`stop_all`])
//!   before it exits.
//! - A closed stdout (`stackwiz logs app | head -1`) kills the child and ends quietly (the
//!   error [`Error::is_broken_pipe`] maps to exit 0).
//!
//! A failed call reports the exact command line (shell-quoted, ready to paste), its exit
//! status and docker's stderr (scrubbed). `--context` (or DOCKER_CONTEXT, resolved by
//! `config`) is passed to every docker call; DOCKER_HOST reaches docker through the
//! inherited environment.
//!
//! Compose is the v2 plugin when `docker compose` works, else a standalone `docker-compose`.
//! Queries (`ps`, `compose ls`) and the lifecycle operations (`up`, `stop`, `down`, ...)
//! call the plugin straight away and probe only when that fails, so `list` stays one docker
//! process however many stacks there are, and `start` costs what `docker compose up` costs.

use std::cell::OnceCell;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::scrub::{scrub_captured, LineGate, Scrubber};

const COMPOSE_HINT: &str = "install Compose v2 as a docker CLI plugin (Debian/Ubuntu: apt-get install \
                            docker-compose-plugin, or copy the docker-compose binary to \
                            ~/.docker/cli-plugins/docker-compose), or the standalone docker-compose";

/// Where docker's own output goes: shown as it comes, or captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Human mode on a terminal: docker's progress goes to our stderr as it happens.
    Terminal,
    /// `--json` and MCP: captured; never reaches our stdout.
    Capture,
}

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
    /// The budget of a query, and of a long operation's first answer.
    timeout: Duration,
    /// The operation's token: cancelling it kills the running child.
    cancel: Cancel,
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

/// A call being prepared: the command, and the gate everything it prints passes.
struct Call {
    cmd: Command,
    gate: Scrubber,
    /// A first `docker compose` call made before Compose was probed: docker's own "no such
    /// command" lines are kept back from our stderr (they are not the user's problem when
    /// the standalone program then does the job); anything else releases them.
    unprobed: bool,
}

impl Call {
    fn plain(cmd: Command) -> Call {
        Call {
            cmd,
            gate: Scrubber::none(),
            unprobed: false,
        }
    }
}

/// How long a call may take (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Budget {
    /// The whole call within the query deadline.
    Query,
    /// The first output within the query deadline, then as long as it needs: a silent
    /// engine fails fast, a long pull is never cut short.
    Long,
    /// No deadline (`logs --follow`): only a cancel or a closed pipe stop it.
    Unbounded,
}

/// Where a child's stdout goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    /// Kept, returned to the caller (parsed, or scrubbed and returned as text).
    Capture,
    /// Our stdout, line by line through the gate (`logs` on a terminal or a pipe).
    Stdout,
    /// Our stderr, line by line through the gate (progress of long operations).
    Stderr,
}

/// What a finished child left.
#[derive(Debug)]
struct Finished {
    /// The command line, shell-quoted.
    line: String,
    status: ExitStatus,
    /// Its stdout as printed, when captured: parse it, or pass it through
    /// [`scrub_captured`] before showing it.
    stdout: Vec<u8>,
    /// Its stderr, scrubbed.
    stderr: String,
}

/// Why the runner stopped a child before it finished.
enum Stop {
    Deadline,
    Cancelled,
    /// Our stdout was closed by its reader.
    BrokenPipe,
    /// Waiting on the child failed (poll or read): report it as the command's failure.
    Failed(std::io::Error),
}

/// The part of a failed command's stderr kept for its error (the last lines say why).
const KEEP_STDERR: usize = 64 * 1024;

impl Docker {
    pub fn new(cfg: &Config, stream: Stream, cancel: Cancel) -> Docker {
        Docker {
            program: OsString::from(&cfg.docker),
            context: cfg.context.clone(),
            stream,
            compose: OnceCell::new(),
            timeout: cfg.docker_timeout,
            cancel,
        }
    }

    /// `docker [--context C] ARGS`.
    fn docker(&self) -> Command {
        #[allow(clippy::disallowed_methods)]
        let mut cmd = Command::new(&self.program);
        if let Some(c) = &self.context {
            cmd.arg("--context").arg(c);
        }
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
        let found = match self.exec(Call::plain(probe), Budget::Query, Sink::Capture, false) {
            Ok(out) if out.status.success() => Compose::Plugin,
            Ok(out) if !plugin_missing(&out.stderr) => {
                // The plugin is there but broken (or docker itself is): say so, do not guess.
                return Err(self.failed(out));
            }
            // No docker program: that is the problem to report. (A standalone docker-compose
            // would not help: status and list ask `docker` itself, and STACKWIZ_DOCKER named it.)
            // A timeout or a cancel is reported as it is.
            Err(e) => return Err(e),
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
    /// use the standalone program" (`Ok(None)`) from a real failure (returned as is). A
    /// timeout or a cancel is returned at once: probing a silent engine would only wait
    /// twice.
    fn plugin_first(&self, call: Call) -> Result<Option<Finished>> {
        match self.compose.get() {
            Some(Compose::Plugin) => return self.run(call).map(Some),
            Some(Compose::Standalone(_)) => return Ok(None),
            None => {}
        }
        match self.run(call) {
            Ok(out) => {
                let _ = self.compose.set(Compose::Plugin);
                Ok(Some(out))
            }
            Err(e @ (Error::Timeout { .. } | Error::Cancelled { .. })) => Err(e),
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
    fn compose(&self, project: &str, dir: &Path) -> Result<Call> {
        let kind = self.compose_kind()?;
        Ok(self.compose_with(kind, project, dir))
    }

    /// A Compose call on a stack folder. Compose reads the folder's `.env`, so anything it
    /// prints may quote those values: its gate hides them (not the project name, which
    /// names the containers).
    fn compose_with(&self, kind: &Compose, project: &str, dir: &Path) -> Call {
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
                c
            }
        };
        cmd.arg("-p").arg(project);
        cmd.arg("--project-directory").arg(dir);
        cmd.arg("-f").arg(dir.join(crate::stack::COMPOSE_FILE));
        cmd.current_dir(dir);
        let gate = read_env_file(&dir.join(crate::stack::ENV_FILE))
            .map(|text| crate::envfile::scrubber(&text, &[project]))
            .unwrap_or_default();
        Call {
            cmd,
            gate,
            unprobed: false,
        }
    }

    /// A query: captured, within the deadline; a non-zero exit is an error.
    fn run(&self, call: Call) -> Result<Finished> {
        let out = self.exec(call, Budget::Query, Sink::Capture, false)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(self.failed(out))
        }
    }

    /// A long operation: docker's progress on our stderr as it comes in human mode,
    /// captured (and returned, scrubbed) otherwise.
    fn run_long(&self, call: Call) -> Result<String> {
        self.run_text(call, Budget::Long, Sink::Stderr)
    }

    /// Run with `budget`; in terminal mode stdout goes to `shown` and stderr to our stderr,
    /// both through the gate, and nothing is returned; else both are captured, and returned
    /// scrubbed (stdout, then stderr).
    fn run_text(&self, call: Call, budget: Budget, shown: Sink) -> Result<String> {
        let terminal = self.stream == Stream::Terminal;
        let sink = if terminal { shown } else { Sink::Capture };
        let gate = call.gate.clone();
        let out = self.exec(call, budget, sink, terminal)?;
        if !out.status.success() {
            return Err(self.failed(out));
        }
        if terminal {
            return Ok(String::new());
        }
        let mut text = scrub_captured(&gate, &out.stdout);
        text.push_str(&out.stderr);
        Ok(text)
    }

    /// The error for a child that exited non-zero (or was killed by someone else).
    fn failed(&self, out: Finished) -> Error {
        Error::Command {
            command: out.line,
            status: out.status.code(),
            hint: self.hint_for(&out.stderr),
            stderr: out.stderr,
        }
    }

    /// The runner: spawn with stdin null and both outputs piped, pump them (`sink` for
    /// stdout; stderr kept, and shown on ours if `show_stderr`), both through the call's
    /// gate, until the child is done, its budget is spent, the operation is cancelled or our
    /// stdout is closed. In the last three cases the child's tree is killed and reaped
    /// before this returns.
    fn exec(&self, call: Call, budget: Budget, sink: Sink, show_stderr: bool) -> Result<Finished> {
        let Call {
            mut cmd,
            gate,
            unprobed,
        } = call;
        let line = command_line(&cmd);
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled { command: line });
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|e| self.spawn_error(&cmd, e))?;
        let running = Running::new(&child);
        let mut pump = Pump {
            gate: &gate,
            sink,
            show_stderr,
            stdout: Vec::new(),
            stderr: Vec::new(),
            out_gate: LineGate::default(),
            err_gate: LineGate::default(),
            held: unprobed.then(Vec::new),
        };
        let deadline = |heard: bool| match budget {
            Budget::Query => Some(started + self.timeout),
            Budget::Long if !heard => Some(started + self.timeout),
            Budget::Long | Budget::Unbounded => None,
        };
        match pump.run(&mut child, &self.cancel, deadline) {
            Ok(()) => {
                drop(running);
                let status = child.wait().map_err(|e| Error::Command {
                    command: line.clone(),
                    status: None,
                    stderr: e.to_string(),
                    hint: None,
                })?;
                let stderr = scrub_captured(&gate, &pump.stderr);
                Ok(Finished {
                    line,
                    status,
                    stdout: pump.stdout,
                    stderr,
                })
            }
            Err(stop) => {
                kill_tree(Pid::from_child(&child));
                drop(running);
                let _ = child.wait();
                Err(match stop {
                    Stop::Deadline => Error::Timeout {
                        command: line,
                        after: self.timeout,
                    },
                    Stop::Cancelled => Error::Cancelled { command: line },
                    Stop::BrokenPipe => Error::io(
                        "write",
                        "stdout",
                        std::io::Error::from(std::io::ErrorKind::BrokenPipe),
                    ),
                    Stop::Failed(e) => Error::Command {
                        command: line,
                        status: None,
                        stderr: e.to_string(),
                        hint: None,
                    },
                })
            }
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
            Some(
                crate::ops::Hint::from(
                    "is the Docker engine running? Check DOCKER_HOST or DOCKER_CONTEXT, then: ",
                )
                .then(crate::ops::Next::Doctor),
            )
        } else if stderr.contains("permission denied") && stderr.contains("docker.sock") {
            Some("this user may not use the Docker socket: add it to the `docker` group or run as root".into())
        } else if stderr.contains("declared as external, but could not be found") {
            Some(
                crate::ops::Hint::from("create the network: ")
                    .then(crate::ops::Next::DoctorFix)
                    .text(" (or docker network create NAME)"),
            )
        } else {
            None
        }
    }

    /// A long Compose operation on a stack folder, run plugin-first as [`Docker::plugin_first`]
    /// does for queries: when all is well (the plugin is installed) it is one docker process.
    /// Only a failure saying docker does not know `compose` runs the probe, which either
    /// names the standalone program to run the same operation with, or gives the error the
    /// probe gives (no Compose at all, a broken plugin).
    fn compose_long(&self, project: &str, dir: &Path, args: &[&str]) -> Result<String> {
        let call = |kind: &Compose| {
            let mut call = self.compose_with(kind, project, dir);
            call.cmd.args(args);
            call
        };
        if let Some(kind) = self.compose.get() {
            return self.run_long(call(kind));
        }
        let first = Call {
            unprobed: true,
            ..call(&Compose::Plugin)
        };
        match self.run_long(first) {
            Ok(out) => {
                let _ = self.compose.set(Compose::Plugin);
                Ok(out)
            }
            Err(e) if matches!(&e, Error::Command { stderr, .. } if plugin_missing(stderr)) => {
                match self.compose_kind()? {
                    // The probe says the plugin works: the failure was the operation's own.
                    Compose::Plugin => Err(e),
                    kind @ Compose::Standalone(_) => self.run_long(call(kind)),
                }
            }
            Err(e) => Err(e),
        }
    }

    pub fn up(&self, project: &str, dir: &Path) -> Result<String> {
        self.compose_long(project, dir, &["up", "-d"])
    }

    pub fn pull(&self, project: &str, dir: &Path) -> Result<String> {
        self.compose_long(project, dir, &["pull"])
    }

    pub fn stop(&self, project: &str, dir: &Path) -> Result<String> {
        self.compose_long(project, dir, &["stop"])
    }

    pub fn restart(&self, project: &str, dir: &Path) -> Result<String> {
        self.compose_long(project, dir, &["restart"])
    }

    pub fn down(&self, project: &str, dir: &Path, volumes: bool) -> Result<String> {
        let args: &[&str] = if volumes {
            &["down", "--remove-orphans", "-v"]
        } else {
            &["down", "--remove-orphans"]
        };
        self.compose_long(project, dir, args)
    }

    /// `docker compose config -q` on a stack folder: whether Compose accepts its files.
    pub fn config_check(&self, project: &str, dir: &Path) -> Result<()> {
        let mut call = self.compose(project, dir)?;
        call.cmd.args(["config", "-q"]);
        self.run(call).map(drop)
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
        self.run_long(Call::plain(cmd))
    }

    /// `logs`: streamed to our stdout (followed if asked) in human mode, captured
    /// otherwise; through the gate either way.
    pub fn logs(
        &self,
        project: &str,
        dir: &Path,
        tail: u32,
        follow: bool,
        since: Option<&str>,
    ) -> Result<String> {
        let mut call = self.compose(project, dir)?;
        call.cmd
            .args(["logs", "--no-color", "--tail"])
            .arg(tail.to_string());
        if let Some(s) = since {
            if let Compose::Standalone(path) = self.compose_kind()? {
                return Err(Error::with_hint(
                    format!(
                        "logs since a time need Compose v2; {} (v1) cannot filter by time",
                        path.display()
                    ),
                    "install the Compose v2 plugin, or ask for the last lines (tail) instead",
                ));
            }
            call.cmd.arg("--since").arg(s);
        }
        let budget = if follow {
            call.cmd.arg("--follow");
            Budget::Unbounded
        } else {
            Budget::Query
        };
        self.run_text(call, budget, Sink::Stdout)
    }

    /// The containers of a project, running or not.
    pub fn ps(&self, project: &str, dir: &Path) -> Result<Vec<Service>> {
        let mut call = self.compose_with(&Compose::Plugin, project, dir);
        call.cmd.args(["ps", "-a", "--format", "json"]);
        if let Some(out) = self.plugin_first(call)? {
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
        if let Some(out) = self.plugin_first(Call::plain(cmd))? {
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
        let out = self.run(Call::plain(cmd))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn network_exists(&self, name: &str) -> Result<bool> {
        let mut cmd = self.docker();
        cmd.args(["network", "ls", "--format", "{{.Name}}", "--filter"])
            .arg(format!("name=^{name}$"));
        let out = self.run(Call::plain(cmd))?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim() == name))
    }

    pub fn network_create(&self, name: &str) -> Result<()> {
        let mut cmd = self.docker();
        cmd.args(["network", "create", name]);
        match self.run(Call::plain(cmd)) {
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
        let out = self.run(Call::plain(cmd))?;
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
                c.arg("version").arg("--short");
                c
            }
        };
        let out = self.run(Call::plain(cmd))?;
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
        let out = self.run(Call::plain(cmd))?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect())
    }
}

/// The state of one running child's output: what was kept and where lines go.
struct Pump<'a> {
    gate: &'a Scrubber,
    sink: Sink,
    show_stderr: bool,
    /// Captured stdout (raw; [`Sink::Capture`] only).
    stdout: Vec<u8>,
    /// Stderr (raw, its last [`KEEP_STDERR`] bytes): scrubbed when it is reported.
    stderr: Vec<u8>,
    out_gate: LineGate,
    err_gate: LineGate,
    /// Stderr kept back while it is only docker's "no such command" (see [`Call::unprobed`]).
    held: Option<Vec<u8>>,
}

impl Pump<'_> {
    /// Read both pipes until they close and the child has exited, or stop early. One
    /// `poll` waits on the pipes, the cancel token's eventfd and (once the pipes are closed)
    /// the child's pidfd, with the deadline as its timeout: no busy loop, no thread, and
    /// nothing added to a fast command but the poll calls.
    fn run(
        &mut self,
        child: &mut Child,
        cancel: &Cancel,
        deadline: impl Fn(bool) -> Option<Instant>,
    ) -> std::result::Result<(), Stop> {
        let mut out = child.stdout.take();
        let mut err = child.stderr.take();
        let watch = cancel.watch().map_err(Stop::Failed)?;
        // Without pidfds (Linux < 5.3) the child is waited for after its pipes close.
        let exited = pidfd_open(Pid::from_child(child), PidfdFlags::empty()).ok();
        let mut heard = false;
        let mut buf = [0u8; 16 * 1024];
        loop {
            let pipes_open = out.is_some() || err.is_some();
            if !pipes_open && exited.is_none() {
                break;
            }
            let timeout = match deadline(heard) {
                Some(at) => {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Stop::Deadline);
                    }
                    Some(Timespec::try_from(left).unwrap_or(Timespec {
                        tv_sec: i64::MAX,
                        tv_nsec: 0,
                    }))
                }
                None => None,
            };
            let (out_ready, err_ready, done, cancelled, reader_gone) = {
                let mut fds = Vec::with_capacity(5);
                fds.push(PollFd::new(&watch, PollFlags::IN));
                // Our stdout's reader gone (`| head -1`) shows as an error on it: stop
                // then, not at the next line, which a quiet `logs --follow` may never print.
                let stdout = std::io::stdout();
                let stdout_at = (self.sink == Sink::Stdout).then(|| {
                    fds.push(PollFd::new(&stdout, PollFlags::empty()));
                    fds.len() - 1
                });
                let out_at = out.as_ref().map(|p| {
                    fds.push(PollFd::new(p, PollFlags::IN));
                    fds.len() - 1
                });
                let err_at = err.as_ref().map(|p| {
                    fds.push(PollFd::new(p, PollFlags::IN));
                    fds.len() - 1
                });
                let exit_at = match (&exited, pipes_open) {
                    (Some(fd), false) => {
                        fds.push(PollFd::new(fd, PollFlags::IN));
                        Some(fds.len() - 1)
                    }
                    _ => None,
                };
                match poll(&mut fds, timeout.as_ref()) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(Stop::Failed(e.into())),
                }
                let ready = |at: Option<usize>| at.is_some_and(|i| !fds[i].revents().is_empty());
                (
                    ready(out_at),
                    ready(err_at),
                    ready(exit_at),
                    ready(Some(0)),
                    ready(stdout_at),
                )
            };
            if cancelled {
                return Err(Stop::Cancelled);
            }
            if reader_gone {
                return Err(Stop::BrokenPipe);
            }
            if out_ready {
                match read_some(out.as_mut(), &mut buf)? {
                    Some(n) => {
                        heard = true;
                        self.take_stdout(&buf[..n])?;
                    }
                    None => {
                        out = None;
                        let rest = self.out_gate.finish(self.gate);
                        self.emit_stdout(&rest)?;
                    }
                }
            }
            if err_ready {
                match read_some(err.as_mut(), &mut buf)? {
                    Some(n) => {
                        heard = true;
                        self.take_stderr(&buf[..n]);
                    }
                    None => {
                        err = None;
                        let rest = self.err_gate.finish(self.gate);
                        self.show_err(&rest);
                    }
                }
            }
            if done {
                break;
            }
        }
        Ok(())
    }

    fn take_stdout(&mut self, chunk: &[u8]) -> std::result::Result<(), Stop> {
        if self.sink == Sink::Capture {
            self.stdout.extend_from_slice(chunk);
            return Ok(());
        }
        let lines = self.out_gate.push(self.gate, chunk);
        self.emit_stdout(&lines)
    }

    fn emit_stdout(&mut self, bytes: &[u8]) -> std::result::Result<(), Stop> {
        if bytes.is_empty() {
            return Ok(());
        }
        match self.sink {
            Sink::Capture => Ok(()),
            Sink::Stderr => {
                // Our stderr gone is no reason to stop docker's work.
                let mut e = std::io::stderr().lock();
                let _ = e.write_all(bytes).and_then(|()| e.flush());
                Ok(())
            }
            Sink::Stdout => {
                let mut o = std::io::stdout().lock();
                match o.write_all(bytes).and_then(|()| o.flush()) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Stop::BrokenPipe),
                    Err(e) => Err(Stop::Failed(e)),
                }
            }
        }
    }

    fn take_stderr(&mut self, chunk: &[u8]) {
        self.stderr.extend_from_slice(chunk);
        if self.stderr.len() > 2 * KEEP_STDERR {
            let cut = self.stderr.len() - KEEP_STDERR;
            // Keep whole lines.
            let cut = self.stderr[cut..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(cut, |i| cut + i + 1);
            self.stderr.drain(..cut);
        }
        if self.show_stderr {
            let lines = self.err_gate.push(self.gate, chunk);
            self.show_err(&lines);
        }
    }

    /// Show stderr lines, unless they are held back (and still only docker's chatter).
    fn show_err(&mut self, bytes: &[u8]) {
        let Some(held) = &mut self.held else {
            return self.show(bytes);
        };
        held.extend_from_slice(bytes);
        if String::from_utf8_lossy(held).lines().all(docker_chatter) {
            return;
        }
        let held = self.held.take().unwrap_or_default();
        self.show(&held);
    }

    fn show(&self, bytes: &[u8]) {
        if self.show_stderr && !bytes.is_empty() {
            let mut e = std::io::stderr().lock();
            let _ = e.write_all(bytes).and_then(|()| e.flush());
        }
    }
}

/// One read from a readable pipe: `Some(n)` bytes, or None at its end.
fn read_some<R: Read>(
    pipe: Option<&mut R>,
    buf: &mut [u8],
) -> std::result::Result<Option<usize>, Stop> {
    let Some(pipe) = pipe else {
        return Ok(None);
    };
    loop {
        match pipe.read(buf) {
            Ok(0) => return Ok(None),
            Ok(n) => return Ok(Some(n)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Stop::Failed(e)),
        }
    }
}

/// `dir/.env` for the gate, if it is a regular file (never through a symlink, never a FIFO
/// that would block), at most 1 MiB.
fn read_env_file(path: &Path) -> Option<String> {
    use rustix::fs::{fstat, open, FileType, Mode, OFlags};
    let fd = open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let stat = fstat(&fd).ok()?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return None;
    }
    let mut text = String::new();
    std::fs::File::from(fd)
        .take(1 << 20)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// The children running now (their pids), for [`stop_all`]. A pid leaves the list before
/// its child is reaped, so a pid in it is never a recycled one.
static RUNNING: Mutex<Vec<Pid>> = Mutex::new(Vec::new());

fn running() -> MutexGuard<'static, Vec<Pid>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

/// A child on the [`RUNNING`] list while this lives.
struct Running(Pid);

impl Running {
    fn new(child: &Child) -> Running {
        let pid = Pid::from_child(child);
        running().push(pid);
        Running(pid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        running().retain(|p| *p != self.0);
    }
}

/// Kill every running child with its tree, for a process about to exit on SIGINT/SIGTERM
/// (`cli::signals`): docker and Compose must not outlive us, still talking to the engine.
/// The list stays locked, so no runner reaps (or starts) a child meanwhile.
pub fn stop_all() {
    let running = running();
    for pid in running.iter() {
        kill_tree(*pid);
    }
    std::mem::forget(running);
}

/// Kill a child and everything below it. docker runs Compose as a plugin child that a
/// killed docker leaves running (holding our pipes, still talking to the engine), so the
/// whole tree goes: each member is stopped as it is found (a stopped process cannot fork,
/// so the search ends), then all are killed. Signals go through pidfds, so a pid that was
/// recycled meanwhile is never hit. The caller reaps the child.
fn kill_tree(root: Pid) {
    let mut held: Vec<(Pid, Option<OwnedFd>)> = Vec::new();
    // A handful of rounds: each finds what forked before its members were stopped.
    for _ in 0..8 {
        let family = descendants(root);
        let mut found = false;
        for (pid, parent) in family {
            if held.iter().any(|(p, _)| *p == pid) {
                continue;
            }
            let fd = match pidfd_open(pid, PidfdFlags::empty()) {
                Ok(fd) => Some(fd),
                // No pidfds on this kernel: signal by pid (the child itself is unreaped).
                Err(rustix::io::Errno::NOSYS) => None,
                // Gone already.
                Err(_) => continue,
            };
            // Still the process found under its parent (not a recycled pid)?
            if pid != root && parent_of(pid) != Some(parent) {
                continue;
            }
            send(pid, fd.as_ref(), Signal::STOP);
            held.push((pid, fd));
            found = true;
        }
        if !found {
            break;
        }
    }
    for (pid, fd) in &held {
        send(*pid, fd.as_ref(), Signal::KILL);
    }
}

fn send(pid: Pid, fd: Option<&OwnedFd>, signal: Signal) {
    let _ = match fd {
        Some(fd) => pidfd_send_signal(fd, signal),
        None => rustix::process::kill_process(pid, signal),
    };
}

/// `root` and every process below it, each with its parent (from /proc).
fn descendants(root: Pid) -> Vec<(Pid, Pid)> {
    let all: Vec<(Pid, Pid)> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .filter_map(|raw| {
                    let pid = Pid::from_raw(raw)?;
                    Some((pid, parent_of(pid)?))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut tree = vec![(root, root)];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i].0;
        for (pid, ppid) in &all {
            if *ppid == parent && !tree.iter().any(|(p, _)| p == pid) {
                tree.push((*pid, *ppid));
            }
        }
        i += 1;
    }
    tree
}

/// A process's parent, from `/proc/PID/stat` (`pid (comm) state ppid ...`; comm may hold
/// spaces and parentheses, so the fields are read after its last `)`).
fn parent_of(pid: Pid) -> Option<Pid> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero())).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let ppid = rest.split_whitespace().nth(1)?.parse::<i32>().ok()?;
    Pid::from_raw(ppid)
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

/// A line docker prints around "no such command": the reason, its usage line, or where to
/// read more.
fn docker_chatter(line: &str) -> bool {
    let line = line.trim();
    line.is_empty()
        || plugin_missing(line)
        || line.contains("docker --help")
        || line.starts_with("Usage:  docker ")
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

    fn runner(timeout: Duration, cancel: Cancel) -> Docker {
        Docker {
            program: "sh".into(),
            context: None,
            stream: Stream::Capture,
            compose: OnceCell::new(),
            timeout,
            cancel,
        }
    }

    fn sh(script: &str) -> Call {
        #[allow(clippy::disallowed_methods)]
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        Call::plain(c)
    }

    /// Whether a process runs no more (gone, or a zombie its new parent has not reaped).
    fn gone(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => {
                stat[stat.rfind(')').unwrap() + 1..]
                    .split_whitespace()
                    .next()
                    == Some("Z")
            }
        }
    }

    /// A signal is delivered, not waited for: give the kernel a moment (bounded).
    fn all_gone(pids: &[i32]) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if pids.iter().all(|p| gone(*p)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// The pids a test script wrote to `file` (`echo $$ $!`), once it has.
    fn pids_in(file: &Path) -> Vec<i32> {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            if text.ends_with('\n') {
                return text
                    .split_whitespace()
                    .map(|p| p.parse().unwrap())
                    .collect();
            }
            assert!(Instant::now() < until, "the script never wrote its pids");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A shell that starts a grandchild (as docker starts the Compose plugin) and waits.
    fn family(pids: &Path) -> String {
        format!("sleep 1000 & echo $$ $! > '{}'; wait", pids.display())
    }

    #[test]
    fn a_cancel_kills_the_running_child_and_everything_below_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pids");
        let cancel = Cancel::new();
        let canceller = {
            let (file, cancel) = (file.clone(), cancel.clone());
            std::thread::spawn(move || {
                let pids = pids_in(&file);
                cancel.cancel();
                pids
            })
        };
        // No deadline: only the cancel can end it.
        let docker = runner(Duration::from_secs(3600), cancel);
        let err = docker
            .exec(sh(&family(&file)), Budget::Unbounded, Sink::Capture, false)
            .unwrap_err();
        let pids = canceller.join().unwrap();
        assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
        assert!(err.to_string().starts_with("`sh -c 'sleep 1000 &"), "{err}");
        assert_eq!(err.exit_code(), 130);
        assert!(all_gone(&pids), "left running: {pids:?}");
        // A cancelled operation spawns nothing more.
        let err = docker
            .exec(sh("exit 0"), Budget::Query, Sink::Capture, false)
            .unwrap_err();
        assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    }

    #[test]
    fn a_query_past_its_deadline_is_killed_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pids");
        let docker = runner(Duration::from_millis(300), Cancel::new());
        let err = docker
            .exec(sh(&family(&file)), Budget::Query, Sink::Capture, false)
            .unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        assert!(
            err.to_string()
                .ends_with("wait'` gave no answer within 0.3 s and was stopped"),
            "{err}"
        );
        assert!(err.hint().unwrap().contains("STACKWIZ_DOCKER_TIMEOUT"));
        assert!(all_gone(&pids_in(&file)));
        // Output does not extend a query's deadline.
        let err = docker
            .exec(
                sh("while :; do echo busy; sleep 0.05; done"),
                Budget::Query,
                Sink::Capture,
                false,
            )
            .unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    }

    #[test]
    fn a_long_operation_must_answer_in_time_then_may_take_longer() {
        let docker = runner(Duration::from_millis(300), Cancel::new());
        let out = docker
            .exec(
                sh("echo pulling; sleep 0.6; echo done"),
                Budget::Long,
                Sink::Capture,
                false,
            )
            .unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"pulling\ndone\n");
        let err = docker
            .exec(sh("sleep 1000"), Budget::Long, Sink::Capture, false)
            .unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    }

    #[test]
    fn a_failure_keeps_its_stderr_scrubbed_and_its_status() {
        let docker = runner(Duration::from_secs(30), Cancel::new());
        let mut call = sh(r#"printf 'Error: invalid hostPort: "pw\\"x-secret"\n' >&2; exit 3"#);
        call.gate = Scrubber::new(["pw\"x-secret"], &[]);
        let err = docker.run(call).unwrap_err();
        let Error::Command { status, stderr, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(*status, Some(3));
        assert_eq!(stderr, "Error: invalid hostPort: \"****\"\n");
    }

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
        for line in [
            "unknown shorthand flag: 'p' in -p",
            "",
            "Usage:  docker [OPTIONS] COMMAND [ARG...]",
            "Run 'docker --help' for more information",
            "See 'docker --help'",
        ] {
            assert!(docker_chatter(line), "{line:?}");
        }
        assert!(!docker_chatter("no configuration file provided: not found"));
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
