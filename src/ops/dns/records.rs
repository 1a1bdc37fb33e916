//! `dns list`, `dns create`, `dns update` and `dns delete`: the record operations a user or
//! agent asks for by name, with their errors (not found, a conflicting record, records not
//! stackwiz's) and the next step each suggests.

use super::*;
use crate::cloudflare::{Cloudflare, Fields, Filter, Record, Zone};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ops::next::{DnsRecord, Hint, Next};
use crate::ops::Ctx;

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
    let ask = Asked::check(cfg, req)?;
    let budget = budget(ctx);
    let cf = Cloudflare::new(cfg, &budget)?;
    let (content, detected) = resolve_value(cfg, ask.kind, &ask.name, ask.value, &budget)?;
    let zone = cf.zone_for(&ask.name)?;
    let want = ask.fields(content);
    let existing = cf.list(&zone, &Filter::named(&ask.name))?;
    let (action, record, previous, changed) = match existing.iter().find(|r| same_record(r, &want))
    {
        Some(same) => mark_intent(&cf, &zone, same, &want, &ask)?,
        None => create_or_replace(&cf, &zone, req, &ask, &want, &existing)?,
    };
    let (ip_source, warning) = sourced(detected);
    Ok(DnsChange {
        action,
        zone,
        record: record.into(),
        previous: previous.map(RecordView::from),
        changed,
        ip_source,
        warning,
    })
}

/// What a `dns create` asks for, checked before any request.
struct Asked<'a> {
    name: String,
    kind: RecordType,
    proxied: bool,
    ttl: u32,
    owner: String,
    /// The value as given: `AUTO` (the default for A/AAAA) until resolved.
    value: &'a str,
    intent: Option<Intent>,
    comment: String,
}

impl<'a> Asked<'a> {
    fn check(cfg: &Config, req: &'a DnsCreate) -> Result<Asked<'a>> {
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
        let value =
            req.value
                .as_deref()
                .unwrap_or(if kind.family().is_some() { "AUTO" } else { "" });
        let intent = kind.family().map(|_| Intent::of_value(value));
        let comment = ownership_comment(&owner, intent, req.comment.as_deref())?;
        Ok(Asked {
            name,
            kind,
            proxied,
            ttl,
            owner,
            value,
            intent,
            comment,
        })
    }

    fn fields(&self, content: String) -> Fields {
        Fields {
            kind: Some(self.kind.as_str().into()),
            name: Some(self.name.clone()),
            content: Some(content),
            proxied: self.kind.proxiable().then_some(self.proxied),
            ttl: Some(self.ttl),
            comment: Some(self.comment.clone()),
        }
    }
}

/// What a create did: the action, the record now, the one before, the fields written.
type Outcome = (Action, Record, Option<Record>, Vec<&'static str>);

/// The record asked for is there already. Ours, but its comment says another intent (or
/// none): record what was asked now, so a value given by hand is never moved by `sync`. A
/// record not ours stays as is.
fn mark_intent(
    cf: &Cloudflare,
    zone: &Zone,
    same: &Record,
    want: &Fields,
    ask: &Asked,
) -> Result<Outcome> {
    let ours = Marker::of(same).is_some_and(|m| m.owner == ask.owner);
    let comment_only = Fields {
        comment: want.comment.clone(),
        ..Fields::default()
    };
    let stale = diff(same, &comment_only);
    if ours && ask.intent.is_some() && Marker::of(same).and_then(|m| m.intent) != ask.intent {
        let record = cf.patch(zone, same, &stale)?;
        return Ok((Action::Updated, record, Some(same.clone()), stale.names()));
    }
    Ok((Action::Unchanged, same.clone(), None, Vec::new()))
}

/// No identical record: create it when nothing at the name conflicts, replace the one
/// record of its type when asked to (`update`), else say what is in the way.
fn create_or_replace(
    cf: &Cloudflare,
    zone: &Zone,
    req: &DnsCreate,
    ask: &Asked,
    want: &Fields,
    existing: &[Record],
) -> Result<Outcome> {
    let kind = ask.kind;
    let at_name = |r: &&Record| match kind {
        RecordType::A | RecordType::AAAA => r.kind == "CNAME" || r.kind == kind.as_str(),
        RecordType::CNAME => matches!(r.kind.as_str(), "A" | "AAAA" | "CNAME"),
        RecordType::TXT => r.kind == "TXT",
    };
    let conflicts: Vec<&Record> = existing.iter().filter(at_name).collect();
    match conflicts.as_slice() {
        [] => match cf.create(zone, want) {
            Ok(record) => Ok((Action::Created, record, None, Vec::new())),
            // The record appeared during our POST: a retried POST whose first attempt had
            // landed (its answer lost), or a concurrent create. Either way it is there now.
            Err(e) if cloudflare_code(&e, &[81057, 81058]) => {
                let now = cf.list(zone, &Filter::named(&ask.name))?;
                let same = now.into_iter().find(|r| same_record(r, want)).ok_or(e)?;
                Ok((Action::Created, same, None, Vec::new()))
            }
            Err(e) => Err(e),
        },
        [old] if req.update && old.kind == kind.as_str() => {
            let diff = diff(old, want);
            let record = cf.patch(zone, old, &diff)?;
            Ok((Action::Updated, record, Some((*old).clone()), diff.names()))
        }
        _ => Err(conflict_error(req, kind, &conflicts)),
    }
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
    let (old, kind) = the_one_record(&name, req.r#type, &found)?;
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

/// The one record `dns update` changes, with its type: an error when the name holds none,
/// several, or one of a type stackwiz does not write.
fn the_one_record<'a>(
    name: &str,
    asked: Option<RecordType>,
    found: &'a [Record],
) -> Result<(&'a Record, RecordType)> {
    let old = match found {
        [one] => one,
        [] => return Err(not_found(name, asked)),
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
    Ok((old, kind))
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

pub(super) fn delete_records(
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
