//! What a [`ClientSession`](super::ClientSession) tells the application, and its errors.

use std::fmt;

use mailwire_core::sasl::{Mechanism, SaslError};

use crate::parse::ReplyError;
use crate::types::{Capabilities, EhloError, Reply};

/// Names one message given to [`send_mail`](super::ClientSession::send_mail). Ids are
/// handed out in increasing order, starting at 1, within a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransactionId(pub(crate) u64);

impl TransactionId {
    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What the application must see, from [`Session::poll_event`](mailwire_core::Session::poll_event).
///
/// Every message given to [`send_mail`](super::ClientSession::send_mail) ends with exactly
/// one [`ClientEvent::Delivered`] or [`ClientEvent::Failed`], and every session ends with
/// exactly one [`ClientEvent::Closed`], the last event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The server greeted the client (`220`).
    Greeting(Reply),
    /// The session is ready for mail: `EHLO` (or `HELO`, `LHLO`), `STARTTLS` and `AUTH`
    /// are done. The capabilities are the server's last answer (empty after `HELO`).
    Ready {
        /// What the server offers.
        capabilities: Capabilities,
        /// Whether the connection is encrypted (implicit TLS or `STARTTLS`).
        encrypted: bool,
        /// The SASL mechanism the client authenticated with, if it did.
        authenticated: Option<Mechanism>,
    },
    /// The server answered a `RCPT`. Sent only when `MAIL` was accepted.
    Recipient {
        /// The message.
        id: TransactionId,
        /// The recipient's position in [`Envelope::recipients`](super::Envelope::recipients).
        index: usize,
        /// Whether the server accepted the recipient (a `2xx` reply).
        accepted: bool,
        /// The server's reply.
        reply: Reply,
    },
    /// LMTP only: the server's reply for one accepted recipient after the end of the
    /// message (RFC 2033), in `RCPT` order.
    RecipientDelivery {
        /// The message.
        id: TransactionId,
        /// The recipient's position in [`Envelope::recipients`](super::Envelope::recipients).
        index: usize,
        /// Whether the message was delivered to this recipient (a `2xx` reply).
        delivered: bool,
        /// The server's reply.
        reply: Reply,
    },
    /// The server took the message. With SMTP, `reply` is the reply to the end of the
    /// message, and the message goes to the recipients accepted in
    /// [`ClientEvent::Recipient`]. With LMTP, at least one recipient's
    /// [`ClientEvent::RecipientDelivery`] was positive, and `reply` is the first such.
    Delivered {
        /// The message.
        id: TransactionId,
        /// The server's reply.
        reply: Reply,
    },
    /// The message was not delivered to anyone.
    Failed {
        /// The message.
        id: TransactionId,
        /// Where and why.
        failure: MessageFailure,
    },
    /// The session is over; nothing follows. `error` is `None` after `QUIT`.
    Closed {
        /// What ended the session, unless it ended normally.
        error: Option<ClientError>,
    },
}

/// Why a message was not delivered, and at which stage.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageFailure {
    /// Refused by the client before anything was sent for it.
    Local(LocalRefusal),
    /// The server refused `MAIL`.
    Mail(Reply),
    /// The server refused every recipient; the reply is the last refusal (each is in a
    /// [`ClientEvent::Recipient`]). No content was sent (or, when pipelining `BDAT`, at
    /// most the first chunk, which the server discards).
    AllRecipientsRefused(Reply),
    /// The server refused `DATA`, or a `BDAT` chunk before the last.
    Data(Reply),
    /// The server refused the message after its end (`.` or `BDAT ... LAST`). With LMTP,
    /// every accepted recipient's reply was negative; this is the last one.
    Final(Reply),
    /// The session ended before the message was done (see [`ClientEvent::Closed`]). The
    /// server may or may not have taken it if the session ended while waiting for the
    /// final reply.
    SessionEnded,
}

impl MessageFailure {
    /// The server's reply, when the failure is one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            MessageFailure::Mail(r)
            | MessageFailure::AllRecipientsRefused(r)
            | MessageFailure::Data(r)
            | MessageFailure::Final(r) => Some(r),
            MessageFailure::Local(_) | MessageFailure::SessionEnded => None,
        }
    }

    /// Whether trying again later may succeed: a `4xx` reply, or a session that ended.
    /// Local refusals and `5xx` replies are permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            MessageFailure::SessionEnded => true,
            MessageFailure::Local(_) => false,
            other => other.reply().is_some_and(Reply::is_transient),
        }
    }
}

/// Why the client refused a message itself, before sending anything for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalRefusal {
    /// The message is larger than the limit the server announced with `SIZE` (RFC 1870).
    #[error("message of {size} octets exceeds the server's limit of {limit}")]
    TooLarge {
        /// The message size, as declared in `SIZE=`.
        size: u64,
        /// The server's limit.
        limit: u64,
    },
    /// The message needs an extension the server did not announce (or, for `CHUNKING`,
    /// that the configuration disables): `SMTPUTF8` for non-ASCII addresses,
    /// `BINARYMIME` and `CHUNKING` for `BODY=BINARYMIME`, `8BITMIME` for an explicit
    /// `BODY=8BITMIME`, `DSN` for `RET`/`ENVID`/`NOTIFY`/`ORCPT`, `REQUIRETLS`, `AUTH`
    /// for `AUTH=`.
    #[error("the server does not offer {0}")]
    NotOffered(&'static str),
}

/// Why a session ended abnormally ([`ClientEvent::Closed`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server's greeting was not `220` (usually `554`: no service).
    #[error("greeting refused: {0}")]
    GreetingRefused(Reply),
    /// The server said `421`: it is closing the connection.
    #[error("service closing: {0}")]
    ServiceClosing(Reply),
    /// The server refused `EHLO` / `HELO` / `LHLO`.
    #[error("hello refused: {0}")]
    HelloRefused(Reply),
    /// The `EHLO` reply could not be read.
    #[error("malformed EHLO reply: {0}")]
    MalformedEhlo(EhloError),
    /// [`TlsPolicy::Required`](super::TlsPolicy::Required), and the server does not
    /// offer `STARTTLS`.
    #[error("the server does not offer STARTTLS")]
    TlsNotOffered,
    /// [`TlsPolicy::Required`](super::TlsPolicy::Required), and the server refused
    /// `STARTTLS`.
    #[error("STARTTLS refused: {0}")]
    TlsRefused(Reply),
    /// Credentials are configured, but the server offers no mechanism they can be used
    /// with on this connection (none at all, or only ones that would expose the password
    /// or token without TLS).
    #[error("no usable authentication mechanism")]
    AuthUnavailable,
    /// The configured credentials cannot be used with the chosen mechanism (an empty
    /// password, a NUL, a token with spaces...).
    #[error("unusable credentials: {0}")]
    Credentials(SaslError),
    /// The server refused the authentication.
    #[error("authentication failed: {0}")]
    AuthFailed(Reply),
    /// The server sent something that is not a valid reply.
    #[error("malformed reply: {0}")]
    MalformedReply(ReplyError),
    /// The server sent a reply that makes no sense here (one with no command waiting for
    /// it, or an intermediate `3xx` to a command that takes none).
    #[error("unexpected reply: {0}")]
    UnexpectedReply(Reply),
    /// The server did not answer in time (RFC 5321 4.5.3.2).
    #[error("timed out {0}")]
    Timeout(TimeoutStage),
    /// The server closed the connection before `QUIT` was answered.
    #[error("connection closed by the server")]
    ConnectionClosed,
}

/// What the client was waiting for when it timed out ([`ClientError::Timeout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutStage {
    /// The greeting.
    Greeting,
    /// The reply to `MAIL`.
    Mail,
    /// The reply to `RCPT`.
    Rcpt,
    /// The reply to `DATA`.
    DataInit,
    /// Progress while sending content, or the reply to a `BDAT` chunk.
    DataBlock,
    /// The reply after the end of the message.
    DataFinal,
    /// The reply to another command.
    Command,
}

impl fmt::Display for TimeoutStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutStage::Greeting => "waiting for the greeting",
            TimeoutStage::Mail => "waiting for the MAIL reply",
            TimeoutStage::Rcpt => "waiting for a RCPT reply",
            TimeoutStage::DataInit => "waiting for the DATA reply",
            TimeoutStage::DataBlock => "sending the message",
            TimeoutStage::DataFinal => "waiting for the final reply",
            TimeoutStage::Command => "waiting for a reply",
        })
    }
}

/// A verb was called when it cannot be honoured: the caller misused the API (the session
/// is unchanged).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientApiError {
    /// The envelope has no recipient.
    #[error("the envelope has no recipient")]
    NoRecipients,
    /// [`quit`](super::ClientSession::quit) was called, or the session is closed.
    #[error("the session is closing")]
    Closing,
}
