//! The string-like values of IMAP: tags, atoms, quoted strings, literals, astrings, nstrings
//! and response text.
//!
//! Every type here checks its invariant when it is built, so a value that exists can always
//! be written back to the wire without breaking a command or a response apart: no type holds
//! a CR or LF except [`Literal`], which carries its length on the wire.
//!
//! Values hold [`Bytes`], so that the parser hands out pieces of the received frame without
//! copying them.

use std::fmt;

use bytes::Bytes;

/// Why a value could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The value is empty where at least one byte is required.
    #[error("empty value")]
    Empty,
    /// The value holds a byte that this kind of value cannot carry.
    #[error("byte 0x{byte:02x} at {at} is not allowed in {kind}")]
    Byte {
        /// The kind of value.
        kind: &'static str,
        /// The offending byte.
        byte: u8,
        /// Its offset.
        at: usize,
    },
    /// A number or date field is out of range.
    #[error("{0} is out of range")]
    Range(&'static str),
    /// The value is too long for its kind.
    #[error("value too long")]
    TooLong,
}

// Character classes of RFC 3501 section 9, as a table of bit flags.
const ATOM: u8 = 1; // ATOM-CHAR
const ASTRING: u8 = 2; // ASTRING-CHAR
const TAG: u8 = 4; // ASTRING-CHAR except "+"
const LIST: u8 = 8; // list-char
const TEXT: u8 = 16; // TEXT-CHAR (CHAR except CR and LF), plus 8-bit (UTF-8 text)

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let ctl = b < 0x20 || b == 0x7f;
        let eight = b >= 0x80;
        let atom_special = matches!(
            b,
            b'(' | b')' | b'{' | b' ' | b'%' | b'*' | b'"' | b'\\' | b']'
        );
        let mut c = 0;
        if !ctl && !eight && !atom_special {
            c |= ATOM | ASTRING | LIST;
            if b != b'+' {
                c |= TAG;
            }
        }
        if b == b']' {
            c |= ASTRING | TAG | LIST;
        }
        if b == b'%' || b == b'*' {
            c |= LIST;
        }
        if b != 0 && b != b'\r' && b != b'\n' {
            c |= TEXT;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CLASS: [u8; 256] = class_table();

#[inline]
pub(crate) fn is_atom_char(b: u8) -> bool {
    CLASS[b as usize] & ATOM != 0
}
#[inline]
pub(crate) fn is_astring_char(b: u8) -> bool {
    CLASS[b as usize] & ASTRING != 0
}
#[inline]
pub(crate) fn is_tag_char(b: u8) -> bool {
    CLASS[b as usize] & TAG != 0
}
#[inline]
pub(crate) fn is_list_char(b: u8) -> bool {
    CLASS[b as usize] & LIST != 0
}
#[inline]
pub(crate) fn is_text_char(b: u8) -> bool {
    CLASS[b as usize] & TEXT != 0
}

fn check(
    kind: &'static str,
    v: &[u8],
    allow_empty: bool,
    ok: fn(u8) -> bool,
) -> Result<(), ValueError> {
    if v.is_empty() && !allow_empty {
        return Err(ValueError::Empty);
    }
    match v.iter().position(|&b| !ok(b)) {
        Some(at) => Err(ValueError::Byte {
            kind,
            byte: v[at],
            at,
        }),
        None => Ok(()),
    }
}

macro_rules! bytes_newtype {
    ($(#[$m:meta])* $name:ident, $kind:literal, $allow_empty:expr, $pred:expr) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Bytes);

        impl $name {
            /// Checks `value` and wraps it.
            pub fn new(value: impl Into<Bytes>) -> Result<Self, ValueError> {
                let value = value.into();
                check($kind, &value, $allow_empty, $pred)?;
                Ok($name(value))
            }
            /// Wraps a value already checked by the parser.
            #[inline]
            pub(crate) fn unchecked(value: Bytes) -> Self {
                debug_assert!(check($kind, &value, $allow_empty, $pred).is_ok());
                $name(value)
            }
            /// The bytes of the value, as on the wire (without quoting).
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
            /// The value as the shared [`Bytes`] it is stored in.
            pub fn to_bytes(&self) -> Bytes {
                self.0.clone()
            }
            /// The value as text, replacing invalid UTF-8.
            pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
                String::from_utf8_lossy(&self.0)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ValueError;
            fn try_from(s: &str) -> Result<Self, ValueError> {
                $name::new(Bytes::copy_from_slice(s.as_bytes()))
            }
        }
        impl TryFrom<&[u8]> for $name {
            type Error = ValueError;
            fn try_from(s: &[u8]) -> Result<Self, ValueError> {
                $name::new(Bytes::copy_from_slice(s))
            }
        }
        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> {
                $name::new(s)
            }
        }
        impl TryFrom<Vec<u8>> for $name {
            type Error = ValueError;
            fn try_from(s: Vec<u8>) -> Result<Self, ValueError> {
                $name::new(s)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.to_str_lossy())
            }
        }
        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
    };
}

bytes_newtype!(
    /// A command tag: one or more ASTRING-CHARs except `+` (RFC 3501 `tag`).
    Tag, "a tag", false, is_tag_char
);
bytes_newtype!(
    /// An atom: one or more ATOM-CHARs (no space, CTL, 8-bit or `(){%*"\]`).
    Atom, "an atom", false, is_atom_char
);
bytes_newtype!(
    /// The atom form of an astring: one or more ASTRING-CHARs (an atom that may hold `]`).
    AtomExt, "an astring atom", false, is_astring_char
);
bytes_newtype!(
    /// The content of a quoted string, unescaped: any bytes except NUL, CR and LF.
    ///
    /// 8-bit bytes are allowed (UTF-8 under RFC 6855 and RFC 9051, and what real servers
    /// send); [`IString::new`] only picks the quoted form for 7-bit values.
    Quoted, "a quoted string", true, is_text_char
);
bytes_newtype!(
    /// Human-readable text, as in a status response: no NUL, CR or LF. May be empty
    /// (RFC 9051 allows it and servers send it).
    Text, "text", true, is_text_char
);
bytes_newtype!(
    /// The free-form data of an unknown response code: text without `]`.
    CodeData, "response code data", false, |b| is_text_char(b) && b != b']'
);
bytes_newtype!(
    /// A `LIST` pattern in atom form: list-chars, including the wildcards `%` and `*`.
    ListAtom, "a list pattern", false, is_list_char
);

impl Tag {
    /// The tag as text (tags are 7-bit by construction).
    pub fn as_str(&self) -> &str {
        // Invariant: a Tag holds only 7-bit ASCII (checked in `new`).
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}
impl Atom {
    /// The atom as text (atoms are 7-bit by construction).
    pub fn as_str(&self) -> &str {
        // Invariant: an Atom holds only 7-bit ASCII (checked in `new`).
        std::str::from_utf8(&self.0).unwrap_or("")
    }
    /// Whether the atom equals `other`, ignoring ASCII case.
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.as_bytes())
    }
    /// An atom from a `'static` string; panics if it is not a valid atom (use for constants).
    pub fn from_static(s: &'static str) -> Atom {
        let b = Bytes::from_static(s.as_bytes());
        // Programmer error, not peer input: constants in code must be valid atoms.
        assert!(
            check("an atom", &b, false, is_atom_char).is_ok(),
            "invalid atom constant {s:?}"
        );
        Atom(b)
    }
}

/// How a literal is announced: `{n}` waits for the server's `+`, `{n+}` does not (LITERAL+ /
/// LITERAL-, RFC 7888).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum LiteralMode {
    /// `{n}`: the client waits for a continuation request before sending the data.
    #[default]
    Sync,
    /// `{n+}`: the data follows at once.
    NonSync,
}

/// A literal: a counted string, `{n}CRLF` followed by n bytes. May hold any byte except NUL,
/// or any byte at all when it is a `literal8` (`~{n}`, RFC 3516 BINARY).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Literal {
    data: Bytes,
    mode: LiteralMode,
    binary: bool,
}

impl Literal {
    /// A literal holding `data` (no NUL bytes), announced in `mode`.
    pub fn new(data: impl Into<Bytes>, mode: LiteralMode) -> Result<Literal, ValueError> {
        let data = data.into();
        if let Some(at) = memchr::memchr(0, &data) {
            return Err(ValueError::Byte {
                kind: "a literal",
                byte: 0,
                at,
            });
        }
        if data.len() > u32::MAX as usize {
            return Err(ValueError::TooLong);
        }
        Ok(Literal {
            data,
            mode,
            binary: false,
        })
    }
    /// A `literal8` (`~{n}`, RFC 3516): any bytes.
    pub fn binary(data: impl Into<Bytes>, mode: LiteralMode) -> Result<Literal, ValueError> {
        let data = data.into();
        if data.len() > u32::MAX as usize {
            return Err(ValueError::TooLong);
        }
        Ok(Literal {
            data,
            mode,
            binary: true,
        })
    }
    pub(crate) fn unchecked(data: Bytes, mode: LiteralMode, binary: bool) -> Literal {
        Literal { data, mode, binary }
    }
    /// The data.
    pub fn data(&self) -> &Bytes {
        &self.data
    }
    /// How it is announced.
    pub fn mode(&self) -> LiteralMode {
        self.mode
    }
    /// Whether it is a `literal8`.
    pub fn is_binary(&self) -> bool {
        self.binary
    }
    /// The same literal announced in another mode.
    pub fn with_mode(mut self, mode: LiteralMode) -> Literal {
        self.mode = mode;
        self
    }
}

impl fmt::Debug for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.data[..self.data.len().min(64)];
        write!(
            f,
            "Literal{}({}, {:?}",
            if self.binary { "8" } else { "" },
            self.data.len(),
            String::from_utf8_lossy(shown)
        )?;
        if self.data.len() > 64 {
            f.write_str("…")?;
        }
        f.write_str(")")
    }
}

/// A string: quoted or literal (RFC 3501 `string`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IString {
    /// `"…"`.
    Quoted(Quoted),
    /// `{n}` + data.
    Literal(Literal),
}

/// Longest value [`IString::new`] writes as a quoted string rather than a literal.
pub const QUOTED_MAX: usize = 1024;

impl IString {
    /// The string holding `value`, in the form a serializer should use: quoted when it is
    /// 7-bit text of at most [`QUOTED_MAX`] bytes, a synchronizing literal otherwise. Fails
    /// only on a NUL byte.
    pub fn new(value: impl Into<Bytes>) -> Result<IString, ValueError> {
        let value = value.into();
        if value.len() <= QUOTED_MAX && value.iter().all(|&b| is_text_char(b) && b < 0x80) {
            Ok(IString::Quoted(Quoted(value)))
        } else {
            Ok(IString::Literal(Literal::new(value, LiteralMode::Sync)?))
        }
    }
    /// The string's content.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            IString::Quoted(q) => q.as_bytes(),
            IString::Literal(l) => l.data(),
        }
    }
    /// The content as shared bytes.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            IString::Quoted(q) => q.to_bytes(),
            IString::Literal(l) => l.data().clone(),
        }
    }
    /// The content as text, replacing invalid UTF-8.
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl TryFrom<&str> for IString {
    type Error = ValueError;
    fn try_from(s: &str) -> Result<Self, ValueError> {
        IString::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// An astring: an atom (that may hold `]`) or a string (RFC 3501 `astring`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AString {
    /// The atom form.
    Atom(AtomExt),
    /// The string form.
    String(IString),
}

impl AString {
    /// The astring holding `value`, in the form a serializer should use: an atom when it is
    /// one (and not empty), otherwise as [`IString::new`] picks. Fails only on a NUL byte.
    pub fn new(value: impl Into<Bytes>) -> Result<AString, ValueError> {
        let value = value.into();
        if !value.is_empty() && value.iter().all(|&b| is_astring_char(b)) {
            Ok(AString::Atom(AtomExt(value)))
        } else {
            IString::new(value).map(AString::String)
        }
    }
    /// The content.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            AString::Atom(a) => a.as_bytes(),
            AString::String(s) => s.as_bytes(),
        }
    }
    /// The content as shared bytes.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            AString::Atom(a) => a.to_bytes(),
            AString::String(s) => s.to_bytes(),
        }
    }
    /// The content as text, replacing invalid UTF-8.
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl TryFrom<&str> for AString {
    type Error = ValueError;
    fn try_from(s: &str) -> Result<Self, ValueError> {
        AString::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// An nstring: a string or `NIL` (RFC 3501 `nstring`).
pub type NString = Option<IString>;

/// A `LIST`/`LSUB` mailbox pattern (RFC 3501 `list-mailbox`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListPattern {
    /// Atom form, may hold `%` and `*`.
    Atom(ListAtom),
    /// String form.
    String(IString),
}

impl ListPattern {
    /// The pattern in the form a serializer should use.
    pub fn new(value: impl Into<Bytes>) -> Result<ListPattern, ValueError> {
        let value = value.into();
        if !value.is_empty() && value.iter().all(|&b| is_list_char(b)) {
            Ok(ListPattern::Atom(ListAtom(value)))
        } else {
            IString::new(value).map(ListPattern::String)
        }
    }
    /// The pattern's content.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            ListPattern::Atom(a) => a.as_bytes(),
            ListPattern::String(s) => s.as_bytes(),
        }
    }
}

impl TryFrom<&str> for ListPattern {
    type Error = ValueError;
    fn try_from(s: &str) -> Result<Self, ValueError> {
        ListPattern::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_atom_char(b'A') && is_atom_char(b'['));
        assert!(!is_atom_char(b']') && is_astring_char(b']'));
        assert!(!is_tag_char(b'+') && is_atom_char(b'+'));
        assert!(is_list_char(b'%') && !is_atom_char(b'%'));
        assert!(!is_atom_char(0x80) && !is_atom_char(b' ') && !is_atom_char(0x7f));
        assert!(!is_text_char(b'\r') && !is_text_char(0) && is_text_char(0xc3));
    }

    #[test]
    fn invariants() {
        assert!(Tag::try_from("A001").is_ok());
        assert!(Tag::try_from("A+1").is_err());
        assert!(Tag::try_from("").is_err());
        assert!(Atom::try_from("a b").is_err());
        assert!(Quoted::try_from("a\r\nb").is_err());
        assert!(Quoted::try_from("").is_ok());
        assert!(Text::try_from("x\ny").is_err());
        assert!(Literal::new(&b"a\0"[..], LiteralMode::Sync).is_err());
        assert!(Literal::binary(&b"a\0"[..], LiteralMode::Sync).is_ok());
    }

    #[test]
    fn chooses_the_form() {
        assert!(matches!(
            AString::try_from("INBOX").unwrap(),
            AString::Atom(_)
        ));
        assert!(matches!(
            AString::try_from("a]b").unwrap(),
            AString::Atom(_)
        ));
        assert!(matches!(
            AString::try_from("").unwrap(),
            AString::String(IString::Quoted(_))
        ));
        assert!(matches!(
            AString::try_from("a b").unwrap(),
            AString::String(IString::Quoted(_))
        ));
        assert!(matches!(
            AString::try_from("a\r\nb").unwrap(),
            AString::String(IString::Literal(_))
        ));
        assert!(matches!(
            AString::try_from("Grüße").unwrap(),
            AString::String(IString::Literal(_))
        ));
        assert!(matches!(
            ListPattern::try_from("%").unwrap(),
            ListPattern::Atom(_)
        ));
    }
}
