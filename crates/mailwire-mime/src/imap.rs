//! The IMAP views of a message (RFC 3501 section 7.4.2 and 6.4.5), as
//! protocol-neutral data: BODYSTRUCTURE, ENVELOPE and the bytes of every
//! `BODY[section]`.
//!
//! Sizes and line counts are those of the message with every line break written as
//! CRLF (a stored file with bare LF gives the same numbers as its CRLF form), which
//! is what IMAP servers report and what [`SectionBytes::write_to`] sends.
//!
//! Strings are the raw header values, unfolded (CR and LF removed) and trimmed, with
//! RFC 2047 encoded words left encoded: this is what RFC 3501 servers such as
//! Dovecot send, and the client decodes them.

use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;

use base64::Engine as _;
use md5::{Digest, Md5};

use crate::header::Header;
use crate::parse::{DEFAULT_PARAMS, Kind, Message, Params, Part};
use crate::syntax::{self, RawAddr};

/// Options for [`Message::body_structure`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BodyStructureOptions {
    /// When a part has no Content-MD5 field, compute the RFC 1864 value (base64 of the
    /// MD5 of the decoded body). Off by default: servers normally report only the field.
    pub compute_md5: bool,
}

impl BodyStructureOptions {
    /// Sets [`BodyStructureOptions::compute_md5`].
    pub fn with_md5(mut self, on: bool) -> Self {
        self.compute_md5 = on;
        self
    }
}

/// The ENVELOPE of a message (RFC 3501 section 7.4.2).
///
/// Values borrow the message (`'m`) when they are written on one line and one
/// token; otherwise they are owned. The six address lists are read with
/// [`Envelope::from`], [`Envelope::sender`], [`Envelope::reply_to`],
/// [`Envelope::to`], [`Envelope::cc`] and [`Envelope::bcc`]; they share one
/// allocation, and Sender and Reply-To default to From without a copy. Two
/// envelopes are equal when their fields and their six lists (as the accessors
/// give them) are; `Debug` shows the lists that way too.
#[derive(Clone, Default)]
pub struct Envelope<'m> {
    /// Date field, raw. `None` when absent (IMAP NIL).
    pub date: Option<Cow<'m, [u8]>>,
    /// Subject field, raw (encoded words kept).
    pub subject: Option<Cow<'m, [u8]>>,
    /// In-Reply-To field, raw.
    pub in_reply_to: Option<Cow<'m, [u8]>>,
    /// Message-ID field, raw.
    pub message_id: Option<Cow<'m, [u8]>>,
    /// The addresses of all six lists, one list after the other.
    addresses: Vec<EnvelopeAddress<'m>>,
    /// Where each list ends in `addresses`, in the order of [`AddressList`]
    /// (Sender and Reply-To ranges are empty when they default to From).
    ends: [usize; 6],
}

/// The address lists of an [`Envelope`], in ENVELOPE order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressList {
    /// From.
    From,
    /// Sender (From when absent or empty).
    Sender,
    /// Reply-To (From when absent or empty).
    ReplyTo,
    /// To.
    To,
    /// Cc.
    Cc,
    /// Bcc.
    Bcc,
}

impl AddressList {
    /// All six, in ENVELOPE order.
    pub const ALL: [AddressList; 6] = [
        AddressList::From,
        AddressList::Sender,
        AddressList::ReplyTo,
        AddressList::To,
        AddressList::Cc,
        AddressList::Bcc,
    ];
}

impl std::fmt::Debug for Envelope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn s<'a>(v: &'a Option<Cow<'_, [u8]>>) -> Option<Cow<'a, str>> {
            v.as_deref().map(String::from_utf8_lossy)
        }
        f.debug_struct("Envelope")
            .field("date", &s(&self.date))
            .field("subject", &s(&self.subject))
            .field("from", &self.from())
            .field("sender", &self.sender())
            .field("reply_to", &self.reply_to())
            .field("to", &self.to())
            .field("cc", &self.cc())
            .field("bcc", &self.bcc())
            .field("in_reply_to", &s(&self.in_reply_to))
            .field("message_id", &s(&self.message_id))
            .finish()
    }
}

impl PartialEq for Envelope<'_> {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.date,
            &self.subject,
            &self.in_reply_to,
            &self.message_id,
        ) == (
            &other.date,
            &other.subject,
            &other.in_reply_to,
            &other.message_id,
        ) && AddressList::ALL
            .iter()
            .all(|&l| self.list(l) == other.list(l))
    }
}

impl Eq for Envelope<'_> {}

impl<'m> Envelope<'m> {
    /// The raw list as stored (no defaulting).
    fn stored(&self, list: AddressList) -> &[EnvelopeAddress<'m>] {
        let k = list as usize;
        let start = k.checked_sub(1).and_then(|p| self.ends.get(p)).copied();
        let end = self.ends.get(k).copied().unwrap_or(0);
        self.addresses
            .get(start.unwrap_or(0)..end)
            .unwrap_or_default()
    }

    /// An address list; Sender and Reply-To give From when they are empty, as
    /// RFC 3501 says. An empty list is IMAP NIL.
    pub fn list(&self, list: AddressList) -> &[EnvelopeAddress<'m>] {
        let own = self.stored(list);
        match list {
            AddressList::Sender | AddressList::ReplyTo if own.is_empty() => {
                self.stored(AddressList::From)
            }
            _ => own,
        }
    }

    /// From addresses.
    pub fn from(&self) -> &[EnvelopeAddress<'m>] {
        self.list(AddressList::From)
    }

    /// Sender addresses; From when Sender is absent or empty.
    pub fn sender(&self) -> &[EnvelopeAddress<'m>] {
        self.list(AddressList::Sender)
    }

    /// Reply-To addresses; From when Reply-To is absent or empty.
    pub fn reply_to(&self) -> &[EnvelopeAddress<'m>] {
        self.list(AddressList::ReplyTo)
    }

    /// To addresses.
    pub fn to(&self) -> &[EnvelopeAddress<'m>] {
        self.list(AddressList::To)
    }

    /// Cc addresses.
    pub fn cc(&self) -> &[EnvelopeAddress<'m>] {
        self.list(AddressList::Cc)
    }

    /// Bcc addresses.
    pub fn bcc(&self) -> &[EnvelopeAddress<'m>] {
        self.list(AddressList::Bcc)
    }

    /// Replaces the address lists (for envelopes made up by the caller), given in
    /// the order of [`AddressList::ALL`].
    ///
    /// ```
    /// use mailwire_mime::{Envelope, EnvelopeAddress};
    /// let a = EnvelopeAddress {
    ///     mailbox: Some(b"a"[..].into()),
    ///     host: Some(b"example.org"[..].into()),
    ///     ..Default::default()
    /// };
    /// let e = Envelope::default().with_lists([vec![a.clone()], vec![], vec![], vec![], vec![], vec![]]);
    /// assert_eq!(e.sender(), &[a][..]);
    /// ```
    pub fn with_lists(mut self, lists: [Vec<EnvelopeAddress<'m>>; 6]) -> Self {
        self.addresses.clear();
        for (k, list) in lists.into_iter().enumerate() {
            self.addresses.extend(list);
            if let Some(e) = self.ends.get_mut(k) {
                *e = self.addresses.len();
            }
        }
        self
    }
}

/// One IMAP address structure: `(name adl mailbox host)`.
///
/// Groups follow RFC 3501: a group starts with `host: None` and `mailbox: Some(group
/// name)`, and ends with all four fields `None`. A mailbox without a domain gets the
/// host `MISSING_DOMAIN` (and an empty local part `MISSING_MAILBOX`), as Dovecot does,
/// so that it cannot be mistaken for a group marker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvelopeAddress<'m> {
    /// Display name, raw (quotes removed, encoded words kept).
    pub name: Option<Cow<'m, [u8]>>,
    /// Source route (obsolete `@a,@b`).
    pub adl: Option<Cow<'m, [u8]>>,
    /// Local part, or the group name for a group start.
    pub mailbox: Option<Cow<'m, [u8]>>,
    /// Domain; `None` for group markers.
    pub host: Option<Cow<'m, [u8]>>,
}

/// Positions in the array [`envelope_fields`] fills.
const DATE: usize = 0;
const SUBJECT: usize = 1;
const FROM: usize = 2;
const SENDER: usize = 3;
const REPLY_TO: usize = 4;
const TO: usize = 5;
const CC: usize = 6;
const BCC: usize = 7;
const IN_REPLY_TO: usize = 8;
const MESSAGE_ID: usize = 9;

/// The raw value of the first field of each ENVELOPE field name, in one walk over
/// the header (the names are told apart by length first).
fn envelope_fields<'m>(part: &Part<'m>) -> [Option<&'m [u8]>; 10] {
    let mut out: [Option<&'m [u8]>; 10] = [None; 10];
    for h in part.headers() {
        let n = h.name_bytes();
        let is = |s: &[u8]| n.eq_ignore_ascii_case(s);
        let slot = match n.len() {
            2 if is(b"to") => TO,
            2 if is(b"cc") => CC,
            3 if is(b"bcc") => BCC,
            4 if is(b"from") => FROM,
            4 if is(b"date") => DATE,
            6 if is(b"sender") => SENDER,
            7 if is(b"subject") => SUBJECT,
            8 if is(b"reply-to") => REPLY_TO,
            10 if is(b"message-id") => MESSAGE_ID,
            11 if is(b"in-reply-to") => IN_REPLY_TO,
            _ => continue,
        };
        // `slot` is one of the constants above, all < 10.
        let v = &mut out[slot];
        if v.is_none() {
            *v = Some(h.raw_value());
        }
    }
    out
}

/// Positions in the array [`content_fields`] fills.
const C_ID: usize = 0;
const C_DESCRIPTION: usize = 1;
const C_TRANSFER_ENCODING: usize = 2;
const C_MD5: usize = 3;
const C_DISPOSITION: usize = 4;
const C_LANGUAGE: usize = 5;
const C_LOCATION: usize = 6;

/// The raw value of the first of each `Content-*` field BODYSTRUCTURE shows, in one
/// walk over the header.
fn content_fields<'m>(part: &Part<'m>) -> [Option<Header<'m>>; 7] {
    let mut out: [Option<Header<'m>>; 7] = [None; 7];
    for h in part.headers() {
        let n = h.name_bytes();
        let Some(rest) = n
            .get(..8)
            .filter(|p| p.eq_ignore_ascii_case(b"content-"))
            .and_then(|_| n.get(8..))
        else {
            continue;
        };
        let is = |s: &[u8]| rest.eq_ignore_ascii_case(s);
        let slot = match rest.len() {
            2 if is(b"id") => C_ID,
            3 if is(b"md5") => C_MD5,
            8 if is(b"language") => C_LANGUAGE,
            8 if is(b"location") => C_LOCATION,
            11 if is(b"description") => C_DESCRIPTION,
            11 if is(b"disposition") => C_DISPOSITION,
            17 if is(b"transfer-encoding") => C_TRANSFER_ENCODING,
            _ => continue,
        };
        // `slot` is one of the constants above, all < 7.
        let v = &mut out[slot];
        if v.is_none() {
            *v = Some(h);
        }
    }
    out
}

/// Appends the ENVELOPE form of the address list `value` to `out`.
fn envelope_addresses<'m>(
    value: Option<&'m [u8]>,
    toks: &mut syntax::TokenBuf<'m>,
    out: &mut Vec<EnvelopeAddress<'m>>,
) {
    let Some(value) = value else {
        return;
    };
    syntax::for_each_address(value, toks, |a| {
        out.push(match a {
            RawAddr::Mailbox {
                name,
                route,
                local,
                domain,
            } => EnvelopeAddress {
                name,
                adl: route.map(Cow::Owned),
                mailbox: Some(if local.is_empty() {
                    Cow::Borrowed(&b"MISSING_MAILBOX"[..])
                } else {
                    local
                }),
                host: Some(
                    domain
                        .filter(|d| !d.is_empty())
                        .unwrap_or(Cow::Borrowed(&b"MISSING_DOMAIN"[..])),
                ),
            },
            RawAddr::GroupStart(n) => EnvelopeAddress {
                name: None,
                adl: None,
                mailbox: Some(n),
                host: None,
            },
            RawAddr::GroupEnd => EnvelopeAddress::default(),
        })
    });
}

impl<'m> Part<'m> {
    /// The ENVELOPE of this part if it is a message (the top level or an attached
    /// message); for other parts, the envelope built from whatever fields it has.
    pub fn envelope(&self) -> Envelope<'m> {
        let f = envelope_fields(self);
        let raw = |v: Option<&'m [u8]>| v.map(syntax::unfold_cow);
        let mut toks = syntax::TokenBuf::default();
        let mut addresses = Vec::new();
        let mut ends = [0; 6];
        for (end, field) in ends.iter_mut().zip([FROM, SENDER, REPLY_TO, TO, CC, BCC]) {
            // `field` is one of the constants, all < 10.
            envelope_addresses(f[field], &mut toks, &mut addresses);
            *end = addresses.len();
        }
        Envelope {
            date: raw(f[DATE]),
            subject: raw(f[SUBJECT]),
            in_reply_to: raw(f[IN_REPLY_TO]),
            message_id: raw(f[MESSAGE_ID]),
            addresses,
            ends,
        }
    }

    /// The body's size with CRLF line ends and its line count, in one pass.
    fn body_size_lines(&self) -> (usize, usize) {
        let body = self.body();
        let (mut lines, mut bare) = (0, 0);
        for i in memchr::memchr_iter(b'\n', body) {
            lines += 1;
            if i == 0 || body.get(i - 1) != Some(&b'\r') {
                bare += 1;
            }
        }
        (body.len() + bare, lines)
    }

    /// `size` is the body's size with CRLF line ends.
    fn fields(
        &self,
        opts: &BodyStructureOptions,
        c: &[Option<Header<'m>>; 7],
        size: usize,
    ) -> BodyFields<'m> {
        let raw = |v: Option<Header<'m>>| v.map(|h| syntax::unfold_cow(h.raw_value()));
        let md5 = raw(c[C_MD5]).or_else(|| {
            opts.compute_md5.then(|| {
                let digest = Md5::digest(self.decoded_body());
                Cow::Owned(
                    base64::engine::general_purpose::STANDARD
                        .encode(digest)
                        .into_bytes(),
                )
            })
        });
        let encoding = match raw(c[C_TRANSFER_ENCODING]) {
            Some(v) if !v.is_empty() => v,
            _ => Cow::Borrowed(&b"7bit"[..]),
        };
        BodyFields {
            id: raw(c[C_ID]),
            description: raw(c[C_DESCRIPTION]),
            encoding,
            size,
            md5,
        }
    }

    fn extension(&self, c: &[Option<Header<'m>>; 7]) -> BodyExtension<'m> {
        let disposition = c[C_DISPOSITION].map(|h| {
            let p = syntax::parse_params(self.raw, h.value_range());
            Disposition {
                kind: match p.value {
                    syntax::PStr::Span(a, b) => Cow::Borrowed(
                        self.raw
                            .get(a..b)
                            .and_then(|s| std::str::from_utf8(s).ok())
                            .unwrap_or_default(),
                    ),
                    other => Cow::Owned(other.as_str(self.raw).to_string()),
                },
                params: Params::new(self.raw, Cow::Owned(p.params)),
            }
        });
        let language = c[C_LANGUAGE]
            .map(|h| match syntax::unfold_cow(h.raw_value()) {
                Cow::Borrowed(v) => v
                    .split(|&b| b == b',')
                    .map(syntax::unfold_cow)
                    .filter(|t| !t.is_empty())
                    .collect(),
                Cow::Owned(v) => v
                    .split(|&b| b == b',')
                    .map(|t| Cow::<[u8]>::Owned(syntax::unfold(t)))
                    .filter(|t| !t.is_empty())
                    .collect(),
            })
            .unwrap_or_default();
        BodyExtension {
            disposition,
            language,
            location: c[C_LOCATION].map(|h| syntax::unfold_cow(h.raw_value())),
        }
    }

    /// Number of lines of the body, as IMAP reports for `text/*` and `message/rfc822`:
    /// the count of line breaks (LF) in the body, as Dovecot counts them. The line
    /// break before a boundary belongs to the boundary, so a one-line part of a
    /// multipart has 0 lines.
    pub fn body_lines(&self) -> usize {
        memchr::memchr_iter(b'\n', self.body()).count()
    }

    /// The BODYSTRUCTURE of this part.
    pub fn body_structure(&self, opts: &BodyStructureOptions) -> BodyStructure<'m> {
        let node = self.node();
        let c = content_fields(self);
        let kind = match &node.kind {
            Kind::Multipart(_) => {
                BodyKind::Multipart(self.children().map(|c| c.body_structure(opts)).collect())
            }
            Kind::Leaf if node.mtype == "multipart" => {
                // A multipart with no parts (no boundary, or no delimiter found):
                // RFC 3501 needs at least one part; give an empty text/plain as Dovecot does.
                BodyKind::Multipart(vec![BodyStructure::empty_text(self.body_range().start)])
            }
            Kind::Message(m) => {
                let inner = self.at(*m);
                let (size, lines) = self.body_size_lines();
                BodyKind::Message {
                    fields: self.fields(opts, &c, size),
                    envelope: inner.envelope(),
                    body: Box::new(inner.message_body_structure(opts)),
                    lines,
                }
            }
            Kind::Leaf if node.mtype == "text" => {
                let (size, lines) = self.body_size_lines();
                BodyKind::Text {
                    fields: self.fields(opts, &c, size),
                    lines,
                }
            }
            Kind::Leaf => {
                let size = syntax::crlf_len(self.raw, self.body_range());
                BodyKind::Basic(self.fields(opts, &c, size))
            }
        };
        BodyStructure {
            part: Some(self.id),
            media_type: &node.mtype,
            media_subtype: &node.msubtype,
            params: Params::new(self.raw, Cow::Borrowed(&node.params)),
            kind,
            extension: self.extension(&c),
        }
    }

    /// For a message node: its body structure (the node itself, seen as a body).
    fn message_body_structure(&self, opts: &BodyStructureOptions) -> BodyStructure<'m> {
        self.body_structure(opts)
    }
}

/// A Content-Disposition: its value and parameters (raw, RFC 2231 sections merged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition<'m> {
    /// Lowercase disposition type, e.g. `attachment`.
    pub kind: Cow<'m, str>,
    /// Parameters: lowercase names, raw values (see [`Part::raw_params`]).
    pub params: Params<'m>,
}

/// The BODYSTRUCTURE extension data shared by every kind of part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyExtension<'m> {
    /// Content-Disposition.
    pub disposition: Option<Disposition<'m>>,
    /// Content-Language tags (empty: NIL).
    pub language: Vec<Cow<'m, [u8]>>,
    /// Content-Location, raw.
    pub location: Option<Cow<'m, [u8]>>,
}

/// The fields of a non-multipart body (RFC 3501 `body-fields` and `body-fld-md5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyFields<'m> {
    /// Content-ID, raw.
    pub id: Option<Cow<'m, [u8]>>,
    /// Content-Description, raw.
    pub description: Option<Cow<'m, [u8]>>,
    /// Content-Transfer-Encoding as written (`7bit` when absent).
    pub encoding: Cow<'m, [u8]>,
    /// Size of the encoded body in octets, line breaks counted as CRLF.
    pub size: usize,
    /// Content-MD5 (or computed, see [`BodyStructureOptions::compute_md5`]).
    pub md5: Option<Cow<'m, [u8]>>,
}

/// What kind of body a [`BodyStructure`] describes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // built once per FETCH; boxing would only add indirection
pub enum BodyKind<'m> {
    /// A multipart: its parts (never empty).
    Multipart(Vec<BodyStructure<'m>>),
    /// A `text/*` body.
    Text {
        /// Body fields.
        fields: BodyFields<'m>,
        /// Line count.
        lines: usize,
    },
    /// A `message/rfc822` (or `message/global`) body.
    Message {
        /// Body fields.
        fields: BodyFields<'m>,
        /// Envelope of the attached message.
        envelope: Envelope<'m>,
        /// Structure of the attached message.
        body: Box<BodyStructure<'m>>,
        /// Line count of the attached message.
        lines: usize,
    },
    /// Any other body.
    Basic(BodyFields<'m>),
}

/// The BODYSTRUCTURE of a part: everything `BODY` and `BODYSTRUCTURE` show.
/// (`BODY` is the same without the extension data: for a multipart the
/// parameters and [`BodyExtension`], for other parts md5 and [`BodyExtension`].)
///
/// The media type, subtype and parameters borrow the parsed [`Message`]
/// (`'m`); the rest is owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyStructure<'m> {
    /// The part id this describes (see [`Message::part`]); `None` for the empty
    /// `text/plain` put into a multipart that has no parts.
    pub part: Option<usize>,
    /// Lowercase media type.
    pub media_type: &'m str,
    /// Lowercase media subtype.
    pub media_subtype: &'m str,
    /// Content-Type parameters: lowercase names, raw values; RFC 2231 sections merged,
    /// a name ending in `*` holds a value still in `charset'lang'%XX` form (as Dovecot).
    pub params: Params<'m>,
    /// The kind-specific data.
    pub kind: BodyKind<'m>,
    /// Extension data.
    pub extension: BodyExtension<'m>,
}

impl BodyStructure<'_> {
    fn empty_text(_at: usize) -> Self {
        BodyStructure {
            part: None,
            media_type: "text",
            media_subtype: "plain",
            params: Params::new(&[], Cow::Borrowed(DEFAULT_PARAMS)),
            kind: BodyKind::Text {
                fields: BodyFields {
                    id: None,
                    description: None,
                    encoding: Cow::Borrowed(&b"7bit"[..]),
                    size: 0,
                    md5: None,
                },
                lines: 0,
            },
            extension: BodyExtension::default(),
        }
    }
}

/// The text part of a section specifier (RFC 3501 section 6.4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    /// `HEADER`: the header of the message, with the blank line.
    Header,
    /// `HEADER.FIELDS (names)`: the named fields, then a blank line.
    HeaderFields(Vec<String>),
    /// `HEADER.FIELDS.NOT (names)`: all fields but the named ones, then a blank line.
    HeaderFieldsNot(Vec<String>),
    /// `TEXT`: the body of the message.
    Text,
    /// `MIME`: the MIME header of a part, with the blank line.
    Mime,
}

/// A section specifier: part numbers and an optional text part. The empty
/// specifier (`BODY[]`) is the whole message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// Part numbers, 1-based (`1.2` is `[1, 2]`).
    pub part: Vec<u32>,
    /// The text part.
    pub text: Option<SectionText>,
}

impl Section {
    /// Parses the inside of `BODY[...]`, e.g. `1.2.HEADER.FIELDS (From To)`.
    /// Returns `None` for a malformed specifier.
    pub fn parse(s: &str) -> Option<Section> {
        let s = s.trim();
        let mut part = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next().filter(char::is_ascii_digit) {
            let _ = c;
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let n: u32 = rest.get(..end)?.parse().ok().filter(|&n| n > 0)?;
            part.push(n);
            rest = rest.get(end..)?;
            match rest.strip_prefix('.') {
                Some(r) => rest = r,
                None if rest.is_empty() => return Some(Section { part, text: None }),
                None => return None,
            }
        }
        if rest.is_empty() {
            return (part.is_empty()).then_some(Section::default());
        }
        // Keywords are matched case-insensitively in place; field names keep their case.
        let has_prefix = |prefix: &str| {
            rest.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        };
        let names = |prefix: &str| -> Option<Vec<String>> {
            let list = rest.get(prefix.len()..)?.trim();
            let list = list.strip_prefix('(')?.strip_suffix(')')?;
            let v: Vec<String> = list
                .split(|c: char| c.is_ascii_whitespace())
                .filter(|n| !n.is_empty())
                .map(|n| n.trim_matches('"').to_string())
                .collect();
            (!v.is_empty()).then_some(v)
        };
        let text = if rest.eq_ignore_ascii_case("HEADER") {
            SectionText::Header
        } else if rest.eq_ignore_ascii_case("TEXT") {
            SectionText::Text
        } else if rest.eq_ignore_ascii_case("MIME") && !part.is_empty() {
            SectionText::Mime
        } else if has_prefix("HEADER.FIELDS.NOT") {
            SectionText::HeaderFieldsNot(names("HEADER.FIELDS.NOT")?)
        } else if has_prefix("HEADER.FIELDS") {
            SectionText::HeaderFields(names("HEADER.FIELDS")?)
        } else {
            return None;
        };
        Some(Section {
            part,
            text: Some(text),
        })
    }
}

/// A piece of a section's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// These bytes of the raw message.
    Raw(Range<usize>),
    /// A CRLF that is not in the raw message (the blank line after selected header fields).
    Crlf,
}

/// The bytes of one `BODY[section]`: ranges of the raw message and added line breaks.
/// Written out with [`SectionBytes::write_to`], bare LFs become CRLF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionBytes<'m> {
    raw: &'m [u8],
    chunks: Vec<Chunk>,
}

impl SectionBytes<'_> {
    /// The pieces, in order.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// The size in octets as sent (bare LFs counted as CRLF): the IMAP literal length.
    pub fn len(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| match c {
                Chunk::Raw(r) => syntax::crlf_len(self.raw, r.clone()),
                Chunk::Crlf => 2,
            })
            .sum()
    }

    /// Whether the section is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the bytes, every bare LF as CRLF.
    pub fn write_to<W: Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        for c in &self.chunks {
            match c {
                Chunk::Crlf => w.write_all(b"\r\n")?,
                Chunk::Raw(r) => {
                    let s = self.raw.get(r.clone()).unwrap_or_default();
                    let mut from = 0;
                    for i in memchr::memchr_iter(b'\n', s) {
                        if i == 0 || s.get(i - 1) != Some(&b'\r') {
                            w.write_all(s.get(from..i).unwrap_or_default())?;
                            w.write_all(b"\r\n")?;
                            from = i + 1;
                        }
                    }
                    w.write_all(s.get(from..).unwrap_or_default())?;
                }
            }
        }
        Ok(())
    }

    /// The bytes as a vector (see [`SectionBytes::write_to`]).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        // Writing into a Vec cannot fail.
        let _ = self.write_to(&mut v);
        v
    }
}

impl<'a> Message<'a> {
    /// The ENVELOPE of the message.
    pub fn envelope(&self) -> Envelope<'_> {
        self.root().envelope()
    }

    /// The BODYSTRUCTURE of the message.
    pub fn body_structure(&self, opts: &BodyStructureOptions) -> BodyStructure<'_> {
        self.root().body_structure(opts)
    }

    /// Finds the part a section's part numbers name; the empty path gives the root
    /// message. `None` when there is no such part, and for the empty `text/plain`
    /// part BODYSTRUCTURE shows in a multipart without parts ([`Message::section`]
    /// serves that one as empty).
    pub fn section_part(&self, path: &[u32]) -> Option<Part<'_>> {
        let root = self.root();
        let mut cur = root;
        let mut cur_is_message = true;
        for &n in path {
            let n = usize::try_from(n).ok()?.checked_sub(1)?;
            // Step into an attached message first.
            if !cur_is_message {
                match cur.node().kind {
                    Kind::Message(m) => {
                        cur = cur.at(m);
                        cur_is_message = true;
                    }
                    Kind::Multipart(_) => {}
                    Kind::Leaf => return None,
                }
            }
            if cur.is_multipart() {
                cur = cur.children().nth(n)?;
            } else if cur.media_type() == "multipart" {
                // A multipart without parts: BODYSTRUCTURE shows one empty text/plain
                // part, which is no part of the tree (see `Message::section`).
                return None;
            } else if cur_is_message && n == 0 {
                // Part 1 of a non-multipart message is its body.
            } else {
                return None;
            }
            cur_is_message = false;
        }
        Some(cur)
    }

    /// The bytes of `BODY[section]`, or `None` when the section does not exist
    /// (a part number out of range, or HEADER/TEXT on a part that is not
    /// `message/rfc822`).
    pub fn section(&self, section: &Section) -> Option<SectionBytes<'_>> {
        let raw: &[u8] = self.raw();
        let Some(part) = self.section_part(&section.part) else {
            // The empty text/plain part BODYSTRUCTURE shows in a multipart without
            // parts: its body and MIME header are empty, as Dovecot serves them.
            let (last, parent) = section.part.split_last()?;
            let p = self.section_part(parent)?;
            let p = if parent.is_empty() {
                p
            } else {
                p.attached_message().unwrap_or(p)
            };
            let empty = *last == 1
                && p.media_type() == "multipart"
                && !p.is_multipart()
                && matches!(section.text, None | Some(SectionText::Mime));
            return empty.then_some(SectionBytes {
                raw,
                chunks: Vec::new(),
            });
        };
        // The message a HEADER/TEXT specifier refers to.
        let message = if section.part.is_empty() {
            Some(part)
        } else {
            part.attached_message()
        };
        let chunks = match &section.text {
            None if section.part.is_empty() => vec![Chunk::Raw(0..raw.len())],
            None => vec![Chunk::Raw(part.body_range())],
            Some(SectionText::Mime) => {
                if section.part.is_empty() {
                    return None;
                }
                header_chunks(part)
            }
            Some(SectionText::Header) => header_chunks(message?),
            Some(SectionText::Text) => vec![Chunk::Raw(message?.body_range())],
            Some(SectionText::HeaderFields(names)) => fields_chunks(message?, names, false),
            Some(SectionText::HeaderFieldsNot(names)) => fields_chunks(message?, names, true),
        };
        Some(SectionBytes { raw, chunks })
    }
}

/// Whether a header fetch of `p` ends with a blank line it does not have: RFC 3501
/// section 6.4.5 includes the blank line "in all header fetches, except in the case
/// of a message which has no body and no blank line" (as Dovecot does).
fn needs_blank_line(p: Part<'_>) -> bool {
    !p.has_blank_line() && !p.body_range().is_empty()
}

fn header_chunks(p: Part<'_>) -> Vec<Chunk> {
    let mut v = vec![Chunk::Raw(p.header_range())];
    if needs_blank_line(p) {
        // A header ended by a line that is not a header field: end it as a header
        // block should end.
        if !p.raw_header().is_empty() && !p.raw_header().ends_with(b"\n") {
            v.push(Chunk::Crlf);
        }
        v.push(Chunk::Crlf);
    }
    v
}

fn fields_chunks(p: Part<'_>, names: &[String], not: bool) -> Vec<Chunk> {
    let mut v = Vec::with_capacity(if not { 8 } else { names.len() + 1 });
    for h in p.headers() {
        let name = h.name_bytes();
        let hit = names
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(name));
        if hit != not {
            v.push(Chunk::Raw(h.range()));
            if !h.raw().ends_with(b"\n") {
                v.push(Chunk::Crlf);
            }
        }
    }
    if p.has_blank_line() || needs_blank_line(p) {
        v.push(Chunk::Crlf);
    }
    v
}
