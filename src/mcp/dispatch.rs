//! The MCP methods, in both protocol eras, over a static table of tools and resources.
//!
//! [`McpServer`] is the [`Handler`] behind the loop. It decides each request's era, answers
//! the lifecycle methods (`initialize`, `server/discover`, `ping`), lists and calls tools,
//! lists and reads resources, and shapes every answer for the era it was asked in. It holds
//! no stack logic: a [`Tool`] is a name, its schemas and annotations, and a function onto the
//! operations in `crate::ops`. It decides what is a protocol error (malformed request, unknown
//! tool or resource, server fault) and what is a tool result with `isError: true` (anything
//! the operation reports, so the model can correct itself).
//!
//! Era of a request (the server serves both on one process, which the 2026-07-28 text
//! allows a dual-era server): `initialize` is the handshake era; `server/discover`, or any
//! request whose `params._meta` carries `io.modelcontextprotocol/protocolVersion`, is the
//! stateless era and must carry the full envelope; anything else is handshake-era and needs
//! an `initialize` first (`ping` excepted, which the handshake era allows before it).
//! `ping` exists only in the handshake era: 2026-07-28 removed it, so there it is -32601.

use std::sync::{Mutex, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use super::protocol::{ErrorCode, Notification, Request, ResponseError};
use super::server::Handler;
use crate::cancel::Cancel;
use crate::error::Error;
use crate::ops::Ctx;

/// The stateless revisions, newest first: no handshake, an envelope in every request's
/// `_meta`. The one list behind the envelope check, `server/discover`'s `supportedVersions`
/// and the `supported` list of -32022, so a client told a version is supported can use it.
/// (The handshake versions are reached through `initialize`, not the envelope.)
pub const STATELESS_VERSIONS: &[&str] = &["2026-07-28"];
/// The newest stateless revision.
pub const STATELESS_VERSION: &str = STATELESS_VERSIONS[0];
/// The handshake revisions, newest first; `initialize` answers with the first when the
/// client asks for one not listed.
pub const HANDSHAKE_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// The values of `io.modelcontextprotocol/logLevel` (the syslog levels of MCP's `LoggingLevel`).
const LOG_LEVELS: &[&str] = &[
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// How long a client may keep the tool list, discovery and resource templates: they are
/// fixed for the life of the process.
const STATIC_TTL_MS: u64 = 3_600_000;

/// What a tool does to the world, as MCP's annotations say it. Clients treat these as hints,
/// but they steer what an agent may call without asking; they must be true.
#[derive(Clone, Copy, Debug)]
pub struct Annotations {
    /// Changes nothing. Only these tools exist in `--read-only` mode.
    pub read_only: bool,
    /// May delete or overwrite (meaningful when not read-only).
    pub destructive: bool,
    /// A second identical call changes nothing more.
    pub idempotent: bool,
    /// Reaches beyond this machine (Cloudflare, IP services, image registries).
    pub open_world: bool,
}

/// One tool: what `tools/list` shows and the function `tools/call` runs.
pub struct Tool {
    /// `[A-Za-z0-9_.-]{1,128}`.
    pub name: &'static str,
    /// Listed as `annotations.title`.
    pub title: &'static str,
    /// Short and exact: agents pay for every word of `tools/list` in context.
    pub description: &'static str,
    /// A JSON Schema object with `"type": "object"` and `additionalProperties: false`.
    pub input_schema: fn() -> Value,
    /// The schema every successful result's `structuredContent` (an object) conforms to.
    pub output_schema: fn() -> Value,
    pub annotations: Annotations,
    /// Deserializes the arguments (see [`arguments`]) and runs the operation. `Err` becomes a
    /// tool result with `isError: true` (the message and the agent's hint).
    pub call: fn(&Ctx, Value) -> Result<Value, Error>,
}

/// A resource family, e.g. `stack://{name}/compose`.
pub struct ResourceTemplate {
    pub uri_template: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub mime_type: &'static str,
}

/// One resource as `resources/list` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub uri: String,
    pub name: String,
    pub description: String,
    pub mime_type: &'static str,
}

/// The text of one resource.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceText {
    pub uri: String,
    pub mime_type: &'static str,
    pub text: String,
}

/// Everything the server offers.
pub struct Catalog {
    pub tools: &'static [Tool],
    pub resource_templates: &'static [ResourceTemplate],
    pub list_resources: fn(&Ctx) -> Result<Vec<Resource>, Error>,
    /// `Ok(None)` when there is no such resource.
    pub read_resource: fn(&Ctx, &str) -> Result<Option<ResourceText>, Error>,
}

/// Turns tool arguments into an operation's request struct. A mismatch (unknown field with
/// `deny_unknown_fields`, missing field, wrong type) is a validation error, which the model
/// sees as an `isError` result it can correct.
pub fn arguments<T: DeserializeOwned>(args: Value) -> Result<T, Error> {
    serde_json::from_value(args).map_err(|e| Error::invalid(ARGUMENTS_FIELD, e.to_string()))
}

/// The `field` of the [`Error::Invalid`] that [`arguments`] returns.
pub const ARGUMENTS_FIELD: &str = "arguments";

/// A successful tool result: `structuredContent` plus the same JSON as text.
pub fn tool_result(structured: Value) -> Value {
    let text = structured.to_string();
    json!({
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured,
        "isError": false,
    })
}

/// A failed tool call the model should read and act on.
pub fn tool_error(message: impl Into<String>) -> Value {
    json!({
        "content": [{"type": "text", "text": message.into()}],
        "isError": true,
    })
}

fn error_text(error: &Error) -> String {
    match super::next::hint(error) {
        Some(hint) => format!("{error}\nhint: {hint}"),
        None => error.to_string(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Era {
    Handshake,
    Stateless,
}

/// The methods this server knows; anything else is -32601 whatever its era.
const METHODS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
];

/// The methods that may take long (they run docker or read the disk): the loop runs them on
/// a worker with their own cancellation token. The rest answer from memory.
const SLOW_METHODS: &[&str] = &["tools/call", "resources/list", "resources/read"];

/// The MCP side of the loop. Shared by the reader and the workers.
pub struct McpServer {
    /// The configuration and output mode every request's [`Ctx`] is made from.
    base: Ctx,
    catalog: &'static Catalog,
    /// The version `initialize` agreed on, once one has been answered.
    handshake: Mutex<Option<&'static str>>,
    /// `base`'s configuration with its deferred parts resolved, made at the first request
    /// that runs an operation (the lifecycle methods and the lists need none of it).
    full: OnceLock<crate::config::Config>,
    /// The `tools/list` result, built when first asked: it is fixed for the process.
    tool_list: OnceLock<Value>,
}

impl McpServer {
    pub fn new(base: Ctx, catalog: &'static Catalog) -> McpServer {
        McpServer {
            base,
            catalog,
            handshake: Mutex::new(None),
            full: OnceLock::new(),
            tool_list: OnceLock::new(),
        }
    }

    fn read_only(&self) -> bool {
        self.base.cfg.read_only
    }

    fn handshake(&self) -> Option<&'static str> {
        *self.handshake.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The whole configuration. The first call resolves what the server deferred (the
    /// owner, the token), logs its warnings, and starts the signal handler that stops the
    /// docker children operations start.
    fn config(&self) -> &crate::config::Config {
        self.full.get_or_init(|| {
            let mut cfg = self.base.cfg.clone();
            if cfg.is_deferred() {
                let known = cfg.warnings.len();
                cfg.finish();
                for warning in &cfg.warnings[known..] {
                    super::log(format_args!("warning: {warning}"));
                }
                crate::cli::signals::install();
            }
            cfg
        })
    }

    /// The context of one request: the server's configuration, the request's own token.
    fn ctx(&self, cancel: &Cancel) -> Ctx {
        let mut ctx = Ctx::new(self.config().clone(), self.base.stream);
        ctx.cancel = cancel.clone();
        ctx
    }

    fn visible_tools(&self) -> impl Iterator<Item = &'static Tool> + '_ {
        self.catalog
            .tools
            .iter()
            .filter(move |t| !self.read_only() || t.annotations.read_only)
    }

    fn era_of(&self, request: &Request) -> Result<Era, ResponseError> {
        if request.method == "initialize" {
            return Ok(Era::Handshake);
        }
        let meta = request.params.as_ref().and_then(|p| p.get("_meta"));
        let enveloped = request.method == "server/discover"
            || meta
                .and_then(Value::as_object)
                .is_some_and(|m| m.contains_key(META_PROTOCOL_VERSION));
        if enveloped {
            check_envelope(meta)?;
            return Ok(Era::Stateless);
        }
        if self.handshake().is_some() || request.method == "ping" {
            return Ok(Era::Handshake);
        }
        Err(ResponseError::invalid_params(format!(
            "{} carries no protocol version: for protocol {STATELESS_VERSION}, put \
             {META_PROTOCOL_VERSION} and {META_CLIENT_CAPABILITIES} in params._meta; \
             for {} and earlier, send initialize first",
            request.method, HANDSHAKE_VERSIONS[0]
        )))
    }

    fn initialize(&self, params: &Map<String, Value>) -> Result<Value, ResponseError> {
        let requested = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ResponseError::invalid_params("initialize needs params.protocolVersion (a string)")
            })?;
        let version = HANDSHAKE_VERSIONS
            .iter()
            .copied()
            .find(|v| *v == requested)
            .unwrap_or(HANDSHAKE_VERSIONS[0]);
        *self.handshake.lock().unwrap_or_else(|p| p.into_inner()) = Some(version);
        Ok(json!({
            "protocolVersion": version,
            "capabilities": capabilities(),
            "serverInfo": server_info(),
            "instructions": instructions(self.read_only()),
        }))
    }

    fn discover(&self) -> Value {
        json!({
            "supportedVersions": STATELESS_VERSIONS,
            "capabilities": capabilities(),
            "instructions": instructions(self.read_only()),
        })
    }

    fn list_tools(&self, params: &Map<String, Value>) -> Result<Value, ResponseError> {
        no_cursor(params)?;
        Ok(self
            .tool_list
            .get_or_init(|| {
                let tools: Vec<Value> = self.visible_tools().map(tool_json).collect();
                json!({ "tools": tools })
            })
            .clone())
    }

    fn call_tool(&self, params: &Map<String, Value>, ctx: &Ctx) -> Result<Value, ResponseError> {
        let name = params.get("name").and_then(Value::as_str).ok_or_else(|| {
            ResponseError::invalid_params("tools/call needs params.name (a string)")
        })?;
        let args = match params.get("arguments") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(args @ Value::Object(_)) => args.clone(),
            Some(_) => {
                return Err(ResponseError::invalid_params(
                    "tools/call params.arguments must be an object",
                ))
            }
        };
        let tool = self
            .catalog
            .tools
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| ResponseError::invalid_params(format!("Unknown tool: {name}")))?;
        if self.read_only() && !tool.annotations.read_only {
            let allowed: Vec<&str> = self.visible_tools().map(|t| t.name).collect();
            return Ok(tool_error(format!(
                "{name} is refused: this stackwiz MCP server runs read-only (--read-only or \
                 STACKWIZ_READ_ONLY), so only tools that change nothing are served: {}",
                allowed.join(", ")
            )));
        }
        match (tool.call)(ctx, args) {
            Ok(structured @ Value::Object(_)) => Ok(tool_result(structured)),
            Ok(other) => Err(ResponseError::new(
                ErrorCode::InternalError,
                format!(
                    "internal error: {name} produced {} instead of an object",
                    type_name(&other)
                ),
            )),
            // Every operation failure goes to the model, which can correct itself; protocol
            // errors are for malformed requests and faults of the server itself.
            Err(error) => Ok(tool_error(error_text(&error))),
        }
    }

    fn list_resources(
        &self,
        params: &Map<String, Value>,
        ctx: &Ctx,
    ) -> Result<Value, ResponseError> {
        no_cursor(params)?;
        let resources = (self.catalog.list_resources)(ctx).map_err(internal)?;
        let resources: Vec<Value> = resources
            .into_iter()
            .map(|r| json!({"uri": r.uri, "name": r.name, "description": r.description, "mimeType": r.mime_type}))
            .collect();
        Ok(json!({ "resources": resources }))
    }

    fn list_resource_templates(&self, params: &Map<String, Value>) -> Result<Value, ResponseError> {
        no_cursor(params)?;
        let templates: Vec<Value> = self
            .catalog
            .resource_templates
            .iter()
            .map(|t| {
                json!({
                    "uriTemplate": t.uri_template,
                    "name": t.name,
                    "title": t.title,
                    "description": t.description,
                    "mimeType": t.mime_type,
                })
            })
            .collect();
        Ok(json!({ "resourceTemplates": templates }))
    }

    fn read_resource(
        &self,
        params: &Map<String, Value>,
        era: Era,
        ctx: &Ctx,
    ) -> Result<Value, ResponseError> {
        let uri = params.get("uri").and_then(Value::as_str).ok_or_else(|| {
            ResponseError::invalid_params("resources/read needs params.uri (a string)")
        })?;
        match (self.catalog.read_resource)(ctx, uri).map_err(internal)? {
            Some(r) => {
                Ok(json!({"contents": [{"uri": r.uri, "mimeType": r.mime_type, "text": r.text}]}))
            }
            None => {
                // -32002 until 2025-11-25; the stateless revision moved "not found" to -32602.
                let code = match era {
                    Era::Handshake => ErrorCode::ResourceNotFound,
                    Era::Stateless => ErrorCode::InvalidParams,
                };
                Err(
                    ResponseError::new(code, format!("Resource not found: {uri}"))
                        .with_data(json!({"uri": uri})),
                )
            }
        }
    }
}

impl Handler for McpServer {
    fn is_slow(&self, request: &Request) -> bool {
        SLOW_METHODS.contains(&request.method.as_str())
    }

    fn handle_request(&self, request: &Request, cancel: &Cancel) -> Result<Value, ResponseError> {
        let method = request.method.as_str();
        if !METHODS.contains(&method) {
            return Err(ResponseError::new(
                ErrorCode::MethodNotFound,
                format!("method not found: {method}"),
            ));
        }
        let era = self.era_of(request)?;
        if era == Era::Stateless && method == "ping" {
            return Err(ResponseError::new(
                ErrorCode::MethodNotFound,
                format!("method not found: ping does not exist in protocol {STATELESS_VERSION}"),
            ));
        }
        let empty = Map::new();
        let params = match &request.params {
            None => &empty,
            Some(Value::Object(params)) => params,
            Some(_) => return Err(ResponseError::invalid_params("params must be an object")),
        };
        let result = match method {
            "initialize" => self.initialize(params)?,
            "ping" => json!({}),
            "server/discover" => self.discover(),
            "tools/list" => self.list_tools(params)?,
            "tools/call" => self.call_tool(params, &self.ctx(cancel))?,
            "resources/list" => self.list_resources(params, &self.ctx(cancel))?,
            "resources/templates/list" => self.list_resource_templates(params)?,
            "resources/read" => self.read_resource(params, era, &self.ctx(cancel))?,
            _ => unreachable!("every name in METHODS has an arm"),
        };
        Ok(match era {
            Era::Handshake => result,
            Era::Stateless => stateless(result, cache_hint(method)),
        })
    }

    /// `notifications/initialized` needs nothing, and the loop itself cancels the request
    /// `notifications/cancelled` names (each tool's [`Ctx`] carries that request's token).
    fn handle_notification(&self, _notification: &Notification) {}
}

/// Checks the stateless envelope: both required keys (else -32602), a version this server
/// serves statelessly (else -32022 naming every version it serves).
fn check_envelope(meta: Option<&Value>) -> Result<(), ResponseError> {
    let Some(meta) = meta.and_then(Value::as_object) else {
        return Err(ResponseError::invalid_params(format!(
            "params._meta must be an object carrying {META_PROTOCOL_VERSION} and {META_CLIENT_CAPABILITIES}"
        )));
    };
    let missing: Vec<&str> = [META_PROTOCOL_VERSION, META_CLIENT_CAPABILITIES]
        .into_iter()
        .filter(|k| !meta.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(ResponseError::invalid_params(format!(
            "params._meta is missing {}",
            missing.join(" and ")
        )));
    }
    let Some(version) = meta[META_PROTOCOL_VERSION].as_str() else {
        return Err(ResponseError::invalid_params(format!(
            "{META_PROTOCOL_VERSION} must be a string"
        )));
    };
    if !STATELESS_VERSIONS.contains(&version) {
        return Err(ResponseError::new(
            ErrorCode::UnsupportedProtocolVersion,
            "Unsupported protocol version",
        )
        .with_data(json!({"supported": STATELESS_VERSIONS, "requested": version})));
    }
    if !meta[META_CLIENT_CAPABILITIES].is_object() {
        return Err(ResponseError::invalid_params(format!(
            "{META_CLIENT_CAPABILITIES} must be an object"
        )));
    }
    match meta.get(META_LOG_LEVEL) {
        None => Ok(()),
        Some(Value::String(level)) if LOG_LEVELS.contains(&level.as_str()) => Ok(()),
        Some(other) => Err(ResponseError::invalid_params(format!(
            "{META_LOG_LEVEL} must be one of {}, not {other}",
            LOG_LEVELS.join(", ")
        ))),
    }
}

/// This server hands out no cursors, so any cursor is one it never issued.
fn no_cursor(params: &Map<String, Value>) -> Result<(), ResponseError> {
    match params.get("cursor") {
        None | Some(Value::Null) => Ok(()),
        Some(_) => Err(ResponseError::invalid_params(
            "unknown cursor: this server returns every item on one page",
        )),
    }
}

/// `ttlMs` and `cacheScope` for the results the stateless revision makes cacheable.
fn cache_hint(method: &str) -> Option<(u64, &'static str)> {
    match method {
        "server/discover" | "tools/list" | "resources/templates/list" => {
            Some((STATIC_TTL_MS, "public"))
        }
        // Stacks come and go, and their files are this host's own.
        "resources/list" | "resources/read" => Some((0, "private")),
        _ => None,
    }
}

/// Marks a result for the stateless era: `resultType`, the server's identity in `_meta`,
/// and the cache hints where the revision requires them.
fn stateless(mut result: Value, cache: Option<(u64, &str)>) -> Value {
    let object = result
        .as_object_mut()
        .expect("every MCP result is an object");
    object.insert("resultType".into(), json!("complete"));
    let meta = object.entry("_meta").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert(META_SERVER_INFO.into(), server_info());
    }
    if let Some((ttl_ms, scope)) = cache {
        object.insert("ttlMs".into(), json!(ttl_ms));
        object.insert("cacheScope".into(), json!(scope));
    }
    result
}

fn tool_json(tool: &Tool) -> Value {
    let a = tool.annotations;
    // The title once, in the annotations: 2025-03-26 knows only that place, later revisions
    // tell clients to show it before the name, and tools/list stays short.
    json!({
        "name": tool.name,
        "description": tool.description,
        "inputSchema": (tool.input_schema)(),
        "outputSchema": (tool.output_schema)(),
        "annotations": {
            "title": tool.title,
            "readOnlyHint": a.read_only,
            "destructiveHint": a.destructive,
            "idempotentHint": a.idempotent,
            "openWorldHint": a.open_world,
        },
    })
}

fn capabilities() -> Value {
    json!({
        "tools": {"listChanged": false},
        "resources": {"subscribe": false, "listChanged": false},
    })
}

fn server_info() -> Value {
    json!({"name": "stackwiz", "title": "stackwiz", "version": env!("CARGO_PKG_VERSION")})
}

fn instructions(read_only: bool) -> String {
    let mut text = String::from(
        "stackwiz creates Docker Compose stacks behind Traefik, with Cloudflare DNS. \
         Typical flow: list_templates, then validate_stack (a dry run that reports every problem), \
         then create_stack (auto_start=true starts it), then get_stack_status and get_stack_logs. \
         remove_stack needs confirm=true. The DNS tools need a Cloudflare API token \
         (STACKWIZ_CF_API_TOKEN, a token file or the config file); check_environment shows \
         what is missing.",
    );
    if read_only {
        text.push_str(" This server is read-only: tools that change anything are not offered.");
    }
    text
}

fn internal(error: Error) -> ResponseError {
    ResponseError::new(ErrorCode::InternalError, error_text(&error))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Env, Overrides};
    use crate::mcp::protocol::Message;
    use crate::mcp::server::testing::Client;
    use crate::ops::Stream;
    use serde::Deserialize;
    use std::sync::Arc;

    const RO: Annotations = Annotations {
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
    };
    const RW: Annotations = Annotations {
        read_only: false,
        destructive: true,
        idempotent: false,
        open_world: false,
    };

    fn object_schema() -> Value {
        json!({"type": "object", "additionalProperties": false})
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct GreetArgs {
        name: String,
        #[serde(default)]
        loud: bool,
    }

    /// How many `linger` calls started, and what each saw when it ended (cancelled or not).
    static LINGERING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static LINGERED: std::sync::Mutex<Vec<bool>> = std::sync::Mutex::new(Vec::new());

    /// Waits until its request is cancelled (or a minute passes), then says whether it was.
    fn linger(ctx: &Ctx, _: Value) -> Result<Value, Error> {
        LINGERING.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let cancelled = ctx.cancel.wait_timeout(std::time::Duration::from_secs(60));
        LINGERED.lock().unwrap().push(cancelled);
        Ok(json!({"cancelled": cancelled}))
    }

    static LINGER_TOOLS: &[Tool] = &[Tool {
        name: "linger",
        title: "Linger",
        description: "Waits to be cancelled.",
        input_schema: object_schema,
        output_schema: object_schema,
        annotations: RO,
        call: linger,
    }];

    static LINGER_CATALOG: Catalog = Catalog {
        tools: LINGER_TOOLS,
        resource_templates: TEMPLATES,
        list_resources,
        read_resource,
    };

    fn greet(_: &Ctx, args: Value) -> Result<Value, Error> {
        let args: GreetArgs = arguments(args)?;
        let greeting = format!("hello {}", args.name);
        Ok(json!({"greeting": if args.loud { greeting.to_uppercase() } else { greeting }}))
    }

    fn fail(_: &Ctx, _: Value) -> Result<Value, Error> {
        Err(Error::with_hint("the thing failed", "try the other thing"))
    }

    fn boom(_: &Ctx, _: Value) -> Result<Value, Error> {
        panic!("kaboom")
    }

    fn scalar(_: &Ctx, _: Value) -> Result<Value, Error> {
        Ok(json!(3))
    }

    static TOOLS: &[Tool] = &[
        Tool {
            name: "greet",
            title: "Greet",
            description: "Say hello.",
            input_schema: || {
                json!({
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "loud": {"type": "boolean"}},
                    "required": ["name"],
                    "additionalProperties": false,
                })
            },
            output_schema: || json!({"type": "object", "properties": {"greeting": {"type": "string"}}}),
            annotations: RO,
            call: greet,
        },
        Tool {
            name: "fail",
            title: "Fail",
            description: "Always fails.",
            input_schema: object_schema,
            output_schema: object_schema,
            annotations: RO,
            call: fail,
        },
        Tool {
            name: "boom",
            title: "Boom",
            description: "Changes things, and panics.",
            input_schema: object_schema,
            output_schema: object_schema,
            annotations: RW,
            call: boom,
        },
        Tool {
            name: "scalar",
            title: "Scalar",
            description: "Returns a number, which no tool may.",
            input_schema: object_schema,
            output_schema: object_schema,
            annotations: RO,
            call: scalar,
        },
    ];

    static TEMPLATES: &[ResourceTemplate] = &[ResourceTemplate {
        uri_template: "demo://{name}",
        name: "demo",
        title: "Demo",
        description: "A demo resource.",
        mime_type: "text/plain",
    }];

    fn list_resources(_: &Ctx) -> Result<Vec<Resource>, Error> {
        Ok(vec![Resource {
            uri: "demo://one".into(),
            name: "one".into(),
            description: "The first.".into(),
            mime_type: "text/plain",
        }])
    }

    fn read_resource(_: &Ctx, uri: &str) -> Result<Option<ResourceText>, Error> {
        Ok((uri == "demo://one").then(|| ResourceText {
            uri: uri.into(),
            mime_type: "text/plain",
            text: "1".into(),
        }))
    }

    static CATALOG: Catalog = Catalog {
        tools: TOOLS,
        resource_templates: TEMPLATES,
        list_resources,
        read_resource,
    };

    fn ctx(read_only: bool) -> Ctx {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "").unwrap();
        let env = Env::from_pairs([
            ("HOME", dir.path().display().to_string()),
            ("STACKWIZ_CONFIG", config.display().to_string()),
            (
                "STACKWIZ_BASE_DIR",
                dir.path().join("base").display().to_string(),
            ),
        ]);
        let cfg = Config::resolve(
            &Overrides {
                read_only,
                ..Default::default()
            },
            &env,
        )
        .unwrap();
        Ctx::new(cfg, Stream::Capture)
    }

    /// Serves `lines` (values, or raw strings sent as they are) one at a time, waiting for
    /// the reply of each line that gets one, and returns the replies in that order.
    fn session_with(read_only: bool, lines: &[Value]) -> Vec<Value> {
        let client = Client::start(Arc::new(McpServer::new(ctx(read_only), &CATALOG)));
        let mut replies = Vec::new();
        for line in lines {
            let line = match line {
                Value::String(raw) => raw.clone(),
                other => other.to_string(),
            };
            client.send(&line);
            if matches!(
                Message::parse(line.as_bytes()),
                Err(_) | Ok(Message::Request(_))
            ) {
                replies.push(client.reply());
            }
        }
        let (result, rest) = client.close();
        result.unwrap();
        assert!(rest.is_empty(), "replies nobody asked for: {rest:?}");
        replies
    }

    fn session(lines: &[Value]) -> Vec<Value> {
        session_with(false, lines)
    }

    fn request(id: Value, method: &str, params: Value) -> Value {
        let mut r = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            r["params"] = params;
        }
        r
    }

    fn init(version: &str) -> Value {
        request(
            json!(0),
            "initialize",
            json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        )
    }

    const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

    fn envelope(version: &str) -> Value {
        json!({META_PROTOCOL_VERSION: version, META_CLIENT_CAPABILITIES: {}, "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}})
    }

    /// A stateless request: `params` plus the envelope.
    fn modern(id: Value, method: &str, mut params: Value) -> Value {
        if params.is_null() {
            params = json!({});
        }
        params["_meta"] = envelope(STATELESS_VERSION);
        request(id, method, params)
    }

    /// Handshake then `rest`; returns the replies after the handshake's.
    fn legacy(rest: &[Value]) -> Vec<Value> {
        let mut lines = vec![init("2025-11-25"), json!(INITIALIZED)];
        lines.extend_from_slice(rest);
        let mut replies = session(&lines);
        replies.remove(0);
        replies
    }

    fn error_code(reply: &Value) -> i64 {
        reply["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("not an error: {reply}"))
    }

    #[test]
    fn initialize_echoes_a_supported_version() {
        for version in HANDSHAKE_VERSIONS {
            let replies = session(&[init(version)]);
            assert_eq!(replies[0]["id"], 0);
            assert_eq!(replies[0]["result"]["protocolVersion"], *version);
        }
    }

    #[test]
    fn initialize_answers_the_newest_handshake_version_to_an_unknown_one() {
        for version in ["1999-01-01", STATELESS_VERSION] {
            let replies = session(&[init(version)]);
            assert_eq!(replies[0]["result"]["protocolVersion"], "2025-11-25");
        }
    }

    #[test]
    fn initialize_describes_the_server() {
        let result = &session(&[init("2025-06-18")])[0]["result"];
        assert_eq!(
            result["capabilities"]["tools"],
            json!({"listChanged": false})
        );
        assert!(result["capabilities"]["resources"].is_object());
        assert_eq!(result["serverInfo"]["name"], "stackwiz");
        assert_eq!(result["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(result["serverInfo"]["title"].is_string());
        let instructions = result["instructions"].as_str().unwrap();
        assert!(
            instructions.contains("validate_stack") && instructions.contains("Cloudflare"),
            "{instructions}"
        );
        assert!(result.get("resultType").is_none());
    }

    #[test]
    fn initialize_without_a_version_is_invalid_params() {
        let replies = session(&[request(json!(1), "initialize", json!({"capabilities": {}}))]);
        assert_eq!(error_code(&replies[0]), -32602);
        let replies = session(&[request(json!(1), "initialize", Value::Null)]);
        assert_eq!(error_code(&replies[0]), -32602);
    }

    #[test]
    fn ping_answers_empty_with_or_without_params_and_before_initialize() {
        let replies = session(&[
            request(json!(0), "ping", Value::Null),
            request(json!("p"), "ping", json!({})),
        ]);
        assert_eq!(replies[0], json!({"jsonrpc": "2.0", "id": 0, "result": {}}));
        assert_eq!(
            replies[1],
            json!({"jsonrpc": "2.0", "id": "p", "result": {}})
        );
    }

    #[test]
    fn ping_is_method_not_found_in_the_stateless_era_and_answered_in_the_handshake_era() {
        let replies = session(&[
            modern(json!(1), "ping", Value::Null),
            init("2025-11-25"),
            request(json!(2), "ping", Value::Null),
            modern(json!(3), "ping", Value::Null),
        ]);
        assert_eq!(error_code(&replies[0]), -32601);
        assert_eq!(replies[0]["id"], 1);
        assert_eq!(replies[2], json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
        assert_eq!(error_code(&replies[3]), -32601, "{}", replies[3]);
    }

    #[test]
    fn handshake_tools_list_shows_schemas_and_annotations() {
        let replies = legacy(&[request(json!(1), "tools/list", Value::Null)]);
        let tools = replies[0]["result"]["tools"].as_array().unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["greet", "fail", "boom", "scalar"]);
        let greet = &tools[0];
        assert_eq!(greet["inputSchema"]["required"], json!(["name"]));
        assert_eq!(greet["inputSchema"]["additionalProperties"], false);
        assert_eq!(greet["outputSchema"]["type"], "object");
        assert!(
            greet.get("title").is_none(),
            "the title is in the annotations"
        );
        assert_eq!(
            greet["annotations"],
            json!({"title": "Greet", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false})
        );
        assert!(replies[0]["result"].get("ttlMs").is_none());
        assert!(replies[0]["result"].get("resultType").is_none());
    }

    #[test]
    fn tools_list_refuses_a_cursor_it_never_gave() {
        let replies = legacy(&[request(json!(1), "tools/list", json!({"cursor": "abc"}))]);
        assert_eq!(error_code(&replies[0]), -32602);
    }

    #[test]
    fn a_tool_call_returns_structured_content_and_the_same_json_as_text() {
        let replies = legacy(&[request(
            json!(7),
            "tools/call",
            json!({"name": "greet", "arguments": {"name": "you"}}),
        )]);
        let result = &replies[0]["result"];
        assert_eq!(
            result["structuredContent"],
            json!({"greeting": "hello you"})
        );
        assert_eq!(result["isError"], false);
        assert_eq!(
            result["content"],
            json!([{"type": "text", "text": r#"{"greeting":"hello you"}"#}])
        );
    }

    #[test]
    fn bad_arguments_are_a_tool_error_the_model_can_read() {
        let replies = legacy(&[
            request(
                json!(1),
                "tools/call",
                json!({"name": "greet", "arguments": {"name": "x", "colour": "red"}}),
            ),
            request(json!(2), "tools/call", json!({"name": "greet"})),
            request(
                json!(3),
                "tools/call",
                json!({"name": "greet", "arguments": {"name": 5}}),
            ),
        ]);
        let texts: Vec<&str> = replies
            .iter()
            .map(|r| {
                assert_eq!(r["result"]["isError"], true, "{r}");
                assert!(r["result"].get("structuredContent").is_none());
                r["result"]["content"][0]["text"].as_str().unwrap()
            })
            .collect();
        assert!(
            texts[0].starts_with("invalid arguments: unknown field `colour`"),
            "{}",
            texts[0]
        );
        assert_eq!(texts[1], "invalid arguments: missing field `name`");
        assert!(
            texts[2].starts_with("invalid arguments: invalid type: integer `5`"),
            "{}",
            texts[2]
        );
    }

    #[test]
    fn a_failed_operation_is_a_tool_error_with_its_hint() {
        let replies = legacy(&[request(
            json!(1),
            "tools/call",
            json!({"name": "fail", "arguments": {}}),
        )]);
        assert_eq!(
            replies[0]["result"],
            json!({"content": [{"type": "text", "text": "the thing failed\nhint: try the other thing"}], "isError": true})
        );
    }

    #[test]
    fn malformed_tool_calls_are_protocol_errors() {
        let replies = legacy(&[
            request(
                json!(1),
                "tools/call",
                json!({"name": "nope", "arguments": {}}),
            ),
            request(json!(2), "tools/call", json!({"arguments": {}})),
            request(
                json!(3),
                "tools/call",
                json!({"name": "greet", "arguments": [1]}),
            ),
            request(json!(4), "tools/call", Value::Null),
            request(json!(5), "tools/call", json!([1, 2])),
        ]);
        let codes: Vec<i64> = replies.iter().map(error_code).collect();
        assert_eq!(codes, [-32602; 5]);
        assert_eq!(replies[0]["error"]["message"], "Unknown tool: nope");
    }

    #[test]
    fn a_panicking_tool_is_an_internal_error_and_the_server_goes_on() {
        let replies = legacy(&[
            request(json!(1), "tools/call", json!({"name": "boom"})),
            request(json!(2), "tools/call", json!({"name": "scalar"})),
            request(json!(3), "ping", Value::Null),
        ]);
        assert_eq!(error_code(&replies[0]), -32603);
        assert!(replies[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("kaboom"));
        assert_eq!(error_code(&replies[1]), -32603);
        assert_eq!(replies[2]["result"], json!({}));
    }

    #[test]
    fn unknown_methods_are_method_not_found_in_every_era() {
        let replies = session(&[
            request(json!(1), "prompts/list", Value::Null),
            init("2025-11-25"),
            request(json!(2), "logging/setLevel", json!({"level": "info"})),
            modern(json!(3), "completion/complete", Value::Null),
        ]);
        assert_eq!(error_code(&replies[0]), -32601);
        assert_eq!(error_code(&replies[2]), -32601);
        assert_eq!(error_code(&replies[3]), -32601);
    }

    #[test]
    fn a_request_with_no_era_is_invalid_params() {
        let replies = session(&[request(json!(1), "tools/list", Value::Null)]);
        assert_eq!(error_code(&replies[0]), -32602);
        let message = replies[0]["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("initialize") && message.contains(META_PROTOCOL_VERSION),
            "{message}"
        );
    }

    #[test]
    fn discover_describes_the_stateless_server() {
        let replies = session(&[modern(json!("d"), "server/discover", Value::Null)]);
        assert_eq!(replies[0]["id"], "d");
        let result = &replies[0]["result"];
        assert_eq!(result["resultType"], "complete");
        assert_eq!(result["supportedVersions"], json!([STATELESS_VERSION]));
        assert_eq!(
            result["capabilities"]["tools"],
            json!({"listChanged": false})
        );
        assert_eq!(result["_meta"][META_SERVER_INFO]["name"], "stackwiz");
        assert!(result["instructions"].is_string());
        assert!(result["ttlMs"].as_u64().is_some());
        assert_eq!(result["cacheScope"], "public");
    }

    #[test]
    fn discover_without_the_envelope_is_invalid_params() {
        let replies = session(&[
            request(json!(1), "server/discover", Value::Null),
            request(
                json!(2),
                "server/discover",
                json!({"_meta": {META_PROTOCOL_VERSION: STATELESS_VERSION}}),
            ),
            request(
                json!(3),
                "server/discover",
                json!({"_meta": {META_CLIENT_CAPABILITIES: {}}}),
            ),
            request(
                json!(4),
                "server/discover",
                json!({"_meta": {META_PROTOCOL_VERSION: 2026, META_CLIENT_CAPABILITIES: {}}}),
            ),
        ]);
        assert_eq!(
            replies.iter().map(error_code).collect::<Vec<_>>(),
            [-32602; 4]
        );
        assert!(replies[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains(META_CLIENT_CAPABILITIES));
    }

    #[test]
    fn an_unsupported_stateless_version_is_32022_with_the_supported_list() {
        let mut params = json!({});
        params["_meta"] = envelope("2099-01-01");
        let replies = session(&[request(json!(9), "tools/list", params)]);
        assert_eq!(error_code(&replies[0]), -32022);
        assert_eq!(replies[0]["id"], 9);
        assert_eq!(
            replies[0]["error"]["data"],
            json!({"supported": ["2026-07-28"], "requested": "2099-01-01"})
        );
    }

    #[test]
    fn every_version_the_server_calls_supported_is_accepted_in_the_envelope() {
        let mut params = json!({});
        params["_meta"] = envelope("2099-01-01");
        let replies = session(&[
            request(json!(1), "tools/list", params),
            modern(json!(2), "server/discover", Value::Null),
        ]);
        let refused = replies[0]["error"]["data"]["supported"].clone();
        let discovered = replies[1]["result"]["supportedVersions"].clone();
        assert_eq!(refused, discovered);
        for version in refused.as_array().unwrap() {
            let mut params = json!({});
            params["_meta"] = envelope(version.as_str().unwrap());
            let retried = &session(&[request(json!(3), "tools/list", params)])[0];
            assert!(
                retried["result"]["tools"].is_array(),
                "{version}: {retried}"
            );
        }
    }

    #[test]
    fn an_invalid_log_level_is_invalid_params_and_a_valid_one_is_served() {
        let with_level = |id: i64, level: Value| {
            let mut params = json!({});
            params["_meta"] = envelope(STATELESS_VERSION);
            params["_meta"][META_LOG_LEVEL] = level;
            request(json!(id), "tools/list", params)
        };
        let replies = session(&[
            with_level(1, json!("verbose")),
            with_level(2, json!(3)),
            with_level(3, json!("warning")),
            with_level(4, json!("emergency")),
        ]);
        assert_eq!(error_code(&replies[0]), -32602);
        assert!(replies[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains(META_LOG_LEVEL));
        assert_eq!(error_code(&replies[1]), -32602);
        assert!(replies[2]["result"]["tools"].is_array(), "{}", replies[2]);
        assert!(replies[3]["result"]["tools"].is_array(), "{}", replies[3]);
    }

    #[test]
    fn stateless_results_carry_result_type_server_info_and_cache_hints() {
        let replies = session(&[
            modern(json!(1), "tools/list", Value::Null),
            modern(
                json!(2),
                "tools/call",
                json!({"name": "greet", "arguments": {"name": "a", "loud": true}}),
            ),
            modern(json!(3), "resources/list", Value::Null),
            modern(json!(4), "resources/read", json!({"uri": "demo://one"})),
            modern(json!(5), "resources/templates/list", Value::Null),
        ]);
        for reply in &replies {
            assert_eq!(reply["result"]["resultType"], "complete", "{reply}");
            assert_eq!(
                reply["result"]["_meta"][META_SERVER_INFO]["name"], "stackwiz",
                "{reply}"
            );
        }
        let tools = &replies[0]["result"];
        assert_eq!(tools["tools"].as_array().unwrap().len(), 4);
        assert_eq!(tools["ttlMs"], STATIC_TTL_MS);
        assert_eq!(tools["cacheScope"], "public");
        assert_eq!(
            replies[1]["result"]["structuredContent"],
            json!({"greeting": "HELLO A"})
        );
        assert!(replies[1]["result"].get("ttlMs").is_none());
        for cacheable in [&replies[2], &replies[3]] {
            assert_eq!(cacheable["result"]["ttlMs"], 0);
            assert_eq!(cacheable["result"]["cacheScope"], "private");
        }
        assert!(replies[4]["result"]["ttlMs"].is_u64());
    }

    #[test]
    fn a_handshake_client_may_also_send_stateless_requests() {
        let replies = legacy(&[
            request(json!(1), "tools/list", Value::Null),
            modern(json!(2), "tools/list", Value::Null),
        ]);
        assert!(replies[0]["result"].get("resultType").is_none());
        assert_eq!(replies[1]["result"]["resultType"], "complete");
    }

    #[test]
    fn resources_are_listed_and_read_in_the_handshake_era() {
        let replies = legacy(&[
            request(json!(1), "resources/list", Value::Null),
            request(json!(2), "resources/read", json!({"uri": "demo://one"})),
            request(json!(3), "resources/templates/list", json!({})),
        ]);
        assert_eq!(
            replies[0]["result"],
            json!({"resources": [{"uri": "demo://one", "name": "one", "description": "The first.", "mimeType": "text/plain"}]})
        );
        assert_eq!(
            replies[1]["result"],
            json!({"contents": [{"uri": "demo://one", "mimeType": "text/plain", "text": "1"}]})
        );
        assert_eq!(
            replies[2]["result"]["resourceTemplates"][0]["uriTemplate"],
            "demo://{name}"
        );
    }

    #[test]
    fn a_missing_resource_is_32002_with_a_handshake_and_32602_without() {
        let replies = legacy(&[
            request(json!(1), "resources/read", json!({"uri": "demo://two"})),
            request(json!(2), "resources/read", json!({})),
            modern(json!(3), "resources/read", json!({"uri": "demo://two"})),
        ]);
        assert_eq!(error_code(&replies[0]), -32002);
        assert_eq!(replies[0]["error"]["data"], json!({"uri": "demo://two"}));
        assert_eq!(error_code(&replies[1]), -32602);
        assert_eq!(error_code(&replies[2]), -32602);
    }

    #[test]
    fn read_only_lists_and_serves_only_read_only_tools() {
        let mut lines = vec![init("2025-11-25")];
        lines.extend([
            request(json!(1), "tools/list", Value::Null),
            request(
                json!(2),
                "tools/call",
                json!({"name": "boom", "arguments": {}}),
            ),
            request(
                json!(3),
                "tools/call",
                json!({"name": "greet", "arguments": {"name": "ro"}}),
            ),
        ]);
        let replies = session_with(true, &lines);
        assert!(replies[0]["result"]["instructions"]
            .as_str()
            .unwrap()
            .contains("read-only"));
        let names: Vec<&str> = replies[1]["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["greet", "fail", "scalar"]);
        let refused = &replies[2]["result"];
        assert_eq!(refused["isError"], true);
        let text = refused["content"][0]["text"].as_str().unwrap();
        assert!(
            text.starts_with("boom is refused: this stackwiz MCP server runs read-only"),
            "{text}"
        );
        assert!(text.ends_with("greet, fail, scalar"), "{text}");
        assert_eq!(
            replies[3]["result"]["structuredContent"],
            json!({"greeting": "hello ro"})
        );
    }

    #[test]
    fn the_whole_conversation_keeps_going_after_every_kind_of_error() {
        let replies = session(&[
            json!("{oops"),
            json!("[]"),
            json!(r#"{"jsonrpc":"2.0","id":1}"#),
            init("2024-11-05"),
            json!(INITIALIZED),
            json!(
                r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"x"}}"#
            ),
            request(json!(2), "nope", Value::Null),
            request(json!(3), "tools/call", json!({"name": "boom"})),
            request(
                json!(0),
                "tools/call",
                json!({"name": "greet", "arguments": {"name": "z"}}),
            ),
        ]);
        let summary: Vec<(Option<Value>, Value)> = replies
            .iter()
            .map(|r| (r.get("id").cloned(), r["error"]["code"].clone()))
            .collect();
        assert_eq!(
            summary,
            [
                (None, json!(-32700)),
                (None, json!(-32600)),
                (Some(json!(1)), json!(-32600)),
                (Some(json!(0)), Value::Null),
                (Some(json!(2)), json!(-32601)),
                (Some(json!(3)), json!(-32603)),
                (Some(json!(0)), Value::Null),
            ]
        );
        assert_eq!(
            replies[6]["result"]["structuredContent"]["greeting"],
            "hello z"
        );
    }

    #[test]
    fn a_cancelled_tool_call_sees_its_token_cancelled_and_gets_no_reply() {
        use std::sync::atomic::Ordering;
        let client = Client::start(Arc::new(McpServer::new(ctx(false), &LINGER_CATALOG)));
        client.send(&init("2025-11-25").to_string());
        assert_eq!(client.reply()["id"], 0);
        client.send(&request(json!(7), "tools/call", json!({"name": "linger"})).to_string());
        let start = std::time::Instant::now();
        while LINGERING.load(Ordering::SeqCst) == 0 {
            assert!(start.elapsed().as_secs() < 20, "linger never started");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        // While it lingers, the server answers.
        client.send(&request(json!(8), "ping", Value::Null).to_string());
        assert_eq!(
            client.reply(),
            json!({"jsonrpc": "2.0", "id": 8, "result": {}})
        );
        client.send(
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#,
        );
        while LINGERED.lock().unwrap().is_empty() {
            assert!(start.elapsed().as_secs() < 20, "linger was never cancelled");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(*LINGERED.lock().unwrap(), [true]);
        client.send(&request(json!(9), "tools/list", Value::Null).to_string());
        assert_eq!(client.reply()["id"], 9);
        let (result, rest) = client.close();
        result.unwrap();
        assert!(rest.is_empty(), "the cancelled call was answered: {rest:?}");
    }
}
