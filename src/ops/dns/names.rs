//! DNS names as stackwiz takes them: a label under the default domain, `@`, or a full
//! hostname, checked and lowercased before any request; and the special-use names no public
//! zone can hold, refused (or skipped) without asking Cloudflare.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::validate::printable;

/// Special-use names (RFC 6761, RFC 8375, and the `.internal` TLD) that no public DNS zone
/// can hold: a record for them is never created at, or asked of, Cloudflare.
pub(super) const SPECIAL_USE: &[&str] = &[
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

/// A label (under the default domain), `@` (the default domain) or a full hostname, as the
/// lowercase full name Cloudflare stores. A trailing dot makes a name absolute, as in DNS:
/// `app.` is never taken as a label.
pub(super) fn full_name(cfg: &Config, name: &str) -> Result<String> {
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
pub(super) fn checked_host(field: &str, host: &str) -> Result<String> {
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
pub(super) fn absolute(domain: &str) -> String {
    format!("{}.", domain.trim().trim_end_matches('.'))
}

/// `host`, unless it is a special-use name no zone can hold: then an error, before any
/// request.
pub(super) fn public_host(field: &str, host: &str) -> Result<String> {
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

pub(super) fn special_use(field: &str, host: &str, instead: &str) -> Error {
    Error::invalid(
        field,
        format!(
            "{} is a special-use name no DNS zone can hold; {instead}",
            printable(host)
        ),
    )
}
