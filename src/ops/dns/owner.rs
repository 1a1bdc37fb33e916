//! Ownership: the `stackwiz:<owner>[ ip=auto|ip=fixed][ note]` comment that marks a record
//! as stackwiz's own and says where an A/AAAA record's value came from; writing it, and
//! reading it back. Nothing here speaks to Cloudflare.

use serde::Serialize;

use crate::cloudflare::Record;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::validate::printable;

/// The comment prefix that marks a record as stackwiz's own.
pub const OWNER_PREFIX: &str = "stackwiz:";
/// The comment tokens after the owner that say where an A/AAAA record's value came from.
pub(super) const AUTO_TOKEN: &str = "ip=auto";
pub(super) const FIXED_TOKEN: &str = "ip=fixed";
/// Cloudflare's comment limit on the free plan.
pub(super) const MAX_COMMENT: usize = 100;

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
    pub(super) fn of_value(value: &str) -> Intent {
        if value.trim().eq_ignore_ascii_case("auto") {
            Intent::Auto
        } else {
            Intent::Fixed
        }
    }

    pub(super) fn token(self) -> &'static str {
        match self {
            Intent::Auto => AUTO_TOKEN,
            Intent::Fixed => FIXED_TOKEN,
        }
    }
}

/// A stackwiz comment read back: `stackwiz:<owner>[ ip=auto|ip=fixed][ note]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Marker<'a> {
    pub(super) owner: &'a str,
    /// `None` for a marker from before stackwiz recorded it (or a record not A/AAAA).
    pub(super) intent: Option<Intent>,
    pub(super) note: Option<&'a str>,
}

impl<'a> Marker<'a> {
    pub(super) fn of(record: &'a Record) -> Option<Marker<'a>> {
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

/// The owner named in a record's comment: `stackwiz:<owner>[ ip=...][ free text]`.
pub fn owner_of(record: &Record) -> Option<&str> {
    Marker::of(record).map(|m| m.owner)
}

/// The owner for a record created without a stack: the label under the default domain,
/// else the full name.
pub(super) fn default_owner(cfg: &Config, name: &str) -> String {
    let suffix = format!(".{}", cfg.default_domain.to_ascii_lowercase());
    match name.strip_suffix(&suffix) {
        Some(label) if !label.contains('.') && label != "*" => label.to_string(),
        _ => name.to_string(),
    }
}

/// `stackwiz:<owner>[ ip=auto|ip=fixed][ extra]` (the intent only for A/AAAA records).
pub(super) fn ownership_comment(
    owner: &str,
    intent: Option<Intent>,
    extra: Option<&str>,
) -> Result<String> {
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
