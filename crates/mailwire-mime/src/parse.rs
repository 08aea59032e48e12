//! Parsing: the part tree of a message with exact byte ranges.
//!
//! The structure (where each part's header and body start and end) is found by our
//! own scanner, which follows RFC 2046 exactly: a boundary delimiter is a line that
//! starts with `--boundary`, followed only by optional `--` and whitespace, and the
//! line break before it belongs to the delimiter, not to the part. mail-parser is
//! used for what it does well, on one header value or one body at a time: RFC 2047
//! encoded words, RFC 2231 parameters with charsets, dates, message ids and charset
//! conversion. This split is deliberate: IMAP needs byte ranges that match RFC 2046
//! to the octet (mail-parser finds boundaries anywhere on a line and parses
//! base64-encoded attached messages from a different buffer), and feeding
//! mail-parser only small, already delimited slices keeps its exposure to hostile
//! input small.

use std::borrow::Cow;
use std::ops::Range;

use crate::header::Header;
use crate::syntax::{self, FieldPos, HeaderBlock, PStr, RawParams};

/// Limits applied while parsing. Exceeding `max_size` is an error; exceeding the
/// depth, part or header-field limits is not: the part where the limit is reached is
/// kept as a leaf (its body is not split further), extra header fields are dropped
/// from the field list (their bytes stay in the header range), and
/// [`Message::is_truncated`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest message accepted, in octets. Default 256 MiB.
    pub max_size: usize,
    /// Deepest nesting of multiparts and attached messages. Default 32.
    pub max_depth: usize,
    /// Most parts (every node of the tree, including attached messages). Default 10 000.
    pub max_parts: usize,
    /// Most header fields kept per part. Default 10 000.
    pub max_header_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size: 256 << 20,
            max_depth: 32,
            max_parts: 10_000,
            max_header_fields: 10_000,
        }
    }
}

impl Limits {
    /// The default limits (same as `Default`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `max_size`.
    pub fn max_size(mut self, v: usize) -> Self {
        self.max_size = v;
        self
    }
    /// Sets `max_depth`.
    pub fn max_depth(mut self, v: usize) -> Self {
        self.max_depth = v;
        self
    }
    /// Sets `max_parts`.
    pub fn max_parts(mut self, v: usize) -> Self {
        self.max_parts = v;
        self
    }
    /// Sets `max_header_fields`.
    pub fn max_header_fields(mut self, v: usize) -> Self {
        self.max_header_fields = v;
        self
    }
}

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The message is larger than [`Limits::max_size`].
    #[error("message of {size} octets exceeds the limit of {limit}")]
    TooLarge {
        /// Size of the message.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
}

/// What a node of the part tree contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A leaf: its body is not split further.
    Leaf,
    /// A multipart: the node id of its first part (the others follow by
    /// [`Node::next_sibling`]).
    Multipart(usize),
    /// A `message/rfc822` (or `message/global`) part: the node id of the attached message.
    Message(usize),
}

/// One node of the part tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) start: usize,
    pub(crate) header: HeaderBlock,
    pub(crate) end: usize,
    /// Lowercase media type and subtype (defaults applied).
    pub(crate) mtype: Cow<'static, str>,
    pub(crate) msubtype: Cow<'static, str>,
    /// Content-Type parameters, raw (RFC 2231 sections merged); defaults applied.
    /// Spans point into the message bytes.
    pub(crate) params: Cow<'static, [(PStr, PStr)]>,
    pub(crate) kind: Kind,
    pub(crate) parent: Option<usize>,
    /// The next part of the same multipart.
    pub(crate) next_sibling: Option<usize>,
    /// For a multipart: where the line of its close delimiter ends, if it has one.
    pub(crate) close_end: Option<usize>,
    /// Whether this node is a message (the top level or an attached message) rather
    /// than a MIME body part.
    pub(crate) is_message: bool,
}

/// A parsed message: the raw bytes and the part tree over them.
///
/// `Message<'a>` borrows the bytes it was parsed from; [`Message::into_owned`] gives
/// a `Message<'static>` for those who cannot hold a borrow. The tree itself holds no
/// borrow, only byte ranges, so views are cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    raw: Cow<'a, [u8]>,
    tree: Tree,
    truncated: bool,
}

/// The part tree: nodes in depth-first order, and the header fields of all of them
/// in one list (each node's fields are a range of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<Node>,
    pub(crate) fields: Vec<FieldPos>,
}

/// Transfer encoding of a part (RFC 2045 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferEncoding {
    /// `7bit`, also the default when the field is absent.
    SevenBit,
    /// `8bit`.
    EightBit,
    /// `binary`.
    Binary,
    /// `quoted-printable`.
    QuotedPrintable,
    /// `base64`.
    Base64,
    /// Anything else (the body is left as is).
    Other,
}

impl TransferEncoding {
    /// Parses a Content-Transfer-Encoding value (case-insensitive, whitespace trimmed).
    pub fn from_value(v: &[u8]) -> Self {
        // The first word, line breaks and surrounding whitespace skipped; no copy
        // unless the value is folded inside the word.
        let start = v
            .iter()
            .position(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .unwrap_or(v.len());
        let rest = v.get(start..).unwrap_or_default();
        let end = rest
            .iter()
            .position(|&b| matches!(b, b'(' | b' ' | b'\t' | b'\r' | b'\n'))
            .unwrap_or(rest.len());
        let word = rest.get(..end).unwrap_or_default();
        let after = rest.get(end..).unwrap_or_default();
        if after.first().is_some_and(|&b| b == b'\r' || b == b'\n') {
            // A line break inside the value: take the slow, exact path.
            let v = syntax::unfold(v);
            let v: Vec<u8> = v
                .into_iter()
                .take_while(|&b| b != b'(' && b != b' ')
                .collect();
            return Self::from_word(&v);
        }
        Self::from_word(word)
    }

    fn from_word(w: &[u8]) -> Self {
        let is = |name: &[u8]| w.eq_ignore_ascii_case(name);
        if w.is_empty() || is(b"7bit") {
            Self::SevenBit
        } else if is(b"8bit") {
            Self::EightBit
        } else if is(b"binary") {
            Self::Binary
        } else if is(b"quoted-printable") {
            Self::QuotedPrintable
        } else if is(b"base64") {
            Self::Base64
        } else {
            Self::Other
        }
    }
    /// The canonical name (`7bit`, `quoted-printable`, ...); `x-unknown` for `Other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SevenBit => "7bit",
            Self::EightBit => "8bit",
            Self::Binary => "binary",
            Self::QuotedPrintable => "quoted-printable",
            Self::Base64 => "base64",
            Self::Other => "x-unknown",
        }
    }
    /// Whether the encoding is the identity (7bit, 8bit or binary).
    pub fn is_identity(self) -> bool {
        matches!(self, Self::SevenBit | Self::EightBit | Self::Binary)
    }
}

/// Common media types and subtypes, shared rather than allocated per part.
const COMMON_TYPES: &[&str] = &[
    "text",
    "plain",
    "html",
    "multipart",
    "mixed",
    "alternative",
    "related",
    "digest",
    "message",
    "rfc822",
    "global",
    "application",
    "octet-stream",
    "pdf",
    "image",
    "png",
    "jpeg",
    "calendar",
];

/// The parameters of a part without a Content-Type (RFC 2045 section 5.2).
pub(crate) const DEFAULT_PARAMS: &[(PStr, PStr)] =
    &[(PStr::Static("charset"), PStr::Static("us-ascii"))];

/// `s` (already lowercase) as a shared static string when it is a common name.
fn interned(s: &str) -> Cow<'static, str> {
    match COMMON_TYPES.iter().find(|&&c| c == s) {
        Some(&c) => Cow::Borrowed(c),
        None => Cow::Owned(s.to_string()),
    }
}

struct Builder<'r> {
    raw: &'r [u8],
    limits: &'r Limits,
    tree: Tree,
    truncated: bool,
}

/// A line break followed by two dashes: where a boundary delimiter line may start.
static LINE_DASHES: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\n--"));

/// The boundary delimiter lines of a multipart body `raw[start..end]`, in order, up
/// to the close delimiter: (line start, line end after its terminator, whether it
/// is the close delimiter).
struct Delimiters<'r, 'b> {
    start: usize,
    body: &'r [u8],
    boundary: &'b [u8],
    /// Where to look for the next line start.
    pos: usize,
    /// Whether the line at the start of the body was looked at.
    first_seen: bool,
    done: bool,
}

impl<'r, 'b> Delimiters<'r, 'b> {
    fn new(raw: &'r [u8], start: usize, end: usize, boundary: &'b [u8]) -> Self {
        let body = raw.get(start..end).unwrap_or_default();
        Delimiters {
            start,
            body,
            boundary,
            pos: 0,
            first_seen: false,
            done: body.is_empty(),
        }
    }
}

impl Iterator for Delimiters<'_, '_> {
    type Item = (usize, usize, bool);

    fn next(&mut self) -> Option<(usize, usize, bool)> {
        let body = self.body;
        while !self.done {
            // The next line that starts with "--".
            let c = if self.first_seen {
                match body.get(self.pos..).and_then(|r| LINE_DASHES.find(r)) {
                    Some(i) => self.pos + i + 1,
                    None => {
                        self.done = true;
                        return None;
                    }
                }
            } else {
                self.first_seen = true;
                if !body.starts_with(b"--") {
                    continue;
                }
                0
            };
            self.pos = c;
            let after = c + 2;
            if !body
                .get(after..)
                .is_some_and(|r| r.starts_with(self.boundary))
            {
                continue;
            }
            let mut j = after + self.boundary.len();
            let close = body.get(j..j + 2) == Some(b"--");
            if close {
                j += 2;
            }
            while matches!(body.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            let line_end = match body.get(j) {
                None => j,
                Some(b'\n') => j + 1,
                Some(b'\r') if body.get(j + 1) == Some(&b'\n') => j + 2,
                Some(b'\r') if j + 1 == body.len() => j + 1,
                _ => continue,
            };
            self.done = close;
            return Some((self.start + c, self.start + line_end, close));
        }
        None
    }
}

impl Builder<'_> {
    /// A part that ends with the close delimiter of a multipart inside it, right
    /// before the next delimiter (an empty epilogue): the line break after that
    /// close delimiter ends the close delimiter's line, so it stays in the part, as
    /// Dovecot counts it (RFC 2046 would give it to the next delimiter). The part and
    /// every node of its subtree that ends where it ends are extended to `to`.
    fn keep_close_line_break(&mut self, child: usize, end: usize, to: usize) {
        // The close delimiter's line must end at `end` without its line break (which
        // is the one between `end` and `to`).
        if matches!(
            self.raw.get(end.wrapping_sub(1)),
            None | Some(b'\n' | b'\r')
        ) {
            return;
        }
        let nodes = self.tree.nodes.get_mut(child..).unwrap_or_default();
        if !nodes
            .iter()
            .any(|n| n.end == end && n.close_end == Some(end))
        {
            return;
        }
        for n in nodes.iter_mut().filter(|n| n.end == end) {
            n.end = to;
        }
    }

    fn entity(
        &mut self,
        start: usize,
        end: usize,
        parent: Option<usize>,
        is_message: bool,
        in_digest: bool,
        depth: usize,
    ) -> usize {
        let raw = self.raw;
        let header = syntax::split_header(
            raw,
            start,
            end,
            self.limits.max_header_fields,
            &mut self.tree.fields,
        );
        let mut ct: Option<RawParams> = None;
        let mut cte = TransferEncoding::SevenBit;
        let mut seen_ct = false;
        let mut seen_cte = false;
        for f in self
            .tree
            .fields
            .get(header.fields.clone())
            .unwrap_or_default()
        {
            let name = raw.get(f.start..f.name_end).unwrap_or_default();
            let value = raw.get(f.value_start..f.value_end).unwrap_or_default();
            if !seen_ct && name.eq_ignore_ascii_case(b"content-type") {
                seen_ct = true;
                ct = Some(syntax::parse_params(raw, f.value_start..f.value_end));
            } else if !seen_cte && name.eq_ignore_ascii_case(b"content-transfer-encoding") {
                seen_cte = true;
                cte = TransferEncoding::from_value(value);
            }
        }
        if header.fields.len() >= self.limits.max_header_fields {
            self.truncated = true;
        }
        let parsed = ct.and_then(|p| {
            let (t, s) = p.value.as_str(raw).split_once('/')?;
            let (t, s) = (t.trim(), s.trim());
            let ok = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_graphic());
            (ok(t) && ok(s)).then(|| (interned(t), interned(s), Cow::Owned(p.params)))
        });
        let (mtype, msubtype, mut params) = match parsed {
            Some(v) => v,
            None if in_digest => (
                Cow::Borrowed("message"),
                Cow::Borrowed("rfc822"),
                Cow::Borrowed(&[][..]),
            ),
            None => (
                Cow::Borrowed("text"),
                Cow::Borrowed("plain"),
                Cow::Borrowed(DEFAULT_PARAMS),
            ),
        };
        // A text part without a charset parameter: RFC 2045 section 5.2's default,
        // shown as Dovecot shows it (after the other parameters).
        if mtype == "text" && !params.iter().any(|(k, _)| k.bytes(raw) == b"charset") {
            if params.is_empty() {
                params = Cow::Borrowed(DEFAULT_PARAMS);
            } else {
                params
                    .to_mut()
                    .push((PStr::Static("charset"), PStr::Static("us-ascii")));
            }
        }
        let body_start = header.body_start;
        let id = self.tree.nodes.len();
        self.tree.nodes.push(Node {
            start,
            header,
            end,
            mtype,
            msubtype,
            params,
            kind: Kind::Leaf,
            parent,
            next_sibling: None,
            close_end: None,
            is_message,
        });
        // `id` was pushed just above.
        let node = &self.tree.nodes[id];
        let wants_children = node.mtype == "multipart"
            || (node.mtype == "message"
                && (node.msubtype == "rfc822" || node.msubtype == "global")
                && cte.is_identity());
        if !wants_children {
            return id;
        }
        if depth >= self.limits.max_depth || self.tree.nodes.len() >= self.limits.max_parts {
            self.truncated = true;
            return id;
        }
        if node.mtype == "multipart" {
            // The boundary borrows the message bytes when it is written plainly.
            let Some(boundary) = node
                .params
                .iter()
                .find(|(k, _)| k.bytes(raw) == b"boundary")
                .map(|(_, v)| match v {
                    PStr::Span(a, b) => Cow::Borrowed(raw.get(*a..*b).unwrap_or_default()),
                    v => Cow::Owned(v.bytes(raw).to_vec()),
                })
                .filter(|b| !b.is_empty())
            else {
                return id;
            };
            let digest = node.msubtype == "digest";
            let mut delims = Delimiters::new(raw, body_start, end, &boundary);
            let mut prev: Option<usize> = None;
            let mut cur = delims.next();
            while let Some((_, line_end, close)) = cur {
                if close {
                    // `id` is a node already pushed.
                    self.tree.nodes[id].close_end = Some(line_end);
                    break;
                }
                let next = delims.next();
                cur = next;
                // The line break before the next delimiter belongs to the delimiter.
                let (part_end, next_start) = match next {
                    Some((next_start, _, _)) => {
                        let mut e = next_start;
                        if e > line_end && raw.get(e - 1) == Some(&b'\n') {
                            e -= 1;
                            if e > line_end && raw.get(e - 1) == Some(&b'\r') {
                                e -= 1;
                            }
                        }
                        (e, next_start)
                    }
                    None => (end, end),
                };
                if self.tree.nodes.len() >= self.limits.max_parts {
                    self.truncated = true;
                    break;
                }
                let child = self.entity(line_end, part_end, Some(id), false, digest, depth + 1);
                if part_end < next_start {
                    self.keep_close_line_break(child, part_end, next_start);
                }
                // Node ids are indexes of nodes already pushed.
                match prev {
                    None => self.tree.nodes[id].kind = Kind::Multipart(child),
                    Some(p) => self.tree.nodes[p].next_sibling = Some(child),
                }
                prev = Some(child);
            }
        } else {
            let child = self.entity(body_start, end, Some(id), true, false, depth + 1);
            // `id` is a node already pushed.
            self.tree.nodes[id].kind = Kind::Message(child);
        }
        id
    }
}

impl<'a> Message<'a> {
    /// Parses a message with the default [`Limits`].
    ///
    /// ```
    /// let m = mailwire_mime::Message::parse(&b"Subject: hi\r\n\r\nbody"[..]).unwrap();
    /// assert_eq!(m.root().body(), b"body");
    /// ```
    pub fn parse(raw: impl Into<Cow<'a, [u8]>>) -> Result<Self, ParseError> {
        Self::parse_with(raw, &Limits::default())
    }

    /// Parses a message with the given limits. Any bytes are accepted: text without a
    /// header is a message with an empty header and a `text/plain` body.
    pub fn parse_with(raw: impl Into<Cow<'a, [u8]>>, limits: &Limits) -> Result<Self, ParseError> {
        let raw = raw.into();
        if raw.len() > limits.max_size {
            return Err(ParseError::TooLarge {
                size: raw.len(),
                limit: limits.max_size,
            });
        }
        let mut b = Builder {
            raw: &raw,
            limits,
            tree: Tree {
                // Room for a typical message, so that the lists rarely grow.
                nodes: Vec::with_capacity(8),
                fields: Vec::with_capacity(32),
            },
            truncated: false,
        };
        b.entity(0, raw.len(), None, true, false, 0);
        let (tree, truncated) = (b.tree, b.truncated);
        Ok(Message {
            raw,
            tree,
            truncated,
        })
    }

    /// Turns this message into one that owns its bytes.
    pub fn into_owned(self) -> Message<'static> {
        Message {
            raw: Cow::Owned(self.raw.into_owned()),
            tree: self.tree,
            truncated: self.truncated,
        }
    }

    /// The raw bytes of the message.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Whether a limit (depth, part count, header fields) cut the tree short.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// The top-level part: the message itself (its header is the message header).
    pub fn root(&self) -> Part<'_> {
        Part {
            raw: &self.raw,
            tree: &self.tree,
            id: 0,
        }
    }

    /// Every part in depth-first order (parent before children), the root first;
    /// attached messages are parts too (their parent is the `message/rfc822` part).
    pub fn parts(&self) -> impl Iterator<Item = Part<'_>> + '_ {
        (0..self.tree.nodes.len()).map(move |id| Part {
            raw: &self.raw,
            tree: &self.tree,
            id,
        })
    }

    /// The part with the given id (ids are positions in [`Message::parts`]).
    pub fn part(&self, id: usize) -> Option<Part<'_>> {
        (id < self.tree.nodes.len()).then(|| Part {
            raw: &self.raw,
            tree: &self.tree,
            id,
        })
    }

    /// Size of the message as IMAP's RFC822.SIZE: bare LFs count as CRLF.
    pub fn size_crlf(&self) -> usize {
        syntax::crlf_len(&self.raw, 0..self.raw.len())
    }
}

/// Raw parameters of a `Content-Type` or `Content-Disposition` field, as IMAP's
/// BODYSTRUCTURE shows them: lowercase names, values with quotes removed, RFC 2231
/// sections merged, and a name ending in `*` for a value still in
/// `charset'lang'%XX` form. The order is Dovecot's: plain parameters as written,
/// then the RFC 2231 ones sorted by name (order carries no meaning, RFC 2045
/// section 5.1). Strings borrow the message bytes where they are written plainly
/// and are copies otherwise.
///
/// ```
/// let m = mailwire_mime::Message::parse(
///     &b"Content-Type: text/plain; charset=\"utf-8\"; Format=flowed\r\n\r\nhi"[..],
/// )
/// .unwrap();
/// let p = m.root().raw_params();
/// assert_eq!(p.iter().collect::<Vec<_>>(), [("charset", "utf-8"), ("format", "flowed")]);
/// assert_eq!(p.get("CHARSET"), Some("utf-8"));
/// ```
#[derive(Clone)]
pub struct Params<'m> {
    raw: &'m [u8],
    list: Cow<'m, [(PStr, PStr)]>,
}

impl<'m> Params<'m> {
    pub(crate) fn new(raw: &'m [u8], list: Cow<'m, [(PStr, PStr)]>) -> Self {
        Params { raw, list }
    }

    /// A parameter list that borrows nothing: for values made up by the caller.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Params<'static> {
        let own = |s: String| PStr::Owned(s.into_boxed_str());
        Params {
            raw: &[],
            list: Cow::Owned(
                pairs
                    .into_iter()
                    .map(|(k, v)| (own(k.into()), own(v.into())))
                    .collect(),
            ),
        }
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The parameters in order, as (name, value).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.list
            .iter()
            .map(|(k, v)| (k.as_str(self.raw), v.as_str(self.raw)))
    }

    /// The value of the first parameter with this name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Owned copies of the parameters.
    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The same parameters, owning their strings.
    pub fn into_owned(self) -> Params<'static> {
        Params::from_pairs(self.iter())
    }
}

impl PartialEq for Params<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Params<'_> {}

impl std::fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A view of one part of a parsed message.
#[derive(Debug, Clone, Copy)]
pub struct Part<'m> {
    pub(crate) raw: &'m [u8],
    pub(crate) tree: &'m Tree,
    pub(crate) id: usize,
}

impl<'m> Part<'m> {
    pub(crate) fn node(&self) -> &'m Node {
        // Invariant: a Part is only made with an id < nodes.len().
        &self.tree.nodes[self.id]
    }

    pub(crate) fn at(&self, id: usize) -> Part<'m> {
        Part {
            raw: self.raw,
            tree: self.tree,
            id,
        }
    }

    /// This part's id: its position in [`Message::parts`].
    pub fn id(&self) -> usize {
        self.id
    }

    /// The whole part: header start to end.
    pub fn range(&self) -> Range<usize> {
        let n = self.node();
        n.start..n.end
    }

    /// The header, including the blank line that ends it (if any).
    pub fn header_range(&self) -> Range<usize> {
        let n = self.node();
        n.start..n.header.body_start
    }

    /// The body: after the blank line to the end of the part (for a part of a
    /// multipart, the line break before the next boundary is not included).
    pub fn body_range(&self) -> Range<usize> {
        let n = self.node();
        n.header.body_start..n.end
    }

    /// Whether the header is closed by a blank line.
    pub fn has_blank_line(&self) -> bool {
        self.node().header.has_blank_line
    }

    /// The raw header bytes (see [`Part::header_range`]).
    pub fn raw_header(&self) -> &'m [u8] {
        self.raw.get(self.header_range()).unwrap_or_default()
    }

    /// The raw body, still transfer-encoded.
    pub fn body(&self) -> &'m [u8] {
        self.raw.get(self.body_range()).unwrap_or_default()
    }

    /// The header fields in order.
    pub fn headers(&self) -> impl Iterator<Item = Header<'m>> + 'm {
        let raw = self.raw;
        self.field_positions()
            .iter()
            .map(move |f| Header::new(raw, f))
    }

    /// The positions of this part's header fields.
    fn field_positions(&self) -> &'m [FieldPos] {
        let tree: &'m Tree = self.tree;
        tree.fields
            .get(self.node().header.fields.clone())
            .unwrap_or_default()
    }

    /// The first header field with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<Header<'m>> {
        let raw = self.raw;
        let name = name.as_bytes();
        self.field_positions()
            .iter()
            .find(|f| {
                raw.get(f.start..f.name_end)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .map(|f| Header::new(raw, f))
    }

    /// Every header field with this name (case-insensitive), in order.
    pub fn header_all<'n>(&self, name: &'n str) -> impl Iterator<Item = Header<'m>> + 'n
    where
        'm: 'n,
    {
        self.headers()
            .filter(move |h| h.name_bytes().eq_ignore_ascii_case(name.as_bytes()))
    }

    /// The media type, lowercase (`text`; the default `text` or, in a digest, `message`).
    pub fn media_type(&self) -> &'m str {
        &self.node().mtype
    }

    /// The media subtype, lowercase.
    pub fn media_subtype(&self) -> &'m str {
        &self.node().msubtype
    }

    /// The Content-Type parameters as written: lowercase names, RFC 2231 sections
    /// merged, and a name ending in `*` for a value still in `charset'lang'%XX` form;
    /// for a `text/*` part without a charset, `charset=us-ascii` (RFC 2045) at the end.
    /// This is what IMAP's BODYSTRUCTURE shows (see [`Params`]). For decoded values use
    /// [`Header::content_type`] on the `Content-Type` field, or [`Part::param`].
    pub fn raw_params(&self) -> Params<'m> {
        Params {
            raw: self.raw,
            list: Cow::Borrowed(&self.node().params),
        }
    }

    /// A Content-Type parameter, decoded (RFC 2231 charset and continuations, RFC 2047).
    pub fn param(&self, name: &str) -> Option<String> {
        if let Some(ct) = self.header("content-type").and_then(|h| h.content_type()) {
            return ct.param(name).map(str::to_string);
        }
        self.raw_params()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_string())
    }

    /// The Content-Transfer-Encoding (7bit when absent).
    pub fn transfer_encoding(&self) -> TransferEncoding {
        self.header("content-transfer-encoding")
            .map_or(TransferEncoding::SevenBit, |h| {
                TransferEncoding::from_value(h.raw_value())
            })
    }

    /// Whether this is a multipart with at least one part.
    pub fn is_multipart(&self) -> bool {
        matches!(self.node().kind, Kind::Multipart(_))
    }

    /// Whether this part is a message: the top level, or a message attached in a
    /// `message/rfc822` part (see [`Part::attached_message`]).
    pub fn is_message(&self) -> bool {
        self.node().is_message
    }

    /// The parts of a multipart (empty for anything else).
    pub fn children(&self) -> impl Iterator<Item = Part<'m>> + 'm {
        let this = *self;
        let first = match self.node().kind {
            Kind::Multipart(c) => Some(c),
            _ => None,
        };
        std::iter::successors(first.map(|id| this.at(id)), |p| {
            p.node().next_sibling.map(|id| p.at(id))
        })
    }

    /// For a `message/rfc822` (or `message/global`) part with an identity transfer
    /// encoding: the attached message.
    pub fn attached_message(&self) -> Option<Part<'m>> {
        match self.node().kind {
            Kind::Message(id) => Some(self.at(id)),
            _ => None,
        }
    }

    /// The parent part (for an attached message, its `message/rfc822` part).
    pub fn parent(&self) -> Option<Part<'m>> {
        self.node().parent.map(|id| self.at(id))
    }

    /// The body with its transfer encoding removed (base64 and quoted-printable are
    /// decoded leniently; anything else is returned as is).
    pub fn decoded_body(&self) -> Cow<'m, [u8]> {
        let body = self.body();
        match self.transfer_encoding() {
            TransferEncoding::Base64 => Cow::Owned(crate::encoding::base64_decode_lenient(body)),
            TransferEncoding::QuotedPrintable => Cow::Owned(
                quoted_printable::decode(body, quoted_printable::ParseMode::Robust)
                    .unwrap_or_else(|_| body.to_vec()),
            ),
            _ => Cow::Borrowed(body),
        }
    }

    /// For a `text/*` part: the decoded body converted from its charset to UTF-8
    /// (unknown charsets are read as UTF-8, invalid sequences replaced).
    pub fn text(&self) -> Option<String> {
        if self.media_type() != "text" {
            return None;
        }
        let bytes = self.decoded_body();
        let charset = self.param("charset");
        if let Some(dec) = charset
            .as_deref()
            .filter(|c| !c.eq_ignore_ascii_case("utf-8") && !c.eq_ignore_ascii_case("us-ascii"))
            .and_then(|c| mail_parser::decoders::charsets::map::charset_decoder(c.as_bytes()))
        {
            return Some(dec(&bytes));
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The file name of an attachment: Content-Disposition `filename`, else
    /// Content-Type `name`, decoded.
    pub fn filename(&self) -> Option<String> {
        self.header("content-disposition")
            .and_then(|h| h.content_type())
            .and_then(|d| d.param("filename").map(str::to_string))
            .or_else(|| self.param("name"))
    }
}
