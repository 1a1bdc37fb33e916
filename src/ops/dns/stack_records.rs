//! A stack's own records: the A record `create` makes for its domain, and every record owned
//! by `stackwiz:<stack>` that `remove` deletes. A special-use domain costs no request.

use super::*;
use crate::cloudflare::{Cloudflare, Filter, Record, Zone};
use crate::error::Result;
use crate::ops::Ctx;

/// The stack's A record: its domain -> AUTO, proxied, owned by `stackwiz:<stack>`.
/// An identical record already there is "unchanged"; a different one is an error. A
/// special-use domain (`app.localhost`) is refused before any request.
pub fn create_for_stack(ctx: &Ctx, stack_name: &str, domain: &str) -> Result<DnsChange> {
    if !zone_could_exist(domain) {
        return Err(special_use(
            "domain",
            domain,
            &format!("give the stack a real domain, e.g. {stack_name}.example.com"),
        ));
    }
    let req = DnsCreate {
        name: absolute(domain),
        stack: Some(stack_name.to_string()),
        ..DnsCreate::default()
    };
    create(ctx, &req)
}

/// What `remove STACK` deletes: every record owned by `stackwiz:<stack>`, at its domain or
/// at any other name (`dns create www --stack STACK`), in the zone of its domain and the
/// zone of the default domain; others' records stay (those at the domain are reported as
/// kept). Nothing there, or no zone holding the domain, is not an error (the stack may
/// never have had DNS), and a special-use domain costs no request at all.
pub fn delete_for_stack(ctx: &Ctx, stack_name: &str, domain: &str) -> Result<DnsDeleted> {
    crate::validate::stack_name(stack_name)?;
    let name = domain.trim_end_matches('.').to_ascii_lowercase();
    // The default domain's zone too: `dns create LABEL --stack STACK` puts records there,
    // also for a stack whose own name (`app.localhost`) no zone can hold.
    let default = checked_host("default_domain", &ctx.cfg.default_domain)
        .ok()
        .filter(|d| zone_could_exist(d));
    let own_zone_possible = zone_could_exist(domain);
    if !own_zone_possible && default.is_none() {
        return Ok(DnsDeleted::outside_every_zone(name, false));
    }
    let cf = Cloudflare::new(&ctx.cfg, &budget(ctx))?;
    let (name, home) = if own_zone_possible {
        let name = full_name(&ctx.cfg, &absolute(domain))?;
        let home = cf.find_zone(&name)?;
        (name, home)
    } else {
        (name, None)
    };
    let mut zones: Vec<Zone> = home.iter().cloned().collect();
    if let Some(default) = default {
        if let Some(zone) = cf.find_zone(&default)? {
            if !zones.iter().any(|z| z.id == zone.id) {
                zones.push(zone);
            }
        }
    }
    let mine = |r: &Record| owner_of(r) == Some(stack_name);
    let mut deleted: Vec<(Zone, Record)> = Vec::new();
    for zone in &zones {
        // Cloudflare matches the prefix case-insensitively and `shop` is a prefix of
        // `shopping`: the exact owner is checked here.
        let prefix = format!("{OWNER_PREFIX}{stack_name}");
        let filter = Filter {
            comment_prefix: Some(&prefix),
            ..Filter::default()
        };
        for r in cf.list(zone, &filter)?.into_iter().filter(|r| mine(r)) {
            deleted.push((zone.clone(), r));
        }
    }
    let kept = match &home {
        Some(zone) => cf
            .list(zone, &Filter::named(&name))?
            .into_iter()
            .filter(|r| !mine(r))
            .collect(),
        None => Vec::new(),
    };
    delete_records(&cf, home, name, deleted, kept, false)
}
