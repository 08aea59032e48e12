//! # mailwire-core
//!
//! What mailwire's SMTP, POP3 and IMAP crates share, written once:
//!
//! - [`line`](mod@line): CRLF line framing with a length limit and recovery to the next line;
//! - [`dot`]: streaming dot-stuffing and un-stuffing (SMTP `DATA`, POP3 multi-line
//!   responses);
//! - [`sasl`]: the SASL mechanisms PLAIN, LOGIN, CRAM-MD5, XOAUTH2 and OAUTHBEARER, client
//!   and server side, as small sans-IO exchanges;
//! - [`Secret`]: a wrapper for credentials that never shows them in `Debug` output;
//! - [`Session`]: the sans-IO contract every protocol state machine implements and that
//!   `mailwire-tokio` drives.
//!
//! ## The driving loop
//!
//! Every state machine is driven the same way: feed it what arrives, then drain its
//! outputs until they are empty, then wait for more input or the next deadline.
//!
//! ```
//! use std::time::Instant;
//! use mailwire_core::{Session, Transmit};
//!
//! /// One turn of a driver: `input` is what the socket gave us (`None` at end of stream).
//! fn turn<S: Session>(session: &mut S, input: Option<&[u8]>, now: Instant,
//!                     wire: &mut Vec<u8>, events: &mut Vec<S::Event>) -> bool {
//!     match input {
//!         Some(bytes) => session.handle_input(bytes, now),
//!         None => session.handle_eof(now),
//!     }
//!     if session.poll_timeout().is_some_and(|deadline| deadline <= now) {
//!         session.handle_timeout(now);
//!     }
//!     // Drain in this order, until both are empty: events may lead the application to
//!     // call verbs on the session, which queue more bytes to send.
//!     loop {
//!         let mut progressed = false;
//!         while let Some(event) = session.poll_event() {
//!             events.push(event); // an application would decide here
//!             progressed = true;
//!         }
//!         while let Some(transmit) = session.poll_transmit() {
//!             progressed = true;
//!             match transmit {
//!                 Transmit::Data(bytes) => wire.extend_from_slice(&bytes),
//!                 Transmit::StartTls => { /* flush `wire`, then do the TLS handshake */ }
//!                 Transmit::Close => return false,
//!             }
//!         }
//!         if !progressed {
//!             return true;
//!         }
//!     }
//! }
//! # let _ = turn::<mailwire_core::session::tests::Echo>;
//! ```

pub mod dot;
#[doc(hidden)]
pub mod fuzzing;
pub mod line;
pub mod sasl;
mod secret;
pub mod session;

pub use secret::Secret;
pub use session::{Session, Transmit};
