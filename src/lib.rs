//! # mailwire
//!
//! Sans-IO mail protocol libraries for Rust: parsers, serializers and client and
//! server state machines for SMTP (with ESMTP extensions and LMTP), IMAP4rev1 and
//! MIME messages. This umbrella crate re-exports the protocol crates behind
//! features of the same name:
//!
//! | feature | crate | re-exported as |
//! |---|---|---|
//! | (always) | [`mailwire-core`](mailwire_core) | [`core`] |
//! | `smtp` | `mailwire-smtp` | `smtp` |
//! | `pop3` | `mailwire-pop3` | `pop3` |
//! | `mime` | `mailwire-mime` | `mime` |
//! | `imap` | `mailwire-imap` | `imap` |
//! | `tokio` | `mailwire-tokio` | `tokio` |
//! | `maildir` | `mailwire-maildir` | `maildir` |
//!
//! Each protocol crate documents its driving loop at its top.

pub use mailwire_core as core;
#[cfg(feature = "imap")]
pub use mailwire_imap as imap;
#[cfg(feature = "maildir")]
pub use mailwire_maildir as maildir;
#[cfg(feature = "mime")]
pub use mailwire_mime as mime;
#[cfg(feature = "pop3")]
pub use mailwire_pop3 as pop3;
#[cfg(feature = "smtp")]
pub use mailwire_smtp as smtp;
#[cfg(feature = "tokio")]
pub use mailwire_tokio as tokio;
