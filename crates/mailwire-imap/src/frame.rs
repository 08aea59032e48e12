//! The framing layer: where a command or response ends, across literals.
//!
//! IMAP messages are CRLF lines, except that a line ending in a literal announcement
//! (`{n}`, `{n+}` or `~{n}` before CRLF) continues after n bytes of data. The [`Framer`]
//! finds these boundaries as input arrives in arbitrary pieces, scanning each byte once:
//! it keeps its position between calls, so input is never scanned again from the start as
//! it grows. A complete message comes out as one [`Frame::Message`] holding the bytes as
//! received (no copy: it is split off the input buffer), ready for
//! [`parse::command`](crate::parse::command) or [`parse::response`](crate::parse::response).
//!
//! Reading commands (the server side), a synchronizing literal (`{n}`) stops the framer with
//! [`Frame::LiteralRequest`]: the server answers `+` and calls [`Framer::accept_literal`], or
//! answers a tagged `NO` and calls [`Framer::reject_literal`] (the client then does not send
//! the data). A literal over the configured limit is refused by the framer itself with
//! [`FrameError::LiteralTooLarge`] before the client sends it.
//!
//! Limits on line length, literal size and message size are enforced; after a violation the
//! framer drops the offending message (including literal data that the peer sends anyway)
//! and carries on with the next one, so that the session can answer `BAD` and go on.
//!
//! Literals at or above [`FramerConfig::stream_literals_from`] are not buffered: the message
//! comes out as [`Frame::StreamHead`] (the text up to and including the announcement), then
//! [`Frame::StreamChunk`]s as the data arrives, then more heads and chunks for further large
//! literals, then [`Frame::StreamTail`] with the rest of the message. A server can write a
//! 50 MiB `APPEND` to disk this way, a client a 50 MiB `BODY[]`.

use bytes::{Buf, Bytes, BytesMut};

use crate::types::{Tag, is_tag_char};

/// Which side of the connection the framer reads for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A server reading commands: synchronizing literals wait for a decision.
    Server,
    /// A client reading responses: literal data always follows at once.
    Client,
}

/// Limits and behaviour of a [`Framer`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FramerConfig {
    /// Which side reads.
    pub role: Role,
    /// Longest line (text between literals, CRLF included). Default 64 KiB.
    pub max_line: usize,
    /// Largest literal. Default 64 MiB.
    pub max_literal: u32,
    /// Largest message held in memory (lines and buffered literals). Default 64 MiB.
    pub max_message: usize,
    /// Literals of at least this many bytes are handed out in pieces instead of buffered.
    /// Default `None`: every literal is buffered (within `max_message`).
    pub stream_literals_from: Option<u32>,
    /// (Server role.) Largest non-synchronizing literal (`{n+}`) accepted: `Some(4096)` for
    /// a server that advertises LITERAL- (RFC 7888). A larger one is reported as
    /// [`FrameError::LiteralTooLarge`] and its data skipped (answer `tag BAD [TOOBIG]`).
    /// Default `None`: only `max_literal` applies.
    pub max_nonsync_literal: Option<u32>,
}

impl FramerConfig {
    /// The defaults for `role`.
    pub fn new(role: Role) -> FramerConfig {
        FramerConfig {
            role,
            max_line: 64 * 1024,
            max_literal: 64 * 1024 * 1024,
            max_message: 64 * 1024 * 1024,
            stream_literals_from: None,
            max_nonsync_literal: None,
        }
    }
    /// Sets [`FramerConfig::max_nonsync_literal`].
    pub fn max_nonsync_literal(mut self, n: Option<u32>) -> Self {
        self.max_nonsync_literal = n;
        self
    }
    /// Sets [`FramerConfig::max_line`].
    pub fn max_line(mut self, n: usize) -> Self {
        self.max_line = n;
        self
    }
    /// Sets [`FramerConfig::max_literal`].
    pub fn max_literal(mut self, n: u32) -> Self {
        self.max_literal = n;
        self
    }
    /// Sets [`FramerConfig::max_message`].
    pub fn max_message(mut self, n: usize) -> Self {
        self.max_message = n;
        self
    }
    /// Sets [`FramerConfig::stream_literals_from`].
    pub fn stream_literals_from(mut self, n: Option<u32>) -> Self {
        self.stream_literals_from = n;
        self
    }
}

/// What the framer found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// A complete command or response, CRLF included, with its literals.
    Message(Bytes),
    /// (Server role.) The client announced a synchronizing literal and waits: answer `+` and
    /// call [`Framer::accept_literal`], or answer `tag NO …` and call
    /// [`Framer::reject_literal`]. The framer yields nothing until one of them is called.
    LiteralRequest {
        /// The command's tag, if it has a valid one.
        tag: Option<Tag>,
        /// The announced length.
        length: u32,
        /// Whether it is a `literal8` (`~{n}`).
        binary: bool,
    },
    /// The text of a message up to and including the announcement of a literal that is
    /// handed out in pieces (the first head starts the message, later ones follow a streamed
    /// literal).
    StreamHead {
        /// The text, ending with `{n}` CRLF.
        text: Bytes,
        /// The literal's length.
        length: u32,
    },
    /// A piece of a streamed literal's data.
    StreamChunk {
        /// The data.
        data: Bytes,
        /// Whether it is the literal's last piece.
        last: bool,
    },
    /// The rest of a message after its last streamed literal, CRLF included (it may hold
    /// further, buffered literals).
    StreamTail(Bytes),
    /// A limit was exceeded; the message has been (or is being) dropped.
    Error(FrameError),
}

/// A limit the peer exceeded. The framer recovers by itself: it drops the message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A line was longer than [`FramerConfig::max_line`].
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The message's tag, if known.
        tag: Option<Tag>,
        /// The limit.
        limit: usize,
    },
    /// A literal was larger than [`FramerConfig::max_literal`]. For a synchronizing literal
    /// read by a server, the client has not sent it: answer `tag NO` (or `BAD`).
    #[error("literal of {length} bytes is over the limit of {limit}")]
    LiteralTooLarge {
        /// The message's tag, if known.
        tag: Option<Tag>,
        /// The announced length.
        length: u64,
        /// The limit.
        limit: u32,
        /// Whether the peer waits for an answer instead of sending the data.
        synchronizing: bool,
    },
    /// A message would hold more than [`FramerConfig::max_message`] bytes in memory.
    #[error("message larger than {limit} bytes")]
    MessageTooLarge {
        /// The message's tag, if known.
        tag: Option<Tag>,
        /// The limit.
        limit: usize,
        /// Whether the peer waits for an answer instead of sending the data.
        synchronizing: bool,
    },
}

impl FrameError {
    /// The tag of the message concerned, if known.
    pub fn tag(&self) -> Option<&Tag> {
        match self {
            FrameError::LineTooLong { tag, .. }
            | FrameError::LiteralTooLarge { tag, .. }
            | FrameError::MessageTooLarge { tag, .. } => tag.as_ref(),
        }
    }
}

/// [`Framer::accept_literal`] or [`Framer::reject_literal`] was called while no literal
/// was waiting for a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no literal is waiting for a decision")]
pub struct NoLiteralPending;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Scanning text for the end of a line.
    Text,
    /// A literal was announced; decide whether to buffer or stream it.
    StartLiteral { length: u32 },
    /// Counting a buffered literal's bytes.
    Literal { remaining: u32 },
    /// Waiting for accept/reject.
    Decide { length: u32 },
    /// Handing out a literal's bytes.
    Stream { remaining: u32 },
    /// Dropping a literal's bytes, then the rest of the message.
    DiscardLiteral { remaining: u64 },
    /// Dropping the rest of the message.
    DiscardText,
}

/// Bytes kept while discarding, to recognise a literal announcement at the end of a line.
const WINDOW: usize = 24;

/// The literal-aware IMAP framer. See the [module documentation](self).
///
/// Feed it with [`Framer::handle_input`], then call [`Framer::poll_frame`] until it
/// returns `None`.
#[derive(Debug)]
pub struct Framer {
    config: FramerConfig,
    buf: BytesMut,
    /// End of what has been scanned of the current message (from the start of `buf`).
    scanned: usize,
    /// Where the current line starts.
    line_start: usize,
    state: State,
    /// Whether the current message has streamed parts.
    streamed: bool,
    /// The current message's tag, kept when its head has been handed out.
    tag: Option<Tag>,
    /// Bytes of the current message held in memory or already handed out as heads/tails.
    message_size: usize,
}

struct Announcement {
    length: u64,
    sync: bool,
    binary: bool,
}

/// Recognises `{n}`, `{n+}`, `~{n}`, `~{n+}` right before the final CRLF of `line`.
fn announcement(line: &[u8]) -> Option<Announcement> {
    let body = line.strip_suffix(b"}\r\n")?;
    let (body, sync) = match body.strip_suffix(b"+") {
        Some(b) => (b, false),
        None => (body, true),
    };
    let digits_start = body.iter().rposition(|b| !b.is_ascii_digit())?;
    let digits = &body[digits_start + 1..];
    if body[digits_start] != b'{' || digits.is_empty() {
        return None;
    }
    let binary = digits_start > 0 && body[digits_start - 1] == b'~';
    let length = if digits.len() > 19 {
        u64::MAX
    } else {
        digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
    };
    Some(Announcement {
        length,
        sync,
        binary,
    })
}

fn tag_of(message: &[u8]) -> Option<Tag> {
    let end = message.iter().position(|&b| !is_tag_char(b))?;
    if end == 0 || message[end] != b' ' {
        return None;
    }
    Tag::new(Bytes::copy_from_slice(&message[..end])).ok()
}

impl Framer {
    /// A framer with `config`.
    pub fn new(config: FramerConfig) -> Framer {
        Framer {
            config,
            buf: BytesMut::new(),
            scanned: 0,
            line_start: 0,
            state: State::Text,
            streamed: false,
            tag: None,
            message_size: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FramerConfig {
        &self.config
    }

    /// Adds received bytes. Call [`Framer::poll_frame`] until `None` afterwards.
    pub fn handle_input(&mut self, input: &[u8]) {
        self.buf.extend_from_slice(input);
    }

    /// Adds received bytes held in a buffer, without copying them when nothing is buffered
    /// (for a reader that reads straight into a `BytesMut`), or when `input` directly
    /// follows the buffered bytes in memory.
    pub fn handle_input_buf(&mut self, input: BytesMut) {
        if self.buf.is_empty() {
            self.buf = input;
        } else {
            self.buf.unsplit(input);
        }
    }

    /// Bytes received and not yet handed out.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Takes what has been received but not yet handed out, for a protocol switch (for
    /// example to feed it through a decompressor after `COMPRESS`). Only meaningful
    /// between messages.
    pub fn take_buffered(&mut self) -> BytesMut {
        let rest = self.buf.split();
        self.reset_message();
        self.scanned = 0;
        self.line_start = 0;
        rest
    }

    /// Whether a literal waits for [`Framer::accept_literal`] or [`Framer::reject_literal`].
    pub fn literal_pending(&self) -> bool {
        matches!(self.state, State::Decide { .. })
    }

    /// Accepts the synchronizing literal announced by [`Frame::LiteralRequest`]; the caller
    /// sends the continuation request (`+ …`).
    pub fn accept_literal(&mut self) -> Result<(), NoLiteralPending> {
        match self.state {
            State::Decide { length } => {
                self.state = State::StartLiteral { length };
                Ok(())
            }
            _ => Err(NoLiteralPending),
        }
    }

    /// Refuses the synchronizing literal announced by [`Frame::LiteralRequest`]; the caller
    /// sends a tagged `NO` or `BAD`. The command is dropped.
    pub fn reject_literal(&mut self) -> Result<(), NoLiteralPending> {
        match self.state {
            State::Decide { .. } => {
                self.drop_scanned();
                self.state = State::Text;
                Ok(())
            }
            _ => Err(NoLiteralPending),
        }
    }

    fn reset_message(&mut self) {
        self.streamed = false;
        self.tag = None;
        self.message_size = 0;
    }

    fn drop_scanned(&mut self) {
        self.buf.advance(self.scanned);
        self.scanned = 0;
        self.line_start = 0;
        self.reset_message();
    }

    fn current_tag(&self) -> Option<Tag> {
        if self.streamed {
            self.tag.clone()
        } else {
            tag_of(&self.buf[..self.scanned])
        }
    }

    /// Starts dropping the current message after an error. `scanned` covers what is
    /// dropped now; `literal` is data the peer sends anyway.
    fn discard(&mut self, literal: Option<u64>) {
        self.drop_scanned();
        self.state = match literal {
            Some(remaining) => State::DiscardLiteral { remaining },
            None => State::Text,
        };
    }

    /// The next frame, or `None` when more input is needed (or a literal waits for a
    /// decision).
    pub fn poll_frame(&mut self) -> Option<Frame> {
        loop {
            match self.state {
                State::Text => {
                    let from = self.scanned;
                    let Some(i) = memchr::memchr(b'\n', &self.buf[from..]) else {
                        self.scanned = self.buf.len();
                        if self.scanned - self.line_start > self.config.max_line {
                            let tag = self.current_tag();
                            // Keep a few bytes: an announcement may straddle the cut.
                            let keep = self.scanned.min(WINDOW);
                            self.scanned -= keep;
                            self.drop_scanned();
                            self.state = State::DiscardText;
                            return Some(Frame::Error(FrameError::LineTooLong {
                                tag,
                                limit: self.config.max_line,
                            }));
                        }
                        return None;
                    };
                    let end = from + i + 1;
                    self.scanned = end;
                    let line_len = end - self.line_start;
                    let ann = announcement(&self.buf[self.line_start..end]);
                    let waits = |a: &Announcement, role| a.sync && role == Role::Server;
                    if line_len > self.config.max_line {
                        let tag = self.current_tag();
                        let follow = ann
                            .filter(|a| !waits(a, self.config.role))
                            .map(|a| a.length);
                        self.discard(follow);
                        return Some(Frame::Error(FrameError::LineTooLong {
                            tag,
                            limit: self.config.max_line,
                        }));
                    }
                    self.message_size += line_len;
                    let Some(ann) = ann else {
                        let message = self.buf.split_to(end).freeze();
                        let streamed = self.streamed;
                        self.scanned = 0;
                        self.line_start = 0;
                        self.reset_message();
                        return Some(if streamed {
                            Frame::StreamTail(message)
                        } else {
                            Frame::Message(message)
                        });
                    };
                    let streams = self
                        .config
                        .stream_literals_from
                        .is_some_and(|t| ann.length >= u64::from(t));
                    let waits = waits(&ann, self.config.role);
                    let limit = match self.config.max_nonsync_literal {
                        Some(n) if !ann.sync && self.config.role == Role::Server => {
                            n.min(self.config.max_literal)
                        }
                        _ => self.config.max_literal,
                    };
                    if ann.length > u64::from(limit) {
                        let tag = self.current_tag();
                        self.discard((!waits).then_some(ann.length));
                        return Some(Frame::Error(FrameError::LiteralTooLarge {
                            tag,
                            length: ann.length,
                            limit,
                            synchronizing: waits,
                        }));
                    }
                    if self.message_size > self.config.max_message
                        || (!streams
                            && self.message_size as u64 + ann.length
                                > self.config.max_message as u64)
                    {
                        let tag = self.current_tag();
                        self.discard((!waits).then_some(ann.length));
                        return Some(Frame::Error(FrameError::MessageTooLarge {
                            tag,
                            limit: self.config.max_message,
                            synchronizing: waits,
                        }));
                    }
                    // Checked against max_literal (a u32) just above.
                    let length = ann.length as u32;
                    if waits {
                        self.state = State::Decide { length };
                        return Some(Frame::LiteralRequest {
                            tag: self.current_tag(),
                            length,
                            binary: ann.binary,
                        });
                    }
                    self.state = State::StartLiteral { length };
                }
                State::StartLiteral { length } => {
                    let streams = self
                        .config
                        .stream_literals_from
                        .is_some_and(|t| length >= t);
                    if streams {
                        if !self.streamed {
                            self.tag = tag_of(&self.buf[..self.scanned]);
                        }
                        self.streamed = true;
                        let text = self.buf.split_to(self.scanned).freeze();
                        self.scanned = 0;
                        self.line_start = 0;
                        self.state = State::Stream { remaining: length };
                        return Some(Frame::StreamHead { text, length });
                    }
                    self.message_size += length as usize;
                    self.state = State::Literal { remaining: length };
                }
                State::Literal { remaining } => {
                    let available = self.buf.len() - self.scanned;
                    let take = available.min(remaining as usize);
                    self.scanned += take;
                    // take <= remaining, a u32.
                    let remaining = remaining - take as u32;
                    if remaining > 0 {
                        self.state = State::Literal { remaining };
                        return None;
                    }
                    self.line_start = self.scanned;
                    self.state = State::Text;
                }
                State::Decide { .. } => return None,
                State::Stream { remaining } => {
                    if remaining == 0 {
                        self.state = State::Text;
                        return Some(Frame::StreamChunk {
                            data: Bytes::new(),
                            last: true,
                        });
                    }
                    if self.buf.is_empty() {
                        return None;
                    }
                    let take = self.buf.len().min(remaining as usize);
                    let data = self.buf.split_to(take).freeze();
                    let remaining = remaining - take as u32;
                    self.state = if remaining == 0 {
                        State::Text
                    } else {
                        State::Stream { remaining }
                    };
                    return Some(Frame::StreamChunk {
                        data,
                        last: remaining == 0,
                    });
                }
                State::DiscardLiteral { remaining } => {
                    let take = (self.buf.len() as u64).min(remaining) as usize;
                    self.buf.advance(take);
                    let remaining = remaining - take as u64;
                    if remaining > 0 {
                        self.state = State::DiscardLiteral { remaining };
                        return None;
                    }
                    self.state = State::DiscardText;
                }
                State::DiscardText => {
                    let Some(i) = memchr::memchr(b'\n', &self.buf) else {
                        let keep = self.buf.len().min(WINDOW);
                        self.buf.advance(self.buf.len() - keep);
                        return None;
                    };
                    let end = i + 1;
                    let window = &self.buf[end.saturating_sub(WINDOW)..end];
                    let follow = announcement(window)
                        .filter(|a| !(a.sync && self.config.role == Role::Server))
                        .map(|a| a.length);
                    self.buf.advance(end);
                    self.state = match follow {
                        Some(remaining) => State::DiscardLiteral { remaining },
                        None => State::Text,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(f: &mut Framer) -> Vec<Frame> {
        std::iter::from_fn(|| f.poll_frame()).collect()
    }

    #[test]
    fn announcements() {
        assert!(
            announcement(b"A1 LOGIN {5}\r\n").is_some_and(|a| a.length == 5 && a.sync && !a.binary)
        );
        assert!(announcement(b"A1 LOGIN {5+}\r\n").is_some_and(|a| !a.sync));
        assert!(announcement(b"A1 APPEND x ~{12}\r\n").is_some_and(|a| a.binary && a.length == 12));
        assert!(announcement(b"A1 X {}\r\n").is_none());
        assert!(announcement(b"A1 X {5}\n").is_none());
        assert!(announcement(b"A1 X {5 }\r\n").is_none());
        assert!(
            announcement(b"{99999999999999999999999}\r\n").is_some_and(|a| a.length == u64::MAX)
        );
    }

    #[test]
    fn client_role_frames_literals() {
        let mut f = Framer::new(FramerConfig::new(Role::Client));
        f.handle_input(b"* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n* 2 EXISTS\r\n* 3 ");
        let frames = all(&mut f);
        assert_eq!(
            frames,
            vec![
                Frame::Message(Bytes::from_static(b"* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n")),
                Frame::Message(Bytes::from_static(b"* 2 EXISTS\r\n"))
            ]
        );
        f.handle_input(b"RECENT\r\n");
        assert_eq!(
            all(&mut f),
            vec![Frame::Message(Bytes::from_static(b"* 3 RECENT\r\n"))]
        );
    }

    #[test]
    fn server_waits_for_decision() {
        let mut f = Framer::new(FramerConfig::new(Role::Server));
        f.handle_input(b"A1 LOGIN {3}\r\n");
        let tag = Tag::try_from("A1").ok();
        assert_eq!(
            all(&mut f),
            vec![Frame::LiteralRequest {
                tag,
                length: 3,
                binary: false
            }]
        );
        assert!(f.literal_pending());
        f.handle_input(b"bob pw\r\n");
        assert_eq!(all(&mut f), vec![]);
        f.accept_literal().unwrap();
        assert_eq!(
            all(&mut f),
            vec![Frame::Message(Bytes::from_static(
                b"A1 LOGIN {3}\r\nbob pw\r\n"
            ))]
        );
        assert_eq!(f.accept_literal(), Err(NoLiteralPending));
    }

    #[test]
    fn server_rejects_and_goes_on() {
        let mut f = Framer::new(FramerConfig::new(Role::Server));
        f.handle_input(b"A1 APPEND x {300}\r\n");
        assert!(matches!(
            all(&mut f)[..],
            [Frame::LiteralRequest { length: 300, .. }]
        ));
        f.reject_literal().unwrap();
        f.handle_input(b"A2 NOOP\r\n");
        assert_eq!(
            all(&mut f),
            vec![Frame::Message(Bytes::from_static(b"A2 NOOP\r\n"))]
        );
    }

    #[test]
    fn oversized_literals_are_refused_and_skipped() {
        let cfg = FramerConfig::new(Role::Server).max_literal(4);
        let mut f = Framer::new(cfg.clone());
        f.handle_input(b"A1 APPEND x {5}\r\nA2 NOOP\r\n");
        let frames = all(&mut f);
        assert!(matches!(
            &frames[0],
            Frame::Error(FrameError::LiteralTooLarge {
                synchronizing: true,
                length: 5,
                ..
            })
        ));
        assert_eq!(
            frames[0].clone(),
            Frame::Error(FrameError::LiteralTooLarge {
                tag: Tag::try_from("A1").ok(),
                length: 5,
                limit: 4,
                synchronizing: true
            })
        );
        assert_eq!(
            frames[1],
            Frame::Message(Bytes::from_static(b"A2 NOOP\r\n"))
        );
        // A non-synchronizing one is sent anyway: its data is skipped.
        let mut f = Framer::new(cfg);
        f.handle_input(b"A1 APPEND x {5+}\r\nA3 XX rest\r\nA2 NOOP\r\n");
        let frames = all(&mut f);
        assert!(matches!(
            &frames[0],
            Frame::Error(FrameError::LiteralTooLarge {
                synchronizing: false,
                ..
            })
        ));
        assert_eq!(
            frames[1],
            Frame::Message(Bytes::from_static(b"A2 NOOP\r\n"))
        );
        assert_eq!(frames.len(), 2);
    }

    #[test]
    fn literal_minus_limits_non_synchronizing_literals() {
        let cfg = FramerConfig::new(Role::Server).max_nonsync_literal(Some(4));
        let mut f = Framer::new(cfg);
        f.handle_input(b"A1 LOGIN {4+}\r\nabcd {5+}\r\nabcde\r\nA2 LOGIN {5}\r\n");
        let frames = all(&mut f);
        assert!(matches!(
            &frames[0],
            Frame::Error(FrameError::LiteralTooLarge {
                limit: 4,
                length: 5,
                synchronizing: false,
                ..
            })
        ));
        // A synchronizing literal of the same size is fine.
        assert!(matches!(
            &frames[1],
            Frame::LiteralRequest { length: 5, .. }
        ));
        assert_eq!(frames.len(), 2);
    }

    #[test]
    fn long_lines_are_skipped() {
        let mut f = Framer::new(FramerConfig::new(Role::Server).max_line(16));
        f.handle_input(b"A1 SEARCH TEXT aaaaaaaaaaaaaaaa");
        let frames = all(&mut f);
        assert!(matches!(
            &frames[..],
            [Frame::Error(FrameError::LineTooLong {
                tag: Some(_),
                limit: 16
            })]
        ));
        f.handle_input(b"aaaaaaaaaaaaa\r\nA2 NOOP\r\n");
        assert_eq!(
            all(&mut f),
            vec![Frame::Message(Bytes::from_static(b"A2 NOOP\r\n"))]
        );
    }

    #[test]
    fn streams_large_literals() {
        let cfg = FramerConfig::new(Role::Client).stream_literals_from(Some(4));
        let mut f = Framer::new(cfg);
        f.handle_input(b"* 1 FETCH (BODY[] {6}\r\nabc");
        assert_eq!(
            all(&mut f),
            vec![
                Frame::StreamHead {
                    text: Bytes::from_static(b"* 1 FETCH (BODY[] {6}\r\n"),
                    length: 6
                },
                Frame::StreamChunk {
                    data: Bytes::from_static(b"abc"),
                    last: false
                },
            ]
        );
        f.handle_input(b"def UID 4 X {2}\r\nxy)\r\n");
        assert_eq!(
            all(&mut f),
            vec![
                Frame::StreamChunk {
                    data: Bytes::from_static(b"def"),
                    last: true
                },
                Frame::StreamTail(Bytes::from_static(b" UID 4 X {2}\r\nxy)\r\n")),
            ]
        );
    }
}
