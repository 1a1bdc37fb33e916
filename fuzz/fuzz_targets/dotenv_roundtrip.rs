//! The `.env` reader and writer: any bytes are read without a panic and with statements
//! that point inside the text in order; any name and value stackwiz writes (alone, after
//! other lines, or as an override of a template's line) are read back exactly.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use stackwiz::dotenv::{self, Value};
use stackwiz::envfile;

/// A valid environment variable name made from arbitrary text.
fn name(raw: &str) -> String {
    let mut key: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(20)
        .collect();
    if key.is_empty() || key.starts_with(|c: char| c.is_ascii_digit()) {
        key.insert(0, '_');
    }
    key
}

/// The value the last statement for `key` gives.
fn last(text: &str, key: &str) -> Option<Value> {
    let statements = dotenv::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    statements
        .into_iter()
        .rev()
        .find(|s| s.key == key)
        .map(|s| s.value)
}

fuzz_target!(|input: (String, String, Vec<u8>)| {
    let (raw_key, value, bytes) = input;

    // Arbitrary bytes: no panic, and statements that point into the text, in order.
    if let Ok(statements) = dotenv::parse_bytes(&bytes) {
        let text = std::str::from_utf8(&bytes).expect("parse_bytes accepts only UTF-8");
        let mut at = 0;
        let mut line = 1;
        for s in &statements {
            assert!(at <= s.start && s.start <= s.value_start && s.value_start <= s.end);
            assert!(s.end <= text.len() && s.line >= line, "{text:?}: {s:?}");
            assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.value_start));
            assert!(text.is_char_boundary(s.end));
            at = s.end;
            line = s.line;
        }
        let _ = envfile::redact(text);
    }

    // What stackwiz writes, Compose reads back identically.
    let key = name(&raw_key);
    let written = format!("{}\n", dotenv::line(&key, &value));
    assert_eq!(
        last(&written, &key),
        Some(Value::Exact(value.clone())),
        "{written:?}"
    );
    // Shown redacted, the value is gone whole.
    let redacted = envfile::redact(&written);
    let hidden = if value.is_empty() { "" } else { "****" };
    assert_eq!(redacted, format!("{key}={hidden}\n"), "{written:?}");

    // After other lines, and as an override of a template's statement for the same name.
    if let Ok(text) = std::str::from_utf8(&bytes) {
        let nameless = |s: &dotenv::Statement| s.key.is_empty();
        if dotenv::parse(text).is_ok_and(|s| !s.iter().any(nameless)) {
            let mut overrides = BTreeMap::new();
            overrides.insert(key.clone(), value.clone());
            let env = envfile::with_overrides("fuzz", text, &overrides)
                .unwrap_or_else(|e| panic!("{text:?}: {e}"));
            let statements = dotenv::parse(&env).unwrap_or_else(|e| panic!("{env:?}: {e}"));
            let for_key: Vec<_> = statements.iter().filter(|s| s.key == key).collect();
            assert_eq!(for_key.len(), 1, "{env:?}");
            assert_eq!(for_key[0].value, Value::Exact(value), "{env:?}");
        }
    }
});
