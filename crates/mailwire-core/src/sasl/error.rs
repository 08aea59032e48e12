//! [`SaslError`]: why an exchange failed, and [`MalformedReason`]: what was wrong with a
//! message.
//!
//! No error carries bytes from the peer or the credentials: errors are safe to log.

use super::{CredentialsKind, Mechanism};

/// Why a SASL exchange, a base64 decode or a call on an exchange failed.
///
/// The first group of variants says the peer broke the protocol or gave up; the second
/// says the caller used the API wrongly (a configuration or programming error). A protocol
/// crate answers the first group with its "authentication failed / syntax error" reply
/// (SMTP `501`/`535`, IMAP `NO`/`BAD`, POP3 `-ERR`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    // ---- the peer ----
    /// The line is not valid base64 (RFC 4648 alphabet; `=` padding only at the end).
    #[error("SASL data is not valid base64")]
    InvalidBase64,
    /// A response or challenge is longer than the configured limit (decoded bytes).
    #[error("SASL message longer than the limit of {limit} bytes")]
    TooLong {
        /// The limit that was exceeded, in decoded bytes.
        limit: usize,
    },
    /// The client cancelled the exchange (a `*` line).
    #[error("SASL exchange cancelled by the client")]
    Cancelled,
    /// A message does not follow the syntax of its mechanism.
    #[error("malformed {mechanism} message: {reason}")]
    Malformed {
        /// The mechanism whose message was malformed.
        mechanism: Mechanism,
        /// What was wrong.
        reason: MalformedReason,
    },
    /// The peer sent a message where the mechanism allows none: an initial response to a
    /// server-first mechanism (CRAM-MD5), or a challenge after the client's last message.
    #[error("unexpected {mechanism} message")]
    Unexpected {
        /// The mechanism of the exchange.
        mechanism: Mechanism,
    },
    /// The client asked for channel binding (GS2 `p=`), which mailwire does not offer.
    #[error("SASL channel binding is not supported")]
    ChannelBindingUnsupported,
    /// The server application refused the credentials (the end of an exchange after
    /// [`ServerExchange::fail_with`](super::ServerExchange::fail_with)).
    #[error("SASL authentication failed")]
    Rejected,

    // ---- the caller ----
    /// The mechanism is not implemented by mailwire ([`Mechanism::Other`]).
    #[error("SASL mechanism {0} is not supported")]
    Unsupported(Mechanism),
    /// A CRAM-MD5 server exchange was created without
    /// [`ServerOptions::cram_md5_challenge`](super::ServerOptions::cram_md5_challenge).
    #[error("a CRAM-MD5 server exchange needs a challenge")]
    MissingChallenge,
    /// The CRAM-MD5 challenge given to the server is not an RFC 5322 msg-id such as
    /// `<1896.697170952@postoffice.example.net>` (printable ASCII between `<` and `>`).
    #[error("the CRAM-MD5 challenge is not of the form <...@...>")]
    InvalidChallenge,
    /// The client credentials are of the wrong kind for the mechanism (a password for an
    /// OAuth mechanism, or a token for a password mechanism).
    #[error("{mechanism} needs {expected} credentials")]
    WrongCredentials {
        /// The mechanism asked for.
        mechanism: Mechanism,
        /// The kind of credentials it needs.
        expected: CredentialsKind,
    },
    /// The client credentials hold something the mechanism cannot carry (a NUL in a PLAIN
    /// username, a space in a bearer token, an empty password, ...).
    #[error("the credentials cannot be sent with {mechanism}: {reason}")]
    UnencodableCredentials {
        /// The mechanism asked for.
        mechanism: Mechanism,
        /// What is wrong with the credentials.
        reason: MalformedReason,
    },
    /// The call does not fit the state of the exchange (`start` twice, `step` before
    /// `start` or after the exchange finished).
    #[error("SASL exchange called out of order")]
    OutOfOrder,
}

/// What was wrong with a SASL message (or with client credentials that would make one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedReason {
    /// A name, password or value is not valid UTF-8.
    #[error("not valid UTF-8")]
    InvalidUtf8,
    /// A NUL byte where none may be.
    #[error("contains NUL")]
    Nul,
    /// PLAIN: the message is not `[authzid] NUL authcid NUL password`.
    #[error("not [authzid] NUL authcid NUL password")]
    PlainFields,
    /// A field that must not be empty is (a username, an authcid, a password, a token).
    #[error("an empty field")]
    EmptyField,
    /// CRAM-MD5: the response is not `username SP digest` with 32 hexadecimal digits.
    #[error("not username SP 32-hex-digit digest")]
    CramMd5Response,
    /// CRAM-MD5: the server's challenge is empty.
    #[error("empty challenge")]
    EmptyChallenge,
    /// OAUTHBEARER: the GS2 header is not `[F,] (n|y|p=..) , [a=authzid] ,`.
    #[error("bad GS2 header")]
    Gs2Header,
    /// OAUTHBEARER, XOAUTH2: the key/value list is not `*(key=value ^A) ^A` (with
    /// `key = 1*ALPHA`).
    #[error("bad key/value list")]
    KeyValues,
    /// OAUTHBEARER, XOAUTH2: a key appears twice.
    #[error("duplicate key")]
    DuplicateKey,
    /// OAUTHBEARER, XOAUTH2: no `auth` key.
    #[error("no auth key")]
    MissingAuth,
    /// XOAUTH2: no `user` key.
    #[error("no user key")]
    MissingUser,
    /// OAUTHBEARER, XOAUTH2: `auth` is not `Bearer <token>`.
    #[error("auth is not Bearer <token>")]
    AuthScheme,
    /// OAUTHBEARER: `port` is not a decimal number from 1 to 65535 without leading zeros.
    #[error("bad port")]
    Port,
    /// A character the field cannot hold (a control character in a host or token, a
    /// `0x01` in an OAuth user).
    #[error("a character the field cannot hold")]
    InvalidCharacter,
}
