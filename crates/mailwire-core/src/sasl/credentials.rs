//! What a client claimed at the end of a server exchange: [`Credentials`].

use hmac::{Hmac, Mac};
use md5::Md5;

use super::Mechanism;
use crate::Secret;

type HmacMd5 = Hmac<Md5>;

/// What the client claimed, handed to the application in
/// [`Step::Done`](super::Step::Done). The exchange has checked the syntax only; the
/// application checks the claim against its user database (or token issuer) and decides.
///
/// `Debug` never shows a password, token or digest.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A clear-text password (PLAIN, LOGIN).
    Password(PasswordCredentials),
    /// A CRAM-MD5 digest, to [`verify`](CramMd5Credentials::verify) against the stored
    /// password.
    CramMd5(CramMd5Credentials),
    /// An OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER).
    OAuth(OAuthCredentials),
}

impl Credentials {
    /// The mechanism that carried these credentials.
    pub fn mechanism(&self) -> Mechanism {
        match self {
            Credentials::Password(c) => c.mechanism.clone(),
            Credentials::CramMd5(_) => Mechanism::CramMd5,
            Credentials::OAuth(c) => c.mechanism.clone(),
        }
    }

    /// The name the client authenticates as: the PLAIN/LOGIN `authcid`, the CRAM-MD5
    /// username, the OAuth user (`None` for an OAUTHBEARER message without an authzid:
    /// the token alone identifies the user then).
    pub fn username(&self) -> Option<&str> {
        match self {
            Credentials::Password(c) => Some(&c.authcid),
            Credentials::CramMd5(c) => Some(&c.username),
            Credentials::OAuth(c) => c.user.as_deref(),
        }
    }
}

/// A clear-text password claim (PLAIN, LOGIN).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswordCredentials {
    /// [`Mechanism::Plain`] or [`Mechanism::Login`].
    pub mechanism: Mechanism,
    /// The identity to act as, if the client gave one (PLAIN only). `None` means "derive it
    /// from `authcid`" (RFC 4616 section 2). An application that does not support proxy
    /// authorization refuses any `Some` that differs from `authcid`.
    pub authzid: Option<String>,
    /// The identity whose password this is. Never empty.
    pub authcid: String,
    /// The password. Never empty.
    pub password: Secret<String>,
}

/// A CRAM-MD5 claim (RFC 2195): a username and the keyed digest of the server's challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CramMd5Credentials {
    /// The username. Never empty; may contain spaces.
    pub username: String,
    challenge: String,
    digest: Secret<[u8; 16]>,
}

impl CramMd5Credentials {
    pub(crate) fn new(username: String, challenge: String, digest: [u8; 16]) -> Self {
        CramMd5Credentials {
            username,
            challenge,
            digest: Secret::new(digest),
        }
    }

    /// The challenge the server sent (the one given in
    /// [`ServerOptions::cram_md5_challenge`](super::ServerOptions::cram_md5_challenge)).
    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    /// Whether the client's digest is HMAC-MD5 of the challenge keyed with `password`. The
    /// comparison takes the same time whatever the digests are.
    ///
    /// ```
    /// use mailwire_core::sasl::{Credentials, Mechanism, ServerExchange, ServerOptions, Step};
    ///
    /// let options = ServerOptions {
    ///     cram_md5_challenge: Some("<1896.697170952@postoffice.reston.mci.net>".into()),
    ///     ..ServerOptions::default()
    /// };
    /// let mut server = ServerExchange::new(Mechanism::CramMd5, options)?;
    /// assert!(matches!(server.start(None), Step::Challenge(_)));
    /// let Step::Done(Credentials::CramMd5(claim)) =
    ///     server.step(b"tim b913a602c7eda7a495b4e6e7334d3890") else { panic!() };
    /// assert_eq!(claim.username, "tim");
    /// assert!(claim.verify("tanstaaftanstaaf"));
    /// assert!(!claim.verify("tanstaaftanstaag"));
    /// # Ok::<(), mailwire_core::sasl::SaslError>(())
    /// ```
    pub fn verify(&self, password: &str) -> bool {
        let mut mac = hmac_md5(password.as_bytes());
        mac.update(self.challenge.as_bytes());
        mac.verify_slice(self.digest.expose()).is_ok()
    }
}

/// An OAuth 2.0 bearer-token claim (XOAUTH2, OAUTHBEARER).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthCredentials {
    /// [`Mechanism::XOAuth2`] or [`Mechanism::OAuthBearer`].
    pub mechanism: Mechanism,
    /// The user: XOAUTH2's `user=` (always present), OAUTHBEARER's GS2 authzid `a=`
    /// (optional). The application checks that the token belongs to this user.
    pub user: Option<String>,
    /// OAUTHBEARER's `host=` value, if sent. RFC 7628 section 3.2 asks the server to check
    /// it against the name it serves when it knows that name.
    pub host: Option<String>,
    /// OAUTHBEARER's `port=` value, if sent.
    pub port: Option<u16>,
    /// The bearer token (without the `Bearer ` scheme). Empty when an OAUTHBEARER client
    /// sent an empty `auth=` to discover the scope it needs (RFC 7628 section 4.3): an
    /// empty token never authenticates; answer it with
    /// [`ServerExchange::fail_with`](super::ServerExchange::fail_with).
    pub token: Secret<String>,
}

/// The error a server returns to an OAuth client whose token it refused (RFC 7628 section
/// 3.2.2; XOAUTH2 uses the same shape), as the JSON sent in
/// [`ServerExchange::fail_with`](super::ServerExchange::fail_with).
///
/// ```
/// use mailwire_core::sasl::OAuthError;
/// let error = OAuthError::new("invalid_token").with_scope("https://mail.example.com/");
/// assert_eq!(
///     error.to_json(),
///     br#"{"status":"invalid_token","scope":"https://mail.example.com/"}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthError {
    /// The OAuth error code (`invalid_token`, `insufficient_scope`, or for Google-style
    /// XOAUTH2 an HTTP status such as `401`).
    pub status: String,
    /// A scope that grants access, if the server wants to tell.
    pub scope: Option<String>,
    /// The URL of an OpenID Provider configuration document for the user.
    pub openid_configuration: Option<String>,
}

impl OAuthError {
    /// An error with this status and nothing else.
    pub fn new(status: impl Into<String>) -> Self {
        OAuthError {
            status: status.into(),
            scope: None,
            openid_configuration: None,
        }
    }

    /// Adds the scope that would grant access.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Adds the OpenID configuration URL.
    pub fn with_openid_configuration(mut self, url: impl Into<String>) -> Self {
        self.openid_configuration = Some(url.into());
        self
    }

    /// The JSON object, with every string escaped.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::from("{");
        json_member(&mut out, "status", &self.status);
        if let Some(scope) = &self.scope {
            out.push(',');
            json_member(&mut out, "scope", scope);
        }
        if let Some(url) = &self.openid_configuration {
            out.push(',');
            json_member(&mut out, "openid-configuration", url);
        }
        out.push('}');
        out.into_bytes()
    }
}

fn json_member(out: &mut String, name: &str, value: &str) {
    json_string(out, name);
    out.push(':');
    json_string(out, value);
}

fn json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// HMAC-MD5 keyed with `key`.
pub(crate) fn hmac_md5(key: &[u8]) -> HmacMd5 {
    // HMAC takes keys of any length (long keys are hashed first); the error is unreachable.
    match HmacMd5::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// The CRAM-MD5 digest of `challenge` keyed with `password`, in lower-case hex.
pub(crate) fn cram_md5_hex(password: &[u8], challenge: &[u8]) -> String {
    let mut mac = hmac_md5(password);
    mac.update(challenge);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(32);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Parses 32 hexadecimal digits (either case) into 16 bytes.
pub(crate) fn parse_hex_digest(text: &[u8]) -> Option<[u8; 16]> {
    if text.len() != 32 {
        return None;
    }
    let mut digest = [0u8; 16];
    for (byte, pair) in digest.iter_mut().zip(text.chunks_exact(2)) {
        let [high, low] = pair else { return None };
        *byte = (hex_value(*high)? << 4) | hex_value(*low)?;
    }
    Some(digest)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Builds a CRAM-MD5 challenge in the RFC 2195 form `<random.timestamp@hostname>` from
/// values the caller supplies (this crate has no randomness and no clock). `random` must
/// be unpredictable and never reused; `timestamp` is, for example, seconds since the Unix
/// epoch.
///
/// ```
/// use mailwire_core::sasl::cram_md5_challenge;
/// assert_eq!(
///     cram_md5_challenge(1896, 697170952, "postoffice.reston.mci.net"),
///     "<1896.697170952@postoffice.reston.mci.net>"
/// );
/// ```
pub fn cram_md5_challenge(random: u64, timestamp: u64, hostname: &str) -> String {
    format!("<{random}.{timestamp}@{hostname}>")
}

/// Whether `challenge` is a usable CRAM-MD5 challenge: `<`, printable ASCII, `>`, with an
/// `@` inside (RFC 2195 asks for an RFC 822 msg-id).
pub(crate) fn is_valid_cram_challenge(challenge: &str) -> bool {
    let bytes = challenge.as_bytes();
    bytes.len() >= 3
        && bytes.first() == Some(&b'<')
        && bytes.last() == Some(&b'>')
        && bytes.contains(&b'@')
        && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2195_digest() {
        assert_eq!(
            cram_md5_hex(
                b"tanstaaftanstaaf",
                b"<1896.697170952@postoffice.reston.mci.net>"
            ),
            "b913a602c7eda7a495b4e6e7334d3890"
        );
    }

    #[test]
    fn hex_digest_parsing() {
        let parsed = parse_hex_digest(b"B913a602c7eda7a495b4e6e7334d3890");
        assert_eq!(parsed.map(|d| d[0]), Some(0xb9));
        assert_eq!(parse_hex_digest(b"b913a602c7eda7a495b4e6e7334d389"), None);
        assert_eq!(parse_hex_digest(b"g913a602c7eda7a495b4e6e7334d3890"), None);
        assert_eq!(parse_hex_digest(b"b913a602c7eda7a495b4e6e7334d38900"), None);
    }

    #[test]
    fn challenge_validation() {
        assert!(is_valid_cram_challenge("<1.2@host>"));
        for bad in [
            "",
            "<>",
            "1.2@host",
            "<1.2@host",
            "<1 2@host>",
            "<12host>",
            "<é@x>",
        ] {
            assert!(!is_valid_cram_challenge(bad), "{bad:?}");
        }
    }

    #[test]
    fn json_escapes() {
        let json = OAuthError::new("a\"b\\c\n").to_json();
        assert_eq!(json, br#"{"status":"a\"b\\c\u000a"}"#);
    }
}
