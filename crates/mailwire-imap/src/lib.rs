//! # mailwire-imap
//!
//! (documentation in progress)

pub mod frame;
pub mod types;
