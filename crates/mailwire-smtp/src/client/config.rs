//! [`ClientConfig`]: what a client session asks for, and how long it waits.

use std::time::Duration;

use mailwire_core::sasl::{ClientCredentials, DEFAULT_MAX_RESPONSE_LEN};

use crate::parse::ReplyLimits;
use crate::types::Host;

/// When the client uses TLS (RFC 3207).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TlsPolicy {
    /// Never send `STARTTLS`, even when offered.
    Never,
    /// Send `STARTTLS` when the server offers it, carry on in the clear when it does not
    /// (or when it refuses the command). The default. This protects against passive
    /// eavesdroppers only: an active attacker can remove the offer.
    #[default]
    Opportunistic,
    /// Send `STARTTLS`; end the session (before any `AUTH` or `MAIL`) when the server does
    /// not offer it or refuses it.
    Required,
    /// The connection is already encrypted (SMTPS, port 465, RFC 8314): never send
    /// `STARTTLS`, and treat the transport as encrypted for `AUTH`.
    Implicit,
}

/// How long the client waits, per RFC 5321 section 4.5.3.2. Every default is the RFC's;
/// start from [`Timeouts::default`] and change the fields you need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Timeouts {
    /// Waiting for the `220` greeting. Default 5 minutes (4.5.3.2.1).
    pub greeting: Duration,
    /// Waiting for the reply to `MAIL`. Default 5 minutes (4.5.3.2.2).
    pub mail: Duration,
    /// Waiting for the reply to each `RCPT`. Default 5 minutes (4.5.3.2.3).
    pub rcpt: Duration,
    /// Waiting for the `354` reply to `DATA`. Default 2 minutes (4.5.3.2.4).
    pub data_init: Duration,
    /// Without progress while sending the message content, and waiting for the reply to a
    /// `BDAT` chunk that is not the last. Default 3 minutes (4.5.3.2.5).
    pub data_block: Duration,
    /// Waiting for the reply after the end of the message (`.` or `BDAT ... LAST`).
    /// Default 10 minutes (4.5.3.2.6).
    pub data_final: Duration,
    /// Waiting for the reply to any other command (`EHLO`, `HELO`, `LHLO`, `STARTTLS`,
    /// `AUTH` and its responses, `RSET`, `QUIT`). RFC 5321 names none; default 5 minutes,
    /// like `MAIL`.
    pub command: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        const MINUTE: u64 = 60;
        Timeouts {
            greeting: Duration::from_secs(5 * MINUTE),
            mail: Duration::from_secs(5 * MINUTE),
            rcpt: Duration::from_secs(5 * MINUTE),
            data_init: Duration::from_secs(2 * MINUTE),
            data_block: Duration::from_secs(3 * MINUTE),
            data_final: Duration::from_secs(10 * MINUTE),
            command: Duration::from_secs(5 * MINUTE),
        }
    }
}

/// The settings of a [`ClientSession`](super::ClientSession). No clock, no I/O: only what
/// to ask for and how long to wait.
///
/// ```
/// use mailwire_core::sasl::ClientCredentials;
/// use mailwire_smtp::client::{ClientConfig, TlsPolicy};
/// use mailwire_smtp::types::Host;
///
/// let mut config = ClientConfig::new(Host::try_from("client.example.org").unwrap());
/// config.tls = TlsPolicy::Required;
/// config.credentials = Some(ClientCredentials::password("tim", "tanstaaf".to_string()));
/// assert!(!config.allow_plaintext_auth);
/// assert_eq!(config.chunk_size, 64 * 1024);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The name the client gives in `EHLO` / `HELO` / `LHLO`.
    pub hostname: Host,
    /// Speak LMTP (RFC 2033): `LHLO` instead of `EHLO` (no `HELO` fallback), and after the
    /// message one reply per accepted recipient. Default `false`.
    pub lmtp: bool,
    /// When to use `STARTTLS`. Default [`TlsPolicy::Opportunistic`].
    pub tls: TlsPolicy,
    /// Authenticate with these credentials after `EHLO` (and `STARTTLS`), using the best
    /// mechanism the server offers ([`mailwire_core::sasl::choose_mechanism`]). The session
    /// fails if none fits. Default `None`: no `AUTH`.
    pub credentials: Option<ClientCredentials>,
    /// Allow mechanisms that send the password or token readable on the wire (PLAIN,
    /// LOGIN, XOAUTH2, OAUTHBEARER) without TLS. Default `false`: without TLS only
    /// CRAM-MD5 may be used.
    pub allow_plaintext_auth: bool,
    /// Pipeline commands (RFC 2920) when the server offers `PIPELINING`. Without the offer
    /// the client never has more than one command outstanding. Default `true`.
    pub pipelining: bool,
    /// Send the message with `BDAT` (RFC 3030) when the server offers `CHUNKING`. Default
    /// `true`. `BODY=BINARYMIME` always uses `BDAT` and needs this.
    pub chunking: bool,
    /// The size of each `BDAT` chunk, in octets of the message as given (CRLF
    /// normalisation may make a chunk on the wire up to twice as long, and a chunk is
    /// never cut between CR and LF). Default 64 KiB.
    /// A value of 0 is treated as 1.
    pub chunk_size: usize,
    /// How much of the message is dot-stuffed per [`poll_transmit`] during `DATA`, in
    /// octets of the message as given. Default 64 KiB. A value of 0 is treated as 1.
    ///
    /// [`poll_transmit`]: mailwire_core::Session::poll_transmit
    pub data_piece_size: usize,
    /// Limits on the replies the client reads. Default [`ReplyLimits::default`].
    pub reply_limits: ReplyLimits,
    /// The longest SASL challenge accepted, decoded. Default 8 KiB.
    pub max_sasl_challenge: usize,
    /// How long to wait for each reply.
    pub timeouts: Timeouts,
}

impl ClientConfig {
    /// The defaults documented on each field, for a client called `hostname`.
    pub fn new(hostname: Host) -> ClientConfig {
        ClientConfig {
            hostname,
            lmtp: false,
            tls: TlsPolicy::default(),
            credentials: None,
            allow_plaintext_auth: false,
            pipelining: true,
            chunking: true,
            chunk_size: 64 * 1024,
            data_piece_size: 64 * 1024,
            reply_limits: ReplyLimits::default(),
            max_sasl_challenge: DEFAULT_MAX_RESPONSE_LEN,
            timeouts: Timeouts::default(),
        }
    }

    /// The same settings for LMTP (RFC 2033).
    pub fn lmtp(hostname: Host) -> ClientConfig {
        ClientConfig {
            lmtp: true,
            ..ClientConfig::new(hostname)
        }
    }
}
