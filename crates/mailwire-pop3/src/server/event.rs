//! What a [`ServerSession`](super::ServerSession) tells the application.

use mailwire_core::Secret;
use mailwire_core::sasl::Credentials;

use crate::types::{ApopDigest, ApopTimestamp, Uid};

/// One message of the maildrop, as the application lists it when it opens the maildrop
/// ([`ServerSession::open_maildrop`](super::ServerSession::open_maildrop)). The message
/// numbered `n` on the wire is the entry at index `n - 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageInfo {
    /// Its size in octets, as sent: with CRLF line endings, before dot-stuffing (RFC 1939
    /// section 5). `LIST`, `STAT` and the `+OK` of `RETR` show it.
    pub size: u64,
    /// Its unique-id for `UIDL`: it must be the same in every session.
    pub uid: Uid,
}

/// What the application must see or decide, from
/// [`Session::poll_event`](mailwire_core::Session::poll_event).
///
/// Events marked *decision* hold the session (commands pipelined behind them wait,
/// buffered) until the application answers with the verbs named.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// *Decision*: `USER` then `PASS`. Check the password;
    /// [`accept`](super::ServerSession::accept) (then a [`ServerEvent::Maildrop`] follows)
    /// or [`reject`](super::ServerSession::reject) (`-ERR [AUTH] ...` is usual).
    Login {
        /// The name given with `USER`.
        user: String,
        /// The password given with `PASS`.
        password: Secret<String>,
    },
    /// *Decision*: `APOP name digest`. Check it with
    /// [`ApopDigest::verify`](crate::types::ApopDigest::verify) against this session's
    /// `timestamp`; accept or reject as for [`ServerEvent::Login`].
    Apop {
        /// The mailbox name.
        user: String,
        /// The client's digest.
        digest: ApopDigest,
        /// The timestamp this session sent in its greeting.
        timestamp: ApopTimestamp,
    },
    /// *Decision*: `AUTH` (RFC 5034) completed with these credentials. Accept or reject as
    /// for [`ServerEvent::Login`]; for the OAuth mechanisms a rejection first sends the
    /// error challenge the mechanism requires.
    Auth {
        /// What the client claimed.
        credentials: Credentials,
    },
    /// *Decision*: authentication succeeded; open (and lock) `user`'s maildrop. Answer
    /// with [`open_maildrop`](super::ServerSession::open_maildrop) and its listing, or
    /// [`reject`](super::ServerSession::reject) with
    /// [`Response::in_use`](crate::types::Response::in_use) when it is locked. The session
    /// then stays in the AUTHORIZATION state.
    Maildrop {
        /// The authenticated user (for SASL, the authorization identity if one was given).
        user: String,
    },
    /// *Decision*: `RETR` or `TOP` of the message at `index` of the listing (never a
    /// deleted one). Stream the whole message with
    /// [`send_message_chunk`](super::ServerSession::send_message_chunk) and end with
    /// [`finish_message`](super::ServerSession::finish_message), sending pieces while
    /// [`wants_message_chunk`](super::ServerSession::wants_message_chunk) and the rest on
    /// [`ServerEvent::MoreMessageData`] (or all at once, unbounded); for `TOP` the session
    /// cuts the message after the header and `top` body lines itself, and
    /// [`wants_message_data`](super::ServerSession::wants_message_data) turns `false` once
    /// it has enough. [`reject`](super::ServerSession::reject) before the first chunk
    /// sends a `-ERR`.
    Retrieve {
        /// The message, as an index into the listing (the wire number minus one).
        index: usize,
        /// `None` for `RETR`; `Some(n)` for `TOP msg n`.
        top: Option<u32>,
    },
    /// The output of the message being streamed (asked for by [`ServerEvent::Retrieve`])
    /// has drained below
    /// [`max_pending_output`](super::ServerConfig::max_pending_output): send its next
    /// pieces while [`wants_message_chunk`](super::ServerSession::wants_message_chunk),
    /// or [`finish_message`](super::ServerSession::finish_message) at its end (or once
    /// [`wants_message_data`](super::ServerSession::wants_message_data) is `false`). It
    /// comes again only after a piece has been sent, so an application must answer it.
    MoreMessageData {
        /// The message, as for [`ServerEvent::Retrieve`].
        index: usize,
    },
    /// *Decision*: `QUIT` in the TRANSACTION state: remove these messages (indexes into
    /// the listing, ascending; maybe none) and release the maildrop, then
    /// [`accept`](super::ServerSession::accept) (`+OK`) or
    /// [`reject`](super::ServerSession::reject) (`-ERR [SYS/TEMP] ...` if some could not
    /// be removed). Either way the session closes. Deletions are never asked for when the
    /// connection ends any other way.
    Commit {
        /// What to delete, as indexes into the listing.
        deleted: Vec<usize>,
    },
    /// The session is over; nothing follows. A maildrop that was opened must be released
    /// without deleting anything unless a [`ServerEvent::Commit`] was accepted.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Why a session ended ([`ServerEvent::Closed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client said `QUIT`.
    Quit,
    /// The client closed the connection.
    PeerClosed,
    /// The client was idle past [`idle_timeout`](super::ServerConfig::idle_timeout).
    Timeout,
    /// Too many bad commands.
    TooManyErrors,
    /// Too many failed authentications.
    TooManyAuthFailures,
    /// Too many commands in one session.
    TooManyCommands,
    /// The application closed the session ([`shutdown`](super::ServerSession::shutdown),
    /// a rejected message stream), or refused it at the greeting
    /// ([`busy`](super::ServerSession::busy)).
    Shutdown,
}

/// A verb called when no decision of its kind was asked for: the caller misused the API
/// (the session is unchanged).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecisionError {
    /// No event waits for a decision.
    #[error("no decision is pending")]
    NothingPending,
    /// The pending event needs another verb (see [`ServerEvent`]).
    #[error("the pending event needs another verb")]
    WrongVerb,
    /// `accept_with` needs a `+OK` response, `reject` a `-ERR`.
    #[error("the response has the wrong status")]
    WrongStatus,
}
