//! Checks for the `imap_*` fuzz targets (and the test that replays their corpora).
//!
//! Not part of the public API.

use bytes::Bytes;

use crate::frame::{Frame, Framer, FramerConfig, Role};
use crate::parse;

/// Frames `data` (in two pieces, split where its first byte says) and returns the frames;
/// every literal request is accepted. Checks that the split gives the same frames as
/// feeding everything at once.
fn frames(role: Role, data: &[u8]) -> Vec<Frame> {
    let config = FramerConfig::new(role)
        .max_line(4096)
        .max_literal(1 << 16)
        .max_message(1 << 17);
    let run = |pieces: &[&[u8]]| {
        let mut f = Framer::new(config.clone());
        let mut out = Vec::new();
        for p in pieces {
            f.handle_input(p);
            while let Some(frame) = f.poll_frame() {
                if matches!(frame, Frame::LiteralRequest { .. }) {
                    // Invariant: a request means a literal is pending.
                    f.accept_literal().expect("a literal is pending");
                }
                out.push(frame);
            }
        }
        assert!(f.buffered() <= data.len());
        out
    };
    let whole = run(&[data]);
    let split = data
        .first()
        .map_or(0, |&b| usize::from(b) % (data.len() + 1));
    let pieces = run(&[&data[..split], &data[split..]]);
    assert_eq!(whole, pieces, "framing depends on how the input is split");
    whole
}

/// Parses every command framed out of `data`; each one that parses must encode to bytes
/// that parse to the same command and encode to the same bytes.
pub fn command(data: &[u8]) {
    for frame in frames(Role::Server, data) {
        let Frame::Message(m) = frame else { continue };
        let Ok(c) = parse::command(&m) else { continue };
        let mut first = Vec::new();
        c.encode_into(&mut first);
        assert_eq!(
            c.encode().to_vec(),
            first,
            "fragments and flat encoding differ"
        );
        let again = parse::command(&Bytes::from(first.clone())).unwrap_or_else(|e| {
            panic!(
                "re-parse failed: {e}: {:?} from {c:?}",
                String::from_utf8_lossy(&first)
            )
        });
        assert_eq!(again, c, "decode(encode(x)) != x");
        let mut second = Vec::new();
        again.encode_into(&mut second);
        assert_eq!(first, second, "encode(decode(encode(x))) != encode(x)");
    }
}

/// Parses every response framed out of `data`, with the same checks as [`command`].
pub fn response(data: &[u8]) {
    for frame in frames(Role::Client, data) {
        let Frame::Message(m) = frame else { continue };
        let Ok(r) = parse::response(&m) else { continue };
        let mut first = Vec::new();
        r.encode_into(&mut first);
        assert_eq!(
            r.encode().to_vec(),
            first,
            "fragments and flat encoding differ"
        );
        let again = parse::response(&Bytes::from(first.clone())).unwrap_or_else(|e| {
            panic!(
                "re-parse failed: {e}: {:?} from {r:?}",
                String::from_utf8_lossy(&first)
            )
        });
        assert_eq!(again, r, "decode(encode(x)) != x");
        let mut second = Vec::new();
        again.encode_into(&mut second);
        assert_eq!(first, second, "encode(decode(encode(x))) != encode(x)");
    }
}

/// Frames `data` in one-byte pieces with streaming of literals from 4 bytes on, and checks
/// that the concatenation of everything handed out is a prefix of the input with only
/// dropped messages missing, and that streamed pieces add up to their announced lengths.
pub fn frame(data: &[u8]) {
    let role = if data.first().is_some_and(|b| b & 1 == 1) {
        Role::Server
    } else {
        Role::Client
    };
    let config = FramerConfig::new(role)
        .max_line(256)
        .max_literal(1024)
        .stream_literals_from(Some(4));
    let mut f = Framer::new(config);
    let mut handed_out = 0usize;
    let mut streaming: Option<u32> = None;
    for b in data {
        f.handle_input(std::slice::from_ref(b));
        while let Some(frame) = f.poll_frame() {
            match frame {
                Frame::Message(m) | Frame::StreamTail(m) => {
                    assert!(streaming.is_none());
                    assert!(m.ends_with(b"\n"));
                    handed_out += m.len();
                }
                Frame::StreamHead { text, length } => {
                    assert!(streaming.is_none());
                    handed_out += text.len();
                    streaming = Some(length);
                }
                Frame::StreamChunk { data, last } => {
                    let left = streaming
                        .take()
                        .expect("a chunk outside a streamed literal");
                    let left = left
                        .checked_sub(data.len() as u32)
                        .expect("a chunk longer than its literal");
                    assert_eq!(last, left == 0);
                    if !last {
                        streaming = Some(left);
                    }
                    handed_out += data.len();
                }
                Frame::LiteralRequest { .. } => {
                    // Invariant: a request means a literal is pending.
                    f.accept_literal().expect("a literal is pending");
                }
                Frame::Error(_) => {}
            }
        }
    }
    assert!(handed_out + f.buffered() <= data.len());
}
