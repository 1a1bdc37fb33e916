//! The stdio loop: read one line, answer it, repeat until end of input.
//!
//! This module owns the output stream. It is the only writer: each message is one line of
//! compact JSON (serde_json escapes newlines inside strings), written whole and flushed at
//! once. No input may stop it: a line that is not JSON, a batch, a panicking handler, all
//! become error replies and the loop goes on. It returns when the input ends, which is how an
//! MCP client asks a stdio server to exit. It knows JSON-RPC, not MCP: the methods live
//! behind [`Handler`].

use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};

use serde_json::Value;

use super::protocol::{ErrorCode, Message, Notification, Request, Response, ResponseError};

/// The longest line read as a message. A longer one is skipped up to its newline and
/// answered with -32600, so a runaway client cannot make the server hold unbounded memory.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// What answers the messages. Requests get exactly one response; notifications none.
pub trait Handler {
    fn handle_request(&mut self, request: &Request) -> Result<Value, ResponseError>;
    fn handle_notification(&mut self, notification: &Notification);
}

/// Serves `input` until it ends. Errors are only those of the streams themselves (a closed
/// output is `BrokenPipe`; callers treat it as the client having gone).
pub fn serve<R: BufRead, W: Write>(
    mut input: R,
    output: W,
    handler: &mut impl Handler,
) -> io::Result<()> {
    let mut output = Output(output);
    let mut line = Vec::new();
    while let Some(frame) = next_line(&mut input, &mut line)? {
        let message = match frame {
            Frame::TooLong => Err(Response::err(
                None,
                ResponseError::new(
                    ErrorCode::InvalidRequest,
                    format!("invalid request: a message may not exceed {MAX_MESSAGE_BYTES} bytes"),
                ),
            )),
            Frame::Line if line.iter().all(u8::is_ascii_whitespace) => continue,
            Frame::Line => Message::parse(&line),
        };
        match message {
            Err(reply) => {
                if let Err(e) = &reply.outcome {
                    eprintln!("stackwiz mcp: {}", e.message);
                }
                output.send(&reply)?;
            }
            Ok(Message::Request(request)) => {
                let outcome =
                    panic::catch_unwind(AssertUnwindSafe(|| handler.handle_request(&request)))
                        .unwrap_or_else(|payload| {
                            Err(ResponseError::new(
                                ErrorCode::InternalError,
                                format!(
                                    "internal error in {}: {}",
                                    request.method,
                                    panic_message(&*payload)
                                ),
                            ))
                        });
                output.send(&Response {
                    id: Some(request.id),
                    outcome,
                })?;
            }
            Ok(Message::Notification(notification)) => {
                let handled = panic::catch_unwind(AssertUnwindSafe(|| {
                    handler.handle_notification(&notification)
                }));
                if let Err(payload) = handled {
                    eprintln!(
                        "stackwiz mcp: internal error in {}: {}",
                        notification.method,
                        panic_message(&*payload)
                    );
                }
            }
            Ok(Message::Response) => {}
        }
    }
    Ok(())
}

struct Output<W>(W);

impl<W: Write> Output<W> {
    fn send(&mut self, response: &Response) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(response).unwrap_or_else(|e| {
            // Only a result that is not representable as JSON gets here; answer anyway.
            let error =
                ResponseError::new(ErrorCode::InternalError, format!("internal error: {e}"));
            serde_json::to_vec(&Response::err(response.id.clone(), error))
                .expect("an error serializes")
        });
        bytes.push(b'\n');
        self.0.write_all(&bytes)?;
        self.0.flush()
    }
}

enum Frame {
    Line,
    TooLong,
}

/// Reads up to the next newline (or the end of input) into `line`, without the newline.
/// `None` at the end of input.
fn next_line<R: BufRead>(input: &mut R, line: &mut Vec<u8>) -> io::Result<Option<Frame>> {
    line.clear();
    let mut read_any = false;
    let mut too_long = false;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        read_any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        if !too_long {
            if line.len() + chunk.len() > MAX_MESSAGE_BYTES {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(newline.is_some());
        input.consume(used);
        if newline.is_some() {
            break;
        }
    }
    Ok(match (read_any, too_long) {
        (false, _) => None,
        (true, true) => Some(Frame::TooLong),
        (true, false) => Some(Frame::Line),
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the handler panicked".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Answers `echo` with its params, panics on `panic`, knows nothing else; records
    /// notifications.
    #[derive(Default)]
    struct Echo {
        notifications: Vec<String>,
    }

    impl Handler for Echo {
        fn handle_request(&mut self, request: &Request) -> Result<Value, ResponseError> {
            match request.method.as_str() {
                "echo" => Ok(request.params.clone().unwrap_or(json!({}))),
                "panic" => panic!("boom"),
                other => Err(ResponseError::new(
                    ErrorCode::MethodNotFound,
                    format!("method not found: {other}"),
                )),
            }
        }
        fn handle_notification(&mut self, notification: &Notification) {
            if notification.method == "panic" {
                panic!("boom");
            }
            self.notifications.push(notification.method.clone());
        }
    }

    fn run(input: &str) -> (Vec<Value>, Echo) {
        let mut handler = Echo::default();
        let mut output = Vec::new();
        serve(input.as_bytes(), &mut output, &mut handler).unwrap();
        let text = String::from_utf8(output).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
        (
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            handler,
        )
    }

    #[test]
    fn answers_each_request_on_its_own_line_with_its_id() {
        let (replies, _) = run(concat!(
            r#"{"jsonrpc":"2.0","id":0,"method":"echo","params":{"a":"x\ny"}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":"s","method":"echo"}"#,
            "\r\n",
        ));
        assert_eq!(
            replies,
            [
                json!({"jsonrpc":"2.0","id":0,"result":{"a":"x\ny"}}),
                json!({"jsonrpc":"2.0","id":"s","result":{}}),
            ]
        );
    }

    #[test]
    fn a_last_line_without_newline_is_still_served() {
        let (replies, _) = run(r#"{"jsonrpc":"2.0","id":1,"method":"echo"}"#);
        assert_eq!(replies, [json!({"jsonrpc":"2.0","id":1,"result":{}})]);
    }

    #[test]
    fn empty_input_ends_at_once() {
        let (replies, _) = run("");
        assert!(replies.is_empty());
    }

    #[test]
    fn notifications_get_no_reply() {
        let (replies, handler) = run(concat!(
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}"#,
            "\n",
        ));
        assert!(replies.is_empty());
        assert_eq!(
            handler.notifications,
            ["notifications/initialized", "notifications/cancelled"]
        );
    }

    #[test]
    fn blank_lines_and_client_responses_are_ignored() {
        let (replies, _) = run("\n  \n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n");
        assert!(replies.is_empty());
    }

    #[test]
    fn bad_lines_get_errors_and_the_loop_goes_on() {
        let (replies, _) = run(concat!(
            "this is not json\n",
            r#"[{"jsonrpc":"2.0","id":1,"method":"echo"}]"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"nope"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":3,"method":"echo"}"#,
            "\n",
        ));
        let codes: Vec<_> = replies
            .iter()
            .map(|r| (r["id"].clone(), r["error"]["code"].clone()))
            .collect();
        assert_eq!(
            codes,
            [
                (Value::Null, json!(-32700)),
                (Value::Null, json!(-32600)),
                (json!(2), json!(-32601)),
                (json!(3), Value::Null),
            ]
        );
        assert_eq!(replies[3]["result"], json!({}));
    }

    #[test]
    fn a_panicking_handler_becomes_an_internal_error_and_the_loop_goes_on() {
        let (replies, handler) = run(concat!(
            r#"{"jsonrpc":"2.0","id":"p","method":"panic"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"panic"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"after"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":5,"method":"echo"}"#,
            "\n",
        ));
        assert_eq!(replies[0]["id"], "p");
        assert_eq!(replies[0]["error"]["code"], -32603);
        assert_eq!(
            replies[0]["error"]["message"],
            "internal error in panic: boom"
        );
        assert_eq!(replies[1], json!({"jsonrpc":"2.0","id":5,"result":{}}));
        assert_eq!(handler.notifications, ["after"]);
    }

    #[test]
    fn an_oversized_line_is_refused_and_the_next_one_served() {
        let huge = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(MAX_MESSAGE_BYTES));
        let input = huge + "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\n";
        let (replies, _) = run(&input);
        assert_eq!(replies[0]["error"]["code"], -32600);
        assert_eq!(replies[1]["result"], json!({}));
    }

    #[test]
    fn invalid_utf8_is_a_parse_error() {
        let mut output = Vec::new();
        let input: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}\n";
        serve(input, &mut output, &mut Echo::default()).unwrap();
        let reply: Value = serde_json::from_slice(&output).unwrap();
        assert_eq!(reply["error"]["code"], -32700);
    }

    /// Records what reached it at each flush.
    #[derive(Default)]
    struct Flushes {
        pending: Vec<u8>,
        flushed: Vec<String>,
    }

    impl Write for Flushes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.pending.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushed
                .push(String::from_utf8(std::mem::take(&mut self.pending)).unwrap());
            Ok(())
        }
    }

    #[test]
    fn every_message_is_flushed_whole() {
        let mut output = Flushes::default();
        let input = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\nnot json\n";
        serve(input.as_bytes(), &mut output, &mut Echo::default()).unwrap();
        assert_eq!(output.flushed.len(), 2);
        assert!(output
            .flushed
            .iter()
            .all(|m| m.ends_with('\n') && m.matches('\n').count() == 1));
    }

    #[test]
    fn a_closed_output_is_reported() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let input = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\n";
        let err = serve(input.as_bytes(), Closed, &mut Echo::default()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
