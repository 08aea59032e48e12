//! Serializers: the exact inverse of the [parsers](crate::parse).
//!
//! Every value serializes to the form it holds (atom, quoted string or literal; the
//! constructors such as [`AString::new`](crate::types::AString::new) choose the form for new
//! values). [`Command::encode`](crate::types::Command::encode) returns [`Encoded`]
//! fragments, so that a client writes a line ending in a synchronizing literal's
//! announcement, waits for the server's `+`, then writes the literal's data and goes on;
//! `encode_into` writes everything into one buffer at once (for responses, and for commands
//! whose literals are all non-synchronizing).

use bytes::Bytes;

use crate::types::*;

mod command;
mod response;

pub use command::IDLE_DONE;

/// A piece of an encoded message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fragment {
    /// Text to write; when a literal follows, it ends with the literal's announcement.
    Line(Vec<u8>),
    /// A literal's data. For [`LiteralMode::Sync`] in a command, the client waits for a
    /// continuation request (`+`) before writing it.
    Literal {
        /// The data (shared, not copied).
        data: Bytes,
        /// How it was announced.
        mode: LiteralMode,
    },
}

/// An encoded command or response, as fragments.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Encoded {
    fragments: Vec<Fragment>,
}

impl Encoded {
    /// The fragments, in order.
    pub fn fragments(&self) -> &[Fragment] {
        &self.fragments
    }
    /// The fragments, owned.
    pub fn into_fragments(self) -> Vec<Fragment> {
        self.fragments
    }
    /// Everything in one buffer (for logs and tests, or when no literal must wait).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for f in &self.fragments {
            match f {
                Fragment::Line(l) => out.extend_from_slice(l),
                Fragment::Literal { data, .. } => out.extend_from_slice(data),
            }
        }
        out
    }
    /// Whether some literal must wait for a continuation request.
    pub fn has_sync_literal(&self) -> bool {
        self.fragments.iter().any(|f| {
            matches!(
                f,
                Fragment::Literal {
                    mode: LiteralMode::Sync,
                    ..
                }
            )
        })
    }
}

impl IntoIterator for Encoded {
    type Item = Fragment;
    type IntoIter = std::vec::IntoIter<Fragment>;
    fn into_iter(self) -> Self::IntoIter {
        self.fragments.into_iter()
    }
}

/// How a client announces literals, given what the server supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LiteralPolicy {
    /// As each [`Literal`] says ([`Literal::mode`]).
    #[default]
    AsIs,
    /// Every literal non-synchronizing (`{n+}`): the server advertises `LITERAL+`.
    NonSync,
    /// Non-synchronizing up to 4096 bytes, synchronizing above: the server advertises
    /// `LITERAL-` (RFC 7888).
    LiteralMinus,
    /// Every literal synchronizing (`{n}`): the server advertises neither.
    Sync,
}

impl LiteralPolicy {
    fn mode(self, l: &Literal) -> LiteralMode {
        match self {
            LiteralPolicy::AsIs => l.mode(),
            LiteralPolicy::NonSync => LiteralMode::NonSync,
            LiteralPolicy::LiteralMinus if l.data().len() <= 4096 => LiteralMode::NonSync,
            LiteralPolicy::LiteralMinus | LiteralPolicy::Sync => LiteralMode::Sync,
        }
    }
}

/// The output of an encoder: one buffer, or fragments split at literals.
pub(crate) struct W<'a> {
    buf: &'a mut Vec<u8>,
    frags: Option<Vec<Fragment>>,
    policy: LiteralPolicy,
}

impl<'a> W<'a> {
    pub(crate) fn flat(buf: &'a mut Vec<u8>) -> W<'a> {
        W {
            buf,
            frags: None,
            policy: LiteralPolicy::AsIs,
        }
    }
    pub(crate) fn fragmented(buf: &'a mut Vec<u8>, policy: LiteralPolicy) -> W<'a> {
        W {
            buf,
            frags: Some(Vec::new()),
            policy,
        }
    }
    pub(crate) fn finish(self) -> Encoded {
        let mut fragments = self.frags.unwrap_or_default();
        if !self.buf.is_empty() {
            fragments.push(Fragment::Line(std::mem::take(self.buf)));
        }
        Encoded { fragments }
    }
    #[inline]
    pub(crate) fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }
    #[inline]
    pub(crate) fn sp(&mut self) {
        self.buf.push(b' ');
    }
    pub(crate) fn num(&mut self, n: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        let mut n = n;
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
    }
    pub(crate) fn quoted(&mut self, q: &[u8]) {
        self.buf.push(b'"');
        let mut rest = q;
        while let Some(i) = memchr::memchr2(b'"', b'\\', rest) {
            self.buf.extend_from_slice(&rest[..i]);
            self.buf.push(b'\\');
            self.buf.push(rest[i]);
            rest = &rest[i + 1..];
        }
        self.buf.extend_from_slice(rest);
        self.buf.push(b'"');
    }
    pub(crate) fn literal(&mut self, l: &Literal) {
        if l.is_binary() {
            self.buf.push(b'~');
        }
        self.buf.push(b'{');
        self.num(l.data().len() as u64);
        let mode = self.policy.mode(l);
        if mode == LiteralMode::NonSync {
            self.buf.push(b'+');
        }
        self.buf.extend_from_slice(b"}\r\n");
        match &mut self.frags {
            Some(frags) => {
                frags.push(Fragment::Line(std::mem::take(self.buf)));
                frags.push(Fragment::Literal {
                    data: l.data().clone(),
                    mode,
                });
            }
            None => self.buf.extend_from_slice(l.data()),
        }
    }
    /// `"(" x *(SP x) ")"`.
    pub(crate) fn list<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        self.byte(b'(');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.sp();
            }
            f(self, x);
        }
        self.byte(b')');
    }
}

/// Serialization into a [`W`].
pub(crate) trait Enc {
    fn enc(&self, w: &mut W<'_>);
}

impl<T: Enc + ?Sized> Enc for &T {
    fn enc(&self, w: &mut W<'_>) {
        (**self).enc(w)
    }
}

macro_rules! raw_enc {
    ($($t:ty),*) => {$(
        impl Enc for $t {
            fn enc(&self, w: &mut W<'_>) {
                w.raw(self.as_bytes());
            }
        }
    )*};
}
raw_enc!(Tag, Atom, AtomExt, Text, ListAtom, CodeData);

impl Enc for Quoted {
    fn enc(&self, w: &mut W<'_>) {
        w.quoted(self.as_bytes());
    }
}

impl Enc for Literal {
    fn enc(&self, w: &mut W<'_>) {
        w.literal(self);
    }
}

impl Enc for IString {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            IString::Quoted(q) => q.enc(w),
            IString::Literal(l) => l.enc(w),
        }
    }
}

impl Enc for Option<IString> {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            Some(s) => s.enc(w),
            None => w.raw(b"NIL"),
        }
    }
}

impl Enc for AString {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            AString::Atom(a) => a.enc(w),
            AString::String(s) => s.enc(w),
        }
    }
}

impl Enc for ListPattern {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            ListPattern::Atom(a) => a.enc(w),
            ListPattern::String(s) => s.enc(w),
        }
    }
}

impl Enc for Mailbox {
    fn enc(&self, w: &mut W<'_>) {
        self.as_astring().enc(w);
    }
}

impl Enc for SeqNum {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            SeqNum::Value(n) => w.num(u64::from(n.get())),
            SeqNum::Largest => w.byte(b'*'),
        }
    }
}

impl Enc for SequenceSet {
    fn enc(&self, w: &mut W<'_>) {
        for (i, r) in self.ranges().iter().enumerate() {
            if i > 0 {
                w.byte(b',');
            }
            match r {
                SeqRange::One(a) => a.enc(w),
                SeqRange::Range(a, b) => {
                    a.enc(w);
                    w.byte(b':');
                    b.enc(w);
                }
            }
        }
    }
}

impl Enc for Date {
    fn enc(&self, w: &mut W<'_>) {
        w.num(u64::from(self.day()));
        w.byte(b'-');
        w.raw(MONTHS[usize::from(self.month() - 1)].as_bytes());
        w.byte(b'-');
        let y = self.year();
        w.raw(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
        ]);
    }
}

fn two(w: &mut W<'_>, n: u8) {
    w.raw(&[b'0' + n / 10, b'0' + n % 10]);
}

impl Enc for DateTime {
    fn enc(&self, w: &mut W<'_>) {
        let d = self.date();
        w.byte(b'"');
        two(w, d.day());
        w.byte(b'-');
        w.raw(MONTHS[usize::from(d.month() - 1)].as_bytes());
        w.byte(b'-');
        let y = d.year();
        w.raw(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
        ]);
        w.sp();
        two(w, self.hour());
        w.byte(b':');
        two(w, self.minute());
        w.byte(b':');
        two(w, self.second());
        w.sp();
        let z = self.zone_minutes();
        w.byte(if z < 0 { b'-' } else { b'+' });
        let z = z.unsigned_abs();
        two(w, (z / 60) as u8);
        two(w, (z % 60) as u8);
        w.byte(b'"');
    }
}

impl Enc for Flag {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            Flag::Answered => w.raw(b"\\Answered"),
            Flag::Flagged => w.raw(b"\\Flagged"),
            Flag::Deleted => w.raw(b"\\Deleted"),
            Flag::Seen => w.raw(b"\\Seen"),
            Flag::Draft => w.raw(b"\\Draft"),
            Flag::Keyword(a) => a.enc(w),
            Flag::Extension(a) => {
                w.byte(b'\\');
                a.enc(w);
            }
        }
    }
}

impl Enc for FlagFetch {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            FlagFetch::Flag(f) => f.enc(w),
            FlagFetch::Recent => w.raw(b"\\Recent"),
        }
    }
}

impl Enc for FlagPerm {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            FlagPerm::Flag(f) => f.enc(w),
            FlagPerm::Any => w.raw(b"\\*"),
        }
    }
}

impl Enc for NameAttribute {
    fn enc(&self, w: &mut W<'_>) {
        w.byte(b'\\');
        w.raw(self.name().as_bytes());
    }
}

impl Enc for StatusAttribute {
    fn enc(&self, w: &mut W<'_>) {
        w.raw(match self {
            StatusAttribute::Messages => b"MESSAGES",
            StatusAttribute::Recent => b"RECENT",
            StatusAttribute::UidNext => b"UIDNEXT",
            StatusAttribute::UidValidity => b"UIDVALIDITY",
            StatusAttribute::Unseen => b"UNSEEN",
            StatusAttribute::HighestModSeq => b"HIGHESTMODSEQ",
            StatusAttribute::Size => b"SIZE",
            StatusAttribute::Deleted => b"DELETED",
            StatusAttribute::AppendLimit => b"APPENDLIMIT",
            StatusAttribute::Other(a) => a.as_bytes(),
        })
    }
}

fn part(w: &mut W<'_>, part: &[std::num::NonZeroU32]) {
    for (i, n) in part.iter().enumerate() {
        if i > 0 {
            w.byte(b'.');
        }
        w.num(u64::from(n.get()));
    }
}

impl Enc for Section {
    fn enc(&self, w: &mut W<'_>) {
        w.byte(b'[');
        part(w, &self.part);
        if let Some(text) = &self.text {
            if !self.part.is_empty() {
                w.byte(b'.');
            }
            match text {
                SectionText::Header => w.raw(b"HEADER"),
                SectionText::Text => w.raw(b"TEXT"),
                SectionText::Mime => w.raw(b"MIME"),
                SectionText::HeaderFields(f) => {
                    w.raw(b"HEADER.FIELDS ");
                    w.list(f, |w, x| x.enc(w));
                }
                SectionText::HeaderFieldsNot(f) => {
                    w.raw(b"HEADER.FIELDS.NOT ");
                    w.list(f, |w, x| x.enc(w));
                }
            }
        }
        w.byte(b']');
    }
}

pub(crate) fn section_binary(w: &mut W<'_>, p: &[std::num::NonZeroU32]) {
    w.byte(b'[');
    part(w, p);
    w.byte(b']');
}

impl Enc for ExtensionValue {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            ExtensionValue::Number(n) => w.num(*n),
            ExtensionValue::SequenceSet(s) => s.enc(w),
            ExtensionValue::AString(a) => a.enc(w),
            ExtensionValue::List(l) => w.list(l, |w, x| x.enc(w)),
        }
    }
}

pub(crate) fn id_params(w: &mut W<'_>, params: &Option<Vec<(IString, NString)>>) {
    match params {
        None => w.raw(b"NIL"),
        Some(p) => w.list(p, |w, (k, v)| {
            k.enc(w);
            w.sp();
            v.enc(w);
        }),
    }
}
