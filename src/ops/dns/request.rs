//! The requests of the DNS operations, as both faces build them: the record types stackwiz
//! writes, and one struct per operation that deserializes straight from MCP tool arguments
//! (unknown fields are rejected so a misspelt argument is not silently ignored).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ip::Family;
use crate::validate::printable;

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

    pub(super) fn proxiable(self) -> bool {
        self != RecordType::TXT
    }

    /// The address family an `AUTO` value needs, for A and AAAA.
    pub(super) fn family(self) -> Option<Family> {
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
