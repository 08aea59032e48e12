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
    pub(crate) fields: Vec<FieldPos>,
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

/// Splits the header fields of the entity starting at `start`, not reading past `limit`.
///
/// A line that is not a header field (no colon, or an invalid field name) ends the
/// header block and starts the body, as Python's `email` package does.
pub(crate) fn split_header(
    raw: &[u8],
    start: usize,
    limit: usize,
    max_fields: usize,
) -> HeaderBlock {
    let limit = limit.min(raw.len());
    let mut pos = start.min(limit);
    let mut block = HeaderBlock::default();
    loop {
        if pos >= limit {
            block.body_start = limit;
            return block;
        }
        // A blank line ends the header.
        match raw.get(pos) {
            Some(b'\n') => {
                block.body_start = pos + 1;
                block.has_blank_line = true;
                return block;
            }
            Some(b'\r') if raw.get(pos + 1) == Some(&b'\n') && pos + 1 < limit => {
                block.body_start = pos + 2;
                block.has_blank_line = true;
                return block;
            }
            _ => {}
        }
        // The field name: printable ASCII except colon, then optional WSP, then a colon.
        let line_stop = line_end(raw, pos, limit);
        let line = raw.get(pos..line_stop).unwrap_or_default();
        let Some(colon) = memchr::memchr(b':', line) else {
            block.body_start = pos;
            return block;
        };
        let mut name_len = colon;
        while name_len > 0 && line.get(name_len - 1).copied().is_some_and(is_wsp) {
            name_len -= 1;
        }
        let name = line.get(..name_len).unwrap_or_default();
        if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
            block.body_start = pos;
            return block;
        }
        // The field continues while the next line starts with WSP.
        let mut end = line_stop;
        while end < limit && raw.get(end).copied().is_some_and(is_wsp) {
            end = line_end(raw, end, limit);
        }
        if block.fields.len() < max_fields {
            block.fields.push(FieldPos {
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

fn tokenize<'s>(s: &'s [u8], extra_specials: &[u8]) -> Vec<Tok<'s>> {
    let mut toks = Vec::with_capacity(16);
    toks.extend(Tokens {
        s,
        i: 0,
        extra_specials,
    });
    toks
}

/// The tokens of a structured value, one at a time (no allocation beyond the
/// copies of quoted strings and comments with escapes or line breaks).
struct Tokens<'s, 'e> {
    s: &'s [u8],
    i: usize,
    extra_specials: &'e [u8],
}

impl<'s> Iterator for Tokens<'s, '_> {
    type Item = Tok<'s>;

    fn next(&mut self) -> Option<Tok<'s>> {
        let s = self.s;
        let extra_specials = self.extra_specials;
        let mut i = self.i;
        let (tok, next) = scan_token(s, extra_specials, &mut i)?;
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
    let toks = tokenize(value, b"");
    let mut out = Vec::new();
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
                out.push(RawAddr::GroupStart(name));
                in_group = true;
                item_start = i + 1;
            }
            Some(Tok::Special(b',')) if !in_angle => {
                if let Some(m) = mailbox(toks.get(item_start..i).unwrap_or_default()) {
                    out.push(m);
                }
                item_start = i + 1;
            }
            Some(Tok::Special(b';')) if !in_angle && in_group => {
                if let Some(m) = mailbox(toks.get(item_start..i).unwrap_or_default()) {
                    out.push(m);
                }
                out.push(RawAddr::GroupEnd);
                in_group = false;
                item_start = i + 1;
            }
            None => {
                if let Some(m) = mailbox(toks.get(item_start..).unwrap_or_default()) {
                    out.push(m);
                }
                if in_group {
                    out.push(RawAddr::GroupEnd);
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// A parsed `Content-Type` or `Content-Disposition` value, raw: the main value and
/// the parameters with RFC 2231 continuations merged (Dovecot's form: a name ending
/// in `*` marks a value still in `charset'lang'%XX` form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawParams {
    /// The value before the first `;`, lowercased (for Content-Type: `type/subtype`).
    pub(crate) value: String,
    /// Parameters: lowercase name, raw value (quotes removed).
    pub(crate) params: Vec<(String, String)>,
}

pub(crate) fn parse_params(value: &[u8]) -> RawParams {
    let mut it = Tokens {
        s: value,
        i: 0,
        extra_specials: PARAM_SPECIALS,
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
        let params = parts
            .into_iter()
            .map(|(mut name, _, extended, val)| {
                if extended {
                    name.push('*');
                }
                (name, string_of(val))
            })
            .collect();
        main.make_ascii_lowercase();
        return RawParams {
            value: string_of(main),
            params,
        };
    }
    let mut params: Vec<(String, String)> = Vec::new();
    let mut done: Vec<String> = Vec::new();
    for (name, section, extended, val) in &parts {
        if section.is_none() {
            let key = if *extended {
                format!("{name}*")
            } else {
                name.clone()
            };
            params.push((key, String::from_utf8_lossy(val).into_owned()));
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
        params.push((key, String::from_utf8_lossy(&merged).into_owned()));
    }
    RawParams {
        value: String::from_utf8_lossy(&main).to_ascii_lowercase(),
        params,
    }
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
        let h = split_header(raw, 0, raw.len(), 100);
        assert_eq!(h.fields.len(), 2);
        assert_eq!(
            &raw[h.fields[0].value_start..h.fields[0].value_end],
            b" a\r\n b"
        );
        assert_eq!(&raw[h.body_start..], b"body");
        assert!(h.has_blank_line);
    }

    #[test]
    fn header_without_blank_line() {
        let raw = b"Subject: a\nnot a header\nmore";
        let h = split_header(raw, 0, raw.len(), 100);
        assert_eq!(h.fields.len(), 1);
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
        let p = parse_params(
            b" attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC.txt; size=\"3\"",
        );
        assert_eq!(p.value, "attachment");
        assert_eq!(
            p.params[0],
            ("filename*".into(), "utf-8''%E2%82%AC.txt".into())
        );
        assert_eq!(p.params[1], ("size".into(), "3".into()));
        let p = parse_params(b"text/plain; charset=\"utf-8\" (c); format=flowed");
        assert_eq!(p.value, "text/plain");
        assert_eq!(p.params.len(), 2);
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
