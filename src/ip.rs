//! Public IP detection for `AUTO` record values and `dns sync`.
//!
//! `STACKWIZ_PUBLIC_IP` wins (the multi-host advice: behind NAT or on an LXC the server
//! cannot see the address the world should use). Otherwise each URL of
//! `STACKWIZ_IP_SERVICES` is asked in order, over the asked address family only, reading at
//! most 4 KiB. An answer counts only if it is one global-unicast address of that family:
//! an HTML error page, an IPv6 answer to an IPv4 question, or a private, CGNAT, loopback or
//! link-local address would point DNS somewhere wrong, so it is rejected (private ranges
//! are allowed with `STACKWIZ_ALLOW_PRIVATE_IP=1` for LAN-only set-ups). When every service
//! fails the error lists each one and why, and callers change nothing. The services share
//! the command's time budget ([`Budget`]): once it is spent (or the command cancelled) no
//! further service is asked.
//!
//! A documentation address (RFC 5737 `203.0.113.0/24` and friends, RFC 3849 `2001:db8::/32`)
//! is what examples use: set explicitly in `STACKWIZ_PUBLIC_IP` it is taken as written, with
//! a warning that nobody can reach it; answered by a service it is refused like any address
//! that would point DNS somewhere wrong.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::config::DnsConfig;
use crate::error::{Error, Result};
use crate::http::{self, Budget, Method, Request};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        }
    }
}

/// A detected address and where it came from (`env STACKWIZ_PUBLIC_IP` or a service URL).
/// `warning`: something the user should know about it (a documentation address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub ip: IpAddr,
    pub source: String,
    pub warning: Option<String>,
}

/// The server's public address of `family`, within the command's `budget`.
pub fn detect(cfg: &DnsConfig, family: Family, budget: &Budget) -> Result<Detected> {
    if let Some(fixed) = &cfg.public_ip {
        return from_setting(fixed, &cfg.public_ip_source, family, cfg.allow_private_ip);
    }
    if cfg.ip_services.is_empty() {
        return Err(Error::with_hint(
            format!(
                "cannot detect the public {} address: no IP services configured",
                family.label()
            ),
            "set STACKWIZ_PUBLIC_IP, or list services in STACKWIZ_IP_SERVICES",
        ));
    }
    let client = http::Client::ip_service(cfg.http_time_scale, family == Family::Ipv6, budget);
    let mut failures = Vec::new();
    for (i, url) in cfg.ip_services.iter().enumerate() {
        if i > 0 && client.stopped() {
            let why = if budget.is_cancelled() {
                "cancelled"
            } else {
                "the command's time budget is spent"
            };
            failures.push(format!(
                "{}: not asked, {why}",
                cfg.ip_services[i..].join(", ")
            ));
            break;
        }
        let req = Request {
            method: Method::Get,
            url,
            query: &[],
            bearer: None,
            json: None,
        };
        let answer = match client.send(&req) {
            Ok(r) if r.status == 200 => parse_answer(&r.body, family, cfg.allow_private_ip),
            Ok(r) => Err(format!("HTTP {}", r.status)),
            // The error repeats the URL; the list below names it once.
            Err(Error::Http { message, .. }) => Err(message),
            Err(e) => Err(e.to_string()),
        };
        match answer {
            Ok(ip) => {
                return Ok(Detected {
                    ip,
                    source: url.clone(),
                    warning: None,
                })
            }
            Err(why) => failures.push(format!("{url}: {why}")),
        }
    }
    Err(Error::with_hint(
        format!(
            "cannot detect the public {} address: {}",
            family.label(),
            failures.join("; ")
        ),
        "set STACKWIZ_PUBLIC_IP to the address DNS should point to, or fix STACKWIZ_IP_SERVICES",
    ))
}

/// The public IP setting (`source`: `env STACKWIZ_PUBLIC_IP` or `file PATH`): one address,
/// or an IPv4 and an IPv6 address separated by a comma.
fn from_setting(
    value: &str,
    source: &str,
    family: Family,
    allow_private: bool,
) -> Result<Detected> {
    // Errors name the setting as the user wrote it: the variable, or the file's key.
    let field = match source.strip_prefix("env ") {
        Some(var) => var.to_string(),
        None => format!("dns.public_ip (from {source})"),
    };
    let mut found = None;
    let mut warning = None;
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let ip: IpAddr = part.parse().map_err(|_| {
            Error::invalid(
                &field,
                format!(
                    "`{}` is not an IP address",
                    crate::validate::printable(part)
                ),
            )
        })?;
        if Family::of(&ip) != family {
            continue;
        }
        // Written by hand, a documentation address is what the user asked for (examples
        // use them); only a service answering one would be a mistake.
        if let Some(range) = documentation(&ip) {
            warning = Some(format!(
                "{ip} (from {source}) is a documentation address ({range}): records pointing \
                 to it reach nobody; set the server's real address for real use"
            ));
        } else {
            check_public(&ip, allow_private)
                .map_err(|why| Error::invalid(&field, format!("{ip} is {why}")))?;
        }
        found = Some(ip);
    }
    let source = source.to_string();
    found
        .map(|ip| Detected {
            ip,
            source,
            warning,
        })
        .ok_or_else(|| {
            Error::invalid(
                &field,
                format!(
                "`{}` holds no {} address; add one after a comma (e.g. 203.0.113.7,2001:db8::7) \
                 or give the record value explicitly",
                crate::validate::printable(value),
                family.label()
            ),
            )
        })
}

/// One service's answer: a bare address (surrounding whitespace allowed) or Cloudflare's
/// trace format (`ip=...` among `key=value` lines).
pub fn parse_answer(
    body: &[u8],
    family: Family,
    allow_private: bool,
) -> std::result::Result<IpAddr, String> {
    let text = std::str::from_utf8(body)
        .map_err(|_| "answer is not text".to_string())?
        .trim();
    if text.starts_with('<') {
        return Err("answered an HTML page, not an address".into());
    }
    let candidate = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("ip="))
        .unwrap_or(text)
        .trim();
    let ip: IpAddr = candidate.parse().map_err(|_| {
        let shown: String = candidate
            .chars()
            .take(40)
            .flat_map(char::escape_default)
            .collect();
        if shown.is_empty() {
            "answer is empty".to_string()
        } else {
            format!("answer `{shown}` is not an IP address")
        }
    })?;
    if Family::of(&ip) != family {
        return Err(format!(
            "answered {} address {ip}, asked for {}",
            Family::of(&ip).label(),
            family.label()
        ));
    }
    check_public(&ip, allow_private).map_err(|why| format!("answered {ip}, {why}"))?;
    Ok(ip)
}

/// The documentation range holding `ip`, if any: RFC 5737's three IPv4 blocks and RFC
/// 3849's `2001:db8::/32`.
pub fn documentation(ip: &IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            match (a, b, c) {
                (192, 0, 2) => Some("RFC 5737, 192.0.2.0/24"),
                (198, 51, 100) => Some("RFC 5737, 198.51.100.0/24"),
                (203, 0, 113) => Some("RFC 5737, 203.0.113.0/24"),
                _ => None,
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (s[0] == 0x2001 && s[1] == 0x0db8).then_some("RFC 3849, 2001:db8::/32")
        }
    }
}

/// Ok when `ip` is global unicast; otherwise why not. `allow_private` lets through the
/// ranges a LAN-only set-up uses (private, CGNAT, loopback, link-local, documentation),
/// never the ones that can't be a host (unspecified, multicast, broadcast, reserved).
pub fn check_public(ip: &IpAddr, allow_private: bool) -> std::result::Result<(), &'static str> {
    let (never, lan) = match ip {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    };
    match (never, lan) {
        (Some(why), _) => Err(why),
        (None, Some(why)) if !allow_private => Err(why),
        _ => Ok(()),
    }
}

/// (never acceptable, acceptable only with allow_private)
fn v4_class(ip: &Ipv4Addr) -> (Option<&'static str>, Option<&'static str>) {
    let [a, b, c, _] = ip.octets();
    let never = if ip.is_unspecified() || a == 0 {
        Some("not a host address (0.0.0.0/8)")
    } else if ip.is_broadcast() {
        Some("the broadcast address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if a >= 240 {
        Some("a reserved address (240.0.0.0/4)")
    } else {
        None
    };
    let lan = if ip.is_loopback() {
        Some("a loopback address (allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else if ip.is_private() {
        Some("a private address (allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a CGNAT address (100.64.0.0/10; allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else if ip.is_link_local() {
        Some("a link-local address (allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else if ip.is_documentation()
        || (a == 198 && (b & 0xfe) == 18)
        || (a == 192 && b == 0 && c == 0)
    {
        Some("a documentation or special-purpose address (allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else {
        None
    };
    (never, lan)
}

fn v6_class(ip: &Ipv6Addr) -> (Option<&'static str>, Option<&'static str>) {
    let s = ip.segments();
    let never = if ip.is_unspecified() {
        Some("the unspecified address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if ip.to_ipv4_mapped().is_some() {
        Some("an IPv4-mapped address, not an IPv6 one")
    } else {
        None
    };
    let lan = if ip.is_loopback() {
        Some("a loopback address (allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some("a link-local address (allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("a unique local (private) address (allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Some("a documentation address (allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else if (s[0] & 0xe000) != 0x2000 {
        Some("outside global unicast 2000::/3 (allow with STACKWIZ_ALLOW_PRIVATE_IP=1)")
    } else {
        None
    };
    (never, lan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str, family: Family) -> std::result::Result<IpAddr, String> {
        parse_answer(body.as_bytes(), family, false)
    }

    #[test]
    fn accepts_bare_and_trace_answers() {
        assert_eq!(
            ok("93.184.216.34\n", Family::Ipv4),
            Ok("93.184.216.34".parse().unwrap())
        );
        assert_eq!(
            ok("fl=1\nh=x\nip=93.184.216.34\nts=1\n", Family::Ipv4),
            Ok("93.184.216.34".parse().unwrap())
        );
        assert_eq!(
            ok(" 2606:4700::1111 ", Family::Ipv6),
            Ok("2606:4700::1111".parse().unwrap())
        );
    }

    #[test]
    fn rejects_what_would_point_dns_wrong() {
        let cases = [
            ("<html><body>502</body></html>", Family::Ipv4, "HTML"),
            ("2606:4700::1111", Family::Ipv4, "asked for IPv4"),
            ("93.184.216.34", Family::Ipv6, "asked for IPv6"),
            ("", Family::Ipv4, "empty"),
            ("not an ip", Family::Ipv4, "not an IP address"),
            ("93.184.216.34 1.1.1.1", Family::Ipv4, "not an IP address"),
            ("10.1.2.3", Family::Ipv4, "private"),
            ("172.16.0.1", Family::Ipv4, "private"),
            ("192.168.1.1", Family::Ipv4, "private"),
            ("100.64.0.1", Family::Ipv4, "CGNAT"),
            ("127.0.0.1", Family::Ipv4, "loopback"),
            ("169.254.1.1", Family::Ipv4, "link-local"),
            ("203.0.113.7", Family::Ipv4, "documentation"),
            ("0.0.0.0", Family::Ipv4, "not a host"),
            ("255.255.255.255", Family::Ipv4, "broadcast"),
            ("224.0.0.1", Family::Ipv4, "multicast"),
            ("::1", Family::Ipv6, "loopback"),
            ("fe80::1", Family::Ipv6, "link-local"),
            ("fd00::1", Family::Ipv6, "unique local"),
            ("2001:db8::1", Family::Ipv6, "documentation"),
            ("::ffff:93.184.216.34", Family::Ipv6, "IPv4-mapped"),
            ("ff02::1", Family::Ipv6, "multicast"),
        ];
        for (body, family, why) in cases {
            let err = ok(body, family).unwrap_err();
            assert!(err.contains(why), "{body}: {err}");
        }
        assert!(parse_answer(&[0xff, 0xfe, 0], Family::Ipv4, false)
            .unwrap_err()
            .contains("not text"));
    }

    #[test]
    fn allow_private_lets_lan_addresses_through_but_never_multicast() {
        assert!(parse_answer(b"192.168.1.10", Family::Ipv4, true).is_ok());
        assert!(parse_answer(b"fd00::1", Family::Ipv6, true).is_ok());
        assert!(parse_answer(b"224.0.0.1", Family::Ipv4, true).is_err());
    }

    const ENV: &str = "env STACKWIZ_PUBLIC_IP";

    #[test]
    fn public_ip_setting_picks_the_asked_family() {
        let got = from_setting("93.184.216.34, 2606:4700::1111", ENV, Family::Ipv6, false).unwrap();
        assert_eq!(got.ip, "2606:4700::1111".parse::<IpAddr>().unwrap());
        assert_eq!(got.source, "env STACKWIZ_PUBLIC_IP");
        let err = from_setting("93.184.216.34", ENV, Family::Ipv6, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds no IPv6 address"), "{err}");
        let err = from_setting("nope", ENV, Family::Ipv4, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`nope` is not an IP address"), "{err}");
        let err = from_setting("10.0.0.1", ENV, Family::Ipv4, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("private"), "{err}");
    }

    #[test]
    fn a_documentation_address_set_by_hand_is_taken_with_a_warning() {
        for (value, family) in [
            ("203.0.113.50", Family::Ipv4),
            ("192.0.2.1", Family::Ipv4),
            ("198.51.100.7", Family::Ipv4),
            ("203.0.113.7,2001:db8::7", Family::Ipv6),
        ] {
            let got = from_setting(value, ENV, family, false).unwrap();
            assert_eq!(Family::of(&got.ip), family, "{value}");
            let warning = got.warning.expect("a warning");
            assert!(warning.contains("documentation address"), "{warning}");
        }
        assert_eq!(
            from_setting("93.184.216.34", ENV, Family::Ipv4, false)
                .unwrap()
                .warning,
            None
        );
        // Detected, it stays refused; other special ranges stay refused when set by hand.
        assert!(ok("203.0.113.50", Family::Ipv4).is_err());
        assert!(ok("2001:db8::1", Family::Ipv6).is_err());
        assert!(from_setting("198.18.0.1", ENV, Family::Ipv4, false).is_err());
    }
}
