//! The config file: where it is found (`--config`, `STACKWIZ_CONFIG`, the user's, the
//! system's), the keys it may hold with their TOML types, and errors that name its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Env, Overrides};
use crate::error::{Error, Result};

/// What TOML type a config file key takes. Paths and names are strings only: `base_dir = 5`
/// is a mistake, not the folder `5`.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    /// `true`/`false`, or a string such as "yes".
    Bool,
    /// An array of strings, or one comma-separated string.
    List,
    /// A number (or a string holding one).
    Number,
}

/// Keys the config file may hold, top level and under [dns].
const FILE_KEYS: &[(&str, Kind)] = &[
    ("base_dir", Kind::Str),
    ("templates_dir", Kind::Str),
    ("scripts_dir", Kind::Str),
    ("default_user", Kind::Str),
    ("default_group", Kind::Str),
    ("default_domain", Kind::Str),
    ("network", Kind::Str),
    ("traefik_entrypoint", Kind::Str),
    ("traefik_certresolver", Kind::Str),
    ("docker", Kind::Str),
    ("context", Kind::Str),
    ("docker_timeout", Kind::Number),
    ("read_only", Kind::Bool),
];
const DNS_KEYS: &[(&str, Kind)] = &[
    ("api_token", Kind::Str),
    ("api_token_file", Kind::Str),
    ("api_url", Kind::Str),
    ("ip_services", Kind::List),
    ("public_ip", Kind::Str),
    ("allow_private_ip", Kind::Bool),
    ("zone_id", Kind::Str),
];

fn key_names(keys: &[(&str, Kind)]) -> String {
    keys.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

#[derive(Clone, Default)]
pub(super) struct ConfigFile {
    pub(super) path: Option<PathBuf>,
    pub(super) found_by: String,
    values: BTreeMap<String, String>,
}

impl ConfigFile {
    pub(super) fn find_and_read(overrides: &Overrides, env: &Env) -> Result<ConfigFile> {
        let explicit = overrides
            .config
            .clone()
            .map(|p| (p, "flag --config"))
            .or_else(|| {
                env.get("STACKWIZ_CONFIG")
                    .map(|p| (PathBuf::from(p), "env STACKWIZ_CONFIG"))
            });
        if let Some((path, by)) = explicit {
            let bytes =
                std::fs::read(&path).map_err(|e| Error::io("read config file", &path, e))?;
            let text = config_text(&path, bytes)?;
            return ConfigFile::parse(path, by.into(), &text);
        }
        let xdg = env
            .get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".config")));
        let candidates = xdg
            .map(|d| (d.join("stackwiz/config.toml"), "user config"))
            .into_iter()
            .chain([(PathBuf::from("/etc/stackwiz/config.toml"), "system config")]);
        for (path, by) in candidates {
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let text = config_text(&path, bytes)?;
                    return ConfigFile::parse(path, by.into(), &text);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("read config file", &path, e)),
            }
        }
        Ok(ConfigFile {
            path: None,
            found_by: "none found".into(),
            values: BTreeMap::new(),
        })
    }

    fn parse(path: PathBuf, found_by: String, text: &str) -> Result<ConfigFile> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::Config {
            path: path.clone(),
            line: e.span().map(|s| line_of(text, s.start)),
            key: None,
            message: one_line(e.message()),
        })?;
        let mut values = BTreeMap::new();
        let bad = |key: &str, message: String| Error::Config {
            path: path.clone(),
            line: find_key_line(text, key),
            key: Some(crate::validate::printable(key)),
            message,
        };
        for (key, value) in &table {
            if key == "dns" {
                let dns = value
                    .as_table()
                    .ok_or_else(|| bad("dns", "must be a table ([dns])".into()))?;
                for (k, v) in dns {
                    let full = format!("dns.{k}");
                    let Some((_, kind)) = DNS_KEYS.iter().find(|(name, _)| name == k) else {
                        return Err(bad(
                            &full,
                            format!("unknown key (known: {})", key_names(DNS_KEYS)),
                        ));
                    };
                    values.insert(full.clone(), typed(v, *kind).map_err(|m| bad(&full, m))?);
                }
            } else if let Some((_, kind)) = FILE_KEYS.iter().find(|(name, _)| name == key) {
                values.insert(key.clone(), typed(value, *kind).map_err(|m| bad(key, m))?);
            } else {
                return Err(bad(
                    key,
                    format!("unknown key (known: {}, [dns])", key_names(FILE_KEYS)),
                ));
            }
        }
        Ok(ConfigFile {
            path: Some(path),
            found_by,
            values,
        })
    }

    pub(super) fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).cloned()
    }

    pub(super) fn source(&self) -> String {
        match &self.path {
            Some(p) => format!("file {}", p.display()),
            None => "file".into(),
        }
    }
}

/// A file value as the string the resolver works with, if it has the key's type.
fn typed(value: &toml::Value, kind: Kind) -> std::result::Result<String, String> {
    match (kind, value) {
        (_, toml::Value::String(s)) => Ok(s.clone()),
        (Kind::Bool, toml::Value::Boolean(b)) => Ok(b.to_string()),
        (Kind::Number, toml::Value::Integer(n)) => Ok(n.to_string()),
        (Kind::Number, toml::Value::Float(n)) => Ok(n.to_string()),
        (Kind::List, toml::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| format!("array items must be strings, not {}", i.type_str()))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        (Kind::Str, other) => Err(format!(
            "must be a string (in quotes), not {}",
            other.type_str()
        )),
        (Kind::Bool, other) => Err(format!("must be true or false, not {}", other.type_str())),
        (Kind::Number, other) => Err(format!("must be a number, not {}", other.type_str())),
        (Kind::List, other) => Err(format!(
            "must be an array of strings or a string, not {}",
            other.type_str()
        )),
    }
}

/// toml's messages span lines (the problem, then what was expected); errors are one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A config file's bytes as text: TOML is UTF-8, so anything else is a file that cannot be
/// parsed (exit 2, naming the file and the line), not a failure to read it.
fn config_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::Config {
            path: path.to_path_buf(),
            line: Some(line),
            key: None,
            message: format!("not UTF-8 text (invalid byte at offset {at}); save it as UTF-8"),
        }
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line that sets `key` (`dns.x` is looked for under `[dns]`, or written out as `dns.x`),
/// or its table header.
fn find_key_line(text: &str, key: &str) -> Option<usize> {
    let assigns = |line: &str, name: &str| {
        line.trim_start()
            .strip_prefix(name)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let header = |line: &str| {
        let l = line.trim();
        l.starts_with('[').then(|| {
            let name = l.trim_start_matches('[').split(']').next().unwrap_or("");
            name.trim().to_string()
        })
    };
    let (table, bare) = match key.split_once('.') {
        Some((table, bare)) => (Some(table), bare),
        None => (None, key),
    };
    let mut current: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(name) = header(line) {
            if table.is_none() && name == key {
                return Some(i + 1);
            }
            current = Some(name);
            continue;
        }
        let here = match (table, &current) {
            (None, None) => assigns(line, bare),
            (Some(_), None) => assigns(line, key),
            (Some(t), Some(c)) => c == t && assigns(line, bare),
            (None, Some(_)) => false,
        };
        if here {
            return Some(i + 1);
        }
    }
    None
}
