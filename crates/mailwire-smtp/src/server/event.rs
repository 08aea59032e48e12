//! What a [`ServerSession`](super::ServerSession) tells the application.

use bytes::Bytes;
use mailwire_core::sasl::Credentials;

use crate::types::{ForwardPath, Host, MailParameters, RcptParameters, ReversePath};

/// The greeting verb a client used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeloVerb {
    /// `HELO` (RFC 5321): no extensions.
    Helo,
    /// `EHLO` (RFC 5321): extensions.
    Ehlo,
    /// `LHLO` (RFC 2033, LMTP).
    Lhlo,
}

/// What the application must see or decide, from
/// [`Session::poll_event`](mailwire_core::Session::poll_event).
///
/// Events marked *decision* hold the session until the application calls
/// [`accept`](super::ServerSession::accept), [`accept_with`](super::ServerSession::accept_with)
/// or [`reject`](super::ServerSession::reject); commands the client pipelined behind them
/// wait (buffered, within
/// [`max_pending_input`](super::ServerConfig::max_pending_input)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// *Decision*: the client introduced itself. Accepting sends the `250` (for EHLO and
    /// LHLO with the extensions the config enables). Any open transaction was reset first
    /// (with a [`ServerEvent::Reset`]).
    Helo {
        /// Which verb.
        verb: HeloVerb,
        /// The name (or address literal) the client gave.
        client: Host,
    },
    /// *Decision*: the client authenticated as `credentials` (RFC 4954). Check them;
    /// accepting sends `235 2.7.0`. Rejecting with a `535 5.7.8` is usual; for the OAuth
    /// mechanisms the session first sends the error challenge the mechanism requires.
    Auth {
        /// What the client claimed.
        credentials: Credentials,
    },
    /// *Decision*: `MAIL FROM`. The session has checked sequence, parameters against the
    /// enabled extensions, and the declared size. Accepting sends `250 2.1.0`.
    Mail {
        /// The sender (`<>` for bounces).
        from: ReversePath,
        /// Its parameters.
        params: MailParameters,
    },
    /// *Decision*: `RCPT TO`. Accepting sends `250 2.1.5`; the recipient counts towards
    /// [`max_recipients`](super::ServerConfig::max_recipients).
    Rcpt {
        /// The recipient.
        to: ForwardPath,
        /// Its parameters.
        params: RcptParameters,
    },
    /// The message content starts (after `354`, or with the first `BDAT` chunk). What
    /// follows is [`ServerEvent::Data`] chunks, then [`ServerEvent::DataEnd`] or
    /// [`ServerEvent::DataAborted`].
    DataStart {
        /// Whether the content comes by `BDAT` (not dot-stuffed; possibly binary).
        chunked: bool,
    },
    /// A piece of the message content, un-stuffed, in order. The session never holds the
    /// whole message: write each piece where it belongs.
    Data(Bytes),
    /// *Decision*: the message is complete and passed the session's checks. Store it, then
    /// accept (`250 2.6.0`; say `accept_with` to name a queue id) or reject. In LMTP mode
    /// the decision is asked once per accepted recipient, in `RCPT` order: call a verb
    /// `recipients` times.
    DataEnd {
        /// How many recipients were accepted for this message.
        recipients: usize,
    },
    /// The message will not be accepted: discard everything received since
    /// [`ServerEvent::DataStart`]. The session has answered the client itself.
    DataAborted {
        /// Why.
        reason: AbortReason,
    },
    /// The transaction (sender and recipients) was discarded before its message completed:
    /// `RSET`, a new `EHLO`, or `STARTTLS`.
    Reset,
    /// The session is over; nothing follows. The transport closes after the last bytes.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Why a message was aborted ([`ServerEvent::DataAborted`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AbortReason {
    /// It grew past [`max_message_size`](super::ServerConfig::max_message_size) (`552 5.3.4`).
    TooBig,
    /// It holds a bare CR or bare LF and the config refuses those (`554 5.6.0`).
    BareLineEnding,
    /// It holds a NUL byte and the config refuses those (`554 5.6.0`).
    Nul,
    /// The connection closed, timed out or was shut down before the end of the data.
    ConnectionLost,
}

/// Why a session ended ([`ServerEvent::Closed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client said `QUIT`.
    Quit,
    /// The client closed the connection.
    PeerClosed,
    /// The client was silent past a timeout (`421 4.4.2`).
    Timeout,
    /// Too many bad commands (`421 4.7.0`).
    TooManyErrors,
    /// Too many failed authentications (`421 4.7.0`).
    TooManyAuthFailures,
    /// Too many commands in one session (`421 4.7.0`).
    TooManyCommands,
    /// The application closed the session ([`shutdown`](super::ServerSession::shutdown)
    /// or a `421` reply), or refused it at the greeting
    /// ([`ServerSession::busy`](super::ServerSession::busy)).
    Shutdown,
}

/// A verb called when no decision was asked for, or with the wrong kind of reply: the
/// caller misused the API (the session is unchanged).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecisionError {
    /// No event waits for a decision.
    #[error("no decision is pending")]
    NothingPending,
    /// `accept_with` needs a 2xx reply.
    #[error("an acceptance needs a 2xx reply")]
    NotPositive,
    /// `reject` needs a 4xx or 5xx reply.
    #[error("a rejection needs a 4xx or 5xx reply")]
    NotNegative,
}
