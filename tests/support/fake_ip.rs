//! Fake public-IP services on loopback, one path per behaviour:
//! `/valid` (the current address and a newline; changeable with `set_ip`), `/trace`
//! (Cloudflare's `key=value` trace format), `/html` (an error page), `/ipv6` (an IPv6
//! answer to an IPv4 question), `/private` (a LAN address), `/garbage`, `/big` (10 KiB),
//! `/error` (HTTP 503), and `/silent` (accepts, then never answers).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use super::fake_http::{serve, Reply};

#[derive(Clone)]
pub struct FakeIp {
    pub base: String,
    ip: Arc<Mutex<String>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl FakeIp {
    pub fn start(ip: &str) -> FakeIp {
        let (current, hits) = (
            Arc::new(Mutex::new(ip.to_string())),
            Arc::new(Mutex::new(Vec::new())),
        );
        let (c, h) = (current.clone(), hits.clone());
        let addr = serve(move |req| {
            h.lock().unwrap().push(req.path.clone());
            let ip = c.lock().unwrap().clone();
            let text = |body: String| Reply::text(200, "text/plain", body);
            match req.path.as_str() {
                "/valid" => text(format!("{ip}\n")),
                "/trace" => text(format!(
                    "fl=12f34\nh=example\nip={ip}\nts=1700000000.1\nvisit_scheme=https\n"
                )),
                "/html" => Reply::text(
                    200,
                    "text/html",
                    "<!DOCTYPE html><html><body>Service unavailable</body></html>",
                ),
                "/ipv6" => text("2606:4700:4700::1111\n".into()),
                "/private" => text("192.168.1.20\n".into()),
                "/garbage" => Reply::text(
                    200,
                    "application/octet-stream",
                    vec![0xde, 0xad, 0xbe, 0xef, b'\n'],
                ),
                "/big" => text("9".repeat(10 * 1024)),
                "/error" => Reply::text(503, "text/plain", "busy"),
                "/silent" => Reply::Hang,
                _ => Reply::text(404, "text/plain", "not found"),
            }
        });
        FakeIp {
            base: format!("http://{addr}"),
            ip: current,
            hits,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Several service URLs, comma-separated (for STACKWIZ_IP_SERVICES).
    pub fn urls(&self, paths: &[&str]) -> String {
        paths
            .iter()
            .map(|p| self.url(p))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn set_ip(&self, ip: &str) {
        *self.ip.lock().unwrap() = ip.to_string();
    }

    /// The paths asked so far, in order.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}
