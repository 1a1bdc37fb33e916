//! DNS operations both faces call: list, create, update, delete, sync, ip, and the helpers
//! the stack operations use (`create_for_stack`, `delete_for_stack`, `verify_token`).
//!
//! Policy lives here, wire format in `cloudflare`: defaults (A, AUTO, proxied), validation
//! before any request, idempotency (an identical record is "unchanged" with no write; a
//! different one is an error unless `update`), and ownership. Every record stackwiz creates
//! carries the comment `stackwiz:<owner>` (the stack name, or the name as given), so
//! `delete`, `remove` and `sync` touch only stackwiz's own records unless forced. An `AUTO`
//! value is detected before anything is written: a failed detection changes nothing.
//!
//! An A/AAAA record's comment also says where its value came from: `stackwiz:<owner>
//! ip=auto` (detected) or `ip=fixed` (given by hand), before any note of the user's. Only an
//! `ip=auto` record of a stack on this host follows the address in `sync`; a pinned record,
//! another host's stack and a record from before the intent was recorded (no `ip=` token:
//! its value may have been typed by hand, so it is never moved unasked) are left alone and
//! reported. `dns update NAME --value AUTO` (or an address) records the intent.
//!
//! Each operation makes its requests within one time budget ([`Budget`], 30 s) that also
//! ends on the operation's cancellation token.
//!
//! Request structs deserialize straight from MCP tool arguments (unknown fields are
//! rejected so a misspelt argument is not silently ignored); reports serialize to the JSON
//!
//! The rooms: `request` (what each operation takes), `report` (what each returns),
//! `records` (list, create, update, delete), `stack_records` (a stack's own records),
//! `sync`, `ip`, `token` (doctor's check); and the rules they share: `names`, `values`,
//! `owner` (the ownership comment).

mod ip;
mod names;
mod owner;
mod records;
mod report;
mod request;
mod stack_records;
mod sync;
mod token;
mod values;

pub use ip::ip;
pub use names::zone_could_exist;
pub use owner::{owner_of, Intent, OWNER_PREFIX};
pub use records::{create, delete, list, update};
pub use report::*;
pub use request::*;
pub use stack_records::{create_for_stack, delete_for_stack};
pub use sync::{sync, sync_stacks};
pub use token::verify_token;

// The rules the operations share, for the rooms below (`use super::*`).
use names::*;
use owner::*;
use records::delete_records;
use values::*;

use super::Ctx;
use crate::http::Budget;

/// The time budget of one operation: 30 s (scaled) for all its requests, ending early when
/// the operation is cancelled.
fn budget(ctx: &Ctx) -> Budget {
    Budget::new(ctx.cfg.dns.http_time_scale, &ctx.cancel)
}

#[cfg(test)]
mod tests;
