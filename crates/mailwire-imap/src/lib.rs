//! # mailwire-imap
//!
//! A sans-IO IMAP4rev1 codec (RFC 3501, with the IMAP4rev2 forms of RFC 9051 where they
//! differ) and its common extensions: IDLE, LITERAL+ / LITERAL-, UIDPLUS, MOVE, ENABLE, ID,
//! NAMESPACE, UNSELECT, SPECIAL-USE, LIST-EXTENDED, LIST-STATUS, CHILDREN, ESEARCH, SASL-IR,
//! CONDSTORE / QRESYNC, BINARY, QUOTA, SORT / THREAD, COMPRESS=DEFLATE (the command) and
//! UTF8=ACCEPT. Both directions, both roles: commands and responses are parsed and
//! serialized, and serialization is the exact inverse of parsing.
//!
//! Three layers, used in this order on input:
//!
//! - [`frame`]: the [`Framer`](frame::Framer) finds where a command or response ends in a
//!   stream that arrives in arbitrary pieces, across literals (`{n}`, `{n+}`, `~{n}`); it
//!   reports synchronizing literal announcements so that a server can answer `+` or refuse,
//!   enforces limits, skips to the next message after a violation, and can hand out large
//!   literals in pieces;
//! - [`parse`]: one complete message into a typed [`Command`](types::Command) or
//!   [`Response`](types::Response), without copying its strings;
//! - [`encode`]: back to bytes, as fragments that show where a client must wait for `+`.
//!
//! [`types`] holds the values; their constructors check the grammar, so a value cannot
//! carry a CR or LF where the protocol forbids one.
//!
//! ```
//! use mailwire_imap::frame::{Frame, Framer, FramerConfig, Role};
//! use mailwire_imap::types::{CommandBody, Response, StatusKind};
//! use mailwire_imap::{encode::Fragment, parse};
//!
//! // A server reads a LOGIN whose password is a synchronizing literal, in two pieces.
//! let mut framer = Framer::new(FramerConfig::new(Role::Server));
//! framer.handle_input(b"a1 LOGIN joe {6}\r\n");
//! let Some(Frame::LiteralRequest { length: 6, .. }) = framer.poll_frame() else { panic!() };
//! framer.accept_literal().unwrap(); // and the server writes "+ Ready\r\n"
//! framer.handle_input(b"secret\r\n");
//! let Some(Frame::Message(bytes)) = framer.poll_frame() else { panic!() };
//!
//! let command = parse::command(&bytes).unwrap();
//! let CommandBody::Login { username, password } = &command.body else { panic!() };
//! assert_eq!(username.as_bytes(), b"joe");
//! assert_eq!(password.expose().as_bytes(), b"secret");
//!
//! // A client writes the same command: it must wait for "+" before the literal's data.
//! let fragments = command.encode().into_fragments();
//! assert_eq!(fragments[0], Fragment::Line(b"a1 LOGIN joe {6}\r\n".to_vec()));
//! assert!(matches!(&fragments[1], Fragment::Literal { data, .. } if data.as_ref() == b"secret"));
//!
//! // And a response, parsed and written back.
//! let response = parse::response(&bytes::Bytes::from_static(b"a1 OK [CAPABILITY IMAP4rev1 IDLE] done\r\n")).unwrap();
//! let Response::Status(status) = &response else { panic!() };
//! assert_eq!(status.kind, StatusKind::Ok);
//! let mut out = Vec::new();
//! response.encode_into(&mut out);
//! assert_eq!(out, b"a1 OK [CAPABILITY IMAP4rev1 IDLE] done\r\n");
//! ```

pub mod encode;
pub mod frame;
pub mod parse;
pub mod types;

#[doc(hidden)]
pub mod fuzzing;
