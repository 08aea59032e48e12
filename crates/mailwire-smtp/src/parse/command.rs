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
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1};
use nom::combinator::{all_consuming, opt};
use nom::error::{ErrorKind, ParseError};
use nom::multi::separated_list1;
use nom::sequence::{preceded, tuple};

use crate::types::{
    AddressLiteral, Argument, BodyType, Command, Domain, EnvelopeId, ForwardPath, GeneralLiteral,
    Host, LocalPart, MAIL_KEYWORDS, MailParameters, Mailbox, Notify, OriginalRecipient,
    ParamKeyword, ParamValue, Parameter, RCPT_KEYWORDS, RcptParameters, Ret, ReversePath, is_atext,
    is_dcontent, is_dot_string,
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

type Res<'a, T> = IResult<&'a [u8], T, PErr>;

fn fail<T>(reason: &'static str) -> Res<'static, T> {
    Err(nom::Err::Error(PErr(reason)))
}

fn reason(e: nom::Err<PErr>) -> &'static str {
    match e {
        nom::Err::Error(p) | nom::Err::Failure(p) => p.0,
        nom::Err::Incomplete(_) => "incomplete",
    }
}

fn to_str(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

// ---------------------------------------------------------------------------------------
// The line.

fn parse_line(line: &[u8], opts: &CommandParseOptions) -> Result<Command, CommandErrorKind> {
    // Trailing spaces are tolerated.
    let end = line.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    let line = line.get(..end).unwrap_or_default();
    let verb_end = memchr::memchr(b' ', line).unwrap_or(line.len());
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
            b"MAIL" => return parse_mail(rest, opts),
            b"RCPT" => return parse_rcpt(rest, opts),
            b"EHLO" | b"HELO" | b"LHLO" => {
                let host = arg(rest).ok_or(bad("a domain is required"))?;
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
            b"NOOP" => return Ok(Command::Noop(opt_argument(arg(rest), opts)?)),
            b"HELP" => return Ok(Command::Help(opt_argument(arg(rest), opts)?)),
            b"VRFY" | b"EXPN" => {
                let a = opt_argument(arg(rest), opts)?.ok_or(bad("an argument is required"))?;
                return Ok(if &v == b"VRFY" {
                    Command::Vrfy(a)
                } else {
                    Command::Expn(a)
                });
            }
            b"BDAT" => return parse_bdat(arg(rest).unwrap_or_default()),
            b"AUTH" => return parse_auth(arg(rest).unwrap_or_default()),
            _ => {}
        }
    } else if verb.eq_ignore_ascii_case(b"STARTTLS") {
        return no_arg(rest, Command::StartTls);
    }
    Err(CommandErrorKind::UnknownCommand)
}

/// One or more spaces, then the argument (trailing spaces already gone).
fn arg(rest: &[u8]) -> Option<&[u8]> {
    let start = rest.iter().position(|&b| b != b' ')?;
    rest.get(start..)
}

fn opt_argument(
    arg: Option<&[u8]>,
    opts: &CommandParseOptions,
) -> Result<Option<Argument>, CommandErrorKind> {
    let Some(arg) = arg else { return Ok(None) };
    let bad = CommandErrorKind::InvalidArguments;
    if !opts.smtputf8 && !arg.is_ascii() {
        return Err(bad("non-ASCII argument without SMTPUTF8"));
    }
    let s = to_str(arg).ok_or(bad("invalid UTF-8"))?;
    Argument::validate(s).map_err(|_| bad("invalid characters in argument"))?;
    Ok(Some(Argument::new_unchecked(s.to_owned())))
}

fn parse_host_arg(arg: &[u8], opts: &CommandParseOptions) -> Result<Host, CommandErrorKind> {
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

fn parse_bdat(arg: &[u8]) -> Result<Command, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let r: Res<'_, (&[u8], Option<&[u8]>)> = all_consuming(tuple((
        take_while1(|b: u8| b.is_ascii_digit()),
        opt(preceded(take_while1(|b| b == b' '), tag_no_case("LAST"))),
    )))(arg);
    let (_, (digits, last)) = r.map_err(|_| bad("expected BDAT size [LAST]"))?;
    let size = parse_u64(digits).ok_or(bad("chunk size too large"))?;
    Ok(Command::Bdat {
        size,
        last: last.is_some(),
    })
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?
            .checked_add(u64::from(d.wrapping_sub(b'0')))
    })
}

fn parse_auth(arg: &[u8]) -> Result<Command, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let r: Res<'_, (&[u8], Option<&[u8]>)> = all_consuming(tuple((
        take_while1(|b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        opt(preceded(
            take_while1(|b| b == b' '),
            take_while1(|b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='),
        )),
    )))(arg);
    let (_, (mech, ir)) = r.map_err(|_| bad("expected AUTH mechanism [initial-response]"))?;
    let mechanism = to_str(mech)
        .and_then(Mechanism::from_name)
        .ok_or(bad("invalid SASL mechanism name"))?;
    let initial_response = match ir {
        None => None,
        Some(b"=") => Some(Secret::new(Vec::new())),
        Some(b64) => {
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
fn after_keyword<'a>(rest: &'a [u8], kw: &'static str) -> Option<&'a [u8]> {
    let r: Res<'_, &[u8]> = preceded(
        tuple((tag(" "), tag_no_case(kw), tag(":"))),
        take_while(|b| b == b' '),
    )(rest);
    r.ok().map(|(rest, _)| rest)
}

fn parse_mail(rest: &[u8], opts: &CommandParseOptions) -> Result<Command, CommandErrorKind> {
    let bad_path = CommandErrorKind::InvalidReversePath;
    let rest = after_keyword(rest, "FROM").ok_or(CommandErrorKind::InvalidArguments(
        "expected MAIL FROM:<reverse-path>",
    ))?;
    let (rest, from) = if let Some(rest) = rest.strip_prefix(b"<>") {
        (rest, ReversePath::Null)
    } else {
        let (rest, mbox) = path(rest, opts).map_err(|e| match e {
            PathError::Syntax(r) | PathError::TooLong(r) => bad_path(r),
            PathError::Utf8 => CommandErrorKind::Utf8NotEnabled,
        })?;
        (rest, ReversePath::Mailbox(mbox))
    };
    let mut params = MailParameters::default();
    for_each_param(rest, |kw, value| mail_param(&mut params, kw, value, opts))?;
    Ok(Command::Mail { from, params })
}

fn parse_rcpt(rest: &[u8], opts: &CommandParseOptions) -> Result<Command, CommandErrorKind> {
    let bad_path = CommandErrorKind::InvalidForwardPath;
    let rest = after_keyword(rest, "TO").ok_or(CommandErrorKind::InvalidArguments(
        "expected RCPT TO:<forward-path>",
    ))?;
    let postmaster: Res<'_, &[u8]> = tag_no_case("<postmaster>")(rest);
    let (rest, to) = if let Ok((rest, _)) = postmaster {
        (rest, ForwardPath::Postmaster)
    } else {
        let (rest, mbox) = path(rest, opts).map_err(|e| match e {
            PathError::Syntax(r) | PathError::TooLong(r) => bad_path(r),
            PathError::Utf8 => CommandErrorKind::Utf8NotEnabled,
        })?;
        (rest, ForwardPath::Mailbox(mbox))
    };
    let mut params = RcptParameters::default();
    for_each_param(rest, |kw, value| rcpt_param(&mut params, kw, value, opts))?;
    Ok(Command::Rcpt { to, params })
}

/// Splits `[SP esmtp-param *(SP esmtp-param)]` (several spaces tolerated) and calls `f`
/// with each keyword and raw value.
fn for_each_param<'a>(
    mut rest: &'a [u8],
    mut f: impl FnMut(&'a [u8], Option<&'a [u8]>) -> Result<(), CommandErrorKind>,
) -> Result<(), CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    if rest.is_empty() {
        return Ok(());
    }
    if rest.first() != Some(&b' ') {
        return Err(bad("expected a space before parameters"));
    }
    loop {
        let start = match rest.iter().position(|&b| b != b' ') {
            Some(start) => start,
            None => return Ok(()),
        };
        let param_and_more = rest.get(start..).unwrap_or_default();
        let end = memchr::memchr(b' ', param_and_more).unwrap_or(param_and_more.len());
        let (param, more) = param_and_more.split_at(end);
        rest = more;
        let (kw, value) = match memchr::memchr(b'=', param) {
            Some(eq) => (
                param.get(..eq).unwrap_or_default(),
                Some(param.get(eq + 1..).unwrap_or_default()),
            ),
            None => (param, None),
        };
        let kw_ok = kw.first().is_some_and(u8::is_ascii_alphanumeric)
            && kw.len() <= 64
            && kw.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-');
        if !kw_ok {
            return Err(bad("invalid parameter keyword"));
        }
        f(kw, value)?;
    }
}

/// Validates an unknown parameter and turns it into a [`Parameter`].
fn other_param(
    kw: &[u8],
    value: Option<&[u8]>,
    opts: &CommandParseOptions,
) -> Result<Parameter, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let kw = to_str(kw).ok_or(bad("invalid parameter keyword"))?;
    if opts.reject_unknown_parameters {
        return Err(CommandErrorKind::UnknownParameter(kw.to_owned()));
    }
    let value = match value {
        None => None,
        Some(v) => {
            if !opts.smtputf8 && !v.is_ascii() {
                return Err(bad("non-ASCII parameter value without SMTPUTF8"));
            }
            let v = to_str(v).ok_or(bad("invalid UTF-8"))?;
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
    value: Option<&[u8]>,
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

fn known<'k>(kw: &[u8], list: &[&'k str]) -> Option<&'k str> {
    list.iter()
        .copied()
        .find(|k| kw.eq_ignore_ascii_case(k.as_bytes()))
}

fn mail_param(
    params: &mut MailParameters,
    kw: &[u8],
    value: Option<&[u8]>,
    opts: &CommandParseOptions,
) -> Result<(), CommandErrorKind> {
    let Some(name) = known(kw, &MAIL_KEYWORDS) else {
        params.push_other_unchecked(other_param(kw, value, opts)?);
        return Ok(());
    };
    if matches!(name, "SMTPUTF8") {
        return set_flag(&mut params.smtputf8, value, "SMTPUTF8");
    }
    if matches!(name, "REQUIRETLS") {
        return set_flag(&mut params.requiretls, value, "REQUIRETLS");
    }
    let invalid = CommandErrorKind::InvalidParameter;
    let v = value.ok_or(invalid(name))?;
    match name {
        "SIZE" => {
            let ok = !v.is_empty() && v.len() <= 20 && v.iter().all(u8::is_ascii_digit);
            let size = ok.then(|| parse_u64(v)).flatten().ok_or(invalid("SIZE"))?;
            set_once(&mut params.size, size, "SIZE")
        }
        "BODY" => {
            let body = if v.eq_ignore_ascii_case(b"7BIT") {
                BodyType::SevenBit
            } else if v.eq_ignore_ascii_case(b"8BITMIME") {
                BodyType::EightBitMime
            } else if v.eq_ignore_ascii_case(b"BINARYMIME") {
                BodyType::BinaryMime
            } else {
                return Err(invalid("BODY"));
            };
            set_once(&mut params.body, body, "BODY")
        }
        "RET" => {
            let ret = if v.eq_ignore_ascii_case(b"FULL") {
                Ret::Full
            } else if v.eq_ignore_ascii_case(b"HDRS") {
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
        "AUTH" => {
            let decoded = xtext_decode_utf8(v).ok_or(invalid("AUTH"))?;
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
        _ => Err(invalid(name)),
    }
}

fn rcpt_param(
    params: &mut RcptParameters,
    kw: &[u8],
    value: Option<&[u8]>,
    opts: &CommandParseOptions,
) -> Result<(), CommandErrorKind> {
    let Some(name) = known(kw, &RCPT_KEYWORDS) else {
        params.push_other_unchecked(other_param(kw, value, opts)?);
        return Ok(());
    };
    let invalid = CommandErrorKind::InvalidParameter;
    let v = value.ok_or(invalid(name))?;
    if name == "NOTIFY" {
        let notify = if v.eq_ignore_ascii_case(b"NEVER") {
            Notify::NEVER
        } else {
            let mut n = Notify::NEVER;
            for item in v.split(|&b| b == b',') {
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
        let semi = memchr::memchr(b';', v).ok_or(invalid("ORCPT"))?;
        let (addr_type, xtext) = v.split_at(semi);
        let xtext = xtext.get(1..).unwrap_or_default();
        let addr_type = to_str(addr_type).ok_or(invalid("ORCPT"))?;
        let address = xtext_decode_ascii(xtext).ok_or(invalid("ORCPT"))?;
        OriginalRecipient::validate(addr_type, &address).map_err(|_| invalid("ORCPT"))?;
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
        match b {
            b'+' => {
                let hi = (*i.next()? as char).to_digit(16)?;
                let lo = (*i.next()? as char).to_digit(16)?;
                // Both digits are < 16, so the value fits a byte.
                out.push((hi * 16 + lo) as u8);
            }
            b'=' => return None,
            33..=126 => out.push(b),
            _ => return None,
        }
    }
    Some(out)
}

/// Decodes xtext that must decode to ASCII.
fn xtext_decode_ascii(v: &[u8]) -> Option<String> {
    let bytes = xtext_decode(v)?;
    if bytes.is_ascii() {
        String::from_utf8(bytes).ok()
    } else {
        None
    }
}

/// Decodes xtext to UTF-8 text.
fn xtext_decode_utf8(v: &[u8]) -> Option<String> {
    String::from_utf8(xtext_decode(v)?).ok()
}

// ---------------------------------------------------------------------------------------
// Paths, mailboxes, domains.

enum PathError {
    Syntax(&'static str),
    TooLong(&'static str),
    Utf8,
}

/// `"<" [ A-d-l ":" ] Mailbox ">"`, returning what follows the `>`.
fn path<'a>(input: &'a [u8], opts: &CommandParseOptions) -> Result<(&'a [u8], Mailbox), PathError> {
    let (rest, mbox) = match path_syntax(input) {
        Ok((rest, mbox)) => (rest, mbox),
        Err(e) => {
            if !input.starts_with(b"<") {
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

fn path_syntax(i: &[u8]) -> Res<'_, Mailbox> {
    let (i, _) = tag("<")(i)?;
    let (i, _) = opt(tuple((source_route, tag(":"))))(i)?;
    let (i, mbox) = mailbox(i)?;
    let (i, _) = tag(">")(i).or_else(|_: nom::Err<PErr>| fail("expected '>'"))?;
    Ok((i, mbox))
}

/// `A-d-l = At-domain *( "," At-domain )`, discarded.
fn source_route(i: &[u8]) -> Res<'_, ()> {
    let (i, _) = separated_list1(tag(","), preceded(tag("@"), domain))(i)?;
    Ok((i, ()))
}

/// `Local-part "@" ( Domain / address-literal )`.
fn mailbox(i: &[u8]) -> Res<'_, Mailbox> {
    let (i, local) = alt((quoted_string, dot_string))(i)?;
    let (i, _) = tag("@")(i).or_else(|_: nom::Err<PErr>| fail("expected '@'"))?;
    let (i, domain) = host(i)?;
    Ok((i, Mailbox::new(local, domain)))
}

fn dot_string(i: &[u8]) -> Res<'_, LocalPart> {
    let (rest, s) = take_while1(|b: u8| is_atext(b) || b == b'.' || b >= 0x80)(i)?;
    let Some(s) = to_str(s).filter(|s| is_dot_string(s)) else {
        return fail("invalid local part");
    };
    if LocalPart::validate(s).is_err() {
        return fail("local part too long");
    }
    Ok((rest, LocalPart::new_unchecked(s.to_owned())))
}

/// `DQUOTE *QcontentSMTP DQUOTE`, decoded.
fn quoted_string(i: &[u8]) -> Res<'_, LocalPart> {
    let (i, _) = tag("\"")(i)?;
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        match i.get(pos) {
            None => return fail("unterminated quoted string"),
            Some(b'"') => break,
            Some(b'\\') => match i.get(pos + 1) {
                Some(&c @ 32..=126) => {
                    out.push(c);
                    pos += 2;
                }
                _ => return fail("invalid quoted pair"),
            },
            Some(&c) if (32..=126).contains(&c) || c >= 0x80 => {
                out.push(c);
                pos += 1;
            }
            Some(_) => return fail("invalid character in quoted string"),
        }
    }
    let rest = i.get(pos + 1..).unwrap_or_default();
    let Ok(s) = String::from_utf8(out) else {
        return fail("invalid UTF-8");
    };
    if LocalPart::validate(&s).is_err() {
        return fail("local part too long");
    }
    Ok((rest, LocalPart::new_unchecked(s)))
}

/// `Domain / address-literal`.
fn host(i: &[u8]) -> Res<'_, Host> {
    if i.first() == Some(&b'[') {
        let (i, lit) = address_literal(i)?;
        Ok((i, Host::Literal(lit)))
    } else {
        let (i, d) = domain(i)?;
        Ok((i, Host::Domain(d)))
    }
}

fn domain(i: &[u8]) -> Res<'_, Domain> {
    let (rest, d) =
        take_while1(|b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b >= 0x80)(i)
            .or_else(|_: nom::Err<PErr>| fail("expected a domain"))?;
    let Some(d) = to_str(d).filter(|d| Domain::validate(d).is_ok()) else {
        return fail("invalid domain");
    };
    Ok((rest, Domain::new_unchecked(d.to_owned())))
}

fn address_literal(i: &[u8]) -> Res<'_, AddressLiteral> {
    let (i, _) = tag("[")(i)?;
    let (i, inner) = take_while1(is_dcontent)(i)?;
    let (i, _) = tag("]")(i).or_else(|_: nom::Err<PErr>| fail("expected ']'"))?;
    match literal_inner(inner) {
        Some(lit) => Ok((i, lit)),
        None => fail("invalid address literal"),
    }
}

fn literal_inner(inner: &[u8]) -> Option<AddressLiteral> {
    let inner = to_str(inner)?;
    match inner.split_once(':') {
        None => ipv4(inner).map(AddressLiteral::Ipv4),
        Some((tag, rest)) if tag.eq_ignore_ascii_case("IPv6") => {
            // std's parser follows RFC 4291 text forms, which is RFC 5321's IPv6-addr.
            rest.parse().ok().map(AddressLiteral::Ipv6)
        }
        Some((tag, content)) => {
            GeneralLiteral::validate(tag, content).ok()?;
            GeneralLiteral::new(tag, content)
                .ok()
                .map(AddressLiteral::General)
        }
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
    let r: Res<'_, AddressLiteral> = all_consuming(address_literal)(s.as_bytes());
    r.ok().map(|(_, lit)| lit)
}

/// Parses `local@domain` text (no brackets), for `Mailbox::try_from` and `AUTH=`.
pub(crate) fn parse_mailbox_str(s: &str) -> Option<Mailbox> {
    let r: Res<'_, Mailbox> = all_consuming(mailbox)(s.as_bytes());
    r.ok().map(|(_, m)| m)
}
