//! The stdio loop: read lines on the calling thread, answer quick requests at once, run slow
//! ones on a few worker threads, and stop at the end of input.
//!
//! This module owns the output stream. It is the only writer: each message is one line of
//! compact JSON (serde_json escapes newlines inside strings), written whole and flushed at
//! once under one lock, whichever thread answers. No input may stop it: a line that is not
//! JSON, a batch, a panicking handler, all become error replies and the loop goes on.
//!
//! Concurrency, in the manner of rust-analyzer's `lsp-server`: the reader never waits for
//! work. A request the [`Handler`] calls slow (a tool call, anything that may run docker or
//! reach the network) is queued for at most [`MAX_RUNNING`] workers, made on demand, and
//! kept with its own [`Cancel`] token until it is answered; quick ones (`ping`, `initialize`,
//! the lists) are answered by the reader, so they never wait behind a slow tool.
//! `notifications/cancelled` cancels the named request's token, and a cancelled request gets
//! no reply (the MCP specification forbids one). The end of input is how an MCP client asks a
//! stdio server to exit: every request still in flight is cancelled, the workers get
//! [`SHUTDOWN_GRACE`] to stop, and the loop returns without waiting longer.
//! It knows JSON-RPC and MCP's one cancellation notification, not MCP's methods: those live
//! behind [`Handler`].

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::log;
use super::protocol::{
    ErrorCode, Message, Notification, Request, RequestId, Response, ResponseError,
};
use crate::cancel::Cancel;

/// The longest line read as a message. A longer one is skipped up to its newline and
/// answered with -32600, so a runaway client cannot make the server hold unbounded memory.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Slow requests that run at once; later ones wait in a queue, in order. Each may hold a
/// docker child, so this also bounds the processes one client can start.
pub const MAX_RUNNING: usize = 4;

/// Slow requests that may wait for a worker. One more is refused with an error rather than
/// held: a client this far ahead of the server is flooding it.
pub const MAX_QUEUED: usize = 64;

/// How long, after the input ends, the loop waits for cancelled requests to stop (a killed
/// docker child, a removed build folder) before it returns anyway. The official Python SDK
/// sends SIGTERM 2 s after it closes the server's input.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// The notification that cancels a request in flight, `{"requestId": ID, "reason"?: ...}`.
pub const CANCEL_METHOD: &str = "notifications/cancelled";

/// What answers the messages. Requests get exactly one response, unless cancelled;
/// notifications none. Called from several threads at once.
pub trait Handler: Send + Sync + 'static {
    /// Whether answering may take long (a child process, the network, the disk): such a
    /// request runs on a worker with its own cancellation token. Quick ones are answered
    /// in order, before the next line is read, and must not block.
    fn is_slow(&self, request: &Request) -> bool;
    /// Answers `request`. `cancel` is set when the client cancels it or the input ends;
    /// the answer is then dropped, so stopping early is always right.
    fn handle_request(&self, request: &Request, cancel: &Cancel) -> Result<Value, ResponseError>;
    fn handle_notification(&self, notification: &Notification);
}

/// Serves `input` until it ends, reading on the calling thread. Errors are only those of the
/// streams themselves (a closed output is `BrokenPipe`; callers treat it as the client
/// having gone). No thread is started until the first slow request.
pub fn serve<R, W, H>(mut input: R, output: W, handler: Arc<H>) -> io::Result<()>
where
    R: BufRead,
    W: Write + Send + 'static,
    H: Handler,
{
    let shared = Arc::new(Shared {
        handler,
        output: Mutex::new(output),
        state: Mutex::new(State::default()),
        work: Condvar::new(),
        done: Condvar::new(),
    });
    let result = read_loop(&mut input, &shared);
    shared.shut_down(SHUTDOWN_GRACE);
    result
}

fn read_loop<R: BufRead, W: Write + Send + 'static, H: Handler>(
    input: &mut R,
    shared: &Arc<Shared<W, H>>,
) -> io::Result<()> {
    let mut line = Vec::new();
    while let Some(frame) = next_line(input, &mut line)? {
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
                    log(format_args!("{}", e.message));
                }
                shared.send(&reply)?;
            }
            Ok(Message::Request(request)) => shared.request(request)?,
            Ok(Message::Notification(notification)) => shared.notification(&notification),
            Ok(Message::Response) => {}
        }
        if let Some(e) = shared.lock().output_error.take() {
            return Err(e);
        }
    }
    Ok(())
}

/// What the reader and the workers share.
struct Shared<W, H> {
    handler: Arc<H>,
    /// The one writer: a reply is written and flushed whole while this is held.
    output: Mutex<W>,
    state: Mutex<State>,
    /// Signalled when work is queued or the loop closes.
    work: Condvar,
    /// Signalled when a request leaves `in_flight` or a worker ends.
    done: Condvar,
}

#[derive(Default)]
struct State {
    /// Every slow request not yet answered, queued or running, with its token.
    in_flight: HashMap<RequestId, Cancel>,
    /// Slow requests waiting for a worker, oldest first.
    queue: VecDeque<Request>,
    workers: usize,
    /// Workers waiting for work.
    idle: usize,
    /// The input ended: workers finish what they hold and stop.
    closed: bool,
    /// The first error a worker met writing a reply; the reader returns it.
    output_error: Option<io::Error>,
}

impl<W: Write + Send + 'static, H: Handler> Shared<W, H> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic never happens while the lock is held (handlers run outside it); if one
        // did, the state is still consistent, since each change is a single statement.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send(&self, response: &Response) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(response).unwrap_or_else(|e| {
            // Only a result that is not representable as JSON gets here; answer anyway.
            let error =
                ResponseError::new(ErrorCode::InternalError, format!("internal error: {e}"));
            serde_json::to_vec(&Response::err(response.id.clone(), error))
                .expect("an error serializes")
        });
        bytes.push(b'\n');
        let mut output = self.output.lock().unwrap_or_else(|p| p.into_inner());
        output.write_all(&bytes)?;
        output.flush()
    }

    fn request(self: &Arc<Self>, request: Request) -> io::Result<()> {
        let mut state = self.lock();
        if state.in_flight.contains_key(&request.id) {
            drop(state);
            let error = ResponseError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "invalid request: id {} is already used by a request in flight; \
                     give every request its own id",
                    request.id
                ),
            );
            return self.send(&Response::err(Some(request.id), error));
        }
        if !self.handler.is_slow(&request) {
            drop(state);
            let outcome = answer(&*self.handler, &request, &Cancel::new());
            return self.send(&Response {
                id: Some(request.id),
                outcome,
            });
        }
        if state.queue.len() >= MAX_QUEUED {
            drop(state);
            let error = ResponseError::new(
                ErrorCode::InternalError,
                format!(
                    "server busy: {MAX_RUNNING} requests are running and {MAX_QUEUED} waiting; \
                     send more once some are answered"
                ),
            );
            return self.send(&Response::err(Some(request.id), error));
        }
        state.in_flight.insert(request.id.clone(), Cancel::new());
        state.queue.push_back(request);
        let spawn = state.queue.len() > state.idle && state.workers < MAX_RUNNING;
        if spawn {
            state.workers += 1;
        }
        self.work.notify_one();
        drop(state);
        if spawn {
            let shared = Arc::clone(self);
            let started = std::thread::Builder::new()
                .name("stackwiz-mcp-worker".into())
                .spawn(move || shared.work());
            if let Err(e) = started {
                return self.no_worker(&e);
            }
        }
        Ok(())
    }

    /// A worker could not be started. With no worker at all the queue would never move:
    /// answer what waits with the reason.
    fn no_worker(&self, e: &io::Error) -> io::Result<()> {
        let mut state = self.lock();
        state.workers -= 1;
        if state.workers > 0 {
            return Ok(());
        }
        let stranded: Vec<Request> = state.queue.drain(..).collect();
        for request in &stranded {
            state.in_flight.remove(&request.id);
        }
        drop(state);
        log(format_args!("cannot start a worker thread: {e}"));
        for request in stranded {
            let error = ResponseError::new(
                ErrorCode::InternalError,
                format!("internal error: cannot start a worker thread: {e}"),
            );
            self.send(&Response::err(Some(request.id), error))?;
        }
        Ok(())
    }

    fn notification(&self, notification: &Notification) {
        if notification.method == CANCEL_METHOD {
            let id = notification
                .params
                .as_ref()
                .and_then(|p| p.get("requestId"))
                .and_then(RequestId::from_json);
            // An unknown id (never sent, or already answered) is ignored, as the spec allows.
            if let Some(token) = id.and_then(|id| self.lock().in_flight.get(&id).cloned()) {
                token.cancel();
            }
        }
        let handled = panic::catch_unwind(AssertUnwindSafe(|| {
            self.handler.handle_notification(notification)
        }));
        if let Err(payload) = handled {
            log(format_args!(
                "internal error in {}: {}",
                notification.method,
                panic_message(&*payload)
            ));
        }
    }

    /// A worker: takes queued requests in order until the loop closes.
    fn work(self: Arc<Self>) {
        loop {
            let (request, cancel) = {
                let mut state = self.lock();
                loop {
                    if let Some(request) = state.queue.pop_front() {
                        let cancel = state.in_flight.get(&request.id).cloned();
                        break (request, cancel.unwrap_or_default());
                    }
                    if state.closed {
                        state.workers -= 1;
                        self.done.notify_all();
                        return;
                    }
                    state.idle += 1;
                    state = self.work.wait(state).unwrap_or_else(|p| p.into_inner());
                    state.idle -= 1;
                }
            };
            let outcome =
                (!cancel.is_cancelled()).then(|| answer(&*self.handler, &request, &cancel));
            {
                let mut state = self.lock();
                state.in_flight.remove(&request.id);
                self.done.notify_all();
            }
            // A cancelled request gets no reply, whatever it produced.
            let Some(outcome) = outcome.filter(|_| !cancel.is_cancelled()) else {
                continue;
            };
            let reply = Response {
                id: Some(request.id),
                outcome,
            };
            if let Err(e) = self.send(&reply) {
                self.lock().output_error.get_or_insert(e);
            }
        }
    }

    /// The input ended (or the output failed): cancel everything, drop what has not
    /// started, and give what runs `grace` to stop.
    fn shut_down(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        let mut state = self.lock();
        state.closed = true;
        let unstarted: Vec<Request> = state.queue.drain(..).collect();
        for request in &unstarted {
            state.in_flight.remove(&request.id);
        }
        for token in state.in_flight.values() {
            token.cancel();
        }
        self.work.notify_all();
        while !state.in_flight.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                log(format_args!(
                    "input closed; {} cancelled request(s) still stopping, not waiting longer",
                    state.in_flight.len()
                ));
                break;
            }
            state = self
                .done
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// Runs the handler; a panic becomes -32603 and the server goes on.
fn answer<H: Handler>(
    handler: &H,
    request: &Request,
    cancel: &Cancel,
) -> Result<Value, ResponseError> {
    panic::catch_unwind(AssertUnwindSafe(|| handler.handle_request(request, cancel)))
        .unwrap_or_else(|payload| {
            Err(ResponseError::new(
                ErrorCode::InternalError,
                format!(
                    "internal error in {}: {}",
                    request.method,
                    panic_message(&*payload)
                ),
            ))
        })
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

/// An in-memory client for tests: it writes lines to [`serve`] on its own thread and reads
/// the replies one by one, so a test can wait for an answer before it sends the next line.
#[cfg(test)]
pub(crate) mod testing {
    use std::io::{self, BufRead, Read, Write};
    use std::sync::mpsc::{self, Receiver, Sender};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::Duration;

    use serde_json::Value;

    use super::{serve, Handler};

    /// How long a test waits for a reply that must come.
    pub const PATIENCE: Duration = Duration::from_secs(20);

    pub struct Client {
        input: Option<Sender<Vec<u8>>>,
        replies: Receiver<String>,
        server: Option<JoinHandle<io::Result<()>>>,
    }

    impl Client {
        pub fn start<H: Handler>(handler: Arc<H>) -> Client {
            let (input, lines) = mpsc::channel();
            let (replies_tx, replies) = mpsc::channel();
            let reader = ChannelReader {
                lines,
                buf: Vec::new(),
                pos: 0,
            };
            let writer = LineSender {
                replies: replies_tx,
                pending: Vec::new(),
            };
            let server = std::thread::spawn(move || serve(reader, writer, handler));
            Client {
                input: Some(input),
                replies,
                server: Some(server),
            }
        }

        /// Sends one line (a newline is added).
        pub fn send(&self, line: &str) {
            let input = self.input.as_ref().expect("the input is open");
            input.send(format!("{line}\n").into_bytes()).unwrap();
        }

        /// The next reply; panics if none comes in time.
        pub fn reply(&self) -> Value {
            let line = self
                .replies
                .recv_timeout(PATIENCE)
                .expect("no reply in time");
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
        }

        /// Ends the input, waits for the server to return, and gives every reply not yet
        /// read.
        pub fn close(mut self) -> (io::Result<()>, Vec<Value>) {
            drop(self.input.take());
            let result = self.server.take().unwrap().join().expect("serve panicked");
            let mut rest = Vec::new();
            while let Ok(line) = self.replies.try_recv() {
                rest.push(serde_json::from_str(&line).unwrap());
            }
            (result, rest)
        }
    }

    struct ChannelReader {
        lines: Receiver<Vec<u8>>,
        buf: Vec<u8>,
        pos: usize,
    }

    impl Read for ChannelReader {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            self.consume(n);
            Ok(n)
        }
    }

    impl BufRead for ChannelReader {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            if self.pos == self.buf.len() {
                // A closed channel is the end of input.
                self.buf = self.lines.recv().unwrap_or_default();
                self.pos = 0;
            }
            Ok(&self.buf[self.pos..])
        }
        fn consume(&mut self, n: usize) {
            self.pos += n;
        }
    }

    struct LineSender {
        replies: Sender<String>,
        pending: Vec<u8>,
    }

    impl Write for LineSender {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.pending.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            let text = String::from_utf8(std::mem::take(&mut self.pending)).unwrap();
            for line in text.lines() {
                let _ = self.replies.send(line.to_string());
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{Client, PATIENCE};
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Quick: `echo` answers its params, `panic` panics. Slow: `wait` waits up to
    /// `params.ms` (default: long) or until cancelled, `slow_panic` panics on a worker.
    /// Records notifications, and what each `wait` saw.
    #[derive(Default)]
    struct Echo {
        notifications: Mutex<Vec<String>>,
        running: AtomicUsize,
        most_running: AtomicUsize,
        started: AtomicUsize,
        /// `(id, cancelled)` for each `wait` that ended.
        ended: Mutex<Vec<(RequestId, bool)>>,
    }

    impl Handler for Echo {
        fn is_slow(&self, request: &Request) -> bool {
            matches!(request.method.as_str(), "wait" | "slow_panic")
        }
        fn handle_request(
            &self,
            request: &Request,
            cancel: &Cancel,
        ) -> Result<Value, ResponseError> {
            match request.method.as_str() {
                "echo" => Ok(request.params.clone().unwrap_or(json!({}))),
                "panic" | "slow_panic" => panic!("boom"),
                "wait" => {
                    let ms = request
                        .params
                        .as_ref()
                        .and_then(|p| p["ms"].as_u64())
                        .unwrap_or(60_000);
                    let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
                    self.most_running.fetch_max(now, Ordering::SeqCst);
                    self.started.fetch_add(1, Ordering::SeqCst);
                    let cancelled = cancel.wait_timeout(Duration::from_millis(ms));
                    self.running.fetch_sub(1, Ordering::SeqCst);
                    self.ended
                        .lock()
                        .unwrap()
                        .push((request.id.clone(), cancelled));
                    Ok(json!({"cancelled": cancelled}))
                }
                other => Err(ResponseError::new(
                    ErrorCode::MethodNotFound,
                    format!("method not found: {other}"),
                )),
            }
        }
        fn handle_notification(&self, notification: &Notification) {
            if notification.method == "panic" {
                panic!("boom");
            }
            self.notifications
                .lock()
                .unwrap()
                .push(notification.method.clone());
        }
    }

    impl Echo {
        /// Waits until `f` holds (or fails the test).
        fn until(&self, what: &str, f: impl Fn(&Echo) -> bool) {
            let start = Instant::now();
            while !f(self) {
                assert!(start.elapsed() < PATIENCE, "never happened: {what}");
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        fn started(&self) -> usize {
            self.started.load(Ordering::SeqCst)
        }
        fn ended(&self) -> Vec<(RequestId, bool)> {
            self.ended.lock().unwrap().clone()
        }
    }

    /// Collects everything written, shared with the test.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn lines_of(bytes: &[u8]) -> Vec<Value> {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Serves all of `input` at once, then its end.
    fn run(input: &str) -> (Vec<Value>, Arc<Echo>) {
        let handler = Arc::new(Echo::default());
        let sink = Sink::default();
        serve(input.as_bytes(), sink.clone(), Arc::clone(&handler)).unwrap();
        let replies = lines_of(&sink.0.lock().unwrap());
        (replies, handler)
    }

    fn request(id: Value, method: &str, params: Value) -> String {
        let mut r = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            r["params"] = params;
        }
        r.to_string()
    }

    fn cancel(id: Value) -> String {
        json!({"jsonrpc": "2.0", "method": CANCEL_METHOD, "params": {"requestId": id, "reason": "test"}})
            .to_string()
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
            *handler.notifications.lock().unwrap(),
            ["notifications/initialized", "notifications/cancelled"]
        );
    }

    #[test]
    fn blank_lines_and_client_responses_are_ignored() {
        let (replies, _) = run("\n  \n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n");
        assert!(replies.is_empty());
    }

    #[test]
    fn bad_lines_get_errors_without_an_id_and_the_loop_goes_on() {
        let (replies, _) = run(concat!(
            "this is not json\n",
            r#"[{"jsonrpc":"2.0","id":1,"method":"echo"}]"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":null,"method":"echo"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"nope"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":3,"method":"echo"}"#,
            "\n",
        ));
        let codes: Vec<_> = replies
            .iter()
            .map(|r| (r.get("id").cloned(), r["error"]["code"].clone()))
            .collect();
        // MCP ids are strings or integers, never null: an unreadable id is left out.
        assert_eq!(
            codes,
            [
                (None, json!(-32700)),
                (None, json!(-32600)),
                (None, json!(-32600)),
                (Some(json!(2)), json!(-32601)),
                (Some(json!(3)), Value::Null),
            ]
        );
        assert_eq!(replies[4]["result"], json!({}));
    }

    #[test]
    fn a_panicking_handler_becomes_an_internal_error_and_the_loop_goes_on() {
        let client_handler = Arc::new(Echo::default());
        let client = Client::start(Arc::clone(&client_handler));
        client.send(&request(json!("p"), "panic", Value::Null));
        let quick = client.reply();
        client.send(&request(json!("q"), "slow_panic", Value::Null));
        let slow = client.reply();
        client.send(r#"{"jsonrpc":"2.0","method":"panic"}"#);
        client.send(r#"{"jsonrpc":"2.0","method":"after"}"#);
        client.send(&request(json!(5), "echo", Value::Null));
        let after = client.reply();
        for (reply, id, method) in [(&quick, "p", "panic"), (&slow, "q", "slow_panic")] {
            assert_eq!(reply["id"], id);
            assert_eq!(reply["error"]["code"], -32603);
            assert_eq!(
                reply["error"]["message"],
                format!("internal error in {method}: boom")
            );
        }
        assert_eq!(after, json!({"jsonrpc":"2.0","id":5,"result":{}}));
        let (result, rest) = client.close();
        result.unwrap();
        assert!(rest.is_empty(), "{rest:?}");
        assert_eq!(*client_handler.notifications.lock().unwrap(), ["after"]);
    }

    #[test]
    fn an_oversized_line_is_refused_and_the_next_one_served() {
        let huge = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(MAX_MESSAGE_BYTES));
        let input = huge + "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\n";
        let (replies, _) = run(&input);
        assert_eq!(replies[0]["error"]["code"], -32600);
        assert!(replies[0].get("id").is_none());
        assert_eq!(replies[1]["result"], json!({}));
    }

    #[test]
    fn invalid_utf8_is_a_parse_error() {
        let sink = Sink::default();
        let input: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}\n";
        serve(input, sink.clone(), Arc::new(Echo::default())).unwrap();
        let reply: Value = serde_json::from_slice(&sink.0.lock().unwrap()).unwrap();
        assert_eq!(reply["error"]["code"], -32700);
    }

    /// Records what reached it at each flush.
    #[derive(Clone, Default)]
    struct Flushes(Arc<Mutex<(Vec<u8>, Vec<String>)>>);

    impl Write for Flushes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            let mut both = self.0.lock().unwrap();
            let pending = std::mem::take(&mut both.0);
            both.1.push(String::from_utf8(pending).unwrap());
            Ok(())
        }
    }

    #[test]
    fn every_message_is_flushed_whole() {
        let output = Flushes::default();
        let input = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\nnot json\n";
        serve(input.as_bytes(), output.clone(), Arc::new(Echo::default())).unwrap();
        let flushed = output.0.lock().unwrap().1.clone();
        assert_eq!(flushed.len(), 2);
        assert!(flushed
            .iter()
            .all(|m| m.ends_with('\n') && m.matches('\n').count() == 1));
    }

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_output_is_reported() {
        let input = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\n";
        let err = serve(input.as_bytes(), Closed, Arc::new(Echo::default())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn a_quick_request_is_answered_while_a_slow_one_runs() {
        let handler = Arc::new(Echo::default());
        let client = Client::start(Arc::clone(&handler));
        client.send(&request(json!(1), "wait", Value::Null));
        handler.until("the slow request started", |h| h.started() == 1);
        client.send(&request(json!(2), "echo", json!({"n": 2})));
        assert_eq!(
            client.reply(),
            json!({"jsonrpc": "2.0", "id": 2, "result": {"n": 2}})
        );
        assert!(handler.ended().is_empty(), "the slow one is still running");
        // A slow request that finishes is answered too.
        client.send(&request(json!(3), "wait", json!({"ms": 1})));
        assert_eq!(client.reply()["id"], 3);
        let (result, rest) = client.close();
        result.unwrap();
        assert!(rest.is_empty(), "{rest:?}");
        assert_eq!(handler.ended()[1], (1.into(), true));
    }

    #[test]
    fn a_cancelled_request_stops_and_gets_no_reply_and_the_server_goes_on() {
        let handler = Arc::new(Echo::default());
        let client = Client::start(Arc::clone(&handler));
        client.send(&request(json!("slow"), "wait", Value::Null));
        handler.until("the slow request started", |h| h.started() == 1);
        client.send(&cancel(json!("slow")));
        handler.until("the slow request ended", |h| !h.ended().is_empty());
        assert_eq!(handler.ended(), [("slow".into(), true)]);
        // Unknown and already answered ids are ignored; the next request is the next reply.
        client.send(&cancel(json!(99)));
        client.send(&cancel(json!("slow")));
        client.send(&request(json!(4), "echo", Value::Null));
        assert_eq!(client.reply()["id"], 4);
        let (result, rest) = client.close();
        result.unwrap();
        assert!(
            rest.is_empty(),
            "the cancelled request was answered: {rest:?}"
        );
    }

    #[test]
    fn the_end_of_input_cancels_every_request_in_flight_and_returns() {
        let handler = Arc::new(Echo::default());
        let client = Client::start(Arc::clone(&handler));
        for id in 0..MAX_RUNNING + 2 {
            client.send(&request(json!(id), "wait", Value::Null));
        }
        handler.until("every worker is busy", |h| h.started() == MAX_RUNNING);
        let (result, rest) = client.close();
        result.unwrap();
        assert!(rest.is_empty(), "{rest:?}");
        let ended = handler.ended();
        assert_eq!(ended.len(), MAX_RUNNING, "{ended:?}");
        assert!(ended.iter().all(|(_, cancelled)| *cancelled), "{ended:?}");
        // The queued ones never started.
        assert_eq!(handler.started(), MAX_RUNNING);
    }

    #[test]
    fn at_most_max_running_requests_run_at_once_and_the_rest_wait_their_turn() {
        let handler = Arc::new(Echo::default());
        let client = Client::start(Arc::clone(&handler));
        for id in 0..MAX_RUNNING + 2 {
            client.send(&request(json!(id), "wait", Value::Null));
        }
        handler.until("every worker is busy", |h| h.started() == MAX_RUNNING);
        // The reader is free, and the queue does not move while the workers are busy.
        client.send(&request(json!("e"), "echo", Value::Null));
        assert_eq!(client.reply()["id"], "e");
        assert_eq!(handler.started(), MAX_RUNNING);
        for (id, now_started) in [(0, MAX_RUNNING + 1), (1, MAX_RUNNING + 2)] {
            client.send(&cancel(json!(id)));
            handler.until("a queued request takes the free worker", |h| {
                h.started() == now_started
            });
        }
        let (result, rest) = client.close();
        result.unwrap();
        assert!(rest.is_empty(), "{rest:?}");
        assert_eq!(handler.most_running.load(Ordering::SeqCst), MAX_RUNNING);
    }

    #[test]
    fn many_slow_requests_are_all_answered() {
        let handler = Arc::new(Echo::default());
        let client = Client::start(Arc::clone(&handler));
        let count = MAX_RUNNING * 3;
        for id in 0..count {
            client.send(&request(json!(id), "wait", json!({"ms": 5})));
        }
        let mut ids: Vec<u64> = (0..count)
            .map(|_| client.reply()["id"].as_u64().unwrap())
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..count as u64).collect::<Vec<_>>());
        assert!(handler.most_running.load(Ordering::SeqCst) <= MAX_RUNNING);
        let (result, rest) = client.close();
        result.unwrap();
        assert!(rest.is_empty(), "{rest:?}");
    }

    #[test]
    fn a_queued_request_cancelled_before_it_starts_never_runs() {
        let handler = Arc::new(Echo::default());
        let client = Client::start(Arc::clone(&handler));
        for id in 0..MAX_RUNNING {
            client.send(&request(json!(id), "wait", Value::Null));
        }
        handler.until("every worker is busy", |h| h.started() == MAX_RUNNING);
        client.send(&request(json!("queued"), "wait", json!({"ms": 1})));
        client.send(&cancel(json!("queued")));
        client.send(&cancel(json!(0)));
        handler.until("a worker is free", |h| !h.ended().is_empty());
        client.send(&request(json!("next"), "wait", json!({"ms": 1})));
        assert_eq!(client.reply()["id"], "next");
        assert_eq!(handler.started(), MAX_RUNNING + 1);
        let (result, rest) = client.close();
        result.unwrap();
        assert!(rest.is_empty(), "{rest:?}");
    }

    #[test]
    fn an_id_already_in_flight_is_refused_and_a_flood_is_told_to_wait() {
        let handler = Arc::new(Echo::default());
        let client = Client::start(Arc::clone(&handler));
        for id in 0..MAX_RUNNING {
            client.send(&request(json!(id), "wait", Value::Null));
        }
        handler.until("every worker is busy", |h| h.started() == MAX_RUNNING);
        client.send(&request(json!(0), "echo", Value::Null));
        let duplicate = client.reply();
        assert_eq!(duplicate["id"], 0);
        assert_eq!(duplicate["error"]["code"], -32600);
        for id in MAX_RUNNING..MAX_RUNNING + MAX_QUEUED {
            client.send(&request(json!(id), "wait", Value::Null));
        }
        client.send(&request(json!("one too many"), "wait", Value::Null));
        let busy = client.reply();
        assert_eq!(busy["id"], "one too many");
        assert!(
            busy["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("server busy"),
            "{busy}"
        );
        let (result, rest) = client.close();
        result.unwrap();
        assert!(rest.is_empty(), "{rest:?}");
    }
}
