//! Next steps in the MCP server's words: each [`Next`] becomes the tool call that does it,
//! with the argument names of that tool's inputSchema (`start_stack {"name":"web"}`). The
//! few steps no tool can take (the server's own set-up) become a sentence asking the user.
//! No CLI command or flag ever reaches an agent from here.

use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::ops::next::{CreateAgain, DnsRecord, Face, Next};

/// The agent's words, for [`crate::ops::Hint::say`] and `next::in_words_of`.
pub struct Agent;

/// The one value of [`Agent`], to lend to `in_words_of`.
pub static WORDS: Agent = Agent;

impl Face for Agent {
    fn step(&self, next: &Next) -> String {
        match call(next) {
            Some((tool, args)) => format!("{tool} {args}"),
            None => ask_user(next).to_string(),
        }
    }

    fn in_order(&self, steps: &[Next]) -> String {
        steps
            .iter()
            .map(|s| self.step(s))
            .collect::<Vec<_>>()
            .join(", then ")
    }

    fn step_json(&self, next: &Next) -> Value {
        match call(next) {
            Some((tool, arguments)) => json!({ "tool": tool, "arguments": arguments }),
            None => json!({ "ask_user": ask_user(next) }),
        }
    }
}

/// The advice of `error`, for an agent.
pub fn hint(error: &Error) -> Option<String> {
    error.advice().map(|h| h.say(&WORDS))
}

/// The tool and arguments that take `next`; `None` for what only the user can do.
pub fn call(next: &Next) -> Option<(&'static str, Value)> {
    let mut args = Args(Map::new());
    let tool = match next {
        Next::List => "list_stacks",
        Next::Status { name } => {
            args.set("name", name.clone());
            "get_stack_status"
        }
        Next::Start { name } => {
            args.set("name", name.clone());
            "start_stack"
        }
        Next::Remove {
            name,
            purge,
            volumes,
            keep_dns,
        } => {
            args.set("name", name.clone())
                .flag("purge", *purge)
                .flag("volumes", *volumes)
                .flag("keep_dns", *keep_dns);
            "remove_stack"
        }
        Next::Create(c) => {
            create(&mut args, c);
            "create_stack"
        }
        Next::DnsList { name } => {
            args.set("subdomain", name.clone());
            "list_dns_records"
        }
        Next::DnsCreate(r) => {
            record(&mut args, r);
            args.opt("comment", r.comment.as_ref())
                .opt("stack", r.stack.as_ref())
                .flag("update", r.update);
            "create_dns_record"
        }
        Next::DnsUpdate(r) => {
            record(&mut args, r);
            "update_dns_record"
        }
        Next::DnsDelete {
            name,
            record_type,
            stack,
            force,
        } => {
            args.set("subdomain", name.clone())
                .opt("type", record_type.as_ref())
                .opt("stack", stack.as_ref())
                .flag("force", *force);
            "delete_dns_record"
        }
        Next::Doctor => "check_environment",
        Next::DoctorFix | Next::Init | Next::Config => return None,
        Next::Confirmed(inner) => {
            let (tool, mut args) = call(inner)?;
            // Only remove_stack asks for the user's agreement as an argument.
            if tool == "remove_stack" {
                args["confirm"] = true.into();
            }
            return Some((tool, args));
        }
    };
    Some((tool, Value::Object(args.0)))
}

/// What only the user can do on the server, as a sentence.
fn ask_user(next: &Next) -> &'static str {
    match next {
        Next::DoctorFix => {
            "ask the user to run the set-up check with its fix on the server (it creates the base \
             dir and the proxy network)"
        }
        Next::Init => "ask the user to initialise the base dir on the server",
        Next::Config => "ask the user for the server's effective settings",
        _ => "ask the user",
    }
}

struct Args(Map<String, Value>);

impl Args {
    fn set(&mut self, key: &str, value: impl Into<Value>) -> &mut Args {
        self.0.insert(key.to_string(), value.into());
        self
    }

    fn opt<T: Clone + Into<Value>>(&mut self, key: &str, value: Option<&T>) -> &mut Args {
        if let Some(v) = value {
            self.set(key, v.clone());
        }
        self
    }

    fn flag(&mut self, key: &str, on: bool) -> &mut Args {
        if on {
            self.set(key, true);
        }
        self
    }
}

fn create(args: &mut Args, c: &CreateAgain) {
    args.set("name", c.name.as_str())
        .set("type", c.kind.as_str())
        .opt("image", c.image.as_ref())
        .opt("port", c.port.as_ref())
        .opt("host_port", c.host_port.as_ref())
        .opt("domain", c.domain.as_ref())
        .flag("create_dns", c.dns)
        .flag("auto_start", c.start);
    if !c.env_keys.is_empty() {
        // The values are the user's secrets: named by key, to be given again.
        let env: Map<String, Value> = c
            .env_keys
            .iter()
            .map(|k| (k.clone(), Value::from("…")))
            .collect();
        args.set("environment", env);
    }
}

fn record(args: &mut Args, r: &DnsRecord) {
    args.set("subdomain", r.name.as_str())
        .opt("type", r.record_type.as_ref())
        .opt("value", r.value.as_ref())
        .opt("proxied", r.proxied.as_ref())
        .opt("ttl", r.ttl.as_ref());
}
