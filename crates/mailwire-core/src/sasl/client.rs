//! The client side: [`ClientCredentials`] and [`ClientExchange`].

use super::credentials::cram_md5_hex;
use super::oauth::{self, KVSEP};
use super::{CredentialsKind, MalformedReason, Mechanism, SaslError};
use crate::Secret;

/// What a client authenticates with: a username and password, or a user and an OAuth 2.0
/// bearer token. `Debug` never shows the password or token.
///
/// ```
/// use mailwire_core::sasl::{ClientCredentials, CredentialsKind};
/// let creds = ClientCredentials::password("tim", "tanstaaftanstaaf".to_string());
/// assert_eq!(creds.kind(), CredentialsKind::Password);
/// assert!(!format!("{creds:?}").contains("tanstaaf"));
///
/// let creds = ClientCredentials::oauth("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==".to_string())
///     .with_host("server.example.com", 143);
/// assert_eq!(creds.kind(), CredentialsKind::OAuth);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCredentials {
    inner: Inner,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Inner {
    Password {
        username: String,
        password: Secret<String>,
        authzid: Option<String>,
    },
    OAuth {
        user: String,
        token: Secret<String>,
        host: Option<(String, u16)>,
    },
}

impl ClientCredentials {
    /// A username and password, for PLAIN, LOGIN and CRAM-MD5.
    pub fn password(username: impl Into<String>, password: impl Into<Secret<String>>) -> Self {
        ClientCredentials {
            inner: Inner::Password {
                username: username.into(),
                password: password.into(),
                authzid: None,
            },
        }
    }

    /// A user and an OAuth 2.0 access token (without the `Bearer ` prefix), for XOAUTH2
    /// and OAUTHBEARER.
    pub fn oauth(user: impl Into<String>, token: impl Into<Secret<String>>) -> Self {
        ClientCredentials {
            inner: Inner::OAuth {
                user: user.into(),
                token: token.into(),
                host: None,
            },
        }
    }

    /// Asks to act as `authzid` (PLAIN's authorization identity; other mechanisms ignore
    /// it). Without it the server derives the identity from the username.
    pub fn with_authzid(mut self, authzid: impl Into<String>) -> Self {
        if let Inner::Password { authzid: slot, .. } = &mut self.inner {
            *slot = Some(authzid.into());
        }
        self
    }

    /// The host name and port the client connected to, sent as OAUTHBEARER's `host` and
    /// `port` (RFC 7628 section 3.1; XOAUTH2 and password credentials ignore them).
    pub fn with_host(mut self, host: impl Into<String>, port: u16) -> Self {
        if let Inner::OAuth { host: slot, .. } = &mut self.inner {
            *slot = Some((host.into(), port));
        }
        self
    }

    /// Whether these are password or token credentials.
    pub fn kind(&self) -> CredentialsKind {
        match self.inner {
            Inner::Password { .. } => CredentialsKind::Password,
            Inner::OAuth { .. } => CredentialsKind::OAuth,
        }
    }

    /// The password or the token: for protocols that use it outside SASL (POP3 `PASS`
    /// and `APOP`). Reach the text with [`Secret::expose`] only where it is sent.
    pub fn secret(&self) -> &Secret<String> {
        match &self.inner {
            Inner::Password { password, .. } => password,
            Inner::OAuth { token, .. } => token,
        }
    }

    /// The username or OAuth user.
    pub fn username(&self) -> &str {
        match &self.inner {
            Inner::Password { username, .. } => username,
            Inner::OAuth { user, .. } => user,
        }
    }
}

/// One SASL authentication, client side, as a sans-IO exchange.
///
/// ## Driving it
///
/// 1. Pick the mechanism (see [`choose_mechanism`](super::choose_mechanism)) and make the
///    exchange with [`new`](Self::new); it checks that the credentials fit the mechanism.
/// 2. If the protocol allows an initial response (SMTP `AUTH`, POP3 `AUTH`, IMAP with
///    `SASL-IR`) send [`initial_response`](Self::initial_response), if any, with the
///    command, encoded with [`encode_initial_response`](super::encode_initial_response).
/// 3. For every challenge the server sends (SMTP `334`, IMAP and POP3 `+`): decode it with
///    [`decode_challenge`](super::decode_challenge), pass it to
///    [`respond`](Self::respond) and send the answer encoded with
///    [`encode_response`](super::encode_response). If decoding or `respond` fails, send
///    the cancel line [`CANCEL`](super::CANCEL) (`*`) instead.
/// 4. The server's final reply (success or failure) ends the exchange. After an OAuth
///    failure, [`server_error`](Self::server_error) holds the server's JSON error.
///
/// The exchange does not need to know whether the initial response was sent: PLAIN,
/// XOAUTH2 and OAUTHBEARER answer an empty challenge with their message, and the OAuth
/// mechanisms answer a non-empty one (the server's error) with the dummy response.
///
/// ```
/// use mailwire_core::sasl::{ClientCredentials, ClientExchange, Mechanism};
///
/// let creds = ClientCredentials::password("tim", "tanstaaftanstaaf".to_string());
/// let mut client = ClientExchange::new(Mechanism::CramMd5, creds)?;
/// assert_eq!(client.initial_response(), None);
/// let answer = client.respond(b"<1896.697170952@postoffice.reston.mci.net>")?;
/// assert_eq!(answer, b"tim b913a602c7eda7a495b4e6e7334d3890");
/// # Ok::<(), mailwire_core::sasl::SaslError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientExchange {
    mechanism: Mechanism,
    credentials: ClientCredentials,
    state: ClientState,
    server_error: Option<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientState {
    /// No challenge answered yet.
    Start,
    /// LOGIN: sent the username.
    SentUsername,
    /// Sent the mechanism's (last) message through `respond`.
    SentMessage,
    /// OAuth: sent the dummy response to the server's error; or `respond` failed.
    Finished,
}

impl ClientExchange {
    /// Prepares an exchange for `mechanism` with `credentials`.
    ///
    /// Fails with [`SaslError::Unsupported`] for [`Mechanism::Other`], with
    /// [`SaslError::WrongCredentials`] when a password mechanism gets a token or the other
    /// way round, and with [`SaslError::UnencodableCredentials`] when the mechanism cannot
    /// carry the credentials: an empty username, password or token; a NUL anywhere; a
    /// `0x01` in an OAuth user; a token or host that is not visible ASCII.
    pub fn new(mechanism: Mechanism, credentials: ClientCredentials) -> Result<Self, SaslError> {
        let expected = match mechanism {
            Mechanism::Plain | Mechanism::Login | Mechanism::CramMd5 => CredentialsKind::Password,
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => CredentialsKind::OAuth,
            Mechanism::Other(_) => return Err(SaslError::Unsupported(mechanism)),
        };
        if credentials.kind() != expected {
            return Err(SaslError::WrongCredentials {
                mechanism,
                expected,
            });
        }
        if let Err(reason) = check_credentials(&mechanism, &credentials.inner) {
            return Err(SaslError::UnencodableCredentials { mechanism, reason });
        }
        Ok(ClientExchange {
            mechanism,
            credentials,
            state: ClientState::Start,
            server_error: None,
        })
    }

    /// The mechanism of this exchange.
    pub fn mechanism(&self) -> &Mechanism {
        &self.mechanism
    }

    /// The initial response to send with the command, for the client-first mechanisms:
    /// PLAIN, XOAUTH2 and OAUTHBEARER. `None` for LOGIN and CRAM-MD5, which wait for the
    /// server's first challenge. The bytes hold the password or token: do not log them.
    pub fn initial_response(&self) -> Option<Vec<u8>> {
        match self.mechanism {
            Mechanism::Plain | Mechanism::XOAuth2 | Mechanism::OAuthBearer => Some(self.message()),
            _ => None,
        }
    }

    /// Answers the server's decoded `challenge`. The answer may hold the password or token:
    /// do not log it.
    ///
    /// - PLAIN, XOAUTH2, OAUTHBEARER: an empty challenge (the server wants the message that
    ///   was not sent as initial response) is answered with the message. For the OAuth
    ///   mechanisms a non-empty challenge is the server's JSON error: it is kept for
    ///   [`server_error`](Self::server_error) and answered with the dummy response RFC 7628
    ///   section 3.2.3 asks for (`0x01` for OAUTHBEARER, empty for XOAUTH2).
    /// - LOGIN: the first challenge (whatever its text, usually `Username:`) is answered
    ///   with the username, the second (`Password:`) with the password.
    /// - CRAM-MD5: the challenge is answered with `username SP hex(HMAC-MD5(password,
    ///   challenge))`.
    ///
    /// A challenge the mechanism does not expect (one too many) fails with
    /// [`SaslError::Unexpected`]; the protocol then cancels with `*`. After an error every
    /// further call fails the same way.
    pub fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        let state = std::mem::replace(&mut self.state, ClientState::Finished);
        let unexpected = || SaslError::Unexpected {
            mechanism: self.mechanism.clone(),
        };
        let (answer, next) = match (&self.mechanism, state) {
            (Mechanism::Plain, ClientState::Start) => (self.message(), ClientState::SentMessage),
            (Mechanism::Login, ClientState::Start) => (
                self.username().as_bytes().to_vec(),
                ClientState::SentUsername,
            ),
            (Mechanism::Login, ClientState::SentUsername) => {
                (self.secret().as_bytes().to_vec(), ClientState::SentMessage)
            }
            (Mechanism::CramMd5, ClientState::Start) => {
                if challenge.is_empty() {
                    return Err(SaslError::Malformed {
                        mechanism: Mechanism::CramMd5,
                        reason: MalformedReason::EmptyChallenge,
                    });
                }
                let digest = cram_md5_hex(self.secret().as_bytes(), challenge);
                let answer = format!("{} {digest}", self.username()).into_bytes();
                (answer, ClientState::SentMessage)
            }
            (Mechanism::XOAuth2 | Mechanism::OAuthBearer, ClientState::Start)
                if challenge.is_empty() =>
            {
                (self.message(), ClientState::SentMessage)
            }
            (
                Mechanism::XOAuth2 | Mechanism::OAuthBearer,
                ClientState::Start | ClientState::SentMessage,
            ) if !challenge.is_empty() => {
                self.server_error = Some(challenge.to_vec());
                let dummy = if self.mechanism == Mechanism::OAuthBearer {
                    vec![KVSEP]
                } else {
                    Vec::new()
                };
                (dummy, ClientState::Finished)
            }
            _ => return Err(unexpected()),
        };
        self.state = next;
        Ok(answer)
    }

    /// The error the server sent to an OAuth client before failing the exchange (RFC 7628
    /// section 3.2.2: JSON such as `{"status":"invalid_token","scope":"..."}`), if any.
    pub fn server_error(&self) -> Option<&[u8]> {
        self.server_error.as_deref()
    }

    fn username(&self) -> &str {
        self.credentials.username()
    }

    fn secret(&self) -> &str {
        match &self.credentials.inner {
            Inner::Password { password, .. } => password.expose(),
            Inner::OAuth { token, .. } => token.expose(),
        }
    }

    /// The single message of PLAIN, XOAUTH2 and OAUTHBEARER.
    fn message(&self) -> Vec<u8> {
        match (&self.mechanism, &self.credentials.inner) {
            (
                Mechanism::Plain,
                Inner::Password {
                    username,
                    password,
                    authzid,
                },
            ) => {
                let mut out = Vec::new();
                out.extend_from_slice(authzid.as_deref().unwrap_or_default().as_bytes());
                out.push(0);
                out.extend_from_slice(username.as_bytes());
                out.push(0);
                out.extend_from_slice(password.expose().as_bytes());
                out
            }
            (Mechanism::XOAuth2, Inner::OAuth { user, token, .. }) => {
                oauth::encode_xoauth2(user, token.expose())
            }
            (Mechanism::OAuthBearer, Inner::OAuth { user, token, host }) => {
                oauth::encode_oauthbearer(
                    user,
                    host.as_ref().map(|(h, _)| h.as_str()),
                    host.as_ref().map(|(_, p)| *p),
                    token.expose(),
                )
            }
            // `new` pairs mechanisms and credentials; no other combination exists.
            _ => Vec::new(),
        }
    }
}

/// Whether `mechanism` can carry `credentials` (their kind already matches).
fn check_credentials(mechanism: &Mechanism, credentials: &Inner) -> Result<(), MalformedReason> {
    match credentials {
        Inner::Password {
            username,
            password,
            authzid,
        } => {
            if username.is_empty() || password.expose().is_empty() {
                return Err(MalformedReason::EmptyField);
            }
            let nul = |s: &str| s.contains('\0');
            let authzid_nul = *mechanism == Mechanism::Plain && authzid.as_deref().is_some_and(nul);
            if nul(username) || nul(password.expose()) || authzid_nul {
                return Err(MalformedReason::Nul);
            }
            Ok(())
        }
        Inner::OAuth { user, token, host } => {
            if user.is_empty() {
                return Err(MalformedReason::EmptyField);
            }
            if user.contains('\0') {
                return Err(MalformedReason::Nul);
            }
            if user.contains(char::from(KVSEP)) {
                return Err(MalformedReason::InvalidCharacter);
            }
            if token.expose().is_empty() {
                return Err(MalformedReason::EmptyField);
            }
            if !oauth::is_valid_token(token.expose()) {
                return Err(MalformedReason::InvalidCharacter);
            }
            let bad_host = *mechanism == Mechanism::OAuthBearer
                && host
                    .as_ref()
                    .is_some_and(|(h, _)| h.is_empty() || !h.bytes().all(|b| b.is_ascii_graphic()));
            if bad_host {
                return Err(MalformedReason::InvalidCharacter);
            }
            if *mechanism == Mechanism::OAuthBearer && host.as_ref().is_some_and(|(_, p)| *p == 0) {
                return Err(MalformedReason::Port);
            }
            Ok(())
        }
    }
}
