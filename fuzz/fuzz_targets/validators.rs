//! The validators: any text is accepted or refused without a panic, and what is accepted
//! keeps the promises the rest of stackwiz builds on (a stack name is one safe path
//! component, a domain one lowercase hostname, an env key a shell-safe name, an env value
//! free of NUL, and no refusal echoes control characters).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stackwiz::validate;

fuzz_target!(|input: (String, u32)| {
    let (text, number) = input;
    let t = text.as_str();

    if validate::stack_name(t).is_ok() {
        assert!(!t.is_empty() && t.len() <= 63, "{t:?}");
        assert!(t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        assert!(!t.starts_with('-') && !t.ends_with('-') && t != "." && t != "..");
    }
    if validate::type_name(t).is_ok() {
        assert!(!t.contains('/') && !t.contains('\0') && t != ".." && t != ".", "{t:?}");
    }
    if validate::domain("domain", t).is_ok() {
        assert!(!t.is_empty() && t.len() <= 253, "{t:?}");
        assert!(!t.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/'));
        assert_eq!(t, t.to_ascii_lowercase());
        let last = t.trim_end_matches('.').rsplit('.').next().unwrap_or("");
        assert!(!last.bytes().all(|b| b.is_ascii_digit()), "an IP address passed: {t:?}");
    }
    if validate::env_key(t).is_ok() {
        assert!(!t.is_empty());
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        assert!(!t.as_bytes()[0].is_ascii_digit());
    }
    match validate::env_value("KEY", t) {
        Ok(()) => assert!(!t.contains('\0')),
        // A refusal names the key, never the value (it may be a secret).
        Err(e) => assert!(t.len() < 4 || !e.to_string().contains(t), "{e}"),
    }
    if validate::image(t).is_ok() {
        assert!(!t.is_empty() && !t.chars().any(|c| c.is_whitespace() || c.is_control()));
    }
    match validate::port("port", number) {
        Ok(p) => assert!(p >= 1 && u32::from(p) == number),
        Err(_) => assert!(number == 0 || number > 65535),
    }
    let shown = validate::printable(t);
    assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
});
