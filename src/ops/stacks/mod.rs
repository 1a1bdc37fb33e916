//! Stack operations (moved whole into `create` on the way to a split by concern).

mod create;

pub use create::*;
