//! Low-level RFC 5322 / RFC 2045 syntax over raw bytes: header field splitting,
//! comments and quoted strings, address lists and `Content-Type` parameters.
//!
//! Everything here is lax (it accepts what real mail contains) and total: no input
//! makes it panic, and every index is checked.

use std::borrow::Cow;
use std::ops::Range;

/// Positions of one header field inside the raw message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPos {
    /// Start of the field name.
    pub(crate) start: usize,
    /// End of the field name (before optional whitespace and the colon).
    pub(crate) name_end: usize,
    /// First byte after the colon.
    pub(crate) value_start: usize,
    /// End of the value: before the final line terminator of the field.
    pub(crate) value_end: usize,
    /// End of the field, after its final line terminator (or at the end of the data).
    pub(crate) end: usize,
}

/// The header block of an entity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HeaderBlock {
    /// Its fields: these positions of the field list shared by all entities of a
    /// message (see [`split_header`]).
    pub(crate) fields: Range<usize>,
    /// Where the body starts: after the blank line, or at the limit when there is none.
    pub(crate) body_start: usize,
    /// Whether the header block is closed by a blank line.
    pub(crate) has_blank_line: bool,
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Finds the index just after the next LF at or after `from`, or `limit`.
fn line_end(raw: &[u8], from: usize, limit: usize) -> usize {
    match raw.get(from..limit).and_then(|s| memchr::memchr(b'\n', s)) {
        Some(i) => from + i + 1,
        None => limit,
    }
}

/// Strips the line terminator (LF or CRLF) just before `end`.
fn strip_eol(raw: &[u8], start: usize, end: usize) -> usize {
    let mut e = end;
    if e > start && raw.get(e - 1) == Some(&b'\n') {
        e -= 1;
        if e > start && raw.get(e - 1) == Some(&b'\r') {
            e -= 1;
        }
    }
    e
}

/// Splits the header fields of the entity starting at `start`, not reading past `limit`,
/// appending at most `max_fields` of them to `fields`.
///
/// A line that is not a header field (no colon, or an invalid field name) ends the
/// header block and starts the body, as Python's `email` package does.
pub(crate) fn split_header(
    raw: &[u8],
    start: usize,
    limit: usize,
    max_fields: usize,
    fields: &mut Vec<FieldPos>,
) -> HeaderBlock {
    let first = fields.len();
    let block = |fields: &Vec<FieldPos>, body_start: usize, has_blank_line: bool| HeaderBlock {
        fields: first..fields.len(),
        body_start,
        has_blank_line,
    };
    let limit = limit.min(raw.len());
    let mut pos = start.min(limit);
    loop {
        if pos >= limit {
            return block(fields, limit, false);
        }
        // A blank line ends the header.
        match raw.get(pos) {
            Some(b'\n') => return block(fields, pos + 1, true),
            Some(b'\r') if raw.get(pos + 1) == Some(&b'\n') && pos + 1 < limit => {
                return block(fields, pos + 2, true);
            }
            _ => {}
        }
        // The field name: printable ASCII except colon, then optional WSP, then a colon.
        let line_stop = line_end(raw, pos, limit);
        let line = raw.get(pos..line_stop).unwrap_or_default();
        let Some(colon) = memchr::memchr(b':', line) else {
            return block(fields, pos, false);
        };
        let mut name_len = colon;
        while name_len > 0 && line.get(name_len - 1).copied().is_some_and(is_wsp) {
            name_len -= 1;
        }
        let name = line.get(..name_len).unwrap_or_default();
        if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
            return block(fields, pos, false);
        }
        // The field continues while the next line starts with WSP.
        let mut end = line_stop;
        while end < limit && raw.get(end).copied().is_some_and(is_wsp) {
            end = line_end(raw, end, limit);
        }
        if fields.len() - first < max_fields {
            fields.push(FieldPos {
                start: pos,
                name_end: pos + name_len,
                value_start: pos + colon + 1,
                value_end: strip_eol(raw, pos + colon + 1, end),
                end,
            });
        }
        pos = end;
    }
}

/// Unfolds a raw header value: removes every CR and LF, and trims surrounding
/// whitespace. This is the form IMAP servers put into ENVELOPE strings.
pub(crate) fn unfold(value: &[u8]) -> Vec<u8> {
    unfold_cow(value).into_owned()
}

/// [`unfold`] without a copy when the trimmed value has no line break inside.
pub(crate) fn unfold_cow(value: &[u8]) -> Cow<'_, [u8]> {
    // Trimming spaces, tabs, CR and LF at both ends first gives the same result as
    // removing CR and LF everywhere and then trimming spaces and tabs.
    let edge = |b: &u8| !matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let Some(first) = value.iter().position(edge) else {
        return Cow::Borrowed(&[]);
    };
    let last = value.iter().rposition(edge).unwrap_or(first);
    let v = value.get(first..=last).unwrap_or_default();
    if memchr::memchr2(b'\r', b'\n', v).is_none() {
        return Cow::Borrowed(v);
    }
    let mut out = Vec::with_capacity(v.len());
    out.extend(v.iter().copied().filter(|&b| b != b'\r' && b != b'\n'));
    Cow::Owned(out)
}

/// A lexical token of a structured header field. Borrows the value; only quoted
/// strings and comments with escapes or line breaks are copied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'s> {
    /// A run of atext (and dots).
    Atom(&'s [u8]),
    /// The content of a quoted string, unescaped.
    Quoted(Cow<'s, [u8]>),
    /// The content of a comment (outer parentheses removed).
    Comment(Cow<'s, [u8]>),
    /// A special character.
    Special(u8),
    /// A domain literal `[...]`, brackets kept.
    Literal(&'s [u8]),
}

const SPECIALS: &[u8] = b"()<>[]:;@\\,\"";

/// A membership table over all byte values.
const fn byte_table(chars: &[u8], extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut k = 0;
    while k < chars.len() {
        t[chars[k] as usize] = true;
        k += 1;
    }
    let mut k = 0;
    while k < extra.len() {
        t[extra[k] as usize] = true;
        k += 1;
    }
    t
}

/// The extra specials of `Content-Type` and `Content-Disposition` values.
const PARAM_SPECIALS: &[u8] = b"=/?";
const IS_SPECIAL: [bool; 256] = byte_table(SPECIALS, b"");
const IS_PARAM_SPECIAL: [bool; 256] = byte_table(SPECIALS, PARAM_SPECIALS);
const ENDS_ATOM: [bool; 256] = byte_table(SPECIALS, b" \t\r\n");
const ENDS_PARAM_ATOM: [bool; 256] = byte_table(SPECIALS, b" \t\r\n=/?");

/// The tokens of a structured value, one at a time (no allocation beyond the
/// copies of quoted strings and comments with escapes or line breaks).
struct Tokens<'s, 'e> {
    s: &'s [u8],
    i: usize,
    extra_specials: &'e [u8],
    /// Where the last token returned starts in `s`.
    start: usize,
}

impl<'s> Iterator for Tokens<'s, '_> {
    type Item = Tok<'s>;

    fn next(&mut self) -> Option<Tok<'s>> {
        let s = self.s;
        let extra_specials = self.extra_specials;
        let mut i = self.i;
        let (tok, next) = scan_token(s, extra_specials, &mut i)?;
        // `scan_token` leaves `i` at the start of the token it returns.
        self.start = i;
        self.i = next;
        Some(tok)
    }
}

/// Scans from `*i` (skipping whitespace) to the end of the next token; gives the
/// token and the position after it.
fn scan_token<'s>(s: &'s [u8], extra_specials: &[u8], i: &mut usize) -> Option<(Tok<'s>, usize)> {
    let (special, ends_atom) = if extra_specials == PARAM_SPECIALS {
        (&IS_PARAM_SPECIAL, &ENDS_PARAM_ATOM)
    } else {
        debug_assert!(extra_specials.is_empty());
        (&IS_SPECIAL, &ENDS_ATOM)
    };
    while let Some(&b) = s.get(*i) {
        let i0 = *i;
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => *i += 1,
            b'(' => {
                let mut depth = 1usize;
                let mut j = i0 + 1;
                let mut content: Option<Vec<u8>> = None;
                while let Some(&c) = s.get(j) {
                    match c {
                        b'\\' => {
                            let v = content.get_or_insert_with(|| {
                                s.get(i0 + 1..j).unwrap_or_default().to_vec()
                            });
                            if let Some(&n) = s.get(j + 1) {
                                v.push(n);
                            }
                            j += 2;
                            continue;
                        }
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    if let Some(v) = &mut content {
                        v.push(c);
                    }
                    j += 1;
                }
                let stop = j.min(s.len());
                let tok = Tok::Comment(match content {
                    Some(v) => Cow::Owned(v),
                    None => Cow::Borrowed(s.get(i0 + 1..stop).unwrap_or_default()),
                });
                return Some((tok, (j + 1).max(i0 + 1)));
            }
            b'"' => {
                let mut j = i0 + 1;
                let mut content: Option<Vec<u8>> = None;
                while let Some(&c) = s.get(j) {
                    match c {
                        b'\\' => {
                            let v = content.get_or_insert_with(|| {
                                s.get(i0 + 1..j).unwrap_or_default().to_vec()
                            });
                            if let Some(&n) = s.get(j + 1) {
                                v.push(n);
                            }
                            j += 2;
                            continue;
                        }
                        b'"' => break,
                        b'\r' | b'\n' => {
                            content.get_or_insert_with(|| {
                                s.get(i0 + 1..j).unwrap_or_default().to_vec()
                            });
                        }
                        _ => {
                            if let Some(v) = &mut content {
                                v.push(c);
                            }
                        }
                    }
                    j += 1;
                }
                let stop = j.min(s.len());
                let tok = Tok::Quoted(match content {
                    Some(v) => Cow::Owned(v),
                    None => Cow::Borrowed(s.get(i0 + 1..stop).unwrap_or_default()),
                });
                return Some((tok, (j + 1).max(i0 + 1)));
            }
            b'[' => {
                let end = s
                    .get(i0..)
                    .and_then(|r| memchr::memchr(b']', r))
                    .map_or(s.len(), |k| i0 + k + 1);
                return Some((
                    Tok::Literal(s.get(i0..end).unwrap_or_default()),
                    end.max(i0 + 1),
                ));
            }
            // Tables of 256 entries indexed by a byte: always in bounds.
            _ if special[usize::from(b)] => {
                return Some((Tok::Special(b), i0 + 1));
            }
            _ => {
                let mut j = i0;
                while let Some(&c) = s.get(j) {
                    if ends_atom[usize::from(c)] {
                        break;
                    }
                    j += 1;
                }
                return Some((Tok::Atom(s.get(i0..j).unwrap_or_default()), j.max(i0 + 1)));
            }
        }
    }
    None
}

/// One entry of a raw address list, in the form IMAP's ENVELOPE needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawAddr<'s> {
    /// A mailbox.
    Mailbox {
        name: Option<Cow<'s, [u8]>>,
        route: Option<Vec<u8>>,
        local: Cow<'s, [u8]>,
        domain: Option<Cow<'s, [u8]>>,
    },
    /// The start of a group, with its display name.
    GroupStart(Cow<'s, [u8]>),
    /// The end of a group.
    GroupEnd,
}

/// The bytes a token contributes to a phrase, if any.
fn phrase_word<'t, 's>(t: &'t Tok<'s>) -> Option<&'t [u8]> {
    match t {
        Tok::Atom(a) | Tok::Literal(a) => Some(a),
        Tok::Quoted(a) => Some(a.as_ref()),
        Tok::Special(b'.') => Some(b"."),
        _ => None,
    }
}

fn phrase<'s>(toks: &[Tok<'s>]) -> Option<Cow<'s, [u8]>> {
    let mut words = toks.iter().filter(|t| phrase_word(t).is_some());
    if let (Some(only), None) = (words.next(), words.next()) {
        // One word (the common case): borrowed, no copy.
        let w = match only {
            Tok::Atom(a) | Tok::Literal(a) => Cow::Borrowed(*a),
            Tok::Quoted(q) => q.clone(),
            _ => Cow::Borrowed(&b"."[..]),
        };
        return (!w.is_empty()).then_some(w);
    }
    let mut out = Vec::new();
    for word in toks.iter().filter_map(phrase_word) {
        if !(out.is_empty() || word == b"." || out.last() == Some(&b'.')) {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
    (!out.is_empty()).then_some(Cow::Owned(out))
}

fn last_comment<'s>(toks: &[Tok<'s>]) -> Option<Cow<'s, [u8]>> {
    toks.iter().rev().find_map(|t| match t {
        Tok::Comment(c) if !c.is_empty() => Some(c.clone()),
        _ => None,
    })
}

/// Splits tokens of an addr-spec (no angle brackets) into local part and domain.
fn addr_spec<'s>(toks: &[Tok<'s>]) -> (Cow<'s, [u8]>, Option<Cow<'s, [u8]>>) {
    let at = toks.iter().rposition(|t| *t == Tok::Special(b'@'));
    let (l, d) = match at {
        Some(k) => (toks.get(..k).unwrap_or_default(), toks.get(k + 1..)),
        None => (toks, None),
    };
    (join_spec(l), d.map(join_spec))
}

/// The bytes of the tokens of a local part or domain, concatenated; borrowed when
/// a single token contributes (the common case).
fn join_spec<'s>(ts: &[Tok<'s>]) -> Cow<'s, [u8]> {
    let contributes = |t: &&Tok<'s>| match t {
        Tok::Atom(_) | Tok::Literal(_) | Tok::Quoted(_) => true,
        Tok::Special(c) => *c != b'<' && *c != b'>',
        Tok::Comment(_) => false,
    };
    let mut it = ts.iter().filter(contributes);
    match (it.next(), it.next()) {
        (None, _) => return Cow::Borrowed(&[]),
        (Some(Tok::Atom(a) | Tok::Literal(a)), None) => return Cow::Borrowed(*a),
        (Some(Tok::Quoted(q)), None) => return q.clone(),
        _ => {}
    }
    let mut out = Vec::new();
    for t in ts {
        match t {
            Tok::Atom(a) | Tok::Literal(a) => out.extend_from_slice(a),
            Tok::Quoted(q) => out.extend_from_slice(q),
            Tok::Special(c) if *c != b'<' && *c != b'>' => out.push(*c),
            _ => {}
        }
    }
    Cow::Owned(out)
}

fn mailbox<'s>(toks: &[Tok<'s>]) -> Option<RawAddr<'s>> {
    if toks.iter().all(|t| matches!(t, Tok::Comment(_))) {
        return None;
    }
    if let Some(lt) = toks.iter().position(|t| *t == Tok::Special(b'<')) {
        let name = phrase(toks.get(..lt).unwrap_or_default());
        let rest = toks.get(lt + 1..).unwrap_or_default();
        let gt = rest
            .iter()
            .position(|t| *t == Tok::Special(b'>'))
            .unwrap_or(rest.len());
        let inner = rest.get(..gt).unwrap_or_default();
        // An obsolete source route: "@a,@b:" before the addr-spec.
        let (route, spec) = match inner.iter().position(|t| *t == Tok::Special(b':')) {
            Some(c) if inner.first() == Some(&Tok::Special(b'@')) => {
                let mut route = Vec::new();
                for t in inner.get(..c).unwrap_or_default() {
                    match t {
                        Tok::Atom(a) | Tok::Literal(a) => route.extend_from_slice(a),
                        Tok::Special(s) => route.push(*s),
                        _ => {}
                    }
                }
                (Some(route), inner.get(c + 1..).unwrap_or_default())
            }
            _ => (None, inner),
        };
        let (local, domain) = addr_spec(spec);
        let name = name.or_else(|| last_comment(rest.get(gt..).unwrap_or_default()));
        Some(RawAddr::Mailbox {
            name,
            route,
            local,
            domain,
        })
    } else {
        let (local, domain) = addr_spec(toks);
        if local.is_empty() && domain.is_none() {
            return None;
        }
        Some(RawAddr::Mailbox {
            name: last_comment(toks),
            route: None,
            local,
            domain,
        })
    }
}

/// Parses an address list (From, To, Cc, ...) from a raw header value, keeping names
/// as they are written (encoded words are not decoded, quoted strings are unquoted).
pub(crate) fn parse_address_list(value: &[u8]) -> Vec<RawAddr<'_>> {
    let mut out = Vec::new();
    for_each_address(value, &mut TokenBuf::default(), |a| out.push(a));
    out
}

/// A token buffer that [`for_each_address`] reuses across header fields of one
/// message, so that a view allocates it once.
#[derive(Default)]
pub(crate) struct TokenBuf<'s>(Vec<Tok<'s>>);

/// The common single-mailbox forms, read without tokenizing: `local@domain`,
/// `<local@domain>`, `Name Words <local@domain>` (words separated by single
/// spaces) and `"Quoted Name" <local@domain>` (no escapes). Anything else gives
/// `None`, and the general path decides; the result is always what that path
/// gives (a test checks this).
fn simple_mailbox(value: &[u8]) -> Option<RawAddr<'_>> {
    fn atom(b: &u8) -> bool {
        // Tables of 256 entries indexed by a byte: always in bounds.
        !ENDS_ATOM[usize::from(*b)]
    }
    /// `local@domain`, both non-empty runs of atom bytes.
    fn spec<'s>(s: &'s [u8], name: Option<&'s [u8]>) -> Option<RawAddr<'s>> {
        let at = memchr::memchr(b'@', s)?;
        let (l, d) = (s.get(..at)?, s.get(at + 1..)?);
        let ok = !l.is_empty() && !d.is_empty() && l.iter().all(atom) && d.iter().all(atom);
        ok.then(|| RawAddr::Mailbox {
            name: name.map(Cow::Borrowed),
            route: None,
            local: Cow::Borrowed(l),
            domain: Some(Cow::Borrowed(d)),
        })
    }
    // Trimmed as the tokenizer skips: spaces, tabs, CR and LF.
    let edge = |b: &u8| !matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let first = value.iter().position(edge)?;
    let last = value.iter().rposition(edge)?;
    let v = value.get(first..=last)?;
    let Some(inner) = v.strip_suffix(b">") else {
        return spec(v, None);
    };
    let lt = memchr::memrchr(b'<', inner)?;
    let (phrase, addr) = (inner.get(..lt)?, inner.get(lt + 1..)?);
    let end = phrase
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |e| e + 1);
    let name = match phrase.get(..end)? {
        [] => None,
        [b'"', q @ .., b'"'] => {
            if q.iter().any(|b| matches!(b, b'"' | b'\\' | b'\r' | b'\n')) {
                return None;
            }
            (!q.is_empty()).then_some(q)
        }
        p => {
            // Atoms separated by single spaces: the joined phrase is these bytes.
            let words_ok = p
                .split(|&b| b == b' ')
                .all(|w| !w.is_empty() && w.iter().all(atom));
            if !words_ok {
                return None;
            }
            Some(p)
        }
    };
    spec(addr, name)
}

/// [`parse_address_list`], handing each entry to `f` instead of collecting them.
pub(crate) fn for_each_address<'s>(
    value: &'s [u8],
    buf: &mut TokenBuf<'s>,
    mut f: impl FnMut(RawAddr<'s>),
) {
    if let Some(m) = simple_mailbox(value) {
        f(m);
        return;
    }
    general_addresses(value, buf, f);
}

/// [`for_each_address`] by tokenizing.
fn general_addresses<'s>(value: &'s [u8], buf: &mut TokenBuf<'s>, mut f: impl FnMut(RawAddr<'s>)) {
    let toks = &mut buf.0;
    toks.clear();
    toks.extend(Tokens {
        s: value,
        i: 0,
        extra_specials: b"",
        start: 0,
    });
    let toks = &toks[..];
    let mut in_group = false;
    let mut in_angle = false;
    let mut item_start = 0;
    let mut i = 0;
    while i <= toks.len() {
        let t = toks.get(i);
        match t {
            Some(Tok::Special(b'<')) => in_angle = true,
            Some(Tok::Special(b'>')) => in_angle = false,
            Some(Tok::Special(b':')) if !in_angle && !in_group => {
                let name = phrase(toks.get(item_start..i).unwrap_or_default()).unwrap_or_default();
                f(RawAddr::GroupStart(name));
                in_group = true;
                item_start = i + 1;
            }
            Some(Tok::Special(b',')) if !in_angle => {
                if let Some(m) = mailbox(toks.get(item_start..i).unwrap_or_default()) {
                    f(m);
                }
                item_start = i + 1;
            }
            Some(Tok::Special(b';')) if !in_angle && in_group => {
                if let Some(m) = mailbox(toks.get(item_start..i).unwrap_or_default()) {
                    f(m);
                }
                f(RawAddr::GroupEnd);
                in_group = false;
                item_start = i + 1;
            }
            None => {
                if let Some(m) = mailbox(toks.get(item_start..).unwrap_or_default()) {
                    f(m);
                }
                if in_group {
                    f(RawAddr::GroupEnd);
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// A string of a parsed parameter list: a span of the message bytes (valid UTF-8,
/// already in the form wanted: unquoted, names lowercase), a static string, or an
/// owned copy when the written form differs (escapes, folding, upper case, RFC 2231
/// sections, invalid UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PStr {
    /// `raw[start..end]` of the message.
    Span(usize, usize),
    /// A constant (defaults).
    Static(&'static str),
    /// A copy.
    Owned(Box<str>),
}

impl PStr {
    /// The string, given the message bytes the spans point into.
    pub(crate) fn as_str<'a>(&'a self, raw: &'a [u8]) -> &'a str {
        match self {
            // Spans are made only over valid UTF-8 (see `Acc::finish`).
            PStr::Span(a, b) => raw
                .get(*a..*b)
                .and_then(|v| std::str::from_utf8(v).ok())
                .unwrap_or_default(),
            PStr::Static(v) => v,
            PStr::Owned(v) => v,
        }
    }

    /// The bytes, given the message bytes the spans point into (no UTF-8 check).
    pub(crate) fn bytes<'a>(&'a self, raw: &'a [u8]) -> &'a [u8] {
        match self {
            PStr::Span(a, b) => raw.get(*a..*b).unwrap_or_default(),
            PStr::Static(v) => v.as_bytes(),
            PStr::Owned(v) => v.as_bytes(),
        }
    }
}

/// Collects the bytes of a value from tokens: a span while they are adjacent in the
/// input, a copy from the first gap on.
struct Acc {
    start: usize,
    end: usize,
    empty: bool,
    owned: Option<Vec<u8>>,
}

impl Acc {
    fn new() -> Self {
        Acc {
            start: 0,
            end: 0,
            empty: true,
            owned: None,
        }
    }

    /// Appends `b`, which is `value[at..at + b.len()]` when `at` is given.
    fn push(&mut self, value: &[u8], b: &[u8], at: Option<usize>) {
        if let Some(v) = &mut self.owned {
            v.extend_from_slice(b);
            return;
        }
        match at {
            Some(p) if self.empty => {
                (self.start, self.end, self.empty) = (p, p + b.len(), false);
            }
            Some(p) if p == self.end => self.end += b.len(),
            _ => {
                let mut v = value.get(self.start..self.end).unwrap_or_default().to_vec();
                v.extend_from_slice(b);
                self.owned = Some(v);
            }
        }
    }

    /// The collected string; `base` is where `value` starts in the message.
    fn finish(self, value: &[u8], base: usize, lower: bool) -> PStr {
        let bytes = match self.owned {
            Some(v) => v,
            None => {
                let span = value.get(self.start..self.end).unwrap_or_default();
                let utf8 = span.is_ascii() || std::str::from_utf8(span).is_ok();
                if utf8 && !(lower && span.iter().any(u8::is_ascii_uppercase)) {
                    return PStr::Span(base + self.start, base + self.end);
                }
                span.to_vec()
            }
        };
        let mut s = string_of(bytes);
        if lower {
            s.make_ascii_lowercase();
        }
        PStr::Owned(s.into_boxed_str())
    }
}

/// Where the content of a quoted-string token starting at `at` is in the input:
/// right after the quote, unless it had to be copied (escapes, line breaks).
#[allow(clippy::ptr_arg)] // whether the Cow borrows is what this looks at
fn quoted_at(q: &Cow<'_, [u8]>, at: usize) -> Option<usize> {
    match q {
        Cow::Borrowed(_) => Some(at + 1),
        Cow::Owned(_) => None,
    }
}

/// A parsed `Content-Type` or `Content-Disposition` value, raw: the main value and
/// the parameters with RFC 2231 continuations merged (Dovecot's form: a name ending
/// in `*` marks a value still in `charset'lang'%XX` form). Strings point into the
/// message where they can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawParams {
    /// The value before the first `;`, lowercased (for Content-Type: `type/subtype`).
    pub(crate) value: PStr,
    /// Parameters: lowercase name, raw value (quotes removed).
    pub(crate) params: Vec<(PStr, PStr)>,
}

/// Parses the `Content-Type` or `Content-Disposition` value `raw[range]`; spans in
/// the result are positions in `raw`.
pub(crate) fn parse_params(raw: &[u8], range: Range<usize>) -> RawParams {
    if let Some(p) = parse_params_simple(raw, range.clone()) {
        return p;
    }
    let base = range.start;
    let value = raw.get(range).unwrap_or_default();
    let mut toks = Tokens {
        s: value,
        i: 0,
        extra_specials: PARAM_SPECIALS,
        start: 0,
    };
    let mut next = || {
        loop {
            let t = toks.next()?;
            if !matches!(t, Tok::Comment(_)) {
                return Some((t, toks.start));
            }
        }
    };
    let mut cur = next();
    let mut main = Acc::new();
    while let Some((t, at)) = &cur {
        match t {
            Tok::Special(b';') => break,
            Tok::Atom(a) => main.push(value, a, Some(*at)),
            Tok::Quoted(q) => main.push(value, q, quoted_at(q, *at)),
            Tok::Special(c) => main.push(value, std::slice::from_ref(c), Some(*at)),
            _ => {}
        }
        cur = next();
    }
    let main = main.finish(value, base, true);
    let mut params = Vec::new();
    loop {
        // Skip to after the next ';'.
        match &cur {
            Some((Tok::Special(b';'), _)) => cur = next(),
            Some(_) => {
                cur = next();
                continue;
            }
            None => break,
        }
        let Some((Tok::Atom(name), name_at)) = &cur else {
            continue;
        };
        let (name, name_at) = (*name, *name_at);
        cur = next();
        if !matches!(cur, Some((Tok::Special(b'='), _))) {
            continue;
        }
        cur = next();
        let mut val = Acc::new();
        while let Some((t, at)) = &cur {
            match t {
                Tok::Special(b';') => break,
                Tok::Atom(a) | Tok::Literal(a) => val.push(value, a, Some(*at)),
                Tok::Quoted(q) => val.push(value, q, quoted_at(q, *at)),
                Tok::Special(c) => val.push(value, std::slice::from_ref(c), Some(*at)),
                Tok::Comment(_) => {}
            }
            cur = next();
        }
        // An RFC 2231 section (`name*0`, `name*1*`): merging needs copies; take the
        // general path for the whole value.
        let stem = name.strip_suffix(b"*").unwrap_or(name);
        if let Some(star) = stem.iter().rposition(|&b| b == b'*')
            && let Some(n) = stem.get(star + 1..)
            && !n.is_empty()
            && n.iter().all(u8::is_ascii_digit)
        {
            return parse_params_owned(value);
        }
        let mut n = Acc::new();
        n.push(value, name, Some(name_at));
        params.push((n.finish(value, base, true), val.finish(value, base, false)));
    }
    dovecot_order(
        &mut params,
        |p| p.0.bytes(raw).ends_with(b"*"),
        |a, b| a.0.bytes(raw).cmp(b.0.bytes(raw)),
    );
    RawParams {
        value: main,
        params,
    }
}

/// [`parse_params`] for the common form, read byte by byte without tokens:
/// `type/subtype` then `; name=value` or `; name="value"`, with white space (and
/// folding) between the items only; no comments, escapes, RFC 2231 names or
/// other specials. Anything else gives `None`, and the general path decides; the
/// result is always what that path gives (the `params_spans_match_copies` test).
fn parse_params_simple(raw: &[u8], range: Range<usize>) -> Option<RawParams> {
    let base = range.start;
    let v = raw.get(range)?;
    // Tables of 256 entries indexed by a byte: always in bounds.
    let atom = |b: u8| !ENDS_PARAM_ATOM[usize::from(b)];
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let skip_ws = |mut i: usize| {
        while v.get(i).copied().is_some_and(ws) {
            i += 1;
        }
        i
    };
    let run = |mut i: usize, ok: &dyn Fn(u8) -> bool| {
        while v.get(i).copied().is_some_and(ok) {
            i += 1;
        }
        i
    };
    let span = |a: usize, b: usize, lower: bool| {
        Acc {
            start: a,
            end: b,
            empty: false,
            owned: None,
        }
        .finish(v, base, lower)
    };
    let start = skip_ws(0);
    let end = run(start, &|b| atom(b) || b == b'/');
    if end == start {
        return None;
    }
    let value = span(start, end, true);
    let mut params = Vec::new();
    let mut i = skip_ws(end);
    while i < v.len() {
        if v.get(i) != Some(&b';') {
            return None;
        }
        i = skip_ws(i + 1);
        match v.get(i) {
            None => break,
            Some(b';') => continue,
            _ => {}
        }
        let name_end = run(i, &atom);
        if name_end == i || v.get(i..name_end)?.contains(&b'*') {
            return None;
        }
        let name = span(i, name_end, true);
        i = skip_ws(name_end);
        if v.get(i) != Some(&b'=') {
            return None;
        }
        i = skip_ws(i + 1);
        let (a, b) = if v.get(i) == Some(&b'"') {
            let close = i + 1 + v.get(i + 1..)?.iter().position(|&c| c == b'"')?;
            if v.get(i + 1..close)?
                .iter()
                .any(|c| matches!(c, b'\\' | b'\r' | b'\n'))
            {
                return None;
            }
            (i + 1, close)
        } else {
            (i, run(i, &atom))
        };
        if b == a && v.get(i) != Some(&b'"') {
            return None;
        }
        params.push((name, span(a, b, false)));
        i = skip_ws(if v.get(i) == Some(&b'"') { b + 1 } else { b });
    }
    Some(RawParams { value, params })
}

/// Puts `name*` (RFC 2231 extended) parameters after the plain ones, sorted by
/// name, as Dovecot lists them; the order carries no meaning (RFC 2045 section
/// 5.1), and following the reference server makes BODYSTRUCTURE compare equal.
fn dovecot_order<T>(
    params: &mut [T],
    extended: impl Fn(&T) -> bool,
    by_name: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    if params.iter().any(&extended) {
        // A stable sort: plain parameters keep their order.
        params.sort_by(|a, b| match (extended(a), extended(b)) {
            (false, false) => std::cmp::Ordering::Equal,
            (true, true) => by_name(a, b),
            (ea, eb) => ea.cmp(&eb),
        });
    }
}

/// [`parse_params`] for values with RFC 2231 sections: every string is a copy.
fn parse_params_owned(value: &[u8]) -> RawParams {
    let (main, params) = parse_params_strings(value);
    let own = |s: String| PStr::Owned(s.into_boxed_str());
    RawParams {
        value: own(main),
        params: params.into_iter().map(|(k, v)| (own(k), own(v))).collect(),
    }
}

/// The main value (lowercase) and the parameters, as owned strings.
fn parse_params_strings(value: &[u8]) -> (String, Vec<(String, String)>) {
    let mut it = Tokens {
        s: value,
        i: 0,
        extra_specials: PARAM_SPECIALS,
        start: 0,
    }
    .filter(|t| !matches!(t, Tok::Comment(_)))
    .peekable();
    let mut main: Vec<u8> = Vec::with_capacity(value.len().min(64));
    while let Some(t) = it.peek() {
        match t {
            Tok::Special(b';') => break,
            Tok::Atom(a) => main.extend_from_slice(a),
            Tok::Quoted(a) => main.extend_from_slice(a),
            Tok::Special(c) => main.push(*c),
            _ => {}
        }
        it.next();
    }
    // name -> (section, value, extended)
    let mut parts: Vec<(String, Option<u32>, bool, Vec<u8>)> = Vec::new();
    loop {
        // skip to after ';'
        match it.next() {
            Some(Tok::Special(b';')) => {}
            Some(_) => continue,
            None => break,
        }
        let Some(Tok::Atom(name)) = it.peek().cloned() else {
            continue;
        };
        it.next();
        if it.peek() != Some(&Tok::Special(b'=')) {
            continue;
        }
        it.next();
        let mut val = Vec::new();
        while let Some(t) = it.peek() {
            match t {
                Tok::Special(b';') => break,
                Tok::Atom(a) | Tok::Literal(a) => val.extend_from_slice(a),
                Tok::Quoted(a) => val.extend_from_slice(a),
                Tok::Special(c) => val.push(*c),
                Tok::Comment(_) => {}
            }
            it.next();
        }
        // One allocation for the name in the common case (no `*`).
        let mut base = String::from_utf8_lossy(name).into_owned();
        base.make_ascii_lowercase();
        let extended = base.ends_with('*');
        if extended {
            base.pop();
        }
        let mut section = None;
        if let Some((b, n)) = base.rsplit_once('*')
            && !n.is_empty()
            && n.bytes().all(|c| c.is_ascii_digit())
        {
            section = n.parse::<u32>().ok();
            let keep = b.len();
            base.truncate(keep);
        }
        parts.push((base, section, extended, val));
    }
    if parts.iter().all(|p| p.1.is_none()) {
        // No RFC 2231 sections (the common case): the names and values move into
        // the result without another copy.
        let mut params: Vec<(String, String)> = parts
            .into_iter()
            .map(|(mut name, _, extended, val)| {
                if extended {
                    name.push('*');
                }
                (name, string_of(val))
            })
            .collect();
        dovecot_order(&mut params, |p| p.0.ends_with('*'), |a, b| a.0.cmp(&b.0));
        main.make_ascii_lowercase();
        return (string_of(main), params);
    }
    let mut params: Vec<(String, String)> = Vec::new();
    // RFC 2231 parameters (sections and `name*`), with their base name, go after
    // the plain ones (see `dovecot_order`).
    let mut tail: Vec<(String, (String, String))> = Vec::new();
    let mut done: Vec<String> = Vec::new();
    for (name, section, extended, val) in &parts {
        if section.is_none() {
            let val = String::from_utf8_lossy(val).into_owned();
            if *extended {
                tail.push((name.clone(), (format!("{name}*"), val)));
            } else {
                params.push((name.clone(), val));
            }
            continue;
        }
        if done.contains(name) {
            continue;
        }
        done.push(name.clone());
        let mut pieces: Vec<(u32, bool, &Vec<u8>)> = parts
            .iter()
            .filter(|(n, s, _, _)| n == name && s.is_some())
            .map(|(_, s, e, v)| (s.unwrap_or(0), *e, v))
            .collect();
        pieces.sort_by_key(|p| p.0);
        let any_ext = pieces.first().is_some_and(|p| p.1);
        let mut merged = Vec::new();
        for (_, ext, v) in pieces {
            if any_ext && !ext {
                // A plain section inside an extended value: percent-encode it.
                for &b in v.iter() {
                    if b.is_ascii_alphanumeric() || b"-._~!$&+^`{}|#".contains(&b) {
                        merged.push(b);
                    } else {
                        merged.extend_from_slice(format!("%{b:02X}").as_bytes());
                    }
                }
            } else {
                merged.extend_from_slice(v);
            }
        }
        let key = if any_ext {
            format!("{name}*")
        } else {
            name.clone()
        };
        tail.push((
            name.clone(),
            (key, String::from_utf8_lossy(&merged).into_owned()),
        ));
    }
    tail.sort_by(|a, b| a.0.cmp(&b.0));
    params.extend(tail.into_iter().map(|(_, p)| p));
    (String::from_utf8_lossy(&main).to_ascii_lowercase(), params)
}

/// `bytes` as a String, without a copy when they are UTF-8 (lossy otherwise).
fn string_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Counts LF bytes not preceded by CR in `bytes`.
pub(crate) fn bare_lfs(bytes: &[u8]) -> usize {
    let mut n = 0;
    for i in memchr::memchr_iter(b'\n', bytes) {
        if i == 0 || bytes.get(i - 1) != Some(&b'\r') {
            n += 1;
        }
    }
    n
}

/// Size of `range` of `raw` once every bare LF is written as CRLF.
pub(crate) fn crlf_len(raw: &[u8], range: Range<usize>) -> usize {
    let s = raw.get(range).unwrap_or_default();
    s.len() + bare_lfs(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_split_folded_and_blank_line() {
        let raw = b"Subject: a\r\n b\r\nTo: x@y\r\n\r\nbody";
        let mut f = Vec::new();
        let h = split_header(raw, 0, raw.len(), 100, &mut f);
        assert_eq!(h.fields, 0..2);
        assert_eq!(&raw[f[0].value_start..f[0].value_end], b" a\r\n b");
        assert_eq!(&raw[h.body_start..], b"body");
        assert!(h.has_blank_line);
    }

    #[test]
    fn header_without_blank_line() {
        let raw = b"Subject: a\nnot a header\nmore";
        let mut f = vec![FieldPos {
            start: 0,
            name_end: 0,
            value_start: 0,
            value_end: 0,
            end: 0,
        }];
        let h = split_header(raw, 0, raw.len(), 100, &mut f);
        assert_eq!(h.fields, 1..2);
        assert_eq!(&raw[h.body_start..], b"not a header\nmore");
        assert!(!h.has_blank_line);
    }

    #[test]
    fn addresses_with_group_and_route() {
        let v = b" \"Doe, J\" <j@x.org>, team: a@b (Al), <@r1,@r2:c@d>; e@f";
        let a = parse_address_list(v);
        assert_eq!(a.len(), 6);
        assert_eq!(
            a[0],
            RawAddr::Mailbox {
                name: Some(b"Doe, J"[..].into()),
                route: None,
                local: b"j"[..].into(),
                domain: Some(b"x.org"[..].into())
            }
        );
        assert_eq!(a[1], RawAddr::GroupStart(b"team"[..].into()));
        assert!(matches!(&a[2], RawAddr::Mailbox { name: Some(n), .. } if n.as_ref() == b"Al"));
        assert!(matches!(&a[3], RawAddr::Mailbox { route: Some(r), .. } if r == b"@r1,@r2"));
        assert_eq!(a[4], RawAddr::GroupEnd);
    }

    #[test]
    fn params_rfc2231_merge() {
        let v = b" attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC.txt; size=\"3\"";
        let p = resolved(v);
        assert_eq!(p.0, "attachment");
        // Plain parameters first, then the RFC 2231 ones sorted by name (Dovecot's order).
        assert_eq!(p.1[0], ("size".into(), "3".into()));
        assert_eq!(p.1[1], ("filename*".into(), "utf-8''%E2%82%AC.txt".into()));
        let v = b"text/plain; z*=a''z; format=flowed; a*=a''a; b*0=x; b*1=y; c=1";
        let names: Vec<String> = resolved(v).1.into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["format", "c", "a*", "b", "z*"]);
        let v = b"text/plain; z*=a''z; format=flowed; a*=a''a";
        let names: Vec<String> = resolved(v).1.into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["format", "a*", "z*"]);
        let v = b"text/plain; charset=\"utf-8\" (c); format=flowed";
        let p = resolved(v);
        assert_eq!(p.0, "text/plain");
        assert_eq!(p.1.len(), 2);
        // The common forms point into the input instead of copying.
        let r = parse_params(v, 0..v.len());
        assert!(matches!(r.value, PStr::Span(0, 10)));
        assert!(
            r.params
                .iter()
                .all(|(k, v)| matches!((k, v), (PStr::Span(..), PStr::Span(..))))
        );
        // Upper case, escapes and folding inside a value are copied.
        let v = b"Text/Plain; Name=\"a\\\"b\"; x=a\r\n b; y=(c)z";
        let r = parse_params(v, 0..v.len());
        assert!(matches!(r.value, PStr::Owned(_)));
        assert_eq!(
            resolved(v),
            (
                "text/plain".into(),
                vec![
                    ("name".into(), "a\"b".into()),
                    ("x".into(), "ab".into()),
                    ("y".into(), "z".into())
                ]
            )
        );
    }

    /// parse_params with its strings resolved.
    fn resolved(v: &[u8]) -> (String, Vec<(String, String)>) {
        // A prefix, so that spans are checked to be positions in the whole input.
        let mut raw = b"X-Pad: ".to_vec();
        raw.extend_from_slice(v);
        let r = parse_params(&raw, 7..raw.len());
        (
            r.value.as_str(&raw).to_string(),
            r.params
                .iter()
                .map(|(k, v)| (k.as_str(&raw).to_string(), v.as_str(&raw).to_string()))
                .collect(),
        )
    }

    proptest::proptest! {
        /// The span-based parser gives exactly what the copying one gives.
        #[test]
        fn params_spans_match_copies(
            v in proptest::collection::vec(
                proptest::sample::select(b" \t\r\n;=/\"\\()*0aBz\xc3\xa4".to_vec()), 0..40)
        ) {
            proptest::prop_assert_eq!(resolved(&v), parse_params_strings(&v));
        }

        /// The same from pieces of real values, so that the byte-by-byte fast path
        /// (`parse_params_simple`) is taken often.
        #[test]
        fn params_fast_path_matches_copies(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    &b"text/plain"[..], b"Multipart/Mixed", b";", b" ", b"\r\n ", b"\t",
                    b"name", b"Charset", b"=", b"\"q v\"", b"\"\"", b"\"a\\b\"", b"(c)",
                    b"*", b"x*0*", b"utf-8''%E2", b"\xc3\xa4", b"/", b"?", b"[l]", b"\"\xff\"",
                ]),
                0..12,
            )
        ) {
            let v = pieces.concat();
            proptest::prop_assert_eq!(resolved(&v), parse_params_strings(&v));
        }
    }

    /// The definition: remove every CR and LF, then trim spaces and tabs.
    fn unfold_reference(value: &[u8]) -> Vec<u8> {
        let out: Vec<u8> = value
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect();
        let start = out.iter().position(|&b| !is_wsp(b)).unwrap_or(out.len());
        let end = out
            .iter()
            .rposition(|&b| !is_wsp(b))
            .map_or(start, |e| e + 1);
        out.get(start..end.max(start)).unwrap_or_default().to_vec()
    }

    proptest::proptest! {
        #[test]
        fn unfold_matches_its_definition(
            v in proptest::collection::vec(proptest::sample::select(b" \t\r\nab".to_vec()), 0..24)
        ) {
            let got = unfold_cow(&v);
            proptest::prop_assert_eq!(got.as_ref(), &unfold_reference(&v)[..]);
            if !v.contains(&b'\r') && !v.contains(&b'\n') {
                proptest::prop_assert!(matches!(got, Cow::Borrowed(_)));
            }
        }
    }

    proptest::proptest! {
        /// The fast path for plain single mailboxes gives what the tokenizer gives.
        #[test]
        fn simple_mailbox_matches_general_path(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    &b"a"[..], b"b.c", b"@", b"<", b">", b"\"", b"\\", b" ", b"  ", b"\t",
                    b"\r\n ", b",", b":", b";", b"(x)", b"\xc3\xa4", b"\"A, B\"", b".", b"[1]",
                ]),
                0..10,
            )
        ) {
            let v = pieces.concat();
            if let Some(fast) = simple_mailbox(&v) {
                let mut general = Vec::new();
                let mut buf = TokenBuf::default();
                // The general path alone: a value the fast path does not take.
                general_addresses(&v, &mut buf, |a| general.push(a));
                proptest::prop_assert_eq!(vec![fast], general);
            }
        }
    }

    #[test]
    fn simple_mailbox_forms() {
        for v in [
            &b" a@b.c"[..],
            b"<a@b.c>",
            b"Ann Lee <a@b.c>",
            b"\"Lee, Ann\" <a@b.c>\r\n",
        ] {
            let fast = simple_mailbox(v);
            assert!(fast.is_some(), "{v:?}");
            let mut general = Vec::new();
            general_addresses(v, &mut TokenBuf::default(), |a| general.push(a));
            assert_eq!(vec![fast.unwrap()], general);
        }
        for v in [
            &b"a@b, c@d"[..],
            b"Ann  Lee <a@b>",
            b"\"A\\\"\" <a@b>",
            b"a@b (c)",
            b"g: a@b;",
            b"a",
            b"<@r:a@b>",
        ] {
            assert!(simple_mailbox(v).is_none(), "{v:?}");
        }
    }

    #[test]
    fn single_token_addresses_are_borrowed() {
        let a = parse_address_list(b"Bob <bob@example.com>, \"A \\\"Q\\\"\" <a@b>");
        let RawAddr::Mailbox {
            name: Some(n),
            local,
            domain: Some(d),
            ..
        } = &a[0]
        else {
            panic!("{a:?}");
        };
        assert!(matches!(n, Cow::Borrowed(b"Bob")));
        assert!(matches!(local, Cow::Borrowed(b"bob")));
        assert!(matches!(d, Cow::Borrowed(b"example.com")));
        let RawAddr::Mailbox { name: Some(n), .. } = &a[1] else {
            panic!("{a:?}");
        };
        assert_eq!(n.as_ref(), b"A \"Q\"");
    }
}
