//! [`ClientConfig`]: what a client session asks for, and how long it waits.

use std::time::Duration;

use mailwire_core::sasl::ClientCredentials;

/// When the client uses TLS (RFC 2595).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsPolicy {
    /// Never send `STLS`.
    Never,
    /// Send `STLS` when `CAPA` offers it; carry on in the clear otherwise. The default.
    /// This protects against passive eavesdroppers only.
    #[default]
    Opportunistic,
    /// Send `STLS` (even when `CAPA` is not supported); end the session before any
    /// authentication when it is not offered or refused.
    Required,
    /// The connection is already encrypted (POP3S, port 995): never send `STLS`.
    Implicit,
}

/// The credentials a client logs in with: mailwire-core's SASL credentials, also used
/// for `APOP` and `USER`/`PASS`. `Debug` never shows the secret.
pub type Login = ClientCredentials;

/// The settings of a [`ClientSession`](super::ClientSession).
///
/// ```
/// use mailwire_pop3::client::{ClientConfig, Login, TlsPolicy};
///
/// let mut config = ClientConfig::new(Login::password("tim", "tanstaaf".to_string()));
/// config.tls = TlsPolicy::Required;
/// assert!(!config.allow_plaintext_auth);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Who to log in as; `None` stays in the AUTHORIZATION state (only `CAPA` is useful).
    pub credentials: Option<Login>,
    /// When to use `STLS`. Default [`TlsPolicy::Opportunistic`].
    pub tls: TlsPolicy,
    /// Send passwords and tokens readable on the wire (`USER`/`PASS`, PLAIN, LOGIN, the
    /// OAuth mechanisms) without TLS. Default `false`.
    pub allow_plaintext_auth: bool,
    /// Use `APOP` when the greeting has a timestamp and SASL does not fit. Default `true`.
    pub apop: bool,
    /// Send queued commands together when the server offers `PIPELINING`. Default `true`.
    pub pipelining: bool,
    /// How long to wait for each part of a response. Default 10 minutes.
    pub timeout: Duration,
    /// The longest response line, CRLF not counted (RFC 2449: 512 octets; SASL challenges
    /// may be longer). Default 16 KiB.
    pub max_line_len: usize,
    /// The most octets of a `LIST`, `UIDL` or `CAPA` body kept in memory. Default 16 MiB.
    pub max_listing_len: usize,
    /// The longest SASL challenge, decoded. Default 8 KiB.
    pub max_sasl_challenge: usize,
}

impl ClientConfig {
    /// The defaults documented on each field, logging in with `credentials`.
    pub fn new(credentials: Login) -> ClientConfig {
        ClientConfig {
            credentials: Some(credentials),
            ..ClientConfig::anonymous()
        }
    }

    /// The defaults, without credentials.
    pub fn anonymous() -> ClientConfig {
        ClientConfig {
            credentials: None,
            tls: TlsPolicy::Opportunistic,
            allow_plaintext_auth: false,
            apop: true,
            pipelining: true,
            timeout: Duration::from_secs(10 * 60),
            max_line_len: 16 * 1024,
            max_listing_len: 16 * 1024 * 1024,
            max_sasl_challenge: mailwire_core::sasl::DEFAULT_MAX_RESPONSE_LEN,
        }
    }
}
