//! Compose's `.env` grammar, read and written: the one place that knows how Docker Compose
//! turns the bytes of a `.env` file (a stack's `.env`, an `--env-file`, Traefik's `.env`)
//! into names and values.
//!
//! The reader follows compose-go's `dotenv` package as Compose v2.40 uses it (compose-go
//! v2.9.1: `dotenv/parser.go`, `dotenv/godotenv.go`, and `template/template.go` for `$`),
//! statement by statement, including its odd corners: text after a closing quote starts a
//! new statement, `A= #x` is the value `#x`, a last line `FOO` without a newline is the value
//! of an empty name. What Compose refuses, [`parse`] refuses. What Compose reads, [`parse`]
//! reads the same, with one exception it says out loud instead of guessing: a value that
//! interpolates (`$VAR`, `${VAR:-x}`) or a bare `KEY` line takes its value from the
//! environment Compose happens to run in, so it comes back as [`Value::FromEnvironment`].
//! Two refusals are stricter than Compose, on purpose: text that is not UTF-8, and names
//! with non-ASCII letters (Go's and Rust's Unicode tables differ at the edges).
//!
//! The writer ([`line`]) picks a quoting that this reader, and so Compose, reads back as the
//! exact same value. Nothing here prints a value: errors name the line, never its text.

use std::fmt;

/// What Compose makes of one statement's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// The value, whatever environment Compose runs in.
    Exact(String),
    /// `$VAR` / `${VAR...}` in an unquoted or double-quoted value, or a bare `KEY` line:
    /// Compose fills it in from its own environment (and earlier lines) when it runs.
    FromEnvironment,
}

/// One `KEY=VALUE` (or `KEY: VALUE`, or bare `KEY`) statement, with where it sits in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub key: String,
    pub value: Value,
    /// 1-based line of the statement's first character.
    pub line: usize,
    /// Byte offsets into the text: the statement starts at `start` (at `export` or the key),
    /// its raw value (quotes included) is `value_start..end`; for a bare `KEY` both are the
    /// end of the key's line.
    pub start: usize,
    pub value_start: usize,
    pub end: usize,
}

/// Why Compose (or, where the module doc says so, stackwiz) refuses a `.env` text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Nested `${A:-${B:-...}}` deeper than this is refused rather than followed.
const MAX_NESTING: usize = 64;

/// Read `.env` bytes as Compose does (a leading UTF-8 BOM is skipped, as Compose does).
pub fn parse_bytes(bytes: &[u8]) -> Result<Vec<Statement>, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => Err(ParseError {
            line: line_at(bytes, e.valid_up_to()),
            message: "the file is not UTF-8 text (stackwiz reads only UTF-8 .env files)".into(),
        }),
    }
}

fn line_at(bytes: &[u8], at: usize) -> usize {
    1 + bytes[..at.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// Go's `isSpace` in compose-go's parser: blanks, but not the line break.
fn is_blank(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// Read `.env` text as Compose does; the statements in file order (a later one for the same
/// key wins, as in Compose).
pub fn parse(text: &str) -> Result<Vec<Statement>, ParseError> {
    let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let src = &text[base..];
    let mut out = Vec::new();
    let mut pos = 0;
    // Lines are counted as we go: `line` is the line of `line_pos`.
    let mut line = 1;
    let mut line_pos = 0;
    let mut line_of = |at: usize| {
        line += src[line_pos..at].matches('\n').count();
        line_pos = at;
        line
    };
    loop {
        // The start of the next statement: skip whitespace (line breaks included) and
        // `#` comment lines.
        loop {
            match src[pos..].find(|c: char| !c.is_whitespace()) {
                None => return Ok(out),
                Some(i) => pos += i,
            }
            if !src[pos..].starts_with('#') {
                break;
            }
            match src[pos..].find('\n') {
                None => return Ok(out),
                Some(i) => pos += i,
            }
        }
        let start = pos;
        let at_line = line_of(start);
        let fail = |message: String| ParseError {
            line: at_line,
            message,
        };

        // `export` followed by Go's `\s` ([\t\n\f\r ]), then blanks.
        let mut key_start = start;
        let rest = &src[start..];
        if rest.starts_with("export") && rest[6..].starts_with(['\t', '\n', '\u{c}', '\r', ' ']) {
            key_start += 6;
            key_start += src[key_start..]
                .find(|c: char| !is_blank(c))
                .unwrap_or(src.len() - key_start);
        }

        // The name runs to `=`, `:` (YAML style) or a line break (a bare, inherited name).
        let mut terminator = None;
        for (i, c) in src[key_start..].char_indices() {
            match c {
                '=' | ':' | '\n' => {
                    terminator = Some((key_start + i, c));
                    break;
                }
                c if is_blank(c) => {}
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_ascii_alphanumeric() => {}
                c if c.is_alphabetic() || c.is_numeric() => {
                    return Err(fail(format!(
                        "the name holds `{}`: stackwiz reads only names of ASCII letters, \
                         digits and _ . - [ ]",
                        c.escape_default()
                    )))
                }
                c => {
                    return Err(fail(format!(
                        "unexpected character `{}` in a variable name (names are letters, \
                         digits and _ . - [ ]; a value goes after `=`)",
                        c.escape_default()
                    )))
                }
            }
        }
        // No terminator before the end of the text: Compose reads the whole rest as the
        // value of an empty name.
        let (key, value_from, inherited) = match terminator {
            Some((at, c)) => (&src[key_start..at], at + 1, c == '\n'),
            None => ("", key_start, false),
        };
        let key = key.trim_end_matches(char::is_whitespace);
        if key.contains(' ') {
            return Err(fail("a key cannot contain a space".into()));
        }
        let value_start = value_from
            + src[value_from..]
                .find(|c: char| !is_blank(c))
                .unwrap_or(src.len() - value_from);
        if inherited {
            // `value_from` is just past the line break.
            out.push(Statement {
                key: key.to_string(),
                value: Value::FromEnvironment,
                line: at_line,
                start: base + start,
                value_start: base + value_from - 1,
                end: base + value_from - 1,
            });
            pos = value_start;
            continue;
        }
        let (value, end, next) = value_at(src, value_start).map_err(|(at, message)| {
            let line = at_line + src[start..at].matches('\n').count();
            ParseError { line, message }
        })?;
        out.push(Statement {
            key: key.to_string(),
            value,
            line: at_line,
            start: base + start,
            value_start: base + value_start,
            end: base + end,
        });
        pos = next;
    }
}

/// The value starting at `at`: (value, end of its raw text, where parsing goes on).
/// An error carries the offset it is about.
fn value_at(src: &str, at: usize) -> Result<(Value, usize, usize), (usize, String)> {
    let rest = &src[at..];
    let quote = match rest.chars().next() {
        Some(q @ ('\'' | '"')) => q,
        _ => {
            // Unquoted: to the end of the line, cut at the first ` #`, blanks trimmed.
            let (raw, next) = match rest.find('\n') {
                Some(i) => (&rest[..i], at + i + 1),
                None => (rest, src.len()),
            };
            let value = raw.split(" #").next().unwrap_or_default();
            let value = value.trim_end_matches(char::is_whitespace);
            let value = interpolate(value).map_err(|m| (at, m))?;
            return Ok((value, at + raw.len(), next));
        }
    };
    // Quoted: a backslash escapes the quote (and is dropped); before anything else it
    // stays. Single quotes stop there; double quotes go on to escapes and interpolation.
    let mut chars = String::new();
    let mut escaped = false;
    for (i, c) in rest.char_indices().skip(1) {
        if c != quote {
            if !escaped && c == '\\' {
                escaped = true;
                continue;
            }
            if escaped {
                escaped = false;
                chars.push('\\');
            }
            chars.push(c);
            continue;
        }
        if escaped {
            escaped = false;
            chars.push(c);
            continue;
        }
        let value = if quote == '"' {
            interpolate(&expand_escapes(&chars)).map_err(|m| (at, m))?
        } else {
            Value::Exact(chars)
        };
        let end = at + i + 1;
        return Ok((value, end, end));
    }
    Err((at, "unterminated quoted value".into()))
}

/// compose-go's `expandEscapes`: `\a \b \f \n \r \t \v \\ \"`, `\$` (kept for interpolation
/// as `$$`), and `\0NNN` octal; every other backslash stays as written.
fn expand_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let simple = match tail.chars().next() {
            Some('a') => Some("\u{7}"),
            Some('b') => Some("\u{8}"),
            Some('f') => Some("\u{c}"),
            Some('n') => Some("\n"),
            Some('r') => Some("\r"),
            Some('t') => Some("\t"),
            Some('v') => Some("\u{b}"),
            Some('\\') => Some("\\"),
            Some('"') => Some("\""),
            Some('$') => Some("$$"),
            // Matched by compose-go's pattern, but not an escape Go knows: kept.
            Some('c') => Some("\\c"),
            _ => None,
        };
        if let Some(s) = simple {
            out.push_str(s);
            rest = &tail[1..];
            continue;
        }
        if let Some(digits) = tail.strip_prefix('0') {
            // `\0` and up to three digits, rewritten as `\` and the digits; Go reads `\NNN`
            // with exactly three octal digits up to 255, and leaves anything else as
            // rewritten (so `\0` alone becomes `\`, `\012` becomes `\12`).
            let n = digits
                .bytes()
                .take(3)
                .take_while(u8::is_ascii_digit)
                .count();
            let d = &digits[..n];
            let octal = n == 3 && d.bytes().all(|b| (b'0'..=b'7').contains(&b));
            match u32::from_str_radix(d, 8)
                .ok()
                .filter(|v| octal && *v <= 255)
            {
                Some(v) => out.push(char::from_u32(v).unwrap_or('\u{fffd}')),
                None => {
                    out.push('\\');
                    out.push_str(d);
                }
            }
            rest = &digits[n..];
            continue;
        }
        out.push('\\');
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// A letter of compose-go's case-insensitive `[_a-z]`, which Go's case folding widens by
/// `ſ` (U+017F) and the Kelvin sign (U+212A).
fn name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || c == '\u{17f}' || c == '\u{212a}'
}

fn name_char(c: char) -> bool {
    name_start(c) || c.is_ascii_digit()
}

/// compose-go's interpolation of a value (its `template` pattern), without an environment:
/// `$$` is `$`; `$NAME`, `${NAME}` and `${NAME<op>...}` make the value depend on the
/// environment; `${` that starts none of these is an error; a `$` before anything else stays.
fn interpolate(value: &str) -> Result<Value, String> {
    interpolate_at(value, 0).map(|v| v.map_or(Value::FromEnvironment, Value::Exact))
}

/// `Ok(None)` when the value depends on the environment.
fn interpolate_at(value: &str, depth: usize) -> Result<Option<String>, String> {
    let mut out = String::with_capacity(value.len());
    let mut from_env = false;
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let mut next = after.chars();
        match next.next() {
            Some('$') => {
                out.push('$');
                rest = &after[1..];
            }
            Some(c) if name_start(c) => {
                from_env = true;
                let n = after.find(|c: char| !name_char(c)).unwrap_or(after.len());
                rest = &after[n..];
            }
            Some('{') => {
                let inner = &after[1..];
                match braced(inner) {
                    Some(len) => {
                        from_env = true;
                        // compose-go cuts the match at its first closing brace (counted its
                        // way) and interpolates the text after the operator whatever the
                        // environment holds: an invalid `${` in it fails in every environment.
                        // The rest of the match after that brace is interpolated on its own
                        // (when `?` finds no value Compose fails anyway); it ends where the
                        // match ends, so scanning on from the brace finds the same references.
                        let matched = &rest[i..i + 2 + len + 1];
                        let body = match first_closing_brace(matched).map(|c| c - 2) {
                            Some(c) if c < len => &inner[..c],
                            _ => &inner[..len],
                        };
                        if let Some(op) = body.find([':', '-', '+', '?']) {
                            let arg = body[op..].strip_prefix(':').unwrap_or(&body[op..]);
                            let arg = arg.get(1..).unwrap_or_default();
                            if depth >= MAX_NESTING {
                                return Err("`${...}` nested too deeply".into());
                            }
                            interpolate_at(arg, depth + 1)?;
                        }
                        rest = &inner[body.len() + 1..];
                    }
                    None => {
                        return Err("`${` starts no valid ${NAME} reference (Compose refuses \
                                    it); write $$ for a literal $"
                            .into())
                    }
                }
            }
            // `$` before anything else (a digit, a blank, the end) is kept as written.
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok((!from_env).then_some(out))
}

/// The length of the body of a valid `${NAME...}` (the text after `${` up to its closing
/// brace, which compose-go's greedy pattern takes as the last `}` on the line when an
/// operator follows the name), or None.
fn braced(inner: &str) -> Option<usize> {
    let mut chars = inner.char_indices();
    match chars.next() {
        Some((_, c)) if name_start(c) => {}
        _ => return None,
    }
    let name_end = inner.find(|c: char| !name_char(c)).unwrap_or(inner.len());
    let after = &inner[name_end..];
    let op = after.strip_prefix(':').unwrap_or(after);
    if op.starts_with(['-', '+', '?']) {
        let line_end = inner.find('\n').unwrap_or(inner.len());
        let from = name_end + (after.len() - op.len()) + 1;
        if let Some(close) = inner[from..line_end].rfind('}') {
            return Some(from + close);
        }
    }
    after.starts_with('}').then_some(name_end)
}

/// compose-go's `getFirstBraceClosingIndex` (it skips the character after each `{`).
fn first_closing_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut open = 0usize;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            open = open.wrapping_sub(1);
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'{' {
            open = open.wrapping_add(1);
            i += 1;
        }
        i += 1;
    }
    None
}

/// One `KEY=VALUE` line (without its newline) that Compose reads back as exactly `value`.
/// `key` must already be a valid name; `value` may hold anything, line breaks included.
pub fn line(key: &str, value: &str) -> String {
    format!("{key}={}", quote(value))
}

/// The quoting [`line`] uses: bare when nothing in the value is special, single quotes
/// when that is literal (no `'`, no trailing `\`, no control character), else double quotes
/// with `\\ \" \$ \n \r \t` escapes (the only characters double quotes treat specially).
pub fn quote(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@+,%=".contains(c);
    if value.chars().all(plain) {
        return value.to_string();
    }
    if !value.contains('\'') && !value.ends_with('\\') && !value.chars().any(char::is_control) {
        return format!("'{value}'");
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
