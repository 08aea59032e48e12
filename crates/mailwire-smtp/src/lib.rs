//! # mailwire-smtp
//!
//! Sans-IO SMTP (RFC 5321) with ESMTP extensions and LMTP: wire types, streaming parsers,
//! serializers, and client and server state machines.

pub mod client;
pub mod encode;
#[doc(hidden)]
pub mod fuzzing;
pub mod parse;
pub mod server;
pub mod types;
