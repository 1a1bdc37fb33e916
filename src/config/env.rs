//! The environment as stackwiz sees it: a snapshot of the variables ([`Env`]), taken once so
//! tests can hand one in, and the refusal of a setting that is not UTF-8 (which the snapshot
//! would otherwise drop without a word).

use std::collections::BTreeMap;

use super::Overrides;
use crate::error::{Error, Result};

/// A snapshot of the environment variables stackwiz cares about.
#[derive(Clone, Debug, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect())
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env(pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect())
    }

    /// A set, non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// A setting that is not UTF-8 would be dropped by [`Env`] (and a folder flag mangled), and
/// the default used in its place: a different base dir without a word. Refuse it instead.
pub(super) fn refuse_non_utf8(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    overrides: &Overrides,
) -> Result<()> {
    let refuse = |name: &str, value: &std::ffi::OsStr| {
        Error::invalid(
            name,
            format!(
                "`{}` is not valid UTF-8; stackwiz does not guess what it means (use a UTF-8 \
                 name)",
                crate::validate::printable(&value.to_string_lossy())
            ),
        )
    };
    for (key, value) in vars {
        let Some(key) = key.to_str() else { continue };
        if (key.starts_with("STACKWIZ_") || key == "DOCKER_CONTEXT") && value.to_str().is_none() {
            return Err(refuse(key, &value));
        }
    }
    for (flag, path) in [
        ("--config", &overrides.config),
        ("--base-dir", &overrides.base_dir),
        ("--templates-dir", &overrides.templates_dir),
    ] {
        if let Some(p) = path.as_ref().filter(|p| p.to_str().is_none()) {
            return Err(refuse(flag, p.as_os_str()));
        }
    }
    Ok(())
}
