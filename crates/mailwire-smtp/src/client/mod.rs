//! The SMTP / LMTP client state machine: [`ClientSession`].
//!
//! ## Driving it
//!
//! A [`ClientSession`] implements [`mailwire_core::Session`]: feed it what the server
//! sends ([`handle_input`](Session::handle_input), [`handle_eof`](Session::handle_eof)),
//! call [`handle_timeout`](Session::handle_timeout) when
//! [`poll_timeout`](Session::poll_timeout) says, and drain
//! [`poll_event`](Session::poll_event) and [`poll_transmit`](Session::poll_transmit)
//! until both are empty. The application's verbs are
//! [`send_mail`](ClientSession::send_mail) (any number, at any time, even before the
//! greeting) and [`quit`](ClientSession::quit). Every message ends with one
//! [`ClientEvent::Delivered`] or [`ClientEvent::Failed`]; every session ends with one
//! [`ClientEvent::Closed`] and [`Transmit::Close`].
//!
//! A canned server transcript, one server turn per input (a real driver reads a socket and
//! writes `wire` to it):
//!
//! ```
//! use std::time::Instant;
//! use bytes::Bytes;
//! use mailwire_core::{Session, Transmit};
//! use mailwire_smtp::client::{ClientConfig, ClientEvent, ClientSession, Envelope};
//! use mailwire_smtp::types::{ForwardPath, Host, Mailbox, ReversePath};
//!
//! let now = Instant::now();
//! let config = ClientConfig::new(Host::try_from("client.example.org").unwrap());
//! let mut client = ClientSession::new(config, now);
//! let from = ReversePath::Mailbox(Mailbox::try_from("alice@example.org").unwrap());
//! let to = ForwardPath::Mailbox(Mailbox::try_from("bob@example.com").unwrap());
//! let message = Bytes::from_static(b"Subject: hi\r\n\r\n.hello\n");
//! let id = client.send_mail(Envelope::new(from).to(to), message).unwrap();
//! client.quit();
//!
//! let server = [
//!     "220 mx.example.com ESMTP\r\n",
//!     "250-mx.example.com\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n",
//!     "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n354 Go ahead\r\n",
//!     "250 2.0.0 Queued as 4XyZ\r\n",
//!     "221 2.0.0 Bye\r\n",
//! ];
//! let mut wire = Vec::new();
//! let mut events = Vec::new();
//! for input in server {
//!     client.handle_input(input.as_bytes(), now);
//!     loop {
//!         let mut busy = false;
//!         while let Some(event) = client.poll_event() {
//!             busy = true;
//!             events.push(event); // an application would look at it here
//!         }
//!         while let Some(transmit) = client.poll_transmit() {
//!             busy = true;
//!             match transmit {
//!                 Transmit::Data(bytes) => wire.extend_from_slice(&bytes),
//!                 Transmit::StartTls => unreachable!("not offered"),
//!                 Transmit::Close => {}
//!             }
//!         }
//!         if !busy {
//!             break;
//!         }
//!     }
//! }
//! assert!(client.is_closed());
//! assert_eq!(
//!     String::from_utf8(wire).unwrap(),
//!     "EHLO client.example.org\r\n\
//!      MAIL FROM:<alice@example.org> SIZE=23\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n\
//!      Subject: hi\r\n\r\n..hello\r\n.\r\n\
//!      QUIT\r\n"
//! );
//! assert!(matches!(&events[..], [
//!     ClientEvent::Greeting(_),
//!     ClientEvent::Ready { .. },
//!     ClientEvent::Recipient { index: 0, accepted: true, .. },
//!     ClientEvent::Delivered { id: delivered, .. },
//!     ClientEvent::Closed { error: None },
//! ] if *delivered == id));
//! ```
//!
//! ## What the session does
//!
//! - **Opening.** Waits for `220` (anything else, `554` usually, ends the session with
//!   [`ClientError::GreetingRefused`]), sends `EHLO` (`LHLO` for LMTP) and falls back to
//!   `HELO` on `500` / `502` (not for LMTP). Then `STARTTLS` per [`TlsPolicy`]: on `220`
//!   it outputs [`Transmit::StartTls`], forgets the capabilities, drops every byte
//!   received after the `220`, and sends `EHLO` again (RFC 3207 4.2). Then `AUTH` when
//!   [`ClientConfig::credentials`] are set, with the mechanism
//!   [`choose_mechanism`](mailwire_core::sasl::choose_mechanism) picks (never PLAIN,
//!   LOGIN or a bearer token without TLS unless
//!   [`allow_plaintext_auth`](ClientConfig::allow_plaintext_auth)), with an initial
//!   response when the mechanism has one and the command stays within 512 octets, and
//!   `334` challenges answered by [`ClientExchange`](mailwire_core::sasl::ClientExchange)
//!   (`*` when a challenge cannot be answered). Then [`ClientEvent::Ready`].
//! - **Pipelining (RFC 2920).** When the server offers `PIPELINING` (and
//!   [`ClientConfig::pipelining`] is on), `RSET` (if needed), `MAIL`, every `RCPT` and
//!   `DATA` (or the first `BDAT` chunk) leave in one group, and replies are matched in
//!   order. Otherwise the client sends one command and waits for its reply before the
//!   next: [`ClientSession::outstanding`] never exceeds one. A `354` to a pipelined
//!   `DATA` of a transaction that already failed is answered with a lone `.`.
//! - **Content.** After `354` the message is CRLF-normalised and dot-stuffed with
//!   [`DotEncoder`](mailwire_core::dot::DotEncoder), [`ClientConfig::data_piece_size`]
//!   octets per [`poll_transmit`](Session::poll_transmit), then `.` CRLF: the stuffed
//!   message never exists whole. With `CHUNKING` (and [`ClientConfig::chunking`]) it
//!   goes as `BDAT` chunks of [`ClientConfig::chunk_size`], CRLF-normalised but not
//!   stuffed, the last one `LAST`; a `BODY=BINARYMIME` message always goes by `BDAT`,
//!   untouched. Without pipelining each chunk waits for the previous chunk's `250`; with
//!   it, chunks after the first follow as fast as the driver takes them once `MAIL` and
//!   every `RCPT` are answered. No chunk follows a failed one (RFC 3030 2).
//! - **Parameters.** See [`ClientSession::send_mail`]: `SIZE`, `SMTPUTF8`, `BODY` are
//!   managed by the client; a message the server cannot take (too large, needs an
//!   extension it lacks) fails locally with [`MessageFailure::Local`] before anything is
//!   sent for it, and the session goes on.
//! - **Several messages** are sent one after another on the session. `RSET` is sent
//!   before the next `MAIL` only when the previous transaction failed midway: `MAIL`
//!   refused, every recipient refused, `DATA` refused, or any `BDAT` refused (RFC 3030
//!   makes the state after a failed `BDAT` indeterminate). After the reply to the end of
//!   a message (positive or not) the transaction is over (RFC 5321 4.1.1.4), so no
//!   `RSET` is spent there.
//! - **LMTP** (RFC 2033): after the end of the message, one
//!   [`ClientEvent::RecipientDelivery`] per accepted recipient, in order, then
//!   `Delivered` if any was positive, else `Failed` with [`MessageFailure::Final`].
//! - **Errors.** A `421` at any point, a malformed reply, a reply nothing waits for, an
//!   end of stream before `QUIT` is answered, or a timeout: [`ClientEvent::Closed`] with
//!   the [`ClientError`] and [`Transmit::Close`]; messages not done fail with
//!   [`MessageFailure::SessionEnded`]. Nothing the server sends can make the session
//!   panic or buffer without bound ([`ClientConfig::reply_limits`]).
//! - **Timeouts** follow RFC 5321 4.5.3.2 ([`Timeouts`]): each reply waited for has its
//!   own deadline, restarting when the next one is at the front. While content is being
//!   produced, the deadline is the "data block" one and restarts with progress. A verb
//!   or [`poll_transmit`](Session::poll_transmit) cannot read the clock, so a deadline
//!   they start is measured from the last time the session was given, and the next
//!   [`handle_timeout`](Session::handle_timeout) (or input) restarts it from its `now`
//!   instead of failing: such a deadline may be late by up to one period, never early.

mod body;
mod config;
mod envelope;
mod event;
mod input;
mod session;

pub use config::{ClientConfig, Timeouts, TlsPolicy};
pub use envelope::{Envelope, Recipient};
pub use event::{
    ClientApiError, ClientError, ClientEvent, LocalRefusal, MessageFailure, TimeoutStage,
    TransactionId,
};
pub use session::ClientSession;

#[cfg(doc)]
use mailwire_core::{Session, Transmit};
