//! One setting at a time by precedence (flag > environment > config file > default), each
//! recorded as an [`Entry`] with where its value came from, so that an error names what to
//! fix; and the typed readers (folders, seconds, booleans).

use std::path::PathBuf;

use super::file::ConfigFile;
use super::{Entry, Env};
use crate::error::{Error, Result};

pub(super) struct Resolver<'a> {
    pub(super) env: &'a Env,
    pub(super) file: &'a ConfigFile,
    pub(super) entries: Vec<Entry>,
}

impl Resolver<'_> {
    /// Where the resolved `key` came from (`flag --x`, `env X`, `file PATH`, `default`).
    pub(super) fn source(&self, key: &str) -> String {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| e.source.clone())
            .unwrap_or_default()
    }

    /// `key (from SOURCE)`: how errors name a setting, so the user knows what to fix.
    pub(super) fn named(&self, key: &str) -> String {
        format!("{key} (from {})", self.source(key))
    }

    /// A resolved value must be 1-128 characters each passing `ok(char, index)`; the error
    /// names the setting, where the value came from and the rule.
    pub(super) fn check(
        &self,
        key: &str,
        value: &str,
        rule: &str,
        ok: impl Fn(char, usize) -> bool,
    ) -> Result<()> {
        let valid = !value.is_empty()
            && value.len() <= 128
            && value.chars().enumerate().all(|(i, c)| ok(c, i));
        if valid {
            return Ok(());
        }
        Err(Error::invalid(
            self.named(key),
            format!("`{}` must match {rule}", crate::validate::printable(value)),
        ))
    }

    pub(super) fn pick_opt(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, String)>,
        var: &'static str,
    ) -> Option<String> {
        let found = if let Some((name, value)) = flag {
            Some((value, format!("flag {name}")))
        } else if let Some(value) = self.env.get(var) {
            Some((value.to_string(), format!("env {var}")))
        } else {
            self.file.get(key).map(|v| (v, self.file.source()))
        };
        let (value, source) = match &found {
            Some((value, source)) => (value.clone(), source.clone()),
            None => ("not set".into(), "default".into()),
        };
        self.entries.push(Entry {
            key,
            value,
            source,
            env_var: Some(var),
        });
        found.map(|(value, _)| value)
    }

    pub(super) fn pick(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, String)>,
        var: &'static str,
        default: impl FnOnce() -> String,
    ) -> String {
        match self.pick_opt(key, flag, var) {
            Some(value) => value,
            None => {
                let value = default();
                let entry = self.entries.last_mut().expect("pick_opt pushed an entry");
                entry.value = value.clone();
                value
            }
        }
    }

    /// A folder must be an absolute path: a relative one would depend on where stackwiz
    /// happens to run (stacks landing in `./5`, or wherever an MCP client starts us).
    pub(super) fn pick_dir(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, &PathBuf)>,
        var: &'static str,
        default: impl FnOnce() -> String,
    ) -> Result<PathBuf> {
        let flag = flag.map(|(name, p)| (name, p.display().to_string()));
        let dir = PathBuf::from(self.pick(key, flag, var, default));
        if dir.is_absolute() {
            Ok(dir)
        } else {
            Err(Error::invalid(
                self.named(key),
                format!(
                    "`{}` must be an absolute path (starting with /)",
                    crate::validate::printable(&dir.display().to_string())
                ),
            ))
        }
    }

    /// A time budget in seconds (a positive number, fractions allowed, at most a day).
    pub(super) fn pick_seconds(
        &mut self,
        key: &'static str,
        var: &'static str,
        default: u32,
    ) -> Result<std::time::Duration> {
        let value = self.pick(key, None, var, || default.to_string());
        value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0 && *s <= 86_400.0)
            .map(std::time::Duration::from_secs_f64)
            .ok_or_else(|| {
                Error::invalid(
                    self.named(key),
                    format!(
                        "`{}` is not a number of seconds from 0.001 to 86400",
                        crate::validate::printable(&value)
                    ),
                )
            })
    }

    /// A boolean (default false): 1/0, true/false, yes/no, on/off.
    pub(super) fn pick_bool(
        &mut self,
        key: &'static str,
        flag: Option<(&'static str, String)>,
        var: &'static str,
    ) -> Result<bool> {
        let value = self.pick(key, flag, var, || "false".into());
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            _ => Err(Error::invalid(
                self.named(key),
                format!(
                    "`{}` is not a boolean (use 1/0, true/false)",
                    crate::validate::printable(&value)
                ),
            )),
        }
    }
}
