//! [`Envelope`]: the sender and recipients of one message.

use crate::types::{ForwardPath, MailParameters, RcptParameters, ReversePath};

/// One recipient: the `RCPT TO` path and its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Recipient {
    /// The recipient.
    pub to: ForwardPath,
    /// Its parameters (`NOTIFY`, `ORCPT`, others).
    pub params: RcptParameters,
}

impl Recipient {
    /// A recipient without parameters.
    pub fn new(to: ForwardPath) -> Recipient {
        Recipient {
            to,
            params: RcptParameters::default(),
        }
    }
}

impl From<ForwardPath> for Recipient {
    fn from(to: ForwardPath) -> Recipient {
        Recipient::new(to)
    }
}

/// The envelope of one message: `MAIL FROM` and its parameters, and the recipients.
///
/// The client manages some `MAIL` parameters itself (see
/// [`send_mail`](super::ClientSession::send_mail)): `SIZE` is always replaced by the
/// message's size (or dropped when the server does not announce `SIZE`), `SMTPUTF8` is
/// added when an address needs it, and `BODY=8BITMIME` when the message holds 8-bit
/// octets. Set `params.body` to [`BodyType::BinaryMime`](crate::types::BodyType) to send a
/// binary message, and `params.smtputf8` when only the message header (not the envelope)
/// holds UTF-8.
///
/// ```
/// use mailwire_smtp::client::Envelope;
/// use mailwire_smtp::types::{ForwardPath, Mailbox, ReversePath};
///
/// let from = ReversePath::Mailbox(Mailbox::try_from("alice@example.org").unwrap());
/// let to = ForwardPath::Mailbox(Mailbox::try_from("bob@example.com").unwrap());
/// let envelope = Envelope::new(from).to(to);
/// assert_eq!(envelope.recipients.len(), 1);
/// assert!(!envelope.needs_smtputf8());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Envelope {
    /// The sender (`<>` for bounces).
    pub from: ReversePath,
    /// The `MAIL` parameters.
    pub params: MailParameters,
    /// The recipients, in the order `RCPT` is sent.
    pub recipients: Vec<Recipient>,
}

impl Envelope {
    /// An envelope from `from`, without parameters or recipients.
    pub fn new(from: ReversePath) -> Envelope {
        Envelope {
            from,
            params: MailParameters::default(),
            recipients: Vec::new(),
        }
    }

    /// Adds a recipient without parameters.
    #[must_use]
    pub fn to(mut self, to: ForwardPath) -> Envelope {
        self.recipients.push(Recipient::new(to));
        self
    }

    /// Adds a recipient.
    pub fn push(&mut self, recipient: Recipient) {
        self.recipients.push(recipient);
    }

    /// Whether an address or parameter holds non-ASCII text, so that the transaction needs
    /// `SMTPUTF8` (RFC 6531), or `params.smtputf8` is set.
    pub fn needs_smtputf8(&self) -> bool {
        self.params.smtputf8
            || self.from.needs_smtputf8()
            || self.params.needs_smtputf8()
            || self
                .recipients
                .iter()
                .any(|r| r.to.needs_smtputf8() || r.params.needs_smtputf8())
    }

    /// Whether a DSN parameter (RFC 3461) is set: `RET`, `ENVID`, `NOTIFY` or `ORCPT`.
    pub fn uses_dsn(&self) -> bool {
        self.params.ret.is_some()
            || self.params.envid.is_some()
            || self
                .recipients
                .iter()
                .any(|r| r.params.notify.is_some() || r.params.orcpt.is_some())
    }
}
