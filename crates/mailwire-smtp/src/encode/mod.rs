//! Serializers for SMTP commands and replies, the exact inverse of [`crate::parse`].

mod command;
mod reply;

pub use command::*;
pub use reply::*;
