//! A fake Cloudflare API v4 on loopback: zones and DNS records in memory, the Bearer token
//! checked, lists paginated with `result_info`, and the rules the real API enforces
//! (proxied only for A/AAAA/CNAME, TTL 1 or 30-86400, CNAME vs A/AAAA at one name,
//! duplicates 81057/81058, request bodies limited to the schema's fields). Faults can be
//! queued (429 with Retry-After, 5xx, slow or silent answers, malformed bodies), and every
//! request is logged so tests can count them.
//!
//! Answers follow Cloudflare's OpenAPI subset in `tests/fixtures/cloudflare/`:
//! `{success, errors:[{code,message}], messages, result, result_info?}`, with records and
//! zones in the schema's shapes. The log keeps each answer, so tests check the fake (and the
//! bodies stackwiz sent) against that schema.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::fake_http::{serve, HttpRequest, Reply};

pub const PREFIX: &str = "/client/v4";

#[derive(Clone, Debug, PartialEq)]
pub struct Rec {
    pub id: String,
    pub zone_id: String,
    pub kind: String,
    pub name: String,
    pub content: String,
    pub proxied: bool,
    pub ttl: u64,
    pub comment: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    /// Without the `/client/v4` prefix.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: String,
    pub authorized: bool,
    /// The status and JSON the fake answered; `None` for a hang, a raw body or a lost answer.
    pub reply: Option<(u16, Value)>,
    seq: u64,
}

impl Logged {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A fault for the next request (queued, one per request).
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 with code 971, and this `Retry-After` header if given.
    RateLimit(Option<String>),
    /// This status with this raw body (HTML error pages, truncated JSON...).
    Raw(u16, String),
    /// Sleep, then answer normally.
    Delay(Duration),
    /// Read the request, never answer.
    Hang,
    /// Do what was asked, then answer 502 as if the answer got lost on the way.
    AnswerLost,
    /// Do what was asked, then never answer (the client times out, not knowing it landed).
    DoThenHang,
}

struct State {
    token: String,
    token_status: String,
    read_only: bool,
    zones: Vec<(String, String)>,
    records: Vec<Rec>,
    next: u64,
    log: Vec<Logged>,
    faults: VecDeque<Fault>,
    page_cap: usize,
    seq: u64,
}

#[derive(Clone)]
pub struct FakeCloudflare {
    pub addr: SocketAddr,
    pub url: String,
    state: Arc<Mutex<State>>,
}

type Answer = (u16, Value);

impl FakeCloudflare {
    pub fn start(token: &str) -> FakeCloudflare {
        let state = Arc::new(Mutex::new(State {
            token: token.to_string(),
            token_status: "active".into(),
            read_only: false,
            zones: Vec::new(),
            records: Vec::new(),
            next: 1,
            log: Vec::new(),
            faults: VecDeque::new(),
            page_cap: 5000,
            seq: 0,
        }));
        let shared = state.clone();
        let addr = serve(move |req| handle(&shared, req));
        FakeCloudflare {
            addr,
            url: format!("http://{addr}{PREFIX}"),
            state,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_zone(&self, name: &str) -> String {
        let mut s = self.lock();
        let id = format!("{:032x}", 0xa000 + s.next);
        s.next += 1;
        s.zones.push((id.clone(), name.to_string()));
        id
    }

    /// Add a record directly (no rules checked). `name` is the full name.
    pub fn add_record(
        &self,
        kind: &str,
        name: &str,
        content: &str,
        proxied: bool,
        ttl: u64,
        comment: Option<&str>,
    ) -> String {
        let mut s = self.lock();
        let zone_id = s
            .zones
            .iter()
            .filter(|(_, z)| name == z || name.ends_with(&format!(".{z}")))
            .max_by_key(|(_, z)| z.len())
            .map(|(id, _)| id.clone())
            .expect("add the zone first");
        let id = format!("{:032x}", s.next);
        s.next += 1;
        s.records.push(Rec {
            id: id.clone(),
            zone_id,
            kind: kind.into(),
            name: name.into(),
            content: content.into(),
            proxied,
            ttl,
            comment: comment.map(String::from),
        });
        id
    }

    pub fn records(&self) -> Vec<Rec> {
        self.lock().records.clone()
    }

    pub fn record(&self, kind: &str, name: &str) -> Option<Rec> {
        self.records()
            .into_iter()
            .find(|r| r.kind == kind && r.name == name)
    }

    pub fn fault(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// At most this many records per page, whatever the client asks.
    pub fn set_page_cap(&self, n: usize) {
        self.lock().page_cap = n;
    }

    /// Writes answer 403 [10000] Authentication error (a token without DNS:Edit).
    pub fn set_read_only(&self, on: bool) {
        self.lock().read_only = on;
    }

    pub fn set_token_status(&self, status: &str) {
        self.lock().token_status = status.into();
    }

    pub fn log(&self) -> Vec<Logged> {
        self.lock().log.clone()
    }

    pub fn clear_log(&self) {
        self.lock().log.clear();
    }

    /// Requests of `method` whose path satisfies `path`.
    pub fn count(&self, method: &str, path: impl Fn(&str) -> bool) -> usize {
        self.log()
            .iter()
            .filter(|l| l.method == method && path(&l.path))
            .count()
    }

    pub fn zone_lookups(&self) -> usize {
        self.count("GET", |p| p == "/zones")
    }

    /// POST, PATCH, PUT and DELETE requests.
    pub fn writes(&self) -> usize {
        self.log().iter().filter(|l| l.method != "GET").count()
    }
}

fn handle(state: &Arc<Mutex<State>>, req: HttpRequest) -> Reply {
    let (fault, authorized, seq) = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        let authorized = req.header("authorization") == Some(&format!("Bearer {}", s.token));
        s.seq += 1;
        let seq = s.seq;
        s.log.push(Logged {
            method: req.method.clone(),
            path: req
                .path
                .strip_prefix(PREFIX)
                .unwrap_or(&req.path)
                .to_string(),
            query: req.query.clone(),
            body: String::from_utf8_lossy(&req.body).into_owned(),
            authorized,
            reply: None,
            seq,
        });
        (s.faults.pop_front(), authorized, seq)
    };
    let answered = |(status, body): Answer| {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = s.log.iter_mut().find(|l| l.seq == seq) {
            l.reply = Some((status, body.clone()));
        }
        Reply::json(status, &body)
    };
    match fault {
        Some(Fault::RateLimit(after)) => {
            let reply = answered((
                429,
                failure(
                    971,
                    "Please wait and consider throttling your request speed",
                ),
            ));
            return match after {
                Some(a) => reply.with_header("Retry-After", &a),
                None => reply,
            };
        }
        Some(Fault::Raw(status, body)) => {
            let kind = if body.trim_start().starts_with('{') {
                "application/json"
            } else {
                "text/html"
            };
            return Reply::text(status, kind, body);
        }
        Some(Fault::Hang) => return Reply::Hang,
        Some(Fault::Delay(d)) => std::thread::sleep(d),
        Some(Fault::AnswerLost) => {
            route(state, &req, authorized);
            return Reply::text(
                502,
                "text/html",
                "<html><body>502 Bad Gateway</body></html>",
            );
        }
        Some(Fault::DoThenHang) => {
            route(state, &req, authorized);
            return Reply::Hang;
        }
        None => {}
    }
    answered(route(state, &req, authorized))
}

fn failure(code: i64, message: &str) -> Value {
    json!({"success": false, "errors": [{"code": code, "message": message}], "messages": [], "result": null})
}

fn fail(status: u16, code: i64, message: &str) -> Answer {
    (status, failure(code, message))
}

fn success(result: Value) -> Answer {
    (
        200,
        json!({"success": true, "errors": [], "messages": [], "result": result}),
    )
}

/// A page of `items` with `result_info`, as list endpoints answer.
fn page(req: &HttpRequest, items: Vec<Value>, default_per_page: usize, cap: usize) -> Answer {
    let per_page = req
        .param("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_per_page)
        .clamp(1, cap);
    let page = req
        .param("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let total = items.len();
    let chunk: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let info = json!({
        "page": page,
        "per_page": per_page,
        "count": chunk.len(),
        "total_count": total,
        "total_pages": total.div_ceil(per_page).max(1),
    });
    (
        200,
        json!({"success": true, "errors": [], "messages": [], "result": chunk, "result_info": info}),
    )
}

fn route(state: &Arc<Mutex<State>>, req: &HttpRequest, authorized: bool) -> Answer {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    let Some(path) = req.path.strip_prefix(PREFIX) else {
        return fail(404, 7000, "No route for that URI");
    };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if req.header("authorization").is_none() {
        return fail(
            400,
            9106,
            "Missing X-Auth-Key, X-Auth-Email or Authorization headers",
        );
    }
    if !authorized {
        return match parts.as_slice() {
            ["user", "tokens", "verify"] => fail(401, 1000, "Invalid API Token"),
            _ => fail(403, 9109, "Invalid access token"),
        };
    }
    let write = req.method != "GET";
    if write && s.read_only {
        return fail(403, 10000, "Authentication error");
    }
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["user", "tokens", "verify"]) => {
            let status = s.token_status.clone();
            success(json!({"id": "ed17574386854bf78a67040be0a770b0", "status": status}))
        }
        ("GET", ["zones"]) => {
            let wanted = req.param("name").map(str::to_ascii_lowercase);
            let zones = s
                .zones
                .iter()
                .filter(|(_, n)| wanted.as_ref().map_or(true, |w| w == n))
                .map(|(id, n)| zone_json(id, n))
                .collect();
            page(req, zones, 20, 50)
        }
        (method, ["zones", zone_id, "dns_records", rest @ ..]) => {
            let Some(zone) = s
                .zones
                .iter()
                .find(|(id, _)| id == zone_id)
                .map(|(_, n)| n.clone())
            else {
                return fail(
                    400,
                    7003,
                    &format!(
                        "Could not route to /zones/{zone_id}/dns_records, perhaps your object identifier is invalid?"
                    ),
                );
            };
            let cap = s.page_cap;
            records(&mut s, req, method, zone_id, &zone, rest, cap)
        }
        _ => fail(404, 7000, "No route for that URI"),
    }
}

fn records(
    s: &mut State,
    req: &HttpRequest,
    method: &str,
    zone_id: &str,
    zone: &str,
    rest: &[&str],
    cap: usize,
) -> Answer {
    match (method, rest) {
        ("GET", []) => {
            let items = s
                .records
                .iter()
                .filter(|r| r.zone_id == zone_id && matches(req, r))
                .map(|r| rec_json(r, zone))
                .collect();
            page(req, items, 100, cap)
        }
        ("POST", []) => {
            let body = match body_object(req) {
                Ok(b) => b,
                Err(a) => return a,
            };
            let blank = Rec {
                id: String::new(),
                zone_id: zone_id.into(),
                kind: String::new(),
                name: String::new(),
                content: String::new(),
                proxied: false,
                ttl: 1,
                comment: None,
            };
            for key in ["type", "name", "content"] {
                if !body.contains_key(key) {
                    return fail(
                        400,
                        9000 + key.len() as i64,
                        &format!("DNS record {key} is required"),
                    );
                }
            }
            let mut rec = match merge(blank, &body, zone) {
                Ok(r) => r,
                Err(a) => return a,
            };
            if let Err(a) = check(s, &rec, zone) {
                return a;
            }
            rec.id = format!("{:032x}", s.next);
            s.next += 1;
            s.records.push(rec.clone());
            success(rec_json(&rec, zone))
        }
        (_, [id]) => {
            let Some(index) = s
                .records
                .iter()
                .position(|r| r.id == *id && r.zone_id == zone_id)
            else {
                return fail(404, 81044, "Record does not exist.");
            };
            match method {
                "GET" => success(rec_json(&s.records[index], zone)),
                "DELETE" => {
                    s.records.remove(index);
                    success(json!({"id": id}))
                }
                "PATCH" | "PUT" => {
                    let body = match body_object(req) {
                        Ok(b) => b,
                        Err(a) => return a,
                    };
                    let rec = match merge(s.records[index].clone(), &body, zone) {
                        Ok(r) => r,
                        Err(a) => return a,
                    };
                    if let Err(a) = check(s, &rec, zone) {
                        return a;
                    }
                    s.records[index] = rec.clone();
                    success(rec_json(&rec, zone))
                }
                _ => fail(405, 7001, "Method not allowed for this endpoint"),
            }
        }
        _ => fail(404, 7000, "No route for that URI"),
    }
}

/// List filters: `type`, `name` / `name.exact`, `content` / `content.exact`, `proxied`,
/// `comment` / `comment.exact`, `comment.startswith` (comment filters case-insensitive).
fn matches(req: &HttpRequest, r: &Rec) -> bool {
    let lower = |s: &str| s.to_ascii_lowercase();
    let comment = r.comment.as_deref().map(lower).unwrap_or_default();
    req.query.iter().all(|(k, v)| match k.as_str() {
        "type" => r.kind == *v,
        "name" | "name.exact" => r.name.eq_ignore_ascii_case(v),
        "content" | "content.exact" => r.content == *v,
        "proxied" => r.proxied.to_string() == *v,
        "comment" | "comment.exact" => comment == lower(v),
        "comment.startswith" => comment.starts_with(&lower(v)),
        _ => true,
    })
}

type Object = serde_json::Map<String, Value>;

/// The body must be a JSON object holding only fields of the schema's record types, each
/// of its schema type.
fn body_object(req: &HttpRequest) -> Result<Object, Answer> {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
        return Err(fail(400, 9207, "Request body is invalid."));
    };
    for (key, value) in &body {
        let ok = match key.as_str() {
            "type" | "name" | "content" | "comment" => value.is_string(),
            "proxied" => value.is_boolean(),
            "ttl" => value.is_u64(),
            "tags" => value.is_array(),
            _ => false,
        };
        if !ok {
            return Err(fail(
                400,
                9207,
                &format!("Request body is invalid: field `{key}` = {value}"),
            ));
        }
    }
    Ok(body)
}

fn merge(mut rec: Rec, body: &Object, zone: &str) -> Result<Rec, Answer> {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
    if let Some(kind) = text("type") {
        rec.kind = kind;
    }
    if let Some(name) = text("name") {
        let name = name.to_ascii_lowercase();
        rec.name = if name == "@" {
            zone.to_string()
        } else if name == zone || name.ends_with(&format!(".{zone}")) {
            name
        } else {
            format!("{name}.{zone}")
        };
    }
    if let Some(content) = text("content") {
        rec.content = content;
    }
    if let Some(p) = body.get("proxied").and_then(Value::as_bool) {
        rec.proxied = p;
    }
    if let Some(t) = body.get("ttl").and_then(Value::as_u64) {
        rec.ttl = t;
    }
    if body.contains_key("comment") {
        rec.comment = text("comment").filter(|c| !c.is_empty());
    }
    Ok(rec)
}

/// The real API's rules for a record about to be stored.
fn check(s: &State, rec: &Rec, _zone: &str) -> Result<(), Answer> {
    let dns_error = |code: i64, message: &str| {
        (
            400,
            json!({"success": false, "errors": [{"code": 1004, "message": "DNS Validation Error",
            "error_chain": [{"code": code, "message": message}]}], "messages": [], "result": null}),
        )
    };
    match rec.kind.as_str() {
        "A" if rec.content.parse::<std::net::Ipv4Addr>().is_err() => {
            return Err(dns_error(
                9005,
                "Content for A record must be a valid IPv4 address.",
            ))
        }
        "AAAA" if rec.content.parse::<std::net::Ipv6Addr>().is_err() => {
            return Err(dns_error(
                9006,
                "Content for AAAA record must be a valid IPv6 address.",
            ))
        }
        "CNAME"
            if rec.content.is_empty()
                || rec.content.contains(' ')
                || rec.content.eq_ignore_ascii_case(&rec.name) =>
        {
            return Err(dns_error(9007, "Content for CNAME record is invalid."))
        }
        "A" | "AAAA" | "CNAME" | "TXT" | "MX" | "NS" => {}
        _ => return Err(dns_error(9008, "Invalid DNS record type.")),
    }
    if rec.proxied && !matches!(rec.kind.as_str(), "A" | "AAAA" | "CNAME") {
        return Err(dns_error(9004, "This record type cannot be proxied."));
    }
    if rec.ttl != 1 && !(30..=86400).contains(&rec.ttl) {
        return Err(fail(
            400,
            9021,
            "Invalid TTL. Must be between 30 and 86400 seconds, or 1 for Automatic.",
        ));
    }
    if rec
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > 100)
    {
        return Err(fail(
            400,
            9101,
            "DNS record comment cannot be longer than 100 characters.",
        ));
    }
    let others = s
        .records
        .iter()
        .filter(|o| o.id != rec.id && o.zone_id == rec.zone_id && o.name == rec.name);
    for o in others {
        let address = |k: &str| k == "A" || k == "AAAA";
        if (rec.kind == "CNAME" && address(&o.kind)) || (address(&rec.kind) && o.kind == "CNAME") {
            return Err(fail(
                400,
                81053,
                "An A, AAAA, or CNAME record with that host already exists.",
            ));
        }
        if rec.kind == "CNAME" && o.kind == "CNAME" {
            return Err(fail(400, 81057, "Record already exists."));
        }
        if o.kind == rec.kind && o.content == rec.content {
            return Err(fail(400, 81058, "An identical record already exists."));
        }
    }
    Ok(())
}

/// A record in the shape of the schema's `dns-records_dns-record` (plus zone fields). A
/// record without a comment has none: the schema's comment is a string, never null.
fn rec_json(r: &Rec, zone: &str) -> Value {
    // Proxied records are always automatic.
    let ttl = if r.proxied { 1 } else { r.ttl };
    let mut record = json!({
        "id": r.id,
        "zone_id": r.zone_id,
        "zone_name": zone,
        "name": r.name,
        "type": r.kind,
        "content": r.content,
        "proxiable": matches!(r.kind.as_str(), "A" | "AAAA" | "CNAME"),
        "proxied": r.proxied,
        "ttl": ttl,
        "tags": [],
        "meta": {"auto_added": false, "source": "primary"},
        "created_on": "2024-01-01T05:20:00.12345Z",
        "modified_on": "2024-01-01T05:20:00.12345Z",
    });
    if let Some(comment) = &r.comment {
        record["comment"] = json!(comment);
    }
    record
}

/// A zone in the shape of the schema's `zones_zone`.
fn zone_json(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "status": "active",
        "paused": false,
        "type": "full",
        "development_mode": 0,
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": null,
        "original_registrar": null,
        "original_dnshost": null,
        "vanity_name_servers": [],
        "created_on": "2024-01-01T05:20:00.12345Z",
        "modified_on": "2024-01-01T05:20:00.12345Z",
        "activated_on": "2024-01-02T00:01:00.12345Z",
        "owner": {"id": "7c5dae5552338874e5053f2534d2767a", "type": "user", "name": "Example User"},
        "account": {"id": "023e105f4ecef8ad9ca31a8372d0c353", "name": "Example Account"},
        "meta": {"cdn_only": false, "custom_certificate_quota": 0, "dns_only": false, "foundation_dns": false,
                 "page_rule_quota": 3, "phishing_detected": false, "step": 2},
        "permissions": ["#dns_records:edit", "#dns_records:read", "#zone:read"],
    })
}
