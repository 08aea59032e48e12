//! Which mechanism a client uses, and which a server may offer: [`choose_mechanism`],
//! [`Transport`].

use std::fmt;

use super::Mechanism;

/// The kind of credentials a client holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialsKind {
    /// A username and password (PLAIN, LOGIN, CRAM-MD5).
    Password,
    /// A user and an OAuth 2.0 bearer token (OAUTHBEARER, XOAUTH2).
    OAuth,
}

impl fmt::Display for CredentialsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialsKind::Password => "password",
            CredentialsKind::OAuth => "OAuth token",
        })
    }
}

/// How the connection is protected, which decides whether a mechanism that sends a
/// reusable secret readable on the wire (PLAIN and LOGIN passwords, XOAUTH2 and
/// OAUTHBEARER bearer tokens) may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TLS protects the connection (implicit TLS, or after STARTTLS / STLS).
    Encrypted,
    /// No TLS: only CRAM-MD5, which never sends the password, is permitted.
    Unencrypted,
    /// No TLS, but the configuration explicitly accepts sending passwords and tokens
    /// readable on the wire (for example on loopback). Never the default.
    UnencryptedAllowCleartext,
}

impl Transport {
    /// Whether `mechanism` may be used (by a client) or offered (by a server) on this
    /// transport. Over [`Transport::Unencrypted`] only CRAM-MD5 is permitted; unknown
    /// mechanisms are permitted only where cleartext secrets are.
    ///
    /// ```
    /// use mailwire_core::sasl::{Mechanism, Transport};
    /// assert!(Transport::Encrypted.permits(&Mechanism::Plain));
    /// assert!(!Transport::Unencrypted.permits(&Mechanism::Plain));
    /// assert!(!Transport::Unencrypted.permits(&Mechanism::OAuthBearer));
    /// assert!(Transport::Unencrypted.permits(&Mechanism::CramMd5));
    /// assert!(Transport::UnencryptedAllowCleartext.permits(&Mechanism::Login));
    ///
    /// // What a server lists in its capabilities before STARTTLS:
    /// let offered: Vec<&Mechanism> = Mechanism::SUPPORTED
    ///     .iter()
    ///     .filter(|m| Transport::Unencrypted.permits(m))
    ///     .collect();
    /// assert_eq!(offered, [&Mechanism::CramMd5]);
    /// ```
    pub fn permits(self, mechanism: &Mechanism) -> bool {
        match self {
            Transport::Encrypted | Transport::UnencryptedAllowCleartext => true,
            Transport::Unencrypted => *mechanism == Mechanism::CramMd5,
        }
    }
}

/// The client's preference, best first, for each kind of credentials.
const OAUTH_ORDER: &[Mechanism] = &[Mechanism::OAuthBearer, Mechanism::XOAuth2];
const PASSWORD_ORDER_TLS: &[Mechanism] = &[Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5];
const PASSWORD_ORDER_CLEARTEXT: &[Mechanism] =
    &[Mechanism::CramMd5, Mechanism::Plain, Mechanism::Login];

/// Picks the mechanism a client should use among those the server `offered`, or `None`
/// if none fits.
///
/// The order of preference:
///
/// | credentials | transport | order |
/// |---|---|---|
/// | OAuth token | encrypted, or cleartext allowed | OAUTHBEARER, XOAUTH2 |
/// | OAuth token | unencrypted | none |
/// | password | encrypted | PLAIN, LOGIN, CRAM-MD5 |
/// | password | unencrypted | CRAM-MD5 |
/// | password | unencrypted, cleartext allowed | CRAM-MD5, PLAIN, LOGIN |
///
/// With TLS, PLAIN comes first: it is the standard one, it works with any password
/// storage on the server, and TLS protects it. CRAM-MD5 keeps the password off the wire,
/// which matters without TLS, but needs the server to store clear passwords and is weak
/// against offline guessing, so it is the last resort under TLS. A password mechanism is
/// never chosen for a token, nor the other way round. Unknown mechanisms are never chosen.
///
/// ```
/// use mailwire_core::sasl::{choose_mechanism, CredentialsKind, Mechanism, Transport};
///
/// let offered = [Mechanism::Login, Mechanism::Plain, Mechanism::CramMd5];
/// assert_eq!(
///     choose_mechanism(&offered, CredentialsKind::Password, Transport::Encrypted),
///     Some(Mechanism::Plain)
/// );
/// assert_eq!(
///     choose_mechanism(&offered, CredentialsKind::Password, Transport::Unencrypted),
///     Some(Mechanism::CramMd5)
/// );
/// assert_eq!(
///     choose_mechanism(&[Mechanism::Plain], CredentialsKind::Password, Transport::Unencrypted),
///     None
/// );
/// ```
pub fn choose_mechanism(
    offered: &[Mechanism],
    credentials: CredentialsKind,
    transport: Transport,
) -> Option<Mechanism> {
    let order = match (credentials, transport) {
        (CredentialsKind::OAuth, _) => OAUTH_ORDER,
        (CredentialsKind::Password, Transport::Encrypted) => PASSWORD_ORDER_TLS,
        (CredentialsKind::Password, _) => PASSWORD_ORDER_CLEARTEXT,
    };
    order
        .iter()
        .find(|m| transport.permits(m) && offered.contains(m))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Mechanism; 5] = [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
    ];

    #[test]
    fn token_prefers_oauthbearer_and_needs_tls() {
        let oauth = CredentialsKind::OAuth;
        assert_eq!(
            choose_mechanism(&ALL, oauth, Transport::Encrypted),
            Some(Mechanism::OAuthBearer)
        );
        assert_eq!(
            choose_mechanism(
                &[Mechanism::Plain, Mechanism::XOAuth2],
                oauth,
                Transport::Encrypted
            ),
            Some(Mechanism::XOAuth2)
        );
        assert_eq!(choose_mechanism(&ALL, oauth, Transport::Unencrypted), None);
        assert_eq!(
            choose_mechanism(&ALL, oauth, Transport::UnencryptedAllowCleartext),
            Some(Mechanism::OAuthBearer)
        );
        assert_eq!(
            choose_mechanism(
                &[Mechanism::Plain, Mechanism::CramMd5],
                oauth,
                Transport::Encrypted
            ),
            None
        );
    }

    #[test]
    fn password_order() {
        let pw = CredentialsKind::Password;
        assert_eq!(
            choose_mechanism(&ALL, pw, Transport::Encrypted),
            Some(Mechanism::Plain)
        );
        assert_eq!(
            choose_mechanism(
                &[Mechanism::CramMd5, Mechanism::Login],
                pw,
                Transport::Encrypted
            ),
            Some(Mechanism::Login)
        );
        assert_eq!(
            choose_mechanism(&ALL, pw, Transport::Unencrypted),
            Some(Mechanism::CramMd5)
        );
        assert_eq!(
            choose_mechanism(
                &[Mechanism::Plain, Mechanism::Login],
                pw,
                Transport::Unencrypted
            ),
            None
        );
        assert_eq!(
            choose_mechanism(
                &[Mechanism::Login, Mechanism::Plain],
                pw,
                Transport::UnencryptedAllowCleartext
            ),
            Some(Mechanism::Plain)
        );
        assert_eq!(
            choose_mechanism(
                &[
                    Mechanism::XOAuth2,
                    Mechanism::from_name("SCRAM-SHA-256").unwrap()
                ],
                pw,
                Transport::Encrypted
            ),
            None
        );
        assert_eq!(choose_mechanism(&[], pw, Transport::Encrypted), None);
    }
}
