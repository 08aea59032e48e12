//! SMTP wire values: commands, paths, parameters, replies, EHLO keywords.

mod command;
mod reply;

pub use command::*;
pub use reply::*;
