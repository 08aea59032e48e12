//! # mailwire-pop3
//!
//! Sans-IO POP3 (RFC 1939) with CAPA and response codes (RFC 2449), STLS (RFC 2595), SASL
//! (RFC 5034) and UTF8 (RFC 6856): wire types ([`types`]), parsers ([`parse`]),
//! serializers ([`encode`]), and server ([`server`]) and client ([`client`]) state
//! machines that implement [`mailwire_core::Session`].
//!
//! ## The server driving loop
//!
//! The application answers the session's *decision* events with verbs: it checks
//! credentials, opens the maildrop with its listing, streams messages in pieces (while
//! the session has room for them, the rest when it asks with `MoreMessageData`, so that a
//! message of any size passes through a bounded window), and commits deletions after
//! `QUIT`.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use mailwire_core::{Session, Transmit};
//! use mailwire_pop3::server::{MessageInfo, ServerConfig, ServerEvent, ServerSession};
//! use mailwire_pop3::types::{ApopTimestamp, Response, ResponseCode, Uid};
//!
//! let mut config = ServerConfig::new();
//! config.allow_plaintext_auth = true; // a loopback test; otherwise only after STLS
//! let timestamp = ApopTimestamp::generate(1896, 697170952, "pop.example.org").unwrap();
//! let now = Instant::now();
//! let mut session = ServerSession::with_timestamp(Arc::new(config), timestamp, false, now);
//!
//! // The maildrop of the application: one message whose second line starts with a dot.
//! let messages: Vec<&[u8]> = vec![b"Subject: hi\r\n\r\n.dot\r\nbye\r\n"];
//! let mut deleted = Vec::new();
//! // The message being streamed: its index and how much of it was sent.
//! let mut streaming: Option<(usize, usize)> = None;
//!
//! /// Sends pieces while the session wants them; `None` once the message is finished.
//! fn feed(session: &mut ServerSession, message: &[u8], mut sent: usize) -> Option<usize> {
//!     while session.wants_message_chunk() && sent < message.len() {
//!         let piece = &message[sent..(sent + 8).min(message.len())];
//!         session.send_message_chunk(piece).unwrap(); // the session dot-stuffs
//!         sent += piece.len();
//!     }
//!     if sent == message.len() || !session.wants_message_data() {
//!         session.finish_message().unwrap();
//!         return None;
//!     }
//!     Some(sent) // the output is full: MoreMessageData comes once it has drained
//! }
//!
//! session.handle_input(b"USER demo\r\nPASS demo\r\nSTAT\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n", now);
//! let mut wire = Vec::new();
//! loop {
//!     let mut busy = false;
//!     while let Some(event) = session.poll_event() {
//!         busy = true;
//!         match event {
//!             ServerEvent::Login { user, password } => {
//!                 if user == "demo" && password.expose() == "demo" {
//!                     session.accept().unwrap();
//!                 } else {
//!                     session.reject(Response::err_with(ResponseCode::Auth, "No")).unwrap();
//!                 }
//!             }
//!             ServerEvent::Maildrop { .. } => {
//!                 let listing = messages.iter().enumerate().map(|(i, m)| MessageInfo {
//!                     size: m.len() as u64,
//!                     uid: Uid::new(format!("uid-{i}")).unwrap(),
//!                 });
//!                 session.open_maildrop(listing.collect()).unwrap();
//!             }
//!             ServerEvent::Retrieve { index, .. } => {
//!                 // For TOP the session cuts the message itself.
//!                 streaming = feed(&mut session, messages[index], 0).map(|sent| (index, sent));
//!             }
//!             ServerEvent::MoreMessageData { index } => {
//!                 let sent = streaming.map_or(0, |(_, sent)| sent);
//!                 streaming = feed(&mut session, messages[index], sent).map(|sent| (index, sent));
//!             }
//!             ServerEvent::Commit { deleted: gone } => {
//!                 deleted = gone; // remove them from the store, then:
//!                 session.accept().unwrap();
//!             }
//!             _ => {}
//!         }
//!     }
//!     while let Some(transmit) = session.poll_transmit() {
//!         busy = true;
//!         match transmit {
//!             Transmit::Data(bytes) => wire.extend_from_slice(&bytes),
//!             Transmit::StartTls => unreachable!("STLS is not enabled"),
//!             Transmit::Close => {}
//!         }
//!     }
//!     if !busy {
//!         break;
//!     }
//! }
//! assert_eq!(deleted, [0]);
//! assert!(session.is_closed());
//! let wire = String::from_utf8(wire).unwrap();
//! assert!(wire.starts_with("+OK POP3 server ready <1896.697170952@pop.example.org>\r\n"));
//! assert!(wire.contains("+OK 1 26\r\n"));
//! assert!(wire.contains("+OK 26 octets\r\nSubject: hi\r\n\r\n..dot\r\nbye\r\n.\r\n"));
//! assert!(wire.ends_with("+OK mailwire POP3 server signing off (maildrop empty)\r\n"));
//! ```

pub mod client;
pub mod encode;
#[doc(hidden)]
pub mod fuzzing;
pub mod parse;
pub mod server;
pub mod types;
