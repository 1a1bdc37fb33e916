//! DNS operations both faces call: list, create, update, delete, sync, ip, and the helpers
//! the stack operations use (`create_for_stack`, `delete_for_stack`, `verify_token`).
//!
//! Policy lives here, wire format in `cloudflare`: defaults (A, AUTO, proxied), validation
//! before any request, idempotency (an identical record is "unchanged" with no write; a
//! different one is an error unless `update`), and ownership. Every record stackwiz creates
//! carries the comment `stackwiz:<owner>` (the stack name, or the name as given), so
//! `delete`, `remove` and `sync` touch only stackwiz's own records unless forced. An `AUTO`
//! value is detected before anything is written: a failed detection changes nothing.
//!
//! An A/AAAA record's comment also says where its value came from: `stackwiz:<owner>
//! ip=auto` (detected) or `ip=fixed` (given by hand), before any note of the user's. Only an
//! `ip=auto` record of a stack on this host follows the address in `sync`; a pinned record,
//! another host's stack and a record from before the intent was recorded (no `ip=` token:
//! its value may have been typed by hand, so it is never moved unasked) are left alone and
//! reported. `dns update NAME --value AUTO` (or an address) records the intent.
//!
//! Each operation makes its requests within one time budget ([`Budget`], 30 s) that also
//! ends on the operation's cancellation token.
//!
//! Request structs deserialize straight from MCP tool arguments (unknown fields are
//! rejected so a misspelt argument is not silently ignored); reports serialize to the JSON
//! shapes documented on each type (`--json` and MCP `structuredContent`).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ops::next::{DnsRecord, Hint, Next};
use crate::ops::{Ctx, Report};
use crate::cancel::Cancel;
use crate::cloudflare::{Cloudflare, Fields, Filter, Record, Zone, TTL_MAX, TTL_MIN, TTL_RULE};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::Budget;
use crate::ip::{self, Family};
use crate::validate::printable;

/// The comment prefix that marks a record as stackwiz's own.
pub const OWNER_PREFIX: &str = "stackwiz:";
/// The comment tokens after the owner that say where an A/AAAA record's value came from.
const AUTO_TOKEN: &str = "ip=auto";
const FIXED_TOKEN: &str = "ip=fixed";
/// Cloudflare's comment limit on the free plan.
const MAX_COMMENT: usize = 100;

// ---------------------------------------------------------------------------------------
// requests

/// The record types stackwiz creates. Deserializes case-insensitively ("a", "cname").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub enum RecordType {
    A,
    AAAA,
    CNAME,
    TXT,
}

impl RecordType {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::AAAA => "AAAA",
            RecordType::CNAME => "CNAME",
            RecordType::TXT => "TXT",
        }
    }

    fn proxiable(self) -> bool {
        self != RecordType::TXT
    }

    /// The address family an `AUTO` value needs, for A and AAAA.
    fn family(self) -> Option<Family> {
        match self {
            RecordType::A => Some(Family::Ipv4),
            RecordType::AAAA => Some(Family::Ipv6),
            _ => None,
        }
    }
}

impl FromStr for RecordType {
    type Err = Error;
    fn from_str(s: &str) -> Result<RecordType> {
        match s.to_ascii_uppercase().as_str() {
            "A" => Ok(RecordType::A),
            "AAAA" => Ok(RecordType::AAAA),
            "CNAME" => Ok(RecordType::CNAME),
            "TXT" => Ok(RecordType::TXT),
            _ => Err(Error::invalid(
                "type",
                format!("`{}` is not one of A, AAAA, CNAME, TXT", printable(s)),
            )),
        }
    }
}

impl TryFrom<String> for RecordType {
    type Error = Error;
    fn try_from(s: String) -> Result<RecordType> {
        s.parse()
    }
}

/// Where a stackwiz A/AAAA record's value came from, as its comment records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// Detected (`AUTO`): `dns sync` keeps it on the address of the host its stack is on.
    Auto,
    /// Given by hand: nothing but the user changes it.
    Fixed,
}

impl Intent {
    /// The intent of a value as given: `AUTO` (any case) or anything else.
    fn of_value(value: &str) -> Intent {
        if value.trim().eq_ignore_ascii_case("auto") {
            Intent::Auto
        } else {
            Intent::Fixed
        }
    }

    fn token(self) -> &'static str {
        match self {
            Intent::Auto => AUTO_TOKEN,
            Intent::Fixed => FIXED_TOKEN,
        }
    }
}

/// A stackwiz comment read back: `stackwiz:<owner>[ ip=auto|ip=fixed][ note]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Marker<'a> {
    owner: &'a str,
    /// `None` for a marker from before stackwiz recorded it (or a record not A/AAAA).
    intent: Option<Intent>,
    note: Option<&'a str>,
}

impl<'a> Marker<'a> {
    fn of(record: &'a Record) -> Option<Marker<'a>> {
        let rest = record.comment.as_deref()?.strip_prefix(OWNER_PREFIX)?;
        let (owner, rest) = split_word(rest);
        if owner.is_empty() {
            return None;
        }
        let (token, after) = split_word(rest);
        let (intent, note) = match token {
            AUTO_TOKEN => (Some(Intent::Auto), after),
            FIXED_TOKEN => (Some(Intent::Fixed), after),
            _ => (None, rest),
        };
        Some(Marker {
            owner,
            intent,
            note: Some(note.trim()).filter(|n| !n.is_empty()),
        })
    }
}

/// The first whitespace-separated word of `s` and the rest after it.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// `dns list`: the records of a zone (`zone`), of one name (`name`), or, with neither, of
/// the default domain's zone; optionally of one type.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsList {
    #[serde(default)]
    pub zone: Option<String>,
    #[serde(default, alias = "subdomain")]
    pub name: Option<String>,
    #[serde(default)]
    pub r#type: Option<RecordType>,
}

/// `dns create`. `name` is a label under the default domain, `@` for the default domain
/// itself, or a full hostname. Defaults: type A, value AUTO (the detected public address),
/// proxied for A/AAAA/CNAME, TTL 1 (automatic). `stack` names the owner written into the
/// comment (default: the label, or the full name outside the default domain); `comment` is
/// appended after it. `update: true` replaces a different record of that name and type.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsCreate {
    /// A label under the default domain or a full hostname (MCP calls it `subdomain`).
    #[serde(alias = "subdomain")]
    pub name: String,
    #[serde(default)]
    pub r#type: Option<RecordType>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub proxied: Option<bool>,
    #[serde(default)]
    pub ttl: Option<u32>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub stack: Option<String>,
    #[serde(default)]
    pub update: bool,
}

/// `dns update`: changes only the fields given. Without `type` the name must hold exactly
/// one record.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsUpdate {
    /// A label under the default domain or a full hostname (MCP calls it `subdomain`).
    #[serde(alias = "subdomain")]
    pub name: String,
    #[serde(default)]
    pub r#type: Option<RecordType>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub proxied: Option<bool>,
    #[serde(default)]
    pub ttl: Option<u32>,
}

/// `dns delete`: the records of exactly this name (and type). Records stackwiz did not
/// create are kept unless `force`. With `stack`, only the records owned by
/// `stackwiz:<stack>` go, and finding none (or no zone holding the name) is not an error:
/// that is what `remove` runs, and its retry command. `dry_run` reports what would go,
/// deleting nothing (the CLI shows it before asking for confirmation).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsDelete {
    /// A label under the default domain or a full hostname (MCP calls it `subdomain`).
    #[serde(alias = "subdomain")]
    pub name: String,
    #[serde(default)]
    pub r#type: Option<RecordType>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub stack: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

/// `ip`: the public address of the server.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpQuery {
    #[serde(default)]
    pub ipv6: bool,
}

// ---------------------------------------------------------------------------------------
// reports

/// A record in a report. JSON:
/// `{"id", "type", "name", "content", "proxied": bool, "ttl": number (1 = auto),
///   "comment": string|null, "owner": string|null}`; `owner` is the stack or name after
/// `stackwiz:` in the comment, null for records stackwiz did not create.
#[derive(Clone, Debug, Serialize)]
pub struct RecordView {
    #[serde(flatten)]
    pub record: Record,
    pub owner: Option<String>,
}

impl From<Record> for RecordView {
    fn from(record: Record) -> RecordView {
        let owner = owner_of(&record).map(String::from);
        RecordView { record, owner }
    }
}

impl RecordView {
    /// `A app.example.com -> 93.184.216.34 (proxied, TTL auto, stackwiz:app)`
    fn line(&self) -> String {
        let r = &self.record;
        let ttl = if r.ttl == 1 {
            "TTL auto".to_string()
        } else {
            format!("TTL {}", r.ttl)
        };
        let mut facts = vec![
            if r.proxied { "proxied" } else { "DNS only" }.to_string(),
            ttl,
        ];
        match (&self.owner, &r.comment) {
            (Some(owner), _) => {
                let intent = Marker::of(r).and_then(|m| m.intent);
                facts.push(match intent {
                    Some(i) => format!("{OWNER_PREFIX}{owner} {}", i.token()),
                    None => format!("{OWNER_PREFIX}{owner}"),
                })
            }
            (None, Some(c)) if !c.is_empty() => {
                facts.push(format!("not stackwiz's: {}", printable(c)))
            }
            _ => facts.push("not stackwiz's".into()),
        }
        format!(
            "{} {} -> {} ({})",
            r.kind,
            r.name,
            printable(&r.content),
            facts.join(", ")
        )
    }
}

/// `dns list`. JSON: `{"zone": {"id", "name": string|null}, "records": [record...]}`.
#[derive(Debug, Serialize)]
pub struct DnsListed {
    pub zone: Zone,
    pub records: Vec<RecordView>,
}

impl Report for DnsListed {
    fn human(&self) -> String {
        if self.records.is_empty() {
            return format!("no matching records in zone {}\n", self.zone.shown());
        }
        self.records.iter().map(|r| r.line() + "\n").collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Updated,
    Unchanged,
}

/// `dns create`, `dns update`, `create_for_stack`. JSON:
/// `{"action": "created"|"updated"|"unchanged", "zone": {"id","name"}, "record": record,
///   "previous": record|null (updated only), "changed": ["content","proxied","ttl","comment"]
///   (fields written, updated only), "ip_source": string|null (where an AUTO value came
///   from: "env STACKWIZ_PUBLIC_IP" or a service URL), "warning": string|null (about the
///   address, e.g. a documentation address set by hand)}`
#[derive(Debug, Serialize)]
pub struct DnsChange {
    pub action: Action,
    pub zone: Zone,
    pub record: RecordView,
    pub previous: Option<RecordView>,
    pub changed: Vec<&'static str>,
    pub ip_source: Option<String>,
    pub warning: Option<String>,
}

impl Report for DnsChange {
    fn human(&self) -> String {
        let mut out = match self.action {
            Action::Created => format!("created {}\n", self.record.line()),
            Action::Unchanged => format!("unchanged: {}\n", self.record.line()),
            Action::Updated => {
                let mut s = format!(
                    "updated {}: {}\n",
                    self.changed.join(", "),
                    self.record.line()
                );
                if let Some(p) = &self.previous {
                    let _ = writeln!(s, "  was {}", p.line());
                }
                s
            }
        };
        if let Some(source) = &self.ip_source {
            let _ = writeln!(out, "  address detected from {source}");
        }
        if let Some(warning) = &self.warning {
            let _ = writeln!(out, "  warning: {warning}");
        }
        out
    }
}

/// `dns delete`, `delete_for_stack`. JSON: `{"zone": {"id","name"}|null (null only for a
/// stack's records when no zone of this account can hold the name), "name": the full name,
/// "dry_run": bool,
/// "deleted": [record...] (would be deleted, in a dry run), "kept": [record...] (of that
/// name but not stackwiz's, or another stack's, left alone)}`
#[derive(Debug, Serialize)]
pub struct DnsDeleted {
    pub zone: Option<Zone>,
    pub name: String,
    pub dry_run: bool,
    pub deleted: Vec<RecordView>,
    pub kept: Vec<RecordView>,
}

impl DnsDeleted {
    /// Nothing deleted at `name`, where no zone of this account holds it.
    fn outside_every_zone(name: String, dry_run: bool) -> DnsDeleted {
        DnsDeleted {
            zone: None,
            name,
            dry_run,
            deleted: Vec::new(),
            kept: Vec::new(),
        }
    }
}

impl Report for DnsDeleted {
    fn human(&self) -> String {
        let verb = if self.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        let mut out = String::new();
        for r in &self.deleted {
            let _ = writeln!(out, "{verb} {}", r.line());
        }
        for r in &self.kept {
            let _ = writeln!(out, "kept {}", r.line());
        }
        if out.is_empty() {
            out = match &self.zone {
                Some(_) => format!("no records of {} to delete\n", self.name),
                None => format!(
                    "no Cloudflare zone holds {}; nothing to delete\n",
                    self.name
                ),
            };
        }
        out
    }
}

/// One record `dns sync` changed (or would change). JSON: `{"id","type","name","from","to"}`
#[derive(Debug, Serialize)]
pub struct SyncChange {
    pub id: String,
    pub r#type: String,
    pub name: String,
    pub from: String,
    pub to: String,
}

/// Why `dns sync` left a stackwiz A/AAAA record alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    /// Its value was given by hand (`ip=fixed`).
    Fixed,
    /// Its owner is no stack on this host (another host's, or a name, not a stack).
    NotAStackHere,
    /// Made before stackwiz recorded the intent: its value may have been typed by hand.
    NoIntent,
}

/// A record `dns sync` left alone. JSON: `{"id","type","name","content","reason":
/// "fixed"|"not_a_stack_here"|"no_intent"}`
#[derive(Debug, Serialize)]
pub struct SyncLeft {
    pub id: String,
    pub r#type: String,
    pub name: String,
    pub content: String,
    pub reason: LeftReason,
}

/// `dns sync`. JSON: `{"dry_run": bool, "zones": [{"id","name"}...], "ipv4": string|null,
/// "ipv6": string|null (detected, only when records of that family follow it), "checked":
/// number (records that follow this host's address, looked at: stackwiz A/AAAA records
/// marked `ip=auto` of a stack on this host), "changes": [change...], "writes": number
/// (PATCH requests made; 0 in a dry run or when nothing changed), "left_alone": [left...]
/// (the other stackwiz A/AAAA records, and why), "skipped": [string...] (domains no zone
/// of this account holds, e.g. LAN-only names)}`
#[derive(Debug, Default, Serialize)]
pub struct SyncReport {
    pub dry_run: bool,
    pub zones: Vec<Zone>,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub checked: usize,
    pub changes: Vec<SyncChange>,
    pub writes: usize,
    pub left_alone: Vec<SyncLeft>,
    pub skipped: Vec<String>,
}

impl Report for SyncReport {
    fn human(&self) -> String {
        let zones: Vec<&str> = self.zones.iter().map(Zone::shown).collect();
        let ips: Vec<&str> = self
            .ipv4
            .iter()
            .chain(&self.ipv6)
            .map(String::as_str)
            .collect();
        let (zones, ips) = (zones.join(", "), ips.join(" and "));
        let mut line = if self.zones.is_empty() {
            "dns sync: no stack domains in Cloudflare zones; nothing to do".to_string()
        } else if self.checked == 0 {
            format!(
                "dns sync: no stackwiz A/AAAA records in {zones} follow this host's address; \
                 nothing to do"
            )
        } else if self.changes.is_empty() {
            format!(
                "dns sync: all {} stackwiz records in {zones} point to {ips}; nothing changed",
                self.checked
            )
        } else {
            let names: Vec<&str> = self.changes.iter().map(|c| c.name.as_str()).collect();
            let verb = if self.dry_run {
                "would update"
            } else {
                "updated"
            };
            format!(
                "dns sync: {verb} {} of {} records in {zones} to {ips}: {}",
                self.changes.len(),
                self.checked,
                names.join(", ")
            )
        };
        if !self.skipped.is_empty() {
            let _ = write!(
                line,
                " (skipped, in no zone of this account: {})",
                self.skipped.join(", ")
            );
        }
        line += "\n";
        for (reason, why) in [
            (LeftReason::Fixed, "value given by hand"),
            (LeftReason::NotAStackHere, "not a stack on this host"),
            (
                LeftReason::NoIntent,
                "made before stackwiz recorded its intent",
            ),
        ] {
            let names: Vec<&str> = self
                .left_alone
                .iter()
                .filter(|l| l.reason == reason)
                .map(|l| l.name.as_str())
                .collect();
            if !names.is_empty() {
                let _ = writeln!(line, "  left alone ({why}): {}", names.join(", "));
            }
        }
        if let Some(old) = self
            .left_alone
            .iter()
            .find(|l| l.reason == LeftReason::NoIntent)
        {
            let follow = Next::DnsUpdate(Box::new(DnsRecord {
                name: old.name.clone(),
                record_type: Some(old.r#type.clone()),
                value: Some("AUTO".into()),
                ..DnsRecord::default()
            }));
            let _ = writeln!(
                line,
                "  to let sync move such a record: {follow}; to pin it, give its address as the \
                 value instead"
            );
        }
        line
    }
}

/// `ip`. JSON: `{"ip": string, "family": "ipv4"|"ipv6", "source": "env STACKWIZ_PUBLIC_IP" or
/// the service URL, "warning": string|null (a documentation address set by hand)}`
#[derive(Debug, Serialize)]
pub struct IpReport {
    pub ip: String,
    pub family: Family,
    pub source: String,
    pub warning: Option<String>,
}

impl Report for IpReport {
    fn human(&self) -> String {
        format!("{}\n", self.ip)
    }
}

// ---------------------------------------------------------------------------------------
// operations

/// The time budget of one operation: 30 s (scaled) for all its requests, ending early when
/// the operation is cancelled.
fn budget(ctx: &Ctx) -> Budget {
    Budget::new(ctx.cfg.dns.http_time_scale, &ctx.cancel)
}

pub fn list(ctx: &Ctx, req: &DnsList) -> Result<DnsListed> {
    let cfg = &ctx.cfg;
    let name = req.name.as_deref().map(|n| full_name(cfg, n)).transpose()?;
    // The token first: without one, a default domain never set (localhost) is not the news.
    let cf = Cloudflare::new(cfg, &budget(ctx))?;
    let host = match (&req.zone, &name) {
        (Some(zone), _) => public_host("zone", &checked_host("zone", zone)?)?,
        (None, Some(name)) => public_host("name", name)?,
        (None, None) => public_host(
            "default_domain",
            &checked_host("default_domain", &cfg.default_domain)?,
        )?,
    };
    let zone = cf.zone_for(&host)?;
    let filter = Filter {
        name: name.as_deref(),
        kind: req.r#type.map(RecordType::as_str),
        comment_prefix: None,
    };
    let records = cf
        .list(&zone, &filter)?
        .into_iter()
        .map(RecordView::from)
        .collect();
    Ok(DnsListed { zone, records })
}

pub fn create(ctx: &Ctx, req: &DnsCreate) -> Result<DnsChange> {
    let cfg = &ctx.cfg;
    let name = public_host("name", &full_name(cfg, &req.name)?)?;
    let kind = req.r#type.unwrap_or(RecordType::A);
    let proxied = match req.proxied {
        Some(true) if !kind.proxiable() => {
            return Err(Error::invalid(
                "proxied",
                "only A, AAAA and CNAME records can be proxied",
            ))
        }
        Some(p) => p,
        None => kind.proxiable(),
    };
    let ttl = checked_ttl(req.ttl, proxied)?.unwrap_or(1);
    let owner = match &req.stack {
        Some(stack) => {
            crate::validate::stack_name(stack)?;
            stack.clone()
        }
        None => default_owner(cfg, &name),
    };
    let value = req
        .value
        .as_deref()
        .unwrap_or(if kind.family().is_some() { "AUTO" } else { "" });
    let intent = kind.family().map(|_| Intent::of_value(value));
    let comment = ownership_comment(&owner, intent, req.comment.as_deref())?;
    let budget = budget(ctx);
    let cf = Cloudflare::new(cfg, &budget)?;
    let (content, detected) = resolve_value(cfg, kind, &name, value, &budget)?;
    let zone = cf.zone_for(&name)?;
    let want = Fields {
        kind: Some(kind.as_str().into()),
        name: Some(name.clone()),
        content: Some(content),
        proxied: kind.proxiable().then_some(proxied),
        ttl: Some(ttl),
        comment: Some(comment),
    };
    let (ip_source, warning) = sourced(detected);
    let change = |action, record: Record, previous: Option<Record>, changed| DnsChange {
        action,
        zone: zone.clone(),
        record: record.into(),
        previous: previous.map(RecordView::from),
        changed,
        ip_source: ip_source.clone(),
        warning: warning.clone(),
    };

    let existing = cf.list(
        &zone,
        &Filter {
            name: Some(&name),
            ..Filter::default()
        },
    )?;
    if let Some(same) = existing.iter().find(|r| same_record(r, &want)) {
        // Ours, but its comment says another intent (or none): record what was asked now,
        // so a value given by hand is never moved by `sync`. A record not ours stays as is.
        let ours = Marker::of(same).is_some_and(|m| m.owner == owner);
        let comment_only = Fields {
            comment: want.comment.clone(),
            ..Fields::default()
        };
        let stale = diff(same, &comment_only);
        if ours && intent.is_some() && Marker::of(same).and_then(|m| m.intent) != intent {
            let record = cf.patch(&zone, same, &stale)?;
            return Ok(change(
                Action::Updated,
                record,
                Some(same.clone()),
                stale.names(),
            ));
        }
        return Ok(change(Action::Unchanged, same.clone(), None, Vec::new()));
    }
    let at_name = |r: &&Record| match kind {
        RecordType::A | RecordType::AAAA => r.kind == "CNAME" || r.kind == kind.as_str(),
        RecordType::CNAME => matches!(r.kind.as_str(), "A" | "AAAA" | "CNAME"),
        RecordType::TXT => r.kind == "TXT",
    };
    let conflicts: Vec<&Record> = existing.iter().filter(at_name).collect();
    match conflicts.as_slice() {
        [] => match cf.create(&zone, &want) {
            Ok(record) => Ok(change(Action::Created, record, None, Vec::new())),
            // The record appeared during our POST: a retried POST whose first attempt had
            // landed (its answer lost), or a concurrent create. Either way it is there now.
            Err(e) if cloudflare_code(&e, &[81057, 81058]) => {
                let now = cf.list(
                    &zone,
                    &Filter {
                        name: Some(&name),
                        ..Filter::default()
                    },
                )?;
                let same = now.into_iter().find(|r| same_record(r, &want)).ok_or(e)?;
                Ok(change(Action::Created, same, None, Vec::new()))
            }
            Err(e) => Err(e),
        },
        [old] if req.update && old.kind == kind.as_str() => {
            let diff = diff(old, &want);
            let record = cf.patch(&zone, old, &diff)?;
            Ok(change(
                Action::Updated,
                record,
                Some((*old).clone()),
                diff.names(),
            ))
        }
        _ => Err(conflict_error(req, kind, &conflicts)),
    }
}

/// The stack's A record: its domain -> AUTO, proxied, owned by `stackwiz:<stack>`.
/// An identical record already there is "unchanged"; a different one is an error. A
/// special-use domain (`app.localhost`) is refused before any request.
pub fn create_for_stack(ctx: &Ctx, stack_name: &str, domain: &str) -> Result<DnsChange> {
    if !zone_could_exist(domain) {
        return Err(special_use(
            "domain",
            domain,
            &format!("give the stack a real domain, e.g. {stack_name}.example.com"),
        ));
    }
    let req = DnsCreate {
        name: absolute(domain),
        stack: Some(stack_name.to_string()),
        ..DnsCreate::default()
    };
    create(ctx, &req)
}

pub fn update(ctx: &Ctx, req: &DnsUpdate) -> Result<DnsChange> {
    let cfg = &ctx.cfg;
    let name = public_host("name", &full_name(cfg, &req.name)?)?;
    if req.value.is_none() && req.proxied.is_none() && req.ttl.is_none() {
        return Err(Error::Usage(
            "dns update: nothing to change; give a value, proxied or ttl".into(),
        ));
    }
    let budget = budget(ctx);
    let cf = Cloudflare::new(cfg, &budget)?;
    let zone = cf.zone_for(&name)?;
    let filter = Filter {
        name: Some(&name),
        kind: req.r#type.map(RecordType::as_str),
        comment_prefix: None,
    };
    let found = cf.list(&zone, &filter)?;
    let old = match found.as_slice() {
        [one] => one,
        [] => return Err(not_found(&name, req.r#type)),
        many => {
            let lines: Vec<String> = many
                .iter()
                .map(|r| RecordView::from(r.clone()).line())
                .collect();
            return Err(Error::with_hint(
                format!(
                    "{name} has {} records ({}); dns update changes one",
                    many.len(),
                    lines.join("; ")
                ),
                "say which record by its type, or delete the extra records first",
            ));
        }
    };
    let kind: RecordType = old.kind.parse().map_err(|_| {
        Error::invalid(
            "type",
            format!(
                "{name} is a {} record; stackwiz updates A, AAAA, CNAME and TXT",
                old.kind
            ),
        )
    })?;
    if req.proxied == Some(true) && !kind.proxiable() {
        return Err(Error::invalid(
            "proxied",
            "only A, AAAA and CNAME records can be proxied",
        ));
    }
    checked_ttl(req.ttl, req.proxied.unwrap_or(old.proxied))?;
    let (content, detected) = match &req.value {
        Some(v) => {
            let (content, detected) = resolve_value(cfg, kind, &name, v, &budget)?;
            (Some(content), detected)
        }
        None => (None, None),
    };
    // A new value of one of our A/AAAA records records its intent too: `--value AUTO`
    // lets `sync` move it, an address pins it. Others' comments are not ours to write.
    let comment = match (Marker::of(old), &req.value, kind.family()) {
        (Some(m), Some(v), Some(_)) => Some(ownership_comment(
            m.owner,
            Some(Intent::of_value(v)),
            m.note,
        )?),
        _ => None,
    };
    let want = Fields {
        content,
        proxied: req.proxied,
        ttl: req.ttl,
        comment,
        ..Fields::default()
    };
    let (ip_source, warning) = sourced(detected);
    let diff = diff(old, &want);
    let (action, record, previous) = if diff.is_empty() {
        (Action::Unchanged, old.clone(), None)
    } else {
        (
            Action::Updated,
            cf.patch(&zone, old, &diff)?,
            Some(old.clone().into()),
        )
    };
    Ok(DnsChange {
        action,
        zone,
        record: record.into(),
        previous,
        changed: diff.names(),
        ip_source,
        warning,
    })
}

pub fn delete(ctx: &Ctx, req: &DnsDelete) -> Result<DnsDeleted> {
    let cfg = &ctx.cfg;
    let name = full_name(cfg, &req.name)?;
    if let Some(stack) = &req.stack {
        crate::validate::stack_name(stack)?;
        if req.force {
            return Err(Error::Usage(
                "dns delete: --stack deletes only that stack's records; --force would delete \
                 the others too, so give one of them"
                    .into(),
            ));
        }
    }
    let nothing = || Ok(DnsDeleted::outside_every_zone(name.clone(), req.dry_run));
    // A stack's records are wherever its domain is: nowhere, for a name no zone can hold.
    match &req.stack {
        Some(_) if !zone_could_exist(&name) => return nothing(),
        Some(_) => {}
        None => {
            public_host("name", &name)?;
        }
    }
    let cf = Cloudflare::new(cfg, &budget(ctx))?;
    let zone = match &req.stack {
        Some(_) => match cf.find_zone(&name)? {
            Some(zone) => zone,
            None => return nothing(),
        },
        None => cf.zone_for(&name)?,
    };
    let filter = Filter {
        name: Some(&name),
        kind: req.r#type.map(RecordType::as_str),
        comment_prefix: None,
    };
    let found = cf.list(&zone, &filter)?;
    let (deleted, kept): (Vec<Record>, Vec<Record>) =
        found.into_iter().partition(|r| match &req.stack {
            Some(stack) => owner_of(r) == Some(stack.as_str()),
            None => req.force || owner_of(r).is_some(),
        });
    if req.stack.is_none() && deleted.is_empty() {
        if kept.is_empty() {
            return Err(not_found(&name, req.r#type));
        }
        let lines: Vec<String> = kept
            .into_iter()
            .map(|r| RecordView::from(r).line())
            .collect();
        return Err(Error::with_hint(
            format!(
                "stackwiz did not create the records of {name} ({}); left alone",
                lines.join("; ")
            ),
            Hint::from("to delete them anyway: ").then(Next::DnsDelete {
                name: name.clone(),
                record_type: req.r#type.map(|t| t.as_str().to_string()),
                stack: None,
                force: true,
            }),
        ));
    }
    let deleted = deleted.into_iter().map(|r| (zone.clone(), r)).collect();
    delete_records(&cf, Some(zone), name, deleted, kept, req.dry_run)
}

/// Special-use names (RFC 6761, RFC 8375, and the `.internal` TLD) that no public DNS zone
/// can hold: a record for them is never created at, or asked of, Cloudflare.
const SPECIAL_USE: &[&str] = &[
    "localhost",
    "local",
    "test",
    "example",
    "invalid",
    "internal",
    "home.arpa",
];

/// Whether a Cloudflare zone could hold `domain` (false for `app.localhost` and the like).
pub fn zone_could_exist(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    !SPECIAL_USE
        .iter()
        .any(|s| domain == *s || domain.ends_with(&format!(".{s}")))
}

/// What `remove STACK` deletes: every record owned by `stackwiz:<stack>`, at its domain or
/// at any other name (`dns create www --stack STACK`), in the zone of its domain and the
/// zone of the default domain; others' records stay (those at the domain are reported as
/// kept). Nothing there, or no zone holding the domain, is not an error (the stack may
/// never have had DNS), and a special-use domain costs no request at all.
pub fn delete_for_stack(ctx: &Ctx, stack_name: &str, domain: &str) -> Result<DnsDeleted> {
    crate::validate::stack_name(stack_name)?;
    let name = domain.trim_end_matches('.').to_ascii_lowercase();
    if !zone_could_exist(domain) {
        return Ok(DnsDeleted::outside_every_zone(name, false));
    }
    let name = full_name(&ctx.cfg, &absolute(domain))?;
    let cf = Cloudflare::new(&ctx.cfg, &budget(ctx))?;
    let home = cf.find_zone(&name)?;
    let mut zones: Vec<Zone> = home.iter().cloned().collect();
    // The default domain's zone too: `dns create LABEL --stack STACK` puts records there.
    let default = checked_host("default_domain", &ctx.cfg.default_domain).ok();
    if let Some(default) = default.filter(|d| zone_could_exist(d)) {
        if let Some(zone) = cf.find_zone(&default)? {
            if !zones.iter().any(|z| z.id == zone.id) {
                zones.push(zone);
            }
        }
    }
    let mine = |r: &Record| owner_of(r) == Some(stack_name);
    let mut deleted: Vec<(Zone, Record)> = Vec::new();
    for zone in &zones {
        // Cloudflare matches the prefix case-insensitively and `shop` is a prefix of
        // `shopping`: the exact owner is checked here.
        let prefix = format!("{OWNER_PREFIX}{stack_name}");
        let filter = Filter {
            comment_prefix: Some(&prefix),
            ..Filter::default()
        };
        for r in cf.list(zone, &filter)?.into_iter().filter(|r| mine(r)) {
            deleted.push((zone.clone(), r));
        }
    }
    let kept = match &home {
        Some(zone) => {
            let filter = Filter {
                name: Some(&name),
                ..Filter::default()
            };
            cf.list(zone, &filter)?
                .into_iter()
                .filter(|r| !mine(r))
                .collect()
        }
        None => Vec::new(),
    };
    delete_records(&cf, home, name, deleted, kept, false)
}

fn delete_records(
    cf: &Cloudflare,
    zone: Option<Zone>,
    name: String,
    deleted: Vec<(Zone, Record)>,
    kept: Vec<Record>,
    dry_run: bool,
) -> Result<DnsDeleted> {
    if !dry_run {
        for (zone, r) in &deleted {
            cf.delete(zone, &r.id)?;
        }
    }
    let views = |v: Vec<Record>| v.into_iter().map(RecordView::from).collect();
    Ok(DnsDeleted {
        zone,
        name,
        dry_run,
        deleted: views(deleted.into_iter().map(|(_, r)| r).collect()),
        kept: views(kept),
    })
}

/// Point the stackwiz A/AAAA records that follow this host's address at the detected one:
/// those marked `ip=auto` whose owner is a stack on this host, in the zones of `domains`
/// (default: the domains of this host's stacks). Every other stackwiz A/AAAA record there
/// is left alone and reported. The address is detected (once per family, only when a
/// record of that family follows it) before any write; a failed detection changes nothing.
/// Records already right cost no write.
pub fn sync(ctx: &Ctx, dry_run: bool, domains: Option<&[String]>) -> Result<SyncReport> {
    let cfg = &ctx.cfg;
    let stacks = crate::stack::scan(cfg)?;
    let here: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
    let domains: Vec<String> = match domains {
        Some(d) => d.to_vec(),
        None => {
            let mut d: Vec<String> = stacks.iter().filter_map(|s| s.domain.clone()).collect();
            d.sort();
            d.dedup();
            d
        }
    };
    let mut report = SyncReport {
        dry_run,
        ..SyncReport::default()
    };
    // Special-use names (LAN-only stacks) are skipped unasked, and alone need no token.
    let mut public = Vec::new();
    for domain in &domains {
        let host = checked_host("domain", domain)?;
        if zone_could_exist(&host) {
            public.push((domain, host));
        } else {
            report.skipped.push(domain.clone());
        }
    }
    if public.is_empty() {
        return Ok(report);
    }
    let budget = budget(ctx);
    let cf = Cloudflare::new(cfg, &budget)?;
    for (domain, host) in public {
        match cf.find_zone(&host)? {
            Some(zone) if !report.zones.iter().any(|z| z.id == zone.id) => report.zones.push(zone),
            Some(_) => {}
            None => report.skipped.push(domain.clone()),
        }
    }
    let mut follow = Vec::new();
    for zone in &report.zones {
        let filter = Filter {
            comment_prefix: Some(OWNER_PREFIX),
            ..Filter::default()
        };
        for r in cf.list(zone, &filter)? {
            if !matches!(r.kind.as_str(), "A" | "AAAA") {
                continue;
            }
            let Some(marker) = Marker::of(&r) else {
                continue;
            };
            let reason = match marker.intent {
                Some(Intent::Fixed) => Some(LeftReason::Fixed),
                _ if !here.contains(&marker.owner) => Some(LeftReason::NotAStackHere),
                None => Some(LeftReason::NoIntent),
                Some(Intent::Auto) => None,
            };
            match reason {
                Some(reason) => report.left_alone.push(SyncLeft {
                    id: r.id.clone(),
                    r#type: r.kind.clone(),
                    name: r.name.clone(),
                    content: r.content.clone(),
                    reason,
                }),
                None => follow.push((zone.clone(), r)),
            }
        }
    }
    report.checked = follow.len();
    let detect = |family: Family| -> Result<Option<IpAddr>> {
        let kind = if family == Family::Ipv4 { "A" } else { "AAAA" };
        if follow.iter().any(|(_, r)| r.kind == kind) {
            Ok(Some(ip::detect(&cfg.dns, family, &budget)?.ip))
        } else {
            Ok(None)
        }
    };
    let (v4, v6) = (detect(Family::Ipv4)?, detect(Family::Ipv6)?);
    report.ipv4 = v4.map(|ip| ip.to_string());
    report.ipv6 = v6.map(|ip| ip.to_string());
    for (zone, r) in &follow {
        let Some(ip) = (if r.kind == "A" { v4 } else { v6 }) else {
            continue;
        };
        if r.content.parse::<IpAddr>().is_ok_and(|old| old == ip) {
            continue;
        }
        if !dry_run {
            cf.patch(
                zone,
                r,
                &Fields {
                    content: Some(ip.to_string()),
                    ..Fields::default()
                },
            )?;
            report.writes += 1;
        }
        report.changes.push(SyncChange {
            id: r.id.clone(),
            r#type: r.kind.clone(),
            name: r.name.clone(),
            from: r.content.clone(),
            to: ip.to_string(),
        });
    }
    Ok(report)
}

/// `sync` over the domains of the existing stacks (what `stackwiz dns sync` and the MCP
/// tool run).
pub fn sync_stacks(ctx: &Ctx, dry_run: bool) -> Result<SyncReport> {
    sync(ctx, dry_run, None)
}

pub fn ip(ctx: &Ctx, req: &IpQuery) -> Result<IpReport> {
    let family = if req.ipv6 { Family::Ipv6 } else { Family::Ipv4 };
    let found = ip::detect(&ctx.cfg.dns, family, &budget(ctx))?;
    Ok(IpReport {
        ip: found.ip.to_string(),
        family,
        source: found.source,
        warning: found.warning,
    })
}

/// For `doctor`: "valid and active" when `GET /user/tokens/verify` says so, else an error
/// naming the problem (Cloudflare's code, or the token's status).
pub fn verify_token(cfg: &Config) -> Result<String> {
    // Doctor's own check: a budget of its own, never cancelled.
    let budget = Budget::new(cfg.dns.http_time_scale, &Cancel::new());
    let status = Cloudflare::new(cfg, &budget)?.verify_token()?;
    if status.status == "active" {
        Ok("valid and active".into())
    } else {
        Err(Error::with_hint(
            format!("the Cloudflare API token is {}", printable(&status.status)),
            "create a new token with Zone:Read and DNS:Edit and set STACKWIZ_CF_API_TOKEN",
        ))
    }
}

// ---------------------------------------------------------------------------------------
// helpers

/// The owner named in a record's comment: `stackwiz:<owner>[ ip=...][ free text]`.
pub fn owner_of(record: &Record) -> Option<&str> {
    Marker::of(record).map(|m| m.owner)
}

/// An AUTO value's source and warning, for reports.
fn sourced(detected: Option<ip::Detected>) -> (Option<String>, Option<String>) {
    match detected {
        Some(d) => (Some(d.source), d.warning),
        None => (None, None),
    }
}

/// A label (under the default domain), `@` (the default domain) or a full hostname, as the
/// lowercase full name Cloudflare stores. A trailing dot makes a name absolute, as in DNS:
/// `app.` is never taken as a label.
fn full_name(cfg: &Config, name: &str) -> Result<String> {
    let name = name.trim();
    if name.len() > 1 && name.ends_with('.') {
        return checked_host("name", name);
    }
    let name = name.to_ascii_lowercase();
    let full = if name == "@" {
        cfg.default_domain.to_ascii_lowercase()
    } else if name.contains('.') {
        name
    } else {
        format!("{name}.{}", cfg.default_domain.to_ascii_lowercase())
    };
    checked_host("name", &full)
}

/// A DNS name: labels of letters, digits, hyphens and underscores (`_acme-challenge`), a
/// leading `*` label for wildcards, at least two labels, 253 characters at most, ASCII
/// (Punycode) only.
fn checked_host(field: &str, host: &str) -> Result<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |(i, l): (usize, &str)| {
        (i == 0 && l == "*")
            || (!l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_'
                })
                && !l.starts_with('-')
                && !l.ends_with('-'))
    };
    if host.len() > 253 || !host.contains('.') || !host.split('.').enumerate().all(label_ok) {
        return Err(Error::invalid(
            field,
            format!(
                "`{}` is not a DNS name like app.example.com (labels of letters, digits, hyphens; \
                 Punycode for non-ASCII names)",
                printable(&host)
            ),
        ));
    }
    // `1.2.3.4` passes the label rule, but an IP address names no record: Cloudflare would
    // only be asked for a zone that cannot exist.
    if crate::validate::numeric_tld(&host) {
        return Err(Error::invalid(
            field,
            format!(
                "`{}` is an IP address or ends in a numeric label; use a DNS name like \
                 app.example.com",
                printable(&host)
            ),
        ));
    }
    Ok(host)
}

/// `domain` as an absolute name for [`full_name`], so a stack's domain is never read as a
/// label under the default domain.
fn absolute(domain: &str) -> String {
    format!("{}.", domain.trim().trim_end_matches('.'))
}

/// `host`, unless it is a special-use name no zone can hold: then an error, before any
/// request.
fn public_host(field: &str, host: &str) -> Result<String> {
    if zone_could_exist(host) {
        Ok(host.to_string())
    } else {
        Err(special_use(
            field,
            host,
            "use a name in one of your Cloudflare zones, e.g. app.example.com",
        ))
    }
}

fn special_use(field: &str, host: &str, instead: &str) -> Error {
    Error::invalid(
        field,
        format!(
            "{} is a special-use name no DNS zone can hold; {instead}",
            printable(host)
        ),
    )
}

fn checked_ttl(ttl: Option<u32>, proxied: bool) -> Result<Option<u32>> {
    match ttl {
        Some(t) if t != 1 && !(TTL_MIN..=TTL_MAX).contains(&t) => {
            Err(Error::invalid("ttl", format!("{t} is out of range: use {TTL_RULE}")))
        }
        Some(t) if t != 1 && proxied => Err(Error::invalid(
            "ttl",
            "a proxied record's TTL is always automatic (1); drop the TTL or make the record DNS only (not proxied)",
        )),
        other => Ok(other),
    }
}

/// The owner for a record created without a stack: the label under the default domain,
/// else the full name.
fn default_owner(cfg: &Config, name: &str) -> String {
    let suffix = format!(".{}", cfg.default_domain.to_ascii_lowercase());
    match name.strip_suffix(&suffix) {
        Some(label) if !label.contains('.') && label != "*" => label.to_string(),
        _ => name.to_string(),
    }
}

/// `stackwiz:<owner>[ ip=auto|ip=fixed][ extra]` (the intent only for A/AAAA records).
fn ownership_comment(owner: &str, intent: Option<Intent>, extra: Option<&str>) -> Result<String> {
    let mut comment = format!("{OWNER_PREFIX}{owner}");
    if let Some(intent) = intent {
        comment = format!("{comment} {}", intent.token());
    }
    if let Some(extra) = extra.map(str::trim).filter(|e| !e.is_empty()) {
        if extra.chars().any(char::is_control) {
            return Err(Error::invalid("comment", "must be one line of text"));
        }
        comment = format!("{comment} {extra}");
    }
    if comment.chars().count() > MAX_COMMENT {
        return Err(Error::invalid(
            "comment",
            format!(
                "`{}` is longer than Cloudflare's {MAX_COMMENT} characters (stackwiz's owner tag included)",
                printable(&comment)
            ),
        ));
    }
    Ok(comment)
}

/// A record value in Cloudflare's form; `AUTO` (A/AAAA) is the detected public address
/// (returned with where it came from).
fn resolve_value(
    cfg: &Config,
    kind: RecordType,
    name: &str,
    value: &str,
    budget: &Budget,
) -> Result<(String, Option<ip::Detected>)> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("auto") {
        let family = kind.family().ok_or_else(|| {
            Error::invalid(
                "value",
                format!(
                    "AUTO works only for A and AAAA records; give the {} value",
                    kind.as_str()
                ),
            )
        })?;
        let found = ip::detect(&cfg.dns, family, budget)?;
        return Ok((found.ip.to_string(), Some(found)));
    }
    let bad = |rule: &str| Error::invalid("value", format!("`{}` {rule}", printable(value)));
    let content = match kind {
        RecordType::A => value
            .parse::<Ipv4Addr>()
            .map_err(|_| bad("is not an IPv4 address (or AUTO)"))?
            .to_string(),
        RecordType::AAAA => value
            .parse::<Ipv6Addr>()
            .map_err(|_| bad("is not an IPv6 address (or AUTO)"))?
            .to_string(),
        RecordType::CNAME => {
            let target = checked_host("value", value)?;
            if target == name {
                return Err(bad(
                    "is the record's own name; a CNAME must point elsewhere",
                ));
            }
            target
        }
        RecordType::TXT if value.is_empty() => {
            return Err(bad("is empty; a TXT record needs a value"))
        }
        RecordType::TXT if value.chars().any(char::is_control) => {
            return Err(bad("must be one line of text"))
        }
        RecordType::TXT if value.len() > 2048 => return Err(bad("is longer than 2048 characters")),
        RecordType::TXT => value.to_string(),
    };
    Ok((content, None))
}

/// Whether `r` already is what `want` asks for, as DNS sees it (type, content, proxied,
/// TTL); the comment does not count, so a hand-made identical record is not rewritten.
fn same_record(r: &Record, want: &Fields) -> bool {
    Some(&r.kind) == want.kind.as_ref()
        && want
            .content
            .as_deref()
            .is_some_and(|c| same_content(&r.kind, &r.content, c))
        && want.proxied.map_or(true, |p| p == r.proxied)
        && want.ttl.map_or(true, |t| t == r.ttl)
}

fn same_content(kind: &str, a: &str, b: &str) -> bool {
    match kind {
        "A" | "AAAA" => a
            .parse::<IpAddr>()
            .ok()
            .zip(b.parse::<IpAddr>().ok())
            .is_some_and(|(x, y)| x == y),
        "CNAME" => a
            .trim_end_matches('.')
            .eq_ignore_ascii_case(b.trim_end_matches('.')),
        _ => unquote(a) == unquote(b),
    }
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// The fields of `want` that differ from `old`: what a PATCH changes.
fn diff(old: &Record, want: &Fields) -> Fields {
    Fields {
        content: want
            .content
            .clone()
            .filter(|c| !same_content(&old.kind, &old.content, c)),
        proxied: want.proxied.filter(|p| *p != old.proxied),
        ttl: want.ttl.filter(|t| *t != old.ttl),
        comment: want
            .comment
            .clone()
            .filter(|c| old.comment.as_ref() != Some(c)),
        ..Fields::default()
    }
}

fn cloudflare_code(e: &Error, codes: &[i64]) -> bool {
    matches!(e, Error::Cloudflare { errors, .. } if errors.iter().any(|(c, _)| codes.contains(c)))
}

fn not_found(name: &str, kind: Option<RecordType>) -> Error {
    let of_type = kind
        .map(|k| format!(" of type {}", k.as_str()))
        .unwrap_or_default();
    Error::with_hint(
        format!("no DNS record named {name}{of_type}"),
        Hint::from("see the records there are: ").then(Next::DnsList {
            name: name.to_string(),
        }),
    )
}

fn conflict_error(req: &DnsCreate, kind: RecordType, conflicts: &[&Record]) -> Error {
    let lines: Vec<String> = conflicts
        .iter()
        .map(|r| RecordView::from((*r).clone()).line())
        .collect();
    let first = conflicts[0];
    let message = format!(
        "{} already has a different record: {}",
        first.name,
        lines.join("; ")
    );
    let delete = |record_type: &str| Next::DnsDelete {
        name: first.name.clone(),
        record_type: Some(record_type.to_string()),
        stack: None,
        force: false,
    };
    let hint = if first.kind != kind.as_str() {
        Hint::from("a CNAME cannot share a name with A/AAAA records: remove it first: ")
            .then(delete(&first.kind))
    } else if req.update {
        format!(
            "an update replaces one record; delete the extra {} records of {} first",
            kind.as_str(),
            first.name
        )
        .into()
    } else {
        let replace = Next::DnsCreate(Box::new(DnsRecord {
            name: first.name.clone(),
            record_type: Some(kind.as_str().to_string()),
            value: req.value.clone(),
            proxied: req.proxied,
            ttl: req.ttl,
            comment: req.comment.clone(),
            stack: req.stack.clone(),
            update: true,
        }));
        Hint::from("replace it: ")
            .then(replace)
            .text(", or remove it first: ")
            .then(delete(kind.as_str()))
    };
    Error::with_hint(message, hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Env, Overrides};

    fn cfg() -> Config {
        let env = Env::from_pairs([
            ("HOME", "/nonexistent"),
            ("STACKWIZ_DEFAULT_DOMAIN", "example.com"),
        ]);
        Config::resolve(&Overrides::default(), &env).unwrap()
    }

    fn record(kind: &str, content: &str, proxied: bool, ttl: u32, comment: Option<&str>) -> Record {
        Record {
            id: "r1".into(),
            kind: kind.into(),
            name: "app.example.com".into(),
            content: content.into(),
            proxied,
            ttl,
            comment: comment.map(String::from),
        }
    }

    #[test]
    fn names_resolve_under_the_default_domain() {
        let c = cfg();
        assert_eq!(full_name(&c, "app").unwrap(), "app.example.com");
        assert_eq!(full_name(&c, "App.Other.org.").unwrap(), "app.other.org");
        assert_eq!(full_name(&c, "@").unwrap(), "example.com");
        assert_eq!(
            full_name(&c, "_acme-challenge").unwrap(),
            "_acme-challenge.example.com"
        );
        assert_eq!(full_name(&c, "*").unwrap(), "*.example.com");
        // A trailing dot makes a name absolute, as a stack's domain is.
        assert_eq!(full_name(&c, "app.other.org.").unwrap(), "app.other.org");
        assert_eq!(
            full_name(&c, &absolute("Shop.Example.COM")).unwrap(),
            "shop.example.com"
        );
        assert!(full_name(&c, "app.").is_err());
        for bad in [
            "",
            "-x",
            "a b",
            "bücher",
            "a..b.com",
            "x/y",
            &"a".repeat(64),
            // An IP address (or any numeric last label) names no record.
            "1.2.3.4",
            "1.2.3.4.",
            "app.example.123",
        ] {
            let err = full_name(&c, bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid name:"), "{bad}: {err}");
        }
    }

    #[test]
    fn owner_is_the_label_or_the_full_name() {
        let c = cfg();
        assert_eq!(default_owner(&c, "app.example.com"), "app");
        assert_eq!(default_owner(&c, "a.b.example.com"), "a.b.example.com");
        assert_eq!(default_owner(&c, "app.other.org"), "app.other.org");
        assert_eq!(
            ownership_comment("app", None, Some(" blog ")).unwrap(),
            "stackwiz:app blog"
        );
        assert_eq!(
            ownership_comment("app", Some(Intent::Auto), Some("blog")).unwrap(),
            "stackwiz:app ip=auto blog"
        );
        assert!(ownership_comment("app", None, Some(&"x".repeat(95))).is_err());
        let r = record("A", "1.1.1.1", true, 1, Some("stackwiz:app blog"));
        assert_eq!(owner_of(&r), Some("app"));
        assert_eq!(
            owner_of(&record("A", "1.1.1.1", true, 1, Some("made by hand"))),
            None
        );
        assert_eq!(
            owner_of(&record("A", "1.1.1.1", true, 1, Some("stackwiz:"))),
            None
        );
        assert_eq!(owner_of(&record("A", "1.1.1.1", true, 1, None)), None);
    }

    #[test]
    fn the_marker_keeps_owner_intent_and_note_apart() {
        let m = |c: &str| {
            let r = record("A", "1.1.1.1", true, 1, Some(c));
            Marker::of(&r).map(|m| (m.owner.to_string(), m.intent, m.note.map(String::from)))
        };
        let some = |o: &str, i, n: Option<&str>| Some((o.to_string(), i, n.map(String::from)));
        assert_eq!(
            m("stackwiz:app ip=auto"),
            some("app", Some(Intent::Auto), None)
        );
        assert_eq!(
            m("stackwiz:app ip=fixed my blog"),
            some("app", Some(Intent::Fixed), Some("my blog"))
        );
        // Old markers: no intent, the rest is the note.
        assert_eq!(m("stackwiz:app"), some("app", None, None));
        assert_eq!(m("stackwiz:app blog"), some("app", None, Some("blog")));
        assert_eq!(
            m("stackwiz:app ip=autox"),
            some("app", None, Some("ip=autox"))
        );
        assert_eq!(m("stackwiz: ip=auto"), some("ip=auto", None, None));
        assert_eq!(m("stackwiz:"), None);
        assert_eq!(m("made by hand"), None);
        assert_eq!(Intent::of_value(" auto "), Intent::Auto);
        assert_eq!(Intent::of_value("203.0.113.5"), Intent::Fixed);
    }

    #[test]
    fn values_are_validated_per_type() {
        let c = cfg();
        let budget = Budget::new(1.0, &Cancel::new());
        let v = |k, s| resolve_value(&c, k, "app.example.com", s, &budget).map(|(c, _)| c);
        assert_eq!(
            v(RecordType::A, " 93.184.216.34 ").unwrap(),
            "93.184.216.34"
        );
        assert_eq!(
            v(RecordType::AAAA, "2606:4700:0::1111").unwrap(),
            "2606:4700::1111"
        );
        assert_eq!(
            v(RecordType::CNAME, "Main.Example.com.").unwrap(),
            "main.example.com"
        );
        assert!(v(RecordType::CNAME, "app.example.com")
            .unwrap_err()
            .to_string()
            .contains("own name"));
        assert!(v(RecordType::CNAME, "not a host").is_err());
        assert!(v(RecordType::A, "2606:4700::1111").is_err());
        assert!(v(RecordType::TXT, "AUTO")
            .unwrap_err()
            .to_string()
            .contains("only for A and AAAA"));
        assert!(v(RecordType::TXT, "a\nb").is_err());
        assert_eq!(v(RecordType::TXT, "v=spf1 -all").unwrap(), "v=spf1 -all");
    }

    #[test]
    fn special_use_names_are_refused_with_the_alternative() {
        for name in [
            "app.localhost",
            "localhost",
            "x.home.arpa",
            "a.test.",
            "b.internal",
        ] {
            assert!(!zone_could_exist(name), "{name}");
        }
        for name in ["app.example.com", "localhost.example.com", "test.dev"] {
            assert!(zone_could_exist(name), "{name}");
            assert_eq!(public_host("name", name).unwrap(), name);
        }
        let err = public_host("name", "app.localhost").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.to_string(),
            "invalid name: app.localhost is a special-use name no DNS zone can hold; \
             use a name in one of your Cloudflare zones, e.g. app.example.com"
        );
    }

    #[test]
    fn ttl_rules() {
        assert_eq!(checked_ttl(None, true).unwrap(), None);
        assert_eq!(checked_ttl(Some(1), true).unwrap(), Some(1));
        assert_eq!(checked_ttl(Some(300), false).unwrap(), Some(300));
        assert!(checked_ttl(Some(29), false).is_err());
        assert!(checked_ttl(Some(86401), false).is_err());
        assert!(checked_ttl(Some(300), true)
            .unwrap_err()
            .to_string()
            .contains("always automatic"));
    }

    #[test]
    fn identity_and_minimal_diff() {
        let want = Fields {
            kind: Some("A".into()),
            name: Some("app.example.com".into()),
            content: Some("93.184.216.34".into()),
            proxied: Some(true),
            ttl: Some(1),
            comment: Some("stackwiz:app".into()),
        };
        assert!(same_record(
            &record("A", "93.184.216.34", true, 1, None),
            &want
        ));
        assert!(!same_record(
            &record("A", "93.184.216.35", true, 1, None),
            &want
        ));
        assert!(!same_record(
            &record("A", "93.184.216.34", false, 1, None),
            &want
        ));
        let d = diff(
            &record("A", "93.184.216.35", true, 1, Some("stackwiz:app")),
            &want,
        );
        assert_eq!(
            d,
            Fields {
                content: Some("93.184.216.34".into()),
                ..Fields::default()
            }
        );
        assert!(same_content("TXT", "\"hello\"", "hello"));
        assert!(same_content(
            "AAAA",
            "2606:4700:0:0::1111",
            "2606:4700::1111"
        ));
    }

    #[test]
    fn record_types_parse_case_insensitively() {
        let t: RecordType = serde_json::from_str("\"cname\"").unwrap();
        assert_eq!(t, RecordType::CNAME);
        assert!(serde_json::from_str::<RecordType>("\"MX\"").is_err());
        assert_eq!(
            serde_json::to_string(&RecordType::AAAA).unwrap(),
            "\"AAAA\""
        );
        let req: DnsCreate =
            serde_json::from_str(r#"{"name":"app","type":"a","proxied":false}"#).unwrap();
        assert_eq!(req.r#type, Some(RecordType::A));
        assert!(serde_json::from_str::<DnsCreate>(r#"{"name":"app","typo":1}"#).is_err());
    }
}
