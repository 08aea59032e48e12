//! Streaming dot-stuffing and un-stuffing: SMTP `DATA` (RFC 5321 section 4.5.2) and POP3
//! multi-line responses (RFC 1939 section 3).
//!
//! On the wire, mail content is a sequence of CRLF-terminated lines, ended by a line holding
//! a single dot: `CRLF "." CRLF`. A content line that begins with a dot is sent with one more
//! dot in front ("dot-stuffing"), and the receiver removes it.
//!
//! - [`DotDecoder`] un-stuffs, for an SMTP server reading `DATA` and a POP3 client reading a
//!   multi-line response. It finds the terminator in any chunking of the input and leaves the
//!   bytes after it to the caller (pipelined commands may follow).
//! - [`DotEncoder`] stuffs, for an SMTP client sending `DATA` and a POP3 server sending a
//!   message. It also turns every bare CR and bare LF into CRLF, as the wire demands.
//!
//! For content whose line ends are all CRLF and which is empty or ends with CRLF, encoding
//! then decoding gives the content back unchanged. Any other content comes back
//! CRLF-normalised: every bare CR and bare LF becomes CRLF, and a final CRLF is added if the
//! content did not end with one.
//!
//! ```
//! use mailwire_core::dot::{DotDecoder, DotEncoder};
//!
//! let mut wire = Vec::new();
//! let mut encoder = DotEncoder::new();
//! encoder.encode(b"Subject: hi\r\n\r\n.signature\r\n", &mut wire);
//! encoder.finish(&mut wire);
//! assert_eq!(wire, b"Subject: hi\r\n\r\n..signature\r\n.\r\n");
//!
//! wire.extend_from_slice(b"QUIT\r\n"); // a pipelined command after the data
//! let mut decoder = DotDecoder::new();
//! let mut content = Vec::new();
//! let status = decoder.decode(&wire, &mut content);
//! assert!(status.done);
//! assert_eq!(&wire[status.consumed..], b"QUIT\r\n");
//! assert_eq!(content, b"Subject: hi\r\n\r\n.signature\r\n");
//! assert!(!decoder.saw_bare_line_ending());
//! ```
//!
//! ## SMTP smuggling
//!
//! The only end of data is CR LF "." CR LF (or "." CR LF as the very first line: the empty
//! content). `LF "." LF`, `LF "." CR LF`, `CR "." CR`, `CR "." CR LF`, `CR LF "." CR` and
//! `CR LF "." LF` are content: a server that ended the data at one of them, when the next
//! server on the path does not, lets a sender smuggle a second message through. What to do
//! with bare CR and bare LF in the content is [`BareLineEndings`].

use std::sync::LazyLock;

use memchr::memmem;
use memchr::{memchr2, memchr3};

/// Below this many bytes of input left, the byte-wise path is used directly.
const FAST_MIN: usize = 32;

/// The fast path of both directions. `rest` starts where the byte before is not a CR and
/// not at a dot that starts a line (the state is "inside a line" or "at the start of a line
/// whose first byte is not a dot").
///
/// Returns `(clean, slow)`: the first `clean` bytes can be copied as they are (they hold no
/// bare CR, no bare LF, no NUL when `NUL` is set, no dot at the start of a line, and do not
/// end with a CR); after them, the next `slow` bytes (at least) must go through the byte-wise
/// path. The clean part stops just before a dot that starts a line (after its `CR LF`), or
/// before an anomaly, or at the end of `rest` (leaving out a final CR whose LF may be in the
/// next input).
///
/// It looks at each pair of neighbours once, a block at a time, in a loop the compiler
/// vectorises: a bare CR or bare LF is a pair where exactly one of "first is CR" and "second
/// is LF" holds; a dot starting a line is the pair LF, dot (the LF is then part of a CR LF,
/// or the pair before would have been caught).
fn first_segment<const NUL: bool>(rest: &[u8]) -> (usize, usize) {
    const BLOCK: usize = 64;
    const SUB: usize = 16;
    let (Some(&first), Some(&last)) = (rest.first(), rest.last()) else {
        return (0, 0);
    };
    if first == b'\n' {
        return (0, 1); // a bare LF: the byte before is not a CR
    }
    // What a pair of neighbours says: 0 for ordinary content.
    let flag = |x: u8, y: u8| {
        (u8::from(x == b'\r') ^ u8::from(y == b'\n'))
            | (u8::from(x == b'\n') & u8::from(y == b'.'))
            | (u8::from(NUL) & u8::from(x == 0))
    };
    let pairs = rest.len() - 1;
    // Whole blocks of pairs (fixed-size arrays, so the loop is vectorised) while none is
    // flagged; then sub-blocks whose flags are gathered into a bit mask (also vectorised),
    // so that the first flagged pair is found without going through the block pair by
    // pair; then the last pairs one by one.
    //
    // The block test looks at triples `x, y, z` (a byte and the two after it) and finds a
    // line-leading dot as CR, any, dot: fewer vector operations than LF, dot, as "is CR"
    // serves both tests. It flags every block in which `flag` flags a pair: a pair LF, dot
    // at `j` is seen at `j - 1` (CR, LF, dot) or is a bare LF there (any other byte, LF);
    // `j - 1` is in the block, or in the block before (which would have stopped), or
    // before `rest` (then `rest` starts with LF, returned above). It may also flag a block
    // whose only finding lies in the next one: the exact search below starts at the
    // block, so that costs time, never a wrong answer.
    let mut start = 0;
    while start + BLOCK < pairs {
        let Some((xs, ys, zs)) = triple_arrays::<BLOCK>(rest, start) else {
            break;
        };
        let mut any = 0u8;
        for k in 0..BLOCK {
            let cr = u8::from(xs[k] == b'\r');
            any |= (cr ^ u8::from(ys[k] == b'\n'))
                | (cr & u8::from(zs[k] == b'.'))
                | (u8::from(NUL) & u8::from(xs[k] == 0));
        }
        if any != 0 {
            break;
        }
        start += BLOCK;
    }
    let mut found = None;
    while start + SUB <= pairs {
        let Some((xs, ys)) = pair_arrays::<SUB>(rest, start) else {
            break;
        };
        let mut mask = 0u16;
        for k in 0..SUB {
            mask |= u16::from(flag(xs[k], ys[k]) != 0) << k;
        }
        if mask != 0 {
            found = Some(start + mask.trailing_zeros() as usize);
            break;
        }
        start += SUB;
    }
    if found.is_none() {
        found = (start..pairs).find(|&at| {
            matches!((rest.get(at), rest.get(at + 1)), (Some(&x), Some(&y)) if flag(x, y) != 0)
        });
    }
    if let Some(at) = found {
        if rest.get(at) == Some(&b'\n') && rest.get(at + 1) == Some(&b'.') {
            return (at + 1, 0);
        }
        // A bare CR, bare LF or NUL: stop before the pair, never between a CR and its LF.
        let cut = if at > 0 && rest.get(at - 1) == Some(&b'\r') {
            at - 1
        } else {
            at
        };
        return (cut, at + 2 - cut);
    }
    if last == b'\r' || (NUL && last == 0) {
        // The pair before was clean, so the byte before `last` is not a CR.
        (pairs, 1)
    } else {
        (rest.len(), 0)
    }
}

/// `rest[at..at + N]`, `rest[at + 1..at + 1 + N]` and `rest[at + 2..at + 2 + N]`: `N`
/// triples of neighbours, as arrays; `None` if `rest` is too short.
#[allow(clippy::type_complexity)]
fn triple_arrays<const N: usize>(rest: &[u8], at: usize) -> Option<(&[u8; N], &[u8; N], &[u8; N])> {
    let xs = rest.get(at..at + N)?.try_into().ok()?;
    let ys = rest.get(at + 1..at + 1 + N)?.try_into().ok()?;
    let zs = rest.get(at + 2..at + 2 + N)?.try_into().ok()?;
    Some((xs, ys, zs))
}

/// `rest[at..at + N]` and `rest[at + 1..at + 1 + N]`: the first and second bytes of `N`
/// pairs of neighbours, as arrays; `None` if `rest` is too short.
fn pair_arrays<const N: usize>(rest: &[u8], at: usize) -> Option<(&[u8; N], &[u8; N])> {
    let xs = rest.get(at..at + N)?.try_into().ok()?;
    let ys = rest.get(at + 1..at + 1 + N)?.try_into().ok()?;
    Some((xs, ys))
}

/// What a [`DotDecoder`] does with a bare CR or a bare LF (one not part of a CR LF pair) in
/// the content. Either way it never ends the data, and
/// [`saw_bare_line_ending`](DotDecoder::saw_bare_line_ending) records that one was seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BareLineEndings {
    /// Pass the content through unchanged and record the bare line ending, so that a server
    /// can refuse the message once its end has been found (RFC 5321 section 2.3.8). The
    /// default. Lines are only those ended by CR LF; a dot after a bare line ending is
    /// ordinary content.
    #[default]
    Reject,
    /// Turn each bare CR and bare LF into CR LF in the output, for peers that send bare line
    /// endings. A bare line ending then also starts a new line for un-stuffing: a dot that
    /// begins such a line is removed if more follows on the line, as the sender meant to
    /// stuff it. A line holding only a dot is the end of data only when CR LF comes both
    /// before and after it; any other such line (`LF "." LF`, `CR LF "." LF`, ...) is kept
    /// as the content line `.`, so the smuggling attempt stays visible as content, and an
    /// encoder stuffs it again when the message is relayed.
    Normalize,
}

/// What one [`DotDecoder::decode`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeStatus {
    /// How many bytes of the input were consumed. Bytes after the terminator are not
    /// consumed: they belong to whatever follows the data. Without a terminator the whole
    /// input is consumed (a few bytes, such as a dot at the start of a line, may be held
    /// inside the decoder until the next input shows what they are).
    pub consumed: usize,
    /// Whether the terminator has been found (in this call or an earlier one). Once it is,
    /// further calls consume nothing.
    pub done: bool,
}

/// Where a [`DotDecoder`] is, in terms of the bytes already consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DecodeState {
    /// At the start of a line that follows CR LF (or the start of the data).
    LineStart,
    /// Inside a line.
    Mid,
    /// Just after a CR of the content (already written out).
    Cr,
    /// After a dot that starts a line following CR LF (held back).
    Dot,
    /// After dot CR at the start of a line following CR LF (both held back).
    DotCr,
    /// `Normalize` only: at the start of a line that follows a bare CR or bare LF.
    BareStart,
    /// `Normalize` only: after a dot that starts a line following a bare line ending.
    BareDot,
    /// `Normalize` only: after dot CR at the start of a line following a bare line ending.
    BareDotCr,
    /// The terminator has been consumed.
    Done,
}

/// Un-stuffs dot-terminated content as it arrives: SMTP `DATA` on a server, a POP3
/// multi-line response on a client.
///
/// The decoder starts at the beginning of a line: give it the bytes that follow
/// `DATA` CRLF's `354` reply (or the `+OK` line of the multi-line response). It appends the
/// content to the caller's buffer, including the CRLF of the last content line and never
/// the terminator, and holds at most two bytes of state, whatever the input.
///
/// - A line starting with a dot loses that dot (`..` becomes `.`, `.x` becomes `x`).
/// - `CR LF "." CR LF` ends the data, as does `"." CR LF` at the very first byte (the empty
///   content); nothing else does (see [`BareLineEndings`]).
/// - Content without the terminator never ends: the caller decides when to give up (an idle
///   timeout, a size limit on what was decoded).
/// - NUL bytes are content; [`saw_nul`](Self::saw_nul) records them for a server that
///   refuses them.
///
/// Any chunking of the input gives the same output and the same total consumed.
///
/// Well-formed stretches (no bare line ending, no NUL, no dot at a line start) are checked a
/// block at a time and copied with one copy each; only the bytes around a line-leading dot
/// or an anomaly go through the byte-wise state machine. Feed it large chunks (tens of KiB):
/// below 32 bytes the byte-wise path is used.
///
/// ```
/// use mailwire_core::dot::{BareLineEndings, DotDecoder};
///
/// let mut decoder = DotDecoder::with_policy(BareLineEndings::Reject);
/// let mut content = Vec::new();
/// // A smuggling attempt: "\n.\n" is not the end of the data.
/// let status = decoder.decode(b"hello\n.\nMAIL FROM:<x>\r\n\r", &mut content);
/// assert_eq!((status.consumed, status.done), (24, false));
/// let status = decoder.decode(b"\n.\r\nRSET\r\n", &mut content);
/// assert_eq!((status.consumed, status.done), (4, true));
/// assert_eq!(content, b"hello\n.\nMAIL FROM:<x>\r\n\r\n");
/// assert!(decoder.saw_bare_line_ending()); // the server refuses this message
/// ```
#[derive(Clone, Debug)]
pub struct DotDecoder {
    policy: BareLineEndings,
    state: DecodeState,
    saw_bare_cr: bool,
    saw_bare_lf: bool,
    saw_nul: bool,
    decoded_len: u64,
}

impl Default for DotDecoder {
    fn default() -> Self {
        DotDecoder::new()
    }
}

impl DotDecoder {
    /// A decoder at the start of the content, with the default policy
    /// ([`BareLineEndings::Reject`]).
    pub fn new() -> Self {
        DotDecoder::with_policy(BareLineEndings::default())
    }

    /// A decoder at the start of the content, with the given policy for bare line endings.
    pub fn with_policy(policy: BareLineEndings) -> Self {
        DotDecoder {
            policy,
            state: DecodeState::LineStart,
            saw_bare_cr: false,
            saw_bare_lf: false,
            saw_nul: false,
            decoded_len: 0,
        }
    }

    /// Makes the decoder ready for new content (the next message), keeping its policy.
    pub fn reset(&mut self) {
        *self = DotDecoder::with_policy(self.policy);
    }

    /// The policy for bare line endings.
    pub fn policy(&self) -> BareLineEndings {
        self.policy
    }

    /// Whether the terminator has been found.
    pub fn is_done(&self) -> bool {
        self.state == DecodeState::Done
    }

    /// Whether a bare CR or a bare LF was seen in the content so far (under either policy).
    /// A bare CR at the very end of the input so far is not counted until the next byte
    /// shows it is not followed by LF.
    pub fn saw_bare_line_ending(&self) -> bool {
        self.saw_bare_cr || self.saw_bare_lf
    }

    /// Whether a bare CR (one not followed by LF) was seen in the content so far.
    pub fn saw_bare_cr(&self) -> bool {
        self.saw_bare_cr
    }

    /// Whether a bare LF (one not preceded by CR) was seen in the content so far.
    pub fn saw_bare_lf(&self) -> bool {
        self.saw_bare_lf
    }

    /// Whether a NUL byte was seen in the content so far.
    pub fn saw_nul(&self) -> bool {
        self.saw_nul
    }

    /// How many bytes of content this decoder has appended to the output so far, in all
    /// calls since it was made or reset: a caller that throws the content away past a size
    /// limit still knows the size.
    pub fn decoded_len(&self) -> u64 {
        self.decoded_len
    }

    /// Un-stuffs `input`, appending the content to `out`, until the terminator or the end of
    /// `input`. See [`DecodeStatus`] for what is consumed.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> DecodeStatus {
        if self.state == DecodeState::Done {
            return DecodeStatus {
                consumed: 0,
                done: true,
            };
        }
        let start_len = out.len();
        let normalize = self.policy == BareLineEndings::Normalize;
        let len = input.len();
        // Invariant: `run <= p <= len`. `input[run..p]` is content not yet copied to `out`.
        let mut run = 0;
        let mut p = 0;
        // Before this, the fast path found the content not clean: go byte-wise.
        let mut slow_until = 0;
        while p < len {
            // `p < len`: `input[p]` is in bounds.
            let byte = input[p];
            let fast = match self.state {
                DecodeState::Mid => true,
                DecodeState::LineStart => byte != b'.',
                _ => false,
            };
            if fast && p >= slow_until && len - p >= FAST_MIN {
                let rest = &input[p..];
                let (clean, slow) = if self.saw_nul {
                    first_segment::<false>(rest)
                } else {
                    first_segment::<true>(rest)
                };
                slow_until = p + clean + slow;
                if clean > 0 {
                    p += clean;
                    self.state = if input[p - 1] == b'\n' {
                        DecodeState::LineStart
                    } else {
                        DecodeState::Mid
                    };
                    continue;
                }
            }
            match self.state {
                DecodeState::Mid => {
                    let rest = &input[p..];
                    let found = if self.saw_nul {
                        memchr2(b'\r', b'\n', rest)
                    } else {
                        memchr3(b'\r', b'\n', 0, rest)
                    };
                    let Some(offset) = found else {
                        p = len;
                        break;
                    };
                    let at = p + offset;
                    p = at + 1;
                    match input[at] {
                        b'\r' => self.state = DecodeState::Cr,
                        b'\n' => {
                            self.saw_bare_lf = true;
                            if normalize {
                                out.extend_from_slice(&input[run..at]);
                                out.extend_from_slice(b"\r\n");
                                run = p;
                                self.state = DecodeState::BareStart;
                            }
                        }
                        _ => self.saw_nul = true,
                    }
                }
                DecodeState::Cr => {
                    if byte == b'\n' {
                        p += 1;
                        self.state = DecodeState::LineStart;
                    } else {
                        self.saw_bare_cr = true;
                        if normalize {
                            out.extend_from_slice(&input[run..p]);
                            out.push(b'\n');
                            run = p;
                            self.state = DecodeState::BareStart;
                        } else {
                            self.state = DecodeState::Mid;
                        }
                    }
                }
                DecodeState::LineStart | DecodeState::BareStart => {
                    if byte == b'.' {
                        out.extend_from_slice(&input[run..p]);
                        p += 1;
                        run = p;
                        self.state = if self.state == DecodeState::LineStart {
                            DecodeState::Dot
                        } else {
                            DecodeState::BareDot
                        };
                    } else {
                        self.state = DecodeState::Mid;
                    }
                }
                // In the dot states the held bytes were never part of a run: `run == p`.
                DecodeState::Dot => match byte {
                    b'\r' => {
                        p += 1;
                        run = p;
                        self.state = DecodeState::DotCr;
                    }
                    b'\n' if normalize => {
                        // The line "." ended by a bare LF: content, not the end.
                        self.saw_bare_lf = true;
                        out.extend_from_slice(b".\r\n");
                        p += 1;
                        run = p;
                        self.state = DecodeState::BareStart;
                    }
                    // A dot followed by more on the line: the dot is dropped. (Under
                    // `Reject` a LF here is a bare LF inside the line, seen by `Mid`.)
                    _ => self.state = DecodeState::Mid,
                },
                DecodeState::DotCr => {
                    if byte == b'\n' {
                        p += 1;
                        run = p;
                        self.state = DecodeState::Done;
                        break;
                    }
                    self.saw_bare_cr = true;
                    if normalize {
                        // The line "." ended by a bare CR: content.
                        out.extend_from_slice(b".\r\n");
                        self.state = DecodeState::BareStart;
                    } else {
                        // The line is "." CR and more: the dot is dropped, the CR is content.
                        out.push(b'\r');
                        self.state = DecodeState::Mid;
                    }
                }
                DecodeState::BareDot => match byte {
                    b'\r' => {
                        p += 1;
                        run = p;
                        self.state = DecodeState::BareDotCr;
                    }
                    b'\n' => {
                        self.saw_bare_lf = true;
                        out.extend_from_slice(b".\r\n");
                        p += 1;
                        run = p;
                        self.state = DecodeState::BareStart;
                    }
                    _ => self.state = DecodeState::Mid,
                },
                DecodeState::BareDotCr => {
                    // The line "." after a bare line ending is content, however it ends.
                    out.extend_from_slice(b".\r\n");
                    if byte == b'\n' {
                        p += 1;
                        run = p;
                        self.state = DecodeState::LineStart;
                    } else {
                        self.saw_bare_cr = true;
                        self.state = DecodeState::BareStart;
                    }
                }
                DecodeState::Done => break,
            }
        }
        out.extend_from_slice(&input[run..p]);
        self.decoded_len += (out.len() - start_len) as u64;
        DecodeStatus {
            consumed: p,
            done: self.state == DecodeState::Done,
        }
    }
}

/// Where a [`DotEncoder`] is, in terms of the bytes already encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EncodeState {
    /// At the start of a line (or of the content).
    LineStart,
    /// Inside a line.
    Mid,
    /// Just after a CR (already written out).
    Cr,
}

/// Dot-stuffs content as it is produced: SMTP `DATA` on a client, a POP3 multi-line response
/// on a server.
///
/// [`encode`](Self::encode) doubles a dot at the start of every line and turns each bare CR
/// and bare LF into CR LF (a CR at the end of one input may be followed by the LF at the
/// start of the next: that is one CRLF). [`finish`](Self::finish) ends the content with CRLF
/// if it did not end with one, then adds the terminator `.` CRLF. Any chunking of the input
/// gives the same output.
///
/// For content whose line ends are all CRLF and which is empty or ends with CRLF, a
/// [`DotDecoder`] gives back exactly the content; for other content it gives the
/// CRLF-normalised form (bare CR and bare LF replaced by CRLF, a final CRLF added).
///
/// ```
/// use mailwire_core::dot::DotEncoder;
///
/// let mut encoder = DotEncoder::new();
/// let mut wire = Vec::new();
/// encoder.encode(b".hidden\nlast line\r", &mut wire);
/// encoder.encode(b"\n.", &mut wire);
/// encoder.finish(&mut wire);
/// assert_eq!(wire, b"..hidden\r\nlast line\r\n..\r\n.\r\n");
/// ```
#[derive(Clone, Debug)]
pub struct DotEncoder {
    state: EncodeState,
}

impl Default for DotEncoder {
    fn default() -> Self {
        DotEncoder::new()
    }
}

impl DotEncoder {
    /// An encoder at the start of the content.
    pub fn new() -> Self {
        DotEncoder {
            state: EncodeState::LineStart,
        }
    }

    /// Stuffs `input` and appends it to `out`.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let len = input.len();
        // Invariant: `run <= p <= len`. `input[run..p]` is output not yet copied to `out`.
        let mut run = 0;
        let mut p = 0;
        out.reserve(len);
        // Before this, the fast path found the content not clean: go byte-wise.
        let mut slow_until = 0;
        while p < len {
            // `p < len`: `input[p]` is in bounds.
            let byte = input[p];
            let fast = match self.state {
                EncodeState::Mid => true,
                EncodeState::LineStart => byte != b'.',
                EncodeState::Cr => false,
            };
            if fast && p >= slow_until && len - p >= FAST_MIN {
                let rest = &input[p..];
                let (clean, slow) = first_segment::<false>(rest);
                slow_until = p + clean + slow;
                if clean > 0 {
                    p += clean;
                    self.state = if input[p - 1] == b'\n' {
                        EncodeState::LineStart
                    } else {
                        EncodeState::Mid
                    };
                    continue;
                }
            }
            match self.state {
                EncodeState::LineStart => {
                    if byte == b'.' {
                        out.extend_from_slice(&input[run..p]);
                        // The extra dot; the content's own dot stays in the run.
                        out.push(b'.');
                        run = p;
                        p += 1;
                    }
                    self.state = EncodeState::Mid;
                }
                EncodeState::Mid => {
                    let Some(offset) = memchr2(b'\r', b'\n', &input[p..]) else {
                        p = len;
                        break;
                    };
                    let at = p + offset;
                    p = at + 1;
                    if input[at] == b'\r' {
                        self.state = EncodeState::Cr;
                    } else {
                        // A bare LF.
                        out.extend_from_slice(&input[run..at]);
                        out.extend_from_slice(b"\r\n");
                        run = p;
                        self.state = EncodeState::LineStart;
                    }
                }
                EncodeState::Cr => {
                    if byte == b'\n' {
                        p += 1;
                    } else {
                        // A bare CR: complete it.
                        out.extend_from_slice(&input[run..p]);
                        out.push(b'\n');
                        run = p;
                    }
                    self.state = EncodeState::LineStart;
                }
            }
        }
        out.extend_from_slice(&input[run..p]);
    }

    /// Stuffs `input`, content that the caller knows has no bare CR and no bare LF (every
    /// line end is CR LF, as [`bare_line_endings`] `== 0` over the whole content tells), and
    /// appends it to `out`: the same bytes as [`encode`](Self::encode) gives for such
    /// content, in any pieces, found faster, since only a dot that starts a line needs work
    /// and those are found with a vectorised search for LF "." instead of a look at every
    /// pair of octets. Content that does have bare line endings is passed on with them (not
    /// normalised; never a panic): use `encode` for it. [`finish`](Self::finish) ends the
    /// content as usual.
    pub fn encode_crlf_clean(&mut self, input: &[u8], out: &mut Vec<u8>) {
        /// LF "." inside the input: a dot that starts a line (other than the input's first).
        static LINE_DOT: LazyLock<memmem::Finder<'static>> =
            LazyLock::new(|| memmem::Finder::new(b"\n."));
        let Some(&last) = input.last() else {
            return;
        };
        out.reserve(input.len() + 16);
        if self.state == EncodeState::LineStart && input.first() == Some(&b'.') {
            out.push(b'.');
        }
        let mut run = 0;
        for at in LINE_DOT.find_iter(input) {
            // `input[at]` is the LF and `input[at + 1]` the dot: the extra dot goes between.
            out.extend_from_slice(input.get(run..=at).unwrap_or_default());
            out.push(b'.');
            run = at + 1;
        }
        out.extend_from_slice(input.get(run..).unwrap_or_default());
        self.state = match last {
            b'\n' => EncodeState::LineStart,
            b'\r' => EncodeState::Cr,
            _ => EncodeState::Mid,
        };
    }

    /// Ends the content: CRLF if it did not end with one (a bare CR at the end is completed
    /// to CRLF), then the terminator `.` CRLF. The encoder is then ready for new content.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self.state {
            EncodeState::LineStart => {}
            EncodeState::Cr => out.push(b'\n'),
            EncodeState::Mid => out.extend_from_slice(b"\r\n"),
        }
        out.extend_from_slice(b".\r\n");
        self.state = EncodeState::LineStart;
    }
}

/// How many bare CR and bare LF `message` holds: how many octets [`CrlfNormalizer`] adds
/// to it (each bare one grows by one octet when made CRLF). Zero means every line end is
/// CRLF, so [`DotEncoder::encode_crlf_clean`] may be used.
///
/// Over each pair of neighbouring octets `(a, b)`: `a` is a bare CR when `b` is not LF,
/// `b` a bare LF when `a` is not CR, and CRLF is neither; so the count is the number of
/// pairs where exactly one of "`a` is CR" and "`b` is LF" holds, plus a LF at the very
/// start and a CR at the very end. One branch-free pass the compiler vectorizes (an SMTP
/// client scans each message once to declare `SIZE=`; [`scan_message`] also tells whether
/// it is ASCII in the same pass).
pub fn bare_line_endings(message: &[u8]) -> u64 {
    scan::<false>(message).bare_line_endings
}

/// What [`scan_message`] finds in a message about to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageScan {
    /// [`bare_line_endings`] of the message.
    pub bare_line_endings: u64,
    /// Whether every octet is ASCII (below 128): the message is 7-bit.
    pub ascii: bool,
}

/// [`bare_line_endings`] and whether the message is ASCII, in one pass over it: what an
/// SMTP client needs to know of a message before `MAIL FROM` (`SIZE=` and `BODY=`).
///
/// ```
/// use mailwire_core::dot::scan_message;
/// let scan = scan_message("Grüße\nvom See\r\n".as_bytes());
/// assert_eq!((scan.bare_line_endings, scan.ascii), (1, false));
/// let scan = scan_message(b"plain\r\ntext\r\n");
/// assert_eq!((scan.bare_line_endings, scan.ascii), (0, true));
/// ```
pub fn scan_message(message: &[u8]) -> MessageScan {
    scan::<true>(message)
}

/// [`scan_message`]; `ASCII` false skips the ASCII test (then `ascii` is meaningless).
fn scan<const ASCII: bool>(message: &[u8]) -> MessageScan {
    /// The bare line endings among the pairs starting at `start`, in whole blocks of `N`
    /// pairs taken as fixed-size arrays, so that the loop is vectorised without bounds
    /// checks (the count of a block fits the octet accumulator: `N < 256`); with `ASCII`,
    /// the first octets of the pairs are or-ed into `high`. Returns where the pairs not
    /// looked at start.
    fn blocks<const N: usize, const ASCII: bool>(
        message: &[u8],
        mut start: usize,
        count: &mut u64,
        high: &mut u8,
    ) -> usize {
        let pairs = message.len().saturating_sub(1);
        while start + N <= pairs {
            let (Some(xs), Some(ys)) = (
                message
                    .get(start..start + N)
                    .and_then(|s| <&[u8; N]>::try_from(s).ok()),
                message
                    .get(start + 1..start + 1 + N)
                    .and_then(|s| <&[u8; N]>::try_from(s).ok()),
            ) else {
                break;
            };
            let mut block = 0u8;
            let mut or = 0u8;
            for k in 0..N {
                block = block.wrapping_add(bare(xs[k], ys[k]));
                if ASCII {
                    or |= xs[k];
                }
            }
            *count += u64::from(block);
            *high |= or;
            start += N;
        }
        start
    }
    fn bare(a: u8, b: u8) -> u8 {
        u8::from((a == b'\r') != (b == b'\n'))
    }
    let mut count = 0u64;
    let mut high = 0u8;
    // 224 and 32 are multiples of the vector width: no scalar tail inside a block.
    let start = blocks::<224, ASCII>(message, 0, &mut count, &mut high);
    let start = blocks::<32, ASCII>(message, start, &mut count, &mut high);
    // The blocks looked at the octets before `start`; the rest are looked at here.
    let rest = message.get(start..).unwrap_or_default();
    count += rest
        .iter()
        .zip(rest.get(1..).unwrap_or_default())
        .map(|(&a, &b)| u64::from(bare(a, b)))
        .sum::<u64>();
    let count = count
        + u64::from(message.first() == Some(&b'\n'))
        + u64::from(message.last() == Some(&b'\r'));
    MessageScan {
        bare_line_endings: count,
        ascii: ASCII && high < 0x80 && rest.is_ascii(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` in one call.
    fn decode_with(policy: BareLineEndings, input: &[u8]) -> (Vec<u8>, DecodeStatus) {
        let mut decoder = DotDecoder::with_policy(policy);
        let mut out = Vec::new();
        let status = decoder.decode(input, &mut out);
        (out, status)
    }

    fn decode(input: &[u8]) -> (Vec<u8>, DecodeStatus) {
        decode_with(BareLineEndings::Reject, input)
    }

    fn encode(input: &[u8]) -> Vec<u8> {
        let mut encoder = DotEncoder::new();
        let mut out = Vec::new();
        encoder.encode(input, &mut out);
        encoder.finish(&mut out);
        out
    }

    fn status(consumed: usize, done: bool) -> DecodeStatus {
        DecodeStatus { consumed, done }
    }

    #[test]
    fn empty_body() {
        assert_eq!(decode(b".\r\n"), (Vec::new(), status(3, true)));
        assert_eq!(decode(b".\r\nQUIT\r\n"), (Vec::new(), status(3, true)));
        assert_eq!(encode(b""), b".\r\n");
    }

    #[test]
    fn empty_input_consumes_nothing() {
        assert_eq!(decode(b""), (Vec::new(), status(0, false)));
    }

    #[test]
    fn simple_body_keeps_final_crlf_and_leaves_the_rest() {
        let (out, st) = decode(b"a\r\nb\r\n.\r\nQUIT\r\n");
        assert_eq!(out, b"a\r\nb\r\n");
        assert_eq!(st, status(9, true));
    }

    #[test]
    fn empty_lines_in_body() {
        let (out, st) = decode(b"\r\n\r\n.\r\n");
        assert_eq!(out, b"\r\n\r\n");
        assert_eq!(st, status(7, true));
    }

    #[test]
    fn leading_dots_are_unstuffed() {
        let (out, st) = decode(b"..\r\n...x\r\n.y\r\nz.\r\n..\r\n.\r\n");
        assert_eq!(out, b".\r\n..x\r\ny\r\nz.\r\n.\r\n");
        assert!(st.done);
        // A dot at the very first byte.
        assert_eq!(decode(b"..a\r\n.\r\n").0, b".a\r\n");
        assert_eq!(decode(b".a\r\n.\r\n").0, b"a\r\n");
    }

    #[test]
    fn no_final_crlf_never_ends() {
        let input = b"last line without crlf.\r\n";
        // "crlf." then CRLF: the dot is not at a line start.
        assert_eq!(decode(input), (input.to_vec(), status(input.len(), false)));
        let (out, st) = decode(b"text.");
        assert_eq!((out, st), (b"text.".to_vec(), status(5, false)));
    }

    #[test]
    fn after_done_nothing_is_consumed() {
        let mut decoder = DotDecoder::new();
        let mut out = Vec::new();
        assert_eq!(decoder.decode(b"x\r\n.\r\n", &mut out), status(6, true));
        assert!(decoder.is_done());
        assert_eq!(decoder.decode(b"more\r\n.\r\n", &mut out), status(0, true));
        assert_eq!(out, b"x\r\n");
        assert_eq!(decoder.decoded_len(), 3);
        decoder.reset();
        assert!(!decoder.is_done());
        assert_eq!(decoder.decoded_len(), 0);
        assert_eq!(decoder.decode(b"y\r\n.\r\n", &mut out), status(6, true));
        assert_eq!(out, b"x\r\ny\r\n");
    }

    #[test]
    fn terminator_split_at_every_point() {
        let input = b"line\r\n.\r\nNEXT";
        let end = 9;
        for split in 0..=input.len() {
            let mut decoder = DotDecoder::new();
            let mut out = Vec::new();
            let first = decoder.decode(&input[..split], &mut out);
            let second = decoder.decode(&input[split..], &mut out);
            assert_eq!(out, b"line\r\n", "split at {split}");
            assert_eq!(first.consumed + second.consumed, end, "split at {split}");
            assert!(second.done, "split at {split}");
            assert_eq!(first.done, split >= end, "split at {split}");
        }
    }

    #[test]
    fn terminator_and_stuffed_dot_one_byte_at_a_time() {
        let input = b"..a\r\n..\r\n.\r\nX";
        let mut decoder = DotDecoder::new();
        let mut out = Vec::new();
        let mut consumed = 0;
        for (i, byte) in input.iter().enumerate() {
            let st = decoder.decode(std::slice::from_ref(byte), &mut out);
            consumed += st.consumed;
            assert_eq!(st.done, i >= input.len() - 2, "byte {i}");
        }
        assert_eq!(consumed, input.len() - 1);
        assert_eq!(out, b".a\r\n.\r\n");
    }

    /// Every smuggling variant, in both policies: never the end of the data.
    #[test]
    fn smuggling_variants_do_not_terminate() {
        let variants: [&[u8]; 6] = [
            b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r.\r\n", b"\r\n.\r", b"\r\n.\n",
        ];
        for policy in [BareLineEndings::Reject, BareLineEndings::Normalize] {
            for variant in variants {
                let mut input = b"a".to_vec();
                input.extend_from_slice(variant);
                input.extend_from_slice(b"MAIL FROM:<evil>\r\n");
                let mut decoder = DotDecoder::with_policy(policy);
                let mut out = Vec::new();
                let st = decoder.decode(&input, &mut out);
                assert_eq!(st, status(input.len(), false), "{policy:?} {variant:?}");
                assert!(decoder.saw_bare_line_ending(), "{policy:?} {variant:?}");
                // Only a real terminator ends it.
                let st = decoder.decode(b".\r\n", &mut out);
                assert_eq!(st, status(3, true), "{policy:?} {variant:?}");
            }
        }
    }

    #[test]
    fn smuggling_at_the_first_byte() {
        for input in [&b".\n"[..], b".\rX", b".\r\r\n"] {
            let (_, st) = decode(input);
            assert!(!st.done, "{input:?}");
            assert_eq!(st.consumed, input.len());
        }
    }

    #[test]
    fn reject_passes_content_through_and_records() {
        let mut decoder = DotDecoder::new();
        let mut out = Vec::new();
        let st = decoder.decode(b"a\nb\r\n", &mut out);
        assert!(decoder.saw_bare_lf() && !decoder.saw_bare_cr());
        let st2 = decoder.decode(b"c\rd\r\n.\r\n", &mut out);
        assert!(decoder.saw_bare_cr());
        assert_eq!(st.consumed + st2.consumed, 13);
        assert!(st2.done);
        assert_eq!(out, b"a\nb\r\nc\rd\r\n");
    }

    #[test]
    fn reject_smuggled_lines_content_exact() {
        // Lines are CRLF lines only: "\r\n.\n" is a line "." LF ... whose dot is removed.
        let (out, _) = decode(b"a\r\n.\nb\r\n.\r\n");
        assert_eq!(out, b"a\r\n\nb\r\n");
        let (out, _) = decode(b"a\r\n.\rb\r\n.\r\n");
        assert_eq!(out, b"a\r\n\rb\r\n");
        // After a bare LF a dot is ordinary content.
        let (out, _) = decode(b"a\n..b\r\n.\r\n");
        assert_eq!(out, b"a\n..b\r\n");
    }

    #[test]
    fn trailing_cr_is_not_bare_until_known() {
        let mut decoder = DotDecoder::new();
        let mut out = Vec::new();
        decoder.decode(b"abc\r", &mut out);
        assert!(!decoder.saw_bare_line_ending());
        decoder.decode(b"\n", &mut out);
        assert!(!decoder.saw_bare_line_ending());
        decoder.decode(b"x\r", &mut out);
        decoder.decode(b"y", &mut out);
        assert!(decoder.saw_bare_cr());
        assert_eq!(out, b"abc\r\nx\ry");
    }

    #[test]
    fn normalize_turns_bare_endings_into_crlf() {
        let (out, st) = decode_with(BareLineEndings::Normalize, b"a\nb\rc\r\r\nd\r\n.\r\n");
        assert_eq!(out, b"a\r\nb\r\nc\r\n\r\nd\r\n");
        assert!(st.done);
    }

    #[test]
    fn normalize_unstuffs_after_bare_endings_and_keeps_lone_dots() {
        let n = BareLineEndings::Normalize;
        assert_eq!(decode_with(n, b"a\n..b\r\n.\r\n").0, b"a\r\n.b\r\n");
        assert_eq!(decode_with(n, b"a\n.b\r\n.\r\n").0, b"a\r\nb\r\n");
        assert_eq!(decode_with(n, b"a\n.\nb\r\n.\r\n").0, b"a\r\n.\r\nb\r\n");
        assert_eq!(decode_with(n, b"a\n.\r\nb\r\n.\r\n").0, b"a\r\n.\r\nb\r\n");
        assert_eq!(decode_with(n, b"a\r\n.\nb\r\n.\r\n").0, b"a\r\n.\r\nb\r\n");
        assert_eq!(decode_with(n, b"a\r\n.\rb\r\n.\r\n").0, b"a\r\n.\r\nb\r\n");
        assert_eq!(decode_with(n, b"a\r.\rb\r\n.\r\n").0, b"a\r\n.\r\nb\r\n");
        assert_eq!(decode_with(n, b"a\n.\r\r\n.\r\n").0, b"a\r\n.\r\n\r\n");
        // After "\n.\r\n" the next line starts after a real CRLF, so it can end the data.
        let (out, st) = decode_with(n, b"a\n.\r\n.\r\nX");
        assert_eq!((out, st), (b"a\r\n.\r\n".to_vec(), status(8, true)));
    }

    #[test]
    fn nul_is_content_and_recorded() {
        let mut decoder = DotDecoder::new();
        let mut out = Vec::new();
        decoder.decode(b"a\0b\r\n", &mut out);
        assert!(decoder.saw_nul());
        decoder.decode(b"\0\r\n.\r\n", &mut out);
        assert_eq!(out, b"a\0b\r\n\0\r\n");
        assert!(!decoder.saw_bare_line_ending());
        let (_, st) = decode(b"clean\r\n.\r\n");
        assert!(st.done);
        let mut clean = DotDecoder::new();
        clean.decode(b"clean\r\n.\r\n", &mut Vec::new());
        assert!(!clean.saw_nul());
    }

    #[test]
    fn encoder_stuffs_and_normalises() {
        assert_eq!(encode(b"a\r\n"), b"a\r\n.\r\n");
        assert_eq!(encode(b"a"), b"a\r\n.\r\n");
        assert_eq!(encode(b"."), b"..\r\n.\r\n");
        assert_eq!(encode(b".\r\n"), b"..\r\n.\r\n");
        assert_eq!(
            encode(b"a\n.b\r.c\r\n..d"),
            b"a\r\n..b\r\n..c\r\n...d\r\n.\r\n"
        );
        assert_eq!(encode(b"a\r"), b"a\r\n.\r\n");
        assert_eq!(encode(b"\r\r\n\n"), b"\r\n\r\n\r\n.\r\n");
        assert_eq!(encode(b"x.\r\n"), b"x.\r\n.\r\n");
    }

    #[test]
    fn encoder_cr_lf_split_across_inputs() {
        let mut encoder = DotEncoder::new();
        let mut out = Vec::new();
        encoder.encode(b"a\r", &mut out);
        encoder.encode(b"\n.b\r", &mut out);
        encoder.encode(b".", &mut out);
        encoder.finish(&mut out);
        assert_eq!(out, b"a\r\n..b\r\n..\r\n.\r\n");
        // Ready for new content.
        out.clear();
        encoder.encode(b".", &mut out);
        encoder.finish(&mut out);
        assert_eq!(out, b"..\r\n.\r\n");
    }

    #[test]
    fn encode_then_decode_is_identity_for_crlf_content() {
        let content = b"From: a\r\n\r\n.\r\n..\r\n.x\r\n\r\nend\r\n";
        let (out, st) = decode(&encode(content));
        assert_eq!(out, content);
        assert!(st.done);
    }

    fn normalise_all(message: &[u8]) -> Vec<u8> {
        let mut n = CrlfNormalizer::new();
        let mut out = Vec::new();
        n.push(message, &mut out);
        n.finish(&mut out);
        out
    }

    /// Every message of up to 7 octets from `a`, CR and LF: the count of bare line ends is
    /// what CRLF normalisation adds.
    #[test]
    fn bare_line_endings_counts_what_normalising_adds() {
        let alphabet = [b'a', b'\r', b'\n'];
        for len in 0..=7u32 {
            for n in 0..3usize.pow(len) {
                let message: Vec<u8> = (0..len).map(|i| alphabet[n / 3usize.pow(i) % 3]).collect();
                let grown = normalise_all(&message).len() - message.len();
                assert_eq!(
                    bare_line_endings(&message),
                    grown as u64,
                    "{:?}",
                    String::from_utf8_lossy(&message)
                );
            }
        }
    }

    /// Long messages (through the 16-lane blocks and past 255 of them), mostly text with
    /// CR and LF scattered in.
    #[test]
    fn bare_line_endings_in_long_messages() {
        let mut seed: u32 = 0x9e37_79b9;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for round in 0..60 {
            let len = (next() % 9000) as usize + round;
            let message: Vec<u8> = (0..len)
                .map(|_| match next() % 16 {
                    0 | 1 => b'\r',
                    2 | 3 => b'\n',
                    _ => b'x',
                })
                .collect();
            let grown = normalise_all(&message).len() - message.len();
            assert_eq!(bare_line_endings(&message), grown as u64, "round {round}");
        }
    }

    /// `scan_message` agrees with `bare_line_endings` and `is_ascii`, wherever the one
    /// 8-bit octet falls (the blocks of 224 and 32 pairs, the tail, the last octet).
    #[test]
    fn scan_message_is_bare_count_and_ascii() {
        for len in [0, 1, 2, 31, 33, 64, 255, 257, 300, 600] {
            let base: Vec<u8> = (0..len)
                .map(|i| match i % 23 {
                    5 => b'\r',
                    6 | 17 => b'\n',
                    _ => b'a',
                })
                .collect();
            let scan = scan_message(&base);
            assert_eq!(scan.bare_line_endings, bare_line_endings(&base));
            assert!(scan.ascii);
            for at in 0..len {
                let mut message = base.clone();
                message[at] = 0x80 | (at as u8);
                let scan = scan_message(&message);
                assert!(!scan.ascii, "8-bit octet at {at} of {len}");
                assert_eq!(scan.bare_line_endings, bare_line_endings(&message));
            }
        }
    }

    proptest::proptest! {
        /// For CRLF-clean content, in any pieces, `encode_crlf_clean` is `encode`.
        #[test]
        fn crlf_clean_encoding_is_encode(
            lines in proptest::collection::vec("[.a-z ]{0,6}", 0..12),
            end in proptest::bool::ANY,
            size in 1usize..40,
        ) {
            let mut message = lines.join("\r\n");
            if end && !message.is_empty() {
                message.push_str("\r\n");
            }
            let message = message.into_bytes();
            proptest::prop_assert_eq!(bare_line_endings(&message), 0);
            let mut want = Vec::new();
            let mut encoder = DotEncoder::new();
            encoder.encode(&message, &mut want);
            encoder.finish(&mut want);
            let mut got = Vec::new();
            let mut clean = DotEncoder::new();
            for piece in message.chunks(size) {
                clean.encode_crlf_clean(piece, &mut got);
            }
            clean.finish(&mut got);
            proptest::prop_assert_eq!(got, want);
        }
    }
}

/// Turns every bare CR and bare LF into CRLF, without dot-stuffing, in any chunking: for
/// content sent by count rather than dot-terminated (SMTP `BDAT`, IMAP `APPEND`). The
/// dot-stuffing twin of this is [`DotEncoder`], which normalises the same way.
///
/// ```
/// use mailwire_core::dot::CrlfNormalizer;
/// let mut n = CrlfNormalizer::new();
/// let mut out = Vec::new();
/// n.push(b"a\nb\r", &mut out);
/// n.push(b"\nc\r", &mut out);
/// n.finish(&mut out);
/// assert_eq!(out, b"a\r\nb\r\nc\r\n");
/// ```
#[derive(Clone, Debug, Default)]
pub struct CrlfNormalizer {
    /// The last input ended with a CR, already written out.
    after_cr: bool,
}

impl CrlfNormalizer {
    /// A normalizer at the start of content.
    pub fn new() -> Self {
        CrlfNormalizer::default()
    }

    /// Whether a CR ended the input so far (its LF, or the lack of one, is still to come).
    pub fn is_after_cr(&self) -> bool {
        self.after_cr
    }

    /// Normalises `input`, appending to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len());
        // `input[run..p]` is output not yet copied; `run <= p <= input.len()`.
        let mut run = 0;
        let mut p = 0;
        if self.after_cr {
            match input.first() {
                None => return,
                Some(b'\n') => {
                    out.push(b'\n');
                    run = 1;
                    p = 1;
                }
                Some(_) => out.push(b'\n'),
            }
            self.after_cr = false;
        }
        while let Some(offset) = input.get(p..).and_then(|rest| memchr2(b'\r', b'\n', rest)) {
            let at = p + offset;
            let chunk = input.get(run..=at).unwrap_or_default();
            match (input.get(at), input.get(at + 1)) {
                // CRLF: stays in the run.
                (Some(b'\r'), Some(b'\n')) => p = at + 2,
                // A CR at the end: the next input decides.
                (Some(b'\r'), None) => {
                    out.extend_from_slice(chunk);
                    self.after_cr = true;
                    run = at + 1;
                    p = at + 1;
                }
                // A bare CR: complete it.
                (Some(b'\r'), Some(_)) => {
                    out.extend_from_slice(chunk);
                    out.push(b'\n');
                    run = at + 1;
                    p = at + 1;
                }
                // A bare LF: put a CR before it.
                _ => {
                    out.extend_from_slice(input.get(run..at).unwrap_or_default());
                    out.extend_from_slice(b"\r\n");
                    run = at + 1;
                    p = at + 1;
                }
            }
        }
        out.extend_from_slice(input.get(run..).unwrap_or_default());
    }

    /// Ends the content: completes a final bare CR.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.after_cr) {
            out.push(b'\n');
        }
    }
}
