//! `ip`: the server's public address, as the DNS operations detect it for `AUTO` values.

use super::*;
use crate::error::Result;
use crate::ip::{self, Family};
use crate::ops::Ctx;

pub fn ip(ctx: &Ctx, req: &IpQuery) -> Result<IpReport> {
    let family = if req.ipv6 { Family::Ipv6 } else { Family::Ipv4 };
    let found = ip::detect(&ctx.cfg.dns, family, &budget(ctx))?;
    Ok(IpReport {
        ip: found.ip.to_string(),
        family,
        source: found.source,
        warning: found.warning,
    })
}
