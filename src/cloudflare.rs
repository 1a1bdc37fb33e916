//! The only module that speaks to Cloudflare (API v4): zone lookup with its cache, DNS
//! record list/create/patch/delete, and token verification.
//!
//! It knows the wire format and nothing about stacks: ownership, defaults and idempotency
//! live in `ops::dns`. Every answer goes through one envelope parser, so a Cloudflare error
//! becomes [`Error::Cloudflare`] with Cloudflare's own codes and messages plus a hint, and a
//! malformed body becomes a clear error instead of a panic. The token is held as a
//! [`Secret`] and handed only to `http`, which puts it in the Authorization header.
//!
//! Zones are cached BY ZONE for 300 s, in-process (the MCP server is long-lived) and on disk
//! in `{cache_dir}/zones.json` (mode 0600): a host is matched against the known zone names
//! as suffixes (longest first) before the API is asked, so every name in a known zone costs
//! no lookup. The file is read once per client and written once, when the client is dropped
//! at the end of the operation, atomically and only if a zone was learned. An old
//! host-keyed file (version 1) is read by the zone name each entry holds. The cache is an
//! optimisation: a cache that cannot be read or written is ignored.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{Config, Secret};
use crate::error::{Error, Result};
use crate::http::{self, Budget, Method, Request};
use crate::ops::next::{Hint, Next};

/// How long a zone lookup stays good.
const ZONE_CACHE_TTL: Duration = Duration::from_secs(300);
/// Records per page when listing (Cloudflare's default and a sane page size).
const PER_PAGE: u32 = 100;
/// A guard against a server whose `result_info` never ends.
const MAX_PAGES: u32 = 1000;

/// The TTLs Cloudflare accepts besides 1 (automatic): `TTL_MIN..=TTL_MAX` seconds. Below 60
/// only Enterprise zones take them; other zones answer with code 9021.
pub const TTL_MIN: u32 = 30;
pub const TTL_MAX: u32 = 86400;
/// The TTL rule in words, the one phrasing every message, help text and schema uses.
pub const TTL_RULE: &str = "1 (automatic) or 30-86400 seconds";

/// A Cloudflare zone. `name` is unknown when `STACKWIZ_CF_ZONE_ID` skipped the lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub id: String,
    pub name: Option<String>,
}

impl Zone {
    /// The name, or the id when the name was never looked up.
    pub fn shown(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// A DNS record as Cloudflare returns it (the fields stackwiz uses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub content: String,
    /// Cloudflare sends `false` for records that cannot be proxied.
    #[serde(default)]
    pub proxied: bool,
    /// 1 means automatic.
    #[serde(default = "auto_ttl")]
    pub ttl: u32,
    #[serde(default)]
    pub comment: Option<String>,
}

fn auto_ttl() -> u32 {
    1
}

/// The writable fields of a record: all of them for create, only the changed ones for
/// PATCH (absent fields are not sent, so Cloudflare leaves them alone).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Fields {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxied: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Fields {
    pub fn is_empty(&self) -> bool {
        *self == Fields::default()
    }

    /// The names of the fields set, for reports ("content", "proxied", ...).
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("type", self.kind.is_some()),
            ("name", self.name.is_some()),
            ("content", self.content.is_some()),
            ("proxied", self.proxied.is_some()),
            ("ttl", self.ttl.is_some()),
            ("comment", self.comment.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, set)| set.then_some(n))
        .collect()
    }
}

/// Filters for listing records. `name` is an exact full name.
#[derive(Clone, Debug, Default)]
pub struct Filter<'a> {
    pub name: Option<&'a str>,
    pub kind: Option<&'a str>,
    /// Only records whose comment starts with this (Cloudflare matches case-insensitively).
    pub comment_prefix: Option<&'a str>,
}

impl<'a> Filter<'a> {
    /// Every record of exactly this full name.
    pub fn named(name: &'a str) -> Filter<'a> {
        Filter {
            name: Some(name),
            ..Filter::default()
        }
    }
}

/// `GET /user/tokens/verify`'s answer.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct TokenStatus {
    pub id: String,
    pub status: String,
}

/// A Cloudflare API client for one operation. Its one HTTP agent keeps the connection
/// open between requests; its zone cache is written back when it is dropped.
pub struct Cloudflare {
    http: http::Client,
    api: String,
    token: Secret,
    zone_id: Option<String>,
    cache_file: PathBuf,
    known: Mutex<Known>,
}

/// The zones this client knows (zone name -> zone and when it was learned), loaded from the
/// disk cache on the first lookup, and the names it asked about that are no zone.
#[derive(Default)]
struct Known {
    loaded: bool,
    zones: HashMap<String, (Zone, SystemTime)>,
    not_zones: std::collections::HashSet<String>,
    dirty: bool,
}

impl Cloudflare {
    /// A client from the configuration, for one command: every request it makes draws on
    /// `budget`. The token comes from [`Config::token`], so the reason there is none (not
    /// configured, or an unreadable token file) reaches the user.
    pub fn new(cfg: &Config, budget: &Budget) -> Result<Cloudflare> {
        let token = cfg.token()?;
        let dns = &cfg.dns;
        Ok(Cloudflare {
            http: http::Client::api(dns.http_time_scale, "the Cloudflare API", budget),
            api: dns.api_url.trim_end_matches('/').to_string(),
            token: token.secret.clone(),
            zone_id: dns.zone_id.clone(),
            cache_file: dns.cache_dir.join("zones.json"),
            known: Mutex::new(Known::default()),
        })
    }

    pub fn verify_token(&self) -> Result<TokenStatus> {
        self.call(Method::Get, "/user/tokens/verify", &[], None)
            .map(|(t, _)| t)
    }

    /// The zone holding `host`: the longest suffix of it that is a zone of this account.
    /// `STACKWIZ_CF_ZONE_ID` answers without asking.
    pub fn zone_for(&self, host: &str) -> Result<Zone> {
        self.find_zone(host)?.ok_or_else(|| {
            Error::with_hint(
                format!(
                    "no Cloudflare zone holds {host} (looked for {})",
                    suffixes(host).join(", ")
                ),
                "check the domain is on this Cloudflare account and the token may read it \
                 (Zone:Read), or set STACKWIZ_CF_ZONE_ID",
            )
        })
    }

    /// Like [`Cloudflare::zone_for`], but a host outside every zone is `None`, not an error.
    pub fn find_zone(&self, host: &str) -> Result<Option<Zone>> {
        if let Some(id) = &self.zone_id {
            return Ok(Some(Zone {
                id: id.clone(),
                name: None,
            }));
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let candidates = suffixes(&host);
        // Longest known zone first; then ask about the longer names not yet ruled out.
        if let Some(zone) = candidates.iter().find_map(|name| self.cached(name)) {
            return Ok(Some(zone));
        }
        for suffix in candidates {
            if self.ruled_out(&suffix) {
                continue;
            }
            let query = [("name", suffix.clone()), ("per_page", "50".to_string())];
            let (zones, _): (Vec<Zone>, _) = self.call(Method::Get, "/zones", &query, None)?;
            match zones
                .into_iter()
                .find(|z| z.shown().eq_ignore_ascii_case(&suffix))
            {
                Some(zone) => {
                    self.remember(&suffix, &zone);
                    return Ok(Some(zone));
                }
                None => self.rule_out(&suffix),
            }
        }
        Ok(None)
    }

    /// Every record matching `filter`, following `result_info` pagination to the end.
    pub fn list(&self, zone: &Zone, filter: &Filter) -> Result<Vec<Record>> {
        let path = format!("/zones/{}/dns_records", zone.id);
        let mut base = vec![("per_page", PER_PAGE.to_string())];
        if let Some(name) = filter.name {
            base.push(("name", name.to_string()));
        }
        if let Some(kind) = filter.kind {
            base.push(("type", kind.to_string()));
        }
        if let Some(prefix) = filter.comment_prefix {
            base.push(("comment.startswith", prefix.to_string()));
        }
        let mut records = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut query = base.clone();
            query.push(("page", page.to_string()));
            let (batch, info): (Vec<Record>, _) = self.call(Method::Get, &path, &query, None)?;
            let got = batch.len();
            records.extend(batch);
            let more = match info {
                Some(ResultInfo {
                    total_pages: Some(total),
                    ..
                }) => u64::from(page) < total,
                Some(ResultInfo {
                    total_count: Some(total),
                    ..
                }) => (records.len() as u64) < total,
                _ => false,
            };
            if !more || got == 0 {
                break;
            }
        }
        Ok(records)
    }

    pub fn create(&self, zone: &Zone, fields: &Fields) -> Result<Record> {
        let path = format!("/zones/{}/dns_records", zone.id);
        self.call(Method::Post, &path, &[], Some(fields))
            .map(|(r, _)| r)
    }

    /// PATCH `old` with `changes`: only the fields set there change. The body is still a
    /// whole record (type, name, content as `old` has them, unless changed), since the
    /// schema's PATCH body is a record of one type with those three required.
    pub fn patch(&self, zone: &Zone, old: &Record, changes: &Fields) -> Result<Record> {
        let path = format!("/zones/{}/dns_records/{}", zone.id, old.id);
        let body = Fields {
            kind: Some(old.kind.clone()),
            name: Some(old.name.clone()),
            content: Some(
                changes
                    .content
                    .clone()
                    .unwrap_or_else(|| old.content.clone()),
            ),
            ..changes.clone()
        };
        self.call(Method::Patch, &path, &[], Some(&body))
            .map(|(r, _)| r)
    }

    /// DELETE a record. A 404 after a retry is success: the first attempt deleted the
    /// record and its answer got lost (a timeout, a 502 from a proxy), so the record is gone
    /// as asked. A 404 on the first attempt stays an error (the id was wrong).
    pub fn delete(&self, zone: &Zone, id: &str) -> Result<()> {
        #[derive(Deserialize)]
        struct Deleted {}
        let path = format!("/zones/{}/dns_records/{id}", zone.id);
        let resp = self.send(Method::Delete, &path, &[], None)?;
        if resp.status == 404 && resp.attempts > 1 {
            return Ok(());
        }
        parse_envelope::<Deleted>(resp.status, &resp.body, &resp.url).map(|_| ())
    }

    /// One API call: send, then parse the envelope.
    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Fields>,
    ) -> Result<(T, Option<ResultInfo>)> {
        let resp = self.send(method, path, query, body)?;
        parse_envelope(resp.status, &resp.body, &resp.url)
    }

    /// Send one request (retried per `http`'s policy). Every request goes through here.
    fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Fields>,
    ) -> Result<Sent> {
        let url = format!("{}{path}", self.api);
        let json = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| Error::Http {
                url: url.clone(),
                message: format!("cannot encode the request: {e}"),
            })?;
        let req = Request {
            method,
            url: &url,
            query,
            bearer: Some(&self.token),
            json: json.as_deref(),
        };
        let resp = self.http.send(&req).map_err(|e| match e {
            Error::Http { url, message } => Error::Http {
                url,
                message: format!("cannot reach the Cloudflare API: {message}"),
            },
            other => other,
        })?;
        Ok(Sent {
            status: resp.status,
            body: resp.body,
            attempts: resp.attempts,
            url: req.shown_url(),
        })
    }

    /// The known zone called `name`, if learned less than [`ZONE_CACHE_TTL`] ago.
    fn cached(&self, name: &str) -> Option<Zone> {
        let now = SystemTime::now();
        let fresh = |at: SystemTime| now.duration_since(at).is_ok_and(|age| age < ZONE_CACHE_TTL);
        let mut known = self.known.lock().ok()?;
        if !known.loaded {
            known.loaded = true;
            self.load(&mut known);
        }
        if let Some((zone, at)) = known.zones.get(name) {
            if fresh(*at) {
                return Some(zone.clone());
            }
        }
        let key = (self.api.clone(), name.to_string());
        let (zone, at) = memory().lock().ok()?.get(&key).cloned()?;
        if !fresh(at) {
            return None;
        }
        known.zones.insert(name.to_string(), (zone.clone(), at));
        Some(zone)
    }

    /// The disk cache's zones of this API, once per client.
    fn load(&self, known: &mut Known) {
        for (name, entry) in read_cache_file(&self.cache_file).zones {
            if entry.api != self.api {
                continue;
            }
            let at = UNIX_EPOCH + Duration::from_secs(entry.at);
            let zone = Zone {
                id: entry.id,
                name: Some(name.clone()),
            };
            match known.zones.get(&name) {
                Some((_, seen)) if *seen >= at => {}
                _ => {
                    known.zones.insert(name, (zone, at));
                }
            }
        }
    }

    fn ruled_out(&self, name: &str) -> bool {
        self.known.lock().is_ok_and(|k| k.not_zones.contains(name))
    }

    fn rule_out(&self, name: &str) {
        if let Ok(mut known) = self.known.lock() {
            known.not_zones.insert(name.to_string());
        }
    }

    fn remember(&self, name: &str, zone: &Zone) {
        let now = SystemTime::now();
        if let Ok(mut mem) = memory().lock() {
            mem.insert((self.api.clone(), name.to_string()), (zone.clone(), now));
        }
        if let Ok(mut known) = self.known.lock() {
            known.zones.insert(name.to_string(), (zone.clone(), now));
            known.dirty = true;
        }
    }

    /// Write the zones learned back to the disk cache: once, at the end of the operation,
    /// merged with what the file holds now (another run may have written it), stale entries
    /// dropped. Best effort: a read-only cache dir costs a zone lookup next time.
    fn save(&self) {
        let Ok(known) = self.known.lock() else { return };
        if !known.dirty {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let fresh = |at: u64| now.saturating_sub(at) < ZONE_CACHE_TTL.as_secs();
        let mut file = read_cache_file(&self.cache_file);
        file.zones.retain(|_, e| fresh(e.at));
        for (name, (zone, at)) in &known.zones {
            let at = at
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            if !fresh(at)
                || file
                    .zones
                    .get(name)
                    .is_some_and(|e| e.api == self.api && e.at >= at)
            {
                continue;
            }
            let entry = CacheEntry {
                api: self.api.clone(),
                id: zone.id.clone(),
                name: name.clone(),
                at,
            };
            file.zones.insert(name.clone(), entry);
        }
        file.version = CACHE_VERSION;
        let _ = write_cache_file(&self.cache_file, &file);
    }
}

impl Drop for Cloudflare {
    fn drop(&mut self) {
        self.save();
    }
}

/// An answer before its envelope is read.
struct Sent {
    status: u16,
    body: Vec<u8>,
    attempts: u32,
    /// The URL with its query, for messages.
    url: String,
}

/// `result_info` of list answers. The 2024 schemas omit `total_pages`; the API sends it.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct ResultInfo {
    pub page: Option<u64>,
    pub per_page: Option<u64>,
    pub count: Option<u64>,
    pub total_count: Option<u64>,
    pub total_pages: Option<u64>,
}

#[derive(Deserialize)]
struct Envelope {
    success: Option<bool>,
    #[serde(default)]
    errors: Vec<Message>,
    result: Option<Value>,
    result_info: Option<ResultInfo>,
}

#[derive(Deserialize)]
struct Message {
    code: Option<i64>,
    message: Option<String>,
    #[serde(default)]
    error_chain: Vec<Message>,
}

impl Message {
    fn flat(&self) -> (i64, String) {
        let mut text = self.message.clone().unwrap_or_default();
        let chain: Vec<String> = self
            .error_chain
            .iter()
            .map(|m| {
                let (code, msg) = m.flat();
                format!("[{code}] {msg}")
            })
            .collect();
        if !chain.is_empty() {
            text = format!("{text} ({})", chain.join(", "));
        }
        (self.code.unwrap_or(0), text)
    }
}

/// The one envelope parser. Success needs a 2xx status, `success: true` and a `result`
/// of the expected shape; anything else is an error naming what came back.
pub fn parse_envelope<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    url: &str,
) -> Result<(T, Option<ResultInfo>)> {
    let envelope: Option<Envelope> = serde_json::from_slice(body).ok();
    let ok_status = (200..300).contains(&status);
    match envelope {
        Some(env) if ok_status && env.success == Some(true) => {
            let result = env.result.unwrap_or(Value::Null);
            let value = T::deserialize(result).map_err(|e| Error::Http {
                url: url.to_string(),
                message: format!("unexpected answer from Cloudflare: {e}"),
            })?;
            Ok((value, env.result_info))
        }
        Some(env) if !ok_status || env.success == Some(false) => {
            let errors: Vec<(i64, String)> = env.errors.iter().map(Message::flat).collect();
            let hint = hint_for(status, &errors);
            Err(Error::Cloudflare { status, errors, hint })
        }
        // Not a Cloudflare envelope at all (an HTML error page from a proxy, a truncated body).
        _ if !ok_status => Err(Error::Cloudflare { status, errors: Vec::new(), hint: hint_for(status, &[]) }),
        _ => Err(Error::Http {
            url: url.to_string(),
            message: format!(
                "malformed answer from Cloudflare (HTTP {status}, {} bytes, not a v4 API envelope); \
                 check STACKWIZ_CF_API_URL",
                body.len()
            ),
        }),
    }
}

/// A next step for the user, from Cloudflare's codes first and the HTTP status second.
pub(crate) fn hint_for(status: u16, errors: &[(i64, String)]) -> Option<Hint> {
    let has = |codes: &[i64]| errors.iter().any(|(c, _)| codes.contains(c));
    let hint = if has(&[9109, 1000, 6003, 6111, 9106, 9103]) || status == 401 {
        return Some(
            Hint::from(
                "the Cloudflare API token is missing, malformed or revoked: create one with \
                 Zone:Read and DNS:Edit for the zone, set STACKWIZ_CF_API_TOKEN, and check it: ",
            )
            .then(Next::Doctor),
        );
    } else if has(&[10000]) || status == 403 {
        "the token may not do this: give it DNS:Edit (and Zone:Read) for this zone in the \
         Cloudflare dashboard, My Profile > API Tokens"
    } else if has(&[81057, 81058, 81053]) {
        "a conflicting record exists: list the records of that name, then update or delete the \
         one in the way"
    } else if has(&[81044, 7003, 7000, 1001]) || status == 404 {
        "the zone or record does not exist (anymore): check the name, and STACKWIZ_CF_ZONE_ID if set"
    } else if has(&[9021]) {
        return Some(format!("a TTL must be {TTL_RULE}; under 60 only on Enterprise zones").into());
    } else if has(&[971]) || status == 429 {
        "Cloudflare is rate limiting this token (1200 requests per 5 minutes): wait a few minutes and retry"
    } else if (300..400).contains(&status) {
        "the API URL redirects elsewhere: check STACKWIZ_CF_API_URL (https://api.cloudflare.com/client/v4)"
    } else if status >= 500 {
        "Cloudflare had trouble answering: retry later (https://www.cloudflarestatus.com)"
    } else {
        return None;
    };
    Some(hint.into())
}

/// `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com` (a zone has at
/// least two labels).
fn suffixes(host: &str) -> Vec<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .collect()
}

type MemoryCache = HashMap<(String, String), (Zone, SystemTime)>;

fn memory() -> &'static Mutex<MemoryCache> {
    static CACHE: std::sync::OnceLock<Mutex<MemoryCache>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The format of `zones.json`: 2 keys entries by zone name; 1 keyed them by host name.
const CACHE_VERSION: u32 = 2;

/// `zones.json`: zone name -> the zone's id, when it was learned, and from which API.
#[derive(Default, Deserialize, Serialize)]
struct CacheFile {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    zones: BTreeMap<String, CacheEntry>,
}

#[derive(Deserialize, Serialize)]
struct CacheEntry {
    api: String,
    id: String,
    /// The zone's name (in version 1, where the key was a host, the zone holding it).
    name: String,
    /// Seconds since the epoch.
    at: u64,
}

/// The cache, keyed by zone name whatever version the file is: a version-1 file (host
/// name -> zone) is re-keyed by the zone name each entry holds. Unreadable is empty.
fn read_cache_file(path: &PathBuf) -> CacheFile {
    let file: CacheFile = std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut zones = BTreeMap::new();
    for (_, e) in file.zones {
        let name = e.name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        match zones.get(&name) {
            Some(CacheEntry { at, .. }) if *at >= e.at => {}
            _ => {
                zones.insert(name.clone(), CacheEntry { name, ..e });
            }
        }
    }
    CacheFile {
        version: CACHE_VERSION,
        zones,
    }
}

/// Write to a private temporary file beside the cache, then rename over it: readers see
/// the old or the new file, never half of one, and the file is never world-readable.
fn write_cache_file(path: &PathBuf, file: &CacheFile) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path.parent().ok_or(std::io::ErrorKind::InvalidInput)?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|_| std::io::ErrorKind::Other)?;
    let tmp = dir.join(format!(".zones.json.{}", u64::from_le_bytes(suffix)));
    let result = (|| {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        out.write_all(&serde_json::to_vec_pretty(file).map_err(std::io::Error::other)?)?;
        out.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> Result<(Vec<Record>, Option<ResultInfo>)> {
        parse_envelope(status, body.as_bytes(), "http://x/zones/z/dns_records")
    }

    #[test]
    fn error_envelope_keeps_cloudflare_codes_and_hints() {
        let body = r#"{"success":false,"errors":[{"code":81057,"message":"Record already exists."}],"messages":[],"result":null}"#;
        let err = parse(400, body).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Cloudflare API error (HTTP 400): [81057] Record already exists."
        );
        assert!(err
            .hint()
            .unwrap()
            .contains("list the records of that name"));
        let body = r#"{"success":false,"errors":[{"code":9109,"message":"Invalid access token"}],"messages":[],"result":null}"#;
        let err = parse(403, body).unwrap_err();
        assert!(err.to_string().contains("[9109] Invalid access token"));
        assert!(err.hint().unwrap().contains("STACKWIZ_CF_API_TOKEN"));
        let body = r#"{"success":false,"errors":[{"code":1004,"message":"DNS Validation Error","error_chain":[{"code":9004,"message":"This record type cannot be proxied."}]}],"messages":[],"result":null}"#;
        let err = parse(400, body).unwrap_err().to_string();
        assert!(
            err.contains(
                "[1004] DNS Validation Error ([9004] This record type cannot be proxied.)"
            ),
            "{err}"
        );
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        for (status, body) in [
            (200, ""),
            (200, "<html>oops</html>"),
            (200, "{\"success\":true"),
            (200, "[]"),
            (200, "{\"success\":true,\"result\":{\"not\":\"a list\"}}"),
            (200, "{\"success\":true,\"result\":[{\"id\":1}]}"),
            (502, "<html>Bad gateway</html>"),
            (200, "{\"success\":false,\"errors\":\"nope\"}"),
            (500, "null"),
        ] {
            let err = parse(status, body).unwrap_err();
            assert!(!err.to_string().is_empty());
        }
        let err = parse(502, "<html/>").unwrap_err();
        assert_eq!(err.to_string(), "Cloudflare API error (HTTP 502)");
        assert!(err.hint().unwrap().contains("retry later"));
    }

    #[test]
    fn success_envelope_gives_result_and_info() {
        let body = r#"{"success":true,"errors":[],"messages":[],"result":[{"id":"r1","type":"TXT","name":"a.example.com","content":"x","proxiable":false,"ttl":1,"comment":null}],"result_info":{"page":1,"per_page":100,"count":1,"total_count":1,"total_pages":1}}"#;
        let (records, info) = parse(200, body).unwrap();
        assert_eq!(records[0].kind, "TXT");
        assert!(!records[0].proxied);
        assert_eq!(info.unwrap().total_pages, Some(1));
    }

    #[test]
    fn patch_fields_send_only_what_changed() {
        let fields = Fields {
            content: Some("93.184.216.34".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&fields).unwrap(),
            r#"{"content":"93.184.216.34"}"#
        );
        assert_eq!(fields.names(), ["content"]);
    }

    #[test]
    fn the_ttl_rule_is_stated_once_and_matches_the_bounds() {
        assert!(TTL_RULE.contains(&format!("1 (automatic) or {TTL_MIN}-{TTL_MAX}")));
        let body = r#"{"success":false,"errors":[{"code":9021,"message":"Invalid TTL."}],"messages":[],"result":null}"#;
        let hint = parse(400, body).unwrap_err().hint().unwrap();
        assert!(hint.contains(TTL_RULE), "{hint}");
    }
}
