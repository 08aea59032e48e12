//! CRLF line framing with a length limit and recovery to the next line.
//!
//! SMTP commands, POP3 commands and responses, and IMAP lines between literals are all
//! CRLF-terminated lines. [`LineBuffer`] accumulates what arrives from the peer, in any
//! chunking, and hands out one complete line at a time, without its CRLF.
//!
//! - Only CR LF ends a line. A bare LF or a bare CR stays inside the line, for the protocol
//!   parser to refuse: a framer that also split at a bare LF would let a peer smuggle a
//!   second command past a parser that sees only CRLF lines.
//! - A line longer than the limit is reported once, as [`LineError::TooLong`], and then
//!   dropped up to and including its CRLF, as it arrives; the next line is framed normally.
//! - Nothing is ever scanned twice: the buffer remembers how far it has looked for a CRLF.
//! - The buffer is lazy: [`push`](LineBuffer::push) only stores bytes, and framing happens
//!   in [`next_line`](LineBuffer::next_line), one line at a time. A protocol may therefore
//!   switch mode after any line (SMTP `DATA` or `BDAT`, an IMAP literal) and take the bytes
//!   that follow with [`take_buffered`](LineBuffer::take_buffered), untouched.
//!
//! ```
//! use mailwire_core::line::{LineBuffer, LineError};
//!
//! let mut lines = LineBuffer::new(16);
//! lines.push(b"EHLO client.example\r\nNOOP\r");
//! assert_eq!(lines.next_line(), Some(Err(LineError::TooLong { limit: 16 })));
//! assert_eq!(lines.next_line(), None); // "NOOP" waits for its LF
//! lines.push(b"\nQUIT\r\n");
//! assert_eq!(lines.next_line().unwrap().unwrap(), &b"NOOP"[..]);
//! assert_eq!(lines.next_line().unwrap().unwrap(), &b"QUIT"[..]);
//! assert_eq!(lines.next_line(), None);
//! ```

use bytes::{Bytes, BytesMut};

/// A buffer keeps at least this much capacity when it is emptied (more if twice the line
/// limit is more); a larger allocation is given back.
const KEEP_CAPACITY: usize = 64 * 1024;

/// Why [`LineBuffer::next_line`] could not hand out a line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line had more than `limit` octets before its CRLF; it is dropped up to and including its CRLF.
    #[error("line longer than {limit} octets")]
    TooLong {
        /// The limit in force, in octets, not counting the CRLF.
        limit: usize,
    },
}

/// Accumulates input and yields complete CRLF-terminated lines, with a length limit.
///
/// `max_line_len` counts the octets of a line *without* its CRLF. RFC 5321's 512-octet
/// command line limit, which counts the CRLF, is `LineBuffer::new(510)`.
///
/// ## Driving it
///
/// Call [`push`](Self::push) with what arrived, then [`next_line`](Self::next_line) until
/// it returns `None` (or until the protocol switches mode: then
/// [`take_buffered`](Self::take_buffered)). Any chunking of the same input gives the same
/// sequence of results.
///
/// ## Memory
///
/// When `next_line` returns `None`, at most `max_line_len + 1` bytes stay buffered (a line
/// that may still end well: its content plus a CR waiting for its LF). A longer unfinished
/// line is reported as too long at once, dropped, and whatever of it still arrives is
/// dropped by `push` until its CRLF, without being stored. Between two `next_line` calls the
/// buffer holds what the caller pushed: framing is lazy so that bytes after a mode switch
/// are never interpreted as lines.
#[derive(Debug)]
pub struct LineBuffer {
    /// Bytes pushed and not yet handed out; always starts at the beginning of a line.
    buf: BytesMut,
    /// `buf[..scanned]` holds no line-ending LF (every LF there is bare).
    scanned: usize,
    /// The limit, in octets without the CRLF.
    max_line_len: usize,
    /// Dropping the rest of a too-long line until its CRLF.
    discarding: bool,
    /// While discarding: the last dropped byte was a CR (a LF next ends the line).
    discard_after_cr: bool,
}

impl LineBuffer {
    /// An empty buffer that refuses lines longer than `max_line_len` octets (CRLF not counted).
    pub fn new(max_line_len: usize) -> Self {
        LineBuffer {
            buf: BytesMut::new(),
            scanned: 0,
            max_line_len,
            discarding: false,
            discard_after_cr: false,
        }
    }

    /// An empty buffer as [`new`](Self::new) makes, with room for `capacity` octets
    /// allocated at once (for a peer known to send a burst of pipelined lines first).
    pub fn with_capacity(max_line_len: usize, capacity: usize) -> Self {
        LineBuffer {
            buf: BytesMut::with_capacity(capacity),
            ..LineBuffer::new(max_line_len)
        }
    }

    /// The limit in force, in octets without the CRLF.
    pub fn max_line_len(&self) -> usize {
        self.max_line_len
    }

    /// Changes the limit; it applies to the line being framed and every line after it.
    pub fn set_max_line_len(&mut self, max_line_len: usize) {
        self.max_line_len = max_line_len;
    }

    /// Adds bytes that arrived from the peer. While the rest of a too-long line is being
    /// dropped ([`is_discarding`](Self::is_discarding)), the bytes up to and including its
    /// CRLF are dropped here and only what follows is stored.
    pub fn push(&mut self, data: &[u8]) {
        let data = if self.discarding {
            match self.discard(data) {
                Some(rest) => rest,
                None => return,
            }
        } else {
            data
        };
        self.buf.extend_from_slice(data);
    }

    /// Drops `data` up to and including the CRLF that ends the line being discarded.
    /// Returns what follows that CRLF, or `None` if the line goes on.
    fn discard<'a>(&mut self, data: &'a [u8]) -> Option<&'a [u8]> {
        if data.is_empty() {
            return None;
        }
        if self.discard_after_cr && data.first() == Some(&b'\n') {
            self.discarding = false;
            self.discard_after_cr = false;
            return data.get(1..);
        }
        match find_crlf(data, 0) {
            Some(cr) => {
                self.discarding = false;
                self.discard_after_cr = false;
                data.get(cr + 2..)
            }
            None => {
                self.discard_after_cr = data.last() == Some(&b'\r');
                None
            }
        }
    }

    /// The next complete line, without its CRLF; `None` when no complete line is buffered
    /// (a normal outcome: push more input).
    ///
    /// `Some(Err(LineError::TooLong { .. }))` is returned exactly once for each line longer
    /// than the limit, as soon as that is known (possibly before its CRLF has arrived); the
    /// line is dropped up to and including its CRLF and the following line comes next.
    pub fn next_line(&mut self) -> Option<Result<Bytes, LineError>> {
        if self.discarding {
            // `push` stores nothing while discarding.
            return None;
        }
        match find_crlf(&self.buf, self.scanned.saturating_sub(1)) {
            Some(cr) => {
                self.scanned = 0;
                let mut line = self.buf.split_to(cr + 2);
                if cr > self.max_line_len {
                    return Some(Err(self.too_long()));
                }
                line.truncate(cr);
                Some(Ok(line.freeze()))
            }
            None => {
                self.scanned = self.buf.len();
                // A trailing CR may still be the start of the CRLF.
                let known = match self.buf.last() {
                    Some(b'\r') => self.buf.len() - 1,
                    _ => self.buf.len(),
                };
                if known > self.max_line_len {
                    self.discard_after_cr = self.buf.last() == Some(&b'\r');
                    self.discarding = true;
                    self.drop_buffered();
                    return Some(Err(self.too_long()));
                }
                None
            }
        }
    }

    /// Empties the buffer, and gives back its memory if one large push made it grow far
    /// beyond what a line needs.
    fn drop_buffered(&mut self) {
        self.scanned = 0;
        if self.buf.capacity() > self.max_line_len.saturating_mul(2).max(KEEP_CAPACITY) {
            self.buf = BytesMut::new();
        } else {
            self.buf.clear();
        }
    }

    fn too_long(&self) -> LineError {
        LineError::TooLong {
            limit: self.max_line_len,
        }
    }

    /// Hands out every byte pushed after the last line returned (or dropped), and leaves the
    /// buffer empty. Use it when the protocol switches from lines to something else (SMTP
    /// `DATA` or `BDAT`, an IMAP literal); push back what is left when lines resume.
    ///
    /// A discarding state is kept (the rest of a too-long line is still dropped when it
    /// arrives); a protocol only switches mode after a line it accepted, when this buffer is
    /// never discarding.
    pub fn take_buffered(&mut self) -> BytesMut {
        self.scanned = 0;
        self.buf.split()
    }

    /// Drops everything buffered and any discarding state: the next byte pushed starts a new
    /// line. Use it at STARTTLS/STLS, so that nothing read before the handshake is processed.
    pub fn clear(&mut self) {
        self.drop_buffered();
        self.discarding = false;
        self.discard_after_cr = false;
    }

    /// How many bytes are buffered (pushed and not yet handed out or dropped).
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the rest of a too-long line is being dropped until its CRLF.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }
}

/// The index of the CR of the first CRLF in `buf` that starts at or after `from`, if any.
/// `from` past the end of `buf` finds nothing.
///
/// ```
/// use mailwire_core::line::find_crlf;
/// assert_eq!(find_crlf(b"a\nb\rc\r\nd\r\n", 0), Some(5));
/// assert_eq!(find_crlf(b"a\nb\rc\r\nd\r\n", 6), Some(8));
/// assert_eq!(find_crlf(b"a\r", 0), None);
/// ```
pub fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    // Look for LFs (the second byte) so that a CRLF at `from` is found by searching from
    // `from + 1`; each LF found is checked for a CR before it.
    let mut at = from.checked_add(1)?;
    loop {
        let rest = buf.get(at..)?;
        let lf = at + memchr::memchr(b'\n', rest)?;
        // `lf >= at >= 1`, so `lf - 1` does not underflow.
        if buf.get(lf - 1) == Some(&b'\r') {
            return Some(lf - 1);
        }
        at = lf + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(lines: &mut LineBuffer) -> Vec<Result<Vec<u8>, LineError>> {
        std::iter::from_fn(|| lines.next_line())
            .map(|r| r.map(|b| b.to_vec()))
            .collect()
    }

    #[test]
    fn with_capacity_frames_as_new_does() {
        let input: &[u8] = b"EHLO x\r\nMAIL FROM:<a@b>\r\nfar too long a line\r\nRC";
        let mut plain = LineBuffer::new(16);
        let mut sized = LineBuffer::with_capacity(16, 512);
        assert_eq!(sized.max_line_len(), 16);
        plain.push(input);
        sized.push(input);
        let want = drain(&mut plain);
        assert_eq!(want.len(), 3);
        assert!(matches!(want[2], Err(LineError::TooLong { .. })));
        assert_eq!(drain(&mut sized), want);
        assert_eq!(sized.buffered_len(), 2);
    }

    #[test]
    fn find_crlf_cases() {
        assert_eq!(find_crlf(b"", 0), None);
        assert_eq!(find_crlf(b"\r\n", 0), Some(0));
        assert_eq!(find_crlf(b"\r\n", 1), None);
        assert_eq!(find_crlf(b"\r\n", 5), None);
        assert_eq!(find_crlf(b"\n\r\n", 0), Some(1));
        assert_eq!(find_crlf(b"\r\r\n", 0), Some(1));
        assert_eq!(find_crlf(b"ab\n\rcd\r\n", 0), Some(6));
        assert_eq!(find_crlf(b"x", usize::MAX), None);
    }

    #[test]
    fn only_crlf_ends_a_line() {
        let mut lines = LineBuffer::new(100);
        lines.push(b"a\nb\rc\r\n\n\r\r\n\r\n");
        assert_eq!(
            drain(&mut lines),
            vec![
                Ok(b"a\nb\rc".to_vec()),
                Ok(b"\n\r".to_vec()),
                Ok(Vec::new())
            ]
        );
        assert_eq!(lines.buffered_len(), 0);
    }

    #[test]
    fn crlf_split_across_pushes() {
        let mut lines = LineBuffer::new(100);
        lines.push(b"HELO x\r");
        assert_eq!(lines.next_line(), None);
        assert_eq!(lines.buffered_len(), 7);
        lines.push(b"\nNO");
        assert_eq!(lines.next_line(), Some(Ok(Bytes::from_static(b"HELO x"))));
        assert_eq!(lines.next_line(), None);
        lines.push(b"OP\r\n");
        assert_eq!(lines.next_line(), Some(Ok(Bytes::from_static(b"NOOP"))));
    }

    #[test]
    fn limit_is_inclusive_and_excludes_crlf() {
        let mut lines = LineBuffer::new(4);
        lines.push(b"abcd\r\nabcde\r\nab\r\n");
        assert_eq!(
            drain(&mut lines),
            vec![
                Ok(b"abcd".to_vec()),
                Err(LineError::TooLong { limit: 4 }),
                Ok(b"ab".to_vec())
            ]
        );
    }

    #[test]
    fn line_at_limit_with_cr_waiting_for_lf_is_kept() {
        let mut lines = LineBuffer::new(4);
        lines.push(b"abcd\r");
        assert_eq!(lines.next_line(), None);
        assert!(!lines.is_discarding());
        lines.push(b"\n");
        assert_eq!(lines.next_line(), Some(Ok(Bytes::from_static(b"abcd"))));
    }

    #[test]
    fn too_long_reported_early_once_then_recovers() {
        let mut lines = LineBuffer::new(4);
        lines.push(b"abcdef");
        assert_eq!(
            lines.next_line(),
            Some(Err(LineError::TooLong { limit: 4 }))
        );
        assert!(lines.is_discarding());
        assert_eq!(lines.buffered_len(), 0);
        lines.push(b"ghij\r");
        assert_eq!(lines.next_line(), None);
        assert_eq!(lines.buffered_len(), 0);
        lines.push(b"\nok\r\n");
        assert!(!lines.is_discarding());
        assert_eq!(lines.next_line(), Some(Ok(Bytes::from_static(b"ok"))));
        assert_eq!(lines.next_line(), None);
    }

    #[test]
    fn too_long_with_trailing_cr_then_lf() {
        let mut lines = LineBuffer::new(2);
        lines.push(b"abc\r");
        assert_eq!(
            lines.next_line(),
            Some(Err(LineError::TooLong { limit: 2 }))
        );
        lines.push(b"\nx\r\n");
        assert_eq!(lines.next_line(), Some(Ok(Bytes::from_static(b"x"))));
    }

    #[test]
    fn discarding_ignores_bare_lf_and_bare_cr() {
        let mut lines = LineBuffer::new(2);
        lines.push(b"abcd");
        assert!(lines.next_line().unwrap().is_err());
        lines.push(b"\n\r");
        lines.push(b"x\r");
        lines.push(b"\r");
        assert!(lines.is_discarding());
        lines.push(b"\nok\r\n");
        assert_eq!(drain(&mut lines), vec![Ok(b"ok".to_vec())]);
    }

    #[test]
    fn take_buffered_hands_out_the_rest_untouched() {
        let mut lines = LineBuffer::new(4);
        lines.push(b"DATA\r\nthis line is long\r\n.\r\n");
        assert_eq!(lines.next_line(), Some(Ok(Bytes::from_static(b"DATA"))));
        assert_eq!(&lines.take_buffered()[..], b"this line is long\r\n.\r\n");
        assert_eq!(lines.buffered_len(), 0);
        assert_eq!(lines.next_line(), None);
        lines.push(b"QUIT\r\n");
        assert_eq!(lines.next_line(), Some(Ok(Bytes::from_static(b"QUIT"))));
    }

    #[test]
    fn take_buffered_after_partial_scan() {
        let mut lines = LineBuffer::new(100);
        lines.push(b"abc");
        assert_eq!(lines.next_line(), None);
        assert_eq!(&lines.take_buffered()[..], b"abc");
        lines.push(b"\r\n");
        // The scan offset was reset: the CRLF ends an empty line.
        assert_eq!(lines.next_line(), Some(Ok(Bytes::new())));
    }

    #[test]
    fn clear_drops_everything_including_discarding() {
        let mut lines = LineBuffer::new(2);
        lines.push(b"STARTTLS\r\nEVIL\r\n");
        assert!(lines.next_line().unwrap().is_err());
        lines.clear();
        assert_eq!(lines.buffered_len(), 0);
        assert_eq!(lines.next_line(), None);

        lines.push(b"abcdef");
        assert!(lines.next_line().unwrap().is_err());
        assert!(lines.is_discarding());
        lines.clear();
        assert!(!lines.is_discarding());
        lines.push(b"ok\r\n");
        assert_eq!(lines.next_line(), Some(Ok(Bytes::from_static(b"ok"))));
    }

    #[test]
    fn set_max_line_len_applies_to_the_current_line() {
        let mut lines = LineBuffer::new(2);
        lines.push(b"abc");
        lines.set_max_line_len(10);
        assert_eq!(lines.max_line_len(), 10);
        assert_eq!(lines.next_line(), None);
        lines.push(b"\r\n");
        assert_eq!(lines.next_line(), Some(Ok(Bytes::from_static(b"abc"))));
    }

    #[test]
    fn zero_limit_allows_only_empty_lines() {
        let mut lines = LineBuffer::new(0);
        lines.push(b"\r\n\r");
        assert_eq!(lines.next_line(), Some(Ok(Bytes::new())));
        assert_eq!(lines.next_line(), None);
        lines.push(b"x");
        assert_eq!(
            lines.next_line(),
            Some(Err(LineError::TooLong { limit: 0 }))
        );
    }

    #[test]
    fn memory_of_a_huge_push_is_given_back() {
        let mut lines = LineBuffer::new(1000);
        lines.push(&vec![b'x'; 1 << 20]);
        assert!(lines.buf.capacity() >= 1 << 20);
        assert!(lines.next_line().unwrap().is_err());
        assert!(lines.buf.capacity() <= KEEP_CAPACITY);

        lines.clear();
        lines.push(&vec![b'\r'; 1 << 20]);
        lines.clear();
        assert!(lines.buf.capacity() <= KEEP_CAPACITY);
    }

    #[test]
    fn error_display() {
        assert_eq!(
            LineError::TooLong { limit: 510 }.to_string(),
            "line longer than 510 octets"
        );
    }
}
