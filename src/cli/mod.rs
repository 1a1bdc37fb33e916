//! The command-line face: clap definitions (their doc comments are the `--help` text), and
//! the dispatch that turns a parsed command into one call of `ops` and prints its report.
//!
//! Results go to stdout (JSON with `--json`); warnings, prompts, progress and errors go to
//! stderr. Nothing here decides policy: that lives in `ops`, shared with the MCP server.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

pub mod dns;
pub mod next;
pub mod signals;

use crate::config::{Config, Overrides};
use crate::error::{Error, Result};
use crate::ops::stacks::{self, Action, RemoveRequest};
use crate::ops::{Ctx, Hint, Next, Report, Stream};
use crate::stack::CreateRequest;

const EXAMPLES: &str = "\
Examples:
  stackwiz create whoami --image traefik/whoami --port 80 --start
  stackwiz create notes --type pocketbase --domain notes.example.com --dns --start
  stackwiz list
  stackwiz logs notes --tail 50
  stackwiz remove notes";

/// Turn "I want app X at x.example.com" into a running Docker Compose stack behind Traefik,
/// with Cloudflare DNS, and manage its whole life. Also an MCP server for AI agents.
#[derive(Debug, Parser)]
#[command(name = "stackwiz", version, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Print one JSON object on stdout instead of text (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    /// Config file to read (default: $XDG_CONFIG_HOME/stackwiz/config.toml, then /etc/stackwiz/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder holding the stacks [env: STACKWIZ_BASE_DIR; default /srv/dockerdata].
    #[arg(long, global = true, value_name = "DIR")]
    pub base_dir: Option<PathBuf>,
    /// Folder with user templates [env: STACKWIZ_TEMPLATES_DIR].
    #[arg(long, global = true, value_name = "DIR")]
    pub templates_dir: Option<PathBuf>,
    /// Shared proxy network [env: STACKWIZ_DOCKER_NETWORK; default traefik_proxy].
    #[arg(long, global = true, value_name = "NAME")]
    pub network: Option<String>,
    /// Domain that stack names go under [env: STACKWIZ_DEFAULT_DOMAIN; default localhost].
    #[arg(long, global = true, value_name = "DOMAIN")]
    pub default_domain: Option<String>,
    /// Docker context passed to every docker call (remote engines such as ssh:// work too).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a stack folder (docker-compose.yml + .env) from a template.
    #[command(after_help = "Examples:
  stackwiz create whoami --image traefik/whoami --port 80
  stackwiz create api --image ghcr.io/acme/api:1.4 --port 8080 --env LOG_LEVEL=debug --start
  stackwiz create notes --type pocketbase --dns --start
  stackwiz create web --type standalone --image nginx:alpine --port 80 --host-port 8080
  stackwiz create tunnel --type cloudflared --env TUNNEL_TOKEN=...
  stackwiz create            (no NAME on a terminal: a wizard asks for each value)")]
    Create(CreateArgs),
    /// List the template types and where each comes from.
    #[command(after_help = "Example:\n  stackwiz templates --json")]
    Templates,
    /// Create the base dir and templates folder, write the embedded templates there as
    /// editable files (never overwriting yours), and create the network. Safe to rerun.
    #[command(after_help = "Example:\n  STACKWIZ_BASE_DIR=~/stacks stackwiz init")]
    Init,
    /// Show every effective setting and where it came from.
    #[command(after_help = "Example:\n  stackwiz config --json")]
    Config,
    /// List the stacks in the base dir with their type, domain and status.
    #[command(after_help = "Example:\n  stackwiz list --json")]
    List,
    /// Show each service of a stack: container, state, health, ports, image.
    #[command(after_help = "Example:\n  stackwiz status notes")]
    Status(NameArg),
    /// Start a stack (creates the proxy network if missing, then `docker compose up -d`).
    #[command(after_help = "Example:\n  stackwiz start notes")]
    Start(NameArg),
    /// Stop a stack's containers (kept; `start` brings them back).
    #[command(after_help = "Example:\n  stackwiz stop notes")]
    Stop(NameArg),
    /// Restart a stack's containers.
    #[command(after_help = "Example:\n  stackwiz restart notes")]
    Restart(NameArg),
    /// Remove a stack's containers, keeping its files.
    #[command(after_help = "Example:\n  stackwiz down notes")]
    Down(NameArg),
    /// Pull newer images, then recreate the containers. A failed pull changes nothing.
    #[command(after_help = "Example:\n  stackwiz update notes")]
    Update(NameArg),
    /// Show a stack's logs.
    #[command(
        after_help = "Examples:\n  stackwiz logs notes\n  stackwiz logs notes --tail 20 --since 10m --follow"
    )]
    Logs(LogsArgs),
    /// Take a stack down and move its folder to {base_dir}/.trash (or delete it with --purge).
    #[command(
        after_help = "Examples:\n  stackwiz remove notes\n  stackwiz remove notes --yes --purge --volumes"
    )]
    Remove(RemoveArgs),
    /// Check the set-up: base dir, templates, docker, engine, compose, network, owner, token.
    #[command(after_help = "Examples:\n  stackwiz doctor\n  stackwiz doctor --fix")]
    Doctor {
        /// Create what is missing (the base dir, the network).
        #[arg(long)]
        fix: bool,
    },
    /// Manage Cloudflare DNS records: list, create, update, delete, sync.
    #[command(subcommand)]
    Dns(dns::DnsCommand),
    /// Print this server's public IP address (what AUTO DNS values use).
    Ip(dns::IpArgs),
    /// Serve every stack and DNS operation to AI agents over stdio (Model Context Protocol).
    #[command(after_help = "Examples:
  stackwiz mcp
  stackwiz mcp --read-only
  stackwiz mcp --print-config claude-desktop")]
    Mcp(McpArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  stackwiz completions bash > /etc/bash_completion.d/stackwiz"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Offer only the tools that change nothing [env: STACKWIZ_READ_ONLY].
    #[arg(long)]
    pub read_only: bool,
    /// Print an `mcpServers` snippet for this client (this binary's path and your effective
    /// settings: flags, STACKWIZ_* variables, config file, DOCKER_HOST; never the token) and exit.
    #[arg(long, value_enum, value_name = "CLIENT")]
    pub print_config: Option<crate::mcp::ClientKind>,
}

#[derive(Debug, Args)]
pub struct NameArg {
    /// The stack's name.
    pub name: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Stack name: lowercase letters, digits and hyphens (omit on a terminal for the wizard).
    pub name: Option<String>,
    /// Template type (see `stackwiz templates`).
    #[arg(
        long = "type",
        short = 't',
        default_value = "generic",
        value_name = "TYPE"
    )]
    pub kind: String,
    /// Docker image, e.g. nginx:alpine or ghcr.io/owner/app:1.2.
    #[arg(long, short = 'i')]
    pub image: Option<String>,
    /// The port the app listens on inside the container.
    #[arg(long, short = 'p')]
    pub port: Option<u32>,
    /// Host port to publish (standalone type; default: the container port).
    #[arg(long, value_name = "PORT")]
    pub host_port: Option<u32>,
    /// Full hostname (default: NAME.DEFAULT_DOMAIN).
    #[arg(long, short = 'd', value_name = "FQDN")]
    pub domain: Option<String>,
    /// Add KEY=VALUE to .env (repeatable; overrides --env-file and template defaults).
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read KEY=VALUE lines for .env from FILE.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Start the stack after writing it.
    #[arg(long)]
    pub start: bool,
    /// Create the stack's Cloudflare DNS record (A record → this server, proxied).
    #[arg(long)]
    pub dns: bool,
    /// Print the rendered files (.env values hidden) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The stack's name.
    pub name: String,
    /// Number of lines from the end of each service's log.
    #[arg(long, short = 'n', default_value_t = 100)]
    pub tail: u32,
    /// Keep streaming new lines.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only lines since WHEN (e.g. 10m, 2h, 2026-01-02T15:04:05).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The stack's name.
    pub name: String,
    /// Delete the folder instead of moving it to the trash.
    #[arg(long)]
    pub purge: bool,
    /// Also remove the stack's named volumes (`docker compose down -v`).
    #[arg(long)]
    pub volumes: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Keep the stack's DNS records.
    #[arg(long)]
    pub keep_dns: bool,
}

impl Cli {
    fn overrides(&self) -> Overrides {
        Overrides {
            config: self.global.config.clone(),
            base_dir: self.global.base_dir.clone(),
            templates_dir: self.global.templates_dir.clone(),
            network: self.global.network.clone(),
            default_domain: self.global.default_domain.clone(),
            context: self.global.context.clone(),
            read_only: matches!(&self.command, Command::Mcp(a) if a.read_only),
        }
    }
}

/// Run one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let json = cli.global.json;
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "stackwiz", &mut buf);
            return write_stdout(&buf);
        }
        Command::Man => return write_stdout(&man_page()?),
        Command::Mcp(McpArgs {
            print_config: Some(client),
            ..
        }) => {
            let cfg = Config::load(&cli.overrides())?;
            return write_stdout(crate::mcp::print_config(*client, &cfg)?.as_bytes());
        }
        // The server answers its first requests before it needs the owner, the token or
        // the signal handler; it sets them up at its first operation.
        Command::Mcp(_) => {
            let cfg = Config::load_deferring(&cli.overrides())?;
            return crate::mcp::run(Ctx::new(cfg, Stream::Capture));
        }
        _ => {}
    }
    let cfg = Config::load(&cli.overrides())?;
    signals::install();
    for w in &cfg.warnings {
        // Not eprintln!: a closed stderr must not panic (`stackwiz mcp` runs under clients
        // that may not read it).
        let _ = writeln!(std::io::stderr(), "warning: {w}");
    }
    let stream = if json {
        Stream::Capture
    } else {
        Stream::Terminal
    };
    let ctx = Ctx::new(cfg, stream);
    match cli.command {
        Command::Create(args) => {
            let dry_run = args.dry_run;
            let req = create_request(&ctx, args)?;
            emit(json, &stacks::create(&ctx, &req, dry_run)?)
        }
        Command::Templates => emit(json, &stacks::templates(&ctx.cfg)?),
        Command::Init => emit(json, &stacks::init(&ctx)?),
        Command::Config => emit(json, &stacks::config(&ctx.cfg)),
        Command::List => emit(json, &stacks::list(&ctx)?),
        Command::Status(a) => emit(json, &stacks::status(&ctx, &a.name)?),
        Command::Start(a) => emit(json, &stacks::lifecycle(&ctx, &a.name, Action::Start)?),
        Command::Stop(a) => emit(json, &stacks::lifecycle(&ctx, &a.name, Action::Stop)?),
        Command::Restart(a) => emit(json, &stacks::lifecycle(&ctx, &a.name, Action::Restart)?),
        Command::Down(a) => emit(json, &stacks::lifecycle(&ctx, &a.name, Action::Down)?),
        Command::Update(a) => emit(json, &stacks::lifecycle(&ctx, &a.name, Action::Update)?),
        Command::Logs(a) => {
            if json && a.follow {
                return Err(Error::Usage(
                    "--follow cannot be combined with --json".into(),
                ));
            }
            let logs = stacks::logs(&ctx, &a.name, a.tail, a.follow, a.since.as_deref())?;
            if json {
                emit(json, &logs)
            } else {
                Ok(())
            }
        }
        Command::Remove(a) => {
            // Refuse what is not a stack (or an orphan) before asking about it.
            stacks::removable(&ctx, &a.name)?;
            let what = if a.purge {
                "delete its folder"
            } else {
                "move its folder to the trash"
            };
            confirm(
                a.yes,
                &format!("Take stack {} down and {what}?", a.name),
                &format!("remove {}", a.name),
                Next::Remove {
                    name: a.name.clone(),
                    purge: a.purge,
                    volumes: a.volumes,
                    keep_dns: a.keep_dns,
                },
            )?;
            let req = RemoveRequest {
                name: a.name,
                purge: a.purge,
                volumes: a.volumes,
                keep_dns: a.keep_dns,
            };
            emit(json, &stacks::remove(&ctx, &req)?)
        }
        Command::Doctor { fix } => {
            let report = crate::ops::doctor::doctor(&ctx, fix);
            emit(json, &report)?;
            if report.ok {
                Ok(())
            } else {
                Err(Error::Reported("some required checks failed".into()))
            }
        }
        Command::Dns(cmd) => dns::run(&ctx, cmd, json),
        Command::Ip(args) => dns::run_ip(&ctx, args, json),
        Command::Completions { .. } | Command::Man | Command::Mcp(_) => {
            unreachable!("handled before loading the configuration")
        }
    }
}

/// Print a report: JSON on stdout with `--json`, else its human text.
pub fn emit<R: Report>(json: bool, report: &R) -> Result<()> {
    let text = if json {
        let mut s =
            crate::ops::next::in_words_of(&next::WORDS, || serde_json::to_string_pretty(report))
                .map_err(|e| Error::other(format!("cannot encode the result: {e}")))?;
        s.push('\n');
        s
    } else {
        report.human()
    };
    write_stdout(text.as_bytes())
}

/// Write to stdout; a closed pipe (`| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("write", "stdout", e))
        }
        _ => Ok(()),
    }
}

/// Ask on the terminal; without one, refuse unless `yes`, naming `step` agreed to.
pub fn confirm(yes: bool, question: &str, action: &str, step: Next) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::NotConfirmed {
            action: action.to_string(),
            hint: Hint::from("no terminal to ask on; rerun with --yes: ")
                .then(Next::Confirmed(Box::new(step))),
        });
    }
    let answer = prompt(&format!("{question} [y/N]"), None)?;
    if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::NotConfirmed {
            action: action.to_string(),
            hint: "answer y to go ahead".into(),
        })
    }
}

/// One question on stderr, one line from stdin; empty input takes the default.
fn prompt(question: &str, default: Option<&str>) -> Result<String> {
    let mut err = std::io::stderr().lock();
    match default {
        Some(d) if !d.is_empty() => write!(err, "{question} [{d}]: "),
        _ => write!(err, "{question}: "),
    }
    .and_then(|()| err.flush())
    .map_err(|e| Error::io("write", "stderr", e))?;
    drop(err);
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::io("read", "stdin", e))?;
    if n == 0 {
        return Err(Error::Usage(
            "input ended before the question was answered".into(),
        ));
    }
    let line = line.trim().to_string();
    Ok(if line.is_empty() {
        default.unwrap_or_default().to_string()
    } else {
        line
    })
}

fn create_request(ctx: &Ctx, args: CreateArgs) -> Result<CreateRequest> {
    let mut env = BTreeMap::new();
    if let Some(file) = &args.env_file {
        for (k, v) in crate::envfile::read(file)? {
            env.insert(k, v);
        }
    }
    for (i, pair) in args.env.iter().enumerate() {
        // The argument may well be a secret pasted without its key: never echo it.
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            Error::invalid(
                "env",
                format!("--env argument {} has no `=`; write KEY=VALUE", i + 1),
            )
        })?;
        env.insert(k.to_string(), v.to_string());
    }
    let mut req = CreateRequest {
        name: args.name.clone().unwrap_or_default(),
        kind: args.kind,
        image: args.image,
        port: args.port,
        host_port: args.host_port,
        domain: args.domain,
        env,
        start: args.start,
        dns: args.dns,
    };
    if args.name.is_none() {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err(Error::Usage(
                "NAME is required (the wizard needs a terminal): stackwiz create NAME --image IMAGE --port PORT".into(),
            ));
        }
        wizard(ctx, &mut req)?;
    }
    Ok(req)
}

/// The interactive wizard of the original bash script: ask for each value, with defaults.
fn wizard(ctx: &Ctx, req: &mut CreateRequest) -> Result<()> {
    eprintln!("stackwiz: new stack (press Enter to take the [default])");
    loop {
        req.name = prompt("Stack name", None)?;
        match crate::validate::stack_name(&req.name) {
            Ok(()) => break,
            Err(e) => eprintln!("  {e}"),
        }
    }
    let types = stacks::templates(&ctx.cfg)?;
    let names: Vec<&str> = types.templates.iter().map(|t| t.name.as_str()).collect();
    loop {
        req.kind = prompt(&format!("Type ({})", names.join(", ")), Some(&req.kind))?;
        if names.contains(&req.kind.as_str()) {
            break;
        }
        eprintln!("  unknown type `{}`", req.kind);
    }
    let spec = crate::template::find(&ctx.cfg, &req.kind)?.spec;
    let image = prompt("Image", spec.image.or(req.image.as_deref()))?;
    req.image = (!image.is_empty()).then_some(image);
    if spec.takes_port {
        let default = spec.port.map(|p| p.to_string());
        req.port = ask_port("Container port", default.as_deref())?;
    }
    if spec.takes_host_port {
        let default = req.port.map(|p| p.to_string());
        req.host_port = ask_port("Host port", default.as_deref())?;
    }
    let domain = prompt(
        "Domain",
        Some(&format!("{}.{}", req.name, ctx.cfg.default_domain)),
    )?;
    req.domain = Some(domain);
    for key in spec.required_env {
        // Required values are secrets (TUNNEL_TOKEN): read them without echo.
        let v = prompt_secret(key)?;
        req.env.insert(key.to_string(), v);
    }
    req.start = matches!(
        prompt("Start it now? (y/N)", Some("n"))?
            .to_ascii_lowercase()
            .as_str(),
        "y" | "yes"
    );
    Ok(())
}

/// Ask for a port until the answer is empty (no port) or valid.
fn ask_port(question: &str, default: Option<&str>) -> Result<Option<u32>> {
    loop {
        let answer = prompt(question, default)?;
        if answer.is_empty() {
            return Ok(None);
        }
        match answer
            .parse::<u32>()
            .map_err(|_| {
                Error::invalid(
                    "port",
                    format!("`{}` is not a number", crate::validate::printable(&answer)),
                )
            })
            .and_then(|p| crate::validate::port("port", p))
        {
            Ok(p) => return Ok(Some(u32::from(p))),
            Err(e) => eprintln!("  {e}"),
        }
    }
}

/// Like [`prompt`], with the terminal's echo off so the answer is not shown. The echo comes
/// back when the answer is in, on an error, and on Ctrl-C (see [`signals`]).
fn prompt_secret(question: &str) -> Result<String> {
    let quiet = signals::EchoOff::new();
    let answer = prompt(&format!("{question} (not shown)"), None);
    if quiet.active() {
        drop(quiet);
        eprintln!();
    }
    answer
}

/// The man page, generated from these definitions.
pub fn man_page() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| Error::io("render", "man page", e))?;
    Ok(buf)
}
