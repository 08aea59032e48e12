//! mailwire-mime: parse, build and serialize Internet messages (RFC 5322, MIME), and
//! the IMAP views of a message.
#![forbid(unsafe_code)]

mod encoding;
mod header;
mod imap;
mod parse;
mod syntax;

pub use header::{Address, ContentType, DateTime, Group, Header, Mailbox};
pub use imap::{
    BodyExtension, BodyFields, BodyKind, BodyStructure, BodyStructureOptions, Chunk, Disposition,
    Envelope, EnvelopeAddress, Section, SectionBytes, SectionText,
};
pub use parse::{Limits, Message, ParseError, Part, TransferEncoding};
