//! Parsers: one complete command or response (as the [`Framer`](crate::frame::Framer)
//! hands it out) into its typed value.
//!
//! The input is a [`Bytes`] holding one message, CRLF included; the values returned share
//! its memory (strings and literal data are not copied, except quoted strings with escapes).
//! Each message is parsed once, in one pass: the [framer](crate::frame) already found where
//! it ends, so the parser never sees a partial message from the framer. A caller that does
//! not use the framer gets [`ParseError::Incomplete`] for a message that is cut short.
//!
//! The parser is a hand-written recursive descent over the RFC 3501 section 9 grammar (with
//! RFC 4466 and the extensions' ABNF): on a complete frame, nom's streaming machinery has
//! nothing left to do, and one pass without backtracking is what makes it fast.
//!
//! ## Tolerances (client side: parsing responses)
//!
//! Real servers are not perfect; the response parser accepts, and tests, these deviations:
//! - an empty response text (`* OK\r\n`, `A1 OK [READ-WRITE]\r\n`), and a text after a
//!   code without the separating space;
//! - spaces before the final CRLF and before a closing parenthesis (`* SEARCH 1 2 \r\n`,
//!   Yahoo's `FETCH (UID 1 )`);
//! - `NIL` where a string is due in a body structure (type, subtype, encoding), read as an
//!   empty string; `()` for an empty parameter list (Courier), read as no parameters;
//! - lower-case keywords (`* ok`, `fetch`), which the grammar allows anyway;
//! - 8-bit bytes in quoted strings and response text (servers send raw UTF-8);
//! - `+` without a following space (`+\r\n`);
//! - a `message/rfc822` part sent without envelope and body (as a basic part), and a
//!   `text/*` part without a line count;
//! - a date-time with a one-digit day without the leading space (`"1-Feb-2024 …"`);
//! - Gmail's `X-GM-MSGID`, `X-GM-THRID` and `X-GM-LABELS` items.

use std::num::NonZeroU32;

use bytes::Bytes;

use crate::types::*;

mod command;
mod response;

pub use command::{AppendHead, append_head, append_tail, authenticate_data, command, idle_done};
pub use response::response;
pub use response::{FetchHead, FetchTail, StreamedItem, fetch_head, fetch_tail};

/// Why a message could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input ends before the message does.
    #[error("incomplete message")]
    Incomplete,
    /// The message does not follow the grammar.
    #[error("syntax error at byte {at}: expected {expected}")]
    Syntax {
        /// The message's tag, when it starts with a valid one (a server answers `tag BAD`).
        tag: Option<Tag>,
        /// Offset of the error in the message.
        at: usize,
        /// What the grammar expected there.
        expected: &'static str,
    },
}

impl ParseError {
    /// The tag of the message, if it has a valid one.
    pub fn tag(&self) -> Option<&Tag> {
        match self {
            ParseError::Syntax { tag, .. } => tag.as_ref(),
            ParseError::Incomplete => None,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Fail {
    at: usize,
    expected: &'static str,
    incomplete: bool,
}

pub(crate) type R<T> = Result<T, Fail>;

/// An upper-cased keyword of at most 32 bytes (longer ones never match).
pub(crate) struct Kw {
    buf: [u8; 32],
    len: usize,
}

impl Kw {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The cursor over one message.
pub(crate) struct P<'a> {
    src: &'a Bytes,
    pub(crate) pos: usize,
    depth: u32,
}

/// How deep parentheses may nest (body structures, search keys, threads, extension values):
/// deeper input is refused instead of exhausting the stack.
pub const MAX_DEPTH: u32 = 64;

impl<'a> P<'a> {
    pub(crate) fn new(src: &'a Bytes) -> P<'a> {
        P {
            src,
            pos: 0,
            depth: 0,
        }
    }

    pub(crate) fn finish<T>(&self, r: R<T>, tag: Option<Tag>) -> Result<T, ParseError> {
        r.map_err(|f| {
            if f.incomplete {
                ParseError::Incomplete
            } else {
                ParseError::Syntax {
                    tag,
                    at: f.at,
                    expected: f.expected,
                }
            }
        })
    }

    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        let src: &'a [u8] = self.src;
        &src[self.pos.min(src.len())..]
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.get(self.pos + n).copied()
    }

    /// Enters one level of nesting.
    pub(crate) fn enter(&mut self) -> R<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Fail {
                at: self.pos,
                expected: "less nesting",
                incomplete: false,
            });
        }
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub(crate) fn fail<T>(&self, expected: &'static str) -> R<T> {
        Err(Fail {
            at: self.pos,
            expected,
            incomplete: self.pos >= self.src.len(),
        })
    }

    #[inline]
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    #[inline]
    pub(crate) fn byte(&mut self, b: u8, expected: &'static str) -> R<()> {
        if self.eat(b) {
            Ok(())
        } else {
            self.fail(expected)
        }
    }

    #[inline]
    pub(crate) fn sp(&mut self) -> R<()> {
        self.byte(b' ', "a space")
    }

    /// CRLF at the end of a message, after optional stray spaces.
    pub(crate) fn end(&mut self) -> R<()> {
        while self.eat(b' ') {}
        if self.rest().starts_with(b"\r\n") {
            self.pos += 2;
            if self.pos == self.src.len() {
                return Ok(());
            }
            return self.fail("the end of the message");
        }
        if self.rest() == b"\r" {
            self.fail("LF")
        } else {
            self.fail("CRLF")
        }
    }

    /// A closing parenthesis, after optional stray spaces.
    pub(crate) fn close(&mut self) -> R<()> {
        while self.peek() == Some(b' ') && self.peek_at(1).is_some_and(|b| b == b' ' || b == b')') {
            self.pos += 1;
        }
        if self.peek() == Some(b' ') && self.peek_at(1) == Some(b')') {
            self.pos += 1;
        }
        self.byte(b')', "')'")
    }

    #[inline]
    pub(crate) fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let n = rest.iter().position(|&b| !pred(b)).unwrap_or(rest.len());
        self.pos += n;
        &rest[..n]
    }

    #[inline]
    pub(crate) fn bytes(&self, s: &[u8]) -> Bytes {
        self.src.slice_ref(s)
    }

    /// A keyword made of letters, digits, `.`, `-` and `_`, upper-cased.
    pub(crate) fn kw(&mut self) -> Kw {
        let s =
            self.take_while(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
        let mut kw = Kw {
            buf: [0; 32],
            len: 0,
        };
        if s.len() <= 32 {
            kw.buf[..s.len()].copy_from_slice(s);
            kw.buf[..s.len()].make_ascii_uppercase();
            kw.len = s.len();
        }
        kw
    }

    /// Whether the input continues with `word` (case-insensitive) not followed by an atom
    /// character; consumes it if so.
    pub(crate) fn word(&mut self, word: &[u8]) -> bool {
        let rest = self.rest();
        if rest.len() >= word.len()
            && rest[..word.len()].eq_ignore_ascii_case(word)
            && !rest.get(word.len()).is_some_and(|&b| is_atom_char(b))
        {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn digits(&mut self) -> R<&'a [u8]> {
        let d = self.take_while(|b| b.is_ascii_digit());
        if d.is_empty() {
            self.fail("a number")
        } else {
            Ok(d)
        }
    }

    pub(crate) fn number64(&mut self) -> R<u64> {
        let start = self.pos;
        let d = self.digits()?;
        let mut n: u64 = 0;
        for &c in d {
            n = match n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(c - b'0')))
            {
                Some(n) => n,
                None => {
                    self.pos = start;
                    return self.fail("a smaller number");
                }
            };
        }
        Ok(n)
    }

    pub(crate) fn number(&mut self) -> R<u32> {
        let start = self.pos;
        let n = self.number64()?;
        u32::try_from(n).or_else(|_| {
            self.pos = start;
            self.fail("a 32-bit number")
        })
    }

    pub(crate) fn nz_number(&mut self) -> R<NonZeroU32> {
        let start = self.pos;
        let n = self.number()?;
        NonZeroU32::new(n).map_or_else(
            || {
                self.pos = start;
                self.fail("a non-zero number")
            },
            Ok,
        )
    }

    pub(crate) fn atom(&mut self) -> R<Atom> {
        let s = self.take_while(is_atom_char);
        if s.is_empty() {
            return self.fail("an atom");
        }
        Ok(Atom::unchecked(self.bytes(s)))
    }

    pub(crate) fn nil(&mut self) -> bool {
        self.word(b"NIL")
    }

    pub(crate) fn quoted(&mut self) -> R<Quoted> {
        self.byte(b'"', "'\"'")?;
        let start = self.pos;
        let rest = self.rest();
        // Fast path: find the closing quote or the first backslash with SIMD, then check
        // the content for the three bytes a quoted string cannot hold.
        let mut i = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
        if let Some(bad) = memchr::memchr3(b'\r', b'\n', 0, &rest[..i]) {
            self.pos = start + bad;
            return self.fail("a quoted character");
        }
        let mut escaped = false;
        loop {
            match rest.get(i) {
                None => {
                    self.pos += i;
                    return self.fail("'\"'");
                }
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    match rest.get(i + 1) {
                        Some(b'"' | b'\\') => i += 2,
                        _ => {
                            self.pos = start + i;
                            return self.fail("an escaped '\"' or '\\'");
                        }
                    }
                }
                Some(&b) if is_text_char(b) => i += 1,
                Some(_) => {
                    self.pos = start + i;
                    return self.fail("a quoted character");
                }
            }
        }
        let raw = &rest[..i];
        self.pos = start + i + 1;
        if !escaped {
            return Ok(Quoted::unchecked(self.bytes(raw)));
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut it = raw.iter();
        while let Some(&b) = it.next() {
            if b == b'\\' {
                if let Some(&n) = it.next() {
                    out.push(n);
                }
            } else {
                out.push(b);
            }
        }
        Ok(Quoted::unchecked(out.into()))
    }

    /// `{n}`/`{n+}` CRLF data, or `~{n}` when `binary` is allowed.
    pub(crate) fn literal(&mut self, allow_binary: bool) -> R<Literal> {
        let binary = allow_binary && self.eat(b'~');
        self.byte(b'{', "'{'")?;
        let n = self.number()? as usize;
        let mode = if self.eat(b'+') {
            LiteralMode::NonSync
        } else {
            LiteralMode::Sync
        };
        self.byte(b'}', "'}'")?;
        if !self.rest().starts_with(b"\r\n") {
            return self.fail("CRLF after a literal's length");
        }
        self.pos += 2;
        let rest = self.rest();
        if rest.len() < n {
            self.pos += rest.len();
            return self.fail("literal data");
        }
        let data = &rest[..n];
        if !binary && let Some(at) = memchr::memchr(0, data) {
            self.pos += at;
            return self.fail("a literal without NUL");
        }
        self.pos += n;
        Ok(Literal::unchecked(self.bytes(data), mode, binary))
    }

    /// `[~]{n[+]}` CRLF at the very end of the input: a literal announced but not included.
    pub(crate) fn announcement(&mut self) -> R<(u32, LiteralMode, bool)> {
        let binary = self.eat(b'~');
        self.byte(b'{', "'{'")?;
        let n = self.number()?;
        let mode = if self.eat(b'+') {
            LiteralMode::NonSync
        } else {
            LiteralMode::Sync
        };
        self.byte(b'}', "'}'")?;
        if self.rest() != b"\r\n" {
            return self.fail("CRLF at the end of the head");
        }
        self.pos += 2;
        Ok((n, mode, binary))
    }

    pub(crate) fn string(&mut self) -> R<IString> {
        match self.peek() {
            Some(b'"') => self.quoted().map(IString::Quoted),
            Some(b'{') => self.literal(false).map(IString::Literal),
            _ => self.fail("a string"),
        }
    }

    /// A string, or `NIL` read as an empty string (a tolerance).
    pub(crate) fn string_or_nil(&mut self) -> R<IString> {
        if self.nil() {
            return Ok(IString::Quoted(Quoted::unchecked(Bytes::new())));
        }
        self.string()
    }

    pub(crate) fn nstring(&mut self) -> R<NString> {
        if self.nil() {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    /// An nstring that may be a `literal8` (BINARY fetch data).
    pub(crate) fn nstring8(&mut self) -> R<NString> {
        if self.peek() == Some(b'~') {
            return self.literal(true).map(|l| Some(IString::Literal(l)));
        }
        self.nstring()
    }

    pub(crate) fn astring(&mut self) -> R<AString> {
        match self.peek() {
            Some(b'"' | b'{') => self.string().map(AString::String),
            _ => {
                let s = self.take_while(is_astring_char);
                if s.is_empty() {
                    return self.fail("an astring");
                }
                Ok(AString::Atom(AtomExt::unchecked(self.bytes(s))))
            }
        }
    }

    pub(crate) fn mailbox(&mut self) -> R<Mailbox> {
        self.astring().map(Mailbox::new)
    }

    pub(crate) fn list_pattern(&mut self) -> R<ListPattern> {
        match self.peek() {
            Some(b'"' | b'{') => self.string().map(ListPattern::String),
            _ => {
                let s = self.take_while(is_list_char);
                if s.is_empty() {
                    return self.fail("a mailbox pattern");
                }
                Ok(ListPattern::Atom(ListAtom::unchecked(self.bytes(s))))
            }
        }
    }

    fn seq_num(&mut self) -> R<SeqNum> {
        if self.eat(b'*') {
            Ok(SeqNum::Largest)
        } else {
            self.nz_number().map(SeqNum::Value)
        }
    }

    pub(crate) fn sequence_set(&mut self) -> R<SequenceSet> {
        let mut ranges = Vec::new();
        loop {
            let a = self.seq_num()?;
            if self.eat(b':') {
                let b = self.seq_num()?;
                ranges.push(SeqRange::Range(a, b));
            } else {
                ranges.push(SeqRange::One(a));
            }
            if !self.eat(b',') {
                break;
            }
        }
        Ok(SequenceSet::unchecked(ranges))
    }

    fn month(&mut self) -> R<u8> {
        let r = self.rest();
        if r.len() >= 3
            && let Some(i) = MONTHS
                .iter()
                .position(|m| m.as_bytes().eq_ignore_ascii_case(&r[..3]))
        {
            self.pos += 3;
            return Ok(i as u8 + 1);
        }
        self.fail("a month")
    }

    fn fixed_digits(&mut self, n: usize) -> R<u16> {
        let r = self.rest();
        if r.len() < n || !r[..n].iter().all(u8::is_ascii_digit) {
            return self.fail("digits");
        }
        self.pos += n;
        Ok(r[..n]
            .iter()
            .fold(0u16, |a, d| a * 10 + u16::from(d - b'0')))
    }

    /// `date-text` (day 1*2DIGIT), optionally quoted.
    pub(crate) fn date(&mut self) -> R<Date> {
        let quoted = self.eat(b'"');
        let start = self.pos;
        let d = self.take_while(|b| b.is_ascii_digit());
        if d.is_empty() || d.len() > 2 {
            self.pos = start;
            return self.fail("a day");
        }
        let day = d.iter().fold(0u8, |a, x| a * 10 + (x - b'0'));
        self.byte(b'-', "'-'")?;
        let month = self.month()?;
        self.byte(b'-', "'-'")?;
        let year = self.fixed_digits(4)?;
        if quoted {
            self.byte(b'"', "'\"'")?;
        }
        Date::new(year, month, day).or_else(|_| {
            self.pos = start;
            self.fail("a valid date")
        })
    }

    /// `date-time`: `"dd-Mon-yyyy hh:mm:ss +zzzz"`.
    pub(crate) fn date_time(&mut self) -> R<DateTime> {
        self.byte(b'"', "'\"'")?;
        let start = self.pos;
        let day = if self.eat(b' ') {
            self.fixed_digits(1)?
        } else {
            let d = self.take_while(|b| b.is_ascii_digit());
            if d.is_empty() || d.len() > 2 {
                return self.fail("a day");
            }
            d.iter().fold(0u16, |a, x| a * 10 + u16::from(x - b'0'))
        };
        self.byte(b'-', "'-'")?;
        let month = self.month()?;
        self.byte(b'-', "'-'")?;
        let year = self.fixed_digits(4)?;
        self.sp()?;
        let hour = self.fixed_digits(2)?;
        self.byte(b':', "':'")?;
        let minute = self.fixed_digits(2)?;
        self.byte(b':', "':'")?;
        let second = self.fixed_digits(2)?;
        self.sp()?;
        let sign: i16 = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return self.fail("a zone"),
        };
        self.pos += 1;
        let zone = self.fixed_digits(4)?;
        let (zh, zm) = (zone / 100, zone % 100);
        self.byte(b'"', "'\"'")?;
        if zm > 59 {
            self.pos = start;
            return self.fail("a valid zone");
        }
        let zone = sign * (zh as i16 * 60 + zm as i16);
        Date::new(year, month, day as u8)
            .and_then(|d| DateTime::new(d, hour as u8, minute as u8, second as u8, zone))
            .or_else(|_| {
                self.pos = start;
                self.fail("a valid date-time")
            })
    }

    /// `flag`, or with `fetch` also `\Recent`, with `perm` also `\*`.
    fn flag_any(&mut self) -> R<FlagFetch> {
        if self.eat(b'\\') {
            if self.eat(b'*') {
                return self.fail("a flag");
            }
            let name = self.take_while(is_atom_char);
            if name.is_empty() {
                return self.fail("an atom");
            }
            if name.eq_ignore_ascii_case(b"Recent") {
                return Ok(FlagFetch::Recent);
            }
            return Ok(FlagFetch::Flag(Flag::known_system(name).unwrap_or_else(
                || Flag::Extension(Atom::unchecked(self.bytes(name))),
            )));
        }
        self.atom().map(|a| FlagFetch::Flag(Flag::Keyword(a)))
    }

    pub(crate) fn flag(&mut self) -> R<Flag> {
        let start = self.pos;
        match self.flag_any()? {
            FlagFetch::Flag(f) => Ok(f),
            // `\Recent` is an ordinary flag-extension where only flags are allowed.
            FlagFetch::Recent => Ok(Flag::Extension(Atom::unchecked(
                self.bytes(&self.src[start + 1..self.pos]),
            ))),
        }
    }

    pub(crate) fn flag_fetch(&mut self) -> R<FlagFetch> {
        self.flag_any()
    }

    pub(crate) fn flag_perm(&mut self) -> R<FlagPerm> {
        if self.peek() == Some(b'\\') && self.peek_at(1) == Some(b'*') {
            self.pos += 2;
            return Ok(FlagPerm::Any);
        }
        self.flag().map(FlagPerm::Flag)
    }

    /// `"(" [x *(SP x)] ")"`.
    pub(crate) fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
        self.byte(b'(', "'('")?;
        let mut out = Vec::new();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(out);
        }
        loop {
            out.push(item(self)?);
            if self.peek() == Some(b' ')
                && self.peek_at(1) != Some(b')')
                && self.peek_at(1) != Some(b' ')
            {
                self.pos += 1;
                continue;
            }
            self.close()?;
            return Ok(out);
        }
    }

    /// `"(" x *(SP x) ")"`: at least one.
    pub(crate) fn list1<T>(&mut self, item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
        let start = self.pos;
        let v = self.list(item)?;
        if v.is_empty() {
            self.pos = start + 1;
            return self.fail("a list item");
        }
        Ok(v)
    }

    pub(crate) fn section_part(&mut self) -> R<Vec<NonZeroU32>> {
        let mut part = Vec::new();
        if self.peek().is_some_and(|b| b.is_ascii_digit()) {
            loop {
                part.push(self.nz_number()?);
                if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit())
                {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        Ok(part)
    }

    /// `section`: `"[" [section-spec] "]"`.
    pub(crate) fn section(&mut self) -> R<Section> {
        self.byte(b'[', "'['")?;
        let part = self.section_part()?;
        let text = if self.peek() == Some(b']') {
            None
        } else {
            if !part.is_empty() {
                self.byte(b'.', "'.'")?;
            }
            let kw = self.kw();
            Some(match kw.as_slice() {
                b"HEADER" => SectionText::Header,
                b"TEXT" => SectionText::Text,
                b"MIME" if !part.is_empty() => SectionText::Mime,
                b"HEADER.FIELDS" => {
                    self.sp()?;
                    SectionText::HeaderFields(self.list1(P::astring)?)
                }
                b"HEADER.FIELDS.NOT" => {
                    self.sp()?;
                    SectionText::HeaderFieldsNot(self.list1(P::astring)?)
                }
                _ => return self.fail("a section"),
            })
        };
        self.byte(b']', "']'")?;
        Ok(Section { part, text })
    }

    /// `section-binary`: `"[" [section-part] "]"`.
    pub(crate) fn section_binary(&mut self) -> R<Vec<NonZeroU32>> {
        self.byte(b'[', "'['")?;
        let part = self.section_part()?;
        self.byte(b']', "']'")?;
        Ok(part)
    }

    /// A `\\Name` attribute of a LIST response or a CREATE (USE …).
    pub(crate) fn name_attribute(&mut self) -> R<NameAttribute> {
        self.byte(b'\\', "'\\'")?;
        let name = self.take_while(is_atom_char);
        if name.is_empty() {
            return self.fail("an atom");
        }
        Ok(NameAttribute::known(name)
            .unwrap_or_else(|| NameAttribute::Other(Atom::unchecked(self.bytes(name)))))
    }

    pub(crate) fn status_attribute(&mut self) -> R<StatusAttribute> {
        let start = self.pos;
        let kw = self.kw();
        Ok(match kw.as_slice() {
            b"MESSAGES" => StatusAttribute::Messages,
            b"RECENT" => StatusAttribute::Recent,
            b"UIDNEXT" => StatusAttribute::UidNext,
            b"UIDVALIDITY" => StatusAttribute::UidValidity,
            b"UNSEEN" => StatusAttribute::Unseen,
            b"HIGHESTMODSEQ" => StatusAttribute::HighestModSeq,
            b"SIZE" => StatusAttribute::Size,
            b"DELETED" => StatusAttribute::Deleted,
            b"APPENDLIMIT" => StatusAttribute::AppendLimit,
            _ => {
                self.pos = start;
                StatusAttribute::Other(self.atom()?)
            }
        })
    }

    /// A generic `tagged-ext-val`.
    pub(crate) fn ext_value(&mut self) -> R<ExtensionValue> {
        if self.peek() == Some(b'(') {
            self.enter()?;
            let v = self.list(P::ext_value).map(ExtensionValue::List);
            self.leave();
            return v;
        }
        let r = self.rest();
        let n = r
            .iter()
            .position(|&b| !(b.is_ascii_digit() || b == b':' || b == b',' || b == b'*'))
            .unwrap_or(r.len());
        let token_end = r
            .iter()
            .position(|&b| !(is_astring_char(b) || b == b'*'))
            .unwrap_or(r.len());
        if n > 0 && n == token_end {
            let start = self.pos;
            if r[..n].iter().all(u8::is_ascii_digit) {
                if let Ok(v) = self.number64() {
                    return Ok(ExtensionValue::Number(v));
                }
                self.pos = start;
            } else if let Ok(s) = self.sequence_set()
                && self.pos == start + n
            {
                return Ok(ExtensionValue::SequenceSet(s));
            }
            self.pos = start;
        }
        self.astring().map(ExtensionValue::AString)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    #[test]
    fn strings() {
        let b = p(br#""a\"b\\c" rest"#);
        let mut c = P::new(&b);
        assert_eq!(c.quoted().unwrap().as_bytes(), br#"a"b\c"#);
        let b = p(b"{3}\r\nabc)");
        let mut c = P::new(&b);
        let l = c.literal(false).unwrap();
        assert_eq!(l.data().as_ref(), b"abc");
        assert_eq!(c.peek(), Some(b')'));
        let b = p(b"{5}\r\nab");
        assert!(P::new(&b).literal(false).unwrap_err().incomplete);
        let b = p(b"\"a\rb\"");
        assert!(!P::new(&b).quoted().unwrap_err().incomplete);
    }

    #[test]
    fn dates() {
        let b = p(b"\"17-Jul-1996 02:44:25 -0700\"");
        let dt = P::new(&b).date_time().unwrap();
        assert_eq!(
            (
                dt.date().day(),
                dt.date().month(),
                dt.hour(),
                dt.zone_minutes()
            ),
            (17, 7, 2, -420)
        );
        let b = p(b"\" 1-Feb-2024 00:00:00 +0000\"");
        assert_eq!(P::new(&b).date_time().unwrap().date().day(), 1);
        let b = p(b"30-Feb-2024");
        assert!(P::new(&b).date().is_err());
        let b = p(b"1-Feb-1994");
        assert_eq!(P::new(&b).date().unwrap(), Date::new(1994, 2, 1).unwrap());
    }

    #[test]
    fn sequence_sets() {
        let b = p(b"1:4,7,9:* ");
        let s = P::new(&b).sequence_set().unwrap();
        assert_eq!(s.ranges().len(), 3);
        let b = p(b"0:4");
        assert!(P::new(&b).sequence_set().is_err());
    }
}
