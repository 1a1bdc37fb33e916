//! Writing `.env` lines that Compose reads back exactly, reading `.env` files as Compose
//! does, and showing `.env` text (or anything that may quote it) with every value hidden.
//!
//! Compose's dotenv parser (compose-go) strips ` #` comments and interpolates `$VAR` in
//! unquoted values, takes single-quoted values literally (but a backslash before the closing
//! quote escapes it), and expands escapes and variables in double-quoted values. So a value
//! is written bare only when it holds nothing special, single-quoted when it holds no `'`
//! and does not end in `\`, and double-quoted with `\\`, `\"` and `\$` escapes otherwise.
//! Values are never shown: [`redact`] replaces them with `****`.

use crate::error::{Error, Result};

/// One `KEY=VALUE` line (without the newline). The key and value are already validated
/// (no line breaks, no NUL).
pub fn line(key: &str, value: &str) -> String {
    format!("{key}={}", quote(value))
}

fn quote(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@+,%=".contains(c);
    if value.chars().all(plain) {
        value.to_string()
    } else if !value.contains('\'') && !value.ends_with('\\') {
        format!("'{value}'")
    } else {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('"');
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '$' => out.push_str("\\$"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

/// The keys a `.env` text assigns, in order (comments and blank lines skipped).
pub fn keys(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(assignment)
        .map(|(k, _)| k.to_string())
        .collect()
}

/// `.env` text with every value replaced by `****`, for dry runs and agents. An allow-list:
/// blank lines and comments stay, assignments show their key, and any other line (a
/// continuation of a quoted multi-line value, a `KEY: value` form) is hidden whole.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for l in text.lines() {
        let t = l.trim_start();
        match assignment(l) {
            Some((key, value)) if !value.is_empty() => {
                out.push_str(&l[..l.find(key).unwrap_or(0)]);
                out.push_str(key);
                out.push_str("=****");
            }
            Some(_) => out.push_str(l),
            None if t.is_empty() || t.starts_with('#') => out.push_str(l),
            None => out.push_str("****"),
        }
        out.push('\n');
    }
    out
}

/// Hide every value the `.env` text assigns wherever it appears in `message`, in every form
/// docker and Compose print values in (see [`crate::scrub`]).
pub fn scrub(message: &str, env_text: &str) -> String {
    scrubber(env_text, &[]).scrub(message).into_owned()
}

/// The gate for output about a stack whose `.env` is `env_text`; `public` are names that
/// stay shown even when a value repeats them (the Compose project name).
pub fn scrubber(env_text: &str, public: &[&str]) -> crate::scrub::Scrubber {
    crate::scrub::Scrubber::new(secret_values(env_text), public)
}

/// Keys whose values are never secret and turn up everywhere (`UTC` in every log line).
const NOT_SECRET: &[&str] = &["TZ", "LANG", "LC_ALL", "PUID", "PGID", "UMASK"];

/// Every value a `.env` text may hold, for scrubbing: each assignment's value as written and
/// as Compose reads it, and any line that is neither an assignment nor a comment (a
/// continuation of a multi-line value). Values shorter than 3 characters are left by the
/// scrubber: they are no secrets, and hiding them would garble the message.
fn secret_values(env_text: &str) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for l in env_text.lines() {
        let t = l.trim();
        match assignment(l) {
            Some((key, _)) if NOT_SECRET.contains(&key) => {}
            Some((_, raw)) => {
                let raw = raw.trim();
                values.push(raw.to_string());
                if let Ok(v) = dotenv_value(raw) {
                    values.push(v);
                }
            }
            None if t.is_empty() || t.starts_with('#') => {}
            None => values.push(t.to_string()),
        }
    }
    values
}

/// `KEY=VALUE` (optionally after `export `), or None for comments and other lines.
fn assignment(l: &str) -> Option<(&str, &str)> {
    let t = l.trim_start();
    if t.starts_with('#') {
        return None;
    }
    let t = t.strip_prefix("export ").unwrap_or(t);
    let (key, value) = t.split_once('=')?;
    let key = key.trim_end();
    crate::validate::env_key(key).ok()?;
    Some((key, value))
}

/// Remove the lines that assign one of `keys` (so `--env` can override a template default).
pub fn without_keys(text: &str, keys: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    for l in text.lines() {
        if assignment(l).is_some_and(|(k, _)| keys.contains(&k)) {
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// `--env-file`: KEY=VALUE lines read the way Compose reads a `.env` file: `#` comments,
/// blank lines and `export ` allowed; 'single quotes' literal; "double quotes" with `\\`,
/// `\"` and `\$` escapes; unquoted values end at ` #`. A `$` that Compose would interpolate
/// is refused rather than read differently from Compose.
pub fn read(path: &std::path::Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read env file", path, e))?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = t.strip_prefix("export ").unwrap_or(t);
        let Some((k, v)) = t.split_once('=') else {
            return Err(Error::invalid(
                "env-file",
                format!("{} line {}: expected KEY=VALUE", path.display(), i + 1),
            ));
        };
        let at = |why: &str| {
            Error::invalid(
                "env-file",
                format!("{} line {}: {why}", path.display(), i + 1),
            )
        };
        pairs.push((
            k.trim().to_string(),
            dotenv_value(v.trim_start()).map_err(at)?,
        ));
    }
    Ok(pairs)
}

/// One value of a `.env` line, as Compose reads it (see [`read`]).
fn dotenv_value(raw: &str) -> std::result::Result<String, &'static str> {
    const DOLLAR: &str = "a `$` here would be interpolated by Compose; single-quote the value \
                          (or write \\$ inside double quotes)";
    let rest_ok = |rest: &str| {
        let rest = rest.trim_start();
        rest.is_empty() || rest.starts_with('#')
    };
    if let Some(inner) = raw.strip_prefix('\'') {
        let end = inner.find('\'').ok_or("unclosed single quote")?;
        return if rest_ok(&inner[end + 1..]) {
            Ok(inner[..end].to_string())
        } else {
            Err("text after the closing quote")
        };
    }
    if let Some(inner) = raw.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = inner.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    return if rest_ok(&inner[i + 1..]) {
                        Ok(out)
                    } else {
                        Err("text after the closing quote")
                    }
                }
                '$' => return Err(DOLLAR),
                '\\' => match chars.next() {
                    Some((_, e @ ('\\' | '"' | '$'))) => out.push(e),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => return Err("unclosed double quote"),
                },
                c => out.push(c),
            }
        }
        return Err("unclosed double quote");
    }
    let value = raw.split(" #").next().unwrap_or_default().trim_end();
    if value.contains('$') {
        return Err(DOLLAR);
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_picks_the_simplest_safe_form() {
        assert_eq!(line("A", "plain-1.2:x@y"), "A=plain-1.2:x@y");
        assert_eq!(line("A", ""), "A=");
        assert_eq!(
            line("A", "has space # and $HOME"),
            "A='has space # and $HOME'"
        );
        assert_eq!(line("A", "it's"), r#"A="it's""#);
        assert_eq!(line("A", r#"a\ "b" $X"#), r#"A='a\ "b" $X'"#);
        assert_eq!(line("A", r"ends\"), r#"A="ends\\""#);
        assert_eq!(line("A", r#"it's "$X" \"#), r#"A="it's \"\$X\" \\""#);
    }

    #[test]
    fn lines_redaction_does_not_understand_are_hidden_whole() {
        let text = "MULTI=\"line1\nSECRET_LINE2\"\nweird.key=SECRET_DOT\nCOLON: SECRET_COLON\n";
        let shown = redact(text);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(shown, "MULTI=****\n****\n****\n****\n");
    }

    #[test]
    fn scrub_hides_env_values_quoted_in_messages() {
        let env = "PORTX=notaport_SECRET9\nQ='it is $ecret'\nTZ=UTC\nN=1\nP='pw\"SE\\CRET'\n";
        let msg = "invalid hostPort: notaport_SECRET9; saw it is $ecret in UTC at 1";
        assert_eq!(
            scrub(msg, env),
            "invalid hostPort: ****; saw **** in UTC at 1"
        );
        // Compose quotes the value Go-style: pw"SE\CRET is printed as "pw\"SE\\CRET".
        assert_eq!(
            scrub(r#"invalid hostPort: "pw\"SE\\CRET""#, env),
            r#"invalid hostPort: "****""#
        );
    }

    #[test]
    fn redaction_hides_every_value() {
        let text = "# comment\nA=secret\nexport B='x y'\nC=\n\nnot a line\n";
        assert_eq!(
            redact(text),
            "# comment\nA=****\nexport B=****\nC=\n\n****\n"
        );
        assert_eq!(keys(text), ["A", "B", "C"]);
        assert_eq!(
            without_keys(text, &["A"]),
            "# comment\nexport B='x y'\nC=\n\nnot a line\n"
        );
    }
}
