//! DNS operations (moved whole into `records` on the way to a split by concern).

mod records;

pub use records::*;
