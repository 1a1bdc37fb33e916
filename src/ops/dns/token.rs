//! The Cloudflare token check `doctor` runs: its own budget, never cancelled.

use crate::cancel::Cancel;
use crate::cloudflare::Cloudflare;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::Budget;
use crate::validate::printable;

/// For `doctor`: "valid and active" when `GET /user/tokens/verify` says so, else an error
/// naming the problem (Cloudflare's code, or the token's status).
pub fn verify_token(cfg: &Config) -> Result<String> {
    // Doctor's own check: a budget of its own, never cancelled.
    let budget = Budget::new(cfg.dns.http_time_scale, &Cancel::new());
    let status = Cloudflare::new(cfg, &budget)?.verify_token()?;
    if status.status == "active" {
        Ok("valid and active".into())
    } else {
        Err(Error::with_hint(
            format!("the Cloudflare API token is {}", printable(&status.status)),
            "create a new token with Zone:Read and DNS:Edit and set STACKWIZ_CF_API_TOKEN",
        ))
    }
}
