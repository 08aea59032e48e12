//! The command parser: one CRLF-terminated line at a time, from a buffer that may hold a
//! partial line (streaming), more than one line (pipelining, RFC 2920), or both.
//!
//! [`parse_command`] first frames the line (finds its LF within
//! [`CommandParseOptions::max_line_len`] octets), then parses the complete line with
//! hand-written scanners: the verb is matched as four octets, and paths, domains and
//! parameters are read in one pass each over the octets.
//! "Need more bytes" is `Ok(None)`, not an error.
//!
//! [`parse_command_ref`] and [`parse_command_line_ref`] return a [`CommandRef`] that
//! borrows its text from the input (no allocation or copy per command);
//! [`parse_command`] and [`parse_command_line`] are the same parse followed by
//! [`CommandRef::into_owned`], for a caller that keeps the command after the buffer is
//! reused (the server state machine does, to hand owned values to the application).
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

use std::borrow::Cow;

use super::scan::{Pattern, find_byte, span_xchar, str_within, word_at};
use crate::types::{
    AddressLiteral, ArgumentRef, BodyType, C_ATEXT, C_LDH, C_UTF8, C_XCHAR, Command, CommandRef,
    Domain, DomainRef, EnvelopeId, EnvelopeIdRef, ForwardPathRef, GeneralLiteral, HostRef,
    LocalPart, LocalPartRef, MailParametersRef, Mailbox, MailboxRef, Notify, OriginalRecipient,
    OriginalRecipientRef, ParamSet, ParamValue, RcptParametersRef, Ret, ReversePath,
    ReversePathRef, class, is_dcontent, scan_domain,
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
    // The owned command is built in the caller's result (see `parse_line`).
    frame_line(input, opts, |line, consumed| {
        parse_line(
            line,
            input,
            opts,
            |cmd| Ok(Some((cmd.into_owned(), consumed))),
            |kind| Err(CommandError::new(kind, Some(consumed))),
        )
    })
}

/// Parses one command line from the start of `input` into a [`CommandRef`] that borrows
/// from `input`: [`parse_command`] without copying or allocating (but for the rare values
/// that must be decoded). The results and errors are those of [`parse_command`];
/// [`CommandRef::into_owned`] gives the same [`Command`].
///
/// ```
/// use mailwire_smtp::parse::{parse_command_ref, CommandParseOptions};
/// use mailwire_smtp::types::{CommandRef, ForwardPathRef, HostRef};
///
/// let opts = CommandParseOptions::default();
/// let input = b"RCPT TO:<bob@example.org> ORCPT=rfc822;bob@example.org X-TAG=1\r\n";
/// let (cmd, used) = parse_command_ref(input, &opts).unwrap().unwrap();
/// assert_eq!(used, input.len());
/// let CommandRef::Rcpt { to: ForwardPathRef::Mailbox(mbox), params } = &cmd else { panic!() };
/// assert_eq!(mbox.local_part.as_str(), "bob");
/// let HostRef::Domain(domain) = &mbox.domain else { panic!() };
/// assert_eq!(domain.as_str(), "example.org");
/// assert_eq!(params.orcpt.as_ref().unwrap().address(), "bob@example.org");
/// assert_eq!(params.other().collect::<Vec<_>>(), [("X-TAG", Some("1"))]);
/// let owned = cmd.into_owned();
/// assert_eq!(owned.verb(), "RCPT");
/// ```
// Not inlined into the caller: measured (benches/interleaved.rs), the parse of a
// transaction is about 5% faster as one function of its own than spread into the
// caller's loop.
#[inline(never)]
pub fn parse_command_ref<'a>(
    input: &'a [u8],
    opts: &CommandParseOptions,
) -> Result<Option<(CommandRef<'a>, usize)>, CommandError> {
    frame_line(input, opts, |line, consumed| {
        parse_line(
            line,
            input,
            opts,
            |cmd| Ok(Some((cmd, consumed))),
            |kind| Err(CommandError::new(kind, Some(consumed))),
        )
    })
}

/// Finds the line at the start of `input` (LF within the length limit, CR before it) and
/// hands it, without CRLF, to `parse` with the length it occupies; returns `Ok(None)` when
/// it is not complete, or the framing error.
#[inline(always)]
fn frame_line<'a, T>(
    input: &'a [u8],
    opts: &CommandParseOptions,
    parse: impl FnOnce(&'a [u8], usize) -> Result<Option<T>, CommandError>,
) -> Result<Option<T>, CommandError> {
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
    parse(line, consumed)
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
    parse_line(
        line,
        line,
        opts,
        |cmd| Ok(cmd.into_owned()),
        |kind| Err(CommandError::new(kind, Some(line.len()))),
    )
}

/// [`parse_command_line`] into a [`CommandRef`] borrowing from `line`.
pub fn parse_command_line_ref<'a>(
    line: &'a [u8],
    opts: &CommandParseOptions,
) -> Result<CommandRef<'a>, CommandError> {
    if line.len() + 2 > opts.max_line_len {
        return Err(CommandError::new(
            CommandErrorKind::LineTooLong,
            Some(line.len()),
        ));
    }
    parse_line(line, line, opts, Ok, |kind| {
        Err(CommandError::new(kind, Some(line.len())))
    })
}

// ---------------------------------------------------------------------------------------
// Scanning.
//
// The arguments of a line are checked as UTF-8 once; the grammar functions below work on
// that `&str` with byte offsets, looking at its octets. Every scan treats all non-ASCII
// octets alike (accepts them all or stops at the first), so the offsets where a scan stops
// are always character boundaries, and `str::get` at them never fails.

/// Splits `s` at the first `c` (an ASCII octet), the `c` going with the second part.
#[inline]
fn split_at_byte(s: &str, c: u8) -> (&str, &str) {
    let len = s.bytes().position(|b| b == c).unwrap_or(s.len());
    s.split_at_checked(len).unwrap_or((s, ""))
}

/// `s[i..j]`, or `""` when `i..j` is not a range of character boundaries within `s`
/// (the callers' offsets always are: each is at an ASCII octet or the end).
///
/// Two `split_at_checked` rather than `str::get`, which the compiler leaves as a call in
/// the large inlined parsing functions (~20 instructions each, six per `MAIL` line).
#[inline(always)]
fn sub(s: &str, i: usize, j: usize) -> &str {
    match s.split_at_checked(j) {
        Some((head, _)) => match head.split_at_checked(i) {
            Some((_, mid)) => mid,
            None => "",
        },
        None => "",
    }
}

/// `s[i..]`, or `""` when `i` is not a character boundary within `s` (see [`sub`]).
#[inline(always)]
fn suffix(s: &str, i: usize) -> &str {
    s.split_at_checked(i).map_or("", |(_, tail)| tail)
}

/// `s` without its leading spaces.
#[inline]
fn skip_spaces(s: &str) -> &str {
    let n = s.bytes().position(|b| b != b' ').unwrap_or(s.len());
    suffix(s, n)
}

/// The offset of the first octet at or after `i` in `b` that is not a space.
#[inline]
fn skip_spaces_at(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// Whether `s` is `canon` in any case. `canon` is upper-case letters, digits and
/// punctuation; with `N` known, the comparison unrolls into a few word operations.
#[inline(always)]
fn eq_upper<const N: usize>(s: &[u8], canon: &[u8; N]) -> bool {
    let Ok(s) = <&[u8; N]>::try_from(s) else {
        return false;
    };
    let mut diff = 0u8;
    for (&a, &c) in s.iter().zip(canon) {
        // At letter positions, bit 5 (the case bit) is ignored: only the two cases of
        // that letter match. Elsewhere the octets must be equal.
        let m = if c.is_ascii_alphabetic() { 0x20 } else { 0 };
        diff |= (a | m) ^ (c | m);
    }
    diff == 0
}

/// `window[start..end]` checked as UTF-8 (see [`str_within`]): `window` holds the line
/// from its first octet and may run on past it (the CRLF and what follows in the buffer);
/// `start` is after the verb, `end` before a space or the CR.
#[inline(always)]
fn text(window: &[u8], start: usize, end: usize) -> Result<&str, CommandErrorKind> {
    match str_within(window, start, end) {
        Some(text) => Ok(text),
        None => utf8(window.get(start..end).unwrap_or_default()),
    }
}

#[inline]
fn utf8(b: &[u8]) -> Result<&str, CommandErrorKind> {
    std::str::from_utf8(b).map_err(|_| CommandErrorKind::InvalidArguments("invalid UTF-8"))
}

// ---------------------------------------------------------------------------------------
// The line.

/// Unwraps `Ok`, or returns the error through the continuation `err`.
macro_rules! attempt {
    ($result:expr, $err:expr) => {
        match $result {
            Ok(value) => value,
            Err(kind) => return $err(kind),
        }
    };
}

/// Parses a line (without CRLF) and hands the command to `ok` or the error to `err`.
///
/// Continuations rather than a `Result<Command, _>`: the caller's return value is then
/// written in place by every path, instead of a 184-octet command being built in a
/// temporary and copied into the caller's `Result` (a `memmove` call per line, 6% of the
/// time in a profile of pipelined commands).
///
/// `window` holds the line from its first octet and may run on past it (its CRLF and what
/// follows in the buffer): the arguments are checked as UTF-8 in it (see [`text`]).
#[inline(always)]
fn parse_line<'a, T>(
    line: &'a [u8],
    window: &'a [u8],
    opts: &CommandParseOptions,
    ok: impl FnOnce(CommandRef<'a>) -> T,
    err: impl Fn(CommandErrorKind) -> T,
) -> T {
    // Trailing spaces are tolerated.
    let end = line.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    let line = line.get(..end).unwrap_or_default();
    let verb_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let (verb, rest) = line.split_at(verb_end);
    let bad = CommandErrorKind::InvalidArguments;
    let no_arg = |cmd: CommandRef<'a>| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(bad("this command takes no argument"))
        }
    };
    if let [a, b, c, d] = *verb {
        let v = [a, b, c, d].map(|x| x.to_ascii_uppercase());
        match &v {
            b"RCPT" => {
                return parse_rcpt(attempt!(text(window, verb_end, end), err), opts, ok, err);
            }
            b"MAIL" => {
                return parse_mail(attempt!(text(window, verb_end, end), err), opts, ok, err);
            }
            b"DATA" => return ok(attempt!(no_arg(CommandRef::Data), err)),
            b"EHLO" | b"HELO" | b"LHLO" => {
                let host = attempt!(text(window, verb_end, end), err);
                let host = attempt!(arg(host).ok_or(bad("a domain is required")), err);
                let host = attempt!(parse_host_arg(host, opts), err);
                return ok(match &v {
                    b"EHLO" => CommandRef::Ehlo(host),
                    b"HELO" => CommandRef::Helo(host),
                    _ => CommandRef::Lhlo(host),
                });
            }
            b"RSET" => return ok(attempt!(no_arg(CommandRef::Rset), err)),
            b"QUIT" => return ok(attempt!(no_arg(CommandRef::Quit), err)),
            b"NOOP" => return ok(CommandRef::Noop(attempt!(opt_argument(rest, opts), err))),
            b"HELP" => return ok(CommandRef::Help(attempt!(opt_argument(rest, opts), err))),
            b"VRFY" | b"EXPN" => {
                let a = attempt!(opt_argument(rest, opts), err);
                let a = attempt!(a.ok_or(bad("an argument is required")), err);
                return ok(if &v == b"VRFY" {
                    CommandRef::Vrfy(a)
                } else {
                    CommandRef::Expn(a)
                });
            }
            b"BDAT" => {
                let arg = arg(attempt!(utf8(rest), err)).unwrap_or_default();
                let (size, last) = attempt!(parse_bdat(arg), err);
                return ok(CommandRef::Bdat { size, last });
            }
            b"AUTH" => {
                let arg = arg(attempt!(utf8(rest), err)).unwrap_or_default();
                let (mechanism, initial_response) = attempt!(parse_auth(arg), err);
                return ok(CommandRef::Auth {
                    mechanism,
                    initial_response,
                });
            }
            _ => {}
        }
    } else if eq_upper(verb, b"STARTTLS") {
        return ok(attempt!(no_arg(CommandRef::StartTls), err));
    }
    err(CommandErrorKind::UnknownCommand)
}

/// One or more spaces, then the argument (trailing spaces already gone).
fn arg(rest: &str) -> Option<&str> {
    let arg = skip_spaces(rest);
    (!arg.is_empty()).then_some(arg)
}

fn opt_argument<'a>(
    rest: &'a [u8],
    opts: &CommandParseOptions,
) -> Result<Option<ArgumentRef<'a>>, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    if !opts.smtputf8 && !rest.is_ascii() {
        return Err(bad("non-ASCII argument without SMTPUTF8"));
    }
    let Some(arg) = arg(utf8(rest)?) else {
        return Ok(None);
    };
    crate::types::Argument::validate(arg).map_err(|_| bad("invalid characters in argument"))?;
    Ok(Some(ArgumentRef(arg)))
}

fn parse_host_arg<'a>(
    arg: &'a str,
    opts: &CommandParseOptions,
) -> Result<HostRef<'a>, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let (host, end, ascii) = host_at(arg, 0).map_err(bad)?;
    if end != arg.len() {
        return Err(bad("unexpected text after the domain"));
    }
    if !opts.smtputf8 && !ascii {
        return Err(CommandErrorKind::Utf8NotEnabled);
    }
    Ok(host)
}

fn parse_bdat(arg: &str) -> Result<(u64, bool), CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let (digits, rest) = split_at_byte(arg, b' ');
    let last = match skip_spaces(rest) {
        "" => false,
        l if eq_upper(l.as_bytes(), b"LAST") => true,
        _ => return Err(bad("expected BDAT size [LAST]")),
    };
    let size = parse_u64(digits).ok_or(bad("expected BDAT size [LAST]"))?;
    Ok((size, last))
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

/// `AUTH`'s mechanism and decoded initial response.
type AuthParts = (Mechanism, Option<Secret<Vec<u8>>>);

fn parse_auth(arg: &str) -> Result<AuthParts, CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let (mech, rest) = split_at_byte(arg, b' ');
    let mechanism = Mechanism::from_name(mech).ok_or(bad("invalid SASL mechanism name"))?;
    let initial_response = match skip_spaces(rest) {
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
    Ok((mechanism, initial_response))
}

// ---------------------------------------------------------------------------------------
// MAIL and RCPT.

/// `" FROM:"` / `" TO:"` (`kw` with its colon, any case) then optional spaces (tolerated),
/// returning what follows.
#[inline(always)]
fn after_keyword<'a, const N: usize>(rest: &'a str, kw: &[u8; N]) -> Option<&'a str> {
    let b = rest.as_bytes();
    let head = b.get(1..=N)?;
    if b.first() != Some(&b' ') || !eq_upper(head, kw) {
        return None;
    }
    // `kw` is ASCII, so the cut is on a character boundary.
    Some(suffix(rest, skip_spaces_at(b, kw.len() + 1)))
}

fn path_error(e: PathError, bad_path: fn(&'static str) -> CommandErrorKind) -> CommandErrorKind {
    match e {
        PathError::Syntax(r) | PathError::TooLong(r) => bad_path(r),
        PathError::Utf8 => CommandErrorKind::Utf8NotEnabled,
    }
}

#[inline(always)]
fn parse_mail<'a, T>(
    rest: &'a str,
    opts: &CommandParseOptions,
    ok: impl FnOnce(CommandRef<'a>) -> T,
    err: impl Fn(CommandErrorKind) -> T,
) -> T {
    let rest = attempt!(
        after_keyword(rest, b"FROM:").ok_or(CommandErrorKind::InvalidArguments(
            "expected MAIL FROM:<reverse-path>",
        )),
        err
    );
    let (from, end) = if rest.starts_with("<>") {
        (ReversePathRef::Null, 2)
    } else {
        let (mbox, end) = attempt!(
            path(rest, opts).map_err(|e| path_error(e, CommandErrorKind::InvalidReversePath)),
            err
        );
        (ReversePathRef::Mailbox(mbox), end)
    };
    let raw = suffix(rest, end);
    let params = attempt!(
        parameters(raw, MailParametersRef::empty(raw), opts, mail_param),
        err
    );
    ok(CommandRef::Mail { from, params })
}

#[inline(always)]
fn parse_rcpt<'a, T>(
    rest: &'a str,
    opts: &CommandParseOptions,
    ok: impl FnOnce(CommandRef<'a>) -> T,
    err: impl Fn(CommandErrorKind) -> T,
) -> T {
    let rest = attempt!(
        after_keyword(rest, b"TO:").ok_or(CommandErrorKind::InvalidArguments(
            "expected RCPT TO:<forward-path>",
        )),
        err
    );
    const POSTMASTER: &[u8; 12] = b"<POSTMASTER>";
    let (to, end) = if rest
        .as_bytes()
        .get(..POSTMASTER.len())
        .is_some_and(|head| eq_upper(head, POSTMASTER))
    {
        (ForwardPathRef::Postmaster, POSTMASTER.len())
    } else {
        let (mbox, end) = attempt!(
            path(rest, opts).map_err(|e| path_error(e, CommandErrorKind::InvalidForwardPath)),
            err
        );
        (ForwardPathRef::Mailbox(mbox), end)
    };
    let raw = suffix(rest, end);
    let params = attempt!(
        parameters(raw, RcptParametersRef::empty(raw), opts, rcpt_param),
        err
    );
    ok(CommandRef::Rcpt { to, params })
}

/// How one parameter goes into the parameters `P` of `MAIL` or `RCPT`: [`mail_param`],
/// [`rcpt_param`] (and, in tests, their `_other` halves).
type ParamHandler<'a, P> = fn(
    &mut P,
    &'a str,
    Option<Known>,
    Option<&'a str>,
    &CommandParseOptions,
) -> Result<(), CommandErrorKind>;

/// Reads the parameter text `raw` into `params` with `handler`, one parameter at a time.
///
/// Kept out of line: inlined into the line parser it saved instructions (callgrind) but
/// no time (wall clock, interleaved runs).
#[inline(never)]
fn parameters<'a, P>(
    raw: &'a str,
    mut params: P,
    opts: &CommandParseOptions,
    handler: ParamHandler<'a, P>,
) -> Result<P, CommandErrorKind> {
    for_each_param(raw, |kw, known, value| {
        handler(&mut params, kw, known, value, opts)
    })?;
    Ok(params)
}

/// Splits `[SP esmtp-param *(SP esmtp-param)]` (several spaces tolerated) and calls `f`
/// with each keyword (checked: an `esmtp-keyword` of at most 64 octets), the [`Known`]
/// keyword it is if any, and raw value (the text after the first `=`, up to the next
/// space).
#[inline(always)]
fn for_each_param<'a>(
    rest: &'a str,
    mut f: impl FnMut(&'a str, Option<Known>, Option<&'a str>) -> Result<(), CommandErrorKind>,
) -> Result<(), CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    let b = rest.as_bytes();
    match b.first() {
        None => return Ok(()),
        Some(b' ') => {}
        Some(_) => return Err(bad("expected a space before parameters")),
    }
    let mut i = 0;
    loop {
        i = skip_spaces_at(b, i);
        let kw_start = i;
        if kw_start >= b.len() {
            return Ok(());
        }
        let known = match Known::at(b, i) {
            // A known keyword followed by `=` (or a flag followed by a space or the end),
            // recognised from one word of input.
            Some((known, len)) => {
                i += len;
                Some(known)
            }
            None => {
                let tail = b.get(i..).unwrap_or_default();
                i += tail
                    .iter()
                    .position(|&c| !class(c, C_LDH))
                    .unwrap_or(tail.len());
                let kw_ok = i - kw_start <= 64
                    && b.get(kw_start).is_some_and(u8::is_ascii_alphanumeric)
                    && matches!(b.get(i), None | Some(b' ' | b'='));
                if !kw_ok {
                    return Err(bad("invalid parameter keyword"));
                }
                Known::find(sub(rest, kw_start, i))
            }
        };
        // The keyword is ASCII and followed by `=`, a space or the end: a character
        // boundary.
        let kw = sub(rest, kw_start, i);
        let value = if b.get(i) == Some(&b'=') {
            i += 1;
            let value_start = i;
            i = find_byte(b, i, b' ');
            // The value ends at a space or at the end: a character boundary.
            Some(sub(rest, value_start, i))
        } else {
            None
        };
        f(kw, known, value)?;
    }
}

/// Validates a parameter without a field of its own (kept in the parameter text).
fn other_param(
    kw: &str,
    value: Option<&str>,
    opts: &CommandParseOptions,
) -> Result<(), CommandErrorKind> {
    let bad = CommandErrorKind::InvalidArguments;
    if opts.reject_unknown_parameters {
        return Err(CommandErrorKind::UnknownParameter(kw.to_owned()));
    }
    if let Some(v) = value {
        if !opts.smtputf8 && !v.is_ascii() {
            return Err(bad("non-ASCII parameter value without SMTPUTF8"));
        }
        ParamValue::validate(v).map_err(|_| bad("invalid parameter value"))?;
    }
    Ok(())
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

/// The keywords mailwire has a field for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Size,
    Body,
    SmtpUtf8,
    Auth,
    Ret,
    EnvId,
    RequireTls,
    Notify,
    Orcpt,
}

impl Known {
    /// The known keyword at offset `i` of `b`, in any case, with its length, when it is
    /// followed by `=` (by a space or the end for the flag `SMTPUTF8`); `None` when there
    /// is none, or fewer than eight octets are left (then [`Known::find`] decides).
    #[inline(always)]
    fn at(b: &[u8], i: usize) -> Option<(Known, usize)> {
        const NOTIFY: Pattern = Pattern::new(b"NOTIFY=");
        const ORCPT: Pattern = Pattern::new(b"ORCPT=");
        const SIZE: Pattern = Pattern::new(b"SIZE=");
        const SMTPUTF8: Pattern = Pattern::new(b"SMTPUTF8");
        const BODY: Pattern = Pattern::new(b"BODY=");
        const RET: Pattern = Pattern::new(b"RET=");
        const ENVID: Pattern = Pattern::new(b"ENVID=");
        const AUTH: Pattern = Pattern::new(b"AUTH=");
        let w = word_at(b, i)?;
        let (known, pattern, len) = match (w as u8) | 0x20 {
            b'n' => (Known::Notify, NOTIFY, 6),
            b'o' => (Known::Orcpt, ORCPT, 5),
            b's' if ((w >> 8) as u8) | 0x20 == b'i' => (Known::Size, SIZE, 4),
            b's' => {
                let flag_end = matches!(b.get(i + 8), None | Some(b' '));
                return (flag_end && SMTPUTF8.matches(w)).then_some((Known::SmtpUtf8, 8));
            }
            b'b' => (Known::Body, BODY, 4),
            b'r' => (Known::Ret, RET, 3),
            b'e' => (Known::EnvId, ENVID, 5),
            b'a' => (Known::Auth, AUTH, 4),
            _ => return None,
        };
        pattern.matches(w).then_some((known, len))
    }

    /// The keyword in `kw`, in any case.
    #[inline]
    fn find(kw: &str) -> Option<Known> {
        let kw = kw.as_bytes();
        let first = kw.first()?.to_ascii_uppercase();
        let (known, matches) = match (kw.len(), first) {
            (3, b'R') => (Known::Ret, eq_upper(kw, b"RET")),
            (4, b'S') => (Known::Size, eq_upper(kw, b"SIZE")),
            (4, b'B') => (Known::Body, eq_upper(kw, b"BODY")),
            (4, b'A') => (Known::Auth, eq_upper(kw, b"AUTH")),
            (5, b'E') => (Known::EnvId, eq_upper(kw, b"ENVID")),
            (5, b'O') => (Known::Orcpt, eq_upper(kw, b"ORCPT")),
            (6, b'N') => (Known::Notify, eq_upper(kw, b"NOTIFY")),
            (8, b'S') => (Known::SmtpUtf8, eq_upper(kw, b"SMTPUTF8")),
            (10, b'R') => (Known::RequireTls, eq_upper(kw, b"REQUIRETLS")),
            _ => return None,
        };
        matches.then_some(known)
    }
}

/// Whether `kw` is a keyword with a field of its own in the parameters of `set`.
pub(crate) fn known_keyword(kw: &str, set: ParamSet) -> bool {
    match (Known::find(kw), set) {
        (None, _) => false,
        (Some(Known::Notify | Known::Orcpt), ParamSet::Rcpt) => true,
        (Some(Known::Notify | Known::Orcpt), ParamSet::Mail) => false,
        (Some(_), ParamSet::Mail) => true,
        (Some(_), ParamSet::Rcpt) => false,
    }
}

/// One `MAIL` parameter: `SIZE` and `BODY` with a valid value and not seen before are
/// handled here, in line; everything else (and every error) in [`mail_param_other`].
#[inline(always)]
fn mail_param<'a>(
    params: &mut MailParametersRef<'a>,
    kw: &'a str,
    known: Option<Known>,
    value: Option<&'a str>,
    opts: &CommandParseOptions,
) -> Result<(), CommandErrorKind> {
    match (known, value) {
        (Some(Known::Size), Some(v)) if params.size.is_none() => {
            if let Some(size) = parse_size(v.as_bytes()) {
                params.size = Some(size);
                return Ok(());
            }
        }
        (Some(Known::Body), Some(v)) if params.body.is_none() => {
            let v = v.as_bytes();
            if eq_upper(v, b"8BITMIME") {
                params.body = Some(BodyType::EightBitMime);
                return Ok(());
            } else if eq_upper(v, b"7BIT") {
                params.body = Some(BodyType::SevenBit);
                return Ok(());
            }
        }
        _ => {}
    }
    mail_param_other(params, kw, known, value, opts)
}

/// `SIZE`'s value: up to 19 digits (any such number fits a `u64`), else `None` (and
/// [`mail_param_other`] decides, with [`parse_u64`]).
#[inline(always)]
fn parse_size(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for &d in v {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(d - b'0');
    }
    Some(n)
}

/// Every `MAIL` parameter but the common cases of [`mail_param`].
#[inline(never)]
fn mail_param_other<'a>(
    params: &mut MailParametersRef<'a>,
    kw: &'a str,
    known: Option<Known>,
    value: Option<&'a str>,
    opts: &CommandParseOptions,
) -> Result<(), CommandErrorKind> {
    let invalid = CommandErrorKind::InvalidParameter;
    let (known, name) = match known {
        Some(Known::SmtpUtf8) => return set_flag(&mut params.smtputf8, value, "SMTPUTF8"),
        Some(Known::RequireTls) => return set_flag(&mut params.requiretls, value, "REQUIRETLS"),
        Some(k @ Known::Size) => (k, "SIZE"),
        Some(k @ Known::Body) => (k, "BODY"),
        Some(k @ Known::Ret) => (k, "RET"),
        Some(k @ Known::EnvId) => (k, "ENVID"),
        Some(k @ Known::Auth) => (k, "AUTH"),
        _ => {
            other_param(kw, value, opts)?;
            params.has_other = true;
            return Ok(());
        }
    };
    let v = value.ok_or(invalid(name))?;
    match known {
        Known::Size => {
            let size = (v.len() <= 20)
                .then(|| parse_u64(v))
                .flatten()
                .ok_or(invalid("SIZE"))?;
            set_once(&mut params.size, size, "SIZE")
        }
        Known::Body => {
            let v = v.as_bytes();
            let body = if eq_upper(v, b"8BITMIME") {
                BodyType::EightBitMime
            } else if eq_upper(v, b"7BIT") {
                BodyType::SevenBit
            } else if eq_upper(v, b"BINARYMIME") {
                BodyType::BinaryMime
            } else {
                return Err(invalid("BODY"));
            };
            set_once(&mut params.body, body, "BODY")
        }
        Known::Ret => {
            let v = v.as_bytes();
            let ret = if eq_upper(v, b"FULL") {
                Ret::Full
            } else if eq_upper(v, b"HDRS") {
                Ret::Hdrs
            } else {
                return Err(invalid("RET"));
            };
            set_once(&mut params.ret, ret, "RET")
        }
        Known::EnvId => {
            let id = xtext_decode_ascii(v).ok_or(invalid("ENVID"))?;
            // Xtext without escapes is printable ASCII: only its length is left to check.
            if matches!(id, Cow::Owned(_)) || id.is_empty() || id.len() > EnvelopeId::MAX_LEN {
                EnvelopeId::validate(&id).map_err(|_| invalid("ENVID"))?;
            }
            set_once(&mut params.envid, EnvelopeIdRef(id), "ENVID")
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
            set_once(&mut params.auth, Box::new(path), "AUTH")
        }
    }
}

/// One `RCPT` parameter: a valid `NOTIFY`, and an `ORCPT` of type `rfc822` whose xtext
/// has nothing to decode, not seen before, are handled here, in line; everything else
/// (and every error) in [`rcpt_param_other`].
#[inline(always)]
fn rcpt_param<'a>(
    params: &mut RcptParametersRef<'a>,
    kw: &'a str,
    known: Option<Known>,
    value: Option<&'a str>,
    opts: &CommandParseOptions,
) -> Result<(), CommandErrorKind> {
    const RFC822: Pattern = Pattern::new(b"RFC822;");
    match (known, value) {
        (Some(Known::Notify), Some(v)) if params.notify.is_none() => {
            if let Ok(n) = parse_notify(v) {
                params.notify = Some(n);
                return Ok(());
            }
        }
        (Some(Known::Orcpt), Some(v)) if params.orcpt.is_none() => {
            let b = v.as_bytes();
            let address = suffix(v, 7);
            if word_at(b, 0).is_some_and(|w| RFC822.matches(w))
                && (1..=OriginalRecipient::MAX_LEN).contains(&address.len())
                && span_xchar(b, 7) == b.len()
            {
                params.orcpt = Some(OriginalRecipientRef {
                    addr_type: sub(v, 0, 6),
                    address: Cow::Borrowed(address),
                });
                return Ok(());
            }
        }
        _ => {}
    }
    rcpt_param_other(params, kw, known, value, opts)
}

/// Every `RCPT` parameter but the common cases of [`rcpt_param`].
#[inline(never)]
fn rcpt_param_other<'a>(
    params: &mut RcptParametersRef<'a>,
    kw: &'a str,
    known: Option<Known>,
    value: Option<&'a str>,
    opts: &CommandParseOptions,
) -> Result<(), CommandErrorKind> {
    let invalid = CommandErrorKind::InvalidParameter;
    match known {
        Some(Known::Notify) => {
            let v = value.ok_or(invalid("NOTIFY"))?;
            set_once(&mut params.notify, parse_notify(v)?, "NOTIFY")
        }
        Some(Known::Orcpt) => {
            let v = value.ok_or(invalid("ORCPT"))?;
            set_once(&mut params.orcpt, parse_orcpt(v)?, "ORCPT")
        }
        _ => {
            other_param(kw, value, opts)?;
            params.has_other = true;
            Ok(())
        }
    }
}

/// `NOTIFY=NEVER` or a comma-separated list of `SUCCESS`, `FAILURE`, `DELAY` (any case).
#[inline(always)]
fn parse_notify(v: &str) -> Result<Notify, CommandErrorKind> {
    if eq_upper(v.as_bytes(), b"NEVER") {
        return Ok(Notify::NEVER);
    }
    let b = v.as_bytes();
    let mut n = Notify::NEVER;
    let mut i = 0;
    loop {
        let end = find_byte(b, i, b',');
        let item = b.get(i..end).unwrap_or_default();
        if eq_upper(item, b"SUCCESS") {
            n.success = true;
        } else if eq_upper(item, b"FAILURE") {
            n.failure = true;
        } else if eq_upper(item, b"DELAY") {
            n.delay = true;
        } else {
            return Err(CommandErrorKind::InvalidParameter("NOTIFY"));
        }
        if end >= b.len() {
            return Ok(n);
        }
        i = end + 1;
    }
}

/// `ORCPT=addr-type;xtext`.
fn parse_orcpt(v: &str) -> Result<OriginalRecipientRef<'_>, CommandErrorKind> {
    let invalid = || CommandErrorKind::InvalidParameter("ORCPT");
    // One pass over the address type: atext up to the `;`.
    let b = v.as_bytes();
    const RFC822: Pattern = Pattern::new(b"RFC822;");
    let semi = if word_at(b, 0).is_some_and(|w| RFC822.matches(w)) {
        6
    } else {
        b.iter()
            .position(|&c| !class(c, C_ATEXT))
            .filter(|&i| b.get(i) == Some(&b';') && (1..=64).contains(&i))
            .ok_or_else(invalid)?
    };
    let (addr_type, xtext) = (sub(v, 0, semi), suffix(v, semi + 1));
    let address = xtext_decode_ascii(xtext).ok_or_else(invalid)?;
    // Xtext without escapes is printable ASCII: only its length is left to check.
    if matches!(address, Cow::Owned(_))
        || address.is_empty()
        || address.len() > OriginalRecipient::MAX_LEN
    {
        OriginalRecipient::validate(addr_type, &address).map_err(|_| invalid())?;
    }
    Ok(OriginalRecipientRef { addr_type, address })
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

/// Decodes xtext that must decode to ASCII; borrows when there is nothing to decode.
fn xtext_decode_ascii(v: &str) -> Option<Cow<'_, str>> {
    // Fast path, one pass: xchars only, nothing to decode.
    match v.as_bytes().get(span_xchar(v.as_bytes(), 0)) {
        None => return Some(Cow::Borrowed(v)),
        Some(&c) if c != b'+' => return None,
        Some(_) => {}
    }
    let bytes = xtext_decode(v.as_bytes())?;
    if bytes.is_ascii() {
        String::from_utf8(bytes).ok().map(Cow::Owned)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// Paths, mailboxes, domains: hand-written scanners over the octets, each returning the
// value and the offset after it.

enum PathError {
    Syntax(&'static str),
    TooLong(&'static str),
    Utf8,
}

/// `"<" [ A-d-l ":" ] Mailbox ">"` at the start of `s`, returning the offset after the `>`.
#[inline(always)]
fn path<'a>(s: &'a str, opts: &CommandParseOptions) -> Result<(MailboxRef<'a>, usize), PathError> {
    let b = s.as_bytes();
    if b.first() != Some(&b'<') {
        return Err(PathError::Syntax("the address must be in angle brackets"));
    }
    let start = if b.get(1) == Some(&b'@') {
        source_route(b, 1).map_err(PathError::Syntax)?
    } else {
        1
    };
    let (mbox, end, ascii) = mailbox_at(s, start).map_err(PathError::Syntax)?;
    if b.get(end) != Some(&b'>') {
        return Err(PathError::Syntax("expected '>'"));
    }
    let wire_len = end + 1;
    if wire_len > opts.max_path_len {
        return Err(PathError::TooLong("path too long"));
    }
    if mbox.local_part.as_str().len() > opts.max_local_part_len {
        return Err(PathError::TooLong("local part too long"));
    }
    if !opts.smtputf8 && !ascii {
        return Err(PathError::Utf8);
    }
    Ok((mbox, wire_len))
}

/// `A-d-l ":"` at `i` (which holds `@`): `At-domain *( "," At-domain ) ":"`, discarded.
/// Returns the offset after the colon. A `,` not followed by an `At-domain` ends the list
/// (and then fails for want of the colon), as nom's `separated_list1` did.
fn source_route(b: &[u8], i: usize) -> Result<usize, &'static str> {
    let mut i = i + 1;
    i += scan_domain(b.get(i..).unwrap_or_default())?.0;
    while b.get(i) == Some(&b',') && b.get(i + 1) == Some(&b'@') {
        match scan_domain(b.get(i + 2..).unwrap_or_default()) {
            Ok((len, _)) => i += 2 + len,
            Err(_) => break,
        }
    }
    if b.get(i) == Some(&b':') {
        Ok(i + 1)
    } else {
        Err("syntax error")
    }
}

/// `Local-part "@" ( Domain / address-literal )` at offset `i` of `s`: the mailbox, the
/// offset after it, and whether it is all ASCII.
#[inline(always)]
fn mailbox_at(s: &str, i: usize) -> Result<(MailboxRef<'_>, usize, bool), &'static str> {
    let b = s.as_bytes();
    let (local, at, local_ascii) = if b.get(i) == Some(&b'"') {
        // Any fault in a quoted string is reported as an invalid local part.
        quoted_string(s, i + 1).ok_or("invalid local part")?
    } else {
        dot_string(s, i)?
    };
    if b.get(at) != Some(&b'@') {
        return Err("expected '@'");
    }
    let (host, end, host_ascii) = host_at(s, at + 1)?;
    let mbox = MailboxRef {
        local_part: local,
        domain: host,
    };
    Ok((mbox, end, local_ascii && host_ascii))
}

/// `Dot-string` at offset `i`: the local part, the offset after it, and whether it is
/// ASCII.
#[inline(always)]
fn dot_string(s: &str, i: usize) -> Result<(LocalPartRef<'_>, usize, bool), &'static str> {
    // Fast path: ASCII atoms of atext joined by single dots, at most 64 octets in all.
    // Anything else (an empty atom, UTF-8, a longer local part) goes the exact way.
    let b = s.as_bytes();
    let mut j = i;
    loop {
        let atom = j;
        while b.get(j).is_some_and(|&c| class(c, C_ATEXT)) {
            j += 1;
        }
        if j == atom {
            break;
        }
        if b.get(j) == Some(&b'.') {
            j += 1;
            continue;
        }
        if j - i <= 64
            && b.get(j).is_none_or(|&c| c < 0x80)
            && let text = sub(s, i, j)
        {
            return Ok((LocalPartRef(Cow::Borrowed(text)), j, true));
        }
        break;
    }
    dot_string_slow(s, i)
}

/// `Dot-string` at offset `i`, one octet at a time, for every case.
#[inline(never)]
fn dot_string_slow(s: &str, i: usize) -> Result<(LocalPartRef<'_>, usize, bool), &'static str> {
    let b = s.as_bytes();
    let mut j = i;
    let mut prev_dot = true;
    let mut high = 0u8;
    while let Some(&c) = b.get(j) {
        if c == b'.' {
            if prev_dot {
                return Err("invalid local part");
            }
            prev_dot = true;
        } else if class(c, C_ATEXT | C_UTF8) {
            prev_dot = false;
            high |= c;
        } else {
            break;
        }
        j += 1;
    }
    if prev_dot {
        return Err("invalid local part");
    }
    if j - i > LocalPart::MAX_LEN {
        return Err("local part too long");
    }
    let text = s.get(i..j).ok_or("invalid local part")?;
    // A dot-string holds only atext, dots and UTF-8: a valid local part.
    Ok((LocalPartRef(Cow::Borrowed(text)), j, high < 0x80))
}

/// The inside of a `Quoted-string` starting at offset `i` (after the opening quote),
/// decoded: the local part, the offset after the closing quote, and whether it is ASCII.
fn quoted_string(s: &str, i: usize) -> Option<(LocalPartRef<'_>, usize, bool)> {
    let b = s.as_bytes();
    let mut j = i;
    let mut escapes = false;
    let mut high = 0u8;
    loop {
        match *b.get(j)? {
            b'"' => break,
            // A quoted pair: a backslash and a printable ASCII character.
            b'\\' => match b.get(j + 1)? {
                0x20..=0x7e => {
                    escapes = true;
                    j += 2;
                }
                _ => return None,
            },
            c @ (0x20..=0x7e | 0x80..) => {
                high |= c;
                j += 1;
            }
            _ => return None,
        }
    }
    let raw = s.get(i..j)?;
    let text: Cow<'_, str> = if escapes {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(p) = rest.find('\\') {
            // Every backslash in `raw` is followed by the printable ASCII octet it quotes.
            out.push_str(rest.get(..p)?);
            out.push_str(rest.get(p + 1..p + 2)?);
            rest = rest.get(p + 2..)?;
        }
        out.push_str(rest);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(raw)
    };
    if text.len() > LocalPart::MAX_LEN {
        return None;
    }
    Some((LocalPartRef(text), j + 1, high < 0x80))
}

/// `Domain / address-literal` at offset `i`: the host, the offset after it, and whether it
/// is all ASCII.
#[inline(always)]
fn host_at(s: &str, i: usize) -> Result<(HostRef<'_>, usize, bool), &'static str> {
    let b = s.as_bytes();
    if b.get(i) == Some(&b'[') {
        let (lit, end) = address_literal(s, i)?;
        // Address literals are ASCII (`dcontent`).
        return Ok((HostRef::Literal(lit), end, true));
    }
    let (len, ascii) = domain_at(b, i)?;
    let d = sub(s, i, i + len);
    Ok((HostRef::Domain(DomainRef(d)), i + len, ascii))
}

/// The `Domain` at offset `i` of `b`: its length and whether it is ASCII, as
/// [`scan_domain`] says.
#[inline(always)]
fn domain_at(b: &[u8], i: usize) -> Result<(usize, bool), &'static str> {
    // Fast path: ASCII labels of 1 to 63 letters, digits and hyphens, not starting or
    // ending with a hyphen, joined by single dots, at most 255 octets in all. Anything
    // else (UTF-8, an error) goes the exact way.
    let mut j = i;
    loop {
        let label = j;
        while b.get(j).is_some_and(|&c| class(c, C_LDH)) {
            j += 1;
        }
        let ok = (1..=63).contains(&(j - label))
            && b.get(label) != Some(&b'-')
            && b.get(j - 1) != Some(&b'-');
        if !ok {
            break;
        }
        if b.get(j) == Some(&b'.') {
            j += 1;
            continue;
        }
        if j - i <= Domain::MAX_LEN && b.get(j).is_none_or(|&c| c < 0x80) {
            return Ok((j - i, true));
        }
        break;
    }
    scan_domain(b.get(i..).unwrap_or_default())
}

/// An address literal at offset `i` (which holds `[`), returning the offset after the `]`.
fn address_literal(s: &str, i: usize) -> Result<(AddressLiteral, usize), &'static str> {
    let b = s.as_bytes();
    let start = i + 1;
    let mut j = start;
    while b.get(j).is_some_and(|&c| is_dcontent(c)) {
        j += 1;
    }
    if b.get(j) != Some(&b']') {
        return Err("expected ']'");
    }
    let inner = s.get(start..j).ok_or("invalid address literal")?;
    let lit = literal_inner(inner).ok_or("invalid address literal")?;
    Ok((lit, j + 1))
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
    if !s.starts_with('[') {
        return None;
    }
    match address_literal(s, 0) {
        Ok((lit, end)) if end == s.len() => Some(lit),
        _ => None,
    }
}

/// Parses `local@domain` text (no brackets), for `Mailbox::try_from` and `AUTH=`.
pub(crate) fn parse_mailbox_str(s: &str) -> Option<Mailbox> {
    match mailbox_at(s, 0) {
        Ok((mbox, end, _)) if end == s.len() => Some(mbox.into_owned()),
        _ => None,
    }
}

/// The fast paths against the exact scanners they stand in for: on any input both give
/// the same result or the same error.
#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use proptest::prelude::*;

    /// Octets that exercise the scanners' rules: atext, dots, hyphens, `@`, `>`, a space,
    /// a quote, UTF-8, digits, letters of the keywords, `+`, `=`, `,`, `;`.
    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                "a",
                "Z",
                "0",
                "9",
                ".",
                "-",
                "_",
                "+",
                "=",
                ",",
                ";",
                "@",
                ">",
                " ",
                "\"",
                "é",
                "x",
                "rfc822;",
                "SUCCESS",
                "failure",
                "Delay",
                "NEVER",
                "8BITMIME",
                "7bit",
                "12",
                "a.b",
                "-.",
                ".-",
                "..",
                "abcdefghij0123456789",
            ]),
            0..max,
        )
        .prop_map(|parts| parts.concat())
    }

    fn opts(smtputf8: bool) -> CommandParseOptions {
        CommandParseOptions {
            smtputf8,
            ..CommandParseOptions::default()
        }
    }

    fn rcpt(
        text: &str,
        smtputf8: bool,
        fast: bool,
    ) -> Result<RcptParametersRef<'_>, CommandErrorKind> {
        let handler: ParamHandler<'_, RcptParametersRef<'_>> =
            if fast { rcpt_param } else { rcpt_param_other };
        parameters(
            text,
            RcptParametersRef::empty(text),
            &opts(smtputf8),
            handler,
        )
    }

    fn mail(
        text: &str,
        smtputf8: bool,
        fast: bool,
    ) -> Result<MailParametersRef<'_>, CommandErrorKind> {
        let handler: ParamHandler<'_, MailParametersRef<'_>> =
            if fast { mail_param } else { mail_param_other };
        parameters(
            text,
            MailParametersRef::empty(text),
            &opts(smtputf8),
            handler,
        )
    }

    #[test]
    fn known_cases() {
        for s in ["bob", "a.b.c", ".a", "a.", "a..b", "é", "a\"b", "", "x@y"] {
            assert_eq!(dot_string(s, 0), dot_string_slow(s, 0), "{s:?}");
        }
        let long = "a".repeat(70);
        assert_eq!(dot_string(&long, 0), dot_string_slow(&long, 0));
        for d in [
            "example.org",
            "a-b.c",
            "-a.b",
            "a-.b",
            "a..b",
            "a.",
            "a.-b",
            "é.fr",
            "a>",
        ] {
            assert_eq!(
                domain_at(d.as_bytes(), 0),
                scan_domain(d.as_bytes()),
                "{d:?}"
            );
        }
        let label64 = format!("{}.org", "a".repeat(64));
        assert!(domain_at(label64.as_bytes(), 0).is_err());
        let long = format!("{}a", "abcdefghi.".repeat(26));
        assert_eq!(domain_at(long.as_bytes(), 0), scan_domain(long.as_bytes()));
        for p in [
            " NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net",
            " NOTIFY=NEVER NOTIFY=NEVER",
            " ORCPT=rfc822;a+2Bb",
            " ORCPT=RFC822;",
            " notify=success,",
            " ORCPT=rfc822;a ORCPT=rfc822;b",
        ] {
            assert_eq!(rcpt(p, false, true), rcpt(p, false, false), "{p:?}");
        }
        for len in [499, 500, 501] {
            let p = format!(" ORCPT=rfc822;{}", "a".repeat(len));
            assert_eq!(rcpt(&p, false, true), rcpt(&p, false, false), "{len}");
            assert_eq!(rcpt(&p, false, true).is_ok(), len <= 500);
        }
        for p in [
            " SIZE=123456 BODY=8BITMIME",
            " SIZE=9999999999999999999",
            " SIZE=18446744073709551616",
            " SIZE=1 SIZE=2",
            " BODY=7bit BODY=BINARYMIME",
            " SIZE=",
            " SIZE=1x",
        ] {
            assert_eq!(mail(p, false, true), mail(p, false, false), "{p:?}");
        }
    }

    proptest! {
        #[test]
        fn dot_string_fast_path_is_exact(s in text(12), prefix in 0usize..3) {
            let i = prefix.min(s.len());
            if s.is_char_boundary(i) {
                prop_assert_eq!(dot_string(&s, i), dot_string_slow(&s, i));
            }
        }

        #[test]
        fn domain_fast_path_is_exact(s in text(12)) {
            prop_assert_eq!(domain_at(s.as_bytes(), 0), scan_domain(s.as_bytes()));
        }

        #[test]
        fn rcpt_fast_paths_are_exact(
            params in proptest::collection::vec(
                (proptest::sample::select(vec!["NOTIFY", "ORCPT", "notify", "X-Y", "Orcpt"]), text(6)),
                0..4,
            ),
            smtputf8 in any::<bool>(),
        ) {
            let line: String = params.iter().map(|(k, v)| format!(" {k}={v}")).collect();
            prop_assert_eq!(rcpt(&line, smtputf8, true), rcpt(&line, smtputf8, false));
        }

        #[test]
        fn mail_fast_paths_are_exact(
            params in proptest::collection::vec(
                (proptest::sample::select(vec!["SIZE", "BODY", "size", "Body", "RET", "X-Y"]), text(6)),
                0..4,
            ),
            smtputf8 in any::<bool>(),
        ) {
            let line: String = params.iter().map(|(k, v)| format!(" {k}={v}")).collect();
            prop_assert_eq!(mail(&line, smtputf8, true), mail(&line, smtputf8, false));
        }

        #[test]
        fn size_fast_path_is_exact(digits in "[0-9]{0,21}|[0-9]{1,5}[a ]") {
            let fast = parse_size(digits.as_bytes());
            if fast.is_some() {
                prop_assert_eq!(fast, parse_u64(&digits));
            } else {
                prop_assert!(digits.len() > 19 || parse_u64(&digits).is_none());
            }
        }
    }
}
