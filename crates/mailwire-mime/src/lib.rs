//! mailwire-mime: parse, build and serialize Internet messages (RFC 5322, MIME,
//! RFC 2047, RFC 2231, RFC 6532), and the IMAP views of a message (RFC 3501
//! ENVELOPE, BODYSTRUCTURE and `BODY[section]` byte ranges). The [`dsn`] module
//! writes RFC 3464 delivery status notifications (bounces and delay warnings).
//!
//! # Parse, then look at it as IMAP does
//!
//! ```
//! use mailwire_mime::{BodyKind, BodyStructureOptions, Message, Section};
//!
//! let raw = b"From: =?utf-8?q?J=C3=B6rg?= <j@example.org>\r\n\
//!             Subject: Report\r\n\
//!             Content-Type: multipart/mixed; boundary=b\r\n\
//!             \r\n\
//!             --b\r\n\
//!             Content-Type: text/plain\r\n\
//!             \r\n\
//!             Hello\r\n\
//!             --b\r\n\
//!             Content-Type: application/pdf; name=r.pdf\r\n\
//!             Content-Transfer-Encoding: base64\r\n\
//!             \r\n\
//!             JVBERi0=\r\n\
//!             --b--\r\n";
//! let msg = Message::parse(&raw[..]).unwrap();
//!
//! // Headers, decoded on request.
//! let from = msg.root().header("From").unwrap();
//! assert_eq!(from.addresses()[0], mailwire_mime::Mailbox::new("Jörg", "j@example.org").into());
//!
//! // The part tree with exact byte ranges, and decoded bodies.
//! let pdf = msg.root().children().nth(1).unwrap();
//! assert_eq!(&pdf.decoded_body()[..], b"%PDF-");
//!
//! // ENVELOPE: raw strings, Sender and Reply-To default to From.
//! let env = msg.envelope();
//! assert_eq!(env.subject.as_deref(), Some(&b"Report"[..]));
//! assert_eq!(env.sender(), env.from());
//! assert_eq!(env.from()[0].name.as_deref(), Some(&b"=?utf-8?q?J=C3=B6rg?="[..]));
//!
//! // BODYSTRUCTURE data.
//! let bs = msg.body_structure(&BodyStructureOptions::default());
//! let BodyKind::Multipart(parts) = &bs.kind else { unreachable!() };
//! let BodyKind::Text { fields, lines } = &parts[0].kind else { unreachable!() };
//! assert_eq!((fields.size, *lines), (5, 0)); // the CRLF before --b is the boundary's
//!
//! // BODY[1], BODY[2.MIME], BODY[HEADER.FIELDS (Subject)].
//! let body1 = msg.section(&Section::parse("1").unwrap()).unwrap();
//! assert_eq!(body1.to_vec(), b"Hello");
//! let fields = msg.section(&Section::parse("HEADER.FIELDS (Subject)").unwrap()).unwrap();
//! assert_eq!(fields.to_vec(), b"Subject: Report\r\n\r\n");
//! assert_eq!(fields.len(), 19);
//! ```
//!
//! # Build and serialize
//!
//! ```
//! use mailwire_mime::{DateTime, Mailbox, Message, MessageBuilder, WriteOptions};
//!
//! let bytes = MessageBuilder::new()
//!     .from(Mailbox::new("Zoë", "zoe@example.org"))
//!     .to("bob@example.com")
//!     .subject("Grüße")
//!     .date(DateTime::from_unix(1_700_000_000)) // the crate never reads the clock
//!     .text_body("Hallo Bob,\nanbei der Bericht.\n")
//!     .html_body("<p>Hallo Bob</p>")
//!     .attachment("application/pdf", "bericht.pdf", b"%PDF-".to_vec())
//!     .to_vec(&WriteOptions::new().unique(42)) // boundaries and Message-ID from `unique`
//!     .unwrap();
//!
//! let back = Message::parse(&bytes[..]).unwrap();
//! assert_eq!(back.root().header("Subject").unwrap().text(), "Grüße");
//! assert_eq!(back.root().media_subtype(), "mixed");
//! assert!(bytes.split(|&b| b == b'\n').all(|l| l.len() <= 79));
//! ```
//!
//! Parsing never panics on any input; [`Limits`] bound size, depth, part count and
//! header fields. The structure is found by our own RFC 2046 scanner and header
//! values and bodies are decoded with mail-parser (see the `parse` module notes in
//! [`Message`]).
#![forbid(unsafe_code)]

mod build;
mod downgrade;
pub mod dsn;
mod encoding;
#[doc(hidden)]
pub mod fuzzing;
mod header;
mod imap;
mod parse;
mod syntax;

pub use build::{BuildError, MessageBuilder, MimePart, Transport, WriteOptions};
pub use downgrade::{Downgrade, to_seven_bit};
pub use header::{Address, ContentType, DateTime, Group, Header, Mailbox};
pub use imap::{
    AddressList, BodyExtension, BodyFields, BodyKind, BodyStructure, BodyStructureOptions, Chunk,
    Disposition, Envelope, EnvelopeAddress, Section, SectionBytes, SectionText,
};
pub use parse::{Limits, Message, Params, ParseError, Part, TransferEncoding};
