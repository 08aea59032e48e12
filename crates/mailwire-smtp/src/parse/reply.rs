//! The streaming SMTP reply parser (RFC 5321 section 4.2, `Reply-line`; RFC 2034 enhanced
//! status codes).
//!
//! Each line is framed first (found by its first CR or LF, refused past the line limit),
//! then read: the code and the separator, then the text. Nothing is buffered here: the
//! caller keeps the bytes and calls [`parse_reply`] again with more of them. (The line
//! grammar is small enough that plain slice patterns read it; no nom.)
//!
//! # Tolerances
//!
//! Real servers deviate from the grammar in a few harmless ways, which are accepted:
//!
//! - a last line of only the code (`250`), or the code and a space (`250 `): both give an
//!   empty line of text (RFC 5321 section 4.2 asks clients to accept both);
//! - a continuation line of only the code and dash (`250-`): an empty line;
//! - text outside `textstring` (control characters other than CR and LF, 8-bit bytes):
//!   kept; bytes that are not UTF-8 are replaced with U+FFFD;
//! - an enhanced status code on the first line but missing from a later line: that line's
//!   text is kept whole (the encoder will put the code in front of it);
//! - a later line with a different enhanced code from the first: kept in that line's text.
//!
//! And refused, as errors: a bare LF as a line end or a bare CR in a line (the line-ending
//! confusion behind SMTP smuggling), a code outside `[2-5][0-5][0-9]`, anything but SP,
//! `-` or the line end after the code, different codes within one reply, and going past
//! the configured limits.

use memchr::memchr2;

use crate::types::{EnhancedCode, Reply, ReplyCode, Text};

/// Limits on what [`parse_reply`] accepts, so that a peer cannot make a client buffer
/// without bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyLimits {
    /// The longest line accepted, in bytes, counting the code and the CRLF. RFC 5321 sets
    /// 512; real servers send more. Default 4096.
    pub max_line_len: usize,
    /// The most lines accepted in one reply. Default 1000.
    pub max_lines: usize,
}

impl Default for ReplyLimits {
    fn default() -> Self {
        ReplyLimits {
            max_line_len: 4096,
            max_lines: 1000,
        }
    }
}

/// The peer sent something that is not a valid reply. The reply stream cannot be trusted
/// after one: a client should close the connection.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// A line does not start with a reply code of the form `[2-5][0-5][0-9]`.
    #[error("invalid reply code")]
    InvalidCode,
    /// The reply code is followed by something other than a space, `-` or the line end.
    #[error("invalid character after the reply code")]
    InvalidSeparator,
    /// A line of a multi-line reply has a different code from the first line.
    #[error("reply code {found} in a multi-line reply that started with {first}")]
    CodeMismatch {
        /// The first line's code.
        first: ReplyCode,
        /// The differing code.
        found: ReplyCode,
    },
    /// A line ends with LF not preceded by CR.
    #[error("bare LF in a reply")]
    BareLf,
    /// A line holds a CR not followed by LF.
    #[error("bare CR in a reply")]
    BareCr,
    /// A line is longer than the limit.
    #[error("reply line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// A reply has more lines than the limit.
    #[error("reply longer than {limit} lines")]
    TooManyLines {
        /// The limit in force.
        limit: usize,
    },
}

/// What follows the reply code.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// `-`: more lines follow.
    More,
    /// SP, or the end of the line: the last line.
    Last,
}

/// Reads the code and separator of one framed line (without its CRLF), giving the text.
///
/// The grammar here is three digits and one separator: a slice pattern says it more
/// plainly than parser combinators, and measured faster on the short lines replies are.
fn line_head(line: &[u8]) -> Result<(ReplyCode, Separator, &[u8]), ReplyError> {
    let (code, rest) = match line {
        [d0, d1, d2, rest @ ..] => (
            ReplyCode::from_digits(*d0, *d1, *d2).ok_or(ReplyError::InvalidCode)?,
            rest,
        ),
        _ => return Err(ReplyError::InvalidCode),
    };
    match rest {
        [b'-', text @ ..] => Ok((code, Separator::More, text)),
        [b' ', text @ ..] => Ok((code, Separator::Last, text)),
        [] => Ok((code, Separator::Last, rest)),
        _ => Err(ReplyError::InvalidSeparator),
    }
}

/// Parses one reply from the start of `input`.
///
/// Returns `Ok(Some((reply, consumed)))` with the number of bytes the reply took,
/// `Ok(None)` if `input` holds only the beginning of a reply (call again with more bytes;
/// this is not an error), or an error if the bytes cannot be a valid reply. The outcome
/// does not depend on how the bytes were split: for any prefix of an input, the result is
/// either `Ok(None)` or the result for the whole input.
///
/// [`Reply::encode`] writes the reply back in canonical form, which parses to an equal
/// `Reply` but need not be the same bytes: a tolerated deviation is written the standard
/// way (an enhanced code on every line, `250 ` for a bare `250`), and each invalid UTF-8
/// sequence became U+FFFD, so the encoding may be longer than the input.
///
/// ```
/// use mailwire_smtp::parse::{parse_reply, ReplyError, ReplyLimits};
///
/// let limits = ReplyLimits::default();
/// let wire = b"550-5.7.1 Forwarding to remote hosts disabled\r\n550 5.7.1 Select another host\r\nrest";
/// let (reply, used) = parse_reply(wire, &limits).unwrap().unwrap();
/// assert_eq!(used, wire.len() - 4);
/// assert_eq!(reply.code().as_u16(), 550);
/// assert_eq!(reply.enhanced().unwrap().to_string(), "5.7.1");
/// assert_eq!(reply.lines().collect::<Vec<_>>(), ["Forwarding to remote hosts disabled", "Select another host"]);
///
/// assert_eq!(parse_reply(b"250-first\r\n250 sec", &limits), Ok(None));
/// assert_eq!(parse_reply(b"250 OK\n", &limits), Err(ReplyError::BareLf));
/// ```
pub fn parse_reply(
    input: &[u8],
    limits: &ReplyLimits,
) -> Result<Option<(Reply, usize)>, ReplyError> {
    let Some((line, mut pos)) = frame(input, limits)? else {
        return Ok(None);
    };
    let (code, sep, body) = line_head(line)?;
    let (enhanced, first) = match EnhancedCode::split_prefix_bytes(code.class(), body) {
        Some((e, after)) => (Some(e), body.get(after..).unwrap_or_default()),
        None => (None, body),
    };
    if sep == Separator::Last {
        // One line: straight from the input into the reply's text, without an
        // intermediate vector (and without an allocation for up to 23 octets).
        let text = match std::str::from_utf8(first) {
            Ok(text) => Text::copied(text),
            Err(_) => Text::from_string(String::from_utf8_lossy(first).into_owned()),
        };
        return Ok(Some((Reply::from_parsed(code, enhanced, text), pos)));
    }
    // A multi-line reply: room for a typical EHLO reply at once, instead of growing line
    // by line (bounded, so that a big input does not inflate it). The text is gathered
    // as bytes and checked as UTF-8 once, at the end.
    let mut text = Vec::with_capacity(input.len().min(1024));
    text.extend_from_slice(first);
    let mut lines = 1usize;
    loop {
        if lines >= limits.max_lines {
            return Err(ReplyError::TooManyLines {
                limit: limits.max_lines,
            });
        }
        let rest = input.get(pos..).unwrap_or_default();
        let Some((line, used)) = frame(rest, limits)? else {
            return Ok(None);
        };
        let (line_code, sep, body) = line_head(line)?;
        if line_code != code {
            return Err(ReplyError::CodeMismatch {
                first: code,
                found: line_code,
            });
        }
        let body = match enhanced {
            Some(e) => match EnhancedCode::split_prefix_bytes(e.class(), body) {
                Some((same, after)) if same == e => body.get(after..).unwrap_or_default(),
                _ => body,
            },
            None => body,
        };
        text.push(b'\n');
        text.extend_from_slice(body);
        lines += 1;
        pos += used;
        if sep == Separator::Last {
            return Ok(Some((
                Reply::from_parsed(code, enhanced, Text::from_string(into_text(text))),
                pos,
            )));
        }
    }
}

/// Finds the first line of `input`: its content (without CRLF) and its length with CRLF.
///
/// One pass finds the line's end and any stray CR or LF before it. A line's content may
/// be at most `max_line_len - 2` bytes: past that the line is too long whatever ends it,
/// which keeps the outcome the same however the input is split.
fn frame<'a>(
    input: &'a [u8],
    limits: &ReplyLimits,
) -> Result<Option<(&'a [u8], usize)>, ReplyError> {
    let content_max = limits.max_line_len.saturating_sub(2);
    let too_long = ReplyError::LineTooLong {
        limit: limits.max_line_len,
    };
    let Some(end) = find_cr_or_lf(input) else {
        return if input.len() > content_max {
            Err(too_long)
        } else {
            Ok(None)
        };
    };
    if end > content_max {
        return Err(too_long);
    }
    let (line, after) = input.split_at(end);
    match after {
        [b'\r', b'\n', ..] => Ok(Some((line, end + 2))),
        [b'\r'] => Ok(None),
        [b'\r', ..] => Err(ReplyError::BareCr),
        _ => Err(ReplyError::BareLf),
    }
}

/// The index of the first CR or LF. Reply lines are short (most under 64 bytes), where
/// `memchr2`'s set-up costs more than the search: the first 24 bytes are scanned 8 at a
/// time in a `u64`, the rest by `memchr2`.
fn find_cr_or_lf(input: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    /// High bit set in each byte of `v` that is zero (exact for the lowest such byte,
    /// which is all that is used).
    fn zero_bytes(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGHS
    }
    let head = input.get(..24).unwrap_or(input);
    let mut chunks = head.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let hits =
            zero_bytes(v ^ (ONES * u64::from(b'\r'))) | zero_bytes(v ^ (ONES * u64::from(b'\n')));
        if hits != 0 {
            return Some(offset + (hits.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    if let Some(i) = chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
    {
        return Some(offset + i);
    }
    let rest = input.get(head.len()..)?;
    memchr2(b'\r', b'\n', rest).map(|i| head.len() + i)
}

/// The text of a reply: UTF-8 as is; anything else with U+FFFD for each bad sequence
/// (lines are joined by `\n`, which no bad sequence can swallow, so this is the same as
/// replacing line by line).
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(wire: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
        parse_reply(wire, &ReplyLimits::default())
    }

    #[test]
    fn single_lines() {
        let (r, n) = parse(b"250 OK\r\n").unwrap().unwrap();
        assert_eq!(
            (r.code().as_u16(), r.enhanced(), r.text(), n),
            (250, None, "OK", 8)
        );
        for wire in [&b"250\r\n"[..], b"250 \r\n"] {
            let (r, n) = parse(wire).unwrap().unwrap();
            assert_eq!((r.text(), r.line_count(), n), ("", 1, wire.len()));
        }
        let (r, _) = parse(b"250  two spaces \r\n").unwrap().unwrap();
        assert_eq!(r.text(), " two spaces ");
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], ReplyError)] = &[
            (b"25\r\n", ReplyError::InvalidCode),
            (b"2x0 OK\r\n", ReplyError::InvalidCode),
            (b"150 OK\r\n", ReplyError::InvalidCode),
            (b"260 OK\r\n", ReplyError::InvalidCode),
            (b"650 OK\r\n", ReplyError::InvalidCode),
            (b"250OK\r\n", ReplyError::InvalidSeparator),
            (b"250\tOK\r\n", ReplyError::InvalidSeparator),
            (b"250 OK\n", ReplyError::BareLf),
            (b"\n", ReplyError::BareLf),
            (b"250 O\rK\r\n", ReplyError::BareCr),
            (b"250 OK\r\r\n", ReplyError::BareCr),
            (
                b"250-a\r\n251 b\r\n",
                ReplyError::CodeMismatch {
                    first: ReplyCode::OK,
                    found: ReplyCode::USER_NOT_LOCAL_WILL_FORWARD,
                },
            ),
        ];
        for (wire, err) in cases {
            assert_eq!(
                parse(wire).as_ref(),
                Err(err),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
    }

    #[test]
    fn limits_are_enforced_before_the_line_ends() {
        let limits = ReplyLimits {
            max_line_len: 10,
            max_lines: 2,
        };
        // 10 bytes with CRLF: accepted; 11: refused, with or without its end in sight.
        assert!(parse_reply(b"250 abcd\r\n", &limits).unwrap().is_some());
        let too_long = ReplyError::LineTooLong { limit: 10 };
        assert_eq!(
            parse_reply(b"250 abcde\r\n", &limits),
            Err(too_long.clone())
        );
        assert_eq!(parse_reply(b"250 abcde\r", &limits), Err(too_long.clone()));
        assert_eq!(parse_reply(b"250 abcde\n", &limits), Err(too_long.clone()));
        // Already past the limit, whatever ends the line.
        assert_eq!(parse_reply(b"250 abcde", &limits), Err(too_long.clone()));
        assert_eq!(parse_reply(b"250 abcd", &limits), Ok(None));
        assert_eq!(parse_reply(b"250 abcd\r", &limits), Ok(None));
        assert_eq!(
            parse_reply(b"250-a\r\n250 abcdefghij", &limits),
            Err(too_long)
        );
        assert!(
            parse_reply(b"250-a\r\n250 b\r\n", &limits)
                .unwrap()
                .is_some()
        );
        assert_eq!(
            parse_reply(b"250-a\r\n250-b\r\n", &limits),
            Err(ReplyError::TooManyLines { limit: 2 })
        );
    }

    #[test]
    fn cr_or_lf_is_found_anywhere() {
        for len in 0..100 {
            let mut line = vec![b'x'; len];
            assert_eq!(find_cr_or_lf(&line), None, "{len}");
            for at in 0..len {
                for end in [b'\r', b'\n'] {
                    line[at] = end;
                    assert_eq!(find_cr_or_lf(&line), Some(at), "{len} {at}");
                    // A later CR or LF does not hide the first.
                    if at + 1 < len {
                        line[len - 1] = b'\n';
                        assert_eq!(find_cr_or_lf(&line), Some(at), "{len} {at}");
                        line[len - 1] = b'x';
                    }
                    line[at] = b'x';
                }
            }
        }
        // Bytes that differ from CR or LF by one bit, or sit next to them, are not hits.
        let near = [0x0c, 0x0e, 0x8d, 0x8a, 0x09, 0x0b, 0x2d, 0x2a, 0xff, 0x00];
        assert_eq!(find_cr_or_lf(&near), None);
    }

    #[test]
    fn non_utf8_text_is_replaced() {
        let (r, _) = parse(b"220 caf\xe9 ready\r\n").unwrap().unwrap();
        assert_eq!(r.text(), "caf\u{fffd} ready");
    }
}
