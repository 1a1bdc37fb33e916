//! JSON-RPC 2.0 messages as MCP frames them: one JSON object per line.
//!
//! This module owns the wire shapes (typed [`Request`], [`Response`], [`Notification`]), the
//! request id that keeps its JSON type, the error codes, and the rules that turn one line of
//! input into a message or into the error reply it deserves. It knows nothing of MCP methods
//! and never writes anything itself: [`super::server`] owns the output.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

/// A request id, echoed with the JSON type it came with: `0`, `7` and `"7"` are three ids.
/// MCP allows strings and integers only; [`Message::from_value`] refuses `1.5` or `1e3`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    Number(Number),
    String(String),
}

impl RequestId {
    /// The id a JSON value names, if it can be one: a string or an integer.
    pub fn from_json(value: &Value) -> Option<RequestId> {
        match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(RequestId::Number(n.clone())),
            Value::String(s) => Some(RequestId::String(s.clone())),
            _ => None,
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> RequestId {
        RequestId::Number(n.into())
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> RequestId {
        RequestId::String(s.to_string())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// The error codes stackwiz sends. JSON-RPC's own five, plus MCP's -32002 (resource not found
/// before 2026-07-28) and -32022 (unsupported protocol version, 2026-07-28).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    ParseError,
    InvalidRequest,
    MethodNotFound,
    InvalidParams,
    InternalError,
    /// Handshake-era "resource not found"; the stateless era uses -32602 instead.
    ResourceNotFound,
    UnsupportedProtocolVersion,
}

impl ErrorCode {
    pub fn code(self) -> i64 {
        match self {
            ErrorCode::ParseError => -32700,
            ErrorCode::InvalidRequest => -32600,
            ErrorCode::MethodNotFound => -32601,
            ErrorCode::InvalidParams => -32602,
            ErrorCode::InternalError => -32603,
            ErrorCode::ResourceNotFound => -32002,
            ErrorCode::UnsupportedProtocolVersion => -32022,
        }
    }
}

/// The `error` member of a response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseError {
    pub code: i64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ResponseError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ResponseError {
        ResponseError {
            code: code.code(),
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> ResponseError {
        self.data = Some(data);
        self
    }

    pub fn invalid_params(message: impl Into<String>) -> ResponseError {
        ResponseError::new(ErrorCode::InvalidParams, message)
    }
}

/// A request from the client: it gets exactly one response with the same id.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub id: RequestId,
    pub method: String,
    /// `None` when the message had no `params` (or `"params": null`).
    pub params: Option<Value>,
}

/// A message without an id: never answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub method: String,
    pub params: Option<Value>,
}

/// A reply. `id` is `None` only when the request's id could not be read; it is then left
/// out of the message. JSON-RPC 2.0 would send `"id": null`, but every MCP schema revision
/// types `id` as a string or an integer, and clients that validate refuse `null`.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub id: Option<RequestId>,
    pub outcome: Result<Value, ResponseError>,
}

impl Response {
    pub fn ok(id: RequestId, result: Value) -> Response {
        Response {
            id: Some(id),
            outcome: Ok(result),
        }
    }

    pub fn err(id: Option<RequestId>, error: ResponseError) -> Response {
        Response {
            id,
            outcome: Err(error),
        }
    }
}

impl Serialize for Response {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2 + usize::from(self.id.is_some())))?;
        map.serialize_entry("jsonrpc", "2.0")?;
        if let Some(id) = &self.id {
            map.serialize_entry("id", id)?;
        }
        match &self.outcome {
            Ok(result) => map.serialize_entry("result", result)?,
            Err(error) => map.serialize_entry("error", error)?,
        }
        map.end()
    }
}

/// One incoming message. Responses from the client are recognised so they can be ignored:
/// this server never sends requests, so it never waits for one.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Request(Request),
    Notification(Notification),
    Response,
}

impl Message {
    /// Reads one line. `Err` is the error response the line deserves (with the request's id
    /// when it could be read, else none).
    pub fn parse(line: &[u8]) -> Result<Message, Response> {
        let value: Value = serde_json::from_slice(line).map_err(|e| {
            Response::err(
                None,
                ResponseError::new(ErrorCode::ParseError, format!("parse error: {e}")),
            )
        })?;
        Message::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<Message, Response> {
        let invalid = |id: Option<RequestId>, why: &str| {
            Response::err(
                id,
                ResponseError::new(ErrorCode::InvalidRequest, format!("invalid request: {why}")),
            )
        };
        let mut object: Map<String, Value> = match value {
            Value::Object(object) => object,
            Value::Array(_) => {
                return Err(invalid(
                    None,
                    "batches (JSON arrays) are not supported; send one message per line",
                ))
            }
            _ => return Err(invalid(None, "a message must be a JSON object")),
        };
        let id = match object.remove("id") {
            None => None,
            Some(id) => match RequestId::from_json(&id) {
                Some(id) => Some(id),
                None => return Err(invalid(None, "`id` must be a string or an integer")),
            },
        };
        if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(invalid(id, "`jsonrpc` must be \"2.0\""));
        }
        let method = match object.remove("method") {
            Some(Value::String(method)) => method,
            Some(_) => return Err(invalid(id, "`method` must be a string")),
            None if id.is_some()
                && (object.contains_key("result") || object.contains_key("error")) =>
            {
                return Ok(Message::Response)
            }
            None => return Err(invalid(id, "`method` is missing")),
        };
        let params = match object.remove("params") {
            None | Some(Value::Null) => None,
            Some(params @ (Value::Object(_) | Value::Array(_))) => Some(params),
            Some(_) => return Err(invalid(id, "`params` must be an object")),
        };
        Ok(match id {
            Some(id) => Message::Request(Request { id, method, params }),
            None => Message::Notification(Notification { method, params }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Message, Response> {
        Message::parse(text.as_bytes())
    }

    fn error_of(text: &str) -> (Option<RequestId>, i64) {
        match parse(text) {
            Err(Response {
                id,
                outcome: Err(e),
            }) => (id, e.code),
            other => panic!("expected an error for {text}, got {other:?}"),
        }
    }

    #[test]
    fn ids_keep_their_json_type() {
        for (text, id) in [
            (r#"{"jsonrpc":"2.0","id":0,"method":"ping"}"#, json!(0)),
            (r#"{"jsonrpc":"2.0","id":"0","method":"ping"}"#, json!("0")),
            (r#"{"jsonrpc":"2.0","id":-5,"method":"ping"}"#, json!(-5)),
            (
                r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"}"#,
                json!(u64::MAX),
            ),
        ] {
            let Ok(Message::Request(request)) = parse(text) else {
                panic!("{text}")
            };
            let reply = serde_json::to_value(Response::ok(request.id, json!({}))).unwrap();
            assert_eq!(reply["id"], id, "{text}");
        }
    }

    #[test]
    fn a_message_without_id_is_a_notification() {
        assert_eq!(
            parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap(),
            Message::Notification(Notification {
                method: "notifications/initialized".into(),
                params: None
            })
        );
    }

    #[test]
    fn absent_and_null_params_are_the_same() {
        let a = parse(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).unwrap();
        let b = parse(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":null}"#).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_messages_get_the_right_codes() {
        assert_eq!(error_of("{not json"), (None, -32700));
        assert_eq!(error_of(""), (None, -32700));
        assert_eq!(
            error_of(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#),
            (None, -32600)
        );
        assert_eq!(error_of("[]"), (None, -32600));
        assert_eq!(error_of("42"), (None, -32600));
        assert_eq!(
            error_of(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#),
            (None, -32600)
        );
        assert_eq!(
            error_of(r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#),
            (None, -32600)
        );
        // MCP ids are strings or integers: a fraction or an exponent is no id.
        for id in ["1.5", "1.0", "1e3", "-0.5"] {
            let text = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
            assert_eq!(error_of(&text), (None, -32600), "{text}");
        }
        assert_eq!(
            error_of(r#"{"id":3,"method":"ping"}"#),
            (Some(3.into()), -32600)
        );
        assert_eq!(
            error_of(r#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#),
            (Some(3.into()), -32600)
        );
        assert_eq!(
            error_of(r#"{"jsonrpc":"2.0","id":"a","method":7}"#),
            (Some("a".into()), -32600)
        );
        assert_eq!(
            error_of(r#"{"jsonrpc":"2.0","id":"a"}"#),
            (Some("a".into()), -32600)
        );
        assert_eq!(error_of(r#"{"jsonrpc":"2.0","method":7}"#), (None, -32600));
        assert_eq!(
            error_of(r#"{"jsonrpc":"2.0","id":4,"method":"ping","params":"x"}"#),
            (Some(4.into()), -32600)
        );
    }

    #[test]
    fn responses_from_the_client_are_recognised() {
        assert_eq!(
            parse(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#).unwrap(),
            Message::Response
        );
    }

    #[test]
    fn an_unknown_id_is_left_out_never_null() {
        let reply = Response::err(
            None,
            ResponseError::new(ErrorCode::ParseError, "parse error"),
        );
        assert_eq!(
            serde_json::to_string(&reply).unwrap(),
            r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error"}}"#
        );
    }
}
