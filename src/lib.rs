//! stackwiz: one core library behind two thin faces, the CLI (`cli`, `run`) and the MCP
//! server (`mcp`). Both call the operations in `ops`; nothing is written twice.

pub mod cancel;
pub mod cli;
pub mod cloudflare;
pub mod config;
pub mod docker;
pub mod dotenv;
pub mod envfile;
pub mod error;
pub mod files;
pub mod http;
pub mod ip;
pub mod mcp;
pub mod ops;
pub mod perms;
pub mod scrub;
pub mod stack;
pub mod template;
pub mod validate;
