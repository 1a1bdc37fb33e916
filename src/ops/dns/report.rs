//! The reports of the DNS operations: what each serializes to (`--json` and MCP
//! `structuredContent`, documented on each type) and how each reads on a terminal.

use std::fmt::Write as _;

use serde::Serialize;

use super::*;
use crate::cloudflare::{Record, Zone};
use crate::ip::Family;
use crate::ops::next::{DnsRecord, Next};
use crate::ops::Report;
use crate::validate::printable;

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
    pub(super) fn line(&self) -> String {
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
    pub(super) fn outside_every_zone(name: String, dry_run: bool) -> DnsDeleted {
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
