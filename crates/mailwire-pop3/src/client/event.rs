//! What a [`ClientSession`](super::ClientSession) tells the application, and its errors.

use bytes::Bytes;
use mailwire_core::sasl::{Mechanism, SaslError};

use crate::parse::ResponseError;
use crate::types::{ApopTimestamp, Capability, Response, ScanListing, UidListing};

/// Names one request made with a verb ([`ClientSession::stat`](super::ClientSession::stat)
/// and the others). Ids increase from 1 within a session; answers come in request order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub(crate) u64);

impl RequestId {
    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// How the client authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `AUTH` with this SASL mechanism (RFC 5034).
    Sasl(Mechanism),
    /// `APOP`.
    Apop,
    /// `USER` and `PASS`.
    UserPass,
}

/// What the application must see, from
/// [`Session::poll_event`](mailwire_core::Session::poll_event).
///
/// Every request ends with exactly one answer event carrying its id (`Stat`, `Listing`,
/// `UniqueIds`, `MessageEnd`, `Done` or `Failed`) unless the session closes first; every
/// session ends with one [`ClientEvent::Closed`], the last event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The server's `+OK` greeting, and its APOP timestamp if it has one.
    Greeting {
        /// The greeting.
        response: Response,
        /// The timestamp, if any.
        timestamp: Option<ApopTimestamp>,
    },
    /// Logged in: the session is in the TRANSACTION state (or, without credentials, ready
    /// for nothing but `QUIT`).
    Ready {
        /// The server's last `CAPA` answer (empty if it does not support `CAPA`).
        capabilities: Vec<Capability>,
        /// Whether the connection is encrypted.
        encrypted: bool,
        /// How the client logged in, if it did.
        authenticated: Option<AuthMethod>,
    },
    /// The answer to `STAT`.
    Stat {
        /// The request.
        id: RequestId,
        /// Messages in the maildrop (not counting those marked deleted).
        count: u32,
        /// Their total size in octets.
        size: u64,
    },
    /// The answer to `LIST` (one entry for `LIST n`).
    Listing {
        /// The request.
        id: RequestId,
        /// The messages and their sizes.
        entries: Vec<ScanListing>,
    },
    /// The answer to `UIDL` (one entry for `UIDL n`).
    UniqueIds {
        /// The request.
        id: RequestId,
        /// The messages and their unique-ids.
        entries: Vec<UidListing>,
    },
    /// `RETR` or `TOP` was accepted; [`ClientEvent::MessageData`] pieces follow, then
    /// [`ClientEvent::MessageEnd`].
    MessageStart {
        /// The request.
        id: RequestId,
        /// The server's `+OK`.
        response: Response,
    },
    /// A piece of the message, un-stuffed, in order. The session never holds it whole.
    MessageData {
        /// The request.
        id: RequestId,
        /// The content.
        data: Bytes,
    },
    /// The message is complete.
    MessageEnd {
        /// The request.
        id: RequestId,
    },
    /// `+OK` to `DELE`, `RSET` or `NOOP`.
    Done {
        /// The request.
        id: RequestId,
        /// The server's answer.
        response: Response,
    },
    /// `-ERR` to a request.
    Failed {
        /// The request.
        id: RequestId,
        /// The server's answer.
        response: Response,
    },
    /// The session is over; nothing follows. `error` is `None` after a `+OK` to `QUIT`
    /// (deletions committed).
    Closed {
        /// What ended the session, unless it ended normally.
        error: Option<ClientError>,
    },
}

/// What ended a client session abnormally.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The greeting was `-ERR`.
    #[error("server refused the connection")]
    GreetingRefused(Response),
    /// TLS is required and the server does not offer `STLS`.
    #[error("server does not offer STLS")]
    TlsUnavailable,
    /// TLS is required and the server refused `STLS`.
    #[error("server refused STLS")]
    TlsRefused(Response),
    /// No authentication method fits the server's offer, the credentials and the
    /// transport (passwords are not sent in the clear unless allowed).
    #[error("no usable authentication method")]
    NoAuthMethod,
    /// The server refused the credentials, or the maildrop (`[IN-USE]`, ...).
    #[error("authentication failed")]
    AuthFailed(Response),
    /// The SASL exchange could not go on.
    #[error("SASL exchange failed")]
    Sasl(SaslError),
    /// The server sent something that is not POP3.
    #[error("protocol error from server")]
    Protocol(ResponseError),
    /// The server sent something nothing waited for.
    #[error("unexpected data from server")]
    Unexpected,
    /// A response was larger than the configured limits.
    #[error("response too large")]
    TooLarge,
    /// The server closed the connection before `QUIT` was answered.
    #[error("connection closed by server")]
    PeerClosed,
    /// The server did not answer in time.
    #[error("timed out waiting for the server")]
    Timeout,
    /// The server answered `QUIT` with `-ERR`: deletions may not have been committed.
    #[error("QUIT refused")]
    QuitRefused(Response),
}

/// A verb called when it cannot be used: the caller misused the API.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientApiError {
    /// The session is closed, or `QUIT` was already asked for.
    #[error("session closed or quitting")]
    Closed,
}
