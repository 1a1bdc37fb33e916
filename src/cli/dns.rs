//! `stackwiz dns list|create|update|delete|sync` and `stackwiz ip`: the clap definitions
//! (doc comments are the `--help` text) and the glue that turns them into `ops::dns` calls
//! and prints the report (JSON with `--json`, else the human lines).
//!
//! The only decision made here is confirmation: `dns delete` shows what it would delete and
//! asks on a terminal; without one it needs `--yes`, so cron and agents never hang on a
//! prompt.

use std::io::IsTerminal;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};

use super::emit;
use crate::cloudflare::TTL_RULE;
use crate::error::Result;
use crate::ops::dns::{self as ops, DnsCreate, DnsDelete, DnsList, DnsUpdate, IpQuery, RecordType};
use crate::ops::{Ctx, Next, Report};

#[derive(Debug, Subcommand)]
pub enum DnsCommand {
    /// List DNS records of a zone, or of one name
    #[command(
        after_help = "Examples:\n  stackwiz dns list\n  stackwiz dns list --name app.example.com\n  \
                            stackwiz dns list --zone example.com --type A --json"
    )]
    List(ListArgs),
    /// Create a DNS record (idempotent: an identical record is left unchanged)
    #[command(
        after_help = "Examples:\n  stackwiz dns create app                 # A app.<default domain> -> this server, proxied\n  \
                            stackwiz dns create app.example.com --value 93.184.216.34 --no-proxied --ttl 300\n  \
                            stackwiz dns create app --type CNAME --value main.example.com\n  \
                            stackwiz dns create _check --type TXT --value hello"
    )]
    Create(CreateArgs),
    /// Change the value, proxying or TTL of an existing record (only the fields given)
    #[command(after_help = "Examples:\n  stackwiz dns update app --value AUTO\n  \
                            stackwiz dns update app.example.com --type A --no-proxied --ttl 600")]
    Update(UpdateArgs),
    /// Delete the records of exactly one name (only those stackwiz created, unless --force)
    #[command(
        after_help = "Examples:\n  stackwiz dns delete app\n  stackwiz dns delete app.example.com --type A --yes\n  \
                            stackwiz dns delete shop.example.com --stack shop --yes"
    )]
    Delete(DeleteArgs),
    /// Point stackwiz's A/AAAA records at this server's current public address (for cron)
    #[command(
        after_help = "Moves the records that follow this host's address: stackwiz's A/AAAA records \
                            marked `ip=auto` (detected) whose owner is a stack on this host, in the zones of \
                            the existing stacks' domains. Records given a value by hand (`ip=fixed`), other \
                            hosts' and older ones without a mark are left alone and listed (`stackwiz dns \
                            update NAME --value AUTO` lets sync move one). If the address cannot be \
                            detected, nothing changes and the exit status is 1.\n\nExamples:\n  \
                            stackwiz dns sync --dry-run\n  \
                            */5 * * * * stackwiz dns sync >>/var/log/stackwiz-sync.log 2>&1"
    )]
    Sync(SyncArgs),
}

/// `--type`: one of A, AAAA, CNAME, TXT (any case).
fn type_parser() -> impl TypedValueParser<Value = RecordType> {
    PossibleValuesParser::new(["A", "AAAA", "CNAME", "TXT"]).try_map(|s| s.parse::<RecordType>())
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The zone to list, e.g. example.com (default: the default domain's zone)
    #[arg(long, conflicts_with = "name")]
    pub zone: Option<String>,
    /// Only records of this name: a label under the default domain or a full hostname
    #[arg(long)]
    pub name: Option<String>,
    /// Only records of this type
    #[arg(long = "type", value_name = "TYPE", ignore_case = true, value_parser = type_parser())]
    pub kind: Option<RecordType>,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A label under the default domain (app), @ for the default domain, or a full hostname
    pub name: String,
    /// Record type [default: A]
    #[arg(long = "type", value_name = "TYPE", ignore_case = true, value_parser = type_parser())]
    pub kind: Option<RecordType>,
    #[command(flatten)]
    pub fields: RecordFields,
    /// A note stored after stackwiz's owner tag in the record's comment
    #[arg(long)]
    pub comment: Option<String>,
    /// Record the record as this stack's (comment stackwiz:STACK), so `stackwiz remove STACK` deletes it
    #[arg(long, value_name = "STACK")]
    pub stack: Option<String>,
    /// Replace a different record of this name and type instead of failing
    #[arg(long)]
    pub update: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// A label under the default domain, @, or a full hostname
    pub name: String,
    /// Which record, when the name has several
    #[arg(long = "type", value_name = "TYPE", ignore_case = true, value_parser = type_parser())]
    pub kind: Option<RecordType>,
    #[command(flatten)]
    pub fields: RecordFields,
}

/// The record fields `create` sets and `update` changes (only those given).
#[derive(Debug, Args)]
pub struct RecordFields {
    /// The record's value; AUTO (A/AAAA) is this server's public address (create's default)
    #[arg(long, value_name = "V|AUTO")]
    pub value: Option<String>,
    /// Proxy through Cloudflare (create's default for A, AAAA and CNAME)
    #[arg(long, overrides_with = "no_proxied")]
    pub proxied: bool,
    /// DNS only, not proxied
    #[arg(long, overrides_with = "proxied")]
    pub no_proxied: bool,
    #[arg(long, help = format!("TTL: {TTL_RULE} (create's default: 1); proxied records are always automatic"))]
    pub ttl: Option<u32>,
}

impl RecordFields {
    pub(crate) fn proxied(&self) -> Option<bool> {
        (self.proxied || self.no_proxied).then_some(self.proxied)
    }
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// A label under the default domain, @, or a full hostname (exact; no patterns)
    pub name: String,
    /// Only records of this type
    #[arg(long = "type", value_name = "TYPE", ignore_case = true, value_parser = type_parser())]
    pub kind: Option<RecordType>,
    /// Do not ask for confirmation (needed without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Also delete records stackwiz did not create
    #[arg(long, conflicts_with = "stack")]
    pub force: bool,
    /// Only the records of this stack (comment stackwiz:STACK); none there is not an error
    #[arg(long, value_name = "STACK")]
    pub stack: Option<String>,
    /// Show what would be deleted; delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Show what would change; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Sync the zones of these domains instead of the existing stacks' (repeatable)
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
}

/// `stackwiz ip`: print this server's public address.
#[derive(Debug, Args)]
#[command(
    after_help = "STACKWIZ_PUBLIC_IP wins when set; otherwise the services of STACKWIZ_IP_SERVICES \
                        are asked in order.\n\nExamples:\n  stackwiz ip\n  stackwiz ip --ipv6 --json"
)]
pub struct IpArgs {
    /// The IPv6 address instead of the IPv4 one
    #[arg(long)]
    pub ipv6: bool,
}

pub fn run(ctx: &Ctx, cmd: DnsCommand, json: bool) -> Result<()> {
    match cmd {
        DnsCommand::List(a) => {
            let req = DnsList {
                zone: a.zone,
                name: a.name,
                r#type: a.kind,
            };
            emit(json, &ops::list(ctx, &req)?)
        }
        DnsCommand::Create(a) => {
            let req = DnsCreate {
                name: a.name,
                r#type: a.kind,
                proxied: a.fields.proxied(),
                value: a.fields.value,
                ttl: a.fields.ttl,
                comment: a.comment,
                stack: a.stack,
                update: a.update,
            };
            emit(json, &ops::create(ctx, &req)?)
        }
        DnsCommand::Update(a) => {
            let req = DnsUpdate {
                name: a.name,
                r#type: a.kind,
                proxied: a.fields.proxied(),
                value: a.fields.value,
                ttl: a.fields.ttl,
            };
            emit(json, &ops::update(ctx, &req)?)
        }
        DnsCommand::Delete(a) => delete(ctx, a, json),
        DnsCommand::Sync(a) => {
            let domains = (!a.domains.is_empty()).then_some(a.domains.as_slice());
            let report = ops::sync(ctx, a.dry_run, domains)?;
            emit(json, &report)
        }
    }
}

pub fn run_ip(ctx: &Ctx, args: IpArgs, json: bool) -> Result<()> {
    emit(json, &ops::ip(ctx, &IpQuery { ipv6: args.ipv6 })?)
}

fn delete(ctx: &Ctx, a: DeleteArgs, json: bool) -> Result<()> {
    let mut req = DnsDelete {
        name: a.name,
        r#type: a.kind,
        force: a.force,
        stack: a.stack,
        dry_run: true,
    };
    if !a.dry_run {
        // Show what would go before asking; without a terminal `confirm` refuses unasked.
        if !a.yes && std::io::stdin().is_terminal() {
            eprint!("{}", ops::delete(ctx, &req)?.human());
        }
        let name = &req.name;
        super::confirm(
            a.yes,
            &format!("Delete these DNS records of {name}?"),
            &format!("dns delete {name}"),
            Next::DnsDelete {
                name: name.clone(),
                record_type: req.r#type.map(|t| t.as_str().to_string()),
                stack: req.stack.clone(),
                force: req.force,
            },
        )?;
    }
    req.dry_run = a.dry_run;
    emit(json, &ops::delete(ctx, &req)?)
}
