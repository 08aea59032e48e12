//! The streaming SMTP reply parser (RFC 5321 section 4.2, `Reply-line`; RFC 2034 enhanced
//! status codes).
//!
//! Each line is framed first (found by its LF, refused past the line limit), then read
//! with nom: the code and the separator, then the text. Nothing is buffered here: the
//! caller keeps the bytes and calls [`parse_reply`] again with more of them.
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

use memchr::memchr;
use nom::IResult;
use nom::branch::alt;
use nom::bytes::complete::{tag, take};
use nom::combinator::{eof, map_opt, value};

use crate::types::{EnhancedCode, Reply, ReplyCode};

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

fn reply_code(input: &[u8]) -> IResult<&[u8], ReplyCode> {
    map_opt(take(3usize), |digits: &[u8]| match digits {
        [d0, d1, d2] => ReplyCode::from_digits(*d0, *d1, *d2),
        _ => None,
    })(input)
}

fn separator(input: &[u8]) -> IResult<&[u8], Separator> {
    alt((
        value(Separator::More, tag("-")),
        value(Separator::Last, tag(" ")),
        value(Separator::Last, eof),
    ))(input)
}

/// Reads the code and separator of one framed line (without its CRLF), giving the text.
fn line_head(line: &[u8]) -> Result<(ReplyCode, Separator, &[u8]), ReplyError> {
    let (rest, code) = reply_code(line).map_err(|_| ReplyError::InvalidCode)?;
    let (text, sep) = separator(rest).map_err(|_| ReplyError::InvalidSeparator)?;
    Ok((code, sep, text))
}

/// Parses one reply from the start of `input`.
///
/// Returns `Ok(Some((reply, consumed)))` with the number of bytes the reply took,
/// `Ok(None)` if `input` holds only the beginning of a reply (call again with more bytes;
/// this is not an error), or an error if the bytes cannot be a valid reply. The outcome
/// does not depend on how the bytes were split: for any prefix of an input, the result is
/// either `Ok(None)` or the result for the whole input.
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
    let mut pos = 0usize;
    let mut code: Option<ReplyCode> = None;
    let mut enhanced: Option<EnhancedCode> = None;
    let mut text = String::new();
    let mut lines = 0usize;
    loop {
        let rest = input.get(pos..).unwrap_or_default();
        let Some(lf) = memchr(b'\n', rest) else {
            // Unterminated: any line that will be found here is at least `rest.len() + 1`
            // bytes long.
            if !rest.is_empty() && rest.len() >= limits.max_line_len {
                return Err(ReplyError::LineTooLong {
                    limit: limits.max_line_len,
                });
            }
            return Ok(None);
        };
        if lf + 1 > limits.max_line_len {
            return Err(ReplyError::LineTooLong {
                limit: limits.max_line_len,
            });
        }
        let line = match lf.checked_sub(1).and_then(|cr| rest.get(..=cr)) {
            Some([line @ .., b'\r']) => line,
            _ => return Err(ReplyError::BareLf),
        };
        if memchr(b'\r', line).is_some() {
            return Err(ReplyError::BareCr);
        }
        let (line_code, sep, body) = line_head(line)?;
        let body = String::from_utf8_lossy(body);
        match code {
            None => {
                code = Some(line_code);
                text.reserve(body.len());
                match EnhancedCode::split_prefix(line_code.class(), &body) {
                    Some((e, rest)) => {
                        enhanced = Some(e);
                        text.push_str(rest);
                    }
                    None => text.push_str(&body),
                }
            }
            Some(first) => {
                if first != line_code {
                    return Err(ReplyError::CodeMismatch {
                        first,
                        found: line_code,
                    });
                }
                text.push('\n');
                let body = match enhanced {
                    Some(e) => match EnhancedCode::split_prefix(e.class(), &body) {
                        Some((same, rest)) if same == e => rest,
                        _ => &*body,
                    },
                    None => &*body,
                };
                text.push_str(body);
            }
        }
        lines += 1;
        pos += lf + 1;
        if sep == Separator::Last {
            // `code` was set on the first line, just above.
            let code = code.unwrap_or(line_code);
            return Ok(Some((Reply::from_parsed(code, enhanced, text), pos)));
        }
        if lines >= limits.max_lines {
            return Err(ReplyError::TooManyLines {
                limit: limits.max_lines,
            });
        }
    }
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
        assert_eq!(parse_reply(b"250 abcde", &limits), Ok(None));
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
    fn non_utf8_text_is_replaced() {
        let (r, _) = parse(b"220 caf\xe9 ready\r\n").unwrap().unwrap();
        assert_eq!(r.text(), "caf\u{fffd} ready");
    }
}
