//! Fuzz checks for the SMTP reply codec and the EHLO reply.

use crate::parse::{ReplyLimits, parse_reply};
use crate::types::{EhloReply, Reply};

/// Limits for re-parsing an encoding: the canonical form may be longer than what was
/// read (an enhanced code written on every line, U+FFFD for each byte that was not UTF-8).
const RELAXED: ReplyLimits = ReplyLimits {
    max_line_len: usize::MAX,
    max_lines: usize::MAX,
};

/// Feeds `data` to [`parse_reply`] as a stream of replies, one after the other, and checks
/// for every reply that parses that:
///
/// - it consumed at least one byte and no more than it was given, and every cut of those
///   bytes parses as incomplete;
/// - its encoding is CRLF-terminated lines with no other CR or LF, one per line of text;
/// - re-parsing the encoding gives an equal reply and consumes exactly the encoding, and
///   every strict prefix of the encoding is incomplete;
/// - if it reads as an EHLO reply, the EHLO reply encodes to a reply that reads back as
///   an equal EHLO reply.
///
/// On an error, checks that cuts of the input give either "incomplete" or the same error
/// (the parser's chunk-split invariance), then stops.
///
/// Panics when a check fails; never panics otherwise.
pub fn reply(data: &[u8]) {
    let limits = ReplyLimits {
        max_line_len: 512,
        max_lines: 64,
    };
    let mut rest = data;
    while !rest.is_empty() {
        match parse_reply(rest, &limits) {
            Ok(None) => break,
            Ok(Some((reply, used))) => {
                assert!(
                    used > 0 && used <= rest.len(),
                    "consumed {used} of {}",
                    rest.len()
                );
                let input = rest.get(..used).unwrap_or_default();
                for cut in cuts(used) {
                    let prefix = input.get(..cut).unwrap_or_default();
                    assert_eq!(parse_reply(prefix, &limits), Ok(None), "input cut at {cut}");
                }
                check_encoding(&reply);
                if let Ok(ehlo) = EhloReply::from_reply(&reply) {
                    check_ehlo(&ehlo);
                }
                rest = rest.get(used..).unwrap_or_default();
            }
            Err(error) => {
                for cut in cuts(rest.len()) {
                    let prefix = rest.get(..cut).unwrap_or_default();
                    let outcome = parse_reply(prefix, &limits);
                    assert!(
                        outcome == Ok(None) || outcome == Err(error.clone()),
                        "cut at {cut} gives {outcome:?}, the whole gives {error:?}"
                    );
                }
                break;
            }
        }
    }
}

/// A few cut points strictly inside `0..len`.
fn cuts(len: usize) -> impl Iterator<Item = usize> {
    [
        0,
        1,
        2,
        3,
        4,
        len / 3,
        len / 2,
        len.saturating_sub(2),
        len.saturating_sub(1),
    ]
    .into_iter()
    .filter(move |&cut| cut < len)
}

fn check_encoding(reply: &Reply) {
    let encoded = reply.to_bytes();
    let mut lines = 0;
    for line in encoded.split_inclusive(|&b| b == b'\n') {
        let body = line
            .strip_suffix(b"\r\n")
            .unwrap_or_else(|| panic!("line not ended by CRLF: {line:?}"));
        assert!(
            !body.iter().any(|&b| b == b'\r' || b == b'\n'),
            "CR or LF inside an encoded line: {line:?}"
        );
        lines += 1;
    }
    assert_eq!(lines, reply.line_count(), "{encoded:?}");
    assert_eq!(
        parse_reply(&encoded, &RELAXED),
        Ok(Some((reply.clone(), encoded.len()))),
        "re-parse of {:?}",
        String::from_utf8_lossy(&encoded)
    );
    for cut in cuts(encoded.len()) {
        let prefix = encoded.get(..cut).unwrap_or_default();
        assert_eq!(
            parse_reply(prefix, &RELAXED),
            Ok(None),
            "encoding cut at {cut}"
        );
    }
}

fn check_ehlo(ehlo: &EhloReply) {
    let reply = ehlo.to_reply();
    let encoded = reply.to_bytes();
    let (again, used) = parse_reply(&encoded, &RELAXED)
        .expect("an encoded EHLO reply parses")
        .expect("an encoded EHLO reply is complete");
    assert_eq!(used, encoded.len());
    assert_eq!(again, reply);
    assert_eq!(EhloReply::from_reply(&again).as_ref(), Ok(ehlo));
}
