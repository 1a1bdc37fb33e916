//! Validation of every value a user or an agent hands us, before anything is written.
//!
//! Each check returns `Error::Invalid` naming the field and the rule. The rules are strict
//! on purpose: names, images and domains end up in YAML and in DNS, so anything outside
//! their grammar could inject YAML or break a record. Environment values go only to `.env`,
//! where `envfile` quotes them.

use crate::error::{Error, Result};

/// The name of the trash folder inside the base dir (removed stacks go there).
pub const TRASH_DIR: &str = ".trash";

/// Folder names inside the base dir that are not stacks.
pub const RESERVED_NAMES: &[&str] = &["_templates", "_scripts", "traefik", TRASH_DIR];

const NAME_RULE: &str = "use 1-63 lowercase letters, digits and hyphens, starting and ending \
                         with a letter or digit (it becomes a DNS label and a folder name)";

/// A stack name: `^[a-z0-9][a-z0-9-]*[a-z0-9]$|^[a-z0-9]$`, at most 63 characters, not reserved.
pub fn stack_name(name: &str) -> Result<()> {
    if RESERVED_NAMES.contains(&name) {
        return Err(Error::invalid(
            "name",
            format!("`{name}` is reserved for stackwiz's own folders"),
        ));
    }
    if !is_label(name) {
        return Err(Error::invalid(
            "name",
            format!("`{}` is not allowed: {NAME_RULE}", printable(name)),
        ));
    }
    Ok(())
}

/// A template type name follows the stack name rule (it names files `TYPE-template.yml`).
pub fn type_name(name: &str) -> Result<()> {
    if is_label(name) {
        Ok(())
    } else {
        Err(Error::invalid(
            "type",
            format!("`{}` is not a template type name", printable(name)),
        ))
    }
}

/// One DNS label in our lowercase form.
fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A lowercase hostname: labels of 1-63 characters, at most 253 in all.
pub fn domain(field: &str, domain: &str) -> Result<()> {
    let rule = "must be a lowercase hostname like app.example.com (labels of 1-63 letters, \
                digits or hyphens, not starting or ending with a hyphen; 253 characters at most)";
    if domain.is_empty() || domain.len() > 253 || !domain.split('.').all(is_label) {
        return Err(Error::invalid(
            field,
            format!("`{}` {rule}", printable(domain)),
        ));
    }
    // A top-level label is never all digits (RFC 3696 2): `1.2.3.4` is an IP address, which
    // would pass the label rule but route nothing and name no DNS record.
    if numeric_tld(domain) {
        return Err(Error::invalid(
            field,
            format!(
                "`{}` is an IP address or ends in a numeric label; use a hostname like \
                 app.example.com",
                printable(domain)
            ),
        ));
    }
    Ok(())
}

/// The last label of `host` (a trailing dot ignored) is all digits: an IP address like
/// `1.2.3.4`, or a name no zone can hold (RFC 3696 2).
pub fn numeric_tld(host: &str) -> bool {
    host.trim_end_matches('.')
        .rsplit('.')
        .next()
        .is_some_and(|tld| !tld.is_empty() && tld.bytes().all(|c| c.is_ascii_digit()))
}

/// A TCP port.
pub fn port(field: &str, port: u32) -> Result<u16> {
    match u16::try_from(port) {
        Ok(p) if p >= 1 => Ok(p),
        _ => Err(Error::invalid(
            field,
            format!("{port} is not a port; use 1-65535"),
        )),
    }
}

/// An environment variable name: `^[A-Za-z_][A-Za-z0-9_]*$`.
pub fn env_key(key: &str) -> Result<()> {
    let b = key.as_bytes();
    let ok = !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "env",
            format!(
                "key `{}` must match ^[A-Za-z_][A-Za-z0-9_]*$",
                printable(key)
            ),
        ))
    }
}

/// An environment value may hold anything but NUL (no process environment can carry it);
/// line breaks are written as `\n` escapes that Compose reads back. The value itself is a
/// possible secret and is never echoed.
pub fn env_value(key: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::invalid(
            "env",
            format!("the value of {key} contains a NUL character, which no environment can hold"),
        ));
    }
    Ok(())
}

/// A Docker image reference: `[registry[:port]/]path[:tag][@digest]`, following the grammar of
/// distribution/reference.
pub fn image(image: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(Error::invalid(
            "image",
            format!(
                "`{}` is not a valid image reference: {why}",
                printable(image)
            ),
        ))
    };
    if image.is_empty() {
        return fail("it is empty");
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("it contains whitespace or control characters");
    }
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        if !is_digest(d) {
            return fail("the digest must look like sha256:<64 hex digits>");
        }
    }
    // The tag follows the last ':' that comes after the last '/'.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
            && t.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
        if !ok {
            return fail("the tag may hold letters, digits, '_', '.' and '-' (128 at most)");
        }
    }
    if name.is_empty() || name.len() > 255 {
        return fail("the name must be 1-255 characters");
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let first = parts[0];
    let has_domain = parts.len() > 1
        && (first.contains(['.', ':'])
            || first == "localhost"
            || first.bytes().any(|c| c.is_ascii_uppercase()));
    if has_domain {
        if !is_registry(first) {
            return fail("the registry host is not valid");
        }
        parts.remove(0);
    }
    if !parts.iter().all(|p| is_path_component(p)) {
        return fail(
            "path parts must be lowercase letters and digits, separated by '.', '_', '__' or '-'",
        );
    }
    Ok(())
}

fn is_path_component(p: &str) -> bool {
    // alpha-numeric (separator alpha-numeric)*, separator := [_.] | __ | -+
    let b = p.as_bytes();
    if b.is_empty() || !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_lower_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_lower_alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_registry(host: &str) -> bool {
    let (host, port) = match host.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, Some(p)),
        _ => (host, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

fn is_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = !alg.is_empty()
        && alg.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
        && alg
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'.'));
    alg_ok && hex.len() >= 32 && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Show a rejected value safely on one line: control characters escaped, length capped.
pub fn printable(s: &str) -> String {
    let mut out: String = s.chars().take(80).flat_map(char::escape_default).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "0", "app", "my-app-2", &"a".repeat(63)] {
            assert!(stack_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a_b",
            "a.b",
            "a b",
            "traefik",
            "_templates",
            ".trash",
            &"a".repeat(64),
            "é",
        ] {
            assert!(stack_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains() {
        for ok in [
            "a.localhost",
            "x.example.com",
            "localhost",
            "a-1.b-2.co",
            "10.0.0.1.nip.io",
            "xn--80ak6aa92e.com",
            "1a",
        ] {
            assert!(domain("domain", ok).is_ok(), "{ok}");
        }
        let long = format!("{}.com", vec!["a".repeat(63); 4].join("."));
        for bad in [
            "",
            "A.com",
            "a..b",
            "-a.com",
            "a-.com",
            "a_b.com",
            "a.com.",
            "a b.com",
            &long,
            "1.2.3.4",
            "127.0.0.1",
            "app.123",
            "0x7f.0.0.1",
            "8",
        ] {
            assert!(domain("domain", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn images() {
        for ok in [
            "nginx",
            "nginx:alpine",
            "library/nginx:1.25",
            "ghcr.io/muchobien/pocketbase:latest",
            "localhost:5000/a/b_c__d.e-f:v1",
            "registry.example.com:443/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "stackwiz-test/busybox:latest",
            "[::1]:5000/app:1",
        ] {
            assert!(image(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-x",
            "a b",
            "nginx\nprivileged: true",
            "nginx:latest\"",
            "a//b",
            "a/-b",
            "nginx@sha256:xyz",
            "${HOME}/x",
            "`id`",
            "a:b:c",
        ] {
            assert!(image(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ports_and_env() {
        assert!(port("port", 0).is_err());
        assert!(port("port", 65536).is_err());
        assert_eq!(port("port", 8080).unwrap(), 8080);
        for ok in ["A", "_", "a_1", "PB_KEY"] {
            assert!(env_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1A", "A-B", "A B", "A=B", "A\n"] {
            assert!(env_key(bad).is_err(), "{bad}");
        }
        // A line break is written as `\n` (the .env writer's tests prove Compose reads it).
        assert!(env_value("K", "x\nY=1").is_ok());
        assert!(env_value("K", "a\0").is_err());
        assert!(env_value("K", "x # y $HOME 'q' \"d\" `b`").is_ok());
    }

    #[test]
    fn rejected_values_are_shown_on_one_line() {
        let e = image("a\nprivileged: true").unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
    }
}
