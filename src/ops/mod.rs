//! The operations both faces call. The CLI (`cli`) and the MCP server (`mcp`) turn their
//! input into these calls and render the returned reports; no operation is written twice.
//!
//! Every operation returns a serializable report. `--json` and MCP `structuredContent` are
//! the report serialized; the CLI's human output is [`Report::human`]. Reports never hold a
//! secret (token, `.env` values, generated keys). A report's next steps and advice are data
//! ([`Next`], [`Hint`]) that each face serializes in its own words (`next::in_words_of`).

use serde::Serialize;

use crate::cancel::Cancel;
use crate::config::Config;
pub use crate::docker::Stream;

pub mod dns;
pub mod doctor;
pub mod next;
pub mod stacks;

pub use next::{Face, Hint, Next};

/// What an operation returns: JSON for scripts and agents, a few lines for people.
pub trait Report: Serialize {
    fn human(&self) -> String;
}

/// Everything an operation needs: the resolved configuration and how to treat child output.
pub struct Ctx {
    pub cfg: Config,
    pub stream: Stream,
    /// Cancelled when the caller no longer wants the result (an MCP cancel, the client
    /// gone, a signal); long work and every child process stop on it.
    pub cancel: Cancel,
}

impl Ctx {
    pub fn new(cfg: Config, stream: Stream) -> Ctx {
        Ctx {
            cfg,
            stream,
            cancel: Cancel::new(),
        }
    }
}
