//! The one error type of stackwiz.
//!
//! Every variant carries the context a user needs to act: which program with which
//! arguments failed, which file at which line, which field broke which rule. The
//! error decides its own exit code and its MCP mapping in one exhaustive `match`,
//! so a new variant forces that decision. Nothing here may format a secret: callers
//! never put a token, a `.env` value or a generated key into an error.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::ops::next::{Hint, Next};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// The command line itself is wrong (missing NAME without a terminal, bad combination).
    Usage(String),
    /// A value broke a validation rule. `field` names the input, `rule` says what is allowed.
    Invalid {
        field: String,
        rule: String,
    },
    /// Several validation problems at once (validate_stack reports them all).
    InvalidMany(Vec<Error>),
    /// The configuration file could not be read or parsed.
    Config {
        path: PathBuf,
        line: Option<usize>,
        key: Option<String>,
        message: String,
    },
    /// A template could not be rendered.
    Template {
        file: String,
        line: Option<usize>,
        message: String,
    },
    StackExists {
        name: String,
        path: PathBuf,
    },
    StackNotFound {
        name: String,
        path: PathBuf,
    },
    /// The action needs a confirmation that was not given (no terminal and no --yes).
    NotConfirmed {
        action: String,
        hint: Hint,
    },
    /// The process may not do what was asked (ownership, permissions), found before writing.
    Permission {
        message: String,
        hint: Option<Hint>,
    },
    Io {
        action: String,
        path: PathBuf,
        source: io::Error,
    },
    /// A program we need is not installed.
    ProgramNotFound {
        program: String,
        hint: Hint,
    },
    /// A child process failed. `command` is the shell-quoted command line.
    Command {
        command: String,
        status: Option<i32>,
        stderr: String,
        hint: Option<Hint>,
    },
    /// A child gave no answer within its time budget, and was killed (with its children).
    Timeout {
        command: String,
        after: std::time::Duration,
    },
    /// The caller cancelled the operation (an MCP cancel, a signal) while a child ran; the
    /// child was killed.
    Cancelled {
        command: String,
    },
    /// Cloudflare answered with an error envelope (or an HTTP error).
    Cloudflare {
        status: u16,
        errors: Vec<(i64, String)>,
        hint: Option<Hint>,
    },
    /// A transport problem talking to an HTTP service, or an unusable answer.
    Http {
        url: String,
        message: String,
    },
    /// Cloudflare token not found anywhere. `traefik_env` is the last place looked.
    NoToken {
        traefik_env: PathBuf,
    },
    /// A step after the stack was written failed; the stack stays. `retry` is what to do,
    /// in order, to finish the job.
    Partial {
        done: String,
        source: Box<Error>,
        retry: Vec<Next>,
    },
    /// Anything else operational, already phrased for the user.
    Other {
        message: String,
        hint: Option<Hint>,
    },
    /// The command already printed its own account of the failure (doctor's checklist).
    Reported(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.into(),
            rule: rule.into(),
        }
    }

    pub fn io(action: impl Into<String>, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            action: action.into(),
            path: path.into(),
            source,
        }
    }

    pub fn other(message: impl Into<String>) -> Error {
        Error::Other {
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(message: impl Into<String>, hint: impl Into<Hint>) -> Error {
        Error::Other {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// 0 success, 1 operational failure, 2 usage or validation error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_)
            | Error::Invalid { .. }
            | Error::InvalidMany(_)
            | Error::Config { .. }
            | Error::NotConfirmed { .. } => 2,
            Error::Template { .. }
            | Error::StackExists { .. }
            | Error::StackNotFound { .. }
            | Error::Permission { .. }
            | Error::Io { .. }
            | Error::ProgramNotFound { .. }
            | Error::Command { .. }
            | Error::Timeout { .. }
            | Error::Cloudflare { .. }
            | Error::Http { .. }
            | Error::NoToken { .. }
            | Error::Partial { .. }
            | Error::Other { .. }
            | Error::Reported(_) => 1,
            // As a shell reports a command stopped by Ctrl-C.
            Error::Cancelled { .. } => 130,
        }
    }

    /// The same error with `hide` applied to the text that came from outside (docker's
    /// stderr, Compose's messages), which may quote values from a stack's `.env`.
    pub fn scrub(self, hide: &dyn Fn(&str) -> String) -> Error {
        match self {
            Error::Command {
                command,
                status,
                stderr,
                hint,
            } => Error::Command {
                command,
                status,
                stderr: hide(&stderr),
                hint,
            },
            Error::Template {
                file,
                line,
                message,
            } => Error::Template {
                file,
                line,
                message: hide(&message),
            },
            Error::Partial {
                done,
                source,
                retry,
            } => Error::Partial {
                done,
                source: Box::new(source.scrub(hide)),
                retry,
            },
            Error::Other { message, hint } => Error::Other {
                message: hide(&message),
                hint,
            },
            other => other,
        }
    }

    /// A short machine-readable kind, used in `--json` error output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::Invalid { .. } | Error::InvalidMany(_) => "invalid",
            Error::Config { .. } => "config",
            Error::NotConfirmed { .. } => "not_confirmed",
            Error::Template { .. } => "template",
            Error::StackExists { .. } => "stack_exists",
            Error::StackNotFound { .. } => "stack_not_found",
            Error::Permission { .. } => "permission",
            Error::Io { .. } => "io",
            Error::ProgramNotFound { .. } => "program_not_found",
            Error::Command { .. } => "command",
            Error::Timeout { .. } => "timeout",
            Error::Cancelled { .. } => "cancelled",
            Error::Cloudflare { .. } => "cloudflare",
            Error::Http { .. } => "http",
            Error::NoToken { .. } => "no_token",
            Error::Partial { .. } => "partial",
            Error::Other { .. } => "error",
            Error::Reported(_) => "reported",
        }
    }

    /// How to fix it, where advice helps: words both faces share, next steps as data. Each
    /// face says it in its own words ([`Hint::say`]); [`Error::hint`] is the people's.
    pub fn advice(&self) -> Option<Hint> {
        match self {
            Error::StackExists { name, .. } => Some(
                Hint::from("choose another name, or remove the old stack first: ").then(
                    Next::Remove {
                        name: name.clone(),
                        purge: false,
                        volumes: false,
                        keep_dns: false,
                    },
                ),
            ),
            Error::StackNotFound { .. } => {
                Some(Hint::from("see the stacks there are: ").then(Next::List))
            }
            Error::NotConfirmed { hint, .. } => Some(hint.clone()),
            Error::Permission { hint, .. } => hint.clone(),
            Error::ProgramNotFound { hint, .. } => Some(hint.clone()),
            Error::Command { hint, .. } => hint.clone(),
            Error::Timeout { .. } => Some(
                "the Docker engine is not answering: check it (`docker version`, DOCKER_HOST, \
                 the docker context); if it is only slow, allow more time with \
                 STACKWIZ_DOCKER_TIMEOUT=SECONDS (config key docker_timeout)"
                    .into(),
            ),
            Error::Cloudflare { hint, .. } => hint.clone(),
            Error::NoToken { traefik_env } => Some(Hint::from(format!(
                "set STACKWIZ_CF_API_TOKEN (or CF_DNS_API_TOKEN, CF_API_TOKEN, \
                 STACKWIZ_CF_API_TOKEN_FILE), put api_token under [dns] in the config file, \
                 or a CF_DNS_API_TOKEN= line in {}",
                traefik_env.display()
            ))),
            Error::Partial { retry, source, .. } => {
                let first = match source.advice() {
                    Some(h) => h.text("; then retry with: "),
                    None => Hint::from("retry with: "),
                };
                Some(first.then_all(retry.clone()))
            }
            Error::Other { hint, .. } => hint.clone(),
            Error::Config { .. } => Some("fix the file, or point STACKWIZ_CONFIG elsewhere".into()),
            Error::Usage(_)
            | Error::Invalid { .. }
            | Error::InvalidMany(_)
            | Error::Template { .. }
            | Error::Io { .. }
            | Error::Http { .. }
            | Error::Cancelled { .. }
            | Error::Reported(_) => None,
        }
    }

    /// The advice for a person at the command line: next steps as commands to paste (the
    /// `Display` of [`Hint`], which `cli::next` gives it). An agent gets `mcp::next::hint`.
    pub fn hint(&self) -> Option<String> {
        self.advice().map(|h| h.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => write!(f, "{message}"),
            Error::Invalid { field, rule } => write!(f, "invalid {field}: {rule}"),
            Error::InvalidMany(errors) => {
                let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                write!(f, "{}", lines.join("; "))
            }
            Error::Config {
                path,
                line,
                key,
                message,
            } => {
                write!(f, "config file {}", path.display())?;
                if let Some(line) = line {
                    write!(f, " line {line}")?;
                }
                if let Some(key) = key {
                    write!(f, " key `{key}`")?;
                }
                write!(f, ": {message}")
            }
            Error::Template {
                file,
                line,
                message,
            } => {
                write!(f, "template {file}")?;
                if let Some(line) = line {
                    write!(f, " line {line}")?;
                }
                write!(f, ": {message}")
            }
            Error::StackExists { name, path } => {
                write!(f, "stack {name} already exists at {}", path.display())
            }
            Error::StackNotFound { name, path } => {
                write!(f, "no stack named {name} (no folder {})", path.display())
            }
            Error::NotConfirmed { action, .. } => write!(f, "{action} needs confirmation"),
            Error::Permission { message, .. } => write!(f, "{message}"),
            Error::Io {
                action,
                path,
                source,
            } => {
                write!(f, "cannot {action} {}: {source}", path.display())
            }
            Error::ProgramNotFound { program, .. } => write!(f, "{program} not found"),
            Error::Command {
                command,
                status,
                stderr,
                ..
            } => {
                match status {
                    Some(code) => write!(f, "`{command}` failed with exit status {code}")?,
                    None => write!(f, "`{command}` was killed by a signal")?,
                }
                let stderr = stderr.trim();
                if !stderr.is_empty() {
                    // Keep it to a readable size: the last lines carry the reason.
                    let lines: Vec<&str> = stderr.lines().collect();
                    let tail = &lines[lines.len().saturating_sub(8)..];
                    write!(f, ": {}", tail.join(" | "))?;
                }
                Ok(())
            }
            Error::Timeout { command, after } => write!(
                f,
                "`{command}` gave no answer within {} s and was stopped",
                seconds(*after)
            ),
            Error::Cancelled { command } => write!(f, "`{command}` was cancelled and stopped"),
            Error::Cloudflare { status, errors, .. } => {
                write!(f, "Cloudflare API error (HTTP {status})")?;
                if !errors.is_empty() {
                    let parts: Vec<String> = errors
                        .iter()
                        .map(|(code, message)| format!("[{code}] {message}"))
                        .collect();
                    write!(f, ": {}", parts.join(", "))?;
                }
                Ok(())
            }
            Error::Http { url, message } => write!(f, "{url}: {message}"),
            Error::NoToken { .. } => write!(f, "Cloudflare API token not configured"),
            Error::Partial { done, source, .. } => write!(f, "{done}, but {source}"),
            Error::Other { message, .. } => write!(f, "{message}"),
            Error::Reported(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Whether this is our stdout closed by its reader (`stackwiz logs app | head -1`): not
    /// a failure, the reader has what it wanted.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// `30`, `0.5`: a budget as people write it.
fn seconds(d: std::time::Duration) -> String {
    let s = format!("{:.3}", d.as_secs_f64());
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
