//! `dns sync`: point the stackwiz A/AAAA records that follow this host's address (marked
//! `ip=auto`, owned by a stack on this host) at the detected address, and report every other
//! stackwiz A/AAAA record as left alone, with why.

use std::net::IpAddr;

use super::*;
use crate::cloudflare::{Cloudflare, Fields, Filter, Record, Zone};
use crate::error::Result;
use crate::ip::{self, Family};
use crate::ops::Ctx;

/// Point the stackwiz A/AAAA records that follow this host's address at the detected one:
/// those marked `ip=auto` whose owner is a stack on this host, in the zones of `domains`
/// (default: the domains of this host's stacks). Every other stackwiz A/AAAA record there
/// is left alone and reported. The address is detected (once per family, only when a
/// record of that family follows it) before any write; a failed detection changes nothing.
/// Records already right cost no write.
pub fn sync(ctx: &Ctx, dry_run: bool, domains: Option<&[String]>) -> Result<SyncReport> {
    let cfg = &ctx.cfg;
    let stacks = crate::stack::scan(cfg)?;
    let here: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
    let domains: Vec<String> = match domains {
        Some(d) => d.to_vec(),
        None => {
            let mut d: Vec<String> = stacks.iter().filter_map(|s| s.domain.clone()).collect();
            d.sort();
            d.dedup();
            d
        }
    };
    let mut report = SyncReport {
        dry_run,
        ..SyncReport::default()
    };
    let public = public_domains(&domains, &mut report)?;
    if public.is_empty() {
        return Ok(report);
    }
    let budget = budget(ctx);
    let cf = Cloudflare::new(cfg, &budget)?;
    find_zones(&cf, public, &mut report)?;
    let follow = followers(&cf, &here, &mut report)?;
    report.checked = follow.len();
    let detect = |family: Family| -> Result<Option<IpAddr>> {
        let kind = if family == Family::Ipv4 { "A" } else { "AAAA" };
        if follow.iter().any(|(_, r)| r.kind == kind) {
            Ok(Some(ip::detect(&cfg.dns, family, &budget)?.ip))
        } else {
            Ok(None)
        }
    };
    let (v4, v6) = (detect(Family::Ipv4)?, detect(Family::Ipv6)?);
    report.ipv4 = v4.map(|ip| ip.to_string());
    report.ipv6 = v6.map(|ip| ip.to_string());
    move_records(&cf, &follow, v4, v6, &mut report)?;
    Ok(report)
}

/// The domains a zone could hold, with their checked host names. Special-use names
/// (LAN-only stacks) are skipped unasked, and alone need no token.
fn public_domains<'a>(
    domains: &'a [String],
    report: &mut SyncReport,
) -> Result<Vec<(&'a String, String)>> {
    let mut public = Vec::new();
    for domain in domains {
        let host = checked_host("domain", domain)?;
        if zone_could_exist(&host) {
            public.push((domain, host));
        } else {
            report.skipped.push(domain.clone());
        }
    }
    Ok(public)
}

/// The zones holding the domains, each once; a domain no zone of this account holds is
/// skipped.
fn find_zones(
    cf: &Cloudflare,
    public: Vec<(&String, String)>,
    report: &mut SyncReport,
) -> Result<()> {
    for (domain, host) in public {
        match cf.find_zone(&host)? {
            Some(zone) if !report.zones.iter().any(|z| z.id == zone.id) => report.zones.push(zone),
            Some(_) => {}
            None => report.skipped.push(domain.clone()),
        }
    }
    Ok(())
}

/// The stackwiz A/AAAA records in the report's zones that follow this host's address;
/// every other one goes into the report as left alone, with why.
fn followers(
    cf: &Cloudflare,
    here: &[&str],
    report: &mut SyncReport,
) -> Result<Vec<(Zone, Record)>> {
    let mut follow = Vec::new();
    for zone in &report.zones {
        let filter = Filter {
            comment_prefix: Some(OWNER_PREFIX),
            ..Filter::default()
        };
        for r in cf.list(zone, &filter)? {
            if !matches!(r.kind.as_str(), "A" | "AAAA") {
                continue;
            }
            let Some(marker) = Marker::of(&r) else {
                continue;
            };
            let reason = match marker.intent {
                Some(Intent::Fixed) => Some(LeftReason::Fixed),
                _ if !here.contains(&marker.owner) => Some(LeftReason::NotAStackHere),
                None => Some(LeftReason::NoIntent),
                Some(Intent::Auto) => None,
            };
            match reason {
                Some(reason) => report.left_alone.push(SyncLeft {
                    id: r.id.clone(),
                    r#type: r.kind.clone(),
                    name: r.name.clone(),
                    content: r.content.clone(),
                    reason,
                }),
                None => follow.push((zone.clone(), r)),
            }
        }
    }
    Ok(follow)
}

/// Point each follower not already there at the detected address of its family (no write
/// in a dry run).
fn move_records(
    cf: &Cloudflare,
    follow: &[(Zone, Record)],
    v4: Option<IpAddr>,
    v6: Option<IpAddr>,
    report: &mut SyncReport,
) -> Result<()> {
    for (zone, r) in follow {
        let Some(ip) = (if r.kind == "A" { v4 } else { v6 }) else {
            continue;
        };
        if r.content.parse::<IpAddr>().is_ok_and(|old| old == ip) {
            continue;
        }
        if !report.dry_run {
            cf.patch(
                zone,
                r,
                &Fields {
                    content: Some(ip.to_string()),
                    ..Fields::default()
                },
            )?;
            report.writes += 1;
        }
        report.changes.push(SyncChange {
            id: r.id.clone(),
            r#type: r.kind.clone(),
            name: r.name.clone(),
            from: r.content.clone(),
            to: ip.to_string(),
        });
    }
    Ok(())
}

/// `sync` over the domains of the existing stacks (what `stackwiz dns sync` and the MCP
/// tool run).
pub fn sync_stacks(ctx: &Ctx, dry_run: bool) -> Result<SyncReport> {
    sync(ctx, dry_run, None)
}
