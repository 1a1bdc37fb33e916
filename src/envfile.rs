//! A stack's `.env` as stackwiz handles it: written so Compose reads back exactly the values
//! given, read (`--env-file`) the way Compose reads it, and shown (or anything that may quote
//! it) with every value hidden. The grammar itself lives in [`crate::dotenv`], one reader
//! for every `.env` stackwiz looks at.
//!
//! Values are never shown: [`redact`] replaces them with `****`, and errors name a file and
//! a line, never the text on it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::dotenv::{self, Statement, Value};
use crate::error::{Error, Result};

/// One `KEY=VALUE` line (without the newline) that Compose reads back as exactly `value`.
/// The key is already validated.
pub fn line(key: &str, value: &str) -> String {
    dotenv::line(key, value)
}

/// `.env` text with every value replaced by `****`, for dry runs and agents. Names,
/// comments and blank lines stay; a bare `NAME` line is hidden too (it may be a pasted
/// secret). Text Compose cannot read is hidden line by line.
pub fn redact(text: &str) -> String {
    let Ok(statements) = dotenv::parse(text) else {
        let hide = |l: &str| if l.trim().is_empty() { "\n" } else { "****\n" };
        return text.lines().map(hide).collect();
    };
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in &statements {
        if s.value_start == s.end && s.value == Value::FromEnvironment {
            out.push_str(&text[at..s.start]);
            out.push_str("****");
        } else {
            out.push_str(&text[at..s.value_start]);
            if s.value_start < s.end {
                out.push_str("****");
            }
        }
        at = s.end;
    }
    out.push_str(&text[at..]);
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

/// Every value a `.env` text may hold, for scrubbing: each statement's value as written
/// (quotes included) and as Compose reads it, each line of a multi-line value, and, for a
/// text that is not Compose's grammar (edited by hand), whatever follows a `=` and any line
/// that is neither an assignment nor a comment. Values shorter than 3 characters are left by
/// the scrubber: they are no secrets, and hiding them would garble the message.
fn secret_values(env_text: &str) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    match dotenv::parse(env_text) {
        Ok(statements) => {
            for s in statements
                .iter()
                .filter(|s| !NOT_SECRET.contains(&s.key.as_str()))
            {
                let raw = env_text[s.value_start..s.end].trim();
                values.extend(raw.lines().map(|l| l.trim().to_string()));
                values.push(raw.to_string());
                if let Value::Exact(v) = &s.value {
                    values.extend(v.lines().map(|l| l.trim().to_string()));
                    values.push(v.clone());
                }
            }
        }
        Err(_) => {
            for l in env_text.lines() {
                let t = l.trim();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                match t.split_once('=') {
                    Some((key, raw)) => {
                        let key = key.trim().trim_start_matches("export ").trim();
                        if !NOT_SECRET.contains(&key) {
                            values.push(raw.trim().to_string());
                        }
                    }
                    None => values.push(t.to_string()),
                }
            }
        }
    }
    values
}

/// A stack's `.env`: the rendered template text `text` (from `origin`) without the
/// statements that `overrides` replace, then one line per override. Refuses a template text
/// that Compose would refuse (or would read as a value without a name), naming its line.
pub fn with_overrides(
    origin: &str,
    text: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<String> {
    let fail = |line: usize, message: String| Error::Template {
        file: format!("{origin} (the rendered .env)"),
        line: Some(line),
        message,
    };
    let statements = dotenv::parse(text)
        .map_err(|e| fail(e.line, format!("Compose cannot read it: {}", e.message)))?;
    // Compose reads a last line without `=` as the value of an empty name; anything written
    // after it would turn it into a name. Certainly a mistake: refused.
    if let Some(s) = statements.iter().find(|s| s.key.is_empty()) {
        return Err(fail(
            s.line,
            "a value without a name; write KEY=VALUE".into(),
        ));
    }
    if overrides.is_empty() {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in statements.iter().filter(|s| overrides.contains_key(&s.key)) {
        let (from, to) = whole_lines(text, s);
        out.push_str(&text[at..from.max(at)]);
        at = to.max(at);
    }
    out.push_str(&text[at..]);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("# set with stackwiz create --env\n");
    for (key, value) in overrides {
        out.push_str(&line(key, value));
        out.push('\n');
    }
    Ok(out)
}

/// The bytes to cut to remove statement `s`: from the start of its line when only blanks
/// precede it, to the end of its last line when only blanks or a comment follow it.
fn whole_lines(text: &str, s: &Statement) -> (usize, usize) {
    let line_start = text[..s.start].rfind('\n').map_or(0, |i| i + 1);
    let from = if text[line_start..s.start].trim().is_empty() {
        line_start
    } else {
        s.start
    };
    let line_end = text[s.end..]
        .find('\n')
        .map_or(text.len(), |i| s.end + i + 1);
    let tail = text[s.end..line_end].trim();
    let to = match (tail.is_empty() || tail.starts_with('#'), from == line_start) {
        (true, true) => line_end,
        // Another statement ends on this line before it: keep the line break.
        (true, false) => s.end + text[s.end..line_end].trim_end_matches('\n').len(),
        (false, _) => s.end,
    };
    (from, to)
}

/// The most an `--env-file` may hold: more is no list of settings.
const MAX_ENV_FILE: u64 = 1 << 20;

/// `--env-file`: the names and values Compose reads from the file (a later line for the same
/// name wins). What Compose refuses is refused, naming the line; so is what stackwiz cannot
/// store as Compose would read it: a value taken from the environment Compose runs in
/// (`$NAME`, `${NAME:-x}`, a line with only a name) and a name that is no environment
/// variable name.
pub fn read(path: &Path) -> Result<Vec<(String, String)>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_ENV_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::io("read env file", path, e))?;
    let at = |line: usize, why: &str| {
        Error::invalid("env-file", format!("{} line {line}: {why}", path.display()))
    };
    if bytes.len() as u64 > MAX_ENV_FILE {
        return Err(Error::invalid(
            "env-file",
            format!("{} is larger than 1 MiB", path.display()),
        ));
    }
    let statements = dotenv::parse_bytes(&bytes).map_err(|e| at(e.line, &e.message))?;
    let mut pairs = Vec::with_capacity(statements.len());
    for s in statements {
        if s.key.is_empty() {
            return Err(at(s.line, "a value without a name; write KEY=VALUE"));
        }
        if crate::validate::env_key(&s.key).is_err() {
            // Not echoed: a line without `=` (or text after a closing quote) reads as a
            // name, and it may be a pasted secret.
            return Err(at(
                s.line,
                "expected KEY=VALUE: this reads as a name, and names must match \
                 ^[A-Za-z_][A-Za-z0-9_]*$ (text after a closing quote starts a new name)",
            ));
        }
        match s.value {
            Value::Exact(v) => pairs.push((s.key, v)),
            Value::FromEnvironment => {
                return Err(at(
                    s.line,
                    &format!(
                        "the value of {} would come from the environment Compose runs in \
                         ($NAME, ${{NAME}}, or a line with only the name), which stackwiz \
                         cannot know; write $$ for a literal $, or single-quote the value",
                        s.key
                    ),
                ))
            }
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_every_value_multi_line_ones_whole() {
        let text = "# comment\nA=secret\nexport B='x y'\nC=\n\nMULTI=\"line1\nSECRET_LINE2\"\n\
                    weird.key=SECRET_DOT\nCOLON: SECRET_COLON\nBARE_SECRET\nD='q' E=SECRET_E # c\n";
        let shown = redact(text);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(
            shown,
            "# comment\nA=****\nexport B=****\nC=\n\nMULTI=****\nweird.key=****\n\
             COLON: ****\n****\nD=**** E=****\n"
        );
    }

    /// From the fuzzer (fuzz/fuzz_targets/dotenv_roundtrip.rs): a value that reads like the
    /// end of its own key is still hidden whole, and so is every written form.
    #[test]
    fn a_written_line_shows_only_its_key() {
        for (key, value) in [
            ("YArrrrrrrrrrrrrrrrrr", "rrrrrrrrrrrrrrrrr="),
            ("K", "a\nK=b"),
            ("K", "'\"\\ $x #"),
            ("K", ""),
        ] {
            let hidden = if value.is_empty() { "" } else { "****" };
            assert_eq!(
                redact(&format!("{}\n", line(key, value))),
                format!("{key}={hidden}\n")
            );
        }
    }

    #[test]
    fn text_compose_cannot_read_is_hidden_line_by_line() {
        let text = "# comment\nA=secret\nnot a line\nB=\"SECRET\n";
        assert_eq!(redact(text), "****\n****\n****\n****\n");
    }

    #[test]
    fn scrub_hides_env_values_quoted_in_messages() {
        let env = "PORTX=notaport_SECRET9\nQ='it is $ecret'\nTZ=UTC\nN=1\nP='pw\"SE\\CRET'\nT=\"a\\tb\"\n";
        let msg = "invalid hostPort: notaport_SECRET9; saw it is $ecret in UTC at 1, a\tb";
        assert_eq!(
            scrub(msg, env),
            "invalid hostPort: ****; saw **** in UTC at 1, ****"
        );
        // Compose quotes the value Go-style: pw"SE\CRET is printed as "pw\"SE\\CRET".
        assert_eq!(
            scrub(r#"invalid hostPort: "pw\"SE\\CRET""#, env),
            r#"invalid hostPort: "****""#
        );
    }

    fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn overrides_replace_whole_statements_multi_line_ones_included() {
        let text = "# db\nA=1 # the default\nexport B=\"multi\nline\"\nC='c' D=2\nE\nF=keep\n";
        let env = with_overrides(
            "t",
            text,
            &overrides(&[("B", "new\nB"), ("D", "d"), ("E", "e")]),
        )
        .unwrap();
        assert_eq!(
            env,
            "# db\nA=1 # the default\nC='c' \nF=keep\n# set with stackwiz create --env\n\
             B=\"new\\nB\"\nD=d\nE=e\n"
        );
        let read: BTreeMap<String, Value> = dotenv::parse(&env)
            .unwrap()
            .into_iter()
            .map(|s| (s.key, s.value))
            .collect();
        assert_eq!(read["B"], Value::Exact("new\nB".into()));
        assert_eq!(read["C"], Value::Exact("c".into()));
        assert_eq!(read.len(), 6);
        // Without overrides the text stays as rendered; a text Compose refuses is refused.
        assert_eq!(with_overrides("t", "A=1", &BTreeMap::new()).unwrap(), "A=1");
        let e = with_overrides("t.env", "A=1\nB='open\n", &BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains("unterminated quoted value"), "{e}");
        let e = with_overrides("t.env", "A=1\nSECRET", &BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains("value without a name"), "{e}");
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }

    fn read_text(text: &[u8]) -> Result<Vec<(String, String)>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.env");
        std::fs::write(&path, text).unwrap();
        read(&path)
    }

    #[test]
    fn env_files_are_read_as_compose_reads_them() {
        let got = read_text(
            b"\xef\xbb\xbfexport A=\"a\\tb\"\r\nB='abc\\' #'\nC=\"1\\n2\"\nD=abc # comment\n\
              E=\"$$x\\$y\"\nF=\nA=again\n",
        )
        .unwrap();
        let want = [
            ("A", "a\tb"),
            ("B", "abc' #"),
            ("C", "1\n2"),
            ("D", "abc"),
            ("E", "$x$y"),
            ("F", ""),
            ("A", "again"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn env_files_compose_or_stackwiz_cannot_read_are_refused_by_line() {
        for (text, line, why) in [
            (&b"A=1\nB=$HOME\n"[..], 2, "environment Compose runs in"),
            (b"A=1\n\nB=\"x${A:-1}\"\n", 3, "environment Compose runs in"),
            (b"A=1\nINHERITED\n", 2, "environment Compose runs in"),
            (b"A=1\nB=${\n", 2, "`${`"),
            (b"A=1\nB='open\n", 2, "unterminated quoted value"),
            (b"A B=1\n", 1, "cannot contain a space"),
            (b"A=1\nSECRETVALUE", 2, "a value without a name"),
            (b"a.b=1\n", 1, "must match"),
            (b"A=1\nB=\xff\n", 2, "UTF-8"),
        ] {
            let e = read_text(text).unwrap_err().to_string();
            assert!(e.contains(&format!("in.env line {line}: ")), "{e}");
            assert!(e.contains(why), "{e}");
            assert!(!e.contains("SECRETVALUE") && !e.contains("HOME"), "{e}");
        }
    }
}
