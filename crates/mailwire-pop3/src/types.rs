//! POP3 wire values: [`Command`], [`Response`], [`Capability`], listings, and the
//! validated strings they are made of. None of them can hold a CR or LF, so a serializer
//! cannot be made to inject a command or a response line.

use std::fmt;

use mailwire_core::Secret;
use mailwire_core::sasl::Mechanism;

/// Why a value was refused by a constructor ([`Arg::new`], [`Text::new`], ...).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The value is empty and must not be.
    #[error("empty value")]
    Empty,
    /// The value is longer than allowed.
    #[error("value longer than {limit} octets")]
    TooLong {
        /// The limit, in octets.
        limit: usize,
    },
    /// The value holds a character not allowed here (CR, LF, NUL, a space in an argument...).
    #[error("character not allowed in this value")]
    InvalidCharacter,
    /// A response text without a response code must not begin with one (RFC 2449 section 3).
    #[error("text begins with a response code")]
    LooksLikeCode,
}

/// The longest argument the types hold, in octets: the longest that fits a 255-octet
/// command line. The server refuses arguments over
/// [`ServerConfig::max_arg_len`](crate::server::ServerConfig::max_arg_len) (40 characters
/// by default, RFC 2449 section 4).
pub const MAX_ARG_LEN: usize = 250;

/// A command argument (`param` of RFC 2449): 1 to [`MAX_ARG_LEN`] octets of UTF-8 without
/// spaces or control characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arg(String);

impl Arg {
    /// Validates an argument.
    pub fn new(value: impl Into<String>) -> Result<Arg, ValueError> {
        let value = value.into();
        if value.is_empty() {
            return Err(ValueError::Empty);
        }
        if value.len() > MAX_ARG_LEN {
            return Err(ValueError::TooLong { limit: MAX_ARG_LEN });
        }
        if value.chars().any(|c| c == ' ' || c.is_control()) {
            return Err(ValueError::InvalidCharacter);
        }
        Ok(Arg(value))
    }

    /// The argument.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How many characters (not octets) it has; RFC 2449 limits arguments to 40.
    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }
}

impl TryFrom<&str> for Arg {
    type Error = ValueError;
    fn try_from(value: &str) -> Result<Arg, ValueError> {
        Arg::new(value)
    }
}

impl fmt::Debug for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text in a response or capability: UTF-8 without CR, LF or NUL, at most
/// [`Text::MAX_LEN`] octets. May be empty.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Text(String);

impl Text {
    /// The longest text, in octets (a response line is at most 512 octets, RFC 2449 4).
    pub const MAX_LEN: usize = 500;

    /// Validates a text.
    pub fn new(value: impl Into<String>) -> Result<Text, ValueError> {
        let value = value.into();
        if value.len() > Text::MAX_LEN {
            return Err(ValueError::TooLong {
                limit: Text::MAX_LEN,
            });
        }
        if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(ValueError::InvalidCharacter);
        }
        Ok(Text(value))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Text {
    type Error = ValueError;
    fn try_from(value: &str) -> Result<Text, ValueError> {
        Text::new(value)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password for `PASS`: any UTF-8 without control characters, at most [`MAX_ARG_LEN`]
/// octets; spaces are part of it (RFC 1939 section 7). `Debug` never shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Password(Secret<String>);

impl Password {
    /// Validates a password.
    pub fn new(value: impl Into<String>) -> Result<Password, ValueError> {
        let value = value.into();
        if value.is_empty() {
            return Err(ValueError::Empty);
        }
        if value.len() > MAX_ARG_LEN {
            return Err(ValueError::TooLong { limit: MAX_ARG_LEN });
        }
        if value.chars().any(char::is_control) {
            return Err(ValueError::InvalidCharacter);
        }
        Ok(Password(Secret::new(value)))
    }

    /// The password. Use it only where it is checked, never to log it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The password as a [`Secret`].
    pub fn into_secret(self) -> Secret<String> {
        self.0
    }
}

/// A unique-id (RFC 1939 section 7, `UIDL`): 1 to 70 octets in `0x21..=0x7E`. It comes
/// from the application and must stay the same for a message across sessions.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uid(String);

impl Uid {
    /// The longest unique-id, in octets.
    pub const MAX_LEN: usize = 70;

    /// Validates a unique-id.
    pub fn new(value: impl Into<String>) -> Result<Uid, ValueError> {
        let value = value.into();
        if value.is_empty() {
            return Err(ValueError::Empty);
        }
        if value.len() > Uid::MAX_LEN {
            return Err(ValueError::TooLong {
                limit: Uid::MAX_LEN,
            });
        }
        if !value.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(ValueError::InvalidCharacter);
        }
        Ok(Uid(value))
    }

    /// The unique-id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Uid {
    type Error = ValueError;
    fn try_from(value: &str) -> Result<Uid, ValueError> {
        Uid::new(value)
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The APOP timestamp a server puts in its greeting (RFC 1939 section 7): an RFC 822
/// msg-id such as `<1896.697170952@dbc.mtview.ca.us>`, made by the caller (this crate has
/// neither a clock nor randomness). It must differ for every connection.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApopTimestamp(String);

impl ApopTimestamp {
    /// The longest timestamp, in octets.
    pub const MAX_LEN: usize = 200;

    /// `<unique.clock@host>`: give a fresh unpredictable `unique` (or the process id and a
    /// counter) and the current time. Fails when `host` is not a valid domain text.
    pub fn generate(unique: u64, clock: u64, host: &str) -> Result<ApopTimestamp, ValueError> {
        ApopTimestamp::new(format!("<{unique}.{clock}@{host}>"))
    }

    /// Validates a timestamp: `<`, printable ASCII without `<`, `>` or spaces and holding
    /// an `@`, then `>`.
    pub fn new(value: impl Into<String>) -> Result<ApopTimestamp, ValueError> {
        let value = value.into();
        if value.len() > ApopTimestamp::MAX_LEN {
            return Err(ValueError::TooLong {
                limit: ApopTimestamp::MAX_LEN,
            });
        }
        let inner = value
            .strip_prefix('<')
            .and_then(|v| v.strip_suffix('>'))
            .ok_or(ValueError::InvalidCharacter)?;
        if inner.is_empty() {
            return Err(ValueError::Empty);
        }
        let valid = inner
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'<' && b != b'>')
            && inner.contains('@');
        if !valid {
            return Err(ValueError::InvalidCharacter);
        }
        Ok(ApopTimestamp(value))
    }

    /// Finds the timestamp in a greeting text (the first `<...>` that is valid).
    pub fn find_in(text: &str) -> Option<ApopTimestamp> {
        let start = text.find('<')?;
        let rest = text.get(start..)?;
        let end = rest.find('>')?;
        ApopTimestamp::new(rest.get(..=end)?).ok()
    }

    /// The timestamp, with its angle brackets.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApopTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// The digest of an `APOP` command: MD5 of the timestamp followed by the shared secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApopDigest(pub [u8; 16]);

impl ApopDigest {
    /// What a client sends for `timestamp` and `password`.
    pub fn compute(timestamp: &ApopTimestamp, password: &str) -> ApopDigest {
        use md5::{Digest, Md5};
        let mut hasher = Md5::new();
        hasher.update(timestamp.as_str().as_bytes());
        hasher.update(password.as_bytes());
        ApopDigest(hasher.finalize().into())
    }

    /// Whether the client's digest matches `password` for this session's `timestamp`
    /// (compared in constant time).
    pub fn verify(&self, timestamp: &ApopTimestamp, password: &str) -> bool {
        let expected = ApopDigest::compute(timestamp, password);
        let diff = self
            .0
            .iter()
            .zip(expected.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        diff == 0
    }

    /// Parses 32 hexadecimal digits (either case).
    pub fn from_hex(hex: &[u8]) -> Option<ApopDigest> {
        if hex.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (slot, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            let high = hex_value(*pair.first()?)?;
            let low = hex_value(*pair.get(1)?)?;
            *slot = (high << 4) | low;
        }
        Some(ApopDigest(out))
    }

    /// The digest as 32 lower-case hexadecimal digits.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(32);
        for byte in self.0 {
            s.push(char::from(DIGITS[usize::from(byte >> 4)]));
            s.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        s
    }
}

impl fmt::Debug for ApopDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApopDigest({})", self.to_hex())
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// A SASL initial response or answer, decoded. `Debug` shows only its length.
pub type SaslData = Secret<Vec<u8>>;

/// A POP3 command (RFC 1939, RFC 2449 `CAPA`, RFC 2595 `STLS`, RFC 5034 `AUTH`, RFC 6856
/// `UTF8` and `LANG`). Message numbers are 1-based as on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `USER name`.
    User(Arg),
    /// `PASS password` (the rest of the line, spaces included).
    Pass(Password),
    /// `APOP name digest`.
    Apop {
        /// The mailbox name.
        name: Arg,
        /// MD5 of the greeting's timestamp and the shared secret.
        digest: ApopDigest,
    },
    /// `AUTH mechanism [initial-response]` (RFC 5034); `=` on the wire is an empty initial
    /// response.
    Auth {
        /// The SASL mechanism.
        mechanism: Mechanism,
        /// The decoded initial response, if one was sent.
        initial_response: Option<SaslData>,
    },
    /// `STAT`.
    Stat,
    /// `LIST [msg]`.
    List(Option<u32>),
    /// `RETR msg`.
    Retr(u32),
    /// `DELE msg`.
    Dele(u32),
    /// `NOOP`.
    Noop,
    /// `RSET`.
    Rset,
    /// `QUIT`.
    Quit,
    /// `TOP msg n`: the header and the first `lines` lines of the body.
    Top {
        /// The message.
        msg: u32,
        /// How many body lines.
        lines: u32,
    },
    /// `UIDL [msg]`.
    Uidl(Option<u32>),
    /// `CAPA` (RFC 2449).
    Capa,
    /// `STLS` (RFC 2595).
    Stls,
    /// `UTF8` (RFC 6856).
    Utf8,
    /// `LANG [tag]` (RFC 6856): list the languages, or choose one (`*` for the default).
    Lang(Option<Arg>),
}

impl Command {
    /// The command's keyword, upper-case.
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Apop { .. } => "APOP",
            Command::Auth { .. } => "AUTH",
            Command::Stat => "STAT",
            Command::List(_) => "LIST",
            Command::Retr(_) => "RETR",
            Command::Dele(_) => "DELE",
            Command::Noop => "NOOP",
            Command::Rset => "RSET",
            Command::Quit => "QUIT",
            Command::Top { .. } => "TOP",
            Command::Uidl(_) => "UIDL",
            Command::Capa => "CAPA",
            Command::Stls => "STLS",
            Command::Utf8 => "UTF8",
            Command::Lang(_) => "LANG",
        }
    }

    /// Whether the answer is a multi-line response when positive.
    pub fn has_multi_line_response(&self) -> bool {
        matches!(
            self,
            Command::List(None)
                | Command::Uidl(None)
                | Command::Retr(_)
                | Command::Top { .. }
                | Command::Capa
                | Command::Lang(None)
        )
    }
}

/// `+OK` or `-ERR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `+OK`.
    Ok,
    /// `-ERR`.
    Err,
}

/// An extended response code (RFC 2449 section 8, RFC 3206, RFC 6856), in brackets after
/// the status: `-ERR [IN-USE] ...`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseCode {
    /// `IN-USE`: the maildrop is locked by another session.
    InUse,
    /// `LOGIN-DELAY`: logged in too recently.
    LoginDelay,
    /// `SYS/TEMP`: a temporary system problem.
    SysTemp,
    /// `SYS/PERM`: a permanent system problem.
    SysPerm,
    /// `AUTH`: the credentials were refused (RFC 3206).
    Auth,
    /// `UTF8`: the maildrop needs UTF-8 mode (RFC 6856).
    Utf8,
    /// Any other code: resp-levels of printable ASCII (no `/` or `]`) joined by `/`.
    Other(String),
}

impl ResponseCode {
    /// Parses the text between the brackets (case-insensitive for the known codes).
    pub fn new(value: &str) -> Result<ResponseCode, ValueError> {
        if value.is_empty() {
            return Err(ValueError::Empty);
        }
        if value.len() > 100 {
            return Err(ValueError::TooLong { limit: 100 });
        }
        let valid = value.split('/').all(|level| {
            !level.is_empty()
                && level
                    .bytes()
                    .all(|b| (0x21..=0x7f).contains(&b) && b != b']' && b != b'/')
        });
        if !valid {
            return Err(ValueError::InvalidCharacter);
        }
        let known = [
            ("IN-USE", ResponseCode::InUse),
            ("LOGIN-DELAY", ResponseCode::LoginDelay),
            ("SYS/TEMP", ResponseCode::SysTemp),
            ("SYS/PERM", ResponseCode::SysPerm),
            ("AUTH", ResponseCode::Auth),
            ("UTF8", ResponseCode::Utf8),
        ];
        for (name, code) in known {
            if value.eq_ignore_ascii_case(name) {
                return Ok(code);
            }
        }
        Ok(ResponseCode::Other(value.to_owned()))
    }

    /// The code as on the wire, without brackets.
    pub fn as_str(&self) -> &str {
        match self {
            ResponseCode::InUse => "IN-USE",
            ResponseCode::LoginDelay => "LOGIN-DELAY",
            ResponseCode::SysTemp => "SYS/TEMP",
            ResponseCode::SysPerm => "SYS/PERM",
            ResponseCode::Auth => "AUTH",
            ResponseCode::Utf8 => "UTF8",
            ResponseCode::Other(s) => s,
        }
    }
}

/// A status line: `+OK` or `-ERR`, an optional response code and a text. The body of a
/// multi-line response is not part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: Status,
    code: Option<ResponseCode>,
    text: Text,
}

impl Response {
    /// A response. Without a code, `text` must not begin with `[` followed by a valid code
    /// and `]` (it would be read back as a code).
    pub fn new(
        status: Status,
        code: Option<ResponseCode>,
        text: &str,
    ) -> Result<Response, ValueError> {
        let text = Text::new(text)?;
        if code.is_none() && crate::parse::split_code(text.as_str()).is_some() {
            return Err(ValueError::LooksLikeCode);
        }
        Ok(Response { status, code, text })
    }

    pub(crate) fn from_parts(status: Status, code: Option<ResponseCode>, text: Text) -> Response {
        Response { status, code, text }
    }

    /// `+OK text`; texts of this crate's own are known valid, others are replaced by an
    /// empty text.
    pub fn ok(text: &str) -> Response {
        Response::new(Status::Ok, None, text)
            .unwrap_or_else(|_| Response::from_parts(Status::Ok, None, Text::default()))
    }

    /// `-ERR text` (same fallback as [`Response::ok`]).
    pub fn err(text: &str) -> Response {
        Response::new(Status::Err, None, text)
            .unwrap_or_else(|_| Response::from_parts(Status::Err, None, Text::default()))
    }

    /// `-ERR [code] text` (same fallback as [`Response::ok`]).
    pub fn err_with(code: ResponseCode, text: &str) -> Response {
        let text = Text::new(text).unwrap_or_default();
        Response::from_parts(Status::Err, Some(code), text)
    }

    /// `-ERR [IN-USE] ...`: the answer to a maildrop that another session holds.
    pub fn in_use() -> Response {
        Response::err_with(ResponseCode::InUse, "Maildrop is locked by another session")
    }

    /// The status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Whether the status is `+OK`.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// The response code, if any.
    pub fn code(&self) -> Option<&ResponseCode> {
        self.code.as_ref()
    }

    /// The text after the status and code.
    pub fn text(&self) -> &str {
        self.text.as_str()
    }
}

/// The `EXPIRE` capability's policy (RFC 2449 section 6.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpirePolicy {
    /// `NEVER`: the server never deletes messages itself.
    Never,
    /// Messages may be deleted this many days after they were first retrieved.
    Days(u32),
}

/// A capability line of a `CAPA` response (RFC 2449 section 6, RFC 5034, RFC 2595, RFC
/// 6856, RFC 3206).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capability {
    /// `TOP`.
    Top,
    /// `USER`.
    User,
    /// `SASL mech...`.
    Sasl(Vec<Mechanism>),
    /// `STLS`.
    Stls,
    /// `UIDL`.
    Uidl,
    /// `PIPELINING`.
    Pipelining,
    /// `RESP-CODES`.
    RespCodes,
    /// `AUTH-RESP-CODE` (RFC 3206).
    AuthRespCode,
    /// `EXPIRE policy [USER]`.
    Expire {
        /// The policy.
        policy: ExpirePolicy,
        /// `USER`: the value may differ per user (given before login).
        per_user: bool,
    },
    /// `LOGIN-DELAY seconds [USER]`.
    LoginDelay {
        /// The minimum seconds between logins.
        seconds: u32,
        /// `USER`: the value may differ per user.
        per_user: bool,
    },
    /// `IMPLEMENTATION text`.
    Implementation(Text),
    /// `UTF8 [USER]` (RFC 6856).
    Utf8 {
        /// `USER`: the `USER` command accepts UTF-8 names.
        user: bool,
    },
    /// `LANG` (RFC 6856).
    Lang,
    /// Any other capability.
    Other {
        /// The tag, as sent.
        name: Arg,
        /// Its parameters.
        params: Vec<Arg>,
    },
}

/// A line of a `LIST` answer: `msg size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScanListing {
    /// The message number.
    pub msg: u32,
    /// Its size in octets.
    pub size: u64,
}

/// A line of a `UIDL` answer: `msg unique-id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UidListing {
    /// The message number.
    pub msg: u32,
    /// Its unique-id.
    pub uid: Uid,
}
