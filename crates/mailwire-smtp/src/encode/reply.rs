//! The SMTP reply serializer, the exact inverse of [`crate::parse::parse_reply`].

use crate::types::Reply;

/// Appends `reply`'s wire form to `out`; the same as [`Reply::encode`].
pub fn encode_reply(reply: &Reply, out: &mut Vec<u8>) {
    reply.encode(out);
}

impl Reply {
    /// Appends the reply's wire form to `out`: every line but the last as
    /// `code "-" [enhanced SP] text CRLF`, the last as `code SP [enhanced SP] text CRLF`.
    ///
    /// The enhanced status code, if any, is written at the start of every line (RFC 2034),
    /// followed by a space only when the line has text. The last line always has the space
    /// after the code, even with no text (`250 `): some clients, Go's `net/textproto`
    /// among them, refuse a bare `250`.
    ///
    /// ```
    /// use mailwire_smtp::types::Reply;
    /// let reply = Reply::multiline(250, ["2.0.0 first", "", "last"]).unwrap();
    /// let mut out = Vec::new();
    /// reply.encode(&mut out);
    /// assert_eq!(out, b"250-2.0.0 first\r\n250-2.0.0\r\n250 2.0.0 last\r\n");
    /// ```
    pub fn encode(&self, out: &mut Vec<u8>) {
        let digits = self.code().digits();
        let enhanced = self.enhanced();
        // One reservation that fits a one-line reply (most of them): code, separator,
        // `5.999.999 `, CRLF add at most 16 octets to the text. Further lines grow the
        // buffer as needed.
        let text = self.text();
        out.reserve(text.len() + 16);
        let mut rest = Some(text.as_bytes());
        while let Some(text) = rest {
            // The lines are joined by `\n`; a line holds none.
            let (line, next) = match memchr::memchr(b'\n', text) {
                Some(i) => (
                    text.get(..i).unwrap_or_default(),
                    Some(text.get(i + 1..).unwrap_or_default()),
                ),
                None => (text, None),
            };
            out.extend_from_slice(&digits);
            out.push(if next.is_some() { b'-' } else { b' ' });
            if let Some(enhanced) = enhanced {
                enhanced.write_to(out);
                if !line.is_empty() {
                    out.push(b' ');
                }
            }
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
            rest = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::types::Reply;

    #[test]
    fn empty_lines_and_codes() {
        assert_eq!(Reply::new(250, "").unwrap().to_bytes(), b"250 \r\n");
        assert_eq!(
            Reply::multiline(250, ["", ""]).unwrap().to_bytes(),
            b"250-\r\n250 \r\n"
        );
        assert_eq!(
            Reply::with_enhanced(550, (5, 1, 1), "").unwrap().to_bytes(),
            b"550 5.1.1\r\n"
        );
        assert_eq!(
            Reply::with_enhanced(451, (4, 10, 100), " x")
                .unwrap()
                .to_bytes(),
            b"451 4.10.100  x\r\n"
        );
    }
}
