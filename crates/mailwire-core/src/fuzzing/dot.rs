//! Checks for [`DotDecoder`] and [`DotEncoder`]: reference models written line by line,
//! independently of the streaming state machines, and chunk-split invariance.

use crate::dot::{BareLineEndings, DotDecoder, DotEncoder};

/// `content` with every bare CR and bare LF turned into CRLF, and a final CRLF added when
/// it is not empty and does not end with one: what encoding then decoding gives back.
pub fn normalise(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 2);
    let mut i = 0;
    while let Some(&byte) = content.get(i) {
        match byte {
            b'\r' if content.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
                continue;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            other => out.push(other),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The reference stuffer: the lines of [`normalise`]`(content)`, each with a dot added in
/// front if it starts with one, then `.` CRLF.
pub fn reference_encode(content: &[u8]) -> Vec<u8> {
    let normalised = normalise(content);
    let mut out = Vec::new();
    let mut rest = &normalised[..];
    while let Some(cr) = rest.windows(2).position(|w| w == b"\r\n") {
        if rest.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(rest.get(..cr + 2).unwrap_or_default());
        rest = rest.get(cr + 2..).unwrap_or_default();
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Everything a decoder run shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The content appended to the output.
    pub content: Vec<u8>,
    /// The total of input bytes consumed.
    pub consumed: usize,
    /// Whether the terminator was found.
    pub done: bool,
    /// `saw_bare_cr()` at the end.
    pub bare_cr: bool,
    /// `saw_bare_lf()` at the end.
    pub bare_lf: bool,
    /// `saw_nul()` at the end.
    pub nul: bool,
}

/// The reference un-stuffer, line by line. The terminator is the first `CR LF . CR LF` (or
/// `. CR LF` at the start) under both policies. Under `Reject` the lines are the CRLF lines
/// of the content; under `Normalize` a bare CR or LF also ends a line and becomes CRLF, and a
/// line `.` that is not the terminator stays `.`. A line starting with a dot loses it; an
/// unfinished last line `.` or `.` CR is held back (nothing is output for it yet).
pub fn reference_decode(policy: BareLineEndings, input: &[u8]) -> Decoded {
    let (content_end, consumed, done) = if input.starts_with(b".\r\n") {
        (0, 3, true)
    } else {
        match input.windows(5).position(|w| w == b"\r\n.\r\n") {
            Some(i) => (i + 2, i + 5, true),
            None => (input.len(), input.len(), false),
        }
    };
    let content = input.get(..content_end).unwrap_or_default();
    let region = input.get(..consumed).unwrap_or_default();

    // Split into finished lines (with their ending) and an unfinished last line.
    let normalize = policy == BareLineEndings::Normalize;
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while let Some(&byte) = content.get(i) {
        let next = content.get(i + 1);
        // The width of the line ending at `i`, if one is there.
        let ending = match (byte, next) {
            (b'\r', Some(b'\n')) => Some(2),
            (b'\r', Some(_)) if normalize => Some(1),
            (b'\n', _) if normalize => Some(1),
            _ => None,
        };
        match ending {
            Some(width) => {
                lines.push(content.get(start..i).unwrap_or_default());
                i += width;
                start = i;
            }
            None => i += 1,
        }
    }
    let unfinished = content.get(start..).unwrap_or_default();

    let mut out = Vec::new();
    for line in lines {
        match line {
            // Not the terminator (that was found above), so content.
            b"." => out.push(b'.'),
            [b'.', rest @ ..] => out.extend_from_slice(rest),
            other => out.extend_from_slice(other),
        }
        out.extend_from_slice(b"\r\n");
    }
    match unfinished {
        b"." | b".\r" => {}
        [b'.', rest @ ..] => out.extend_from_slice(rest),
        other => out.extend_from_slice(other),
    }

    let bare_cr = region
        .windows(2)
        .any(|w| w.first() == Some(&b'\r') && w.get(1) != Some(&b'\n'));
    let bare_lf = region
        .iter()
        .enumerate()
        .any(|(j, &b)| b == b'\n' && (j == 0 || region.get(j - 1) != Some(&b'\r')));
    Decoded {
        content: out,
        consumed,
        done,
        bare_cr,
        bare_lf,
        nul: region.contains(&0),
    }
}

/// Decodes `chunks` one after the other with one [`DotDecoder`], checking on the way that no
/// call consumes more than it was given, that nothing is consumed after the terminator, and
/// that only the chunk holding the terminator is left partly unconsumed.
pub fn decode_chunks<'a>(
    policy: BareLineEndings,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Decoded {
    let mut decoder = DotDecoder::with_policy(policy);
    let mut content = Vec::new();
    let mut consumed = 0;
    let mut done = false;
    for chunk in chunks {
        let status = decoder.decode(chunk, &mut content);
        assert!(status.consumed <= chunk.len(), "consumed more than given");
        if done {
            assert_eq!(status.consumed, 0, "consumed after the terminator");
        } else if !status.done {
            assert_eq!(
                status.consumed,
                chunk.len(),
                "left input without terminator"
            );
        }
        assert_eq!(status.done, decoder.is_done());
        consumed += status.consumed;
        done = status.done;
    }
    assert_eq!(decoder.decoded_len(), content.len() as u64);
    Decoded {
        content,
        consumed,
        done,
        bare_cr: decoder.saw_bare_cr(),
        bare_lf: decoder.saw_bare_lf(),
        nul: decoder.saw_nul(),
    }
}

/// Encodes `chunks` one after the other with one [`DotEncoder`], then finishes.
pub fn encode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut encoder = DotEncoder::new();
    let mut out = Vec::new();
    for chunk in chunks {
        encoder.encode(chunk, &mut out);
    }
    encoder.finish(&mut out);
    out
}

/// The fuzz target `core_dot`: the first byte seeds the chunking, the rest is the input.
///
/// - Encoding, whole, one byte at a time and in seeded chunks, gives the reference
///   stuffing; decoding that (under both policies, whole and chunked, with a pipelined
///   command after it) gives back [`normalise`]`(input)`, consumes exactly the encoding and
///   sees no bare line ending.
/// - Decoding the raw input, under both policies, whole, one byte at a time and in seeded
///   chunks, gives what the reference un-stuffer gives, and never consumes more than given.
pub fn check(data: &[u8]) {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let chunked = || super::split(input, super::chunk_lengths(seed));

    let encoded = encode_chunks([input]);
    assert_eq!(encoded, reference_encode(input), "encode whole");
    assert_eq!(encode_chunks(input.chunks(1)), encoded, "encode bytewise");
    assert_eq!(encode_chunks(chunked()), encoded, "encode chunked");

    let expected_content = normalise(input);
    let mut pipelined = encoded.clone();
    pipelined.extend_from_slice(b"QUIT\r\n");
    for policy in [BareLineEndings::Reject, BareLineEndings::Normalize] {
        let round = Decoded {
            content: expected_content.clone(),
            consumed: encoded.len(),
            done: true,
            bare_cr: false,
            bare_lf: false,
            nul: input.contains(&0),
        };
        assert_eq!(
            decode_chunks(policy, [&pipelined[..]]),
            round,
            "{policy:?} round trip"
        );
        assert_eq!(
            decode_chunks(policy, super::split(&pipelined, super::chunk_lengths(seed))),
            round,
            "{policy:?} round trip chunked"
        );

        let expected = reference_decode(policy, input);
        assert!(expected.consumed <= input.len());
        assert_eq!(decode_chunks(policy, [input]), expected, "{policy:?} whole");
        assert_eq!(
            decode_chunks(policy, input.chunks(1)),
            expected,
            "{policy:?} bytewise"
        );
        assert_eq!(
            decode_chunks(policy, chunked()),
            expected,
            "{policy:?} chunked"
        );
    }
}
