//! Record values and fields: the TTL rule, a value in Cloudflare's form (`AUTO` detected),
//! and the comparisons that make a write idempotent (an identical record costs no write; a
//! PATCH carries only the fields that differ).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::cloudflare::{Fields, Record, TTL_MAX, TTL_MIN, TTL_RULE};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::Budget;
use crate::ip;
use crate::validate::printable;

/// An AUTO value's source and warning, for reports.
pub(super) fn sourced(detected: Option<ip::Detected>) -> (Option<String>, Option<String>) {
    match detected {
        Some(d) => (Some(d.source), d.warning),
        None => (None, None),
    }
}

pub(super) fn checked_ttl(ttl: Option<u32>, proxied: bool) -> Result<Option<u32>> {
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

/// A record value in Cloudflare's form; `AUTO` (A/AAAA) is the detected public address
/// (returned with where it came from).
pub(super) fn resolve_value(
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
pub(super) fn same_record(r: &Record, want: &Fields) -> bool {
    Some(&r.kind) == want.kind.as_ref()
        && want
            .content
            .as_deref()
            .is_some_and(|c| same_content(&r.kind, &r.content, c))
        && want.proxied.map_or(true, |p| p == r.proxied)
        && want.ttl.map_or(true, |t| t == r.ttl)
}

pub(super) fn same_content(kind: &str, a: &str, b: &str) -> bool {
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
pub(super) fn diff(old: &Record, want: &Fields) -> Fields {
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
