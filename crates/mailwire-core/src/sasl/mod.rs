//! SASL (RFC 4422) mechanisms as small sans-IO exchanges, client and server side.
//!
//! The protocol crates carry SASL messages base64-encoded on their own lines (SMTP `334`,
//! IMAP and POP3 `+ `); this module deals in the decoded bytes and in the mechanisms.

mod mechanism;

pub use mechanism::Mechanism;
