//! The server side: [`ServerExchange`] turns client responses into [`Credentials`].

use super::credentials::{
    CramMd5Credentials, OAuthCredentials, PasswordCredentials, is_valid_cram_challenge,
    parse_hex_digest,
};
use super::oauth::{self, ParseError};
use super::{Credentials, DEFAULT_MAX_RESPONSE_LEN, MalformedReason, Mechanism, SaslError};
use crate::Secret;

/// The LOGIN mechanism's first challenge.
pub const LOGIN_USERNAME_PROMPT: &[u8] = b"Username:";
/// The LOGIN mechanism's second challenge.
pub const LOGIN_PASSWORD_PROMPT: &[u8] = b"Password:";

/// Settings of a [`ServerExchange`]. Build with struct update syntax from the default:
///
/// ```
/// use mailwire_core::sasl::ServerOptions;
/// let options = ServerOptions {
///     cram_md5_challenge: Some("<1896.697170952@postoffice.example.net>".into()),
///     ..ServerOptions::default()
/// };
/// assert_eq!(options.max_response_len, 8 * 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerOptions {
    /// The CRAM-MD5 challenge, required for [`Mechanism::CramMd5`]: a fresh, unpredictable
    /// msg-id such as `<1896.697170952@postoffice.example.net>` for every exchange (see
    /// [`cram_md5_challenge`](super::cram_md5_challenge)). This crate has no randomness
    /// and no clock, so the caller makes it.
    pub cram_md5_challenge: Option<String>,
    /// The longest client message accepted, in decoded bytes; a longer one fails the
    /// exchange with [`SaslError::TooLong`]. Defaults to [`DEFAULT_MAX_RESPONSE_LEN`].
    pub max_response_len: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            cram_md5_challenge: None,
            max_response_len: DEFAULT_MAX_RESPONSE_LEN,
        }
    }
}

/// What the server does next, returned by every call on a [`ServerExchange`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this challenge (raw bytes: the protocol base64-encodes it with
    /// [`encode_challenge`](super::encode_challenge)) and pass the client's answer to
    /// [`ServerExchange::step`].
    Challenge(Vec<u8>),
    /// The client has made its claim. The application verifies it, then the protocol
    /// sends success (SMTP `235`, IMAP `OK`, POP3 `+OK`), or failure; for the OAuth
    /// mechanisms, failure goes through [`ServerExchange::fail_with`].
    Done(Credentials),
    /// The exchange failed; the protocol sends its failure reply. Nothing more to do.
    Failed(SaslError),
}

/// One SASL authentication, server side, as a sans-IO exchange.
///
/// ## Driving it
///
/// 1. [`new`](Self::new) with the mechanism the client named (an unsupported mechanism,
///    or CRAM-MD5 without a challenge, is refused here);
/// 2. [`start`](Self::start) with the decoded initial response, if the command carried
///    one (`AUTH PLAIN <base64>`, IMAP SASL-IR);
/// 3. while the result is [`Step::Challenge`]: send it, read the client's line, decode it
///    with [`decode_response`](super::decode_response) (a [`Response::Cancel`] ends the
///    exchange: the protocol replies with its cancel error and drops the exchange), and
///    call [`step`](Self::step);
/// 4. on [`Step::Done`], verify the [`Credentials`]. On success, reply with success. On
///    failure, call [`fail_with`](Self::fail_with): for XOAUTH2 and OAUTHBEARER it returns
///    the error challenge the client must acknowledge (back to 3, which then ends in
///    [`Step::Failed`]); for the others it returns [`Step::Failed`] at once.
///
/// Every call returns a [`Step`]; once a [`Step::Failed`] or [`Step::Done`] has been
/// returned, further `step` calls return `Step::Failed(SaslError::OutOfOrder)`. Nothing
/// the client sends can make a call panic.
///
/// [`Response::Cancel`]: super::Response::Cancel
///
/// ```
/// use mailwire_core::sasl::{
///     decode_response, encode_challenge, Credentials, Mechanism, Response, ServerExchange,
///     ServerOptions, Step,
/// };
///
/// // S: 334 VXNlcm5hbWU6 / C: dGlt / S: 334 UGFzc3dvcmQ6 / C: dGFuc3RhYWZ0YW5zdGFhZg==
/// let options = ServerOptions::default();
/// let mut server = ServerExchange::new(Mechanism::Login, options.clone())?;
/// let mut step = server.start(None);
/// let mut client_lines = [&b"dGlt"[..], b"dGFuc3RhYWZ0YW5zdGFhZg=="].into_iter();
/// let credentials = loop {
///     match step {
///         Step::Challenge(challenge) => {
///             let _reply = format!("334 {}\r\n", encode_challenge(&challenge));
///             let line = client_lines.next().expect("the client answers");
///             match decode_response(line, options.max_response_len)? {
///                 Response::Data(data) => step = server.step(&data),
///                 Response::Cancel => unreachable!("this client does not cancel"),
///             }
///         }
///         Step::Done(credentials) => break credentials,
///         Step::Failed(error) => return Err(error),
///     }
/// };
/// let Credentials::Password(claim) = credentials else { unreachable!() };
/// assert_eq!(claim.authcid, "tim");
/// assert_eq!(claim.password.expose(), "tanstaaftanstaaf");
/// # Ok::<(), mailwire_core::sasl::SaslError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServerExchange {
    mechanism: Mechanism,
    max_response_len: usize,
    /// CRAM-MD5 only; checked at construction.
    challenge: Option<String>,
    state: State,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// `start` not called yet.
    New,
    /// PLAIN, XOAUTH2, OAUTHBEARER: sent the empty challenge, waiting for the message.
    AwaitMessage,
    /// LOGIN: sent `Username:`.
    AwaitUsername,
    /// LOGIN: sent `Password:`.
    AwaitPassword { authcid: String },
    /// CRAM-MD5: sent the challenge.
    AwaitDigest,
    /// Returned `Done`: the application decides; `fail_with` may follow.
    Decided,
    /// XOAUTH2, OAUTHBEARER: sent the error challenge, waiting for the dummy response.
    AwaitErrorAck,
    /// Nothing more can happen.
    Finished,
}

impl ServerExchange {
    /// Prepares an exchange for `mechanism`.
    ///
    /// Fails with [`SaslError::Unsupported`] for [`Mechanism::Other`], with
    /// [`SaslError::MissingChallenge`] or [`SaslError::InvalidChallenge`] for CRAM-MD5
    /// without a proper `options.cram_md5_challenge`.
    pub fn new(mechanism: Mechanism, options: ServerOptions) -> Result<Self, SaslError> {
        let challenge = match mechanism {
            Mechanism::Plain | Mechanism::Login | Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
                None
            }
            Mechanism::CramMd5 => {
                let challenge = options
                    .cram_md5_challenge
                    .ok_or(SaslError::MissingChallenge)?;
                if !is_valid_cram_challenge(&challenge) {
                    return Err(SaslError::InvalidChallenge);
                }
                Some(challenge)
            }
            Mechanism::Other(_) => return Err(SaslError::Unsupported(mechanism)),
        };
        Ok(ServerExchange {
            mechanism,
            max_response_len: options.max_response_len,
            challenge,
            state: State::New,
        })
    }

    /// The mechanism of this exchange.
    pub fn mechanism(&self) -> &Mechanism {
        &self.mechanism
    }

    /// Whether the exchange has nothing more to do (it returned [`Step::Failed`], or
    /// [`Step::Done`] for a mechanism without an error challenge or after `fail_with`).
    pub fn is_finished(&self) -> bool {
        self.state == State::Finished
    }

    /// Begins the exchange. `initial_response` is the decoded initial response if the
    /// client sent one (`Some(b"")` for `=`), `None` if it did not.
    ///
    /// An initial response to CRAM-MD5 (a server-first mechanism) fails the exchange with
    /// [`SaslError::Unexpected`] (RFC 4422 section 3.3). LOGIN takes an initial response
    /// as the username, as many clients send it so.
    pub fn start(&mut self, initial_response: Option<&[u8]>) -> Step {
        if self.state != State::New {
            return self.fail(SaslError::OutOfOrder);
        }
        if let Some(response) = initial_response
            && response.len() > self.max_response_len
        {
            return self.fail(SaslError::TooLong {
                limit: self.max_response_len,
            });
        }
        match (&self.mechanism, initial_response) {
            (Mechanism::Login, None) => {
                self.state = State::AwaitUsername;
                Step::Challenge(LOGIN_USERNAME_PROMPT.to_vec())
            }
            (Mechanism::Login, Some(username)) => self.login_username(username),
            (Mechanism::CramMd5, None) => {
                self.state = State::AwaitDigest;
                let challenge = self.challenge.as_deref().unwrap_or_default();
                Step::Challenge(challenge.as_bytes().to_vec())
            }
            (Mechanism::CramMd5, Some(_)) => self.fail(SaslError::Unexpected {
                mechanism: Mechanism::CramMd5,
            }),
            (_, None) => {
                self.state = State::AwaitMessage;
                Step::Challenge(Vec::new())
            }
            (_, Some(message)) => self.client_message(message),
        }
    }

    /// Takes the client's decoded response to the last challenge.
    pub fn step(&mut self, response: &[u8]) -> Step {
        if matches!(self.state, State::New | State::Decided | State::Finished) {
            return self.fail(SaslError::OutOfOrder);
        }
        if response.len() > self.max_response_len {
            return self.fail(SaslError::TooLong {
                limit: self.max_response_len,
            });
        }
        match std::mem::replace(&mut self.state, State::Finished) {
            State::AwaitMessage => self.client_message(response),
            State::AwaitUsername => self.login_username(response),
            State::AwaitPassword { authcid } => self.login_password(authcid, response),
            State::AwaitDigest => self.cram_md5_response(response),
            // RFC 7628 section 3.2.3: whatever the client answers, the exchange fails.
            State::AwaitErrorAck => self.fail(SaslError::Rejected),
            State::New | State::Decided | State::Finished => self.fail(SaslError::OutOfOrder),
        }
    }

    /// The application refuses the credentials of [`Step::Done`].
    ///
    /// For XOAUTH2 and OAUTHBEARER this returns [`Step::Challenge`] with `error_json`
    /// (make it with [`OAuthError::to_json`](super::OAuthError::to_json)); send it, and
    /// pass the client's (dummy) answer to [`step`](Self::step), which returns
    /// `Step::Failed(SaslError::Rejected)` (RFC 7628 section 3.2.2, and the XOAUTH2
    /// convention). An empty `error_json` is replaced by `{"status":"invalid_token"}`, since
    /// an empty challenge would ask the client to start over.
    ///
    /// For the other mechanisms, or at any other point of the exchange, it returns
    /// `Step::Failed(SaslError::Rejected)` and the exchange is finished.
    ///
    /// ```
    /// use mailwire_core::sasl::{Mechanism, OAuthError, SaslError, ServerExchange, ServerOptions, Step};
    ///
    /// let mut server = ServerExchange::new(Mechanism::XOAuth2, ServerOptions::default())?;
    /// let Step::Done(_claim) = server.start(Some(b"user=a@example.com\x01auth=Bearer t0k3n\x01\x01"))
    ///     else { panic!() };
    /// // The token is not valid:
    /// let error = OAuthError::new("401").with_scope("https://mail.google.com/");
    /// assert_eq!(server.fail_with(&error.to_json()), Step::Challenge(error.to_json()));
    /// assert_eq!(server.step(b""), Step::Failed(SaslError::Rejected));
    /// # Ok::<(), mailwire_core::sasl::SaslError>(())
    /// ```
    pub fn fail_with(&mut self, error_json: &[u8]) -> Step {
        let oauth = matches!(self.mechanism, Mechanism::XOAuth2 | Mechanism::OAuthBearer);
        if oauth && self.state == State::Decided {
            self.state = State::AwaitErrorAck;
            let json = if error_json.is_empty() {
                br#"{"status":"invalid_token"}"#.to_vec()
            } else {
                error_json.to_vec()
            };
            Step::Challenge(json)
        } else {
            self.fail(SaslError::Rejected)
        }
    }

    fn fail(&mut self, error: SaslError) -> Step {
        self.state = State::Finished;
        Step::Failed(error)
    }

    fn malformed(&mut self, reason: MalformedReason) -> Step {
        let mechanism = self.mechanism.clone();
        self.fail(SaslError::Malformed { mechanism, reason })
    }

    fn done(&mut self, credentials: Credentials) -> Step {
        let oauth = matches!(credentials, Credentials::OAuth(_));
        self.state = if oauth {
            State::Decided
        } else {
            State::Finished
        };
        Step::Done(credentials)
    }

    /// The one message of PLAIN, XOAUTH2 and OAUTHBEARER.
    fn client_message(&mut self, message: &[u8]) -> Step {
        match self.mechanism {
            Mechanism::Plain => match parse_plain(message) {
                Ok(credentials) => self.done(Credentials::Password(credentials)),
                Err(reason) => self.malformed(reason),
            },
            Mechanism::XOAuth2 => self.oauth_message(oauth::parse_xoauth2(message)),
            Mechanism::OAuthBearer => self.oauth_message(oauth::parse_oauthbearer(message)),
            // `start` and `step` reach here only for the three mechanisms above.
            _ => self.fail(SaslError::OutOfOrder),
        }
    }

    fn oauth_message(&mut self, parsed: Result<oauth::OAuthMessage, ParseError>) -> Step {
        match parsed {
            Ok(message) => self.done(Credentials::OAuth(OAuthCredentials {
                mechanism: self.mechanism.clone(),
                user: message.user,
                host: message.host,
                port: message.port,
                token: Secret::new(message.token),
            })),
            Err(ParseError::Malformed(reason)) => self.malformed(reason),
            Err(ParseError::ChannelBinding) => self.fail(SaslError::ChannelBindingUnsupported),
        }
    }

    fn login_username(&mut self, username: &[u8]) -> Step {
        match login_field(username) {
            Ok(authcid) => {
                self.state = State::AwaitPassword { authcid };
                Step::Challenge(LOGIN_PASSWORD_PROMPT.to_vec())
            }
            Err(reason) => self.malformed(reason),
        }
    }

    fn login_password(&mut self, authcid: String, password: &[u8]) -> Step {
        match login_field(password) {
            Ok(password) => self.done(Credentials::Password(PasswordCredentials {
                mechanism: Mechanism::Login,
                authzid: None,
                authcid,
                password: Secret::new(password),
            })),
            Err(reason) => self.malformed(reason),
        }
    }

    fn cram_md5_response(&mut self, response: &[u8]) -> Step {
        let challenge = self.challenge.clone().unwrap_or_default();
        match parse_cram_md5(response) {
            Ok((username, digest)) => self.done(Credentials::CramMd5(CramMd5Credentials::new(
                username, challenge, digest,
            ))),
            Err(reason) => self.malformed(reason),
        }
    }
}

/// `[authzid] NUL authcid NUL passwd` (RFC 4616 section 2).
fn parse_plain(message: &[u8]) -> Result<PasswordCredentials, MalformedReason> {
    let mut fields = message.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(MalformedReason::PlainFields);
    };
    if authcid.is_empty() || password.is_empty() {
        return Err(MalformedReason::EmptyField);
    }
    let text =
        |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| MalformedReason::InvalidUtf8);
    Ok(PasswordCredentials {
        mechanism: Mechanism::Plain,
        authzid: if authzid.is_empty() {
            None
        } else {
            Some(text(authzid)?)
        },
        authcid: text(authcid)?,
        password: Secret::new(text(password)?),
    })
}

/// A LOGIN username or password: non-empty UTF-8 without NUL.
fn login_field(bytes: &[u8]) -> Result<String, MalformedReason> {
    if bytes.is_empty() {
        return Err(MalformedReason::EmptyField);
    }
    if bytes.contains(&0) {
        return Err(MalformedReason::Nul);
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| MalformedReason::InvalidUtf8)
}

/// `username SP digest`, split at the last space so that usernames may hold spaces.
fn parse_cram_md5(response: &[u8]) -> Result<(String, [u8; 16]), MalformedReason> {
    let at = response
        .iter()
        .rposition(|&b| b == b' ')
        .ok_or(MalformedReason::CramMd5Response)?;
    let (username, digest) = response.split_at(at);
    let digest = digest.get(1..).unwrap_or_default();
    let digest = parse_hex_digest(digest).ok_or(MalformedReason::CramMd5Response)?;
    Ok((login_field(username)?, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_field_structure() {
        assert_eq!(
            parse_plain(b"tim").err(),
            Some(MalformedReason::PlainFields)
        );
        assert_eq!(
            parse_plain(b"\0tim").err(),
            Some(MalformedReason::PlainFields)
        );
        assert_eq!(
            parse_plain(b"\0tim\0pw\0").err(),
            Some(MalformedReason::PlainFields)
        );
        assert_eq!(
            parse_plain(b"\0\0pw").err(),
            Some(MalformedReason::EmptyField)
        );
        assert_eq!(
            parse_plain(b"\0tim\0").err(),
            Some(MalformedReason::EmptyField)
        );
        assert_eq!(
            parse_plain(b"\xff\0tim\0pw").err(),
            Some(MalformedReason::InvalidUtf8)
        );
        let ok = parse_plain(b"Ursel\0Kurt\0xipj3plmq").expect("RFC 4616 example");
        assert_eq!(ok.authzid.as_deref(), Some("Ursel"));
        assert_eq!(ok.authcid, "Kurt");
        assert_eq!(ok.password.expose(), "xipj3plmq");
    }

    #[test]
    fn cram_md5_username_may_hold_spaces() {
        let (user, _) =
            parse_cram_md5(b"tim smith b913a602c7eda7a495b4e6e7334d3890").expect("valid response");
        assert_eq!(user, "tim smith");
        assert_eq!(
            parse_cram_md5(b" b913a602c7eda7a495b4e6e7334d3890").err(),
            Some(MalformedReason::EmptyField)
        );
        assert_eq!(
            parse_cram_md5(b"timb913a602c7eda7a495b4e6e7334d3890").err(),
            Some(MalformedReason::CramMd5Response)
        );
        assert_eq!(
            parse_cram_md5(b"tim b913a602c7eda7a495b4e6e7334d3890 ").err(),
            Some(MalformedReason::CramMd5Response)
        );
    }
}
