//! # mailwire-pop3
//!
//! Sans-IO POP3 (RFC 1939) with CAPA and response codes (RFC 2449), STLS (RFC 2595), SASL
//! (RFC 5034) and UTF8 (RFC 6856): wire types, parsers, serializers, and server and
//! client state machines.

pub mod client;
pub mod encode;
#[doc(hidden)]
pub mod fuzzing;
pub mod parse;
pub mod server;
pub mod types;
