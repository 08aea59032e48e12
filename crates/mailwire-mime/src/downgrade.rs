//! Converting an 8-bit message to 7 bit, for a next hop that does not offer `8BITMIME`
//! (RFC 6152 section 3: a relay either converts the message with MIME's transfer
//! encodings or returns it as undeliverable).
//!
//! [`to_seven_bit`] re-encodes every leaf part whose body holds 8-bit octets:
//! `text/*` as quoted-printable (still readable), anything else as base64. Its old
//! `Content-Transfer-Encoding` field goes and the new one is added at the end of the
//! part's header. Multiparts and attached messages (`message/rfc822`, which may not be
//! encoded themselves) are converted part by part, their own `8bit`/`binary` label
//! becoming `7bit`; everything else (other header fields, boundaries, preambles, parts
//! that are already 7 bit) is copied octet for octet. Decoded, every part holds what it
//! held before (text with MIME's canonical CRLF line breaks): the result is parsed again
//! and compared, part by part, before it is returned. Should quoted-printable make a part
//! read differently (its canonical line breaks can turn a line that was no boundary into
//! one), every converted part goes as base64 instead, which cannot.
//!
//! Header fields with 8-bit octets cannot be converted here (that would take RFC 2047
//! encoded words, field by field); neither can a message that does not parse, or whose
//! 8-bit octets sit where no part can be re-encoded (a multipart's preamble, say). Those
//! are [`Downgrade::CannotConvert`]: the caller decides (send as is, or return).
//!
//! ```
//! use mailwire_mime::{Downgrade, Message, to_seven_bit};
//!
//! let raw = "Subject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n\
//!            Content-Transfer-Encoding: 8bit\r\n\r\nCafé\r\n";
//! let Downgrade::Converted(out) = to_seven_bit(raw.as_bytes()) else { panic!() };
//! assert!(out.is_ascii());
//! let text = String::from_utf8(out.clone()).unwrap();
//! assert!(text.contains("Content-Transfer-Encoding: quoted-printable\r\n"));
//! assert!(text.ends_with("\r\n\r\nCaf=C3=A9\r\n"));
//! let msg = Message::parse(&out[..]).unwrap();
//! assert_eq!(&msg.root().decoded_body()[..], "Café\r\n".as_bytes());
//! ```

use std::borrow::Cow;

use crate::encoding::{lines, write_base64, write_quoted_printable};
use crate::parse::{Limits, Message, Part, TransferEncoding};

/// What [`to_seven_bit`] made of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Downgrade {
    /// The message is ASCII already: send it as it is.
    Unchanged,
    /// The message re-encoded: ASCII only, each part decoding to what it held.
    Converted(Vec<u8>),
    /// The message cannot be converted; why.
    CannotConvert(&'static str),
}

/// Converts `raw` to 7 bit as the module documentation describes.
pub fn to_seven_bit(raw: &[u8]) -> Downgrade {
    if raw.is_ascii() {
        return Downgrade::Unchanged;
    }
    let Ok(message) = Message::parse_with(raw, &Limits::default()) else {
        return Downgrade::CannotConvert("the message does not parse as MIME");
    };
    // Text goes as quoted-printable, unless the result reads differently (a soft or
    // canonical line break can start a line that looks like a boundary, say): then
    // everything goes as base64, which cannot (it has no `-`).
    let mut why = "";
    for text_as_qp in [true, false] {
        let mut out = Vec::with_capacity(raw.len() + raw.len() / 4);
        if let Err(e) = emit(raw, message.root(), text_as_qp, &mut out) {
            return Downgrade::CannotConvert(e);
        }
        if !out.is_ascii() {
            // 8-bit octets outside any part's body (a preamble, an epilogue).
            return Downgrade::CannotConvert("8-bit octets outside the parts' bodies");
        }
        match Message::parse_with(&out[..], &Limits::default()) {
            Ok(converted) if same_leaves(&converted, &message) => {
                return Downgrade::Converted(out);
            }
            _ => why = "the converted message would not read the same",
        }
    }
    Downgrade::CannotConvert(why)
}

/// The leaf parts of `message` in order (attached messages walked into), not decoded.
fn leaf_parts<'a>(message: &'a Message<'_>) -> impl Iterator<Item = Part<'a>> + 'a {
    message
        .parts()
        .filter(|p| !p.is_multipart() && p.attached_message().is_none())
}

/// A leaf part's media type, subtype and decoded body (for text, its lines joined with
/// LF: quoted-printable writes MIME's canonical CRLF line breaks, RFC 2045 section 6.7,
/// where the original may have had a lone LF or CR).
fn leaf(part: Part<'_>) -> (String, String, Vec<u8>) {
    let media = part.media_type().to_ascii_lowercase();
    let body = part.decoded_body();
    let body = if media == "text" {
        lines(&body)
            .flat_map(|(line, eol)| line.iter().copied().chain(eol.then_some(b'\n')))
            .collect()
    } else {
        body.into_owned()
    };
    (media, part.media_subtype().to_ascii_lowercase(), body)
}

/// Whether `a` and `b` hold the same leaves: compared one pair at a time, so that only
/// one decoded part of each is in memory at once.
pub(crate) fn same_leaves(a: &Message<'_>, b: &Message<'_>) -> bool {
    let (mut x, mut y) = (leaf_parts(a), leaf_parts(b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if leaf(p) == leaf(q) => {}
            _ => return false,
        }
    }
}

/// The leaf parts of `message` in order, each as [`same_leaves`] compares them (for
/// tests and the fuzz target, which show the difference).
pub(crate) fn leaves(message: &Message<'_>) -> Vec<(String, String, Vec<u8>)> {
    leaf_parts(message).map(leaf).collect()
}

/// Whether a part labelled with `te` needs a new label once its content is 7 bit.
fn relabel(te: TransferEncoding) -> bool {
    matches!(te, TransferEncoding::EightBit | TransferEncoding::Binary)
}

/// Writes `part` (header and body) converted to 7 bit; 8-bit text as quoted-printable
/// when `text_as_qp`, else as base64.
fn emit(
    raw: &[u8],
    part: Part<'_>,
    text_as_qp: bool,
    out: &mut Vec<u8>,
) -> Result<(), &'static str> {
    if !part.raw_header().is_ascii() {
        return Err("a header field holds 8-bit octets");
    }
    let te = part.transfer_encoding();
    let body = part.body();
    let containers: Vec<Part<'_>> = if part.is_multipart() {
        part.children().collect()
    } else {
        part.attached_message().into_iter().collect()
    };
    if body.is_ascii() || !containers.is_empty() {
        // Nothing to re-encode here: the header (relabelled if its label says 8 bit)
        // and the body, with each inner part converted.
        write_header(raw, part, relabel(te).then_some("7bit"), out);
        let body_range = part.body_range();
        let mut at = body_range.start;
        for child in containers {
            let r = child.range();
            out.extend_from_slice(raw.get(at..r.start).unwrap_or_default());
            emit(raw, child, text_as_qp, out)?;
            at = r.end;
        }
        out.extend_from_slice(raw.get(at..body_range.end).unwrap_or_default());
        return Ok(());
    }
    // A leaf with 8-bit octets in its body.
    let media = part.media_type();
    if media.eq_ignore_ascii_case("multipart") || media.eq_ignore_ascii_case("message") {
        // Containers may only be 7bit, 8bit or binary (RFC 2045 section 6.4); one whose
        // parts were not found cannot be converted.
        return Err("a multipart or message part could not be taken apart");
    }
    let content: Cow<'_, [u8]> = match te {
        TransferEncoding::QuotedPrintable | TransferEncoding::Base64 => part.decoded_body(),
        _ => Cow::Borrowed(body),
    };
    let mut encoded = Vec::with_capacity(content.len() + content.len() / 3);
    // Writing into a Vec cannot fail.
    let cte = if text_as_qp && media.eq_ignore_ascii_case("text") {
        write_quoted_printable(&content, &mut encoded).map_err(|_| "cannot write")?;
        "quoted-printable"
    } else {
        write_base64(&content, &mut encoded).map_err(|_| "cannot write")?;
        "base64"
    };
    write_header(raw, part, Some(cte), out);
    out.extend_from_slice(&encoded);
    Ok(())
}

/// Writes `part`'s header; with `cte`, its `Content-Transfer-Encoding` fields replaced
/// by one saying `cte`, added at the end of the header (and the blank line after it).
fn write_header(raw: &[u8], part: Part<'_>, cte: Option<&str>, out: &mut Vec<u8>) {
    let header = part.header_range();
    let Some(cte) = cte else {
        let fields = raw.get(header).unwrap_or_default();
        out.extend_from_slice(fields);
        if !part.has_blank_line() && !part.body().is_empty() {
            // The body began at the first line that is not a field: a blank line keeps
            // it the body whatever is written before it (a converted part's new field).
            if !fields.is_empty() && !fields.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"\r\n");
        }
        return;
    };
    let mut at = header.start;
    for field in part.headers() {
        if field
            .name()
            .eq_ignore_ascii_case("Content-Transfer-Encoding")
        {
            let r = field.range();
            out.extend_from_slice(raw.get(at..r.start).unwrap_or_default());
            at = r.end;
        }
    }
    // The rest of the header, without the blank line that ends it; a header that ends
    // without one (the body starting at the first line that is not a field) gets one.
    let rest = raw.get(at..header.end).unwrap_or_default();
    let (fields, blank_line): (&[u8], &[u8]) = if part.has_blank_line() {
        let blank = if rest.ends_with(b"\r\n") { 2 } else { 1 };
        rest.split_at(rest.len().saturating_sub(blank))
    } else {
        (rest, b"\r\n")
    };
    out.extend_from_slice(fields);
    if !fields.is_empty() && !fields.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Transfer-Encoding: ");
    out.extend_from_slice(cte.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(blank_line);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each part's media type and decoded body, in order.
    fn contents(raw: &[u8]) -> Vec<(String, String, Vec<u8>)> {
        let msg = Message::parse(raw).unwrap();
        msg.parts()
            .filter(|p| !p.is_multipart() && p.attached_message().is_none())
            .map(|p| {
                (
                    p.media_type().to_ascii_lowercase(),
                    p.media_subtype().to_ascii_lowercase(),
                    p.decoded_body().into_owned(),
                )
            })
            .collect()
    }

    fn converted(raw: &[u8]) -> Vec<u8> {
        match to_seven_bit(raw) {
            Downgrade::Converted(out) => {
                assert!(out.is_ascii());
                let (before, after) = (
                    Message::parse(raw).unwrap(),
                    Message::parse(&out[..]).unwrap(),
                );
                assert_eq!(leaves(&after), leaves(&before), "decoded parts differ");
                // With CRLF line breaks only, the decoded bodies are the same octets.
                let crlf_only = raw.windows(2).all(|w| (w[0] == b'\r') == (w[1] == b'\n'))
                    && raw.first() != Some(&b'\n')
                    && raw.last() != Some(&b'\r');
                if crlf_only {
                    assert_eq!(contents(&out), contents(raw), "decoded parts differ");
                }
                out
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ascii_is_left_alone() {
        let raw = b"Subject: x\r\nContent-Transfer-Encoding: 8bit\r\n\r\nplain\r\n";
        assert_eq!(to_seven_bit(raw), Downgrade::Unchanged);
    }

    #[test]
    fn a_multipart_is_converted_part_by_part() {
        let raw = "From: a@example.org\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
preamble\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8BIT\r\n\
X-Keep: yes\r\n\
\r\n\
Grüße, a long line that goes on and on and on past the seventy-six characters of QP.\r\n\
--b1\r\n\
Content-Type: text/plain\r\n\
\r\n\
already ascii\r\n\
--b1\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: binary\r\n\
\r\n\
\u{00ff}\u{00fe} bytes\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Subject: inner\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Déjà vu\r\n\
--b1--\r\n\
epilogue\r\n";
        let out = converted(raw.as_bytes());
        let text = String::from_utf8(out).unwrap();
        // The multipart and the attached message are relabelled; other fields and the
        // ASCII part are copied as they were.
        assert!(text.starts_with("From: a@example.org\r\nMIME-Version: 1.0\r\n"));
        assert!(text.contains("\r\n--b1\r\nContent-Type: text/plain\r\n\r\nalready ascii\r\n"));
        assert!(text.contains(
            "X-Keep: yes\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe"
        ));
        assert!(text.contains(
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        assert!(text.contains("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\nSubject: inner\r\n"));
        assert!(!text.contains("8bit") && !text.contains("8BIT") && !text.contains("binary"));
        assert!(text.ends_with("--b1--\r\nepilogue\r\n"));
        assert!(text.lines().all(|l| l.len() <= 76 || !l.contains("=C3")));
    }

    #[test]
    fn quoted_printable_with_8_bit_octets_is_decoded_and_encoded_again() {
        // A broken QP body holding raw 8-bit octets: its decoded form is re-encoded.
        let raw = "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nna\u{00ef}ve =3D\r\n";
        converted(raw.as_bytes());
    }

    #[test]
    fn text_that_would_read_differently_as_quoted_printable_goes_as_base64() {
        // `--sep` then a lone CR is no boundary line; quoted-printable writes the lone CR
        // as a CRLF line break, which would make it one. Found by fuzzing.
        let raw = "Content-Type: multipart/mixed; boundary=sep\r\n\r\n--sep\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\r\né\n--sep\rmore\r\n--sep--\r\n";
        let text = String::from_utf8(converted(raw.as_bytes())).unwrap();
        assert!(text.contains("Content-Transfer-Encoding: base64"), "{text}");
        // Without that, the same text goes as quoted-printable.
        let raw = raw.replace("--sep\rmore", "-sep\rmore");
        let text = String::from_utf8(converted(raw.as_bytes())).unwrap();
        assert!(
            text.contains("Content-Transfer-Encoding: quoted-printable"),
            "{text}"
        );
    }

    #[test]
    fn a_header_without_a_blank_line_keeps_its_body() {
        // The attached message's first line is not a field: its header ends there, with
        // no blank line, and so does the message/rfc822 part's. Found by fuzzing.
        let raw = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\
Content-Type: message/rfc822\r\nNot\xe9 a field\r\n\r\nbody\r\n--o--\r\n";
        converted(raw);
    }

    #[test]
    fn what_cannot_be_converted_is_said() {
        let header = "Subject: Grüße\r\n\r\nbody\r\n";
        assert!(matches!(
            to_seven_bit(header.as_bytes()),
            Downgrade::CannotConvert(_)
        ));
        let preamble = "Content-Type: multipart/mixed; boundary=b\r\n\r\nprëamble\r\n--b\r\n\r\nx\r\n--b--\r\n";
        assert!(matches!(
            to_seven_bit(preamble.as_bytes()),
            Downgrade::CannotConvert(_)
        ));
    }
}
