//! # mailwire-maildir
//!
//! A Maildir++ store — the on-disk format of Dovecot, Courier, Postfix and mutt — for
//! mailwire's servers: crash-safe delivery for SMTP, and the basics that POP3 and IMAP
//! read with.
//!
//! - [`MailStore`]: a data directory with one Maildir++ per user, `DATA/<user>/` for the
//!   INBOX and `DATA/<user>/.<Folder>/` for folders (`.` separates hierarchy levels, as
//!   in `.Archive.2024`). Names are checked so that a hostile user or folder name never
//!   leads outside the data directory.
//! - [`Maildir`]: one mailbox directory with `cur/`, `new/` and `tmp/`, created on demand
//!   with mode 0700.
//! - [`Delivery`]: a message being written into `tmp/` (it implements
//!   [`std::io::Write`]); [`Delivery::commit`] fsyncs it, links it into `new/` and fsyncs
//!   `new/`. **Only after `commit` returns `Ok` may a server answer `250`.** A delivery
//!   dropped or aborted before that leaves nothing behind, and a reader never sees a
//!   half-written message. One message for several local recipients is written once and
//!   hard-linked into every maildir ([`Delivery::commit_all`]).
//! - Reading: [`Maildir::list`] gives [`MessageEntry`] values (unique name, size, flags
//!   from the `:2,FLAGS` suffix), [`Maildir::open_message`] opens one, and
//!   [`Maildir::set_flags`] / [`Maildir::move_to_cur`] / [`Maildir::remove`] change them,
//!   coping with other sessions working on the same maildir.
//! - [`Maildir::clean_tmp`] / [`MailStore::clean_tmp`] remove leftovers of interrupted
//!   deliveries older than 36 hours; call it when the server starts.
//!
//! File names follow Dovecot's variant of the Maildir convention
//! (<http://cr.yp.to/proto/maildir.html>):
//! `<secs>.M<usecs>P<pid>Q<counter>.<host>,S=<size>,W=<size with CRLF>`, so Dovecot,
//! mutt and other Maildir readers can serve what this crate delivers (a test checks this
//! against a real Dovecot).
//!
//! Everything here is synchronous `std::fs` I/O: an async server calls it from
//! `tokio::task::spawn_blocking`.
//!
//! ## Example
//!
//! ```
//! use std::io::Write;
//! use mailwire_maildir::{Flags, Location, MailStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let data = std::env::temp_dir().join(format!("mailwire-maildir-doc-{}", std::process::id()));
//! let store = MailStore::open(&data)?;
//!
//! // SMTP: write the message as DATA arrives, then commit before answering 250.
//! let inbox = store.inbox("alice")?;
//! let mut delivery = inbox.begin_delivery()?;
//! delivery.write_all(b"From: bob@example.org\r\nSubject: hi\r\n\r\n")?;
//! delivery.write_all(b"Hello, Alice.\r\n")?;
//! let delivered = delivery.commit()?; // durable now: answer 250
//!
//! // Several local recipients: write once, link into each maildir.
//! let carol = store.inbox("carol")?;
//! let mut delivery = inbox.begin_delivery()?;
//! delivery.write_all(b"Subject: to both\r\n\r\nHi!\r\n")?;
//! let copies = delivery.commit_all(&[&carol])?;
//! assert_eq!(copies.len(), 2);
//!
//! // POP3 / IMAP: list, read, flag.
//! let messages = inbox.list()?;
//! assert_eq!(messages.len(), 2);
//! assert_eq!(messages[0].unique, delivered.unique);
//! assert_eq!(messages[0].location, Location::New);
//! let bytes = inbox.read_message(&messages[0])?;
//! assert!(bytes.ends_with(b"Hello, Alice.\r\n"));
//! let seen = inbox.set_flags(&messages[0], Flags::SEEN)?; // now cur/<unique>:2,S
//! assert_eq!(seen.location, Location::Cur);
//!
//! // Folders are Maildir++ subdirectories.
//! let sent = store.folder("alice", "Sent")?;
//! assert!(sent.path().ends_with("alice/.Sent"));
//! assert!(store.folder("alice", "../../etc").is_err());
//!
//! // At server start: remove leftovers of deliveries interrupted by a crash.
//! store.clean_tmp(std::time::SystemTime::now())?;
//! # std::fs::remove_dir_all(&data)?;
//! # Ok(())
//! # }
//! ```

mod delivery;
mod error;
mod flags;
#[doc(hidden)]
pub mod fuzzing;
mod maildir;
mod name;
mod store;
mod validate;

pub use delivery::{DeliveredMessage, Delivery};
pub use error::MaildirError;
pub use flags::Flags;
pub use maildir::{Location, Maildir, MessageEntry, TMP_MAX_AGE};
pub use name::system_hostname;
pub use store::{FOLDER_MARKER, MailStore};
pub use validate::{validate_folder_name, validate_user_name};
