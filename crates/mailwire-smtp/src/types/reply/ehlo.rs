//! The EHLO (and LHLO) reply: the server's name, a greeting, and its service extensions
//! (RFC 5321 section 4.1.1.1, `ehlo-ok-rsp`).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use mailwire_core::sasl::Mechanism;

use super::{EnhancedCode, Reply, ReplyCode, ReplyText};
use crate::types::Host;

/// An error reading an EHLO reply, or building one of its parts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EhloError {
    /// The reply code is not 250, so this is not a successful EHLO reply.
    #[error("not an EHLO reply: code {0}")]
    NotOk(ReplyCode),
    /// The first line of the reply is empty: the server did not name itself.
    #[error("the EHLO reply does not name the server")]
    MissingDomain,
    /// The server's name is empty, or holds a space or control character, or looks like an
    /// enhanced status code.
    #[error("invalid EHLO domain")]
    InvalidDomain,
    /// An EHLO keyword or parameter is empty or holds a space, CR or LF.
    #[error("invalid EHLO keyword or parameter")]
    InvalidToken,
}

/// The name a server gives for itself at the start of its greeting and EHLO reply: a
/// domain or an address literal such as `[192.0.2.1]`.
///
/// Accepted tolerantly, as servers send it: one or more characters, none of them a space or
/// an ASCII control character (non-ASCII is allowed, for SMTPUTF8 servers). It cannot look
/// like an enhanced status code (`2.0.0`), which a client would read as one.
///
/// ```
/// use mailwire_smtp::types::EhloDomain;
/// assert_eq!(EhloDomain::new("mail.example.com").unwrap().as_str(), "mail.example.com");
/// assert!(EhloDomain::new("[192.0.2.1]").is_ok());
/// assert!(EhloDomain::new("two words").is_err());
/// assert!(EhloDomain::new("").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EhloDomain(String);

impl EhloDomain {
    /// Validates a server name.
    pub fn new(name: &str) -> Result<EhloDomain, EhloError> {
        EhloDomain::check(name)?;
        Ok(EhloDomain(name.to_owned()))
    }

    fn check(name: &str) -> Result<(), EhloError> {
        let looks_enhanced = name.as_bytes().first().is_some_and(|&c| {
            matches!(c, b'2' | b'4' | b'5') && EnhancedCode::split_prefix(c - b'0', name).is_some()
        });
        let valid =
            !name.is_empty() && name.bytes().all(|b| b > b' ' && b != 0x7f) && !looks_enhanced;
        if valid {
            Ok(())
        } else {
            Err(EhloError::InvalidDomain)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The name as a strictly valid domain or address literal, if it is one (servers are
    /// not always strict here).
    pub fn to_host(&self) -> Option<Host> {
        Host::try_from(self.0.as_str()).ok()
    }
}

impl TryFrom<&Host> for EhloDomain {
    type Error = EhloError;
    /// The host as written on the wire (`mail.example.com`, `[192.0.2.1]`). Fails only for
    /// a domain that reads as an enhanced status code, such as `2.0.0`.
    fn try_from(host: &Host) -> Result<Self, EhloError> {
        EhloDomain::try_from(host.to_string())
    }
}

impl TryFrom<&str> for EhloDomain {
    type Error = EhloError;
    fn try_from(name: &str) -> Result<Self, EhloError> {
        EhloDomain::new(name)
    }
}

impl TryFrom<String> for EhloDomain {
    type Error = EhloError;
    fn try_from(name: String) -> Result<Self, EhloError> {
        EhloDomain::check(&name)?;
        Ok(EhloDomain(name))
    }
}

impl AsRef<str> for EhloDomain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EhloDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One service extension from an EHLO reply line: `ehlo-keyword *( SP ehlo-param )`.
///
/// Keywords are matched case-insensitively. A known keyword whose parameters do not fit
/// its RFC (say `SIZE abc`, or `PIPELINING` with a parameter) is kept as
/// [`Capability::Other`], as is every unknown keyword, with its parameters, so that a
/// reply survives a round trip.
///
/// ```
/// use mailwire_core::sasl::Mechanism;
/// use mailwire_smtp::types::Capability;
///
/// assert_eq!(Capability::parse("SIZE 10240000").unwrap(), Some(Capability::Size(Some(10240000))));
/// assert_eq!(Capability::parse("size").unwrap(), Some(Capability::Size(None)));
/// assert_eq!(
///     Capability::parse("AUTH=LOGIN PLAIN").unwrap(),
///     Some(Capability::AuthLegacy(vec![Mechanism::Login, Mechanism::Plain]))
/// );
/// let other = Capability::parse("X-EXPS GSSAPI NTLM").unwrap().unwrap();
/// assert_eq!(other.keyword(), "X-EXPS");
/// assert_eq!(other.to_string(), "X-EXPS GSSAPI NTLM");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// `SIZE [n]` (RFC 1870): the largest message accepted, in bytes; `None` when the
    /// server does not state one, `Some(0)` when it sets no limit.
    Size(Option<u64>),
    /// `PIPELINING` (RFC 2920).
    Pipelining,
    /// `CHUNKING` (RFC 3030): the BDAT command.
    Chunking,
    /// `BINARYMIME` (RFC 3030).
    BinaryMime,
    /// `8BITMIME` (RFC 6152).
    EightBitMime,
    /// `SMTPUTF8` (RFC 6531).
    SmtpUtf8,
    /// `DSN` (RFC 3461).
    Dsn,
    /// `ENHANCEDSTATUSCODES` (RFC 2034).
    EnhancedStatusCodes,
    /// `STARTTLS` (RFC 3207).
    StartTls,
    /// `AUTH mechanism...` (RFC 4954).
    Auth(Vec<Mechanism>),
    /// `AUTH=mechanism...`: the form from before RFC 2554 was final, still sent by servers
    /// alongside `AUTH` for old Outlook clients.
    AuthLegacy(Vec<Mechanism>),
    /// `REQUIRETLS` (RFC 8689).
    RequireTls,
    /// `VRFY` (RFC 5321).
    Vrfy,
    /// `EXPN` (RFC 5321).
    Expn,
    /// `ETRN` (RFC 1985).
    Etrn,
    /// `HELP` (RFC 5321).
    Help,
    /// Any other keyword, or a known one with parameters that do not fit it.
    Other(OtherCapability),
}

/// A capability mailwire does not type: the keyword and parameters as sent.
///
/// Built only through [`Capability::new`] or [`Capability::parse`], which give a typed
/// [`Capability`] when the keyword and parameters fit one, so that a value of this type
/// never reads back as something else.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OtherCapability {
    keyword: String,
    params: Vec<String>,
}

impl OtherCapability {
    /// The keyword, as sent.
    pub fn keyword(&self) -> &str {
        &self.keyword
    }

    /// The parameters, as sent.
    pub fn params(&self) -> &[String] {
        &self.params
    }
}

/// The words of an EHLO line: split on spaces, empty words (from doubled, leading or
/// trailing spaces) skipped.
#[derive(Clone)]
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            // Cuts are next to a space (ASCII), so on character boundaries.
            let (word, rest) = match self.rest.bytes().position(|b| b == b' ') {
                Some(i) => (self.rest.get(..i)?, self.rest.get(i + 1..)?),
                None => (self.rest, ""),
            };
            self.rest = rest;
            if !word.is_empty() {
                return Some(word);
            }
        }
    }
}

/// Keyword and parameter tokens: tolerant of what servers send, any non-empty string
/// without a space, CR or LF (the RFC's `ehlo-keyword` and `ehlo-param` are subsets).
fn check_token(token: &str) -> Result<(), EhloError> {
    if token.is_empty() || memchr::memchr3(b' ', b'\r', b'\n', token.as_bytes()).is_some() {
        Err(EhloError::InvalidToken)
    } else {
        Ok(())
    }
}

/// [`Mechanism::from_name`], without its allocation for the common names.
fn mechanism(name: &str) -> Option<Mechanism> {
    let mut buf = [0u8; 11];
    if let Some(upper) = buf.get_mut(..name.len()) {
        for (u, b) in upper.iter_mut().zip(name.bytes()) {
            *u = b.to_ascii_uppercase();
        }
        match &*upper {
            b"PLAIN" => return Some(Mechanism::Plain),
            b"LOGIN" => return Some(Mechanism::Login),
            b"XOAUTH2" => return Some(Mechanism::XOAuth2),
            b"CRAM-MD5" => return Some(Mechanism::CramMd5),
            b"OAUTHBEARER" => return Some(Mechanism::OAuthBearer),
            _ => {}
        }
    }
    Mechanism::from_name(name)
}

/// All the names as mechanisms, or `None` if one is not a valid name. (A plain loop: the
/// `collect::<Option<Vec<_>>>()` adapter measured several times slower.)
fn mechanisms<'a>(names: impl Iterator<Item = &'a str>) -> Option<Vec<Mechanism>> {
    let mut out = Vec::with_capacity(4);
    for name in names {
        out.push(mechanism(name)?);
    }
    Some(out)
}

impl Capability {
    /// A capability from its keyword and parameters: the typed variant when they fit one,
    /// [`Capability::Other`] otherwise.
    pub fn new<S: AsRef<str>>(keyword: &str, params: &[S]) -> Result<Capability, EhloError> {
        check_token(keyword)?;
        for param in params {
            check_token(param.as_ref())?;
        }
        let words = params.iter().map(AsRef::as_ref);
        Ok(Capability::typed(keyword, words).unwrap_or_else(|| {
            Capability::Other(OtherCapability {
                keyword: keyword.to_owned(),
                params: params.iter().map(|p| p.as_ref().to_owned()).collect(),
            })
        }))
    }

    /// Reads one EHLO reply line (without the reply code). Words are separated by one or
    /// more spaces (tolerating the doubled and trailing spaces some servers send); a line
    /// with no word gives `Ok(None)`.
    pub fn parse(line: &str) -> Result<Option<Capability>, EhloError> {
        ReplyText::check(line).map_err(|_| EhloError::InvalidToken)?;
        Ok(Capability::parse_checked(line))
    }

    /// [`Capability::parse`] of a line known to hold no CR or LF (a line of a [`Reply`]).
    #[inline]
    fn parse_checked(line: &str) -> Option<Capability> {
        if let Some(cap) = Capability::bare_keyword(line.as_bytes()) {
            return Some(cap);
        }
        Capability::parse_words(line)
    }

    /// [`Capability::parse_checked`] without its fast path: words, then [`Capability::typed`].
    fn parse_words(line: &str) -> Option<Capability> {
        let mut words = Words { rest: line };
        let keyword = words.next()?;
        // The words hold no space (split on it), no CR or LF (checked by the caller) and
        // are not empty (skipped): valid tokens.
        Some(
            Capability::typed(keyword, words.clone()).unwrap_or_else(|| {
                Capability::Other(OtherCapability {
                    keyword: keyword.to_owned(),
                    params: words.map(str::to_owned).collect(),
                })
            }),
        )
    }

    /// The fast path of [`Capability::parse_checked`]: a line that is exactly one of the
    /// keywords taking no parameter (in any case, with no space around it), or `SIZE n`,
    /// as most EHLO lines are, read as one or two case-folded numbers instead of being split into words
    /// and upper-cased octet by octet. `None` for any other line, which the general path
    /// reads (to the same result for these lines: a unit test compares the two).
    fn bare_keyword(line: &[u8]) -> Option<Capability> {
        /// Up to 16 octets as a little-endian number, ASCII lower-case letters made
        /// upper-case (`None` if longer). The padding is zero: callers compare lengths too.
        fn folded(bytes: &[u8]) -> Option<u128> {
            const ONES: u128 = u128::from_le_bytes([1; 16]);
            let mut buf = [0u8; 16];
            buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
            let v = u128::from_le_bytes(buf);
            // Per octet, with its high bit cleared (so no carry crosses octets): at least
            // `a` sets the high bit of `+ (0x80 - a)`; above `z` sets that of `+ (0x7f - z)`.
            let low7 = v & (ONES * 0x7f);
            let from_a = low7 + ONES * u128::from(0x80 - b'a');
            let past_z = low7 + ONES * u128::from(0x7f - b'z');
            let lower = from_a & !past_z & !v & (ONES * 0x80);
            // A lower-case letter differs from its upper case in the 0x20 bit alone.
            Some(v ^ (lower >> 2))
        }
        /// `folded` of a keyword known at compile time (upper case, at most 16 octets).
        const fn key(word: &[u8]) -> u128 {
            let mut buf = [0u8; 16];
            let mut i = 0;
            while i < word.len() {
                buf[i] = word[i];
                i += 1;
            }
            u128::from_le_bytes(buf)
        }
        const DSN: u128 = key(b"DSN");
        const SIZE: u128 = key(b"SIZE");
        const VRFY: u128 = key(b"VRFY");
        const EXPN: u128 = key(b"EXPN");
        const ETRN: u128 = key(b"ETRN");
        const HELP: u128 = key(b"HELP");
        const CHUNKING: u128 = key(b"CHUNKING");
        const EIGHT_BIT_MIME: u128 = key(b"8BITMIME");
        const SMTPUTF8: u128 = key(b"SMTPUTF8");
        const STARTTLS: u128 = key(b"STARTTLS");
        const PIPELINING: u128 = key(b"PIPELINING");
        const BINARYMIME: u128 = key(b"BINARYMIME");
        const REQUIRETLS: u128 = key(b"REQUIRETLS");
        const ENHANCED_HEAD: u128 = key(b"ENHANCEDSTATUSCO");
        const ENHANCED_TAIL: u128 = key(b"DES");
        if let Some(digits) = line.get(5..)
            && folded(line.get(..5)?)? == key(b"SIZE ")
        {
            // `SIZE n`: digits only, as the general path reads them (an overflow, a sign
            // or anything else is left to it).
            if digits.is_empty() {
                return None;
            }
            let mut value = 0u64;
            for &d in digits {
                if !d.is_ascii_digit() {
                    return None;
                }
                value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            }
            return Some(Capability::Size(Some(value)));
        }
        if line.len() == 19 {
            let (head, tail) = line.split_at(16);
            return (folded(head)? == ENHANCED_HEAD && folded(tail)? == ENHANCED_TAIL)
                .then_some(Capability::EnhancedStatusCodes);
        }
        let word = folded(line)?;
        Some(match (line.len(), word) {
            (3, DSN) => Capability::Dsn,
            (4, SIZE) => Capability::Size(None),
            (4, VRFY) => Capability::Vrfy,
            (4, EXPN) => Capability::Expn,
            (4, ETRN) => Capability::Etrn,
            (4, HELP) => Capability::Help,
            (8, CHUNKING) => Capability::Chunking,
            (8, EIGHT_BIT_MIME) => Capability::EightBitMime,
            (8, SMTPUTF8) => Capability::SmtpUtf8,
            (8, STARTTLS) => Capability::StartTls,
            (10, PIPELINING) => Capability::Pipelining,
            (10, BINARYMIME) => Capability::BinaryMime,
            (10, REQUIRETLS) => Capability::RequireTls,
            _ => return None,
        })
    }

    fn typed<'a, P>(keyword: &'a str, mut params: P) -> Option<Capability>
    where
        P: Iterator<Item = &'a str> + Clone,
    {
        // Known keywords are at most 19 bytes: upper-case into a stack buffer once, then
        // match byte strings (which the compiler turns into a few word compares).
        let mut buf = [0u8; 20];
        let upper = buf.get_mut(..keyword.len().min(20))?;
        for (u, b) in upper.iter_mut().zip(keyword.bytes()) {
            *u = b.to_ascii_uppercase();
        }
        let upper: &[u8] = upper;
        if upper.starts_with(b"AUTH=") {
            let first = keyword.get(5..).filter(|m| !m.is_empty());
            return mechanisms(first.into_iter().chain(params)).map(Capability::AuthLegacy);
        }
        if keyword.len() > 19 {
            return None;
        }
        let cap = match upper {
            b"SIZE" => {
                return match (params.next(), params.next()) {
                    (None, _) => Some(Capability::Size(None)),
                    // Digits only: `u64::from_str` would also take a leading `+`.
                    (Some(n), None) if n.bytes().all(|b| b.is_ascii_digit()) => {
                        n.parse().ok().map(|n| Capability::Size(Some(n)))
                    }
                    _ => None,
                };
            }
            b"AUTH" => return mechanisms(params).map(Capability::Auth),
            b"DSN" => Capability::Dsn,
            b"VRFY" => Capability::Vrfy,
            b"EXPN" => Capability::Expn,
            b"ETRN" => Capability::Etrn,
            b"HELP" => Capability::Help,
            b"CHUNKING" => Capability::Chunking,
            b"8BITMIME" => Capability::EightBitMime,
            b"SMTPUTF8" => Capability::SmtpUtf8,
            b"STARTTLS" => Capability::StartTls,
            b"PIPELINING" => Capability::Pipelining,
            b"BINARYMIME" => Capability::BinaryMime,
            b"REQUIRETLS" => Capability::RequireTls,
            b"ENHANCEDSTATUSCODES" => Capability::EnhancedStatusCodes,
            _ => return None,
        };
        // These take no parameters.
        params.next().is_none().then_some(cap)
    }

    /// The keyword (upper case for the typed variants; `AUTH` for both AUTH forms).
    pub fn keyword(&self) -> &str {
        match self {
            Capability::Size(_) => "SIZE",
            Capability::Pipelining => "PIPELINING",
            Capability::Chunking => "CHUNKING",
            Capability::BinaryMime => "BINARYMIME",
            Capability::EightBitMime => "8BITMIME",
            Capability::SmtpUtf8 => "SMTPUTF8",
            Capability::Dsn => "DSN",
            Capability::EnhancedStatusCodes => "ENHANCEDSTATUSCODES",
            Capability::StartTls => "STARTTLS",
            Capability::Auth(_) | Capability::AuthLegacy(_) => "AUTH",
            Capability::RequireTls => "REQUIRETLS",
            Capability::Vrfy => "VRFY",
            Capability::Expn => "EXPN",
            Capability::Etrn => "ETRN",
            Capability::Help => "HELP",
            Capability::Other(other) => &other.keyword,
        }
    }

    /// Writes the EHLO line (without code and CRLF).
    pub(crate) fn write_to(&self, out: &mut String) {
        match self {
            Capability::Size(Some(n)) => {
                use std::fmt::Write as _;
                // Writing into a `String` cannot fail.
                let _ = write!(out, "SIZE {n}");
            }
            Capability::Auth(mechs) => {
                out.push_str("AUTH");
                for m in writable(mechs) {
                    out.push(' ');
                    out.push_str(m.as_str());
                }
            }
            Capability::AuthLegacy(mechs) => {
                out.push_str("AUTH=");
                for (i, m) in writable(mechs).enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(m.as_str());
                }
            }
            Capability::Other(other) => {
                out.push_str(&other.keyword);
                for p in &other.params {
                    out.push(' ');
                    out.push_str(p);
                }
            }
            simple => out.push_str(simple.keyword()),
        }
    }
}

/// The mechanisms whose names are valid SASL names in canonical form. `Mechanism::Other`
/// is a public variant that can hold any string; one that could not have come from
/// [`Mechanism::from_name`] (a space, a CR or LF, lower case) is left out rather than
/// written, so that a capability line can never break the reply's framing.
fn writable(mechs: &[Mechanism]) -> impl Iterator<Item = &Mechanism> {
    mechs
        .iter()
        .filter(|m| Mechanism::from_name(m.as_str()).as_ref() == Some(*m))
}

impl fmt::Display for Capability {
    /// The EHLO line, without code and CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = String::new();
        self.write_to(&mut line);
        f.write_str(&line)
    }
}

/// The service extensions a server announced, in the order it sent them, with lookups.
///
/// ```
/// use mailwire_core::sasl::Mechanism;
/// use mailwire_smtp::types::{Capabilities, Capability};
///
/// let caps: Capabilities = [
///     Capability::Pipelining,
///     Capability::Size(Some(1000)),
///     Capability::Auth(vec![Mechanism::Plain]),
///     Capability::AuthLegacy(vec![Mechanism::Login, Mechanism::Plain]),
/// ]
/// .into_iter()
/// .collect();
/// assert!(caps.supports_pipelining() && !caps.supports_chunking());
/// assert_eq!(caps.size(), Some(Some(1000)));
/// assert_eq!(caps.auth_mechanisms(), [&Mechanism::Plain, &Mechanism::Login]);
/// assert!(caps.contains("size"));
/// ```
///
/// The list is shared: a clone (the client hands one out with every
/// [`ClientEvent::Ready`](crate::client::ClientEvent::Ready)) copies no capability.
#[derive(Clone, Default)]
pub struct Capabilities(
    /// `None` when there are none, so that [`Capabilities::new`] is `const`.
    Option<Arc<Vec<Capability>>>,
);

impl Capabilities {
    /// No capabilities.
    pub const fn new() -> Capabilities {
        Capabilities(None)
    }

    /// Adds a capability at the end.
    pub fn push(&mut self, capability: Capability) {
        Arc::make_mut(self.0.get_or_insert_with(Arc::default)).push(capability);
    }

    /// The capabilities, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Capability> {
        self.as_slice().iter()
    }

    /// The capabilities, in order.
    pub fn as_slice(&self) -> &[Capability] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The number of capabilities.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The first capability with this keyword (case-insensitive; `AUTH` finds both AUTH
    /// forms).
    pub fn get(&self, keyword: &str) -> Option<&Capability> {
        self.iter()
            .find(|c| c.keyword().eq_ignore_ascii_case(keyword))
    }

    /// Whether a capability with this keyword was announced (case-insensitive).
    pub fn contains(&self, keyword: &str) -> bool {
        self.get(keyword).is_some()
    }

    /// Whether `wanted`, a variant without fields, was announced: compared by variant
    /// alone, cheaper than the derived `PartialEq`.
    fn has(&self, wanted: &Capability) -> bool {
        let wanted = std::mem::discriminant(wanted);
        self.iter().any(|c| std::mem::discriminant(c) == wanted)
    }

    /// `SIZE`: `None` if not announced; `Some(None)` if announced without a limit;
    /// `Some(Some(n))` with the limit in bytes (`0` meaning none is set).
    pub fn size(&self) -> Option<Option<u64>> {
        self.iter().find_map(|c| match c {
            Capability::Size(n) => Some(*n),
            _ => None,
        })
    }

    /// `PIPELINING` was announced.
    pub fn supports_pipelining(&self) -> bool {
        self.has(&Capability::Pipelining)
    }

    /// `CHUNKING` was announced.
    pub fn supports_chunking(&self) -> bool {
        self.has(&Capability::Chunking)
    }

    /// `BINARYMIME` was announced.
    pub fn supports_binary_mime(&self) -> bool {
        self.has(&Capability::BinaryMime)
    }

    /// `8BITMIME` was announced.
    pub fn supports_8bitmime(&self) -> bool {
        self.has(&Capability::EightBitMime)
    }

    /// `SMTPUTF8` was announced.
    pub fn supports_smtputf8(&self) -> bool {
        self.has(&Capability::SmtpUtf8)
    }

    /// `DSN` was announced.
    pub fn supports_dsn(&self) -> bool {
        self.has(&Capability::Dsn)
    }

    /// `ENHANCEDSTATUSCODES` was announced.
    pub fn supports_enhanced_status_codes(&self) -> bool {
        self.has(&Capability::EnhancedStatusCodes)
    }

    /// `STARTTLS` was announced.
    pub fn supports_starttls(&self) -> bool {
        self.has(&Capability::StartTls)
    }

    /// `REQUIRETLS` was announced.
    pub fn supports_requiretls(&self) -> bool {
        self.has(&Capability::RequireTls)
    }

    /// `AUTH` (either form) was announced, possibly with no mechanism.
    pub fn supports_auth(&self) -> bool {
        self.iter()
            .any(|c| matches!(c, Capability::Auth(_) | Capability::AuthLegacy(_)))
    }

    /// The SASL mechanisms announced with `AUTH` and `AUTH=`, in order, each once.
    pub fn auth_mechanisms(&self) -> Vec<&Mechanism> {
        let mut out: Vec<&Mechanism> = Vec::new();
        for cap in self.iter() {
            if let Capability::Auth(mechs) | Capability::AuthLegacy(mechs) = cap {
                for m in mechs {
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
            }
        }
        out
    }

    /// Whether this SASL mechanism was announced.
    pub fn supports_mechanism(&self, mechanism: &Mechanism) -> bool {
        self.iter().any(|c| match c {
            Capability::Auth(mechs) | Capability::AuthLegacy(mechs) => mechs.contains(mechanism),
            _ => false,
        })
    }
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Capabilities")
            .field(&self.as_slice())
            .finish()
    }
}

impl PartialEq for Capabilities {
    fn eq(&self, other: &Capabilities) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Capabilities {}

impl Hash for Capabilities {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        Capabilities::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl From<Vec<Capability>> for Capabilities {
    fn from(caps: Vec<Capability>) -> Self {
        Capabilities((!caps.is_empty()).then(|| Arc::new(caps)))
    }
}

impl<'a> IntoIterator for &'a Capabilities {
    type Item = &'a Capability;
    type IntoIter = std::slice::Iter<'a, Capability>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for Capabilities {
    type Item = Capability;
    type IntoIter = std::vec::IntoIter<Capability>;
    fn into_iter(self) -> Self::IntoIter {
        self.0
            .map(Arc::unwrap_or_clone)
            .unwrap_or_default()
            .into_iter()
    }
}

/// A successful EHLO (or LHLO) reply: `250-domain [greeting]`, then one extension per line.
///
/// A client reads it from a parsed [`Reply`] with [`EhloReply::from_reply`] (or
/// `TryFrom`); a server builds one from its configuration and sends
/// [`EhloReply::to_reply`].
///
/// ```
/// use mailwire_core::sasl::Mechanism;
/// use mailwire_smtp::parse::{parse_reply, ReplyLimits};
/// use mailwire_smtp::types::{Capability, EhloDomain, EhloReply};
///
/// let wire = b"250-mx.example.com at your service\r\n250-SIZE 35882577\r\n\
///              250-AUTH LOGIN PLAIN XOAUTH2\r\n250 PIPELINING\r\n";
/// let (reply, used) = parse_reply(wire, &ReplyLimits::default()).unwrap().unwrap();
/// assert_eq!(used, wire.len());
/// let ehlo = EhloReply::from_reply(&reply).unwrap();
/// assert_eq!(ehlo.domain.as_str(), "mx.example.com");
/// assert_eq!(ehlo.greeting.as_str(), "at your service");
/// assert_eq!(ehlo.capabilities.size(), Some(Some(35882577)));
/// assert!(ehlo.capabilities.supports_pipelining());
/// assert_eq!(ehlo.capabilities.auth_mechanisms().len(), 3);
///
/// // A server announcing its configuration:
/// let mut mine = EhloReply::new(EhloDomain::new("localhost").unwrap());
/// mine.capabilities.push(Capability::Size(Some(10_000_000)));
/// mine.capabilities.push(Capability::Auth(vec![Mechanism::Plain]));
/// assert_eq!(mine.to_reply().to_bytes(), b"250-localhost\r\n250-SIZE 10000000\r\n250 AUTH PLAIN\r\n");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EhloReply {
    /// The name the server gives for itself.
    pub domain: EhloDomain,
    /// The free text after the name on the first line (empty if none).
    pub greeting: ReplyText,
    /// The service extensions, in the order announced.
    pub capabilities: Capabilities,
}

impl EhloReply {
    /// A reply with this name, no greeting and no extensions.
    pub fn new(domain: EhloDomain) -> EhloReply {
        EhloReply {
            domain,
            greeting: ReplyText::empty(),
            capabilities: Capabilities::new(),
        }
    }

    /// Reads an EHLO reply. Tolerances: an enhanced status code the server put on every
    /// line (against RFC 2034) is ignored; lines with no keyword are skipped; keywords and
    /// parameters may be any words without spaces (see [`Capability`]).
    pub fn from_reply(reply: &Reply) -> Result<EhloReply, EhloError> {
        let (domain, greeting, capabilities) = EhloReply::split_reply(reply)?;
        Ok(EhloReply {
            domain: EhloDomain(domain.to_owned()),
            // The reply's lines hold no CR or LF, so neither does the greeting.
            greeting: ReplyText(greeting.to_owned()),
            capabilities,
        })
    }

    /// The capabilities of an EHLO reply, with the same checks and errors as
    /// [`from_reply`](EhloReply::from_reply), without copying the domain and greeting
    /// (the SMTP client keeps only the capabilities).
    pub(crate) fn capabilities_from_reply(reply: &Reply) -> Result<Capabilities, EhloError> {
        EhloReply::split_reply(reply).map(|(_, _, capabilities)| capabilities)
    }

    /// `from_reply`'s checks: the domain (checked) and greeting as borrowed from the reply,
    /// and the capabilities.
    fn split_reply(reply: &Reply) -> Result<(&str, &str, Capabilities), EhloError> {
        if reply.code() != ReplyCode::OK {
            return Err(EhloError::NotOk(reply.code()));
        }
        let mut lines = reply.lines();
        let first = lines.next().unwrap_or_default();
        // Cut next to a space (ASCII), so on a character boundary.
        let (domain, greeting) = match first.bytes().position(|b| b == b' ') {
            Some(i) => (
                first.get(..i).unwrap_or_default(),
                first.get(i + 1..).unwrap_or_default(),
            ),
            None => (first, ""),
        };
        if domain.is_empty() {
            return Err(EhloError::MissingDomain);
        }
        EhloDomain::check(domain)?;
        // Room for a usual EHLO reply's lines at once (counting them first would cost a
        // pass over the text); a longer one grows the vector.
        let mut capabilities = Vec::with_capacity(if lines.rest.is_some() { 16 } else { 0 });
        // The reply's lines hold no CR or LF.
        // A plain loop: measured twice as fast here as `extend(filter_map(..))`.
        for line in lines {
            if let Some(cap) = Capability::parse_checked(line) {
                capabilities.push(cap);
            }
        }
        Ok((domain, greeting, Capabilities::from(capabilities)))
    }

    /// The reply to send: code 250, no enhanced status code (RFC 2034 leaves EHLO replies
    /// without one).
    pub fn to_reply(&self) -> Reply {
        let mut text = String::with_capacity(64 + 16 * self.capabilities.len());
        text.push_str(self.domain.as_str());
        if !self.greeting.is_empty() {
            text.push(' ');
            text.push_str(self.greeting.as_str());
        }
        for cap in &self.capabilities {
            text.push('\n');
            cap.write_to(&mut text);
        }
        // The domain cannot look like an enhanced code (checked by `EhloDomain`), and no
        // part holds CR or LF (checked by each part's type), so the canonical form holds.
        Reply::from_parsed(ReplyCode::OK, None, super::Text::from_string(text))
    }

    /// Appends the reply's encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.to_reply().encode(out);
    }
}

impl TryFrom<&Reply> for EhloReply {
    type Error = EhloError;
    fn try_from(reply: &Reply) -> Result<Self, EhloError> {
        EhloReply::from_reply(reply)
    }
}

impl From<&EhloReply> for Reply {
    fn from(ehlo: &EhloReply) -> Reply {
        ehlo.to_reply()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_a_value_though_shared() {
        let empty = Capabilities::new();
        assert_eq!(empty, Capabilities::default());
        assert_eq!(empty, Capabilities::from(Vec::new()));
        assert_eq!(format!("{empty:?}"), "Capabilities([])");
        assert!(empty.is_empty() && !empty.supports_pipelining());

        let mut caps = Capabilities::new();
        caps.push(Capability::Pipelining);
        caps.push(Capability::Size(Some(10)));
        let before = caps.clone();
        caps.push(Capability::Chunking);
        // The clone keeps what it had; the original has the new one.
        assert_eq!(
            before.as_slice(),
            [Capability::Pipelining, Capability::Size(Some(10))]
        );
        assert_eq!(caps.len(), 3);
        assert!(caps.supports_chunking() && !before.supports_chunking());
        assert!(before.supports_pipelining() && !before.supports_dsn());
        assert_ne!(before, caps);
        assert_eq!(
            format!("{before:?}"),
            "Capabilities([Pipelining, Size(Some(10))])"
        );
        let owned: Vec<Capability> = before.clone().into_iter().collect();
        assert_eq!(owned, before.as_slice());
        assert_eq!(before.iter().count(), 2);
        assert_eq!((&caps).into_iter().count(), 3);
        // A field-less variant is found whatever the others hold.
        let auth = Capabilities::from(vec![
            Capability::Auth(vec![Mechanism::Plain]),
            Capability::StartTls,
        ]);
        assert!(auth.supports_starttls() && auth.supports_auth() && !auth.supports_pipelining());
    }

    #[test]
    fn known_keywords_are_typed_case_insensitively() {
        let cases: &[(&str, Capability)] = &[
            ("SIZE", Capability::Size(None)),
            ("size 0", Capability::Size(Some(0))),
            (
                "SIZE 18446744073709551615",
                Capability::Size(Some(u64::MAX)),
            ),
            ("PIPELINING", Capability::Pipelining),
            ("Chunking", Capability::Chunking),
            ("BINARYMIME", Capability::BinaryMime),
            ("8bitmime", Capability::EightBitMime),
            ("SMTPUTF8", Capability::SmtpUtf8),
            ("DSN", Capability::Dsn),
            ("ENHANCEDSTATUSCODES", Capability::EnhancedStatusCodes),
            ("STARTTLS", Capability::StartTls),
            ("REQUIRETLS", Capability::RequireTls),
            ("VRFY", Capability::Vrfy),
            ("EXPN", Capability::Expn),
            ("ETRN", Capability::Etrn),
            ("HELP", Capability::Help),
            ("AUTH", Capability::Auth(vec![])),
            (
                "AUTH login  CRAM-MD5 ",
                Capability::Auth(vec![Mechanism::Login, Mechanism::CramMd5]),
            ),
            ("AUTH=", Capability::AuthLegacy(vec![])),
            (
                "auth=PLAIN xoauth2",
                Capability::AuthLegacy(vec![Mechanism::Plain, Mechanism::XOAuth2]),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(
                Capability::parse(line).unwrap().as_ref(),
                Some(want),
                "{line}"
            );
        }
    }

    /// The fast path for lines that are a bare keyword (or `SIZE n`) gives what the general
    /// path gives,
    /// and leaves every other line to it: each keyword in upper, lower and mixed case,
    /// with one octet changed at every place (a letter's case, a neighbouring letter, a
    /// NUL, a space, a non-ASCII letter), with padding, and every keyword's prefixes.
    #[test]
    fn bare_keyword_fast_path_is_the_general_path() {
        let keywords = [
            "DSN",
            "SIZE",
            "VRFY",
            "EXPN",
            "ETRN",
            "HELP",
            "CHUNKING",
            "8BITMIME",
            "SMTPUTF8",
            "STARTTLS",
            "PIPELINING",
            "BINARYMIME",
            "REQUIRETLS",
            "ENHANCEDSTATUSCODES",
            "AUTH",
            "SIZE 10",
            "X-EXPS",
            "ENHANCEDSTATUSCODE",
            "ENHANCEDSTATUSCODESX",
            "SIZE 10485760",
            "SIZE 0",
            "SIZE 18446744073709551615",
            "SIZE 18446744073709551616",
            "SIZE 99999999999999999999",
            "SIZE +1",
            "SIZE 1 2",
            "SIZE  7",
            "SIZE 007",
        ];
        // `SIZE n` is read by the fast path too.
        assert_eq!(
            Capability::bare_keyword(b"size 10485760"),
            Some(Capability::Size(Some(10_485_760)))
        );
        let check = |line: &[u8]| {
            let Ok(line) = std::str::from_utf8(line) else {
                return;
            };
            let general = Capability::parse_words(line);
            match Capability::bare_keyword(line.as_bytes()) {
                Some(fast) => assert_eq!(Some(fast), general, "{line:?}"),
                // Only lines the fast path does not know go to the general path; every
                // bare keyword (no space, any case) is known.
                None => assert!(
                    !keywords[..14].iter().any(|k| k.eq_ignore_ascii_case(line)),
                    "{line:?} missed"
                ),
            }
        };
        for keyword in keywords {
            let mixed: String = keyword
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    }
                })
                .collect();
            for form in [keyword.to_string(), keyword.to_ascii_lowercase(), mixed] {
                let bytes = form.as_bytes();
                check(bytes);
                check(format!(" {form}").as_bytes());
                check(format!("{form} ").as_bytes());
                for end in 0..bytes.len() {
                    check(&bytes[..end]);
                }
                for at in 0..bytes.len() {
                    for replacement in [0u8, b' ', b'@', b'[', b'`', b'{', 0x7f, b'a', b'Z', b'1'] {
                        let mut changed = bytes.to_vec();
                        changed[at] = replacement;
                        check(&changed);
                        changed[at] = bytes[at] ^ 0x20;
                        check(&changed);
                        changed[at] = bytes[at] + 1;
                        check(&changed);
                    }
                    for wide in ["é", "ſ", "\u{212a}"] {
                        let mut with = form.clone();
                        with.replace_range(at..at + 1, wide);
                        check(with.as_bytes());
                    }
                }
            }
        }
    }

    #[test]
    fn misfits_and_unknowns_are_kept_verbatim() {
        for line in [
            "SIZE abc",
            "SIZE +5",
            "SIZE 18446744073709551616",
            "SIZE 1 2",
            "PIPELINING yes",
            "AUTH PL@IN",
            "AUTH=A23456789012345678901",
            "X-EXPS GSSAPI NTLM",
            "XCLIENT NAME ADDR",
            "DELIVERBY 300",
            "STARTTLSX",
        ] {
            let cap = Capability::parse(line).unwrap().unwrap();
            let Capability::Other(other) = &cap else {
                panic!("{line} typed as {cap:?}");
            };
            assert_eq!(cap.to_string(), line);
            assert_eq!(
                std::iter::once(other.keyword())
                    .chain(other.params().iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
                line
            );
        }
        assert_eq!(Capability::parse("   ").unwrap(), None);
        assert_eq!(Capability::parse("a\rb"), Err(EhloError::InvalidToken));
        assert_eq!(
            Capability::new("PIPELINING", &[] as &[&str]).unwrap(),
            Capability::Pipelining
        );
        assert_eq!(Capability::new("X", &["a b"]), Err(EhloError::InvalidToken));
    }

    #[test]
    fn domains_cannot_be_read_as_something_else() {
        for bad in ["", "a b", "a\tb", "2.0.0", "5.1.1", "x\u{7f}"] {
            assert!(EhloDomain::new(bad).is_err(), "{bad:?}");
        }
        for good in [
            "2.0.0x",
            "3.0.0",
            "[IPv6:2001:db8::1]",
            "müller.example",
            "localhost",
        ] {
            assert!(EhloDomain::new(good).is_ok(), "{good:?}");
        }
    }
}
