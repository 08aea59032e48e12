//! Flags, keywords and mailbox name attributes.

use super::core::{AString, Atom};

/// A message flag (RFC 3501 `flag`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Flag {
    /// `\Answered`.
    Answered,
    /// `\Flagged`.
    Flagged,
    /// `\Deleted`.
    Deleted,
    /// `\Seen`.
    Seen,
    /// `\Draft`.
    Draft,
    /// A keyword (`$Forwarded`, `NonJunk`, …).
    Keyword(Atom),
    /// Another system flag `\Name`, kept without its backslash.
    Extension(Atom),
}

impl Flag {
    /// The flag named `name` as written on the wire (`\Seen`, `$Junk`).
    pub fn parse(name: &str) -> Option<Flag> {
        match name.strip_prefix('\\') {
            Some(sys) => Some(Flag::system(Atom::try_from(sys).ok()?)),
            None => Atom::try_from(name).ok().map(Flag::Keyword),
        }
    }
    pub(crate) fn system(a: Atom) -> Flag {
        Flag::known_system(a.as_bytes()).unwrap_or(Flag::Extension(a))
    }
    /// The system flag named `name` (without backslash, case-insensitive), if it is one of
    /// the five of RFC 3501.
    pub(crate) fn known_system(name: &[u8]) -> Option<Flag> {
        let is = |n: &[u8]| name.len() == n.len() && name.eq_ignore_ascii_case(n);
        Some(if is(b"Seen") {
            Flag::Seen
        } else if is(b"Deleted") {
            Flag::Deleted
        } else if is(b"Answered") {
            Flag::Answered
        } else if is(b"Flagged") {
            Flag::Flagged
        } else if is(b"Draft") {
            Flag::Draft
        } else {
            return None;
        })
    }
}

/// A flag in a `FLAGS` fetch item: a flag or `\Recent`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FlagFetch {
    /// A flag.
    Flag(Flag),
    /// `\Recent`.
    Recent,
}

/// A flag in a `PERMANENTFLAGS` code: a flag or `\*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FlagPerm {
    /// A flag.
    Flag(Flag),
    /// `\*`: new keywords may be created.
    Any,
}

/// A mailbox name attribute in a `LIST`/`LSUB` response (RFC 3501, 3348, 5258, 6154).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameAttribute {
    /// `\Noinferiors`.
    NoInferiors,
    /// `\Noselect`.
    NoSelect,
    /// `\Marked`.
    Marked,
    /// `\Unmarked`.
    Unmarked,
    /// `\HasChildren` (RFC 3348).
    HasChildren,
    /// `\HasNoChildren` (RFC 3348).
    HasNoChildren,
    /// `\NonExistent` (RFC 5258).
    NonExistent,
    /// `\Subscribed` (RFC 5258).
    Subscribed,
    /// `\Remote` (RFC 5258).
    Remote,
    /// `\All` (RFC 6154).
    All,
    /// `\Archive` (RFC 6154).
    Archive,
    /// `\Drafts` (RFC 6154).
    Drafts,
    /// `\Flagged` (RFC 6154).
    Flagged,
    /// `\Junk` (RFC 6154).
    Junk,
    /// `\Sent` (RFC 6154).
    Sent,
    /// `\Trash` (RFC 6154).
    Trash,
    /// `\Important` (RFC 8457; Gmail).
    Important,
    /// Any other `\Name`, kept without its backslash.
    Other(Atom),
}

const NAME_ATTRIBUTES: &[(NameAttribute, &str)] = &[
    (NameAttribute::NoInferiors, "Noinferiors"),
    (NameAttribute::NoSelect, "Noselect"),
    (NameAttribute::Marked, "Marked"),
    (NameAttribute::Unmarked, "Unmarked"),
    (NameAttribute::HasChildren, "HasChildren"),
    (NameAttribute::HasNoChildren, "HasNoChildren"),
    (NameAttribute::NonExistent, "NonExistent"),
    (NameAttribute::Subscribed, "Subscribed"),
    (NameAttribute::Remote, "Remote"),
    (NameAttribute::All, "All"),
    (NameAttribute::Archive, "Archive"),
    (NameAttribute::Drafts, "Drafts"),
    (NameAttribute::Flagged, "Flagged"),
    (NameAttribute::Junk, "Junk"),
    (NameAttribute::Sent, "Sent"),
    (NameAttribute::Trash, "Trash"),
    (NameAttribute::Important, "Important"),
];

impl NameAttribute {
    /// The attribute named by `a` (without backslash, case-insensitive).
    pub fn from_atom(a: Atom) -> NameAttribute {
        NameAttribute::known(a.as_bytes()).unwrap_or(NameAttribute::Other(a))
    }
    /// The attribute named `name` (without backslash, case-insensitive), if known.
    pub(crate) fn known(name: &[u8]) -> Option<NameAttribute> {
        NAME_ATTRIBUTES
            .iter()
            .find(|(_, n)| n.len() == name.len() && n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(v, _)| v.clone())
    }
    /// The name, without the backslash.
    pub fn name(&self) -> &str {
        match self {
            NameAttribute::Other(a) => a.as_str(),
            known => NAME_ATTRIBUTES
                .iter()
                .find(|(v, _)| v == known)
                .map(|(_, n)| *n)
                .unwrap_or(""),
        }
    }
}

/// A Gmail label in an `X-GM-LABELS` item: a system label like `\Inbox`, or a user label.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GmailLabel {
    /// `\Name`, kept without the backslash.
    System(Atom),
    /// A user label.
    Label(AString),
}
