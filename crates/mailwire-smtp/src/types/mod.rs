//! SMTP wire values: commands, paths, parameters, replies, EHLO keywords.

mod command;
mod command_ref;
mod reply;

pub use command::*;
pub use command_ref::*;
pub use reply::*;
