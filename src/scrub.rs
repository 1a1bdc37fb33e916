//! The gate every text from a child program passes before anyone sees it: a [`Scrubber`]
//! replaces each secret value with `****`, in every form docker and Compose print values in.
//!
//! Compose quotes values Go-style in its errors (`invalid hostPort: "pw\"x"`), docker prints
//! JSON (which escapes `"`, `\`, control characters and, from Go, `<`, `>`, `&`), and a
//! value may reach a message shell-quoted or YAML-quoted, or quoted twice (a Go error inside
//! a JSON message). A substring search for the raw value misses all of those, so each value
//! is searched for in each of those forms. Only the value is replaced: the rest of the line
//! (`Container app-web-1 already in use`) keeps its meaning. A [`LineGate`] does the same to a
//! stream, a whole line at a time, so a value is never split between two writes.
//!
//! This module never prints anything and keeps no value anywhere but in memory.

use std::borrow::Cow;

/// Values shorter than this are no secrets, and hiding them would garble every message.
const MIN_CHARS: usize = 3;

/// What a hidden value is replaced with.
pub const MASK: &str = "****";

/// A set of secret values, each held in every printed form, longest first.
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    needles: Vec<Vec<u8>>,
}

impl Scrubber {
    /// A gate that hides nothing.
    pub fn none() -> Scrubber {
        Scrubber::default()
    }

    /// A gate for `values`, except those equal to one of `public` (a project name that a
    /// `.env` repeats is no secret, and hiding it would hide which container failed).
    pub fn new<I, S>(values: I, public: &[&str]) -> Scrubber
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut needles: Vec<Vec<u8>> = Vec::new();
        for value in values {
            let value = value.as_ref();
            if value.chars().count() < MIN_CHARS || public.contains(&value) {
                continue;
            }
            for form in forms(value) {
                // A value over several lines is also looked for line by line: a stream
                // is scrubbed one line at a time.
                let pieces = form
                    .lines()
                    .filter(|l| l.trim().chars().count() >= MIN_CHARS);
                for piece in std::iter::once(form.as_str()).chain(pieces) {
                    if piece.chars().count() >= MIN_CHARS && !public.contains(&piece) {
                        needles.push(piece.as_bytes().to_vec());
                    }
                }
            }
        }
        // Longest first, so a value that contains another is hidden whole.
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        Scrubber { needles }
    }

    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every form of every value replaced by [`MASK`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.scrub_bytes(text.as_bytes()) {
            // Replacing whole UTF-8 needles with ASCII keeps the text UTF-8.
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
            Cow::Borrowed(_) => Cow::Borrowed(text),
        }
    }

    /// The same on bytes (a child's output need not be UTF-8).
    pub fn scrub_bytes<'a>(&self, text: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out = Cow::Borrowed(text);
        for needle in &self.needles {
            if let Some(replaced) = replace_all(&out, needle, MASK.as_bytes()) {
                out = Cow::Owned(replaced);
            }
        }
        out
    }
}

/// `hay` with every `needle` replaced, or None when there is none.
fn replace_all(hay: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let first = *needle.first()?;
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let Some(at) = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)
        else {
            break;
        };
        let at = i + at;
        if hay[at..].starts_with(needle) {
            let buf = out.get_or_insert_with(|| Vec::with_capacity(hay.len()));
            buf.extend_from_slice(&hay[copied..at]);
            buf.extend_from_slice(with);
            copied = at + needle.len();
            i = copied;
        } else {
            i = at + 1;
        }
    }
    let mut buf = out?;
    buf.extend_from_slice(&hay[copied..]);
    Some(buf)
}

/// Every form a value can be printed in: raw; Go `%q` (and its ASCII variant); JSON as Go
/// and as serde write it; shell single- and double-quoted; YAML single-quoted; and Go or
/// JSON quoting applied twice. Each without its surrounding quotes, so one search finds
/// the value whatever quotes are around it.
fn forms(value: &str) -> Vec<String> {
    let once = [
        value.to_string(),
        go_quote(value, false),
        go_quote(value, true),
        json_quote(value, true),
        json_quote(value, false),
        value.replace('\'', r"'\''"),
        value.replace('\'', "''"),
        shell_double(value),
    ];
    let mut all: Vec<String> = Vec::with_capacity(once.len() * 3);
    for form in &once {
        all.push(go_quote(form, false));
        all.push(json_quote(form, true));
    }
    all.extend(once);
    all.sort();
    all.dedup();
    all
}

/// Go's `strconv.Quote` (`%q`) without the quotes; `ascii` is `strconv.QuoteToASCII` (`%+q`).
fn go_quote(value: &str, ascii: bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if go_printable(c) && (!ascii || c.is_ascii()) => out.push(c),
            '\x07' => out.push_str(r"\a"),
            '\x08' => out.push_str(r"\b"),
            '\x0c' => out.push_str(r"\f"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '\x0b' => out.push_str(r"\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!(r"\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!(r"\u{:04x}", c as u32)),
            c => out.push_str(&format!(r"\U{:08x}", c as u32)),
        }
    }
    out
}

/// Go's `unicode.IsPrint`, closely enough: no control, format or separator character other
/// than the ASCII space.
fn go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}'))
}

/// A JSON string body: Go's `encoding/json` (`go`: `<`, `>`, `&`, U+2028/9 and control
/// characters as `\u00xx`) or serde_json's (short `\b`, `\f`).
fn json_quote(value: &str, go: bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' if !go => out.push_str("\\b"),
            '\x0c' if !go => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if go => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The body of a shell double-quoted string (also how stackwiz writes `.env` values).
fn shell_double(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Scrubs a stream one line at a time: bytes are held until their line ends (or the held
/// text grows past a bound), so a value is never split between two writes.
#[derive(Debug, Default)]
pub struct LineGate {
    held: Vec<u8>,
}

/// A line longer than this is let through in pieces (a value split exactly at the cut could
/// then escape; nothing docker prints has such lines).
const MAX_HELD: usize = 64 * 1024;

impl LineGate {
    /// Take `chunk`; return the scrubbed complete lines it finishes (empty when none).
    pub fn push(&mut self, scrubber: &Scrubber, chunk: &[u8]) -> Vec<u8> {
        self.held.extend_from_slice(chunk);
        let end = match self.held.iter().rposition(|&b| b == b'\n' || b == b'\r') {
            Some(i) => i + 1,
            None if self.held.len() > MAX_HELD => self.held.len(),
            None => return Vec::new(),
        };
        let rest = self.held.split_off(end);
        let lines = std::mem::replace(&mut self.held, rest);
        scrub_lines(scrubber, &lines)
    }

    /// What is held (a last line without its newline), scrubbed.
    pub fn finish(&mut self, scrubber: &Scrubber) -> Vec<u8> {
        let held = std::mem::take(&mut self.held);
        scrub_lines(scrubber, &held)
    }
}

/// Scrub line by line, as a stream is (so captured and streamed output hide the same).
fn scrub_lines(scrubber: &Scrubber, text: &[u8]) -> Vec<u8> {
    if scrubber.is_empty() {
        return text.to_vec();
    }
    let mut out = Vec::with_capacity(text.len());
    for line in text.split_inclusive(|&b| b == b'\n') {
        out.extend_from_slice(&scrubber.scrub_bytes(line));
    }
    out
}

/// Captured output, scrubbed as a stream would be.
pub fn scrub_captured(scrubber: &Scrubber, text: &[u8]) -> String {
    String::from_utf8_lossy(&scrub_lines(scrubber, text)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value with every character that changes between forms.
    const NASTY: &str = "pw\"SE\\CR\tET $x 'q' <&> é\u{1}";

    #[test]
    fn go_quoting_matches_strconv_quote() {
        // Expected strings from Go 1.22: fmt.Sprintf("%q", v), quotes removed.
        assert_eq!(go_quote("pw\"x", false), r#"pw\"x"#);
        assert_eq!(go_quote("a\\b\tc\nd", false), r"a\\b\tc\nd");
        assert_eq!(go_quote("é\u{1}\u{7f}\u{a0}", false), r"é\x01\x7f\u00a0");
        assert_eq!(go_quote("é😀", true), r"\u00e9\U0001f600");
        assert_eq!(json_quote("<a&\"b\u{1}", true), r#"\u003ca\u0026\"b\u0001"#);
        assert_eq!(json_quote("a\u{8}\"", false), r#"a\b\""#);
    }

    #[test]
    fn every_printed_form_of_a_value_is_hidden() {
        let s = Scrubber::new([NASTY], &[]);
        let printed = [
            NASTY.to_string(),
            format!("invalid hostPort: \"{}\"", go_quote(NASTY, false)),
            format!("{{\"message\":\"{}\"}}", json_quote(NASTY, true)),
            serde_json::json!({ "m": NASTY }).to_string(),
            serde_json::json!({ "m": format!("bad: \"{}\"", go_quote(NASTY, false)) }).to_string(),
            format!("'{}'", NASTY.replace('\'', r"'\''")),
            format!("\"{}\"", shell_double(NASTY)),
        ];
        for text in printed {
            let shown = s.scrub(&text);
            assert!(!shown.contains("SE"), "{text} -> {shown}");
            assert!(shown.contains(MASK), "{shown}");
        }
    }

    #[test]
    fn only_the_value_is_replaced_and_public_names_stay() {
        let s = Scrubber::new(["hunter2", "ab", "myapp"], &["myapp"]);
        assert_eq!(
            s.scrub("Container myapp-web-1 already in use; password hunter2 is ab"),
            "Container myapp-web-1 already in use; password **** is ab"
        );
        assert!(matches!(s.scrub("nothing here"), Cow::Borrowed(_)));
        assert!(Scrubber::none().is_empty());
    }

    #[test]
    fn the_longest_value_is_hidden_whole() {
        let s = Scrubber::new(["abc", "abcdef"], &[]);
        assert_eq!(s.scrub("xabcdefx abc"), "x****x ****");
    }

    #[test]
    fn a_stream_is_scrubbed_by_whole_lines_whatever_the_chunks() {
        let s = Scrubber::new(["SECRET-VALUE", "two\nlines-here"], &[]);
        let text =
            b"one SECRET-VALUE\npartial SECRET-VALUE end\ntwo\nlines-here\nlast SECRET-VALUE";
        for size in 1..text.len() {
            let mut gate = LineGate::default();
            let mut out = Vec::new();
            for chunk in text.chunks(size) {
                out.extend(gate.push(&s, chunk));
            }
            out.extend(gate.finish(&s));
            let out = String::from_utf8(out).unwrap();
            assert_eq!(
                out, "one ****\npartial **** end\n****\n****\nlast ****",
                "chunks of {size}"
            );
        }
        assert_eq!(
            scrub_captured(&s, text),
            "one ****\npartial **** end\n****\n****\nlast ****"
        );
    }
}
