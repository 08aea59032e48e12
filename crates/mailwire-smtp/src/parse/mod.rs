//! Streaming parsers for SMTP commands and replies.

mod command;
mod reply;
mod scan;

pub use command::*;
pub use reply::*;
