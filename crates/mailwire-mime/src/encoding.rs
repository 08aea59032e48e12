//! Transfer encodings and header encodings used by the serializer, and lenient
//! decoders used by the parser.

use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Decodes base64 leniently: characters outside the alphabet are skipped, decoding
/// stops at the first `=`, and a trailing partial group gives what bytes it can.
pub(crate) fn base64_decode_lenient(input: &[u8]) -> Vec<u8> {
    fn val(b: u8) -> Option<u8> {
        match b {
            b'A'..=b'Z' => Some(b - b'A'),
            b'a'..=b'z' => Some(b - b'a' + 26),
            b'0'..=b'9' => Some(b - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut n = 0;
    for &b in input {
        if b == b'=' {
            break;
        }
        let Some(v) = val(b) else { continue };
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Two base64 characters for every 12-bit value.
static B64_PAIRS: [[u8; 2]; 4096] = {
    let mut t = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = [B64[i >> 6], B64[i & 63]];
        i += 1;
    }
    t
};

/// Encodes whole 3-byte groups of `input` into `out` (4 bytes per group).
fn b64_groups(input: &[u8], out: &mut [u8]) {
    for (g, o) in input.chunks_exact(3).zip(out.chunks_exact_mut(4)) {
        if let ([a, b, c], [o0, o1, o2, o3]) = (g, o) {
            let n = (usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c);
            let [p0, p1] = B64_PAIRS[n >> 12];
            let [p2, p3] = B64_PAIRS[n & 0xfff];
            (*o0, *o1, *o2, *o3) = (p0, p1, p2, p3);
        }
    }
}

/// Two base64 characters for every 12-bit value, first character in the low byte.
static B64_PAIRS16: [u16; 4096] = {
    let mut t = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = B64[i >> 6] as u16 | (B64[i & 63] as u16) << 8;
        i += 1;
    }
    t
};

/// Encodes one full base64 line: 57 bytes into 76 characters, six bytes at a time.
fn b64_line(input: &[u8; 57], out: &mut [u8; 76]) {
    let mut padded = [0u8; 64];
    if let Some(p) = padded.get_mut(..57) {
        p.copy_from_slice(input);
    }
    for k in 0..9 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&padded[6 * k..6 * k + 8]);
        let x = u64::from_be_bytes(word);
        let c = |shift: u32| u64::from(B64_PAIRS16[((x >> shift) & 0xfff) as usize]);
        let v = c(52) | c(40) << 16 | c(28) << 32 | c(16) << 48;
        out[8 * k..8 * k + 8].copy_from_slice(&v.to_le_bytes());
    }
    let n = (usize::from(input[54]) << 16) | (usize::from(input[55]) << 8) | usize::from(input[56]);
    let [a, b] = B64_PAIRS[n >> 12];
    let [c, d] = B64_PAIRS[n & 0xfff];
    out[72..76].copy_from_slice(&[a, b, c, d]);
}

/// Writes `data` as base64 in lines of 76 characters, each ended by CRLF except the
/// last, which has no line break (the caller writes what follows). Encodes through
/// a fixed stack buffer: about 4 KiB per write, whatever the size of `data`.
///
/// Encoded here rather than by the `base64` crate (which decodes elsewhere in this
/// crate) for speed: building a message with a 100 KB attachment took 1.19 M
/// instructions with `base64::Engine::encode_slice` per line against 0.70 M with this
/// table-driven encoder (mail-builder: 1.91 M); a test checks it against the crate.
pub(crate) fn write_base64<W: Write + ?Sized>(data: &[u8], w: &mut W) -> io::Result<()> {
    const LINES: usize = 52;
    let mut buf = [0u8; LINES * 78];
    let mut len = 0;
    let mut first = true;
    for line in data.chunks(57) {
        if len + 78 > buf.len() {
            w.write_all(buf.get(..len).unwrap_or_default())?;
            len = 0;
        }
        let Some(out) = buf.get_mut(len..len + 78) else {
            // Unreachable: `len + 78 <= buf.len()` after the flush above.
            continue;
        };
        let mut n = 0;
        if !first {
            out[..2].copy_from_slice(b"\r\n");
            n = 2;
        }
        first = false;
        let out = out.get_mut(n..).unwrap_or_default();
        if let (Ok(l), Some(Ok(o))) = (
            <&[u8; 57]>::try_from(line),
            out.get_mut(..76).map(<&mut [u8; 76]>::try_from),
        ) {
            b64_line(l, o);
            len += n + 76;
            continue;
        }
        let whole = line.len() / 3 * 3;
        let (full, tail) = line.split_at(whole);
        b64_groups(full, out);
        n += whole / 3 * 4;
        if !tail.is_empty() {
            let mut t = [0u8; 3];
            t.get_mut(..tail.len())
                .unwrap_or_default()
                .copy_from_slice(tail);
            let mut q = [0u8; 4];
            b64_groups(&t, &mut q);
            if tail.len() == 1 {
                q[2] = b'=';
            }
            q[3] = b'=';
            if let Some(o) = out.get_mut(whole / 3 * 4..whole / 3 * 4 + 4) {
                o.copy_from_slice(&q);
            }
            n += 4;
        }
        len += n;
    }
    w.write_all(buf.get(..len).unwrap_or_default())
}

/// Splits text into lines on CRLF, LF or a lone CR. Yields (line, ended by a break).
pub(crate) fn lines(s: &[u8]) -> impl Iterator<Item = (&[u8], bool)> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr2(b'\n', b'\r', r) {
            Some(i) => {
                let line = r.get(..i).unwrap_or_default();
                let skip = if r.get(i) == Some(&b'\r') && r.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                let next = r.get(i + skip..).unwrap_or_default();
                rest = if next.is_empty() { None } else { Some(next) };
                Some((line, true))
            }
            None => {
                rest = None;
                if r.is_empty() { None } else { Some((r, false)) }
            }
        }
    })
}

/// Facts about a body that decide its transfer encoding.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BodyStats {
    pub(crate) non_ascii: usize,
    pub(crate) len: usize,
    pub(crate) max_line: usize,
    pub(crate) has_nul: bool,
}

pub(crate) fn stats(s: &[u8]) -> BodyStats {
    let mut max_line = 0;
    let mut from = 0;
    for i in memchr::memchr2_iter(b'\r', b'\n', s) {
        max_line = max_line.max(i - from);
        from = i + 1;
    }
    max_line = max_line.max(s.len() - from);
    BodyStats {
        len: s.len(),
        max_line,
        non_ascii: s.iter().map(|&b| usize::from(b >> 7)).sum(),
        has_nul: memchr::memchr(0, s).is_some(),
    }
}

/// Writes text with every line break as CRLF (no final break unless the text has one).
/// Text that already has only CRLF breaks is written in one piece.
pub(crate) fn write_crlf_text<W: Write + ?Sized>(s: &[u8], w: &mut W) -> io::Result<()> {
    let mut from = 0;
    let mut iter = memchr::memchr2_iter(b'\r', b'\n', s).peekable();
    while let Some(i) = iter.next() {
        if s.get(i) == Some(&b'\r') && s.get(i + 1) == Some(&b'\n') {
            // Already CRLF: keep going without a write.
            iter.next();
            continue;
        }
        // A bare LF or lone CR: write up to it, then CRLF.
        w.write_all(s.get(from..i).unwrap_or_default())?;
        w.write_all(b"\r\n")?;
        from = i + 1;
    }
    w.write_all(s.get(from..).unwrap_or_default())
}

/// Bytes written as they are inside a quoted-printable line (space and tab only
/// when not last on the line).
static QP_LITERAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = b'!';
    while b <= b'~' {
        t[b as usize] = b != b'=';
        b += 1;
    }
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t
};

/// Writes text as quoted-printable: line breaks become hard CRLF breaks, output lines
/// are at most 76 characters. Runs of literal bytes are copied in one piece.
pub(crate) fn write_quoted_printable<W: Write + ?Sized>(s: &[u8], w: &mut W) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(4096);
    for (line, eol) in lines(s) {
        let n = line.len();
        // A space or tab that ends the line must be encoded.
        let lit_end = if line.last().is_some_and(|&b| b == b' ' || b == b'\t') {
            n - 1
        } else {
            n
        };
        let mut col = 0;
        let mut i = 0;
        while i < n {
            // Fast path: literal bytes that fit before column 75 (no soft break can
            // be needed for them).
            let room = 75usize.saturating_sub(col);
            let run = line
                .get(i..lit_end.max(i))
                .unwrap_or_default()
                .iter()
                .take(room)
                .take_while(|&&b| QP_LITERAL[usize::from(b)])
                .count();
            if run > 0 {
                out.extend_from_slice(line.get(i..i + run).unwrap_or_default());
                col += run;
                i += run;
                continue;
            }
            let Some(&b) = line.get(i) else { break };
            let last = i + 1 == n;
            let literal = QP_LITERAL[usize::from(b)] && (!last || (b != b' ' && b != b'\t'));
            let width = if literal { 1 } else { 3 };
            // Keep room for the soft break '=' unless this is the last character.
            let limit = if last { 76 } else { 75 };
            if col + width > limit {
                out.extend_from_slice(b"=\r\n");
                col = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            }
            col += width;
            i += 1;
        }
        if eol {
            out.extend_from_slice(b"\r\n");
        }
        if out.len() >= 4000 {
            w.write_all(&out)?;
            out.clear();
        }
    }
    w.write_all(&out)
}

/// Splits `s` into pieces of at most `max` bytes without splitting a UTF-8 character.
pub(crate) fn utf8_chunks(s: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let next = i + c.len_utf8();
        if next - start > max && end > start {
            out.push(s.get(start..end).unwrap_or_default());
            start = end;
        }
        end = next;
    }
    if end > start {
        out.push(s.get(start..end).unwrap_or_default());
    }
    out
}

/// RFC 2047 `B` encoded words for `s`, each at most 75 characters.
pub(crate) fn encoded_words(s: &str) -> Vec<String> {
    utf8_chunks(s, 45)
        .into_iter()
        .map(|c| format!("=?utf-8?b?{}?=", STANDARD.encode(c)))
        .collect()
}

const ATEXT_SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";

fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || ATEXT_SPECIALS.contains(&b)
}

/// Replaces CR, LF and other ASCII controls (except tab) by spaces: nothing a caller
/// passes can break a header line.
pub(crate) fn sanitize(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
        Cow::Owned(
            s.chars()
                .map(|c| {
                    if (c as u32) < 0x20 && c != '\t' || c == '\x7f' {
                        ' '
                    } else {
                        c
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

use std::borrow::Cow;

/// Tokens for a display name (RFC 5322 phrase). ASCII atoms as they are, other
/// ASCII as one quoted string, non-ASCII as encoded words (or, with `utf8`, a quoted
/// string holding raw UTF-8 per RFC 6532).
pub(crate) fn phrase_tokens(name: &str, utf8: bool) -> Vec<String> {
    let name = sanitize(name);
    let name = name.trim();
    if name.is_empty() {
        return Vec::new();
    }
    let words_ok = name
        .split(' ')
        .all(|w| !w.is_empty() && w.bytes().all(is_atext) && !w.starts_with("=?"));
    if words_ok && name.len() <= 900 {
        return name.split(' ').map(str::to_string).collect();
    }
    if (name.is_ascii() || utf8) && name.len() <= 900 && !name.contains("=?") {
        let mut q = String::with_capacity(name.len() + 2);
        q.push('"');
        for c in name.chars() {
            if c == '"' || c == '\\' {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        return vec![q];
    }
    encoded_words(name)
}

/// Tokens for unstructured text (Subject, custom fields): the words as they are, or
/// encoded words when the text is not ASCII, looks like an encoded word, or has a
/// word too long to fold.
pub(crate) fn text_tokens(text: &str, utf8: bool) -> Vec<String> {
    let text = sanitize(text);
    let needs = (!text.is_ascii() && !utf8)
        || text.contains("=?")
        || text.split(' ').any(|w| w.len() > 76)
        || text.starts_with([' ', '\t'])
        || text.ends_with([' ', '\t'])
        || text.contains("  ")
        || text.contains('\t');
    if !needs {
        return text
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
    }
    encoded_words(&text)
}

fn is_token_char(b: u8) -> bool {
    (33..=126).contains(&b) && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// Tokens `name=value` for one parameter: a token, a quoted string, or RFC 2231
/// extended (percent-encoded UTF-8) with continuations when the value is not ASCII
/// or too long for one line.
pub(crate) fn param_tokens(name: &str, value: &str, utf8: bool) -> Vec<String> {
    let value = sanitize(value);
    if !value.is_empty() && value.bytes().all(is_token_char) && value.len() <= 60 {
        return vec![format!("{name}={value}")];
    }
    if (value.is_ascii() || utf8) && value.len() <= 60 {
        let mut q = format!("{name}=\"");
        for c in value.chars() {
            if c == '"' || c == '\\' {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        return vec![q];
    }
    // RFC 2231 extended value, split into sections of at most ~60 characters,
    // never inside a percent escape.
    let mut pieces: Vec<String> = vec![String::new()];
    // Whole characters per section: some decoders (mail-parser among them) decode
    // each section on its own.
    let mut buf = [0u8; 4];
    for c in value.chars() {
        let mut enc = String::new();
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                enc.push(b as char);
            } else {
                enc.push_str(&format!("%{b:02X}"));
            }
        }
        if pieces
            .last()
            .is_some_and(|p| !p.is_empty() && p.len() + enc.len() > 48)
        {
            pieces.push(String::new());
        }
        if let Some(p) = pieces.last_mut() {
            p.push_str(&enc);
        }
    }
    if pieces.len() == 1 {
        let p = pieces.pop().unwrap_or_default();
        return vec![format!("{name}*=utf-8''{p}")];
    }
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            if i == 0 {
                format!("{name}*0*=utf-8''{p}")
            } else {
                format!("{name}*{i}*={p}")
            }
        })
        .collect::<Vec<_>>()
        .join(";\n")
        .split('\n')
        .map(str::to_string)
        .collect()
}

/// Lays out one header field: `name: ` then tokens separated by single spaces,
/// folding before a token when the line would pass 78 characters. `seps[i]` is the
/// text glued after token `i` (e.g. `,` or `;`).
pub(crate) fn write_field<W: Write + ?Sized>(
    w: &mut W,
    name: &str,
    tokens: &[String],
) -> io::Result<()> {
    let mut line = Vec::with_capacity(128);
    line.extend_from_slice(name.as_bytes());
    line.push(b':');
    let mut col = line.len();
    let mut only_name = true;
    for t in tokens {
        // Fold before a token that would pass 78; right after the colon too, unless
        // the token would not fit on a line of its own either.
        if col + 1 + t.len() > 78 && (!only_name || t.len() < 78) {
            line.extend_from_slice(b"\r\n");
            col = 0;
        }
        line.push(b' ');
        line.extend_from_slice(t.as_bytes());
        col += 1 + t.len();
        only_name = false;
    }
    line.extend_from_slice(b"\r\n");
    w.write_all(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_lenient() {
        assert_eq!(base64_decode_lenient(b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(base64_decode_lenient(b"aGVsbA"), b"hell");
        assert_eq!(base64_decode_lenient(b"a"), b"");
    }

    #[test]
    fn qp_lines_short_and_decodable() {
        let text = "é".repeat(100) + "\ntrailing space \n" + &"x".repeat(200);
        let mut out = Vec::new();
        write_quoted_printable(text.as_bytes(), &mut out).unwrap();
        for l in out.split(|&b| b == b'\n') {
            assert!(l.len() <= 77, "{}", l.len());
        }
        let dec = quoted_printable::decode(&out, quoted_printable::ParseMode::Strict).unwrap();
        assert_eq!(dec, text.replace('\n', "\r\n").as_bytes());
    }

    #[test]
    fn base64_matches_the_reference_encoder() {
        for len in [
            0,
            1,
            2,
            3,
            56,
            57,
            58,
            114,
            57 * 52,
            57 * 52 + 1,
            57 * 53 + 2,
            10_000,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7919 % 256) as u8).collect();
            let mut out = Vec::new();
            write_base64(&data, &mut out).unwrap();
            let want: Vec<u8> = data
                .chunks(57)
                .map(|c| STANDARD.encode(c).into_bytes())
                .collect::<Vec<_>>()
                .join(&b"\r\n"[..]);
            assert_eq!(out, want, "length {len}");
        }
    }

    #[test]
    fn crlf_text_and_stats() {
        let mut out = Vec::new();
        write_crlf_text(b"a\nb\r\nc\rd\r\r\n\n", &mut out).unwrap();
        assert_eq!(out, b"a\r\nb\r\nc\r\nd\r\n\r\n\r\n");
        let st = stats("abc\r\nxxxxx\n\u{e9}".as_bytes());
        assert_eq!((st.max_line, st.non_ascii, st.has_nul), (5, 2, false));
    }

    #[test]
    fn chunks_keep_characters_whole() {
        let s = "aé€😀".repeat(20);
        let c = utf8_chunks(&s, 45);
        assert!(c.iter().all(|p| p.len() <= 45));
        assert_eq!(c.concat(), s);
    }

    #[test]
    fn params() {
        assert_eq!(param_tokens("name", "a.txt", false), vec!["name=a.txt"]);
        assert_eq!(param_tokens("name", "a b", false), vec!["name=\"a b\""]);
        assert_eq!(
            param_tokens("filename", "€", false),
            vec!["filename*=utf-8''%E2%82%AC"]
        );
        let long = param_tokens("filename", &"é".repeat(40), false);
        assert!(long.len() > 1 && long[0].starts_with("filename*0*=utf-8''"));
    }
}
