//! The command parser: one CRLF-terminated line at a time, from a buffer that may hold a
//! partial line (streaming), more than one line (pipelining, RFC 2920), or both.
//!
//! [`parse_command`] first frames the line (finds its LF within
//! [`CommandParseOptions::max_line_len`] octets), then parses it with nom's `complete`
//! combinators. "Need more bytes" is `Ok(None)`, not an error.
//!
//! ## What is tolerated beyond RFC 5321's grammar
//!
//! - verbs, `FROM:`/`TO:` and known parameter keywords and values in any case;
//! - spaces after the colon (`MAIL FROM: <a@b>`, sent by some clients);
//! - several spaces between parameters, and trailing spaces at the end of the line;
//! - source routes (`<@a,@b:user@c>`), which are dropped (RFC 5321 section 4.1.1.3);
//! - `HELO` with an address literal;
//! - lower-case hex digits in xtext.
//!
//! Not tolerated: a line ending in a bare LF (an error, so that the client gets an answer
//! rather than a hang), NUL or other control characters, a path without `<` `>`.
//!
//! ## Errors and replies
//!
//! [`CommandError::reply_code`] and [`CommandError::enhanced_code`] suggest the reply a
//! server sends (`500 5.5.1` for an unknown verb, `501 5.5.4` for bad arguments, ...); the
//! server is free to answer otherwise. [`CommandError::line_len`] says how much input the
//! bad line occupies, so that the server can skip it and go on with the next one.

use nom::IResult;
use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::combinator::all_consuming;
use nom::error::{ErrorKind, ParseError};
use nom::multi::separated_list1;
use nom::sequence::{preceded, tuple};

use crate::types::{
    AddressLiteral, Argument, BodyType, C_ATEXT, C_LDH, C_UTF8, C_XCHAR, Command, Domain,
    EnvelopeId, ForwardPath, GeneralLiteral, Host, LocalPart, MailParameters, Mailbox, Notify,
    OriginalRecipient, ParamKeyword, ParamValue, Parameter, RcptParameters, Ret, ReversePath,
    class, is_dcontent, scan_domain,
};
use mailwire_core::Secret;
use mailwire_core::sasl::Mechanism;

/// Limits and modes of [`parse_command`].
///
/// Build it with `CommandParseOptions::default()` and change the fields you need.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommandParseOptions {
    /// The longest command line, including CRLF. Default 12288: RFC 5321 allows 512, but
    /// ESMTP parameters lengthen `MAIL` and `RCPT` lines and RFC 4954 lets an `AUTH` line
    /// with an initial response reach 12288 octets.
    pub max_line_len: usize,
    /// The longest local part (decoded), in octets. Default 64 (RFC 5321 4.5.3.1.1); it
    /// cannot be raised past [`LocalPart::MAX_LEN`].
    pub max_local_part_len: usize,
    /// The longest path as sent, from `<` to `>` inclusive. Default 256 (RFC 5321
    /// 4.5.3.1.3).
    pub max_path_len: usize,
    /// Accept UTF-8 in addresses, parameter values and arguments (RFC 6531). Set it when
    /// the server advertises `SMTPUTF8`; whether a given `MAIL` transaction asked for it
    /// is for the server to check with [`Command::needs_smtputf8`]. Default `false`: a
    /// non-ASCII address is then [`CommandErrorKind::Utf8NotEnabled`].
    pub smtputf8: bool,
    /// Refuse `MAIL`/`RCPT` parameters mailwire has no field for with
    /// [`CommandErrorKind::UnknownParameter`] instead of keeping them. Default `false`.
    pub reject_unknown_parameters: bool,
}

impl Default for CommandParseOptions {
    fn default() -> Self {
        CommandParseOptions {
            max_line_len: 12288,
            max_local_part_len: 64,
            max_path_len: 256,
            smtputf8: false,
            reject_unknown_parameters: false,
        }
    }
}

/// A command line that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct CommandError {
    kind: CommandErrorKind,
    line_len: Option<usize>,
}

impl CommandError {
    fn new(kind: CommandErrorKind, line_len: Option<usize>) -> CommandError {
        CommandError { kind, line_len }
    }

    /// What is wrong.
    pub fn kind(&self) -> &CommandErrorKind {
        &self.kind
    }

    /// The number of input octets the bad line occupies, through its LF: skip them and
    /// parse on. `None` only for [`CommandErrorKind::LineTooLong`] when the end of the line
    /// has not arrived yet: discard everything buffered, and go on discarding up to and
    /// including the next LF.
    pub fn line_len(&self) -> Option<usize> {
        self.line_len
    }

    /// The suggested reply code (RFC 5321 section 4.2.3).
    pub fn reply_code(&self) -> u16 {
        self.kind.reply_code()
    }

    /// The suggested enhanced status code (RFC 3463), e.g. `"5.5.4"`.
    pub fn enhanced_code(&self) -> &'static str {
        self.kind.enhanced_code()
    }
}

/// The kinds of [`CommandError`], each with the reply a server would usually send.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandErrorKind {
    /// The line is longer than `max_line_len` (`500 5.5.2`).
    #[error("line too long")]
    LineTooLong,
    /// The line ends in a LF without CR (`500 5.5.2`).
    #[error("line ends in a bare LF")]
    BareLineFeed,
    /// The verb is not a command mailwire knows (`500 5.5.1`).
    #[error("unknown command")]
    UnknownCommand,
    /// The arguments of a known verb do not follow the grammar (`501 5.5.4`).
    #[error("syntax error in arguments: {0}")]
    InvalidArguments(&'static str),
    /// The `MAIL FROM:` path is malformed or too long (`501 5.1.7`).
    #[error("bad sender address: {0}")]
    InvalidReversePath(&'static str),
    /// The `RCPT TO:` path is malformed or too long (`501 5.1.3`).
    #[error("bad recipient address: {0}")]
    InvalidForwardPath(&'static str),
    /// An address holds non-ASCII text but SMTPUTF8 is not enabled (`553 5.6.7`).
    #[error("non-ASCII address without SMTPUTF8")]
    Utf8NotEnabled,
    /// A known parameter has a malformed value, or one that needs none has one
    /// (`501 5.5.4`).
    #[error("invalid value for parameter {0}")]
    InvalidParameter(&'static str),
    /// A known parameter appears twice (`501 5.5.4`).
    #[error("duplicate parameter {0}")]
    DuplicateParameter(&'static str),
    /// A parameter mailwire does not know, with `reject_unknown_parameters` set
    /// (`555 5.5.4`).
    #[error("unrecognized parameter {0}")]
    UnknownParameter(String),
}

impl CommandErrorKind {
    /// The suggested reply code.
    pub fn reply_code(&self) -> u16 {
        match self {
            CommandErrorKind::LineTooLong
            | CommandErrorKind::BareLineFeed
            | CommandErrorKind::UnknownCommand => 500,
            CommandErrorKind::InvalidArguments(_)
            | CommandErrorKind::InvalidReversePath(_)
            | CommandErrorKind::InvalidForwardPath(_)
            | CommandErrorKind::InvalidParameter(_)
            | CommandErrorKind::DuplicateParameter(_) => 501,
            CommandErrorKind::Utf8NotEnabled => 553,
            CommandErrorKind::UnknownParameter(_) => 555,
        }
    }

    /// The suggested enhanced status code.
    pub fn enhanced_code(&self) -> &'static str {
        match self {
            CommandErrorKind::LineTooLong | CommandErrorKind::BareLineFeed => "5.5.2",
            CommandErrorKind::UnknownCommand => "5.5.1",
            CommandErrorKind::InvalidArguments(_)
            | CommandErrorKind::InvalidParameter(_)
            | CommandErrorKind::DuplicateParameter(_)
            | CommandErrorKind::UnknownParameter(_) => "5.5.4",
            CommandErrorKind::InvalidReversePath(_) => "5.1.7",
            CommandErrorKind::InvalidForwardPath(_) => "5.1.3",
            CommandErrorKind::Utf8NotEnabled => "5.6.7",
        }
    }
}

/// Parses one command line from the start of `input`.
///
/// Returns `Ok(Some((command, consumed)))` with the number of octets of the line including
/// its CRLF, `Ok(None)` when the line is not complete yet (feed more bytes and call again
/// with the whole buffer), or an error whose [`CommandError::line_len`] says what to skip.
///
/// ```
/// use mailwire_smtp::parse::{parse_command, CommandParseOptions};
/// use mailwire_smtp::types::{Command, ForwardPath};
///
/// let opts = CommandParseOptions::default();
/// let input = b"RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE\r\nDATA\r\n";
/// let (cmd, used) = parse_command(input, &opts).unwrap().unwrap();
/// let Command::Rcpt { to: ForwardPath::Mailbox(mbox), params } = &cmd else { panic!() };
/// assert_eq!(mbox.local_part.as_str(), "bob");
/// assert!(params.notify.unwrap().success);
/// assert_eq!(parse_command(&input[used..], &opts).unwrap(), Some((Command::Data, 6)));
/// assert_eq!(parse_command(b"DA", &opts).unwrap(), None);
/// ```
pub fn parse_command(
    input: &[u8],
    opts: &CommandParseOptions,
) -> Result<Option<(Command, usize)>, CommandError> {
    let max = opts.max_line_len.max(2);
    let window = input.get(..max).unwrap_or(input);
    let lf = match memchr::memchr(b'\n', window) {
        Some(lf) => lf,
        None if input.len() < max => return Ok(None),
        None => {
            let rest = input.get(max..).unwrap_or_default();
            let len = memchr::memchr(b'\n', rest).map(|i| max + i + 1);
            return Err(CommandError::new(CommandErrorKind::LineTooLong, len));
        }
    };
    let consumed = lf + 1;
    let line = match lf
        .checked_sub(1)
        .and_then(|cr| input.get(..cr).zip(input.get(cr)))
    {
        Some((line, b'\r')) => line,
        _ => {
            return Err(CommandError::new(
                CommandErrorKind::BareLineFeed,
                Some(consumed),
            ));
        }
    };
    match parse_line(line, opts) {
        Ok(cmd) => Ok(Some((cmd, consumed))),
        Err(kind) => Err(CommandError::new(kind, Some(consumed))),
    }
}

/// Parses a command line without its CRLF (e.g. one framed by
/// `mailwire_core::line`). `line` must not contain CR or LF.
pub fn parse_command_line(
    line: &[u8],
    opts: &CommandParseOptions,
) -> Result<Command, CommandError> {
    if line.len() + 2 > opts.max_line_len {
        return Err(CommandError::new(
            CommandErrorKind::LineTooLong,
            Some(line.len()),
        ));
    }
    parse_line(line, opts).map_err(|kind| CommandError::new(kind, Some(line.len())))
}

// ---------------------------------------------------------------------------------------
// nom plumbing: a tiny error type carrying a reason, mapped to a kind at the call site.
//
// The line is checked as UTF-8 once; the grammar functions work on `&str` and look at its
// octets. Every scan below treats all non-ASCII octets alike (accepts them all or stops at
// the first), so the places where it splits are always character boundaries.

#[derive(Debug)]
struct PErr(&'static str);

impl<I> ParseError<I> for PErr {
    fn from_error_kind(_: I, _: ErrorKind) -> Self {
        PErr("syntax error")
    }
    fn append(_: I, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, PErr>;

fn fail<T>(reason: &'static str) -> Res<'static, T> {
    Err(nom::Err::Error(PErr(reason)))
}

fn reason(e: nom::Err<PErr>) -> &'static str {
    match e {
        nom::Err::Error(p) | nom::Err::Failure(p) => p.0,
        nom::Err::Incomplete(_) => "incomplete",
    }
}

/// Splits `s` at the first `c` (an ASCII octet), the `c` going with the second part.
fn split_at_byte(s: &str, c: u8) -> (&str, &str) {
    let len = s.bytes().position(|b| b == c).unwrap_or(s.len());
    s.split_at_checked(len).unwrap_or((s, ""))
}

/// `s` without its leading spaces.
fn skip_spaces(s: &str) -> &str {
    let n = s.bytes().position(|b| b != b' ').unwrap_or(s.len());
    s.get(n..).unwrap_or_default()
}

fn utf8(b: &[u8]) -> Result<&str, CommandErrorKind> {
    std::str::from_utf8(b).map_err(|_| CommandErrorKind::InvalidArguments("invalid UTF-8"))
}

// ---------------------------------------------------------------------------------------
// The line.

fn parse_line(line: &[u8], opts: &CommandParseOptions) -> Result<Command, CommandErrorKind> {
    // Trailing spaces are tolerated.
    let end = line.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    let line = line.get(..end).unwrap_or_default();
    let verb_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let (verb, rest) = line.split_at(verb_end);
    let no_arg = |rest: &[u8], cmd: Command| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(CommandErrorKind::InvalidArguments(
                "this command takes no argument",
            ))
        }
    };
    let bad = CommandErrorKind::InvalidArguments;
    if verb.len() == 4 {
        let mut v = [0u8; 4];
        v.copy_from_slice(verb);
        v.make_ascii_uppercase();
        match &v {
            b"MAIL" => return parse_mail(utf8(rest)?, opts),
            b"RCPT" => return parse_rcpt(utf8(rest)?, opts),
            b"EHLO" | b"HELO" | b"LHLO" => {
                let host = arg(utf8(rest)?).ok_or(bad("a domain is required"))?;
                let host = parse_host_arg(host, opts)?;
                return Ok(match &v {
                    b"EHLO" => Command::Ehlo(host),
                    b"HELO" => Command::Helo(host),
                    _ => Command::Lhlo(host),
                });
            }
            b"DATA" => return no_arg(rest, Command::Data),
            b"RSET" => return no_arg(rest, Command::Rset),
            b"QUIT" => return no_arg(rest, Command::Quit),
            b"NOOP" => return Ok(Command::Noop(opt_argument(rest, opts)?)),
            b"HELP" => return Ok(Command::Help(opt_argument(rest, opts)?)),
            b"VRFY" | b"EXPN" => {
                let a = opt_argument(rest, opts)?.ok_or(bad("an argument is required"))?;
                return Ok(if &v == b"VRFY" {
                    Command::Vrfy(a)
                } else {
                    Command::Expn(a)
                });
            }
            b"BDAT" => return parse_bdat(arg(utf8(rest)?).unwrap_or_default()),
            b"AUTH" => return parse_auth(arg(utf8(rest)?).unwrap_or_default()),
            _ => {}
        }
    } else if verb.eq_ignore_ascii_case(b"STARTTLS") {
        return no_arg(rest, Command::StartTls);
    }
    Err(CommandErrorKind::UnknownCommand)
}

/// One or more spaces, then the argument (trailing spaces already gone).
fn arg(rest: &str) -> Option<&str> {
    let arg = skip_spaces(rest);
    (!arg.is_empty()).then_some(arg)
}

fn opt_argument(
    rest: &[u8],
    opts: &CommandParseOptions,
) -> Result<Option<Argument>, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    if !opts.smtputf8 && !rest.is_ascii() {
        return Err(bad("non-ASCII argument without SMTPUTF8"));
    }
    let Some(arg) = arg(utf8(rest)?) else {
        return Ok(None);
    };
    Argument::validate(arg).map_err(|_| bad("invalid characters in argument"))?;
    Ok(Some(Argument::new_unchecked(arg.to_owned())))
}

fn parse_host_arg(arg: &str, opts: &CommandParseOptions) -> Result<Host, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let (rest, host) = host(arg).map_err(|e| bad(reason(e)))?;
    if !rest.is_empty() {
        return Err(bad("unexpected text after the domain"));
    }
    if !opts.smtputf8 && host.needs_smtputf8() {
        return Err(CommandErrorKind::Utf8NotEnabled);
    }
    Ok(host)
}

fn parse_bdat(arg: &str) -> Result<Command, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let (digits, rest) = split_at_byte(arg, b' ');
    let last = match arg_or_empty(rest) {
        "" => false,
        l if l.eq_ignore_ascii_case("LAST") => true,
        _ => return Err(bad("expected BDAT size [LAST]")),
    };
    let size = parse_u64(digits).ok_or(bad("expected BDAT size [LAST]"))?;
    Ok(Command::Bdat { size, last })
}

fn arg_or_empty(rest: &str) -> &str {
    skip_spaces(rest)
}

/// Parses 1 or more ASCII digits into a `u64`; `None` if empty, not digits, or too large.
fn parse_u64(digits: &str) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.bytes().try_fold(0u64, |acc, d| {
        if !d.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn parse_auth(arg: &str) -> Result<Command, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let (mech, rest) = split_at_byte(arg, b' ');
    let mechanism = Mechanism::from_name(mech).ok_or(bad("invalid SASL mechanism name"))?;
    let initial_response = match arg_or_empty(rest) {
        "" => None,
        "=" => Some(Secret::new(Vec::new())),
        b64 => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| bad("initial response is not base64"))?;
            if bytes.is_empty() {
                return Err(bad("initial response is not base64"));
            }
            Some(Secret::new(bytes))
        }
    };
    Ok(Command::Auth {
        mechanism,
        initial_response,
    })
}

// ---------------------------------------------------------------------------------------
// MAIL and RCPT.

/// `" FROM:"` / `" TO:"` then optional spaces (tolerated), returning what follows.
fn after_keyword<'a>(rest: &'a str, kw: &'static str) -> Option<&'a str> {
    let rest = rest.strip_prefix(' ')?;
    let rest = strip_prefix_ci(rest, kw)?.strip_prefix(':')?;
    Some(skip_spaces(rest))
}

/// `s` without the ASCII prefix `p`, compared case-insensitively.
fn strip_prefix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    let head = s.as_bytes().get(..p.len())?;
    if head.eq_ignore_ascii_case(p.as_bytes()) {
        s.get(p.len()..)
    } else {
        None
    }
}

fn path_error(e: PathError, bad_path: fn(&'static str) -> CommandErrorKind) -> CommandErrorKind {
    match e {
        PathError::Syntax(r) | PathError::TooLong(r) => bad_path(r),
        PathError::Utf8 => CommandErrorKind::Utf8NotEnabled,
    }
}

fn parse_mail(rest: &str, opts: &CommandParseOptions) -> Result<Command, CommandErrorKind> {
    let rest = after_keyword(rest, "FROM").ok_or(CommandErrorKind::InvalidArguments(
        "expected MAIL FROM:<reverse-path>",
    ))?;
    let (rest, from) = if let Some(rest) = rest.strip_prefix("<>") {
        (rest, ReversePath::Null)
    } else {
        let (rest, mbox) =
            path(rest, opts).map_err(|e| path_error(e, CommandErrorKind::InvalidReversePath))?;
        (rest, ReversePath::Mailbox(mbox))
    };
    let mut params = MailParameters::default();
    for_each_param(rest, |kw, value| mail_param(&mut params, kw, value, opts))?;
    Ok(Command::Mail { from, params })
}

fn parse_rcpt(rest: &str, opts: &CommandParseOptions) -> Result<Command, CommandErrorKind> {
    let rest = after_keyword(rest, "TO").ok_or(CommandErrorKind::InvalidArguments(
        "expected RCPT TO:<forward-path>",
    ))?;
    let (rest, to) = if let Some(rest) = strip_prefix_ci(rest, "<postmaster>") {
        (rest, ForwardPath::Postmaster)
    } else {
        let (rest, mbox) =
            path(rest, opts).map_err(|e| path_error(e, CommandErrorKind::InvalidForwardPath))?;
        (rest, ForwardPath::Mailbox(mbox))
    };
    let mut params = RcptParameters::default();
    for_each_param(rest, |kw, value| rcpt_param(&mut params, kw, value, opts))?;
    Ok(Command::Rcpt { to, params })
}

/// Splits `[SP esmtp-param *(SP esmtp-param)]` (several spaces tolerated) and calls `f`
/// with each keyword and raw value.
fn for_each_param<'a>(
    rest: &'a str,
    mut f: impl FnMut(&'a str, Option<&'a str>) -> Result<(), CommandErrorKind>,
) -> Result<(), CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    if rest.is_empty() {
        return Ok(());
    }
    if !rest.starts_with(' ') {
        return Err(bad("expected a space before parameters"));
    }
    let mut rest = rest;
    loop {
        rest = skip_spaces(rest);
        if rest.is_empty() {
            return Ok(());
        }
        let (param, more) = split_at_byte(rest, b' ');
        rest = more;
        let (kw, value) = match split_at_byte(param, b'=') {
            (kw, "") => (kw, None),
            (kw, value) => (kw, value.get(1..)),
        };
        let kw_ok = kw.len() <= 64
            && kw.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
            && kw.bytes().all(|b| class(b, C_LDH));
        if !kw_ok {
            return Err(bad("invalid parameter keyword"));
        }
        f(kw, value)?;
    }
}

/// Validates an unknown parameter and turns it into a [`Parameter`].
fn other_param(
    kw: &str,
    value: Option<&str>,
    opts: &CommandParseOptions,
) -> Result<Parameter, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    if opts.reject_unknown_parameters {
        return Err(CommandErrorKind::UnknownParameter(kw.to_owned()));
    }
    let value = match value {
        None => None,
        Some(v) => {
            if !opts.smtputf8 && !v.is_ascii() {
                return Err(bad("non-ASCII parameter value without SMTPUTF8"));
            }
            ParamValue::validate(v).map_err(|_| bad("invalid parameter value"))?;
            Some(ParamValue::new_unchecked(v.to_owned()))
        }
    };
    Ok(Parameter {
        keyword: ParamKeyword::new_unchecked(kw.to_owned()),
        value,
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), CommandErrorKind> {
    if slot.is_some() {
        return Err(CommandErrorKind::DuplicateParameter(name));
    }
    *slot = Some(value);
    Ok(())
}

fn set_flag(
    flag: &mut bool,
    value: Option<&str>,
    name: &'static str,
) -> Result<(), CommandErrorKind> {
    if value.is_some() {
        return Err(CommandErrorKind::InvalidParameter(name));
    }
    if *flag {
        return Err(CommandErrorKind::DuplicateParameter(name));
    }
    *flag = true;
    Ok(())
}

/// The canonical name of a keyword mailwire has a field for, in any case.
fn known_keyword(kw: &str) -> Option<&'static str> {
    let first = kw.as_bytes().first()?.to_ascii_uppercase();
    let canon = match (kw.len(), first) {
        (3, b'R') => "RET",
        (4, b'S') => "SIZE",
        (4, b'B') => "BODY",
        (4, b'A') => "AUTH",
        (5, b'E') => "ENVID",
        (5, b'O') => "ORCPT",
        (6, b'N') => "NOTIFY",
        (8, b'S') => "SMTPUTF8",
        (10, b'R') => "REQUIRETLS",
        _ => return None,
    };
    kw.eq_ignore_ascii_case(canon).then_some(canon)
}

fn mail_param(
    params: &mut MailParameters,
    kw: &str,
    value: Option<&str>,
    opts: &CommandParseOptions,
) -> Result<(), CommandErrorKind> {
    let invalid = CommandErrorKind::InvalidParameter;
    let name = match known_keyword(kw) {
        Some("SMTPUTF8") => return set_flag(&mut params.smtputf8, value, "SMTPUTF8"),
        Some("REQUIRETLS") => return set_flag(&mut params.requiretls, value, "REQUIRETLS"),
        Some(name @ ("SIZE" | "BODY" | "RET" | "ENVID" | "AUTH")) => name,
        _ => {
            params.push_other_unchecked(other_param(kw, value, opts)?);
            return Ok(());
        }
    };
    let v = value.ok_or(invalid(name))?;
    match name {
        "SIZE" => {
            let size = (v.len() <= 20)
                .then(|| parse_u64(v))
                .flatten()
                .ok_or(invalid("SIZE"))?;
            set_once(&mut params.size, size, "SIZE")
        }
        "BODY" => {
            let body = if v.eq_ignore_ascii_case("8BITMIME") {
                BodyType::EightBitMime
            } else if v.eq_ignore_ascii_case("7BIT") {
                BodyType::SevenBit
            } else if v.eq_ignore_ascii_case("BINARYMIME") {
                BodyType::BinaryMime
            } else {
                return Err(invalid("BODY"));
            };
            set_once(&mut params.body, body, "BODY")
        }
        "RET" => {
            let ret = if v.eq_ignore_ascii_case("FULL") {
                Ret::Full
            } else if v.eq_ignore_ascii_case("HDRS") {
                Ret::Hdrs
            } else {
                return Err(invalid("RET"));
            };
            set_once(&mut params.ret, ret, "RET")
        }
        "ENVID" => {
            let id = xtext_decode_ascii(v).ok_or(invalid("ENVID"))?;
            EnvelopeId::validate(&id).map_err(|_| invalid("ENVID"))?;
            set_once(&mut params.envid, EnvelopeId::new_unchecked(id), "ENVID")
        }
        _ => {
            let decoded = xtext_decode(v.as_bytes())
                .and_then(|d| String::from_utf8(d).ok())
                .ok_or(invalid("AUTH"))?;
            let path = if decoded == "<>" {
                ReversePath::Null
            } else {
                let mbox = parse_mailbox_str(&decoded).ok_or(invalid("AUTH"))?;
                if !opts.smtputf8 && mbox.needs_smtputf8() {
                    return Err(CommandErrorKind::Utf8NotEnabled);
                }
                ReversePath::Mailbox(mbox)
            };
            set_once(&mut params.auth, path, "AUTH")
        }
    }
}

fn rcpt_param(
    params: &mut RcptParameters,
    kw: &str,
    value: Option<&str>,
    opts: &CommandParseOptions,
) -> Result<(), CommandErrorKind> {
    let invalid = CommandErrorKind::InvalidParameter;
    let name = match known_keyword(kw) {
        Some(name @ ("NOTIFY" | "ORCPT")) => name,
        _ => {
            params.push_other_unchecked(other_param(kw, value, opts)?);
            return Ok(());
        }
    };
    let v = value.ok_or(invalid(name))?;
    if name == "NOTIFY" {
        let notify = if v.eq_ignore_ascii_case("NEVER") {
            Notify::NEVER
        } else {
            let mut n = Notify::NEVER;
            for item in v.as_bytes().split(|&b| b == b',') {
                if item.eq_ignore_ascii_case(b"SUCCESS") {
                    n.success = true;
                } else if item.eq_ignore_ascii_case(b"FAILURE") {
                    n.failure = true;
                } else if item.eq_ignore_ascii_case(b"DELAY") {
                    n.delay = true;
                } else {
                    return Err(invalid("NOTIFY"));
                }
            }
            n
        };
        set_once(&mut params.notify, notify, "NOTIFY")
    } else {
        let (addr_type, xtext) = match split_at_byte(v, b';') {
            (_, "") => return Err(invalid("ORCPT")),
            (addr_type, xtext) => (addr_type, xtext.get(1..).unwrap_or_default()),
        };
        let address = xtext_decode_ascii(xtext).ok_or(invalid("ORCPT"))?;
        OriginalRecipient::validate(addr_type, &address).map_err(|_| invalid("ORCPT"))?;
        // (Decoded xtext is ASCII; validate also checks it is printable.)
        let orcpt = OriginalRecipient::new_unchecked(addr_type.to_owned(), address);
        set_once(&mut params.orcpt, orcpt, "ORCPT")
    }
}

/// Decodes RFC 3461 xtext into octets. Accepts lower-case hex digits; refuses characters
/// outside `xchar` and a `+` not followed by two hex digits.
///
/// ```
/// use mailwire_smtp::parse::xtext_decode;
/// assert_eq!(xtext_decode(b"a+2Bb+3D").as_deref(), Some(&b"a+b="[..]));
/// assert_eq!(xtext_decode(b"a b"), None);
/// ```
pub fn xtext_decode(v: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = v.iter();
    while let Some(&b) = i.next() {
        if b == b'+' {
            let hi = (*i.next()? as char).to_digit(16)?;
            let lo = (*i.next()? as char).to_digit(16)?;
            // Both digits are < 16, so the value fits a byte.
            out.push((hi * 16 + lo) as u8);
        } else if class(b, C_XCHAR) {
            out.push(b);
        } else {
            return None;
        }
    }
    Some(out)
}

/// Decodes xtext that must decode to ASCII.
fn xtext_decode_ascii(v: &str) -> Option<String> {
    if !v.as_bytes().contains(&b'+') {
        // Fast path: nothing to decode.
        return v.bytes().all(|b| class(b, C_XCHAR)).then(|| v.to_owned());
    }
    let bytes = xtext_decode(v.as_bytes())?;
    if bytes.is_ascii() {
        String::from_utf8(bytes).ok()
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// Paths, mailboxes, domains.

enum PathError {
    Syntax(&'static str),
    TooLong(&'static str),
    Utf8,
}

/// `"<" [ A-d-l ":" ] Mailbox ">"`, returning what follows the `>`.
fn path<'a>(input: &'a str, opts: &CommandParseOptions) -> Result<(&'a str, Mailbox), PathError> {
    let (rest, mbox) = match path_syntax(input) {
        Ok((rest, mbox)) => (rest, mbox),
        Err(e) => {
            if !input.starts_with('<') {
                return Err(PathError::Syntax("the address must be in angle brackets"));
            }
            return Err(PathError::Syntax(reason(e)));
        }
    };
    let wire_len = input.len() - rest.len();
    if wire_len > opts.max_path_len {
        return Err(PathError::TooLong("path too long"));
    }
    if mbox.local_part.as_str().len() > opts.max_local_part_len {
        return Err(PathError::TooLong("local part too long"));
    }
    if !opts.smtputf8 && mbox.needs_smtputf8() {
        return Err(PathError::Utf8);
    }
    Ok((rest, mbox))
}

fn path_syntax(i: &str) -> Res<'_, Mailbox> {
    let (i, _) = tag("<")(i)?;
    let i = if i.starts_with('@') {
        let (i, _) = tuple((source_route, tag(":")))(i)?;
        i
    } else {
        i
    };
    let (i, mbox) = mailbox(i)?;
    let (i, _) = tag(">")(i).or_else(|_: nom::Err<PErr>| fail("expected '>'"))?;
    Ok((i, mbox))
}

/// `A-d-l = At-domain *( "," At-domain )`, discarded.
fn source_route(i: &str) -> Res<'_, ()> {
    let (i, _) = separated_list1(tag(","), preceded(tag("@"), domain))(i)?;
    Ok((i, ()))
}

/// `Local-part "@" ( Domain / address-literal )`.
fn mailbox(i: &str) -> Res<'_, Mailbox> {
    let (i, local) = alt((quoted_string, dot_string))(i)?;
    let (i, _) = tag("@")(i).or_else(|_: nom::Err<PErr>| fail("expected '@'"))?;
    let (i, domain) = host(i)?;
    Ok((i, Mailbox::new(local, domain)))
}

/// `Dot-string`, in one pass.
fn dot_string(i: &str) -> Res<'_, LocalPart> {
    let mut len = 0;
    let mut prev_dot = true;
    for b in i.bytes() {
        if b == b'.' {
            if prev_dot {
                return fail("invalid local part");
            }
            prev_dot = true;
        } else if class(b, C_ATEXT | C_UTF8) {
            prev_dot = false;
        } else {
            break;
        }
        len += 1;
    }
    if prev_dot {
        return fail("invalid local part");
    }
    let Some((s, rest)) = i.split_at_checked(len) else {
        return fail("invalid local part");
    };
    if s.len() > LocalPart::MAX_LEN {
        return fail("local part too long");
    }
    // A dot-string holds only atext, dots and UTF-8: a valid local part.
    Ok((rest, LocalPart::new_unchecked(s.to_owned())))
}

/// `DQUOTE *QcontentSMTP DQUOTE`, decoded.
fn quoted_string(i: &str) -> Res<'_, LocalPart> {
    let (i, _) = tag("\"")(i)?;
    let mut out = String::new();
    let mut chars = i.char_indices();
    let end = loop {
        match chars.next() {
            None => return fail("unterminated quoted string"),
            Some((pos, '"')) => break pos,
            Some((_, '\\')) => match chars.next() {
                Some((_, c @ ' '..='~')) => out.push(c),
                _ => return fail("invalid quoted pair"),
            },
            Some((_, c)) if matches!(c, ' '..='~') || !c.is_ascii() => out.push(c),
            Some(_) => return fail("invalid character in quoted string"),
        }
    };
    let rest = i.get(end + 1..).unwrap_or_default();
    if LocalPart::validate(&out).is_err() {
        return fail("local part too long");
    }
    Ok((rest, LocalPart::new_unchecked(out)))
}

/// `Domain / address-literal`.
fn host(i: &str) -> Res<'_, Host> {
    if i.starts_with('[') {
        let (i, lit) = address_literal(i)?;
        Ok((i, Host::Literal(lit)))
    } else {
        let (i, d) = domain(i)?;
        Ok((i, Host::Domain(d)))
    }
}

fn domain(i: &str) -> Res<'_, Domain> {
    let len = match scan_domain(i.as_bytes()) {
        Ok(len) => len,
        Err(reason) => return fail(reason),
    };
    let Some((d, rest)) = i.split_at_checked(len) else {
        return fail("invalid domain");
    };
    Ok((rest, Domain::new_unchecked(d.to_owned())))
}

fn address_literal(i: &str) -> Res<'_, AddressLiteral> {
    let (i, _) = tag("[")(i)?;
    let len = i.bytes().position(|b| !is_dcontent(b)).unwrap_or(i.len());
    let Some((inner, i)) = i.split_at_checked(len) else {
        return fail("invalid address literal");
    };
    let (i, _) = tag("]")(i).or_else(|_: nom::Err<PErr>| fail("expected ']'"))?;
    match literal_inner(inner) {
        Some(lit) => Ok((i, lit)),
        None => fail("invalid address literal"),
    }
}

fn literal_inner(inner: &str) -> Option<AddressLiteral> {
    match inner.split_once(':') {
        None => ipv4(inner).map(AddressLiteral::Ipv4),
        Some((tag, rest)) if tag.eq_ignore_ascii_case("IPv6") => {
            // std's parser follows RFC 4291 text forms, which is RFC 5321's IPv6-addr.
            rest.parse().ok().map(AddressLiteral::Ipv6)
        }
        Some((tag, content)) => GeneralLiteral::new(tag, content)
            .ok()
            .map(AddressLiteral::General),
    }
}

/// `Snum 3("." Snum)`, each 1 to 3 digits worth 0 to 255 (leading zeros allowed).
fn ipv4(s: &str) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then(|| octets.into())
}

/// Parses `[literal]` text, for `Host::try_from`.
pub(crate) fn parse_address_literal_str(s: &str) -> Option<AddressLiteral> {
    let r: Res<'_, AddressLiteral> = all_consuming(address_literal)(s);
    r.ok().map(|(_, lit)| lit)
}

/// Parses `local@domain` text (no brackets), for `Mailbox::try_from` and `AUTH=`.
pub(crate) fn parse_mailbox_str(s: &str) -> Option<Mailbox> {
    let r: Res<'_, Mailbox> = all_consuming(mailbox)(s);
    r.ok().map(|(_, m)| m)
}
