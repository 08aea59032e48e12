//! # mailwire-imap
//!
//! (documentation in progress)

pub mod encode;
pub mod frame;
pub mod parse;
pub mod types;
