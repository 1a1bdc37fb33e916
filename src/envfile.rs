//! Writing `.env` lines that Compose reads back exactly, and showing `.env` text redacted.
//!
//! Compose's dotenv parser (compose-go) strips ` #` comments and interpolates `$VAR` in
//! unquoted values, takes single-quoted values literally (but a backslash before the closing
//! quote escapes it), and expands escapes and variables in double-quoted values. So a value
//! is written bare only when it holds nothing special, single-quoted when it holds no `'`
//! and does not end in `\`, and double-quoted with `\\`, `\"` and `\$` escapes otherwise.
//! Values are never shown: [`redact`] replaces them with `****`.

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

/// `.env` text with every value replaced by `****`, for dry runs and agents.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for l in text.lines() {
        match assignment(l) {
            Some((key, value)) if !value.is_empty() => {
                out.push_str(&l[..l.find(key).unwrap_or(0)]);
                out.push_str(key);
                out.push_str("=****");
            }
            _ => out.push_str(l),
        }
        out.push('\n');
    }
    out
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
    fn redaction_hides_every_value() {
        let text = "# comment\nA=secret\nexport B='x y'\nC=\n\nnot a line\n";
        assert_eq!(
            redact(text),
            "# comment\nA=****\nexport B=****\nC=\n\nnot a line\n"
        );
        assert_eq!(keys(text), ["A", "B", "C"]);
        assert_eq!(
            without_keys(text, &["A"]),
            "# comment\nexport B='x y'\nC=\n\nnot a line\n"
        );
    }
}
