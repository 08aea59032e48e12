//! Parsers: commands (server side), status lines, capabilities and listings (client
//! side). Each takes one line without its CRLF, except [`decode_command`], which finds the
//! line end itself and says "need more bytes" with `Ok(None)`.

use mailwire_core::sasl::{self, Mechanism, Response as SaslResponse};

use crate::types::{
    ApopDigest, Arg, Capability, Command, ExpirePolicy, Password, Response, ResponseCode,
    ScanListing, Status, Text, Uid, UidListing, ValueError,
};

/// Limits the command parser enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommandOptions {
    /// The longest command line, CRLF included (RFC 2449 section 4: 255).
    pub max_line_len: usize,
    /// The longest argument, in characters (RFC 2449 section 4: 40). `PASS` and the
    /// initial response of `AUTH` are bounded by the line only.
    pub max_arg_len: usize,
}

impl CommandOptions {
    /// Options with these limits: the longest line (CRLF included) and argument (in
    /// characters).
    pub fn new(max_line_len: usize, max_arg_len: usize) -> CommandOptions {
        CommandOptions {
            max_line_len,
            max_arg_len,
        }
    }
}

impl Default for CommandOptions {
    fn default() -> Self {
        CommandOptions {
            max_line_len: 255,
            max_arg_len: 40,
        }
    }
}

/// Why a command line was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The line is longer than [`CommandOptions::max_line_len`].
    #[error("command line too long")]
    LineTooLong,
    /// The line is empty.
    #[error("empty command")]
    Empty,
    /// The keyword is not a command this crate knows.
    #[error("unknown command")]
    Unknown,
    /// The line is not UTF-8, or holds a control character.
    #[error("invalid characters in command")]
    InvalidCharacters,
    /// A required argument is missing.
    #[error("missing argument")]
    MissingArgument,
    /// More arguments than the command takes.
    #[error("too many arguments")]
    TooManyArguments,
    /// An argument is longer than [`CommandOptions::max_arg_len`].
    #[error("argument too long")]
    ArgumentTooLong,
    /// An argument is not what the command takes (a message number, a digest...).
    #[error("invalid argument")]
    InvalidArgument,
}

/// Finds one CRLF-terminated command at the start of `input`. `Ok(None)` means no complete
/// line yet (push more bytes); `Ok(Some((command, consumed)))` gives the command and the
/// octets it took, CRLF included. A line too long is an error as soon as it is known.
pub fn decode_command(
    input: &[u8],
    options: &CommandOptions,
) -> Result<Option<(Command, usize)>, CommandError> {
    match mailwire_core::line::find_crlf(input, 0) {
        Some(cr) => {
            if cr + 2 > options.max_line_len {
                return Err(CommandError::LineTooLong);
            }
            let line = input.get(..cr).unwrap_or_default();
            parse_command(line, options).map(|c| Some((c, cr + 2)))
        }
        None => {
            let known = input.len() - usize::from(input.last() == Some(&b'\r'));
            if known + 2 > options.max_line_len {
                Err(CommandError::LineTooLong)
            } else {
                Ok(None)
            }
        }
    }
}

/// Parses one command line (without its CRLF).
pub fn parse_command(line: &[u8], options: &CommandOptions) -> Result<Command, CommandError> {
    if line.len() + 2 > options.max_line_len {
        return Err(CommandError::LineTooLong);
    }
    let line = std::str::from_utf8(line).map_err(|_| CommandError::InvalidCharacters)?;
    if line.chars().any(|c| c.is_control()) {
        return Err(CommandError::InvalidCharacters);
    }
    if line.trim_matches(' ').is_empty() {
        return Err(CommandError::Empty);
    }
    let (keyword, rest) = match line.split_once(' ') {
        Some((k, r)) => (k, Some(r)),
        None => (line, None),
    };
    let upper = keyword.to_ascii_uppercase();
    // PASS takes the rest of the line verbatim (RFC 1939 section 7).
    if upper == "PASS" {
        let password = rest
            .filter(|r| !r.is_empty())
            .ok_or(CommandError::MissingArgument)?;
        return Password::new(password)
            .map(Command::Pass)
            .map_err(|_| CommandError::InvalidArgument);
    }
    let args: Vec<&str> = match rest {
        // Trailing spaces are tolerated; empty arguments between spaces are not.
        Some(r) => {
            let r = r.trim_end_matches(' ');
            if r.is_empty() {
                Vec::new()
            } else {
                r.split(' ').collect()
            }
        }
        None => Vec::new(),
    };
    if args.iter().any(|a| a.is_empty()) {
        return Err(CommandError::InvalidArgument);
    }
    let max = options.max_arg_len;
    let arg = |s: &str| -> Result<Arg, CommandError> {
        if s.chars().count() > max {
            return Err(CommandError::ArgumentTooLong);
        }
        Arg::new(s).map_err(|e| match e {
            ValueError::TooLong { .. } => CommandError::ArgumentTooLong,
            _ => CommandError::InvalidArgument,
        })
    };
    let command = match (upper.as_str(), args.as_slice()) {
        ("USER", [name]) => Command::User(arg(name)?),
        ("APOP", [name, digest]) => Command::Apop {
            name: arg(name)?,
            digest: ApopDigest::from_hex(digest.as_bytes()).ok_or(CommandError::InvalidArgument)?,
        },
        ("AUTH", [mechanism]) => Command::Auth {
            mechanism: mechanism_arg(mechanism)?,
            initial_response: None,
        },
        ("AUTH", [mechanism, ir]) => {
            let mechanism = mechanism_arg(mechanism)?;
            let data = match sasl::decode_response(ir.as_bytes(), options.max_line_len) {
                Ok(SaslResponse::Data(data)) => data,
                Ok(SaslResponse::Cancel) | Err(_) => return Err(CommandError::InvalidArgument),
            };
            Command::Auth {
                mechanism,
                initial_response: Some(data.into()),
            }
        }
        ("STAT", []) => Command::Stat,
        ("LIST", []) => Command::List(None),
        ("LIST", [n]) => Command::List(Some(number(n, max)?)),
        ("RETR", [n]) => Command::Retr(number(n, max)?),
        ("DELE", [n]) => Command::Dele(number(n, max)?),
        ("NOOP", []) => Command::Noop,
        ("RSET", []) => Command::Rset,
        ("QUIT", []) => Command::Quit,
        ("TOP", [n, lines]) => Command::Top {
            msg: number(n, max)?,
            lines: number(lines, max)?,
        },
        ("UIDL", []) => Command::Uidl(None),
        ("UIDL", [n]) => Command::Uidl(Some(number(n, max)?)),
        ("CAPA", []) => Command::Capa,
        ("STLS", []) => Command::Stls,
        ("UTF8", []) => Command::Utf8,
        ("LANG", []) => Command::Lang(None),
        ("LANG", [tag]) => Command::Lang(Some(arg(tag)?)),
        (
            "USER" | "APOP" | "AUTH" | "LIST" | "RETR" | "DELE" | "TOP" | "UIDL" | "LANG" | "STAT"
            | "NOOP" | "RSET" | "QUIT" | "CAPA" | "STLS" | "UTF8",
            args,
        ) => {
            let needed = match upper.as_str() {
                "APOP" | "TOP" => 2,
                "USER" | "AUTH" | "RETR" | "DELE" => 1,
                _ => 0,
            };
            return Err(if args.len() < needed {
                CommandError::MissingArgument
            } else {
                CommandError::TooManyArguments
            });
        }
        _ => return Err(CommandError::Unknown),
    };
    Ok(command)
}

fn mechanism_arg(name: &str) -> Result<Mechanism, CommandError> {
    Mechanism::from_name(name).ok_or(CommandError::InvalidArgument)
}

/// A message number or line count: 1 to 10 digits that fit in `u32`.
fn number(s: &str, max: usize) -> Result<u32, CommandError> {
    if s.chars().count() > max {
        return Err(CommandError::ArgumentTooLong);
    }
    parse_u32(s).ok_or(CommandError::InvalidArgument)
}

fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Why a server line was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The line is not UTF-8 or holds a control character.
    #[error("invalid characters in response")]
    InvalidCharacters,
    /// The line does not start with `+OK`, `-ERR` or (during AUTH) `+`.
    #[error("response without +OK or -ERR status")]
    MissingStatus,
    /// The line is longer than this crate accepts.
    #[error("response line too long")]
    TooLong,
    /// A capability, listing or STAT answer is not well formed.
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// A line from a server: a status line, or an AUTH continuation `+ base64`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerLine {
    /// `+OK ...` or `-ERR ...`.
    Response(Response),
    /// `+ text` (RFC 5034): a SASL challenge in base64 (possibly empty).
    Continuation(String),
}

/// Splits `[code] rest` into the code and the text after it (one space dropped), when the
/// text begins with a valid response code.
pub(crate) fn split_code(text: &str) -> Option<(ResponseCode, &str)> {
    let inner = text.strip_prefix('[')?;
    let end = inner.find(']')?;
    let code = ResponseCode::new(inner.get(..end)?).ok()?;
    let rest = inner.get(end + 1..)?;
    Some((code, rest.strip_prefix(' ').unwrap_or(rest)))
}

fn checked_text(line: &[u8]) -> Result<&str, ResponseError> {
    if line.len() > Text::MAX_LEN + 10 {
        return Err(ResponseError::TooLong);
    }
    let text = std::str::from_utf8(line).map_err(|_| ResponseError::InvalidCharacters)?;
    if text.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(ResponseError::InvalidCharacters);
    }
    Ok(text)
}

/// Parses a status line (without its CRLF): `+OK`, `-ERR`, with an optional response code.
/// Status keywords are matched case-insensitively.
pub fn parse_response(line: &[u8]) -> Result<Response, ResponseError> {
    let text = checked_text(line)?;
    let (status, rest) = if text.get(..3).is_some_and(|s| s.eq_ignore_ascii_case("+OK")) {
        (Status::Ok, text.get(3..).unwrap_or_default())
    } else if text
        .get(..4)
        .is_some_and(|s| s.eq_ignore_ascii_case("-ERR"))
    {
        (Status::Err, text.get(4..).unwrap_or_default())
    } else {
        return Err(ResponseError::MissingStatus);
    };
    let rest = match rest.strip_prefix(' ') {
        Some(rest) => rest,
        None if rest.is_empty() => rest,
        None => return Err(ResponseError::MissingStatus),
    };
    let (code, text) = match split_code(rest) {
        Some((code, text)) => (Some(code), text),
        None => (None, rest),
    };
    let text = Text::new(text).map_err(|_| ResponseError::TooLong)?;
    Ok(Response::from_parts(status, code, text))
}

/// Parses any server line: a status line, or a continuation `+ text` / `+`.
pub fn parse_server_line(line: &[u8]) -> Result<ServerLine, ResponseError> {
    match line {
        b"+" => Ok(ServerLine::Continuation(String::new())),
        [b'+', b' ', rest @ ..] => {
            let text = checked_text(rest)?;
            Ok(ServerLine::Continuation(text.to_owned()))
        }
        _ => parse_response(line).map(ServerLine::Response),
    }
}

/// Parses one line of a `CAPA` answer (RFC 2449 section 5). Tags are case-insensitive.
pub fn parse_capability(line: &[u8]) -> Result<Capability, ResponseError> {
    const WHAT: &str = "capability";
    let text = checked_text(line)?;
    let malformed = ResponseError::Malformed(WHAT);
    let (tag, rest) = match text.split_once(' ') {
        Some((tag, rest)) => (tag, Some(rest)),
        None => (text, None),
    };
    if tag.is_empty() || tag.starts_with('.') {
        return Err(malformed);
    }
    let upper = tag.to_ascii_uppercase();
    if upper == "IMPLEMENTATION" {
        let text = Text::new(rest.unwrap_or_default()).map_err(|_| malformed.clone())?;
        return Ok(Capability::Implementation(text));
    }
    let params: Vec<&str> = rest
        .map(|r| r.split(' ').filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let user_flag = |p: &[&str]| match p {
        [] => Some(false),
        [u] if u.eq_ignore_ascii_case("USER") => Some(true),
        _ => None,
    };
    let cap = match (upper.as_str(), params.as_slice()) {
        ("TOP", []) => Capability::Top,
        ("USER", []) => Capability::User,
        ("STLS", []) => Capability::Stls,
        ("UIDL", []) => Capability::Uidl,
        ("PIPELINING", []) => Capability::Pipelining,
        ("RESP-CODES", []) => Capability::RespCodes,
        ("AUTH-RESP-CODE", []) => Capability::AuthRespCode,
        ("LANG", []) => Capability::Lang,
        ("SASL", mechs) => Capability::Sasl(
            mechs
                .iter()
                .map(|m| Mechanism::from_name(m).ok_or(malformed.clone()))
                .collect::<Result<_, _>>()?,
        ),
        ("EXPIRE", [policy, more @ ..]) => {
            let policy = if policy.eq_ignore_ascii_case("NEVER") {
                ExpirePolicy::Never
            } else {
                ExpirePolicy::Days(parse_u32(policy).ok_or(malformed.clone())?)
            };
            let per_user = user_flag(more).ok_or(malformed.clone())?;
            Capability::Expire { policy, per_user }
        }
        ("LOGIN-DELAY", [seconds, more @ ..]) => Capability::LoginDelay {
            seconds: parse_u32(seconds).ok_or(malformed.clone())?,
            per_user: user_flag(more).ok_or(malformed.clone())?,
        },
        ("UTF8", more) => Capability::Utf8 {
            user: user_flag(more).ok_or(malformed.clone())?,
        },
        _ => Capability::Other {
            name: Arg::new(tag).map_err(|_| malformed.clone())?,
            params: params
                .iter()
                .map(|p| Arg::new(*p).map_err(|_| malformed.clone()))
                .collect::<Result<_, _>>()?,
        },
    };
    Ok(cap)
}

/// Parses a scan listing `msg size` (a `LIST` line, or the text of `+OK` to `LIST n`).
/// Text after the size is allowed and ignored (RFC 1939 section 5).
pub fn parse_scan_listing(text: &[u8]) -> Result<ScanListing, ResponseError> {
    let text = checked_text(text)?;
    let mut parts = text.split(' ');
    let msg = parts.next().and_then(parse_u32);
    let size = parts.next().and_then(parse_u64);
    match (msg, size) {
        (Some(msg), Some(size)) => Ok(ScanListing { msg, size }),
        _ => Err(ResponseError::Malformed("scan listing")),
    }
}

/// Parses a unique-id listing `msg uid` (a `UIDL` line, or the text of `+OK` to `UIDL n`).
pub fn parse_uid_listing(text: &[u8]) -> Result<UidListing, ResponseError> {
    let text = checked_text(text)?;
    let mut parts = text.split(' ');
    let msg = parts.next().and_then(parse_u32);
    let uid = parts.next().and_then(|u| Uid::new(u).ok());
    match (msg, uid) {
        (Some(msg), Some(uid)) => Ok(UidListing { msg, uid }),
        _ => Err(ResponseError::Malformed("unique-id listing")),
    }
}

/// Parses the text of a `+OK` answer to `STAT`: `count size` (RFC 1939 section 5).
pub fn parse_stat(text: &str) -> Result<(u32, u64), ResponseError> {
    let mut parts = text.split(' ');
    let count = parts.next().and_then(parse_u32);
    let size = parts.next().and_then(parse_u64);
    match (count, size) {
        (Some(count), Some(size)) => Ok((count, size)),
        _ => Err(ResponseError::Malformed("drop listing")),
    }
}
