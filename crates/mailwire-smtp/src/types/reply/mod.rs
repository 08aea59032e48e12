//! SMTP replies (RFC 5321 section 4.2), enhanced status codes (RFC 2034, RFC 3463) and the
//! EHLO reply with its keywords.

mod ehlo;
mod well_known;

use std::fmt;

use smol_str::SmolStr;

pub use ehlo::{Capabilities, Capability, EhloDomain, EhloError, EhloReply, OtherCapability};

/// An error building a reply value from the caller's parts (not from the network: the
/// parser reports [`crate::parse::ReplyError`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReply {
    /// The reply code is not three digits of the form `[2-5][0-5][0-9]`.
    #[error("invalid reply code {0}: must match [2-5][0-5][0-9]")]
    Code(u16),
    /// The enhanced status code is not `class.subject.detail` with a class of 2, 4 or 5
    /// and a subject and detail of at most three digits.
    #[error("invalid enhanced status code {class}.{subject}.{detail}")]
    EnhancedCode {
        /// The class given.
        class: u8,
        /// The subject given.
        subject: u16,
        /// The detail given.
        detail: u16,
    },
    /// The enhanced status code's class differs from the reply code's first digit (RFC
    /// 2034 section 4; 3xx replies carry no enhanced code).
    #[error("enhanced status code class {class} does not match reply code {code}")]
    ClassMismatch {
        /// The reply code.
        code: u16,
        /// The enhanced code's class.
        class: u8,
    },
    /// The text holds a CR or LF, which would end the line on the wire.
    #[error("reply text contains CR or LF")]
    LineBreak,
    /// A reply needs at least one line.
    #[error("a reply needs at least one line")]
    NoLines,
}

/// A three-digit SMTP reply code: `%x32-35 %x30-35 %x30-39` (RFC 5321 section 4.2).
///
/// ```
/// use mailwire_smtp::types::ReplyCode;
/// let code = ReplyCode::new(550).unwrap();
/// assert!(code.is_permanent());
/// assert_eq!(code.as_u16(), 550);
/// assert!(ReplyCode::new(199).is_err() && ReplyCode::new(260).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// 211 System status, or system help reply.
    pub const SYSTEM_STATUS: ReplyCode = ReplyCode(211);
    /// 214 Help message.
    pub const HELP: ReplyCode = ReplyCode(214);
    /// 220 `<domain>` Service ready.
    pub const SERVICE_READY: ReplyCode = ReplyCode(220);
    /// 221 `<domain>` Service closing transmission channel.
    pub const CLOSING: ReplyCode = ReplyCode(221);
    /// 235 Authentication successful (RFC 4954).
    pub const AUTH_SUCCEEDED: ReplyCode = ReplyCode(235);
    /// 250 Requested mail action okay, completed.
    pub const OK: ReplyCode = ReplyCode(250);
    /// 251 User not local; will forward.
    pub const USER_NOT_LOCAL_WILL_FORWARD: ReplyCode = ReplyCode(251);
    /// 252 Cannot VRFY user, but will accept message and attempt delivery.
    pub const CANNOT_VERIFY: ReplyCode = ReplyCode(252);
    /// 334 Server challenge in an AUTH exchange (RFC 4954).
    pub const AUTH_CHALLENGE: ReplyCode = ReplyCode(334);
    /// 354 Start mail input; end with `<CRLF>.<CRLF>`.
    pub const START_MAIL_INPUT: ReplyCode = ReplyCode(354);
    /// 421 `<domain>` Service not available, closing transmission channel.
    pub const SERVICE_NOT_AVAILABLE: ReplyCode = ReplyCode(421);
    /// 450 Requested mail action not taken: mailbox unavailable.
    pub const MAILBOX_UNAVAILABLE_TRANSIENT: ReplyCode = ReplyCode(450);
    /// 451 Requested action aborted: local error in processing.
    pub const LOCAL_ERROR: ReplyCode = ReplyCode(451);
    /// 452 Requested action not taken: insufficient system storage.
    pub const INSUFFICIENT_STORAGE: ReplyCode = ReplyCode(452);
    /// 455 Server unable to accommodate parameters.
    pub const UNABLE_TO_ACCOMMODATE_PARAMETERS: ReplyCode = ReplyCode(455);
    /// 500 Syntax error, command unrecognized.
    pub const SYNTAX_ERROR: ReplyCode = ReplyCode(500);
    /// 501 Syntax error in parameters or arguments.
    pub const PARAMETER_SYNTAX_ERROR: ReplyCode = ReplyCode(501);
    /// 502 Command not implemented.
    pub const NOT_IMPLEMENTED: ReplyCode = ReplyCode(502);
    /// 503 Bad sequence of commands.
    pub const BAD_SEQUENCE: ReplyCode = ReplyCode(503);
    /// 504 Command parameter not implemented.
    pub const PARAMETER_NOT_IMPLEMENTED: ReplyCode = ReplyCode(504);
    /// 530 Authentication required (RFC 4954).
    pub const AUTH_REQUIRED: ReplyCode = ReplyCode(530);
    /// 535 Authentication credentials invalid (RFC 4954).
    pub const AUTH_FAILED: ReplyCode = ReplyCode(535);
    /// 550 Requested action not taken: mailbox unavailable.
    pub const MAILBOX_UNAVAILABLE: ReplyCode = ReplyCode(550);
    /// 551 User not local; please try `<forward-path>`.
    pub const USER_NOT_LOCAL: ReplyCode = ReplyCode(551);
    /// 552 Requested mail action aborted: exceeded storage allocation.
    pub const EXCEEDED_STORAGE: ReplyCode = ReplyCode(552);
    /// 553 Requested action not taken: mailbox name not allowed.
    pub const MAILBOX_NAME_NOT_ALLOWED: ReplyCode = ReplyCode(553);
    /// 554 Transaction failed.
    pub const TRANSACTION_FAILED: ReplyCode = ReplyCode(554);
    /// 555 MAIL FROM/RCPT TO parameters not recognized or not implemented.
    pub const PARAMETERS_NOT_RECOGNIZED: ReplyCode = ReplyCode(555);

    /// Validates a reply code: first digit 2 to 5, second 0 to 5, third 0 to 9.
    pub const fn new(code: u16) -> Result<ReplyCode, InvalidReply> {
        if Self::is_valid(code) {
            Ok(ReplyCode(code))
        } else {
            Err(InvalidReply::Code(code))
        }
    }

    /// Builds a code from its three ASCII digits, if they form a valid code.
    pub(crate) const fn from_digits(d0: u8, d1: u8, d2: u8) -> Option<ReplyCode> {
        if matches!(d0, b'2'..=b'5') && matches!(d1, b'0'..=b'5') && d2.is_ascii_digit() {
            Some(ReplyCode(
                (d0 - b'0') as u16 * 100 + (d1 - b'0') as u16 * 10 + (d2 - b'0') as u16,
            ))
        } else {
            None
        }
    }

    const fn is_valid(code: u16) -> bool {
        let (d0, d1) = (code / 100, code / 10 % 10);
        code <= 599 && d0 >= 2 && d1 <= 5
    }

    /// The code as a number.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The first digit (2 to 5): the severity of the reply.
    pub const fn class(self) -> u8 {
        (self.0 / 100) as u8
    }

    /// 2yz: positive completion.
    pub const fn is_positive_completion(self) -> bool {
        self.class() == 2
    }

    /// 3yz: positive intermediate (the server waits for more, as after DATA or AUTH).
    pub const fn is_intermediate(self) -> bool {
        self.class() == 3
    }

    /// 4yz: transient negative completion (try again later).
    pub const fn is_transient(self) -> bool {
        self.class() == 4
    }

    /// 5yz: permanent negative completion (do not repeat the same request).
    pub const fn is_permanent(self) -> bool {
        self.class() == 5
    }

    /// The three ASCII digits, as written on the wire.
    pub(crate) const fn digits(self) -> [u8; 3] {
        [
            b'0' + (self.0 / 100) as u8,
            b'0' + (self.0 / 10 % 10) as u8,
            b'0' + (self.0 % 10) as u8,
        ]
    }
}

impl TryFrom<u16> for ReplyCode {
    type Error = InvalidReply;
    fn try_from(code: u16) -> Result<Self, InvalidReply> {
        ReplyCode::new(code)
    }
}

impl From<ReplyCode> for u16 {
    fn from(code: ReplyCode) -> u16 {
        code.0
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An enhanced mail system status code `class.subject.detail` (RFC 3463, carried in replies
/// by RFC 2034): class 2 (success), 4 (persistent transient failure) or 5 (permanent
/// failure); subject and detail 0 to 999.
///
/// ```
/// use mailwire_smtp::types::EnhancedCode;
/// let code = EnhancedCode::new(5, 1, 1).unwrap();
/// assert_eq!(code.to_string(), "5.1.1");
/// assert_eq!((code.class(), code.subject(), code.detail()), (5, 1, 1));
/// assert!(EnhancedCode::new(3, 0, 0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnhancedCode {
    class: u8,
    subject: u16,
    detail: u16,
}

impl EnhancedCode {
    /// Validates and builds an enhanced status code.
    pub const fn new(class: u8, subject: u16, detail: u16) -> Result<EnhancedCode, InvalidReply> {
        if matches!(class, 2 | 4 | 5) && subject <= 999 && detail <= 999 {
            Ok(EnhancedCode {
                class,
                subject,
                detail,
            })
        } else {
            Err(InvalidReply::EnhancedCode {
                class,
                subject,
                detail,
            })
        }
    }

    /// For the well-known replies, whose values are checked by a unit test.
    pub(crate) const fn known(class: u8, subject: u16, detail: u16) -> EnhancedCode {
        EnhancedCode {
            class,
            subject,
            detail,
        }
    }

    /// The class: 2, 4 or 5.
    pub const fn class(self) -> u8 {
        self.class
    }

    /// The subject (0 to 999): 1 addressing, 2 mailbox, 3 mail system, 4 network and
    /// routing, 5 mail delivery protocol, 6 message content, 7 security or policy.
    pub const fn subject(self) -> u16 {
        self.subject
    }

    /// The detail (0 to 999), relative to the subject.
    pub const fn detail(self) -> u16 {
        self.detail
    }

    /// Recognises an enhanced status code of class `class` at the start of `text`,
    /// followed by a space or the end of the text; returns it and the text after it
    /// (and after one space). Subject and detail are 1 to 3 digits without leading
    /// zeros (RFC 3463 section 2), so that a code has one spelling.
    pub(crate) fn split_prefix(class: u8, text: &str) -> Option<(EnhancedCode, &str)> {
        let (code, after) = EnhancedCode::split_prefix_bytes(class, text.as_bytes())?;
        // `after` follows an ASCII byte (a digit or a space): a character boundary.
        Some((code, text.get(after..)?))
    }

    /// [`EnhancedCode::split_prefix`] on bytes: the code and the offset of the text after
    /// it.
    pub(crate) fn split_prefix_bytes(class: u8, bytes: &[u8]) -> Option<(EnhancedCode, usize)> {
        let rest = match bytes {
            [c, b'.', rest @ ..] if *c == b'0' + class && matches!(class, 2 | 4 | 5) => rest,
            _ => return None,
        };
        let (subject, rest) = sub_code(rest)?;
        let rest = match rest {
            [b'.', rest @ ..] => rest,
            _ => return None,
        };
        let (detail, rest) = sub_code(rest)?;
        let consumed = bytes.len() - rest.len();
        let after = match rest.first() {
            None => consumed,
            Some(b' ') => consumed + 1,
            Some(_) => return None,
        };
        let code = EnhancedCode {
            class,
            subject,
            detail,
        };
        Some((code, after))
    }

    /// Writes `class.subject.detail`.
    pub(crate) fn write_to(self, out: &mut Vec<u8>) {
        out.push(b'0' + self.class);
        out.push(b'.');
        write_decimal(out, self.subject);
        out.push(b'.');
        write_decimal(out, self.detail);
    }
}

/// One to three digits without a leading zero (a lone `0` is fine), then not a digit.
fn sub_code(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let digit = |b: &u8| b.is_ascii_digit();
    let (value, rest) = match bytes {
        [b'0', rest @ ..] => (0, rest),
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', rest @ ..] => (
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
            rest,
        ),
        [a @ b'1'..=b'9', b @ b'0'..=b'9', rest @ ..] => {
            (u16::from(a - b'0') * 10 + u16::from(b - b'0'), rest)
        }
        [a @ b'1'..=b'9', rest @ ..] => (u16::from(a - b'0'), rest),
        _ => return None,
    };
    if rest.first().is_some_and(digit) {
        None
    } else {
        Some((value, rest))
    }
}

fn write_decimal(out: &mut Vec<u8>, value: u16) {
    if value >= 100 {
        out.push(b'0' + (value / 100 % 10) as u8);
    }
    if value >= 10 {
        out.push(b'0' + (value / 10 % 10) as u8);
    }
    out.push(b'0' + (value % 10) as u8);
}

impl TryFrom<(u8, u16, u16)> for EnhancedCode {
    type Error = InvalidReply;
    fn try_from((class, subject, detail): (u8, u16, u16)) -> Result<Self, InvalidReply> {
        EnhancedCode::new(class, subject, detail)
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One line of reply text: any string without CR or LF.
///
/// ```
/// use mailwire_smtp::types::ReplyText;
/// assert_eq!(ReplyText::try_from("Hello").unwrap().as_str(), "Hello");
/// assert!(ReplyText::try_from("a\r\nMAIL FROM:<x>").is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReplyText(String);

impl ReplyText {
    /// The empty text.
    pub const fn empty() -> ReplyText {
        ReplyText(String::new())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn check(text: &str) -> Result<(), InvalidReply> {
        if memchr::memchr2(b'\r', b'\n', text.as_bytes()).is_some() {
            Err(InvalidReply::LineBreak)
        } else {
            Ok(())
        }
    }
}

impl TryFrom<String> for ReplyText {
    type Error = InvalidReply;
    fn try_from(text: String) -> Result<Self, InvalidReply> {
        ReplyText::check(&text)?;
        Ok(ReplyText(text))
    }
}

impl TryFrom<&str> for ReplyText {
    type Error = InvalidReply;
    fn try_from(text: &str) -> Result<Self, InvalidReply> {
        ReplyText::check(text)?;
        Ok(ReplyText(text.to_owned()))
    }
}

impl AsRef<str> for ReplyText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReplyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An SMTP reply: a code, an optional enhanced status code, and one or more lines of text.
///
/// A [`Reply`] is built with [`Reply::new`] and friends, or one of the well-known replies
/// ([`Reply::ok`], [`Reply::bad_sequence`], ...), read by
/// [`parse_reply`](crate::parse::parse_reply) and written by [`Reply::encode`].
///
/// # Canonical form
///
/// A [`Reply`] always holds what a client would read from its encoding, so that
/// `parse(encode(reply)) == reply` for every value the API lets you build:
///
/// - it has at least one line (a line may be empty: `250` alone on the wire);
/// - an [`EnhancedCode`] is kept once, apart from the text; the encoder writes it at the
///   start of every line (RFC 2034: "the same status code must appear at the beginning of
///   the text in each line");
/// - the enhanced code's class always equals the reply code's first digit;
/// - when the reply has no enhanced code, its first line does not begin with one. The
///   text constructors ([`Reply::new`], [`Reply::multiline`], [`Reply::from_parts`])
///   lift such a leading code out of the text, exactly as the parser does:
///   `Reply::new(250, "2.1.0 Sender OK")` has the enhanced code `2.1.0` and the text
///   `Sender OK`.
///
/// ```
/// use mailwire_smtp::types::{EnhancedCode, Reply};
///
/// let reply = Reply::with_enhanced(550, (5, 1, 1), "No such user").unwrap();
/// assert!(reply.is_permanent());
/// assert_eq!(reply.enhanced(), Some(EnhancedCode::new(5, 1, 1).unwrap()));
/// assert_eq!(reply.to_bytes(), b"550 5.1.1 No such user\r\n");
///
/// // The text constructors read an enhanced code the way a client would.
/// let lifted = Reply::new(250, "2.1.0 Sender OK").unwrap();
/// assert_eq!(lifted, Reply::with_enhanced(250, (2, 1, 0), "Sender OK").unwrap());
///
/// let multi = Reply::multiline(250, ["mail.example.com", "PIPELINING", "SIZE 1000"]).unwrap();
/// assert_eq!(multi.lines().collect::<Vec<_>>(), ["mail.example.com", "PIPELINING", "SIZE 1000"]);
/// assert_eq!(
///     multi.to_bytes(),
///     b"250-mail.example.com\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reply {
    code: ReplyCode,
    enhanced: Option<EnhancedCode>,
    /// The lines, joined by `\n` (a line cannot hold one, so this is unambiguous). At
    /// most one allocation per reply, however many lines, and none for a text of up to
    /// 23 octets (most replies: `Ok`, `Recipient OK`) or a constant one (the well-known
    /// replies).
    text: Text,
}

/// The text of a [`Reply`]: inline or static when short or constant, otherwise the
/// `String` it was built in (moved, not copied into a shared buffer: long replies are
/// read once and dropped, so sharing would only add an allocation and atomic counts).
#[derive(Clone)]
pub(crate) enum Text {
    /// Up to 23 octets, or a `&'static str`.
    Small(SmolStr),
    /// Anything longer.
    Owned(String),
}

impl Text {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Text::Small(s) => s,
            Text::Owned(s) => s,
        }
    }

    pub(crate) fn copied(s: &str) -> Text {
        if s.len() <= 23 {
            Text::Small(crate::types::small(s))
        } else if s == START_MAIL_INPUT_TEXT {
            // The usual 354 text (ours among others): shared, not allocated per reply.
            Text::from_static(START_MAIL_INPUT_TEXT)
        } else {
            Text::Owned(s.to_owned())
        }
    }

    pub(crate) fn from_string(s: String) -> Text {
        if s.len() <= 23 {
            Text::Small(crate::types::small(&s))
        } else {
            Text::Owned(s)
        }
    }

    pub(crate) const fn from_static(s: &'static str) -> Text {
        Text::Small(SmolStr::new_static(s))
    }
}

/// The text of [`Reply::start_mail_input`], the 354 reply to `DATA`.
pub(crate) const START_MAIL_INPUT_TEXT: &str = "End data with <CR><LF>.<CR><LF>";

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Reply {
    /// A single-line reply. A leading enhanced status code in `text` whose class matches
    /// the code's first digit is lifted out, as the parser would.
    pub fn new(code: u16, text: &str) -> Result<Reply, InvalidReply> {
        Reply::multiline(code, [text])
    }

    /// A single-line reply with an enhanced status code `(class, subject, detail)`.
    pub fn with_enhanced(
        code: u16,
        (class, subject, detail): (u8, u16, u16),
        text: &str,
    ) -> Result<Reply, InvalidReply> {
        let code = ReplyCode::new(code)?;
        let enhanced = EnhancedCode::new(class, subject, detail)?;
        Reply::from_parts(code, Some(enhanced), [text])
    }

    /// A reply of one or more lines; a leading enhanced status code on the first line is
    /// lifted out as by [`Reply::new`], and then also removed from the following lines
    /// that begin with the same code (as they do on the wire).
    pub fn multiline<I>(code: u16, lines: I) -> Result<Reply, InvalidReply>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Reply::from_parts(ReplyCode::new(code)?, None, lines)
    }

    /// A reply from its parts, in canonical form (see [`Reply`]).
    ///
    /// With `enhanced` given, the lines are the texts without the code. Without it, the
    /// lines are read as a client reads them: an enhanced code leading the first line is
    /// lifted out, and the same code leading a later line is removed from it.
    pub fn from_parts<I>(
        code: ReplyCode,
        enhanced: Option<EnhancedCode>,
        lines: I,
    ) -> Result<Reply, InvalidReply>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        if let Some(e) = enhanced
            && e.class() != code.class()
        {
            return Err(InvalidReply::ClassMismatch {
                code: code.as_u16(),
                class: e.class(),
            });
        }
        let mut lines = lines.into_iter();
        let first = lines.next().ok_or(InvalidReply::NoLines)?;
        let first = first.as_ref();
        ReplyText::check(first)?;
        // Without a given enhanced code, one leading the first line is lifted out (as a
        // client reads it), and then also removed from later lines that begin with it.
        let (enhanced, first, lifted) = match enhanced {
            Some(_) => (enhanced, first, None),
            None => match EnhancedCode::split_prefix(code.class(), first) {
                Some((e, rest)) => (Some(e), rest, Some(e)),
                None => (None, first, None),
            },
        };
        let Some(next) = lines.next() else {
            // One line: no intermediate string.
            return Ok(Reply {
                code,
                enhanced,
                text: Text::copied(first),
            });
        };
        let mut text = String::from(first);
        for line in std::iter::once(next).chain(lines) {
            let line = line.as_ref();
            let line = match lifted {
                Some(e) => match EnhancedCode::split_prefix(e.class(), line) {
                    Some((same, rest)) if same == e => rest,
                    _ => line,
                },
                None => line,
            };
            ReplyText::check(line)?;
            text.push('\n');
            text.push_str(line);
        }
        Ok(Reply {
            code,
            enhanced,
            text: Text::from_string(text),
        })
    }

    /// Appends a line of text, taken as is (without the enhanced code, which the encoder
    /// writes in front of every line).
    pub fn push_line(&mut self, text: &str) -> Result<(), InvalidReply> {
        ReplyText::check(text)?;
        let mut joined = String::with_capacity(self.text().len() + 1 + text.len());
        joined.push_str(self.text());
        joined.push('\n');
        joined.push_str(text);
        self.text = Text::from_string(joined);
        Ok(())
    }

    /// Builder form of [`Reply::push_line`].
    pub fn with_line(mut self, text: &str) -> Result<Reply, InvalidReply> {
        self.push_line(text)?;
        Ok(self)
    }

    /// The reply without its enhanced status code (for a server that does not advertise
    /// ENHANCEDSTATUSCODES). If the first line's text itself begins with an enhanced code,
    /// that one becomes the reply's, as a client would read it.
    pub fn without_enhanced(self) -> Reply {
        if self.enhanced.is_none() {
            return self;
        }
        let (first, rest) = match self.text().split_once('\n') {
            Some((first, rest)) => (first, Some(rest)),
            None => (self.text(), None),
        };
        let (enhanced, first) = match EnhancedCode::split_prefix(self.code.class(), first) {
            Some((e, rest)) => (Some(e), rest),
            None => (None, first),
        };
        let text = match rest {
            None => Text::copied(first),
            Some(rest) => {
                let mut text = String::with_capacity(self.text().len());
                text.push_str(first);
                text.push('\n');
                text.push_str(rest);
                Text::from_string(text)
            }
        };
        Reply {
            code: self.code,
            enhanced,
            text,
        }
    }

    /// Builds a reply from parts the parser has already checked: `text` holds the lines
    /// joined by `\n`, none with CR, and the canonical-form rules hold.
    pub(crate) fn from_parsed(
        code: ReplyCode,
        enhanced: Option<EnhancedCode>,
        text: Text,
    ) -> Reply {
        Reply {
            code,
            enhanced,
            text,
        }
    }

    /// The reply code.
    pub fn code(&self) -> ReplyCode {
        self.code
    }

    /// The enhanced status code, if the reply has one.
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        self.enhanced
    }

    /// The lines of text (at least one), without the codes.
    pub fn lines(&self) -> ReplyLines<'_> {
        ReplyLines {
            rest: Some(self.text.as_str()),
        }
    }

    /// The number of lines (at least one).
    pub fn line_count(&self) -> usize {
        memchr::memchr_iter(b'\n', self.text().as_bytes()).count() + 1
    }

    /// The first line of text.
    pub fn first_line(&self) -> &str {
        self.lines().next().unwrap_or_default()
    }

    /// All the text, lines joined by `\n`, without the codes.
    pub fn text(&self) -> &str {
        self.text.as_str()
    }

    /// 2yz: positive completion.
    pub fn is_positive_completion(&self) -> bool {
        self.code.is_positive_completion()
    }

    /// 3yz: positive intermediate.
    pub fn is_intermediate(&self) -> bool {
        self.code.is_intermediate()
    }

    /// 4yz: transient negative completion.
    pub fn is_transient(&self) -> bool {
        self.code.is_transient()
    }

    /// 5yz: permanent negative completion.
    pub fn is_permanent(&self) -> bool {
        self.code.is_permanent()
    }

    /// The reply's encoding (see [`Reply::encode`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text().len() + 16 * self.line_count());
        self.encode(&mut out);
        out
    }
}

/// The lines of a [`Reply`], from [`Reply::lines`].
///
/// (`str::split` would do, but its searcher costs more than the short lines of a reply.)
#[derive(Clone, Debug)]
pub struct ReplyLines<'a> {
    /// What is left, `None` once the last line was given.
    rest: Option<&'a str>,
}

/// The index of the first `byte` in `s`: a plain loop over the first bytes, where most
/// reply lines end, `memchr` past them.
pub(crate) fn find_byte(s: &[u8], byte: u8) -> Option<usize> {
    let head = s.get(..32).unwrap_or(s);
    match head.iter().position(|&b| b == byte) {
        Some(i) => Some(i),
        None => memchr::memchr(byte, s.get(head.len()..)?).map(|i| i + head.len()),
    }
}

impl<'a> Iterator for ReplyLines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match find_byte(rest.as_bytes(), b'\n') {
            // `\n` is ASCII, so both cuts are on character boundaries.
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => self.rest.take(),
        }
    }
}

impl DoubleEndedIterator for ReplyLines<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let rest = self.rest?;
        match memchr::memrchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                self.rest = rest.get(..i);
                rest.get(i + 1..)
            }
            None => self.rest.take(),
        }
    }
}

impl std::iter::FusedIterator for ReplyLines<'_> {}

impl fmt::Display for Reply {
    /// The reply as on the wire, with `\r\n` line ends.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes_follow_the_grammar() {
        for code in 0..=1000u16 {
            let s = format!("{code:03}");
            let b = s.as_bytes();
            let grammar =
                code <= 999 && (b'2'..=b'5').contains(&b[0]) && (b'0'..=b'5').contains(&b[1]);
            assert_eq!(ReplyCode::new(code).is_ok(), grammar, "{code}");
            if grammar {
                assert_eq!(ReplyCode::from_digits(b[0], b[1], b[2]).unwrap().0, code);
                assert_eq!(ReplyCode(code).digits(), [b[0], b[1], b[2]]);
            }
        }
    }

    #[test]
    fn enhanced_prefix_is_recognised_strictly() {
        fn ok(text: &str) -> Option<(String, &str)> {
            EnhancedCode::split_prefix(5, text).map(|(e, r)| (e.to_string(), r))
        }
        assert_eq!(ok("5.1.1 No"), Some(("5.1.1".into(), "No")));
        assert_eq!(ok("5.1.1"), Some(("5.1.1".into(), "")));
        assert_eq!(ok("5.1.1  two"), Some(("5.1.1".into(), " two")));
        assert_eq!(ok("5.999.100 x"), Some(("5.999.100".into(), "x")));
        assert_eq!(ok("5.0.0 x"), Some(("5.0.0".into(), "x")));
        for bad in [
            "5.1.1x", "5.01.1 x", "5.1.01", "5.1000.1", "5.1", "5.1.", "4.1.1 x", "5..1",
            "5.1.1\t", " 5.1.1", "",
        ] {
            assert_eq!(ok(bad), None, "{bad:?}");
        }
        assert_eq!(EnhancedCode::split_prefix(3, "3.0.0 x"), None);
    }

    #[test]
    fn enhanced_code_writes_canonically() {
        for (c, s, d) in [(2, 0, 0), (4, 10, 5), (5, 999, 100), (5, 7, 11)] {
            let e = EnhancedCode::new(c, s, d).unwrap();
            let mut out = Vec::new();
            e.write_to(&mut out);
            assert_eq!(out, e.to_string().as_bytes());
        }
        assert!(EnhancedCode::new(5, 1000, 0).is_err());
        assert!(EnhancedCode::new(5, 0, 1000).is_err());
    }

    #[test]
    fn lines_iterate_both_ways() {
        let long = "x".repeat(70);
        for lines in [
            vec![""],
            vec!["", ""],
            vec!["a", "", "b", ""],
            vec![long.as_str(), "", long.as_str()],
        ] {
            let reply = Reply::multiline(250, &lines).unwrap();
            assert_eq!(reply.lines().collect::<Vec<_>>(), lines);
            let mut back: Vec<_> = reply.lines().rev().collect();
            back.reverse();
            assert_eq!(back, lines);
            assert_eq!(reply.line_count(), lines.len());
            // Mixed ends meet in the middle without losing or repeating a line.
            let mut it = reply.lines();
            let first = it.next();
            let last = it.next_back();
            assert_eq!(first, lines.first().copied());
            assert_eq!(last, (lines.len() > 1).then(|| lines[lines.len() - 1]));
            assert_eq!(it.count(), lines.len().saturating_sub(2));
        }
    }

    #[test]
    fn constructors_keep_the_canonical_form() {
        let r = Reply::multiline(550, ["5.1.1 a", "5.1.1 b", "c"]).unwrap();
        assert_eq!(r.enhanced(), Some(EnhancedCode::new(5, 1, 1).unwrap()));
        // The code lifted from the first line is removed from later lines that carry it.
        assert_eq!(r.lines().collect::<Vec<_>>(), ["a", "b", "c"]);
        let pushed = r.clone().with_line("5.1.1 d").unwrap();
        assert_eq!(pushed.lines().next_back(), Some("5.1.1 d"));
        assert_eq!(r.line_count(), 3);
        assert_eq!(
            Reply::with_enhanced(250, (5, 1, 1), "x"),
            Err(InvalidReply::ClassMismatch {
                code: 250,
                class: 5
            })
        );
        assert_eq!(Reply::new(250, "a\rb"), Err(InvalidReply::LineBreak));
        assert_eq!(Reply::new(600, "x"), Err(InvalidReply::Code(600)));
        assert_eq!(
            Reply::multiline(250, Vec::<&str>::new()),
            Err(InvalidReply::NoLines)
        );
        let no_lift = Reply::new(354, "3.0.0 go").unwrap();
        assert_eq!(no_lift.enhanced(), None);
        assert_eq!(no_lift.text(), "3.0.0 go");
        let stripped = Reply::with_enhanced(550, (5, 1, 1), "5.7.1 x")
            .unwrap()
            .without_enhanced();
        assert_eq!(stripped, Reply::with_enhanced(550, (5, 7, 1), "x").unwrap());
    }
}
