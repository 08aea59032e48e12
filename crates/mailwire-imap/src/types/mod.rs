//! Wire values: what commands and responses are made of.
//!
//! Each type makes invalid values unrepresentable: its constructors check the grammar, so
//! that the serializer cannot be made to write a CR or LF where the protocol forbids one.

mod command;
mod core;
mod datetime;
mod flag;
mod mailbox;
mod response;
mod sequence;

pub use self::command::*;
pub use self::core::{
    AString, Atom, AtomExt, CodeData, IString, ListAtom, ListPattern, Literal, LiteralMode,
    NString, QUOTED_MAX, Quoted, Tag, Text, ValueError,
};
pub(crate) use self::core::{
    is_astring_char, is_atom_char, is_list_char, is_tag_char, is_text_char,
};
pub(crate) use self::datetime::MONTHS;
pub use self::datetime::{Date, DateTime};
pub use self::flag::{Flag, FlagFetch, FlagPerm, GmailLabel, NameAttribute};
pub use self::mailbox::{Mailbox, Utf7Error, decode_utf7, encode_utf7};
pub use self::response::*;
pub(crate) use self::response::{SIMPLE_CAPABILITIES, SIMPLE_CODES};
pub use self::sequence::{SeqNum, SeqRange, SequenceSet};
