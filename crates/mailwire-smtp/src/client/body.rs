//! Sending the message content: `DATA` pieces dot-stuffed with [`DotEncoder`], `BDAT`
//! chunks CRLF-normalised (or left alone for `BINARYMIME`), and the sizes declared in
//! `SIZE=`.

use bytes::Bytes;
use mailwire_core::dot::{CrlfNormalizer, DotEncoder, MessageScan, scan_message};

use crate::types::Command;

/// How the content of a message is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `DATA`, dot-stuffed, stray CR and LF turned into CRLF.
    Data,
    /// `BDAT` chunks (RFC 3030): CRLF-normalised, or as given when `binary`.
    Bdat {
        /// `BODY=BINARYMIME`: the octets are sent untouched.
        binary: bool,
    },
}

/// The size of the message as the server will count it (RFC 1870: the content with CRLF
/// line ends, without dot-stuffing or the terminator).
#[cfg(test)]
pub(crate) fn declared_size(kind: BodyKind, message: &[u8]) -> u64 {
    measure(kind, message, None).0
}

/// The size to declare (see `declared_size`), and whether the message is clean: it holds
/// no bare CR and no bare LF (always `false` for `BINARYMIME`, which is not looked at).
/// The content of a clean message is stuffed with [`BodyStream::data_clean`]. `scan` is
/// [`scan_message`] of `message` if the caller has it already.
pub(crate) fn measure(kind: BodyKind, message: &[u8], scan: Option<MessageScan>) -> (u64, bool) {
    let len = message.len() as u64;
    let bare = || {
        scan.unwrap_or_else(|| scan_message(message))
            .bare_line_endings
    };
    match kind {
        BodyKind::Bdat { binary: true } => (len, false),
        BodyKind::Bdat { binary: false } => {
            let bare = bare();
            (len + bare, bare == 0)
        }
        BodyKind::Data => {
            // `DotEncoder::finish` adds CRLF after a last line without a line end.
            let unterminated = message.last().is_some_and(|&b| b != b'\n' && b != b'\r');
            let bare = bare();
            (len + bare + if unterminated { 2 } else { 0 }, bare == 0)
        }
    }
}

/// Appends the command line of a `BDAT` chunk of `payload` octets, `last` or not:
/// `BDAT n [LAST]` CRLF.
pub(crate) fn bdat_header(payload: usize, last: bool, out: &mut Vec<u8>) {
    Command::Bdat {
        size: payload as u64,
        last,
    }
    .encode(out);
}

/// One step of a [`BodyStream`].
pub(crate) enum Piece {
    /// `DATA` content; `last` when it ends with the terminator.
    Data {
        /// The stuffed bytes.
        bytes: Bytes,
        /// Whether the terminator `.` CRLF is included.
        last: bool,
    },
    /// One `BDAT` chunk: its payload (the command line is [`bdat_header`] of it).
    Chunk {
        /// The octets.
        payload: Bytes,
        /// Whether this is `BDAT ... LAST`.
        last: bool,
    },
}

/// The content of one message being sent, produced a piece at a time so that the whole
/// stuffed or normalised message never exists at once.
#[derive(Debug)]
pub(crate) struct BodyStream {
    message: Bytes,
    pos: usize,
    finished: bool,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    Dot(DotEncoder),
    /// `DATA` content without bare line endings: [`DotEncoder::encode_crlf_clean`].
    CleanDot(DotEncoder),
    Chunks(Option<CrlfNormalizer>),
}

impl BodyStream {
    /// The content of `DATA`, after `354`.
    pub(crate) fn data(message: Bytes) -> BodyStream {
        BodyStream {
            message,
            pos: 0,
            finished: false,
            mode: Mode::Dot(DotEncoder::new()),
        }
    }

    /// The content of `DATA`, after `354`, for a message that [`measure`] found clean:
    /// the same bytes as [`data`](Self::data) gives, produced faster.
    pub(crate) fn data_clean(message: Bytes) -> BodyStream {
        BodyStream {
            message,
            pos: 0,
            finished: false,
            mode: Mode::CleanDot(DotEncoder::new()),
        }
    }

    /// The content as `BDAT` chunks.
    pub(crate) fn bdat(message: Bytes, binary: bool) -> BodyStream {
        BodyStream {
            message,
            pos: 0,
            finished: false,
            mode: Mode::Chunks((!binary).then(CrlfNormalizer::default)),
        }
    }

    /// Whether `DATA` content (not `BDAT` chunks) is being sent.
    pub(crate) fn is_data(&self) -> bool {
        matches!(self.mode, Mode::Dot(_) | Mode::CleanDot(_))
    }

    /// The next piece, of at most `size` octets of the message as given (at least one).
    /// `None` once the last piece has been produced.
    pub(crate) fn next_piece(&mut self, size: usize) -> Option<Piece> {
        if self.finished {
            return None;
        }
        let mut end = self.pos.saturating_add(size.max(1)).min(self.message.len());
        if matches!(self.mode, Mode::Chunks(Some(_)))
            && self.message.get(end.wrapping_sub(1)) == Some(&b'\r')
            && self.message.get(end) == Some(&b'\n')
        {
            // Never end a normalised chunk between CR and LF: a server checking each
            // chunk for bare line endings would see one.
            end += 1;
        }
        let raw = self.message.slice(self.pos..end);
        self.pos = end;
        let last = end == self.message.len();
        self.finished = last;
        Some(match &mut self.mode {
            Mode::Dot(encoder) => {
                let mut out = Vec::with_capacity(raw.len() + raw.len() / 32 + 8);
                encoder.encode(&raw, &mut out);
                if last {
                    encoder.finish(&mut out);
                }
                Piece::Data {
                    bytes: Bytes::from(out),
                    last,
                }
            }
            Mode::CleanDot(encoder) => {
                let mut out = Vec::with_capacity(raw.len() + raw.len() / 32 + 8);
                encoder.encode_crlf_clean(&raw, &mut out);
                if last {
                    encoder.finish(&mut out);
                }
                Piece::Data {
                    bytes: Bytes::from(out),
                    last,
                }
            }
            Mode::Chunks(normaliser) => {
                let payload = match normaliser {
                    None => raw,
                    Some(normaliser) => {
                        let mut out = Vec::with_capacity(raw.len() + raw.len() / 32 + 2);
                        normaliser.push(&raw, &mut out);
                        // A CR that ends the chunk is not followed by LF (see above): it
                        // is bare, and completed here, within the chunk.
                        normaliser.finish(&mut out);
                        Bytes::from(out)
                    }
                };
                Piece::Chunk { payload, last }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalise_in(pieces: &[&[u8]]) -> Vec<u8> {
        let mut n = CrlfNormalizer::default();
        let mut out = Vec::new();
        for piece in pieces {
            n.push(piece, &mut out);
        }
        n.finish(&mut out);
        out
    }

    #[test]
    fn normaliser_fixes_bare_endings_in_any_split() {
        let input: &[u8] = b"a\rb\nc\r\nd\r\r\n\n\r";
        let want: &[u8] = b"a\r\nb\r\nc\r\nd\r\n\r\n\r\n\r\n";
        assert_eq!(normalise_in(&[input]), want);
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            assert_eq!(normalise_in(&[a, b]), want, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(normalise_in(&bytes), want);
        assert_eq!(normalise_in(&[b"", b"x\r", b"", b"\n"]), b"x\r\n");
    }

    #[test]
    fn sizes_match_what_is_sent() {
        for message in [
            &b""[..],
            b"x",
            b"x\r\n",
            b"a\nb\rc\r\n.d",
            b"\r",
            b"\n\n",
            b"..\r\n.\r\n",
        ] {
            for (kind, binary) in [
                (BodyKind::Data, false),
                (BodyKind::Bdat { binary: false }, false),
                (BodyKind::Bdat { binary: true }, true),
            ] {
                let mut stream = match kind {
                    BodyKind::Data => BodyStream::data(Bytes::copy_from_slice(message)),
                    BodyKind::Bdat { .. } => {
                        BodyStream::bdat(Bytes::copy_from_slice(message), binary)
                    }
                };
                let mut content = Vec::new();
                while let Some(piece) = stream.next_piece(2) {
                    match piece {
                        Piece::Data { bytes, .. } => content.extend_from_slice(&bytes),
                        Piece::Chunk { payload, .. } => content.extend_from_slice(&payload),
                    }
                }
                if kind == BodyKind::Data {
                    let mut decoded = Vec::new();
                    let status =
                        mailwire_core::dot::DotDecoder::new().decode(&content, &mut decoded);
                    assert!(status.done);
                    content = decoded;
                }
                assert_eq!(
                    declared_size(kind, message),
                    content.len() as u64,
                    "{kind:?} {:?}",
                    String::from_utf8_lossy(message)
                );
            }
        }
    }

    #[test]
    fn normalised_chunks_never_split_crlf() {
        let mut stream = BodyStream::bdat(Bytes::from_static(b"ab\r\ncd\r\re"), false);
        let mut payloads = Vec::new();
        while let Some(Piece::Chunk { payload, .. }) = stream.next_piece(3) {
            payloads.push(payload);
        }
        assert_eq!(payloads, [&b"ab\r\n"[..], b"cd\r\n", b"\r\ne"]);
        for size in 1..12 {
            let mut stream = BodyStream::bdat(Bytes::from_static(b"\r\r\n\r\rx\r\n\n\r"), false);
            let mut content = Vec::new();
            while let Some(Piece::Chunk { payload, .. }) = stream.next_piece(size) {
                assert!(!payload.ends_with(b"\r"), "size {size}");
                assert!(!payload.starts_with(b"\n"), "size {size}");
                content.extend_from_slice(&payload);
            }
            assert_eq!(content, b"\r\n\r\n\r\n\r\nx\r\n\r\n\r\n", "size {size}");
        }
        let mut binary = BodyStream::bdat(Bytes::from_static(b"ab\r\ncd"), true);
        let Some(Piece::Chunk { payload, .. }) = binary.next_piece(3) else {
            panic!("a chunk")
        };
        assert_eq!(payload, &b"ab\r"[..]);
    }

    #[test]
    fn chunks_carry_their_exact_length() {
        let mut stream = BodyStream::bdat(Bytes::from_static(b"ab\ncd\n"), false);
        let mut wire = Vec::new();
        while let Some(Piece::Chunk { payload, last }) = stream.next_piece(3) {
            bdat_header(payload.len(), last, &mut wire);
            wire.extend_from_slice(&payload);
        }
        assert_eq!(wire, b"BDAT 4\r\nab\r\nBDAT 4 LAST\r\ncd\r\n");
        let mut empty = BodyStream::bdat(Bytes::new(), true);
        let Some(Piece::Chunk { payload, last }) = empty.next_piece(10) else {
            panic!("an empty message is one empty chunk")
        };
        let mut header = Vec::new();
        bdat_header(payload.len(), last, &mut header);
        assert_eq!(
            (&header[..], payload.len(), last),
            (&b"BDAT 0 LAST\r\n"[..], 0, true)
        );
        assert!(empty.next_piece(10).is_none());
    }

    /// All `DATA` pieces of `stream`, joined.
    fn stream_all(mut stream: BodyStream, size: usize) -> Vec<u8> {
        let mut wire = Vec::new();
        while let Some(piece) = stream.next_piece(size) {
            let Piece::Data { bytes, .. } = piece else {
                panic!("DATA pieces")
            };
            wire.extend_from_slice(&bytes);
        }
        wire
    }

    #[test]
    fn clean_stuffing_is_the_encoders() {
        for message in [
            &b""[..],
            b".",
            b"x",
            b".\r\n",
            b"..\r\n.\r\n",
            b"a\r\n.b\r\n\r\n.\r\n.",
            b"no line end.",
            b"\r\n\r\n.x\r\n",
        ] {
            let (_, clean) = measure(BodyKind::Data, message, None);
            assert!(clean, "{:?}", String::from_utf8_lossy(message));
            for size in 1..=message.len().max(1) + 1 {
                let bytes = Bytes::copy_from_slice(message);
                assert_eq!(
                    stream_all(BodyStream::data_clean(bytes.clone()), size),
                    stream_all(BodyStream::data(bytes), size),
                    "{:?} in pieces of {size}",
                    String::from_utf8_lossy(message)
                );
            }
        }
        for message in [&b"\r"[..], b"\n", b"a\nb", b"a\rb\r\n", b"a\r\n\n"] {
            assert!(!measure(BodyKind::Data, message, None).1);
        }
    }

    proptest::proptest! {
        #[test]
        fn clean_stuffing_matches_the_encoder_in_any_pieces(
            lines in proptest::collection::vec("[.a-z ]{0,6}", 0..12),
            end in proptest::bool::ANY,
            size in 1usize..40,
        ) {
            let mut message = lines.join("\r\n");
            if end && !message.is_empty() {
                message.push_str("\r\n");
            }
            let bytes = Bytes::from(message.into_bytes());
            proptest::prop_assert!(measure(BodyKind::Data, &bytes, None).1);
            let mut encoder = DotEncoder::new();
            let mut want = Vec::new();
            encoder.encode(&bytes, &mut want);
            encoder.finish(&mut want);
            proptest::prop_assert_eq!(stream_all(BodyStream::data_clean(bytes), size), want);
        }
    }
}
