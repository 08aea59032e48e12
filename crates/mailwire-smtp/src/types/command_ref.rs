//! Borrowed views of commands: [`CommandRef`], what
//! [`parse_command_ref`](crate::parse::parse_command_ref) returns.
//!
//! A `CommandRef<'a>` borrows its text from the input line wherever the wire form is the
//! value (domains, dot-string local parts, arguments, parameter values without xtext
//! escapes), so parsing a command allocates and copies nothing. Values that must be
//! decoded (a quoted local part with `\` escapes, xtext with `+XX`) are owned only then.
//! [`CommandRef::into_owned`] turns the view into a [`Command`] to keep after the input
//! buffer is reused.
//!
//! Every string in a view was checked by the parser, and the view types cannot be built
//! outside this crate (their fields are private or their own types are), so a view holds
//! exactly what the matching owned type may hold.

use std::borrow::Cow;
use std::fmt;

use mailwire_core::Secret;
use mailwire_core::sasl::Mechanism;

use crate::types::{
    AddressLiteral, Argument, BodyType, Command, Domain, EnvelopeId, ForwardPath, Host, LocalPart,
    MailParameters, Mailbox, Notify, OriginalRecipient, ParamKeyword, ParamValue, Parameter,
    RcptParameters, Ret, ReversePath,
};

/// A domain borrowed from the input; see [`Domain`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DomainRef<'a>(pub(crate) &'a str);

impl<'a> DomainRef<'a> {
    /// The domain as sent.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// The owned domain.
    pub fn into_owned(self) -> Domain {
        Domain::new_unchecked(self.0)
    }
}

impl fmt::Debug for DomainRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DomainRef").field(&self.0).finish()
    }
}

/// A host (domain or address literal) borrowed from the input; see [`Host`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HostRef<'a> {
    /// A domain name.
    Domain(DomainRef<'a>),
    /// An address literal in brackets (owned: it is parsed into addresses).
    Literal(AddressLiteral),
}

impl HostRef<'_> {
    /// The owned host.
    pub fn into_owned(self) -> Host {
        match self {
            HostRef::Domain(d) => Host::Domain(d.into_owned()),
            HostRef::Literal(l) => Host::Literal(l),
        }
    }

    /// Whether the host is a domain with U-labels.
    pub fn needs_smtputf8(&self) -> bool {
        matches!(self, HostRef::Domain(d) if !d.0.is_ascii())
    }
}

/// A decoded local part, borrowed from the input unless it had to be unquoted; see
/// [`LocalPart`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LocalPartRef<'a>(pub(crate) Cow<'a, str>);

impl LocalPartRef<'_> {
    /// The decoded local part.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owned local part.
    pub fn into_owned(self) -> LocalPart {
        match self.0 {
            Cow::Borrowed(s) => LocalPart::new_unchecked(s),
            Cow::Owned(s) => LocalPart::new_unchecked(&s),
        }
    }
}

impl fmt::Debug for LocalPartRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LocalPartRef").field(&self.as_str()).finish()
    }
}

/// A mailbox borrowed from the input; see [`Mailbox`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MailboxRef<'a> {
    /// The decoded local part.
    pub local_part: LocalPartRef<'a>,
    /// The domain or address literal.
    pub domain: HostRef<'a>,
}

impl MailboxRef<'_> {
    /// The owned mailbox.
    pub fn into_owned(self) -> Mailbox {
        Mailbox::new(self.local_part.into_owned(), self.domain.into_owned())
    }

    /// Whether the mailbox holds non-ASCII characters.
    pub fn needs_smtputf8(&self) -> bool {
        !self.local_part.as_str().is_ascii() || self.domain.needs_smtputf8()
    }
}

/// The argument of `MAIL FROM:`, borrowed; see [`ReversePath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReversePathRef<'a> {
    /// `<>`.
    Null,
    /// `<mailbox>`.
    Mailbox(MailboxRef<'a>),
}

impl ReversePathRef<'_> {
    /// The owned path.
    pub fn into_owned(self) -> ReversePath {
        match self {
            ReversePathRef::Null => ReversePath::Null,
            ReversePathRef::Mailbox(m) => ReversePath::Mailbox(m.into_owned()),
        }
    }
}

/// The argument of `RCPT TO:`, borrowed; see [`ForwardPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ForwardPathRef<'a> {
    /// `<postmaster>` without a domain.
    Postmaster,
    /// `<mailbox>`.
    Mailbox(MailboxRef<'a>),
}

impl ForwardPathRef<'_> {
    /// The owned path.
    pub fn into_owned(self) -> ForwardPath {
        match self {
            ForwardPathRef::Postmaster => ForwardPath::Postmaster,
            ForwardPathRef::Mailbox(m) => ForwardPath::Mailbox(m.into_owned()),
        }
    }
}

/// A free-text argument (`VRFY`, `EXPN`, `HELP`, `NOOP`) borrowed from the input; see
/// [`Argument`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArgumentRef<'a>(pub(crate) &'a str);

impl<'a> ArgumentRef<'a> {
    /// The argument as sent.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// The owned argument.
    pub fn into_owned(self) -> Argument {
        Argument::new_unchecked(self.0)
    }
}

impl fmt::Debug for ArgumentRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ArgumentRef").field(&self.0).finish()
    }
}

/// A decoded `ENVID=`; see [`EnvelopeId`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EnvelopeIdRef<'a>(pub(crate) Cow<'a, str>);

impl EnvelopeIdRef<'_> {
    /// The decoded envelope ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owned envelope ID.
    pub fn into_owned(self) -> EnvelopeId {
        EnvelopeId::new_unchecked(&self.0)
    }
}

impl fmt::Debug for EnvelopeIdRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EnvelopeIdRef")
            .field(&self.as_str())
            .finish()
    }
}

/// A decoded `ORCPT=`; see [`OriginalRecipient`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OriginalRecipientRef<'a> {
    pub(crate) addr_type: &'a str,
    pub(crate) address: Cow<'a, str>,
}

impl<'a> OriginalRecipientRef<'a> {
    /// The address type as sent (e.g. `rfc822`).
    pub fn addr_type(&self) -> &'a str {
        self.addr_type
    }

    /// The decoded address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The owned value.
    pub fn into_owned(self) -> OriginalRecipient {
        OriginalRecipient::new_unchecked(self.addr_type, &self.address)
    }
}

/// Which parameter keywords have a field of their own, per command.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamSet {
    Mail,
    Rcpt,
}

/// The parameters without a field of their own, as `(keyword, value)` in the order sent:
/// [`MailParametersRef::other`], [`RcptParametersRef::other`].
///
/// It reads them again from the parameter text, which the parser has already checked,
/// so that a parse stores nothing for them.
#[derive(Clone, Debug)]
pub struct OtherParams<'a> {
    rest: &'a str,
    set: ParamSet,
}

impl fmt::Debug for ParamSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamSet::Mail => "Mail",
            ParamSet::Rcpt => "Rcpt",
        })
    }
}

impl<'a> Iterator for OtherParams<'a> {
    type Item = (&'a str, Option<&'a str>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.rest.trim_start_matches(' ');
            if rest.is_empty() {
                self.rest = rest;
                return None;
            }
            let end = rest.find(' ').unwrap_or(rest.len());
            let (param, tail) = rest.split_at(end);
            self.rest = tail;
            let (kw, value) = match param.split_once('=') {
                Some((kw, value)) => (kw, Some(value)),
                None => (param, None),
            };
            let known = crate::parse::known_keyword(kw, self.set);
            if !known {
                return Some((kw, value));
            }
        }
    }
}

/// The parameters of `MAIL FROM:`, borrowed; see [`MailParameters`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailParametersRef<'a> {
    /// `SIZE=n`.
    pub size: Option<u64>,
    /// `BODY=`.
    pub body: Option<BodyType>,
    /// `SMTPUTF8`.
    pub smtputf8: bool,
    /// `AUTH=`, xtext-decoded: [`MailParametersRef::auth`].
    pub(crate) auth: Option<Box<ReversePath>>,
    /// `RET=`.
    pub ret: Option<Ret>,
    /// `ENVID=`, xtext-decoded.
    pub envid: Option<EnvelopeIdRef<'a>>,
    /// `REQUIRETLS`.
    pub requiretls: bool,
    /// The parameter text after the path (checked).
    pub(crate) raw: &'a str,
    /// Whether `raw` holds parameters without a field.
    pub(crate) has_other: bool,
}

impl<'a> MailParametersRef<'a> {
    pub(crate) fn empty(raw: &'a str) -> Self {
        MailParametersRef {
            size: None,
            body: None,
            smtputf8: false,
            auth: None,
            ret: None,
            envid: None,
            requiretls: false,
            raw,
            has_other: false,
        }
    }

    /// The parameters without a field, `(keyword, value)`, in the order sent.
    pub fn other(&self) -> OtherParams<'a> {
        OtherParams {
            rest: if self.has_other { self.raw } else { "" },
            set: ParamSet::Mail,
        }
    }

    /// `AUTH=` (RFC 4954), xtext-decoded: [`ReversePath::Null`] is `AUTH=<>`. Owned (and
    /// boxed, to keep the view small): it is rare, and often needs decoding.
    pub fn auth(&self) -> Option<&ReversePath> {
        self.auth.as_deref()
    }

    /// The owned parameters.
    pub fn into_owned(self) -> MailParameters {
        let other = self.other();
        let mut params = MailParameters::default();
        params.size = self.size;
        params.body = self.body;
        params.smtputf8 = self.smtputf8;
        params.ret = self.ret;
        params.requiretls = self.requiretls;
        params.envid = self.envid.map(EnvelopeIdRef::into_owned);
        params.auth = self.auth.map(|a| *a);
        for (kw, value) in other {
            params.push_other_unchecked(owned_param(kw, value));
        }
        params
    }
}

/// The parameters of `RCPT TO:`, borrowed; see [`RcptParameters`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcptParametersRef<'a> {
    /// `NOTIFY=`.
    pub notify: Option<Notify>,
    /// `ORCPT=`, xtext-decoded.
    pub orcpt: Option<OriginalRecipientRef<'a>>,
    /// The parameter text after the path (checked).
    pub(crate) raw: &'a str,
    /// Whether `raw` holds parameters without a field.
    pub(crate) has_other: bool,
}

impl<'a> RcptParametersRef<'a> {
    pub(crate) fn empty(raw: &'a str) -> Self {
        RcptParametersRef {
            notify: None,
            orcpt: None,
            raw,
            has_other: false,
        }
    }

    /// The parameters without a field, `(keyword, value)`, in the order sent.
    pub fn other(&self) -> OtherParams<'a> {
        OtherParams {
            rest: if self.has_other { self.raw } else { "" },
            set: ParamSet::Rcpt,
        }
    }

    /// The owned parameters.
    pub fn into_owned(self) -> RcptParameters {
        let other = self.other();
        let mut params = RcptParameters::default();
        params.notify = self.notify;
        params.orcpt = self.orcpt.map(OriginalRecipientRef::into_owned);
        for (kw, value) in other {
            params.push_other_unchecked(owned_param(kw, value));
        }
        params
    }
}

fn owned_param(kw: &str, value: Option<&str>) -> Parameter {
    Parameter {
        keyword: ParamKeyword::new_unchecked(kw),
        value: value.map(ParamValue::new_unchecked),
    }
}

/// One command line, borrowing from the input: what
/// [`parse_command_ref`](crate::parse::parse_command_ref) returns. Its variants mirror
/// [`Command`]'s.
///
/// The text of domains, dot-string local parts, arguments and parameter values without
/// xtext escapes is borrowed from the line, so parsing allocates and copies nothing;
/// values that must be decoded (a quoted local part with `\` escapes, xtext with `+XX`,
/// `AUTH=`, an initial response) are owned. [`CommandRef::into_owned`] gives the
/// [`Command`] to keep after the input buffer is reused. Every value in a view was
/// checked by the parser, and the view types cannot be built outside this crate, so a
/// view holds exactly what the matching owned type may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandRef<'a> {
    /// `HELO domain`.
    Helo(HostRef<'a>),
    /// `EHLO domain-or-address-literal`.
    Ehlo(HostRef<'a>),
    /// `LHLO domain-or-address-literal`.
    Lhlo(HostRef<'a>),
    /// `MAIL FROM:<reverse-path> [parameters]`.
    Mail {
        /// The sender.
        from: ReversePathRef<'a>,
        /// The parameters.
        params: MailParametersRef<'a>,
    },
    /// `RCPT TO:<forward-path> [parameters]`.
    Rcpt {
        /// The recipient.
        to: ForwardPathRef<'a>,
        /// The parameters.
        params: RcptParametersRef<'a>,
    },
    /// `DATA`.
    Data,
    /// `BDAT size [LAST]`.
    Bdat {
        /// The chunk size in octets.
        size: u64,
        /// Whether this is the last chunk.
        last: bool,
    },
    /// `RSET`.
    Rset,
    /// `NOOP [string]`.
    Noop(Option<ArgumentRef<'a>>),
    /// `QUIT`.
    Quit,
    /// `VRFY string`.
    Vrfy(ArgumentRef<'a>),
    /// `EXPN string`.
    Expn(ArgumentRef<'a>),
    /// `HELP [string]`.
    Help(Option<ArgumentRef<'a>>),
    /// `STARTTLS`.
    StartTls,
    /// `AUTH mechanism [initial-response]` (the response decoded, so owned).
    Auth {
        /// The SASL mechanism.
        mechanism: Mechanism,
        /// The decoded initial response: `None` when absent, empty for `=`.
        initial_response: Option<Secret<Vec<u8>>>,
    },
}

impl CommandRef<'_> {
    /// The owned command, to keep after the input is gone.
    pub fn into_owned(self) -> Command {
        match self {
            CommandRef::Helo(h) => Command::Helo(h.into_owned()),
            CommandRef::Ehlo(h) => Command::Ehlo(h.into_owned()),
            CommandRef::Lhlo(h) => Command::Lhlo(h.into_owned()),
            CommandRef::Mail { from, params } => Command::Mail {
                from: from.into_owned(),
                params: params.into_owned(),
            },
            CommandRef::Rcpt { to, params } => Command::Rcpt {
                to: to.into_owned(),
                params: params.into_owned(),
            },
            CommandRef::Data => Command::Data,
            CommandRef::Bdat { size, last } => Command::Bdat { size, last },
            CommandRef::Rset => Command::Rset,
            CommandRef::Noop(a) => Command::Noop(a.map(ArgumentRef::into_owned)),
            CommandRef::Quit => Command::Quit,
            CommandRef::Vrfy(a) => Command::Vrfy(a.into_owned()),
            CommandRef::Expn(a) => Command::Expn(a.into_owned()),
            CommandRef::Help(a) => Command::Help(a.map(ArgumentRef::into_owned)),
            CommandRef::StartTls => Command::StartTls,
            CommandRef::Auth {
                mechanism,
                initial_response,
            } => Command::Auth {
                mechanism,
                initial_response,
            },
        }
    }

    /// The canonical upper-case verb (`"MAIL"`, `"STARTTLS"`, ...).
    pub fn verb(&self) -> &'static str {
        match self {
            CommandRef::Helo(_) => "HELO",
            CommandRef::Ehlo(_) => "EHLO",
            CommandRef::Lhlo(_) => "LHLO",
            CommandRef::Mail { .. } => "MAIL",
            CommandRef::Rcpt { .. } => "RCPT",
            CommandRef::Data => "DATA",
            CommandRef::Bdat { .. } => "BDAT",
            CommandRef::Rset => "RSET",
            CommandRef::Noop(_) => "NOOP",
            CommandRef::Quit => "QUIT",
            CommandRef::Vrfy(_) => "VRFY",
            CommandRef::Expn(_) => "EXPN",
            CommandRef::Help(_) => "HELP",
            CommandRef::StartTls => "STARTTLS",
            CommandRef::Auth { .. } => "AUTH",
        }
    }
}
