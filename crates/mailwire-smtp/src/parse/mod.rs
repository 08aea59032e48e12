//! Streaming parsers for SMTP commands and replies.

mod command;
mod reply;

pub use command::*;
pub use reply::*;
