//! Framing the server's bytes into replies, with the limits of [`ReplyLimits`].

use memchr::memchr;

use crate::parse::{ReplyError, ReplyLimits, parse_reply};
use crate::types::Reply;

/// Buffers the server's bytes and hands out complete replies.
///
/// Lines are scanned once as they arrive; [`parse_reply`] runs only when a reply's last
/// line (or a limit) has been reached, so a reply dripping in a byte at a time costs time
/// in proportion to its length. The buffer never holds more than one reply in progress
/// beyond what a single input brought: `max_lines * max_line_len` octets.
#[derive(Debug)]
pub(crate) struct ReplyReader {
    buf: Vec<u8>,
    /// Start of the reply in progress.
    start: usize,
    /// Start of the line in progress.
    line_start: usize,
    /// Lines of the reply in progress seen complete so far.
    lines: usize,
    /// The reply in progress was tried whole once and was incomplete: from then on it is
    /// scanned line by line.
    tried: bool,
    limits: ReplyLimits,
    /// How many times [`clear`](Self::clear) was called.
    clears: u64,
}

impl ReplyReader {
    pub(crate) fn new(limits: ReplyLimits) -> ReplyReader {
        ReplyReader {
            // Allocated when first needed: replies usually arrive whole and are read from
            // the input where it lies (`parse`).
            buf: Vec::new(),
            start: 0,
            line_start: 0,
            lines: 0,
            tried: false,
            limits,
            clears: 0,
        }
    }

    /// Whether nothing is buffered: the next bytes start a reply, and complete replies at
    /// the start of an input can be read from it directly with [`parse`](Self::parse).
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.buf.len()
    }

    /// How many times the buffer was cleared (a caller reading from an input directly
    /// stops when this changes: the rest of the input is discarded as buffered bytes are).
    pub(crate) fn clears(&self) -> u64 {
        self.clears
    }

    /// Reads one reply at the start of `input`, under this reader's limits, as
    /// [`next_reply`](Self::next_reply) would read it from the buffer: for a reader that
    /// [`is_empty`](Self::is_empty), the bytes that would have been pushed.
    pub(crate) fn parse(&self, input: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
        parse_reply(input, &self.limits)
    }

    pub(crate) fn push(&mut self, input: &[u8]) {
        if self.buf.capacity() == 0 {
            // Room for an EHLO reply or a pipelined group of replies at once, instead of
            // growing step by step.
            self.buf.reserve(input.len().max(512));
        }
        if self.start > 0 && self.start == self.buf.len() {
            self.clear();
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.line_start -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(input);
    }

    /// Drops everything buffered (after `STARTTLS`).
    pub(crate) fn clear(&mut self) {
        self.clears += 1;
        self.buf.clear();
        self.start = 0;
        self.line_start = 0;
        self.lines = 0;
        self.tried = false;
    }

    /// The next complete reply, an error if the bytes cannot be one, or `None` when more
    /// bytes are needed.
    pub(crate) fn next_reply(&mut self) -> Option<Result<Reply, ReplyError>> {
        if !self.tried && self.line_start == self.start {
            // At the start of a reply, which is usually here whole (a server writes each
            // reply at once): parse it straight away, once. Only an incomplete reply is
            // then scanned line by line, so a reply dripping in still costs time in
            // proportion to its length. `parse_reply` gives for a prefix either "more
            // needed" or the answer for the whole, so this answers as the scan would.
            if self.buf.len() <= self.start {
                return None;
            }
            match self.parse_buffered() {
                Some(result) => return Some(result),
                None => self.tried = true,
            }
        }
        let max_line = self.limits.max_line_len;
        loop {
            let rest = self.buf.get(self.line_start..).unwrap_or_default();
            let Some(offset) = memchr(b'\n', rest) else {
                if !rest.is_empty() && rest.len() >= max_line {
                    return self.parse_buffered();
                }
                return None;
            };
            let more = rest.get(3) == Some(&b'-');
            let too_long = offset + 1 > max_line;
            self.line_start += offset + 1;
            self.lines += 1;
            if more && !too_long && self.lines < self.limits.max_lines {
                continue;
            }
            return self.parse_buffered();
        }
    }

    fn parse_buffered(&mut self) -> Option<Result<Reply, ReplyError>> {
        let pending = self.buf.get(self.start..).unwrap_or_default();
        match parse_reply(pending, &self.limits) {
            Ok(Some((reply, used))) => {
                self.start += used;
                self.line_start = self.start;
                self.lines = 0;
                self.tried = false;
                Some(Ok(reply))
            }
            // An incomplete reply tried whole; after a scan, every line up to
            // `line_start` is complete and the last seen is a final line or breaks a
            // limit, so the parser gives a reply or an error. Either way, waiting for
            // more bytes is the answer.
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(reader: &mut ReplyReader) -> Vec<Result<Reply, ReplyError>> {
        let mut out = Vec::new();
        while let Some(r) = reader.next_reply() {
            let stop = r.is_err();
            out.push(r);
            if stop {
                break;
            }
        }
        out
    }

    #[test]
    fn an_incomplete_reply_then_whole_ones() {
        let mut reader = ReplyReader::new(ReplyLimits::default());
        reader.push(b"250-a\r\n250-b");
        assert!(reader.next_reply().is_none());
        assert!(reader.next_reply().is_none());
        reader.push(b"\r\n250 c\r\n220 x\r\n354 go");
        let got = replies(&mut reader);
        assert_eq!(got.len(), 2);
        let first = got[0].as_ref().expect("a reply");
        assert_eq!(first.lines().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(got[1].as_ref().expect("a reply").code().as_u16(), 220);
        // The next reply was tried whole and is incomplete; its end completes it.
        reader.push(b"\r\n");
        let last = reader.next_reply().expect("a reply").expect("valid");
        assert_eq!((last.code().as_u16(), last.text()), (354, "go"));
        assert!(reader.next_reply().is_none());
    }

    #[test]
    fn any_split_gives_the_same_replies() {
        let wire: &[u8] = b"220 hi\r\n250-a\r\n250-b\r\n250 c\r\n354 go\r\n";
        let mut whole = ReplyReader::new(ReplyLimits::default());
        whole.push(wire);
        let want = replies(&mut whole);
        assert_eq!(want.len(), 3);
        for step in 1..wire.len() {
            let mut reader = ReplyReader::new(ReplyLimits::default());
            let mut got = Vec::new();
            for piece in wire.chunks(step) {
                reader.push(piece);
                got.extend(replies(&mut reader));
            }
            assert_eq!(got, want, "step {step}");
        }
    }

    #[test]
    fn limits_hold_while_lines_drip_in() {
        let limits = ReplyLimits {
            max_line_len: 10,
            max_lines: 3,
        };
        let mut reader = ReplyReader::new(limits);
        reader.push(b"250-abcdefgh");
        assert_eq!(
            reader.next_reply(),
            Some(Err(ReplyError::LineTooLong { limit: 10 }))
        );
        let mut reader = ReplyReader::new(limits);
        reader.push(b"250-a\r\n250-b\r\n250-c\r\n");
        assert_eq!(
            reader.next_reply(),
            Some(Err(ReplyError::TooManyLines { limit: 3 }))
        );
        let mut reader = ReplyReader::new(limits);
        reader.push(b"250-a\r\n250-bcdefghijk\r\n250 c\r\n");
        assert_eq!(
            reader.next_reply(),
            Some(Err(ReplyError::LineTooLong { limit: 10 }))
        );
    }

    #[test]
    fn malformed_lines_are_errors() {
        let mut reader = ReplyReader::new(ReplyLimits::default());
        reader.push(b"250 ok\n");
        assert_eq!(reader.next_reply(), Some(Err(ReplyError::BareLf)));
        let mut reader = ReplyReader::new(ReplyLimits::default());
        reader.push(b"hello\r\n");
        assert_eq!(reader.next_reply(), Some(Err(ReplyError::InvalidCode)));
    }
}
