//! SMTP commands (RFC 5321 section 4.1, with ESMTP and LMTP additions) and the values they
//! carry: paths, mailboxes, domains, address literals and `MAIL` / `RCPT` parameters.
//!
//! Every string-carrying type is a newtype that can only be built through `TryFrom` (or a
//! validating constructor) and can never hold CR, LF, NUL or other control characters, so
//! that [`Command::encode`] cannot be made to inject a second command. Where the grammar
//! forbids spaces (domains, keywords, parameter values, xtext-decoded envelope IDs are the
//! exception and may hold spaces) the type forbids them too.
//!
//! Non-ASCII text (RFC 6531, SMTPUTF8) is representable in local parts, domains (as
//! U-labels), parameter values and command arguments; [`Command::needs_smtputf8`] tells
//! whether a value can only be sent to a server that advertised `SMTPUTF8`. The parser only
//! accepts it when [`CommandParseOptions::smtputf8`](crate::parse::CommandParseOptions) is
//! set.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use mailwire_core::Secret;
use mailwire_core::sasl::Mechanism;
use smol_str::SmolStr;

/// Why a value could not be turned into one of the command types.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandValueError {
    /// The text does not follow the grammar of the named element.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// The text is longer than the named element allows.
    #[error("{0} too long")]
    TooLong(&'static str),
    /// An "other" parameter used a keyword that has its own field in the parameter set.
    #[error("parameter {0} has a dedicated field")]
    KnownParameter(String),
}

// ---------------------------------------------------------------------------------------
// Character classes shared with the parser and the encoder.

/// RFC 5322 `atext` (ASCII part).
pub(crate) const fn is_atext(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'/'
        | b'=' | b'?' | b'^' | b'_' | b'`' | b'{' | b'|' | b'}' | b'~')
}

/// `esmtp-value` octets (ASCII part): `%d33-60 / %d62-126`.
pub(crate) const fn is_esmtp_value_char(b: u8) -> bool {
    matches!(b, 33..=60 | 62..=126)
}

/// RFC 5321 `dcontent`: `%d33-90 / %d94-126`.
pub(crate) const fn is_dcontent(b: u8) -> bool {
    matches!(b, 33..=90 | 94..=126)
}

/// Printable ASCII or space.
const fn is_print_or_space(b: u8) -> bool {
    matches!(b, 0x20..=0x7e)
}

/// `s` as a [`SmolStr`]. Strings of up to 23 octets are copied inline by `new_inline`,
/// which measured about twice as fast as `SmolStr::new` (whose copy goes through a
/// `memmove` call of variable length) on the short local parts and domains of commands.
#[inline]
pub(crate) fn small(s: &str) -> SmolStr {
    if s.len() <= 23 {
        SmolStr::new_inline(s)
    } else {
        SmolStr::new(s)
    }
}

/// Class bit: RFC 5322 `atext`.
pub(crate) const C_ATEXT: u8 = 1;
/// Class bit: letter, digit or `-` (domain labels).
pub(crate) const C_LDH: u8 = 2;
/// Class bit: an octet of a non-ASCII UTF-8 character.
pub(crate) const C_UTF8: u8 = 4;
/// Class bit: RFC 3461 `xchar` that stands for itself (printable ASCII but `+` and `=`).
pub(crate) const C_XCHAR: u8 = 8;
/// Class bit: `esmtp-value` octet (printable ASCII but `=`).
pub(crate) const C_VALUE: u8 = 16;

/// The class bits of each octet, so that the parser's loops test one table entry.
pub(crate) static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if is_atext(b) {
            c |= C_ATEXT;
        }
        if b.is_ascii_alphanumeric() || b == b'-' {
            c |= C_LDH;
        }
        if b >= 0x80 {
            c |= C_UTF8;
        }
        if matches!(b, 33..=126) && b != b'+' && b != b'=' {
            c |= C_XCHAR;
        }
        if is_esmtp_value_char(b) {
            c |= C_VALUE;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Whether octet `b` has any of the class bits `mask`.
#[inline]
pub(crate) fn class(b: u8, mask: u8) -> bool {
    CLASS[usize::from(b)] & mask != 0
}

/// Whether `s` is an RFC 5321 `Dot-string` (with RFC 6531's UTF-8 `atext`), in one pass.
pub(crate) fn is_dot_string(s: &str) -> bool {
    let mut prev_dot = true; // no leading dot
    for &b in s.as_bytes() {
        if b == b'.' {
            if prev_dot {
                return false;
            }
            prev_dot = true;
        } else if class(b, C_ATEXT | C_UTF8) {
            prev_dot = false;
        } else {
            return false;
        }
    }
    !prev_dot // not empty, no trailing dot
}

/// Scans the `Domain` at the start of `b`: returns its length (it ends at the first octet
/// that cannot be part of a domain) and whether it is all ASCII, or why it is not a valid
/// domain. One pass.
pub(crate) fn scan_domain(b: &[u8]) -> Result<(usize, bool), &'static str> {
    let mut all_ascii = true;
    let mut pos = 0;
    loop {
        let label = b.get(pos..).unwrap_or_default();
        let mut len = 0;
        let mut high = 0u8;
        for &c in label {
            if !class(c, C_LDH | C_UTF8) {
                break;
            }
            high |= c;
            len += 1;
        }
        let ascii = high < 0x80;
        let label = label.get(..len).unwrap_or_default();
        match (label.first(), label.last()) {
            (Some(&first), Some(&last)) if first != b'-' && last != b'-' => {}
            (None, _) => return Err("expected a domain label"),
            _ => return Err("a domain label starts or ends with '-'"),
        }
        if ascii && len > 63 {
            return Err("domain label too long");
        }
        all_ascii &= ascii;
        pos += len;
        if b.get(pos) == Some(&b'.') {
            pos += 1;
        } else {
            break;
        }
    }
    if pos > Domain::MAX_LEN {
        return Err("domain too long");
    }
    Ok((pos, all_ascii))
}

// ---------------------------------------------------------------------------------------
// Domains and address literals.

/// A domain name (RFC 5321 `Domain`): dot-separated labels of letters, digits and hyphens,
/// each starting and ending with a letter or digit; or, for SMTPUTF8, U-labels holding
/// non-ASCII characters (not checked against IDNA2008 tables).
///
/// At most 255 octets; ASCII labels at most 63 octets. No trailing dot. Case is kept as
/// given (comparisons of domains are the application's business).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Domain(SmolStr);

impl Domain {
    /// The longest domain accepted, in octets (RFC 5321 section 4.5.3.1.2).
    pub const MAX_LEN: usize = 255;

    /// The domain as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the domain holds non-ASCII characters (U-labels), so that it may only be
    /// used in an SMTPUTF8 transaction.
    pub fn needs_smtputf8(&self) -> bool {
        !self.0.is_ascii()
    }

    /// Validates `s` as a domain.
    pub(crate) fn validate(s: &str) -> Result<(), CommandValueError> {
        match scan_domain(s.as_bytes()) {
            Ok((len, _)) if len == s.len() => Ok(()),
            Err("domain too long") => Err(CommandValueError::TooLong("domain")),
            _ => Err(CommandValueError::Invalid("domain")),
        }
    }

    /// Builds a domain the caller has already validated.
    pub(crate) fn new_unchecked(s: &str) -> Domain {
        debug_assert!(Self::validate(s).is_ok());
        Domain(small(s))
    }
}

impl TryFrom<&str> for Domain {
    type Error = CommandValueError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Domain::validate(s)?;
        Ok(Domain(small(s)))
    }
}

impl TryFrom<String> for Domain {
    type Error = CommandValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Domain::validate(&s)?;
        Ok(Domain(SmolStr::from(s)))
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A general address literal (RFC 5321 `General-address-literal`): `[tag:content]` with a
/// registered tag other than `IPv6` (which is [`AddressLiteral::Ipv6`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GeneralLiteral {
    /// Boxed: general literals are rare, and keeping them out of line keeps [`Host`] (and
    /// so every mailbox and command) small.
    parts: Box<(SmolStr, SmolStr)>,
}

impl GeneralLiteral {
    /// Builds a general literal: `tag` an `Ldh-str` that is not `IPv6` (in any case),
    /// `content` 1 to 255 `dcontent` octets (printable ASCII except `[`, `\`, `]`).
    pub fn new(tag: &str, content: &str) -> Result<GeneralLiteral, CommandValueError> {
        Self::validate(tag, content)?;
        Ok(GeneralLiteral {
            parts: Box::new((small(tag), small(content))),
        })
    }

    pub(crate) fn validate(tag: &str, content: &str) -> Result<(), CommandValueError> {
        if tag.len() > 63 || content.len() > 255 {
            return Err(CommandValueError::TooLong("address literal"));
        }
        // Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
        let tag_ok = tag
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric())
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !tag.eq_ignore_ascii_case("IPv6");
        let content_ok = !content.is_empty() && content.bytes().all(is_dcontent);
        if tag_ok && content_ok {
            Ok(())
        } else {
            Err(CommandValueError::Invalid("address literal"))
        }
    }

    /// The standardized tag.
    pub fn tag(&self) -> &str {
        &self.parts.0
    }

    /// The address after the colon.
    pub fn content(&self) -> &str {
        &self.parts.1
    }
}

impl fmt::Debug for GeneralLiteral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneralLiteral")
            .field("tag", &self.tag())
            .field("content", &self.content())
            .finish()
    }
}

/// An address literal (RFC 5321 section 4.1.3), for hosts without a DNS name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AddressLiteral {
    /// `[192.0.2.1]`.
    Ipv4(Ipv4Addr),
    /// `[IPv6:2001:db8::1]`.
    Ipv6(Ipv6Addr),
    /// `[tag:content]` for other registered address types.
    General(GeneralLiteral),
}

/// The part of a mailbox after the `@`, and the argument of `EHLO`/`HELO`/`LHLO`: a domain
/// name or an address literal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name.
    Domain(Domain),
    /// An address literal in brackets.
    Literal(AddressLiteral),
}

impl Host {
    /// Whether the host is a domain with U-labels.
    pub fn needs_smtputf8(&self) -> bool {
        matches!(self, Host::Domain(d) if d.needs_smtputf8())
    }
}

impl From<Domain> for Host {
    fn from(d: Domain) -> Host {
        Host::Domain(d)
    }
}

impl From<AddressLiteral> for Host {
    fn from(l: AddressLiteral) -> Host {
        Host::Literal(l)
    }
}

impl TryFrom<&str> for Host {
    type Error = CommandValueError;
    /// Parses a domain, or an address literal in brackets (`[192.0.2.1]`).
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        if s.starts_with('[') {
            crate::parse::parse_address_literal_str(s)
                .map(Host::Literal)
                .ok_or(CommandValueError::Invalid("address literal"))
        } else {
            Domain::try_from(s).map(Host::Domain)
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        crate::encode::encode_host(self, &mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

// ---------------------------------------------------------------------------------------
// Mailboxes and paths.

/// The local part of a mailbox, decoded: `"john doe"` on the wire is `john doe` here.
///
/// It holds printable ASCII and spaces (and non-ASCII characters, for SMTPUTF8), at most
/// [`LocalPart::MAX_LEN`] octets, and may be empty (`""@example.com` is grammatical). The
/// encoder writes it as a dot-string when it is one, and otherwise as a quoted string,
/// escaping only `"` and `\` (RFC 5321: "the minimum quoting possible").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LocalPart(SmolStr);

impl LocalPart {
    /// The longest local part this type holds, in octets. RFC 5321 sets 64; the parser
    /// applies [`CommandParseOptions::max_local_part_len`](crate::parse::CommandParseOptions)
    /// (64 by default) because real mail (SRS, VERP) sometimes exceeds it.
    pub const MAX_LEN: usize = 255;

    /// The decoded local part.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the local part holds non-ASCII characters.
    pub fn needs_smtputf8(&self) -> bool {
        !self.0.is_ascii()
    }

    /// Whether the encoder writes this local part as a quoted string.
    pub fn needs_quoting(&self) -> bool {
        !is_dot_string(&self.0)
    }

    pub(crate) fn validate(s: &str) -> Result<(), CommandValueError> {
        if s.len() > Self::MAX_LEN {
            return Err(CommandValueError::TooLong("local part"));
        }
        if s.bytes().all(|b| is_print_or_space(b) || b >= 0x80) {
            Ok(())
        } else {
            Err(CommandValueError::Invalid("local part"))
        }
    }

    pub(crate) fn new_unchecked(s: &str) -> LocalPart {
        debug_assert!(Self::validate(s).is_ok());
        LocalPart(small(s))
    }
}

impl TryFrom<&str> for LocalPart {
    type Error = CommandValueError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        LocalPart::validate(s)?;
        Ok(LocalPart(small(s)))
    }
}

impl TryFrom<String> for LocalPart {
    type Error = CommandValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        LocalPart::validate(&s)?;
        Ok(LocalPart(SmolStr::from(s)))
    }
}

/// A mailbox, `local-part@domain` (RFC 5321 `Mailbox`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mailbox {
    /// The decoded local part.
    pub local_part: LocalPart,
    /// The domain or address literal.
    pub domain: Host,
}

impl Mailbox {
    /// Builds a mailbox from its parts.
    pub fn new(local_part: LocalPart, domain: Host) -> Mailbox {
        Mailbox { local_part, domain }
    }

    /// Whether the mailbox holds non-ASCII characters and so needs an SMTPUTF8
    /// transaction (RFC 6531).
    pub fn needs_smtputf8(&self) -> bool {
        self.local_part.needs_smtputf8() || self.domain.needs_smtputf8()
    }

    /// Whether the local part is `postmaster` (in any case).
    pub fn is_postmaster(&self) -> bool {
        self.local_part.0.eq_ignore_ascii_case("postmaster")
    }
}

impl TryFrom<&str> for Mailbox {
    type Error = CommandValueError;
    /// Parses the wire form without brackets, `local@domain` or `"quoted local"@domain`,
    /// accepting UTF-8 (check [`Mailbox::needs_smtputf8`] if that matters).
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        crate::parse::parse_mailbox_str(s).ok_or(CommandValueError::Invalid("mailbox"))
    }
}

impl fmt::Display for Mailbox {
    /// The wire form, without brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        crate::encode::encode_mailbox(self, &mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

/// The argument of `MAIL FROM:`: the null path `<>` (bounces) or a mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReversePath {
    /// `<>`.
    Null,
    /// `<mailbox>`.
    Mailbox(Mailbox),
}

impl ReversePath {
    /// Whether the path needs an SMTPUTF8 transaction.
    pub fn needs_smtputf8(&self) -> bool {
        matches!(self, ReversePath::Mailbox(m) if m.needs_smtputf8())
    }
}

/// The argument of `RCPT TO:`. Source routes (`<@a,@b:user@c>`) are accepted by the parser
/// and dropped, as RFC 5321 section 4.1.1.3 says; they are never sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ForwardPath {
    /// `<postmaster>` without a domain (case-insensitive on input, sent as `<Postmaster>`).
    /// `<Postmaster@domain>` is a [`ForwardPath::Mailbox`] (see [`Mailbox::is_postmaster`]).
    Postmaster,
    /// `<mailbox>`.
    Mailbox(Mailbox),
}

impl ForwardPath {
    /// Whether the path needs an SMTPUTF8 transaction.
    pub fn needs_smtputf8(&self) -> bool {
        matches!(self, ForwardPath::Mailbox(m) if m.needs_smtputf8())
    }
}

// ---------------------------------------------------------------------------------------
// Parameters.

/// `BODY=` (RFC 6152 8BITMIME, RFC 3030 BINARYMIME).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyType {
    /// `7BIT`.
    SevenBit,
    /// `8BITMIME`.
    EightBitMime,
    /// `BINARYMIME` (requires `BDAT`).
    BinaryMime,
}

impl BodyType {
    /// The canonical keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyType::SevenBit => "7BIT",
            BodyType::EightBitMime => "8BITMIME",
            BodyType::BinaryMime => "BINARYMIME",
        }
    }
}

/// `RET=` (RFC 3461): how much of the message a DSN returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ret {
    /// `FULL`: the whole message.
    Full,
    /// `HDRS`: the headers only.
    Hdrs,
}

impl Ret {
    /// The canonical keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Ret::Full => "FULL",
            Ret::Hdrs => "HDRS",
        }
    }
}

/// `NOTIFY=` (RFC 3461): the conditions that trigger a DSN. All three `false` is `NEVER`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Notify {
    /// `SUCCESS`.
    pub success: bool,
    /// `FAILURE`.
    pub failure: bool,
    /// `DELAY`.
    pub delay: bool,
}

impl Notify {
    /// `NOTIFY=NEVER`.
    pub const NEVER: Notify = Notify {
        success: false,
        failure: false,
        delay: false,
    };

    /// Whether this is `NEVER`.
    pub fn is_never(self) -> bool {
        self == Notify::NEVER
    }
}

/// Checks decoded xtext: printable ASCII and spaces, 1 to `max` octets.
fn validate_xtext_decoded(
    s: &str,
    max: usize,
    what: &'static str,
) -> Result<(), CommandValueError> {
    if s.len() > max {
        return Err(CommandValueError::TooLong(what));
    }
    if !s.is_empty() && s.bytes().all(is_print_or_space) {
        Ok(())
    } else {
        Err(CommandValueError::Invalid(what))
    }
}

/// `ENVID=` (RFC 3461), decoded from xtext: 1 to 100 printable ASCII characters or spaces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnvelopeId(SmolStr);

impl EnvelopeId {
    /// The longest envelope ID, in characters (RFC 3461 section 4.4).
    pub const MAX_LEN: usize = 100;

    /// The decoded envelope ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn validate(s: &str) -> Result<(), CommandValueError> {
        validate_xtext_decoded(s, Self::MAX_LEN, "envelope id")
    }

    pub(crate) fn new_unchecked(s: &str) -> EnvelopeId {
        debug_assert!(Self::validate(s).is_ok());
        EnvelopeId(small(s))
    }
}

impl TryFrom<&str> for EnvelopeId {
    type Error = CommandValueError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        EnvelopeId::validate(s)?;
        Ok(EnvelopeId(small(s)))
    }
}

/// `ORCPT=addr-type;xtext` (RFC 3461): the original recipient, with the address decoded
/// from xtext (1 to 500 printable ASCII characters or spaces).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OriginalRecipient {
    addr_type: SmolStr,
    address: SmolStr,
}

impl OriginalRecipient {
    /// The longest decoded address, in characters (RFC 3461 section 4.2).
    pub const MAX_LEN: usize = 500;

    /// Builds an original recipient: `addr_type` an RFC 5322 atom (usually `rfc822`),
    /// `address` the decoded address.
    pub fn new(addr_type: &str, address: &str) -> Result<OriginalRecipient, CommandValueError> {
        Self::validate(addr_type, address)?;
        Ok(OriginalRecipient {
            addr_type: small(addr_type),
            address: small(address),
        })
    }

    pub(crate) fn validate(addr_type: &str, address: &str) -> Result<(), CommandValueError> {
        if addr_type.is_empty() || addr_type.len() > 64 || !addr_type.bytes().all(is_atext) {
            return Err(CommandValueError::Invalid("address type"));
        }
        validate_xtext_decoded(address, Self::MAX_LEN, "original recipient")
    }

    pub(crate) fn new_unchecked(addr_type: &str, address: &str) -> OriginalRecipient {
        debug_assert!(Self::validate(addr_type, address).is_ok());
        OriginalRecipient {
            addr_type: small(addr_type),
            address: small(address),
        }
    }

    /// The address type as sent (e.g. `rfc822`).
    pub fn addr_type(&self) -> &str {
        &self.addr_type
    }

    /// The decoded address.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// An `esmtp-keyword`: a letter or digit, then letters, digits and hyphens (at most 64).
/// Case is kept as sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParamKeyword(SmolStr);

impl ParamKeyword {
    /// The keyword as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn validate(s: &str) -> Result<(), CommandValueError> {
        let b = s.as_bytes();
        if b.len() > 64 {
            return Err(CommandValueError::TooLong("parameter keyword"));
        }
        if b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        {
            Ok(())
        } else {
            Err(CommandValueError::Invalid("parameter keyword"))
        }
    }

    pub(crate) fn new_unchecked(s: &str) -> ParamKeyword {
        debug_assert!(Self::validate(s).is_ok());
        ParamKeyword(small(s))
    }
}

impl TryFrom<&str> for ParamKeyword {
    type Error = CommandValueError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        ParamKeyword::validate(s)?;
        Ok(ParamKeyword(small(s)))
    }
}

/// An `esmtp-value`: 1 or more printable ASCII characters other than `=` (no spaces), or
/// non-ASCII characters (RFC 6531), at most 1000 octets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParamValue(SmolStr);

impl ParamValue {
    /// The longest value this type holds, in octets.
    pub const MAX_LEN: usize = 1000;

    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn validate(s: &str) -> Result<(), CommandValueError> {
        if s.len() > Self::MAX_LEN {
            return Err(CommandValueError::TooLong("parameter value"));
        }
        if !s.is_empty() && s.bytes().all(|b| class(b, C_VALUE | C_UTF8)) {
            Ok(())
        } else {
            Err(CommandValueError::Invalid("parameter value"))
        }
    }

    pub(crate) fn new_unchecked(s: &str) -> ParamValue {
        debug_assert!(Self::validate(s).is_ok());
        ParamValue(small(s))
    }
}

impl TryFrom<&str> for ParamValue {
    type Error = CommandValueError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        ParamValue::validate(s)?;
        Ok(ParamValue(small(s)))
    }
}

/// A parameter mailwire does not interpret, `KEYWORD` or `KEYWORD=value`, kept as sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Parameter {
    /// The keyword.
    pub keyword: ParamKeyword,
    /// The value after `=`, if any.
    pub value: Option<ParamValue>,
}

/// The keywords [`MailParameters`] has fields for.
pub(crate) const MAIL_KEYWORDS: [&str; 7] = [
    "SIZE",
    "BODY",
    "SMTPUTF8",
    "AUTH",
    "RET",
    "ENVID",
    "REQUIRETLS",
];

/// The keywords [`RcptParameters`] has fields for.
pub(crate) const RCPT_KEYWORDS: [&str; 2] = ["NOTIFY", "ORCPT"];

fn check_other(param: &Parameter, known: &[&str]) -> Result<(), CommandValueError> {
    if known
        .iter()
        .any(|k| param.keyword.0.eq_ignore_ascii_case(k))
    {
        Err(CommandValueError::KnownParameter(
            param.keyword.0.to_string(),
        ))
    } else {
        Ok(())
    }
}

/// The parameters of `MAIL FROM:` (RFC 5321 `Mail-parameters`).
///
/// Known parameters have fields; each may appear at most once on the wire (a duplicate is a
/// parse error). Other parameters are kept in order in [`MailParameters::other`]; a server
/// should answer `555 5.5.4` to one it did not advertise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MailParameters {
    /// `SIZE=n` (RFC 1870): the declared message size in octets.
    pub size: Option<u64>,
    /// `BODY=` (RFC 6152, RFC 3030).
    pub body: Option<BodyType>,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `AUTH=` (RFC 4954), xtext-decoded: [`ReversePath::Null`] is `AUTH=<>`.
    pub auth: Option<ReversePath>,
    /// `RET=` (RFC 3461).
    pub ret: Option<Ret>,
    /// `ENVID=` (RFC 3461), xtext-decoded.
    pub envid: Option<EnvelopeId>,
    /// `REQUIRETLS` (RFC 8689).
    pub requiretls: bool,
    other: Vec<Parameter>,
}

impl MailParameters {
    /// The parameters without a field, in the order they were sent.
    pub fn other(&self) -> &[Parameter] {
        &self.other
    }

    /// Appends a parameter without a field. Fails if its keyword is one of the known ones
    /// (`SIZE`, `BODY`, `SMTPUTF8`, `AUTH`, `RET`, `ENVID`, `REQUIRETLS`): set the field.
    pub fn push_other(&mut self, param: Parameter) -> Result<(), CommandValueError> {
        check_other(&param, &MAIL_KEYWORDS)?;
        self.other.push(param);
        Ok(())
    }

    pub(crate) fn push_other_unchecked(&mut self, param: Parameter) {
        self.other.push(param);
    }

    /// Whether any parameter needs SMTPUTF8 (a UTF-8 `AUTH=` mailbox or other value).
    pub fn needs_smtputf8(&self) -> bool {
        self.auth.as_ref().is_some_and(ReversePath::needs_smtputf8)
            || self
                .other
                .iter()
                .any(|p| p.value.as_ref().is_some_and(|v| !v.0.is_ascii()))
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        *self == MailParameters::default()
    }
}

/// The parameters of `RCPT TO:` (RFC 5321 `Rcpt-parameters`); see [`MailParameters`] for
/// the rules on known and other parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RcptParameters {
    /// `NOTIFY=` (RFC 3461).
    pub notify: Option<Notify>,
    /// `ORCPT=` (RFC 3461).
    pub orcpt: Option<OriginalRecipient>,
    other: Vec<Parameter>,
}

impl RcptParameters {
    /// The parameters without a field, in the order they were sent.
    pub fn other(&self) -> &[Parameter] {
        &self.other
    }

    /// Appends a parameter without a field. Fails for `NOTIFY` and `ORCPT`: set the field.
    pub fn push_other(&mut self, param: Parameter) -> Result<(), CommandValueError> {
        check_other(&param, &RCPT_KEYWORDS)?;
        self.other.push(param);
        Ok(())
    }

    pub(crate) fn push_other_unchecked(&mut self, param: Parameter) {
        self.other.push(param);
    }

    /// Whether any parameter value holds non-ASCII characters.
    pub fn needs_smtputf8(&self) -> bool {
        self.other
            .iter()
            .any(|p| p.value.as_ref().is_some_and(|v| !v.0.is_ascii()))
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        *self == RcptParameters::default()
    }
}

// ---------------------------------------------------------------------------------------
// Free-text arguments.

/// The argument of `VRFY`, `EXPN`, `HELP` and `NOOP`, kept as sent (a quoted string keeps
/// its quotes; RFC 5321 calls it `String`, but clients send e.g. `VRFY <user@host>`).
///
/// 1 to 1000 octets of printable ASCII, spaces (not first or last) and non-ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Argument(SmolStr);

impl Argument {
    /// The longest argument, in octets.
    pub const MAX_LEN: usize = 1000;

    /// The argument as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn validate(s: &str) -> Result<(), CommandValueError> {
        if s.len() > Self::MAX_LEN {
            return Err(CommandValueError::TooLong("argument"));
        }
        if !s.is_empty()
            && !s.starts_with(' ')
            && !s.ends_with(' ')
            && s.bytes().all(|b| is_print_or_space(b) || b >= 0x80)
        {
            Ok(())
        } else {
            Err(CommandValueError::Invalid("argument"))
        }
    }

    pub(crate) fn new_unchecked(s: &str) -> Argument {
        debug_assert!(Self::validate(s).is_ok());
        Argument(small(s))
    }
}

impl TryFrom<&str> for Argument {
    type Error = CommandValueError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Argument::validate(s)?;
        Ok(Argument(small(s)))
    }
}

// ---------------------------------------------------------------------------------------
// Commands.

/// One SMTP, ESMTP or LMTP command line.
///
/// `AUTH`'s initial response is kept decoded in a [`Secret`], so that it never shows in
/// `Debug` output: `None` when absent, an empty vector for `=` (an empty response).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `HELO domain`. Address literals are accepted too, as clients send them.
    Helo(Host),
    /// `EHLO domain-or-address-literal`.
    Ehlo(Host),
    /// `LHLO domain-or-address-literal` (LMTP, RFC 2033).
    Lhlo(Host),
    /// `MAIL FROM:<reverse-path> [parameters]`.
    Mail {
        /// The sender.
        from: ReversePath,
        /// The parameters.
        params: MailParameters,
    },
    /// `RCPT TO:<forward-path> [parameters]`.
    Rcpt {
        /// The recipient.
        to: ForwardPath,
        /// The parameters.
        params: RcptParameters,
    },
    /// `DATA`.
    Data,
    /// `BDAT size [LAST]` (RFC 3030).
    Bdat {
        /// The chunk size in octets.
        size: u64,
        /// Whether this is the last chunk.
        last: bool,
    },
    /// `RSET`.
    Rset,
    /// `NOOP [string]`.
    Noop(Option<Argument>),
    /// `QUIT`.
    Quit,
    /// `VRFY string`.
    Vrfy(Argument),
    /// `EXPN string`.
    Expn(Argument),
    /// `HELP [string]`.
    Help(Option<Argument>),
    /// `STARTTLS` (RFC 3207).
    StartTls,
    /// `AUTH mechanism [initial-response]` (RFC 4954).
    Auth {
        /// The SASL mechanism.
        mechanism: Mechanism,
        /// The decoded initial response: `None` when absent, empty for `=`.
        initial_response: Option<Secret<Vec<u8>>>,
    },
}

impl Command {
    /// The canonical upper-case verb (`"MAIL"`, `"STARTTLS"`, ...).
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Helo(_) => "HELO",
            Command::Ehlo(_) => "EHLO",
            Command::Lhlo(_) => "LHLO",
            Command::Mail { .. } => "MAIL",
            Command::Rcpt { .. } => "RCPT",
            Command::Data => "DATA",
            Command::Bdat { .. } => "BDAT",
            Command::Rset => "RSET",
            Command::Noop(_) => "NOOP",
            Command::Quit => "QUIT",
            Command::Vrfy(_) => "VRFY",
            Command::Expn(_) => "EXPN",
            Command::Help(_) => "HELP",
            Command::StartTls => "STARTTLS",
            Command::Auth { .. } => "AUTH",
        }
    }

    /// Whether the command holds non-ASCII text, so that it may only be sent to a server
    /// that advertised `SMTPUTF8` (and, for `MAIL`/`RCPT`, within a transaction whose
    /// `MAIL` carried the `SMTPUTF8` parameter).
    pub fn needs_smtputf8(&self) -> bool {
        let arg = |a: &Option<Argument>| a.as_ref().is_some_and(|a| !a.0.is_ascii());
        match self {
            Command::Helo(h) | Command::Ehlo(h) | Command::Lhlo(h) => h.needs_smtputf8(),
            Command::Mail { from, params } => from.needs_smtputf8() || params.needs_smtputf8(),
            Command::Rcpt { to, params } => to.needs_smtputf8() || params.needs_smtputf8(),
            Command::Vrfy(a) | Command::Expn(a) => !a.0.is_ascii(),
            Command::Noop(a) | Command::Help(a) => arg(a),
            Command::Data
            | Command::Bdat { .. }
            | Command::Rset
            | Command::Quit
            | Command::StartTls
            | Command::Auth { .. } => false,
        }
    }
}
