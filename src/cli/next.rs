//! Next steps in the command line's words: each [`Next`] becomes the `stackwiz` command that
//! does it, shell-quoted so it can be pasted. People read `Display`, so `Display` of
//! [`Next`] and [`Hint`] is these words; `--json` writes `{"command": "..."}`.

use std::fmt;

use serde_json::{json, Value};

use crate::ops::next::{CreateAgain, DnsRecord, Face, Hint, Next};

/// The command line's words, for [`Hint::say`] and `next::in_words_of`.
pub struct Cli;

/// The one value of [`Cli`], to lend to `in_words_of`.
pub static WORDS: Cli = Cli;

impl Face for Cli {
    fn step(&self, next: &Next) -> String {
        command_line(next)
    }

    fn in_order(&self, steps: &[Next]) -> String {
        steps
            .iter()
            .map(command_line)
            .collect::<Vec<_>>()
            .join(" && ")
    }

    fn step_json(&self, next: &Next) -> Value {
        json!({ "command": command_line(next) })
    }
}

impl fmt::Display for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&command_line(self))
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.say(&WORDS))
    }
}

/// `stackwiz ...`, shell-quoted.
pub fn command_line(next: &Next) -> String {
    let mut line = argv(next)
        .iter()
        .map(|a| quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    if let Next::Create(c) = next {
        if !c.env_keys.is_empty() {
            line.push_str(" (with the same --env values again)");
        }
    }
    line
}

/// The arguments of the command that does `next`, program name first.
pub fn argv(next: &Next) -> Vec<String> {
    let mut a = Argv(vec!["stackwiz".to_string()]);
    match next {
        Next::List => {
            a.push("list");
        }
        Next::Status { name } => {
            a.push("status").push(name);
        }
        Next::Start { name } => {
            a.push("start").push(name);
        }
        Next::Remove {
            name,
            purge,
            volumes,
            keep_dns,
        } => {
            a.push("remove")
                .push(name)
                .flag("--purge", *purge)
                .flag("--volumes", *volumes)
                .flag("--keep-dns", *keep_dns);
        }
        Next::Create(c) => create(&mut a, c),
        Next::DnsList { name } => {
            a.push("dns").push("list").opt("--name", Some(name));
        }
        Next::DnsCreate(r) => record(a.push("dns").push("create"), r),
        Next::DnsUpdate(r) => record(a.push("dns").push("update"), r),
        Next::DnsDelete {
            name,
            record_type,
            stack,
            force,
        } => {
            a.push("dns")
                .push("delete")
                .push(name)
                .opt("--type", record_type.as_ref())
                .opt("--stack", stack.as_ref())
                .flag("--force", *force);
        }
        Next::Doctor => {
            a.push("doctor");
        }
        Next::DoctorFix => {
            a.push("doctor").push("--fix");
        }
        Next::Init => {
            a.push("init");
        }
        Next::Config => {
            a.push("config");
        }
        Next::Confirmed(inner) => {
            let mut inner = argv(inner);
            inner.push("--yes".into());
            return inner;
        }
    }
    a.0
}

struct Argv(Vec<String>);

impl Argv {
    fn push(&mut self, arg: impl ToString) -> &mut Argv {
        self.0.push(arg.to_string());
        self
    }

    fn opt(&mut self, flag: &str, value: Option<&impl ToString>) -> &mut Argv {
        if let Some(v) = value {
            self.push(flag).push(v.to_string());
        }
        self
    }

    fn flag(&mut self, flag: &str, on: bool) -> &mut Argv {
        if on {
            self.push(flag);
        }
        self
    }
}

fn create(a: &mut Argv, c: &CreateAgain) {
    a.push("create")
        .push(&c.name)
        .opt("--type", Some(&c.kind))
        .opt("--image", c.image.as_ref())
        .opt("--port", c.port.as_ref())
        .opt("--host-port", c.host_port.as_ref())
        .opt("--domain", c.domain.as_ref())
        .flag("--dns", c.dns)
        .flag("--start", c.start);
    for key in &c.env_keys {
        a.push("--env").push(format!("{key}=…"));
    }
}

fn record(a: &mut Argv, r: &DnsRecord) {
    a.push(&r.name)
        .opt("--type", r.record_type.as_ref())
        .opt("--value", r.value.as_ref())
        .flag("--proxied", r.proxied == Some(true))
        .flag("--no-proxied", r.proxied == Some(false))
        .opt("--ttl", r.ttl.as_ref())
        .opt("--comment", r.comment.as_ref())
        .opt("--stack", r.stack.as_ref())
        .flag("--update", r.update);
}

/// An argument as a POSIX shell reads it back: bare when only safe characters, else in
/// single quotes.
fn quote(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:@,+%^".contains(c) || !c.is_ascii();
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{dns::DnsCommand, Command};
    use crate::error::Error;

    #[test]
    fn every_next_step_is_a_command_line_the_cli_parses_back() {
        for next in Next::examples() {
            let args = argv(&next);
            let parsed = crate::cli::Cli::try_parse_from(&args)
                .unwrap_or_else(|e| panic!("{next:?}: `{}` does not parse: {e}", args.join(" ")));
            // The command parsed back is the step, not just any command.
            let back = match (&parsed.command, &next) {
                (Command::List, Next::List)
                | (Command::Doctor { fix: false }, Next::Doctor)
                | (Command::Doctor { fix: true }, Next::DoctorFix)
                | (Command::Init, Next::Init)
                | (Command::Config, Next::Config) => true,
                (Command::Status(a), Next::Status { name })
                | (Command::Start(a), Next::Start { name }) => &a.name == name,
                (
                    Command::Remove(a),
                    Next::Remove {
                        name,
                        purge,
                        volumes,
                        keep_dns,
                    },
                ) => {
                    (&a.name, a.purge, a.volumes, a.keep_dns, a.yes)
                        == (name, *purge, *volumes, *keep_dns, false)
                }
                (Command::Remove(a), Next::Confirmed(inner)) => {
                    a.yes
                        && matches!(&**inner, Next::Remove { name, purge, .. } if *name == a.name && *purge == a.purge)
                }
                (Command::Create(a), Next::Create(c)) => {
                    a.name.as_ref() == Some(&c.name)
                        && a.kind == c.kind
                        && (&a.image, a.port, a.host_port, &a.domain, a.dns, a.start)
                            == (&c.image, c.port, c.host_port, &c.domain, c.dns, c.start)
                        && a.env.len() == c.env_keys.len()
                }
                (Command::Dns(DnsCommand::List(a)), Next::DnsList { name }) => {
                    a.name.as_ref() == Some(name)
                }
                (Command::Dns(DnsCommand::Create(a)), Next::DnsCreate(r)) => {
                    (
                        &a.name,
                        a.kind.map(|k| k.as_str().to_string()),
                        &a.fields.value,
                        a.fields.proxied(),
                        a.fields.ttl,
                        &a.comment,
                        &a.stack,
                        a.update,
                    ) == (
                        &r.name,
                        r.record_type.clone(),
                        &r.value,
                        r.proxied,
                        r.ttl,
                        &r.comment,
                        &r.stack,
                        r.update,
                    )
                }
                (Command::Dns(DnsCommand::Update(a)), Next::DnsUpdate(r)) => {
                    (
                        &a.name,
                        a.kind.map(|k| k.as_str().to_string()),
                        &a.fields.value,
                        a.fields.proxied(),
                        a.fields.ttl,
                    ) == (&r.name, r.record_type.clone(), &r.value, r.proxied, r.ttl)
                }
                (
                    Command::Dns(DnsCommand::Delete(a)),
                    Next::DnsDelete {
                        name,
                        record_type,
                        stack,
                        force,
                    },
                ) => {
                    (
                        &a.name,
                        a.kind.map(|k| k.as_str().to_string()),
                        &a.stack,
                        a.force,
                        a.yes,
                    ) == (name, record_type.clone(), stack, *force, false)
                }
                (Command::Dns(DnsCommand::Delete(a)), Next::Confirmed(inner)) => {
                    a.yes
                        && matches!(&**inner, Next::DnsDelete { name, stack, .. } if *name == a.name && *stack == a.stack)
                }
                _ => false,
            };
            assert!(
                back,
                "{next:?}: `{}` parses as {:?}",
                args.join(" "),
                parsed.command
            );
        }
    }

    #[test]
    fn a_command_line_is_pasteable() {
        let step = Next::DnsCreate(Box::new(DnsRecord {
            name: "app".into(),
            value: Some("it's $HOME".into()),
            proxied: Some(false),
            ..DnsRecord::default()
        }));
        assert_eq!(
            step.to_string(),
            r"stackwiz dns create app --value 'it'\''s $HOME' --no-proxied"
        );
        assert_eq!(
            Next::Start { name: "web".into() }.to_string(),
            "stackwiz start web"
        );
    }

    #[test]
    fn a_partial_failure_names_the_commands_that_finish_the_job() {
        let e = Error::Partial {
            done: "stack app was created at /s/app".into(),
            source: Box::new(Error::other("the engine is down")),
            retry: vec![
                Next::DnsCreate(Box::new(DnsRecord {
                    name: "app.example.com".into(),
                    stack: Some("app".into()),
                    ..DnsRecord::default()
                })),
                Next::Start { name: "app".into() },
            ],
        };
        assert_eq!(
            e.to_string(),
            "stack app was created at /s/app, but the engine is down"
        );
        assert_eq!(
            e.hint().unwrap(),
            "retry with: stackwiz dns create app.example.com --stack app && stackwiz start app"
        );
        let missing = Error::StackNotFound {
            name: "x".into(),
            path: "/s/x".into(),
        };
        assert_eq!(
            missing.hint().unwrap(),
            "see the stacks there are: stackwiz list"
        );
    }
}
