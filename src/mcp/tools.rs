//! The stackwiz tools and resources: each tool deserializes its arguments into the request
//! struct the CLI uses (or a few plain fields) and calls the same operation in `crate::ops`;
//! its result is that operation's report, as `structuredContent`. No stack or DNS logic
//! lives here, only argument names, schemas, annotations, and the two things that are the
//! MCP face's own: `remove_stack`'s `confirm: true` (the CLI asks on the terminal instead)
//! and the cap on how much log text goes back to the model.
//!
//! Output schemas name a report's top-level fields and their types (`required` for those
//! it always has) and leave objects open, so a field added to a report later does not break
//! a client that validates.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::dispatch::{
    arguments, Annotations, Catalog, Resource, ResourceTemplate, ResourceText, Tool,
};
use crate::cloudflare::{TTL_MAX, TTL_RULE};
use crate::error::Error;
use crate::ops::dns::{self, DnsCreate, DnsDelete, DnsList, DnsUpdate, IpQuery};
use crate::ops::next::in_words_of;
use crate::ops::stacks::{self, Action, RemoveRequest};
use crate::ops::{doctor, Ctx, Hint, Next};
use crate::stack::{self, CreateRequest};

/// The most log lines one `get_stack_logs` call returns.
pub const MAX_LOG_TAIL: u32 = 1000;
/// The most log text one call returns; the end is kept, since the latest lines matter most.
pub const MAX_LOG_BYTES: usize = 200_000;

const READ: Annotations = Annotations {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: false,
};

pub static TOOLS: &[Tool] = &[
    Tool {
        name: "list_templates",
        title: "List templates",
        description: "The stack types create_stack accepts, with default image, port and required environment.",
        input_schema: no_arguments,
        output_schema: templates_schema,
        annotations: READ,
        call: list_templates,
    },
    Tool {
        name: "validate_stack",
        title: "Validate a stack",
        description: "Dry run of create_stack: every problem, or the files it would write (.env values redacted).",
        input_schema: create_input,
        output_schema: validation_schema,
        annotations: READ,
        call: validate_stack,
    },
    Tool {
        name: "create_stack",
        title: "Create a stack",
        description: "Write a new Compose stack behind Traefik; optionally create its DNS record and start it.",
        input_schema: create_input,
        output_schema: created_schema,
        annotations: Annotations { read_only: false, destructive: false, idempotent: false, open_world: true },
        call: create_stack,
    },
    Tool {
        name: "list_stacks",
        title: "List stacks",
        description: "Every stack with its type, domain and state.",
        input_schema: no_arguments,
        output_schema: list_schema,
        annotations: READ,
        call: list_stacks,
    },
    Tool {
        name: "get_stack_status",
        title: "Stack status",
        description: "A stack's state and containers (state, health, image, ports).",
        input_schema: name_input,
        output_schema: status_schema,
        annotations: READ,
        call: get_stack_status,
    },
    Tool {
        name: "get_stack_logs",
        title: "Stack logs",
        description: "The last lines of a stack's container logs.",
        input_schema: logs_input,
        output_schema: logs_schema,
        annotations: READ,
        call: get_stack_logs,
    },
    Tool {
        name: "start_stack",
        title: "Start a stack",
        description: "docker compose up -d; pulls missing images.",
        input_schema: name_input,
        output_schema: lifecycle_schema,
        annotations: Annotations { read_only: false, destructive: false, idempotent: true, open_world: true },
        call: start_stack,
    },
    Tool {
        name: "stop_stack",
        title: "Stop a stack",
        description: "Stop the containers, keeping them and all files.",
        input_schema: name_input,
        output_schema: lifecycle_schema,
        annotations: Annotations { read_only: false, destructive: false, idempotent: true, open_world: false },
        call: stop_stack,
    },
    Tool {
        name: "restart_stack",
        title: "Restart a stack",
        description: "Restart the containers.",
        input_schema: name_input,
        output_schema: lifecycle_schema,
        annotations: Annotations { read_only: false, destructive: false, idempotent: false, open_world: false },
        call: restart_stack,
    },
    Tool {
        name: "update_stack",
        title: "Update a stack",
        description: "Pull newer images, recreate changed containers. A failed pull changes nothing.",
        input_schema: name_input,
        output_schema: lifecycle_schema,
        annotations: Annotations { read_only: false, destructive: true, idempotent: true, open_world: true },
        call: update_stack,
    },
    Tool {
        name: "remove_stack",
        title: "Remove a stack",
        description: "Take a stack down, trash its folder (purge: delete it) and delete its DNS records. Needs confirm: true.",
        input_schema: remove_input,
        output_schema: removed_schema,
        annotations: Annotations { read_only: false, destructive: true, idempotent: false, open_world: true },
        call: remove_stack,
    },
    Tool {
        name: "check_environment",
        title: "Check the environment",
        description: "The doctor checklist (docker, compose, network, token...), each failure with its fix.",
        input_schema: no_arguments,
        output_schema: doctor_schema,
        annotations: Annotations { read_only: true, destructive: false, idempotent: true, open_world: true },
        call: check_environment,
    },
    Tool {
        name: "get_server_ip",
        title: "Public IP",
        description: "This server's public IP, as a record value of AUTO gets it.",
        input_schema: ip_input,
        output_schema: ip_schema,
        annotations: Annotations { read_only: true, destructive: false, idempotent: true, open_world: true },
        call: get_server_ip,
    },
    Tool {
        name: "list_dns_records",
        title: "List DNS records",
        description: "Cloudflare DNS records of a name, a zone, or the default domain's zone.",
        input_schema: dns_list_input,
        output_schema: dns_listed_schema,
        annotations: Annotations { read_only: true, destructive: false, idempotent: true, open_world: true },
        call: list_dns_records,
    },
    Tool {
        name: "create_dns_record",
        title: "Create a DNS record",
        description: "Create a Cloudflare DNS record owned by stackwiz. An identical one is left as is; a different one is an error unless update.",
        input_schema: dns_create_input,
        output_schema: dns_change_schema,
        annotations: Annotations { read_only: false, destructive: true, idempotent: true, open_world: true },
        call: create_dns_record,
    },
    Tool {
        name: "update_dns_record",
        title: "Update a DNS record",
        description: "Change the given fields of a Cloudflare DNS record.",
        input_schema: dns_update_input,
        output_schema: dns_change_schema,
        annotations: Annotations { read_only: false, destructive: true, idempotent: true, open_world: true },
        call: update_dns_record,
    },
    Tool {
        name: "delete_dns_record",
        title: "Delete a DNS record",
        description: "Delete the DNS records of a name that stackwiz created (force: all of them; stack: that stack's).",
        input_schema: dns_delete_input,
        output_schema: dns_deleted_schema,
        annotations: Annotations { read_only: false, destructive: true, idempotent: true, open_world: true },
        call: delete_dns_record,
    },
    Tool {
        name: "sync_dns",
        title: "Sync DNS",
        description: "Point the A/AAAA records stackwiz detected (`ip=auto`) for this host's stacks at this server's public IP; others are left alone.",
        input_schema: dry_run_input,
        output_schema: sync_schema,
        annotations: Annotations { read_only: false, destructive: true, idempotent: true, open_world: true },
        call: sync_dns,
    },
];

static TEMPLATES: &[ResourceTemplate] = &[
    ResourceTemplate {
        uri_template: "stack://{name}/compose",
        name: "stack-compose",
        title: "Stack compose file",
        description: "A stack's docker-compose.yml.",
        mime_type: "application/yaml",
    },
    ResourceTemplate {
        uri_template: "stack://{name}/status",
        name: "stack-status",
        title: "Stack status",
        description: "A stack's state and containers, as get_stack_status returns them.",
        mime_type: "application/json",
    },
    ResourceTemplate {
        uri_template: "template://{type}",
        name: "template",
        title: "Stack template",
        description: "A template type's compose and .env template text.",
        mime_type: "text/plain",
    },
];

pub static CATALOG: Catalog = Catalog {
    tools: TOOLS,
    resource_templates: TEMPLATES,
    list_resources,
    read_resource,
};

// ---------------------------------------------------------------------------------------
// calls

/// Tools without arguments still refuse unknown ones, so a misspelt call is noticed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameArgs {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogsArgs {
    name: String,
    #[serde(default = "default_tail")]
    tail: u32,
    #[serde(default)]
    since: Option<String>,
}

fn default_tail() -> u32 {
    100
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRunArgs {
    #[serde(default)]
    dry_run: bool,
}

/// The report as `structuredContent`, its next steps as tool calls.
fn report(report: impl Serialize) -> Result<Value, Error> {
    in_words_of(&super::next::WORDS, || serde_json::to_value(report))
        .map_err(|e| Error::other(format!("cannot encode the result: {e}")))
}

fn list_templates(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let NoArgs {} = arguments(args)?;
    report(stacks::templates(&ctx.cfg)?)
}

fn validate_stack(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let req: CreateRequest = arguments(args)?;
    report(stacks::validate(ctx, &req)?)
}

fn create_stack(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let req: CreateRequest = arguments(args)?;
    report(stacks::create(ctx, &req, false)?)
}

fn list_stacks(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let NoArgs {} = arguments(args)?;
    report(stacks::list(ctx)?)
}

fn get_stack_status(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let NameArgs { name } = arguments(args)?;
    report(stacks::status(ctx, &name)?)
}

fn get_stack_logs(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let LogsArgs { name, tail, since } = arguments(args)?;
    let mut logs = stacks::logs(ctx, &name, tail.min(MAX_LOG_TAIL), false, since.as_deref())?;
    logs.logs = keep_end(logs.logs, MAX_LOG_BYTES);
    report(logs)
}

fn lifecycle(ctx: &Ctx, args: Value, action: Action) -> Result<Value, Error> {
    let NameArgs { name } = arguments(args)?;
    report(stacks::lifecycle(ctx, &name, action)?)
}

fn start_stack(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    lifecycle(ctx, args, Action::Start)
}

fn stop_stack(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    lifecycle(ctx, args, Action::Stop)
}

fn restart_stack(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    lifecycle(ctx, args, Action::Restart)
}

fn update_stack(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    lifecycle(ctx, args, Action::Update)
}

/// The CLI confirms on the terminal; an agent confirms with `confirm: true`.
fn remove_stack(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let mut args = args;
    let confirm = args.as_object_mut().and_then(|a| a.remove("confirm"));
    let req: RemoveRequest = arguments(args)?;
    if confirm != Some(Value::Bool(true)) {
        return Err(Error::NotConfirmed {
            action: format!("removing stack {}", req.name),
            hint: Hint::from(format!(
                "once the user has agreed to take {} down{}, call ",
                req.name,
                if req.purge {
                    " and delete its folder"
                } else {
                    " and move its folder to the trash"
                }
            ))
            .then(Next::Confirmed(Box::new(Next::Remove {
                name: req.name.clone(),
                purge: req.purge,
                volumes: req.volumes,
                keep_dns: req.keep_dns,
            }))),
        });
    }
    report(stacks::remove(ctx, &req)?)
}

fn check_environment(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let NoArgs {} = arguments(args)?;
    report(doctor::doctor(ctx, false))
}

fn get_server_ip(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let req: IpQuery = arguments(args)?;
    report(dns::ip(ctx, &req)?)
}

fn list_dns_records(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let req: DnsList = arguments(args)?;
    report(dns::list(ctx, &req)?)
}

fn create_dns_record(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let req: DnsCreate = arguments(args)?;
    report(dns::create(ctx, &req)?)
}

fn update_dns_record(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let req: DnsUpdate = arguments(args)?;
    report(dns::update(ctx, &req)?)
}

fn delete_dns_record(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let req: DnsDelete = arguments(args)?;
    report(dns::delete(ctx, &req)?)
}

fn sync_dns(ctx: &Ctx, args: Value) -> Result<Value, Error> {
    let DryRunArgs { dry_run } = arguments(args)?;
    report(dns::sync_stacks(ctx, dry_run)?)
}

/// The last `max` bytes of `text`, from a line start, saying how much was left out.
fn keep_end(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    if let Some(newline) = text[start..].find('\n') {
        start += newline + 1;
    }
    format!(
        "[{} earlier bytes left out; ask for a smaller tail or a later since]\n{}",
        start,
        &text[start..]
    )
}

// ---------------------------------------------------------------------------------------
// resources

fn list_resources(ctx: &Ctx) -> Result<Vec<Resource>, Error> {
    let mut resources = Vec::new();
    for meta in stack::scan(&ctx.cfg)? {
        resources.push(Resource {
            uri: format!("stack://{}/compose", meta.name),
            name: format!("{} compose file", meta.name),
            description: format!("docker-compose.yml of stack {}", meta.name),
            mime_type: "application/yaml",
        });
        resources.push(Resource {
            uri: format!("stack://{}/status", meta.name),
            name: format!("{} status", meta.name),
            description: format!("State and containers of stack {}", meta.name),
            mime_type: "application/json",
        });
    }
    for kind in stacks::templates(&ctx.cfg)?.templates {
        resources.push(Resource {
            uri: format!("template://{}", kind.name),
            name: format!("{} template", kind.name),
            description: kind.description,
            mime_type: "text/plain",
        });
    }
    Ok(resources)
}

/// `Ok(None)` for anything that names no stack or template; never a stack's `.env`.
fn read_resource(ctx: &Ctx, uri: &str) -> Result<Option<ResourceText>, Error> {
    let read = if let Some(rest) = uri.strip_prefix("stack://") {
        // A symlink in the base dir is no stack (stackwiz never follows one): for an agent
        // that is no such resource, as for any other name that is not a stack.
        let planted = |name: &str| {
            crate::validate::stack_name(name).is_ok()
                && ctx
                    .cfg
                    .base_dir
                    .join(name)
                    .symlink_metadata()
                    .is_ok_and(|m| m.file_type().is_symlink())
        };
        if rest.split_once('/').is_some_and(|(name, _)| planted(name)) {
            return Ok(None);
        }
        match rest.split_once('/') {
            Some((name, "compose")) => {
                compose_text(ctx, name).map(|text| (text, "application/yaml"))
            }
            Some((name, "status")) => match stacks::status(ctx, name).and_then(report) {
                Ok(status) => Ok((format!("{status:#}"), "application/json")),
                Err(e @ (Error::StackNotFound { .. } | Error::Invalid { .. })) => Err(e),
                // The stack exists but its state cannot be read (engine down): the status is
                // that error, not a fault of the server.
                Err(e) => Ok((
                    format!(
                        "{:#}",
                        json!({"error": e.to_string(), "hint": super::next::hint(&e)})
                    ),
                    "application/json",
                )),
            },
            _ => return Ok(None),
        }
    } else if let Some(kind) = uri.strip_prefix("template://") {
        stacks::template_text(&ctx.cfg, kind).map(|text| (text, "text/plain"))
    } else {
        return Ok(None);
    };
    match read {
        Ok((text, mime_type)) => Ok(Some(ResourceText {
            uri: uri.to_string(),
            mime_type,
            text,
        })),
        // A name that breaks the rules, or no such stack or template: no such resource.
        Err(Error::StackNotFound { .. } | Error::Invalid { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn compose_text(ctx: &Ctx, name: &str) -> Result<String, Error> {
    stack::read_compose(&ctx.cfg, name)
}

// ---------------------------------------------------------------------------------------
// input schemas
//
// Every word of a schema is paid for in each agent's context, on every session: the
// constraints are exact (required, enums, ranges, additionalProperties), the descriptions
// say only what the name and type do not.

fn object(properties: Value, required: &[&str]) -> Value {
    let mut schema =
        json!({"type": "object", "properties": properties, "additionalProperties": false});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn no_arguments() -> Value {
    json!({"type": "object", "additionalProperties": false})
}

fn stack_name() -> Value {
    json!({"type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"})
}

fn name_input() -> Value {
    object(json!({"name": stack_name()}), &["name"])
}

/// A boolean that is false unless given.
fn flag() -> Value {
    json!({"type": "boolean"})
}

/// A flag whose name does not say it all.
fn flag_that(description: &str) -> Value {
    json!({"type": "boolean", "description": description})
}

fn text(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn port(description: &str) -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": 65535, "description": description})
}

fn create_input() -> Value {
    object(
        json!({
            "name": stack_name(),
            "type": {"type": "string", "default": "generic", "description": "See list_templates."},
            "image": text("Needed unless the type has one."),
            "port": port("Container port."),
            "host_port": port("Published port (standalone)."),
            "domain": text("Default NAME.<default domain>."),
            "environment": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Extra .env entries."},
            "create_dns": flag_that("Also create its Cloudflare record."),
            "auto_start": flag(),
        }),
        &["name"],
    )
}

fn logs_input() -> Value {
    object(
        json!({
            "name": stack_name(),
            "tail": {"type": "integer", "minimum": 0, "maximum": MAX_LOG_TAIL, "default": 100},
            "since": text("e.g. 10m or 2026-01-02T15:04:05."),
        }),
        &["name"],
    )
}

fn remove_input() -> Value {
    object(
        json!({
            // An orphan is named by its Compose project, whose rule is wider (`a_b`).
            "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$", "maxLength": 255,
                     "description": "A stack, or an orphan's Compose project name (list_stacks)."},
            "confirm": {"type": "boolean", "const": true, "description": "The user agreed."},
            "purge": flag_that("Delete the folder, not trash it."),
            "volumes": flag_that("Also delete its volumes (data lost)."),
            "keep_dns": flag(),
        }),
        &["name", "confirm"],
    )
}

fn dry_run_input() -> Value {
    object(json!({"dry_run": flag()}), &[])
}

fn ip_input() -> Value {
    object(json!({"ipv6": flag()}), &[])
}

fn subdomain() -> Value {
    text("A label under the default domain, @, or a hostname.")
}

fn record_type(default: Option<&str>) -> Value {
    let mut schema = json!({"type": "string", "enum": ["A", "AAAA", "CNAME", "TXT"]});
    if let Some(default) = default {
        schema["default"] = json!(default);
    }
    schema
}

fn ttl() -> Value {
    json!({
        "type": "integer",
        "minimum": 1,
        "maximum": TTL_MAX,
        "description": format!("{TTL_RULE}; 1 if proxied."),
    })
}

fn dns_list_input() -> Value {
    object(
        json!({"subdomain": subdomain(), "zone": text("e.g. example.com."), "type": record_type(None)}),
        &[],
    )
}

fn dns_create_input() -> Value {
    object(
        json!({
            "subdomain": subdomain(),
            "type": record_type(Some("A")),
            "value": {"type": "string", "default": "AUTO", "description": "AUTO: this server's public IP."},
            "proxied": {"type": "boolean", "default": true, "description": "A, AAAA, CNAME only."},
            "ttl": ttl(),
            "comment": {"type": "string"},
            "stack": text("Owning stack (comment stackwiz:STACK): remove_stack deletes the record with it."),
            "update": flag_that("Replace a different record of that name and type."),
        }),
        &["subdomain"],
    )
}

fn dns_update_input() -> Value {
    object(
        json!({
            "subdomain": subdomain(),
            "type": record_type(None),
            "value": text("AUTO: this server's public IP."),
            "proxied": {"type": "boolean"},
            "ttl": ttl(),
        }),
        &["subdomain"],
    )
}

fn dns_delete_input() -> Value {
    object(
        json!({
            "subdomain": subdomain(),
            "type": record_type(None),
            "force": flag_that("Also records stackwiz did not create."),
            "stack": text("Only this stack's records; none is not an error."),
            "dry_run": flag(),
        }),
        &["subdomain"],
    )
}

// ---------------------------------------------------------------------------------------
// output schemas

/// An output schema from `"field: type"` specs: the report's top-level fields and their
/// JSON types (`string|null` for nullable ones; `field?:` for a field only some results
/// have). A nested report is just `object` or `array`: a validating client checks the
/// shape it gets, and an agent learns the inside from the result itself, so spelling it out
/// here would only cost context. Objects stay open, so a field added to a report later
/// breaks no client.
fn fields(specs: &[&str]) -> Value {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for spec in specs {
        let (name, types) = spec.split_once(": ").expect("`field: type`");
        let types: Vec<&str> = types.split('|').collect();
        let kind = match types.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        match name.strip_suffix('?') {
            Some(optional) => properties.insert(optional.into(), json!({ "type": kind })),
            None => {
                required.push(name);
                properties.insert(name.into(), json!({ "type": kind }))
            }
        };
    }
    json!({"type": "object", "properties": properties, "required": required})
}

fn created_schema() -> Value {
    fields(&[
        "name: string",
        "type: string",
        "path: string",
        "domain: string",
        "image: string|null",
        "port: integer|null",
        "host_port: integer|null",
        "files: array",
        "dry_run: boolean",
        "started: boolean",
        "dns: object|null",
        "rendered?: object",
        "next: object",
    ])
}

fn validation_schema() -> Value {
    fields(&[
        "valid: boolean",
        "problems: array",
        "would_create: object|null",
    ])
}

fn templates_schema() -> Value {
    fields(&["templates_dir: string", "templates: array"])
}

fn list_schema() -> Value {
    fields(&[
        "base_dir: string",
        "stacks: array",
        "orphans: array",
        "warning: string|null",
    ])
}

fn status_schema() -> Value {
    fields(&[
        "name: string",
        "type: string|null",
        "domain: string|null",
        "path: string",
        "status: string",
        "services: array",
    ])
}

fn lifecycle_schema() -> Value {
    fields(&[
        "name: string",
        "action: string",
        "network_created: boolean",
        "output?: string",
        "next: object",
    ])
}

fn logs_schema() -> Value {
    fields(&["name: string", "tail: integer", "logs: string"])
}

fn removed_schema() -> Value {
    fields(&[
        "name: string",
        "trashed_to: string|null",
        "purged: boolean",
        "volumes_removed: boolean",
        "dns: object|null",
    ])
}

fn doctor_schema() -> Value {
    fields(&["ok: boolean", "checks: array"])
}

fn ip_schema() -> Value {
    fields(&[
        "ip: string",
        "family: string",
        "source: string",
        "warning: string|null",
    ])
}

fn dns_listed_schema() -> Value {
    fields(&["zone: object", "records: array"])
}

fn dns_change_schema() -> Value {
    fields(&[
        "action: string",
        "zone: object",
        "record: object",
        "previous: object|null",
        "changed: array",
        "ip_source: string|null",
        "warning: string|null",
    ])
}

fn dns_deleted_schema() -> Value {
    fields(&[
        "zone: object|null",
        "name: string",
        "dry_run: boolean",
        "deleted: array",
        "kept: array",
    ])
}

fn sync_schema() -> Value {
    fields(&[
        "dry_run: boolean",
        "zones: array",
        "ipv4: string|null",
        "ipv6: string|null",
        "checked: integer",
        "changes: array",
        "writes: integer",
        "left_alone: array",
        "skipped: array",
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Env, Overrides};
    use crate::mcp::dispatch::{McpServer, ARGUMENTS_FIELD};
    use crate::mcp::protocol::{Request, RequestId};
    use crate::mcp::server::Handler;
    use crate::ops::Stream;

    /// A configuration in a temp dir: no docker (the program does not exist), no token, the
    /// Cloudflare API and IP services on a closed loopback port.
    struct Fixture {
        dir: tempfile::TempDir,
        ctx: Ctx,
    }

    fn fixture(extra: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let p = |s: &str| dir.path().join(s).display().to_string();
        std::fs::create_dir_all(dir.path().join("base")).unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        let mut vars = vec![
            ("HOME".to_string(), p("home")),
            ("STACKWIZ_CONFIG".to_string(), p("config.toml")),
            ("STACKWIZ_BASE_DIR".to_string(), p("base")),
            ("STACKWIZ_DOCKER".to_string(), p("no-such-docker")),
            (
                "STACKWIZ_CF_API_URL".to_string(),
                "http://127.0.0.1:9".to_string(),
            ),
            (
                "STACKWIZ_IP_SERVICES".to_string(),
                "http://127.0.0.1:9".to_string(),
            ),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let cfg = Config::resolve(&Overrides::default(), &Env::from_pairs(vars)).unwrap();
        Fixture {
            dir,
            ctx: Ctx::new(cfg, Stream::Capture),
        }
    }

    fn tool(name: &str) -> &'static Tool {
        TOOLS
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tool {name}"))
    }

    /// Calls a tool and checks a success against its output schema.
    fn call(f: &Fixture, name: &str, args: Value) -> Result<Value, Error> {
        let tool = tool(name);
        let result = (tool.call)(&f.ctx, args)?;
        let schema = (tool.output_schema)();
        if let Err(problem) = conforms(&result, &schema, "$") {
            panic!("{name} result breaks its output schema: {problem}\n{result:#}");
        }
        // Open schemas accept any extra field, so a field a report gained would pass
        // unseen: every top-level field must be listed.
        for field in result.as_object().into_iter().flat_map(|o| o.keys()) {
            assert!(
                schema["properties"].get(field).is_some(),
                "{name}: its output schema does not list `{field}`\n{result:#}"
            );
        }
        Ok(result)
    }

    /// The part of JSON Schema these schemas use: type (one or a list), properties,
    /// required, items, enum, const, additionalProperties.
    fn conforms(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
        let type_ok = |t: &str| match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            other => panic!("schema type {other} not handled"),
        };
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.is_empty() && !types.iter().any(|t| type_ok(t)) {
            return Err(format!("{at}: {value} is not {types:?}"));
        }
        if let Some(options) = schema["enum"].as_array() {
            if !options.contains(value) {
                return Err(format!("{at}: {value} is not one of {options:?}"));
            }
        }
        if let Some(object) = value.as_object() {
            for key in schema["required"].as_array().into_iter().flatten() {
                let key = key.as_str().unwrap();
                if !object.contains_key(key) {
                    return Err(format!("{at}: missing {key}"));
                }
            }
            for (key, item) in object {
                let at = format!("{at}.{key}");
                match schema["properties"].get(key) {
                    Some(sub) => conforms(item, sub, &at)?,
                    None => match &schema["additionalProperties"] {
                        Value::Bool(false) => return Err(format!("{at}: not allowed")),
                        sub @ Value::Object(_) => conforms(item, sub, &at)?,
                        _ => {}
                    },
                }
            }
        }
        if let (Some(items), Some(sub)) = (value.as_array(), schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                conforms(item, sub, &format!("{at}[{i}]"))?;
            }
        }
        Ok(())
    }

    fn text_of(error: Error) -> String {
        error.to_string()
    }

    #[test]
    fn every_tool_is_well_formed() {
        let mut names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len(), "tool names repeat");
        for t in TOOLS {
            assert!(
                t.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)),
                "{}",
                t.name
            );
            assert!(
                !t.description.is_empty() && t.description.len() <= 200,
                "{}: description",
                t.name
            );
            let input = (t.input_schema)();
            assert_eq!(input["type"], "object", "{}", t.name);
            assert_eq!(input["additionalProperties"], false, "{}", t.name);
            for required in input["required"].as_array().into_iter().flatten() {
                assert!(
                    input["properties"]
                        .get(required.as_str().unwrap())
                        .is_some(),
                    "{}: {required}",
                    t.name
                );
            }
            assert_eq!((t.output_schema)()["type"], "object", "{}", t.name);
            if t.annotations.read_only {
                assert!(!t.annotations.destructive, "{}", t.name);
            }
        }
    }

    /// Request fields a schema shows under another name: the struct field (left) may be
    /// missing from a tool's inputSchema when its alias (right) is there.
    const SCHEMA_ALIASES: &[(&str, &str)] = &[
        ("env", "environment"),
        ("start", "auto_start"),
        ("dns", "create_dns"),
        ("name", "subdomain"),
    ];

    /// A value a property's schema allows: its const, default or first enum value, else
    /// the least of its type.
    fn sample(schema: &Value) -> Value {
        for key in ["const", "default"] {
            if let Some(value) = schema.get(key) {
                return value.clone();
            }
        }
        if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
            return first.clone();
        }
        match schema["type"].as_str() {
            // Also a valid stack name, for the properties that are one.
            Some("string") => json!("web"),
            Some("integer") => schema.get("minimum").cloned().unwrap_or(json!(1)),
            Some("boolean") => json!(true),
            Some("object") => match schema.get("additionalProperties") {
                Some(values @ Value::Object(_)) => json!({ "K": sample(values) }),
                _ => json!({}),
            },
            Some("array") => json!([sample(&schema["items"])]),
            other => panic!("no sample for a property of type {other:?}: {schema}"),
        }
    }

    /// What serde said when it refused a tool's arguments, if it did.
    fn refused_arguments(result: &Result<Value, Error>) -> Option<&str> {
        match result {
            Err(Error::Invalid { field, rule }) if field == ARGUMENTS_FIELD => Some(rule),
            _ => None,
        }
    }

    /// Every argument name the request struct behind a tool accepts, aliases included, as
    /// serde lists them when it refuses an unknown one: "unknown field `x`, expected one of
    /// `a`, `b`" (or "expected `a`", or "there are no fields"). Asked through the tool
    /// itself, so it is always the struct the tool really deserializes into.
    fn accepted_fields(f: &Fixture, tool: &Tool) -> Vec<String> {
        const PROBE: &str = "zz_no_such_argument";
        let result = (tool.call)(&f.ctx, json!({ PROBE: 0 }));
        let rule = refused_arguments(&result).unwrap_or_else(|| {
            panic!(
                "{}: an unknown argument was not refused ({result:?}); its request struct \
                 needs #[serde(deny_unknown_fields)]",
                tool.name
            )
        });
        let (_, expected) = rule
            .split_once(&format!("unknown field `{PROBE}`, "))
            .unwrap_or_else(|| panic!("{}: unexpected refusal: {rule}", tool.name));
        if expected == "there are no fields" {
            return Vec::new();
        }
        expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect()
    }

    #[test]
    fn every_input_schema_shows_exactly_what_its_tool_accepts() {
        let f = fixture(&[]);
        for t in TOOLS {
            let schema = (t.input_schema)();
            let empty = serde_json::Map::new();
            let properties = schema["properties"].as_object().unwrap_or(&empty);
            let required: serde_json::Map<String, Value> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|name| {
                    let name = name.as_str().unwrap();
                    (name.to_string(), sample(&properties[name]))
                })
                .collect();
            // Every property the schema offers is taken, with a value of its schema.
            let mut cases = vec![required.clone()];
            for (name, property) in properties {
                let mut args = required.clone();
                args.insert(name.clone(), sample(property));
                cases.push(args);
            }
            for args in cases {
                let args = Value::Object(args);
                let result = (t.call)(&f.ctx, args.clone());
                if let Some(rule) = refused_arguments(&result) {
                    panic!(
                        "{}: arguments its inputSchema allows are refused: {args}: {rule}",
                        t.name
                    );
                }
            }
            // Every argument the tool takes is in the schema: with additionalProperties
            // false, an agent cannot send one the schema leaves out.
            for field in accepted_fields(&f, t) {
                let shown = properties.contains_key(&field)
                    || SCHEMA_ALIASES
                        .iter()
                        .any(|&(of, alias)| of == field && properties.contains_key(alias));
                assert!(
                    shown,
                    "{}: the tool takes `{field}` but its inputSchema does not show it",
                    t.name
                );
            }
        }
    }

    #[test]
    fn the_issue_tools_are_all_there_and_the_read_only_ones_are_exactly_the_readers() {
        let expected = [
            "list_templates",
            "validate_stack",
            "create_stack",
            "list_stacks",
            "get_stack_status",
            "get_stack_logs",
            "start_stack",
            "stop_stack",
            "restart_stack",
            "update_stack",
            "remove_stack",
            "check_environment",
            "get_server_ip",
            "list_dns_records",
            "create_dns_record",
            "update_dns_record",
            "delete_dns_record",
            "sync_dns",
        ];
        assert_eq!(TOOLS.iter().map(|t| t.name).collect::<Vec<_>>(), expected);
        let readers: Vec<&str> = TOOLS
            .iter()
            .filter(|t| t.annotations.read_only)
            .map(|t| t.name)
            .collect();
        assert_eq!(
            readers,
            [
                "list_templates",
                "validate_stack",
                "list_stacks",
                "get_stack_status",
                "get_stack_logs",
                "check_environment",
                "get_server_ip",
                "list_dns_records"
            ]
        );
    }

    #[test]
    fn the_tool_list_stays_small() {
        let f = fixture(&[]);
        let server = McpServer::new(Ctx::new(f.ctx.cfg.clone(), Stream::Capture), &CATALOG);
        let mut meta = serde_json::Map::new();
        meta.insert(
            crate::mcp::dispatch::META_PROTOCOL_VERSION.into(),
            json!("2026-07-28"),
        );
        meta.insert(
            crate::mcp::dispatch::META_CLIENT_CAPABILITIES.into(),
            json!({}),
        );
        let request = Request {
            id: RequestId::from(1),
            method: "tools/list".into(),
            params: Some(json!({"_meta": meta})),
        };
        let list = server
            .handle_request(&request, &crate::cancel::Cancel::new())
            .unwrap();
        let size = list.to_string().len();
        // About 4 characters a token: every session pays some 3,600 tokens for the list.
        // The limit is today's size plus 10%, so growth is a decision, not an accident.
        assert!(size < 16_000, "tools/list is {size} bytes");
    }

    #[test]
    fn output_schemas_give_only_top_level_fields_and_their_types() {
        for t in TOOLS {
            let schema = (t.output_schema)();
            let properties = schema["properties"].as_object().unwrap();
            for (field, property) in properties {
                let keys: Vec<&String> = property.as_object().unwrap().keys().collect();
                assert_eq!(keys, ["type"], "{}.{field}: {property}", t.name);
            }
            for field in schema["required"].as_array().unwrap() {
                assert!(
                    properties.contains_key(field.as_str().unwrap()),
                    "{}: {field}",
                    t.name
                );
            }
        }
    }

    #[test]
    fn input_schemas_state_the_ttl_rule_cloudflare_enforces() {
        for name in ["create_dns_record", "update_dns_record"] {
            let ttl = &(tool(name).input_schema)()["properties"]["ttl"];
            assert!(
                ttl["description"].as_str().unwrap().contains(TTL_RULE),
                "{ttl}"
            );
            assert_eq!(ttl["maximum"], TTL_MAX);
        }
    }

    #[test]
    fn list_templates_reports_the_embedded_types() {
        let f = fixture(&[]);
        let result = call(&f, "list_templates", json!({})).unwrap();
        let names: Vec<&str> = result["templates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"generic"), "{names:?}");
        assert!(
            text_of(call(&f, "list_templates", json!({"x": 1})).unwrap_err())
                .contains("unknown field `x`")
        );
    }

    /// Whether agent-facing text speaks the command line: a `stackwiz ...` command or a
    /// `--flag`.
    fn speaks_cli(text: &str) -> bool {
        text.contains("stackwiz ")
            || text
                .match_indices("--")
                .any(|(i, _)| text[i + 2..].starts_with(|c: char| c.is_ascii_lowercase()))
    }

    #[test]
    fn every_next_step_is_a_tool_call_its_schema_and_its_tool_accept() {
        let f = fixture(&[]);
        use crate::ops::Face;
        for next in crate::ops::Next::examples() {
            let said = crate::mcp::next::WORDS.step(&next);
            assert!(!speaks_cli(&said), "{next:?}: {said}");
            let Some((name, args)) = crate::mcp::next::call(&next) else {
                // Only the server's own set-up is left to the user, in plain words.
                assert!(said.starts_with("ask the user"), "{next:?}: {said}");
                continue;
            };
            assert_eq!(said, format!("{name} {args}"));
            let tool = tool(name);
            let mut agreed = args.clone();
            if name == "remove_stack" {
                // A step to remove leaves the agreement to the user; the call needs it.
                agreed["confirm"] = true.into();
            }
            if let Err(problem) = conforms(&agreed, &(tool.input_schema)(), "$") {
                panic!("{next:?}: {name} {args} breaks its inputSchema: {problem}");
            }
            // The names are the ones the tool's request struct reads (remove_stack takes
            // `confirm` itself, before the struct).
            let accepted = accepted_fields(&f, tool);
            for key in args.as_object().unwrap().keys() {
                assert!(
                    accepted.contains(key) || (name == "remove_stack" && key == "confirm"),
                    "{next:?}: {name} does not read `{key}` (it reads {accepted:?})"
                );
            }
        }
    }

    #[test]
    fn no_agent_facing_hint_names_a_cli_command_or_a_flag() {
        use crate::ops::Next;
        let f = fixture(&[]);
        // No base dir: the doctor's fix for it is the server's own set-up.
        let bare = fixture(&[("STACKWIZ_BASE_DIR", "/nonexistent/stackwiz-test-base")]);
        let hint_of = |e: &Error| crate::mcp::next::hint(e).unwrap_or_default();
        let mut errors = vec![
            Error::Usage("u".into()),
            Error::invalid("f", "r"),
            Error::InvalidMany(vec![Error::invalid("f", "r")]),
            Error::Config {
                path: "/c".into(),
                line: Some(1),
                key: None,
                message: "m".into(),
            },
            Error::Template {
                file: "t".into(),
                line: None,
                message: "m".into(),
            },
            Error::StackExists {
                name: "web".into(),
                path: "/s/web".into(),
            },
            Error::StackNotFound {
                name: "web".into(),
                path: "/s/web".into(),
            },
            Error::Permission {
                message: "m".into(),
                hint: None,
            },
            Error::io("read", "/x", std::io::Error::other("boom")),
            Error::Http {
                url: "http://x".into(),
                message: "m".into(),
            },
            Error::NoToken {
                traefik_env: "/s/traefik/.env".into(),
            },
            Error::Timeout {
                command: "docker compose ls -a".into(),
                after: std::time::Duration::from_secs(30),
            },
            Error::Cancelled {
                command: "docker compose ls -a".into(),
            },
            Error::Partial {
                done: "stack web was created".into(),
                source: Box::new(Error::StackNotFound {
                    name: "web".into(),
                    path: "/s/web".into(),
                }),
                retry: Next::examples(),
            },
            Error::other("o"),
            Error::Reported("r".into()),
        ];
        // Every hint Cloudflare's answers lead to.
        for status in [200, 301, 400, 401, 403, 404, 429, 500, 503] {
            for code in [0, 9109, 1000, 10000, 81057, 81044, 9021, 971] {
                errors.push(Error::Cloudflare {
                    status,
                    errors: vec![(code, "m".into())],
                    hint: crate::cloudflare::hint_for(status, &[(code, "m".into())]),
                });
            }
        }
        // Refusals the tools give.
        call(
            &f,
            "create_stack",
            json!({"name": "web", "image": "nginx:alpine", "port": 80}),
        )
        .unwrap();
        errors.push(call(&f, "remove_stack", json!({"name": "web", "purge": true})).unwrap_err());
        errors.push(
            call(
                &f,
                "create_stack",
                json!({"name": "web", "image": "nginx:alpine", "port": 80}),
            )
            .unwrap_err(),
        );
        errors.push(call(&f, "get_stack_status", json!({"name": "nope"})).unwrap_err());
        errors.push(call(&f, "start_stack", json!({"name": "web"})).unwrap_err());
        errors.push(call(&f, "list_dns_records", json!({})).unwrap_err());
        errors.push(f.ctx.cfg.token().unwrap_err());
        for e in &errors {
            // Every variant is listed above: a new one fails to compile until it is.
            match e {
                Error::Usage(_)
                | Error::Invalid { .. }
                | Error::InvalidMany(_)
                | Error::Config { .. }
                | Error::Template { .. }
                | Error::StackExists { .. }
                | Error::StackNotFound { .. }
                | Error::NotConfirmed { .. }
                | Error::Permission { .. }
                | Error::Io { .. }
                | Error::ProgramNotFound { .. }
                | Error::Command { .. }
                | Error::Timeout { .. }
                | Error::Cancelled { .. }
                | Error::Cloudflare { .. }
                | Error::Http { .. }
                | Error::NoToken { .. }
                | Error::Partial { .. }
                | Error::Other { .. }
                | Error::Reported(_) => {}
            }
            let text = format!("{e}\nhint: {}", hint_of(e));
            assert!(!speaks_cli(&text), "{e:?}: {text}");
        }
        // Reports that carry steps and advice: validation problems, a dry run's next step,
        // the doctor's fixes.
        let problems = call(
            &f,
            "validate_stack",
            json!({"name": "web", "image": "nginx:alpine", "port": 80}),
        )
        .unwrap();
        let dry = call(&f, "validate_stack", json!({"name": "api", "image": "nginx:alpine", "port": 80, "environment": {"K": "secret-value"}})).unwrap();
        let doctor = call(&bare, "check_environment", json!({})).unwrap();
        // (The dry run's rendered files are the files, not advice.)
        for report in [&problems, &dry["would_create"]["next"], &doctor] {
            assert!(!speaks_cli(&report.to_string()), "{report:#}");
        }
        assert_eq!(problems["valid"], false, "{problems:#}");
        assert!(
            problems["problems"][0]
                .as_str()
                .unwrap()
                .contains(r#"remove_stack {"name":"web"}"#),
            "{problems:#}"
        );
        assert_eq!(
            dry["would_create"]["next"]["tool"], "create_stack",
            "{dry:#}"
        );
        assert_eq!(
            dry["would_create"]["next"]["arguments"]["environment"],
            json!({"K": "…"})
        );
        assert!(!dry.to_string().contains("secret-value"));
        let fixes: Vec<&str> = doctor["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["fix"].as_str())
            .collect();
        assert!(
            fixes.iter().any(|f| f.contains("ask the user")),
            "{fixes:?}"
        );
    }

    #[test]
    fn validate_stack_reports_the_plan_or_every_problem() {
        let f = fixture(&[]);
        let ok = call(
            &f,
            "validate_stack",
            json!({"name": "web", "image": "nginx:alpine", "port": 80}),
        )
        .unwrap();
        assert_eq!(ok["valid"], true);
        assert_eq!(ok["would_create"]["name"], "web");
        let bad = call(
            &f,
            "validate_stack",
            json!({"name": "Bad_Name", "port": 70000}),
        )
        .unwrap();
        assert_eq!(bad["valid"], false);
        assert!(bad["problems"].as_array().unwrap().len() >= 2, "{bad}");
        assert!(
            f.dir
                .path()
                .join("base")
                .read_dir()
                .unwrap()
                .next()
                .is_none(),
            "validate wrote something"
        );
    }

    #[test]
    fn create_stack_writes_a_stack_once() {
        let f = fixture(&[]);
        let args = json!({"name": "web", "image": "nginx:alpine", "port": 80, "environment": {"A": "secret-value"}});
        let created = call(&f, "create_stack", args.clone()).unwrap();
        assert_eq!(created["name"], "web");
        assert_eq!(created["started"], false);
        assert!(!created.to_string().contains("secret-value"), "{created}");
        assert!(f.dir.path().join("base/web/docker-compose.yml").is_file());
        let again = text_of(call(&f, "create_stack", args).unwrap_err());
        assert!(again.contains("already exists"), "{again}");
    }

    #[test]
    fn tools_without_docker_fail_as_tool_errors() {
        let f = fixture(&[]);
        call(
            &f,
            "create_stack",
            json!({"name": "web", "image": "nginx:alpine", "port": 80}),
        )
        .unwrap();
        let listed = call(&f, "list_stacks", json!({})).unwrap();
        assert_eq!(listed["stacks"][0]["name"], "web");
        assert!(listed["warning"].is_string(), "{listed}");
        for name in [
            "get_stack_status",
            "start_stack",
            "stop_stack",
            "restart_stack",
            "update_stack",
        ] {
            text_of(call(&f, name, json!({"name": "web"})).unwrap_err());
        }
        text_of(call(&f, "get_stack_logs", json!({"name": "web", "tail": 5000})).unwrap_err());
        let missing = text_of(call(&f, "get_stack_status", json!({"name": "nope"})).unwrap_err());
        assert!(missing.contains("no stack named nope"), "{missing}");
    }

    #[test]
    fn remove_stack_needs_confirm_true() {
        let f = fixture(&[]);
        call(
            &f,
            "create_stack",
            json!({"name": "web", "image": "nginx:alpine", "port": 80}),
        )
        .unwrap();
        for args in [
            json!({"name": "web"}),
            json!({"name": "web", "confirm": false}),
            json!({"name": "web", "confirm": "yes"}),
        ] {
            let error = call(&f, "remove_stack", args).unwrap_err();
            assert!(matches!(error, Error::NotConfirmed { .. }), "{error:?}");
            let hint = crate::mcp::next::hint(&error).unwrap();
            assert!(
                hint.ends_with(r#"remove_stack {"confirm":true,"name":"web"}"#),
                "{hint}"
            );
        }
        assert!(f.dir.path().join("base/web").is_dir());
        let unknown = text_of(
            call(
                &f,
                "remove_stack",
                json!({"name": "web", "confirm": true, "x": 1}),
            )
            .unwrap_err(),
        );
        assert!(unknown.contains("unknown field `x`"), "{unknown}");
    }

    #[test]
    fn check_environment_reports_the_checklist() {
        let f = fixture(&[]);
        let doctor = call(&f, "check_environment", json!({})).unwrap();
        assert_eq!(doctor["ok"], false);
        assert!(!doctor["checks"].as_array().unwrap().is_empty());
    }

    #[test]
    fn get_server_ip_uses_the_configured_address() {
        let f = fixture(&[
            ("STACKWIZ_PUBLIC_IP", "203.0.113.7"),
            ("STACKWIZ_ALLOW_PRIVATE_IP", "1"),
        ]);
        let ip = call(&f, "get_server_ip", json!({})).unwrap();
        assert_eq!(ip["ip"], "203.0.113.7");
        assert_eq!(ip["family"], "ipv4");
    }

    #[test]
    fn dns_tools_without_a_token_say_how_to_set_one() {
        let f = fixture(&[("STACKWIZ_DEFAULT_DOMAIN", "example.com")]);
        for (name, args) in [
            ("list_dns_records", json!({})),
            (
                "create_dns_record",
                json!({"subdomain": "app", "value": "203.0.113.7"}),
            ),
            (
                "update_dns_record",
                json!({"subdomain": "app", "proxied": false}),
            ),
            ("delete_dns_record", json!({"subdomain": "app"})),
            (
                "delete_dns_record",
                json!({"subdomain": "app", "stack": "app"}),
            ),
        ] {
            let error = call(&f, name, args).unwrap_err();
            assert!(matches!(error, Error::NoToken { .. }), "{name}: {error:?}");
        }
        let bad = text_of(
            call(
                &f,
                "create_dns_record",
                json!({"subdomain": "app", "type": "MX"}),
            )
            .unwrap_err(),
        );
        assert!(bad.contains("MX"), "{bad}");
    }

    #[test]
    fn dns_tools_refuse_special_use_names_without_asking_cloudflare() {
        // No token and a closed API port: any request would fail differently.
        let f = fixture(&[]);
        for (name, args) in [
            ("create_dns_record", json!({"subdomain": "app"})),
            ("create_dns_record", json!({"subdomain": "app.localhost"})),
            ("update_dns_record", json!({"subdomain": "app", "ttl": 1})),
            ("delete_dns_record", json!({"subdomain": "app"})),
        ] {
            let error = call(&f, name, args).unwrap_err();
            assert!(matches!(error, Error::Invalid { .. }), "{name}: {error:?}");
            assert!(
                error
                    .to_string()
                    .contains("app.localhost is a special-use name"),
                "{error}"
            );
        }
        let none = call(
            &f,
            "delete_dns_record",
            json!({"subdomain": "app", "stack": "app"}),
        )
        .unwrap();
        assert_eq!(none["zone"], Value::Null);
        assert_eq!(none["deleted"], json!([]));
    }

    #[test]
    fn sync_dns_with_no_stacks_has_nothing_to_do() {
        let f = fixture(&[]);
        let sync = call(&f, "sync_dns", json!({"dry_run": true})).unwrap();
        assert_eq!(sync["checked"], 0);
    }

    #[test]
    fn resources_show_compose_files_and_templates_but_never_env() {
        let f = fixture(&[]);
        call(&f, "create_stack", json!({"name": "web", "image": "nginx:alpine", "port": 80, "environment": {"K": "v-secret"}}))
            .unwrap();
        let uris: Vec<String> = list_resources(&f.ctx)
            .unwrap()
            .into_iter()
            .map(|r| r.uri)
            .collect();
        assert!(
            uris.contains(&"stack://web/compose".to_string()),
            "{uris:?}"
        );
        assert!(uris.contains(&"stack://web/status".to_string()), "{uris:?}");
        assert!(uris.contains(&"template://generic".to_string()), "{uris:?}");
        let compose = read_resource(&f.ctx, "stack://web/compose")
            .unwrap()
            .unwrap();
        assert!(compose.text.contains("nginx:alpine"));
        assert!(!compose.text.contains("v-secret"));
        let template = read_resource(&f.ctx, "template://generic")
            .unwrap()
            .unwrap();
        assert!(!template.text.is_empty());
        for uri in [
            "stack://web/.env",
            "stack://web/env",
            "stack://nope/compose",
            "stack://../x/compose",
            "template://nope",
            "file:///etc/passwd",
        ] {
            assert_eq!(read_resource(&f.ctx, uri).unwrap(), None, "{uri}");
        }
        // Reading a status needs the engine (none here): the status says why, as data.
        let status = read_resource(&f.ctx, "stack://web/status")
            .unwrap()
            .unwrap();
        let status: Value = serde_json::from_str(&status.text).unwrap();
        assert!(
            status["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{status}"
        );
    }

    #[test]
    fn subdomain_is_the_dns_request_name() {
        let req: crate::ops::dns::DnsCreate =
            arguments(json!({"subdomain": "app", "type": "A"})).unwrap();
        assert_eq!(req.name, "app");
        assert!(
            arguments::<crate::ops::dns::DnsCreate>(json!({"name": "x", "subdomain": "y"}))
                .is_err()
        );
    }

    #[test]
    fn long_logs_keep_their_end_from_a_line_start() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let kept = keep_end(text.clone(), 40);
        assert!(kept.starts_with('['), "{kept}");
        assert!(kept.ends_with("line 99\n"), "{kept}");
        assert!(kept.lines().nth(1).unwrap().starts_with("line "), "{kept}");
        assert_eq!(keep_end(text.clone(), text.len()), text);
        let wide = "é".repeat(50);
        assert!(keep_end(wide, 11).ends_with('é'));
    }
}
