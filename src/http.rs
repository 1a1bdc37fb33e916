//! The one place that makes HTTP requests: a blocking `ureq` agent with timeouts, body size
//! limits and the retry policy, shared by the Cloudflare client and public-IP detection.
//!
//! Why it is strict: stackwiz runs from cron and under AI agents, where a request that hangs
//! or a retry loop that never ends is worse than a clear failure. Every request is bounded in
//! time (connect, whole exchange) and size; a rate-limited or failing server is retried a few
//! times, then the last answer or error is handed back. 4xx bodies are read (Cloudflare puts
//! its error codes there), so `http_status_as_error` is off and callers look at the status.
//!
//! Above the per-request limits sits one [`Budget`] per command: every request, every retry
//! and every wait of one operation draws on the same deadline (30 s), so a slow API or a 429
//! storm ends the command in time instead of multiplying the limits. A `Retry-After` beyond
//! what is left ends the command at once, saying when to retry. The budget also carries the
//! operation's [`Cancel`] token: a cancel ends retry waits at once and starts no new request
//! (a request in flight is bounded by its own timeout, itself cut to what is left).
//!
//! The Authorization header is built here from [`Secret::expose`] and never formatted
//! anywhere else: no request, header or token is logged, and errors name only the URL.

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use ureq::config::IpFamily;
use ureq::typestate::WithBody;
use ureq::{Agent, RequestBuilder};

use crate::cancel::Cancel;
use crate::config::Secret;
use crate::error::{Error, Result};

/// How many times a request is retried after a 429, a 5xx or a transport error.
pub const MAX_RETRIES: u32 = 3;
/// The wait after a 429 without `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);
/// All the time one command may spend on HTTP: every request, retry and wait together.
pub const COMMAND_BUDGET: Duration = Duration::from_secs(30);

/// One command's time budget and its cancellation token, shared by every client the
/// command builds (Cloudflare and the IP services draw on the same deadline). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Budget {
    deadline: Instant,
    total: Duration,
    cancel: Cancel,
}

impl Budget {
    /// [`COMMAND_BUDGET`] from now, times `scale` (`STACKWIZ_HTTP_TIME_SCALE`), ending early
    /// when `cancel` is cancelled.
    pub fn new(scale: f64, cancel: &Cancel) -> Budget {
        Budget::lasting(COMMAND_BUDGET.mul_f64(checked_scale(scale)), cancel)
    }

    /// A budget of exactly `total` from now.
    pub fn lasting(total: Duration, cancel: &Cancel) -> Budget {
        Budget {
            deadline: Instant::now() + total,
            total,
            cancel: cancel.clone(),
        }
    }

    /// What is left of the budget (zero once it has run out).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// "30 s" (as scaled): how the budget is named in messages.
    fn shown_total(&self) -> String {
        secs(self.total)
    }
}

/// A duration in whole seconds (at least 1 when not zero) for messages.
fn secs(d: Duration) -> String {
    let s = d.as_secs_f64().ceil() as u64;
    format!("{s} s")
}

/// `STACKWIZ_HTTP_TIME_SCALE` within (0, 1]; anything else means 1.
fn checked_scale(scale: f64) -> f64 {
    if scale > 0.0 && scale <= 1.0 {
        scale
    } else {
        1.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

/// One request. `json` is the request body, already serialized by the caller.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub query: &'a [(&'a str, String)],
    /// Sent as `Authorization: Bearer ...`. `Secret`'s `Debug` hides it.
    pub bearer: Option<&'a Secret>,
    pub json: Option<&'a [u8]>,
}

impl Request<'_> {
    /// The URL with its query, for error messages (it holds no secret).
    pub fn shown_url(&self) -> String {
        if self.query.is_empty() {
            return self.url.to_string();
        }
        let pairs: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}?{}", self.url, pairs.join("&"))
    }
}

/// A response, body read in full (within the limit).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// How many times the request was sent (1 when it was not retried). A retried write
    /// may have landed the first time, its answer lost: callers judge a 404 on a retried
    /// DELETE by this.
    pub attempts: u32,
}

/// A configured agent plus the retry policy, drawing on one command's [`Budget`]. Cheap to
/// build; build one per operation.
pub struct Client {
    agent: Agent,
    retries: u32,
    max_body: u64,
    /// `STACKWIZ_HTTP_TIME_SCALE`: multiplies timeouts and waits (tests use 0.01-0.1).
    scale: f64,
    /// One request's limit (connect and whole exchange), before the budget cuts it.
    connect: Duration,
    timeout: Duration,
    /// The one address family connections may use (IP services), if limited.
    family: Option<IpFamily>,
    /// Who answers, for messages: "the Cloudflare API", "the IP service".
    service: &'static str,
    budget: Budget,
}

impl Client {
    /// For APIs (Cloudflare, named `service` in messages): connect 5 s, whole request 10 s
    /// (a third of the budget, so a stalled answer leaves time for a retry), 3 retries,
    /// 4 MiB bodies, no redirects (an API that redirects is misconfigured; following could
    /// leak the token). All within `budget`.
    pub fn api(scale: f64, service: &'static str, budget: &Budget) -> Client {
        Client::build(
            scale,
            Duration::from_secs(5),
            Duration::from_secs(10),
            MAX_RETRIES,
            4 << 20,
            None,
            service,
            budget,
        )
    }

    /// For public-IP services: 5 s in all (connect and read), no retries (the next service
    /// is the retry), 4 KiB bodies, and connections only over the asked address family, so
    /// a dual-stack service answers with the address of that family. All within `budget`.
    pub fn ip_service(scale: f64, ipv6: bool, budget: &Budget) -> Client {
        let family = if ipv6 {
            IpFamily::Ipv6Only
        } else {
            IpFamily::Ipv4Only
        };
        let five = Duration::from_secs(5);
        Client::build(
            scale,
            five,
            five,
            0,
            4096,
            Some(family),
            "the IP service",
            budget,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        scale: f64,
        connect: Duration,
        total: Duration,
        retries: u32,
        max_body: u64,
        family: Option<IpFamily>,
        service: &'static str,
        budget: &Budget,
    ) -> Client {
        let scale = checked_scale(scale);
        let mut config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(connect.mul_f64(scale)))
            .timeout_global(Some(total.mul_f64(scale)))
            .max_redirects(if family.is_some() { 3 } else { 0 })
            .user_agent(concat!("stackwiz/", env!("CARGO_PKG_VERSION")));
        if let Some(family) = family {
            config = config.ip_family(family);
        }
        Client {
            agent: config.build().into(),
            retries,
            max_body,
            scale,
            connect: connect.mul_f64(scale),
            timeout: total.mul_f64(scale),
            family,
            service,
            budget: budget.clone(),
        }
    }

    /// Whether the command's time is up or it was cancelled: then no request is started.
    pub fn stopped(&self) -> bool {
        self.budget.is_cancelled() || self.budget.remaining().is_zero()
    }

    /// Send a request, retrying per the policy: 429 waits `Retry-After` (seconds or HTTP
    /// date, 5 s when absent); 5xx and transport errors back off 1, 2, 4 s. Every attempt and
    /// wait comes out of the command's budget: an attempt's timeout is cut to what is left,
    /// a wait longer than what is left is not started (a 429 then ends the command with the
    /// time to retry; other failures hand back the last answer or error), and a cancel ends
    /// a wait at once. After the last retry the last response (any status) or transport
    /// error is returned.
    pub fn send(&self, req: &Request) -> Result<Response> {
        let mut attempt = 0;
        loop {
            self.check_budget(req, attempt)?;
            let left = self.budget.remaining();
            let outcome = self.send_once(req, left);
            let wait = retry_wait(&outcome, attempt).filter(|_| attempt < self.retries);
            let wait = wait.map(|w| w.mul_f64(self.scale));
            match (wait, outcome) {
                (Some(wait), outcome) if wait >= self.budget.remaining() => {
                    if let Ok(r) = &outcome {
                        if r.response.status == 429 {
                            return Err(self.rate_limited(req, wait));
                        }
                    }
                    return self.finish(req, outcome, attempt, left);
                }
                (Some(wait), _) => {
                    if self.budget.cancel.wait_timeout(wait) {
                        return Err(self.cancelled(req));
                    }
                    attempt += 1;
                }
                (None, outcome) => return self.finish(req, outcome, attempt, left),
            }
        }
    }

    /// Before an attempt: an error when the command was cancelled or its time is up.
    fn check_budget(&self, req: &Request, attempt: u32) -> Result<()> {
        if self.budget.is_cancelled() {
            return Err(self.cancelled(req));
        }
        if self.budget.remaining().is_zero() {
            return Err(Error::Http {
                url: req.shown_url(),
                message: format!(
                    "no answer within this command's time budget ({} for every request and \
                     retry together){}",
                    self.budget.shown_total(),
                    tries(attempt)
                ),
            });
        }
        Ok(())
    }

    fn finish(
        &self,
        req: &Request,
        outcome: std::result::Result<Attempt, ureq::Error>,
        attempt: u32,
        left: Duration,
    ) -> Result<Response> {
        match outcome {
            Ok(mut r) => {
                r.response.attempts = attempt + 1;
                Ok(r.response)
            }
            Err(e) => Err(Error::Http {
                url: req.shown_url(),
                message: self.describe(&e, left) + &tries(attempt + 1),
            }),
        }
    }

    fn cancelled(&self, req: &Request) -> Error {
        Error::other(format!(
            "cancelled while talking to {} ({})",
            self.service,
            req.shown_url()
        ))
    }

    /// A 429 asking for a wait beyond the budget: say so, and when to try again.
    fn rate_limited(&self, req: &Request, wait: Duration) -> Error {
        // `wait` is scaled; the server's own figure is what the user should hear.
        let asked = wait.div_f64(self.scale);
        let at = httpdate::fmt_http_date(SystemTime::now() + asked);
        Error::with_hint(
            format!(
                "{} is rate limiting this client (HTTP 429 at {}): it asks to wait {}, more than \
                 the {} left of this command's {} time budget",
                self.service,
                req.shown_url(),
                secs(asked),
                secs(self.budget.remaining()),
                self.budget.shown_total()
            ),
            format!(
                "retry after {at} (in {}); nothing more was sent",
                secs(asked)
            ),
        )
    }

    /// One attempt, within `left` of the budget (its limits are cut to that).
    fn send_once(
        &self,
        req: &Request,
        left: Duration,
    ) -> std::result::Result<Attempt, ureq::Error> {
        let agent = &self.agent;
        let limits = Limits {
            connect: self.connect.min(left),
            total: self.timeout.min(left),
        };
        let response = match (req.method, req.json) {
            (Method::Get, _) => prepare(agent.get(req.url), req, limits).call(),
            (Method::Delete, _) => prepare(agent.delete(req.url), req, limits).call(),
            (Method::Post, body) => send_body(prepare(agent.post(req.url), req, limits), body),
            (Method::Patch, body) => send_body(prepare(agent.patch(req.url), req, limits), body),
        }?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let retry_after =
            header("retry-after").and_then(|v| parse_retry_after(&v, SystemTime::now()));
        let mut body = Vec::new();
        // One byte over the limit tells "too big" apart from "exactly the limit".
        let mut reader = response.into_body().into_reader().take(self.max_body + 1);
        reader.read_to_end(&mut body).map_err(ureq::Error::Io)?;
        if body.len() as u64 > self.max_body {
            return Err(ureq::Error::BodyExceedsLimit(self.max_body));
        }
        Ok(Attempt {
            response: Response {
                status,
                content_type,
                body,
                attempts: 1,
            },
            retry_after,
        })
    }

    /// A transport error as a short phrase a user can act on. `left`: what the budget
    /// allowed the attempt.
    fn describe(&self, e: &ureq::Error, left: Duration) -> String {
        match e {
            ureq::Error::Timeout(t) if left < self.timeout => format!(
                "no complete answer within this command's time budget ({} for every request \
                 and retry together; {t} timeout)",
                self.budget.shown_total()
            ),
            ureq::Error::Timeout(t) => {
                format!(
                    "no complete answer in time ({t} timeout; {} s allowed)",
                    self.timeout.as_secs_f64()
                )
            }
            ureq::Error::HostNotFound => match self.family {
                Some(IpFamily::Ipv6Only) => "host not found, or it has no IPv6 address".into(),
                Some(IpFamily::Ipv4Only) => "host not found, or it has no IPv4 address".into(),
                _ => "host not found (check the URL and the DNS resolver)".into(),
            },
            ureq::Error::ConnectionFailed => "connection refused or unreachable".into(),
            ureq::Error::BodyExceedsLimit(n) => format!("answer larger than {n} bytes"),
            ureq::Error::BadUri(u) => format!("not a usable URL ({u})"),
            ureq::Error::Io(io) => format!("network error: {io}"),
            other => other.to_string(),
        }
    }
}

struct Attempt {
    response: Response,
    retry_after: Option<Duration>,
}

/// One attempt's timeouts.
#[derive(Clone, Copy)]
struct Limits {
    connect: Duration,
    total: Duration,
}

/// " (after N attempts)" when there was more than one.
fn tries(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn prepare<B>(builder: RequestBuilder<B>, req: &Request, limits: Limits) -> RequestBuilder<B> {
    let builder = builder
        .config()
        .timeout_connect(Some(limits.connect))
        .timeout_global(Some(limits.total))
        .build();
    let mut builder = builder.header("accept", "application/json");
    if let Some(secret) = req.bearer {
        builder = builder.header("authorization", format!("Bearer {}", secret.expose()));
    }
    // `query` percent-encodes keys and values.
    builder.query_pairs(req.query.iter().map(|(k, v)| (*k, v.as_str())))
}

fn send_body(
    builder: RequestBuilder<WithBody>,
    body: Option<&[u8]>,
) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    builder
        .content_type("application/json")
        .send(body.unwrap_or(b"{}"))
}

/// How long to wait before trying again after `outcome`, if it is worth another try.
fn retry_wait(
    outcome: &std::result::Result<Attempt, ureq::Error>,
    attempt: u32,
) -> Option<Duration> {
    let wait = match outcome {
        Ok(r) if r.response.status == 429 => r.retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
        Ok(r) if r.response.status >= 500 => r.retry_after.unwrap_or_else(|| backoff(attempt)),
        Err(e) if transient(e) => backoff(attempt),
        _ => return None,
    };
    // No cap here: the command's budget decides whether a wait fits.
    Some(wait)
}

/// Errors worth another try: the network or the server may recover.
fn transient(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_)
            | ureq::Error::BodyStalled
    )
}

/// 1 s, 2 s, 4 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1 << attempt.min(5))
}

/// `Retry-After` as delta-seconds or an HTTP date (RFC 9110 10.2.3). A date in the past
/// means "now". Unparsable values are ignored (the caller's default applies).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(12))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(12));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn retries_wait_as_the_server_asks_within_limits() {
        let answer = |status, retry_after: Option<u64>| {
            let response = Response {
                status,
                content_type: None,
                body: Vec::new(),
                attempts: 1,
            };
            Ok(Attempt {
                response,
                retry_after: retry_after.map(Duration::from_secs),
            })
        };
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(retry_wait(&answer(429, Some(7)), 0), secs(7));
        assert_eq!(retry_wait(&answer(429, Some(3600)), 0), secs(3600));
        assert_eq!(retry_wait(&answer(429, None), 0), secs(5));
        assert_eq!(retry_wait(&answer(503, None), 2), secs(4));
        assert_eq!(retry_wait(&answer(502, Some(2)), 0), secs(2));
        assert_eq!(retry_wait(&answer(404, Some(2)), 0), None);
        assert_eq!(retry_wait(&answer(200, None), 0), None);
        assert_eq!(retry_wait(&Err(ureq::Error::ConnectionFailed), 1), secs(2));
        assert_eq!(retry_wait(&Err(ureq::Error::BodyExceedsLimit(1)), 0), None);
    }

    /// A server on loopback answering every request with a 429 asking for `retry_after`
    /// seconds; returns its URL and a counter of the requests it saw.
    fn rate_limited_server(retry_after: u64) -> (String, std::sync::Arc<AtomicUsize>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(AtomicUsize::new(0));
        let count = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: {retry_after}\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        (url, seen)
    }

    fn get(url: &str) -> Request<'_> {
        Request {
            method: Method::Get,
            url,
            query: &[],
            bearer: None,
            json: None,
        }
    }

    #[test]
    fn a_cancelled_command_sends_nothing() {
        let (url, seen) = rate_limited_server(1);
        let cancel = Cancel::new();
        cancel.cancel();
        let client = Client::api(1.0, "the test API", &Budget::new(1.0, &cancel));
        let err = client.send(&get(&url)).unwrap_err().to_string();
        assert!(
            err.contains("cancelled while talking to the test API"),
            "{err}"
        );
        assert_eq!(seen.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_cancel_ends_a_retry_wait_at_once() {
        // Retry-After 20 s fits the 30 s budget, so only the cancel can end the wait.
        let (url, seen) = rate_limited_server(20);
        let cancel = Cancel::new();
        let client = Client::api(1.0, "the test API", &Budget::new(1.0, &cancel));
        let canceller = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            canceller.cancel();
        });
        let started = std::time::Instant::now();
        let err = client.send(&get(&url)).unwrap_err().to_string();
        assert!(err.contains("cancelled"), "{err}");
        assert_eq!(seen.load(Ordering::SeqCst), 1, "no retry after the cancel");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_spent_budget_sends_nothing_and_says_so() {
        let (url, seen) = rate_limited_server(1);
        let budget = Budget::lasting(Duration::ZERO, &Cancel::new());
        let client = Client::api(1.0, "the test API", &budget);
        let err = client.send(&get(&url)).unwrap_err().to_string();
        assert!(
            err.contains("no answer within this command's time budget"),
            "{err}"
        );
        assert_eq!(seen.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn shown_url_has_query_but_no_secret() {
        let secret = Secret::new("tok-very-secret");
        let query = [("name", "a.example.com".to_string())];
        let req = Request {
            method: Method::Get,
            url: "http://x/zones",
            query: &query,
            bearer: Some(&secret),
            json: None,
        };
        assert_eq!(req.shown_url(), "http://x/zones?name=a.example.com");
        assert!(!format!("{req:?}").contains("tok-very-secret"));
    }
}
