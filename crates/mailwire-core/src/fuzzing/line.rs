//! Checks for [`LineBuffer`](crate::line::LineBuffer): a reference model, chunk-split
//! invariance and the memory bound.

use crate::line::{LineBuffer, LineError};

/// What feeding some input to a [`LineBuffer`] and draining it gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Every result of `next_line`, in order.
    pub lines: Vec<Result<Vec<u8>, LineError>>,
    /// What `take_buffered` hands out at the end.
    pub buffered: Vec<u8>,
    /// Whether the buffer is discarding at the end.
    pub discarding: bool,
}

/// The reference model, written independently of [`LineBuffer`]: split at each CRLF, refuse
/// lines longer than `limit`; an unfinished last line is refused as soon as it is known to
/// be too long (a trailing CR may still be the start of its CRLF).
pub fn reference(input: &[u8], limit: usize) -> Outcome {
    let mut lines = Vec::new();
    let mut rest = input;
    while let Some(cr) = rest.windows(2).position(|w| w == b"\r\n") {
        let (line, tail) = rest.split_at(cr);
        lines.push(if line.len() > limit {
            Err(LineError::TooLong { limit })
        } else {
            Ok(line.to_vec())
        });
        rest = tail.get(2..).unwrap_or_default();
    }
    let known = rest.strip_suffix(b"\r").unwrap_or(rest).len();
    if known > limit {
        lines.push(Err(LineError::TooLong { limit }));
        Outcome {
            lines,
            buffered: Vec::new(),
            discarding: true,
        }
    } else {
        Outcome {
            lines,
            buffered: rest.to_vec(),
            discarding: false,
        }
    }
}

/// Feeds `chunks` one after the other, draining `next_line` after each, and checks the
/// memory bound: after draining, at most `limit + 1` bytes stay buffered.
pub fn feed<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, limit: usize) -> Outcome {
    let mut buffer = LineBuffer::new(limit);
    let mut lines = Vec::new();
    for chunk in chunks {
        buffer.push(chunk);
        while let Some(line) = buffer.next_line() {
            lines.push(line.map(|bytes| bytes.to_vec()));
        }
        assert!(
            buffer.buffered_len() <= limit.saturating_add(1),
            "{} bytes buffered with limit {limit}",
            buffer.buffered_len()
        );
        assert!(!buffer.is_discarding() || buffer.buffered_len() == 0);
    }
    let discarding = buffer.is_discarding();
    Outcome {
        lines,
        buffered: buffer.take_buffered().to_vec(),
        discarding,
    }
}

/// The fuzz target `core_line`: the first byte is the line limit, the second seeds the
/// chunking, the rest is the input. Checks that the input pushed whole, one byte at a time
/// and in seeded chunks gives what the reference model gives, that no line handed out holds
/// a CRLF or exceeds the limit, and the memory bound.
pub fn check(data: &[u8]) {
    let (limit, seed, input) = match data {
        [limit, seed, input @ ..] => (usize::from(*limit), *seed, input),
        _ => return,
    };
    let expected = reference(input, limit);
    for line in expected.lines.iter().flatten() {
        assert!(line.len() <= limit);
        assert!(!line.windows(2).any(|w| w == b"\r\n"));
    }
    assert_eq!(feed([input], limit), expected, "whole input");
    assert_eq!(feed(input.chunks(1), limit), expected, "one byte at a time");
    assert_eq!(
        feed(super::split(input, super::chunk_lengths(seed)), limit),
        expected,
        "chunks seeded with {seed}"
    );
}
