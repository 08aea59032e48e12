//! [`ServerConfig`]: what a server session offers and the limits it enforces.

use std::time::Duration;

use mailwire_core::dot::BareLineEndings;
use mailwire_core::sasl::Mechanism;

use crate::types::EhloDomain;

/// The settings of a [`ServerSession`](super::ServerSession), shared by all sessions of a
/// server (wrap it in an `Arc`).
///
/// Every limit has a safe default; exceeding one gives the client a clear reply, never a
/// panic or a silent cut. Build it from [`ServerConfig::new`] and change the fields you
/// need:
///
/// ```
/// use mailwire_core::sasl::Mechanism;
/// use mailwire_smtp::server::ServerConfig;
/// use mailwire_smtp::types::EhloDomain;
///
/// let mut config = ServerConfig::new(EhloDomain::new("mx.example.org").unwrap());
/// config.max_message_size = Some(10 * 1024 * 1024);
/// config.starttls = true;
/// config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
/// assert!(!config.allow_plaintext_auth); // PLAIN/LOGIN only after STARTTLS
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The name the server gives for itself in the greeting and the EHLO reply.
    pub hostname: EhloDomain,
    /// Free text after the hostname in the `220` greeting. Default `"ESMTP mailwire"`.
    pub banner: String,
    /// Speak LMTP (RFC 2033): `LHLO` instead of `HELO`/`EHLO`, and after the message one
    /// reply per accepted recipient. Default `false`.
    pub lmtp: bool,

    /// The longest command line, CRLF not counted. Over-long lines get `500 5.5.2` and the
    /// session goes on. Default 4094 (RFC 5321's 512 is too small for ESMTP parameters and
    /// RFC 4954 initial responses; Postfix uses 2048).
    pub max_line_len: usize,
    /// The largest message accepted, in octets (advertised as `SIZE`); `None` for no
    /// limit. Checked both when declared (`MAIL ... SIZE=`) and as data arrives: `552
    /// 5.3.4`. Default 50 MiB.
    pub max_message_size: Option<u64>,
    /// The most recipients in one transaction; more get `452 4.5.3`. Default 100 (RFC 5321
    /// 4.5.3.1.8 asks for at least 100).
    pub max_recipients: usize,
    /// Bad commands (unknown, bad syntax, bad sequence) tolerated before the server
    /// answers `421 4.7.0` and closes. Default 10.
    pub max_errors: u32,
    /// Failed authentications tolerated before `421` and close. Default 3.
    pub max_auth_failures: u32,
    /// Commands accepted in one session before `421` and close. Default 10,000.
    pub max_commands: u32,
    /// Input buffered while the application has not yet decided on an event (pipelined
    /// commands behind a `RCPT`, say). Past it, [`wants_input`] turns `false` so that the
    /// driver stops reading. Default 256 KiB.
    ///
    /// [`wants_input`]: mailwire_core::Session::wants_input
    pub max_pending_input: usize,
    /// The longest SASL response, decoded. Default 8 KiB.
    pub max_sasl_response: usize,

    /// How long the server waits for the next complete command (RFC 5321 4.5.3.2.7: at
    /// least 5 minutes). A client dripping bytes does not extend it: the clock restarts
    /// only when a command is complete. Default 5 minutes.
    pub command_timeout: Duration,
    /// How long the server waits for more message data during `DATA` or `BDAT` (restarts
    /// with every byte received). Default 5 minutes.
    pub data_timeout: Duration,
    /// The slowest message data accepted, in octets per second, averaged from the start of
    /// `DATA` (or of a `BDAT` chunk) after a grace of `data_timeout`: a client dripping
    /// data more slowly is cut off with `421 4.4.2`. 0 turns the check off. Default 512
    /// (Postfix's `smtpd_min_data_rate` is 500).
    pub min_data_rate: u32,

    /// Advertise and accept `PIPELINING` (RFC 2920). Default `true`.
    pub pipelining: bool,
    /// Advertise and accept `8BITMIME` (RFC 6152). Default `true`.
    pub eight_bit_mime: bool,
    /// Advertise and accept `SMTPUTF8` (RFC 6531). Default `true`.
    pub smtputf8: bool,
    /// Advertise and accept `CHUNKING` / `BDAT` (RFC 3030). Default `true`.
    pub chunking: bool,
    /// Advertise and accept `BINARYMIME` (RFC 3030; needs `chunking`). Default `true`.
    pub binary_mime: bool,
    /// Advertise and accept `DSN` parameters (RFC 3461). Default `true`.
    pub dsn: bool,
    /// Advertise `ENHANCEDSTATUSCODES` and put RFC 3463 codes in replies (RFC 2034).
    /// Default `true`.
    pub enhanced_status_codes: bool,
    /// Advertise and accept `STARTTLS` (RFC 3207). Set it only when the transport can do
    /// the handshake. Default `false`.
    pub starttls: bool,
    /// The SASL mechanisms offered with `AUTH` (RFC 4954); empty for no AUTH. Default
    /// empty. CRAM-MD5 is offered only to sessions given a challenge seed with
    /// [`ServerSession::set_cram_md5_seed`](super::ServerSession::set_cram_md5_seed).
    pub auth_mechanisms: Vec<Mechanism>,
    /// Allow PLAIN and LOGIN on a connection without TLS. Default `false`: such an `AUTH`
    /// gets `538 5.7.11`, and the mechanisms are not advertised before TLS.
    pub allow_plaintext_auth: bool,
    /// Refuse `MAIL` from unauthenticated sessions with `530 5.7.0` (a submission
    /// server). Default `false`.
    pub require_auth: bool,
    /// Refuse `MAIL` and `AUTH` before TLS with `530 5.7.0`. Default `false`.
    pub require_tls: bool,
    /// What to do with a bare CR or bare LF in `DATA`: refuse the message after its end
    /// with `554 5.6.0` (default; the SMTP smuggling defence), or turn it into CRLF.
    pub bare_line_endings: BareLineEndings,
    /// Refuse a `DATA` message that holds a NUL byte (`554 5.6.0`). Default `true`.
    pub reject_nul: bool,
}

impl ServerConfig {
    /// The defaults documented on each field, for a server called `hostname`.
    pub fn new(hostname: EhloDomain) -> ServerConfig {
        ServerConfig {
            hostname,
            banner: String::from("ESMTP mailwire"),
            lmtp: false,
            max_line_len: 4094,
            max_message_size: Some(50 * 1024 * 1024),
            max_recipients: 100,
            max_errors: 10,
            max_auth_failures: 3,
            max_commands: 10_000,
            max_pending_input: 256 * 1024,
            max_sasl_response: mailwire_core::sasl::DEFAULT_MAX_RESPONSE_LEN,
            command_timeout: Duration::from_secs(5 * 60),
            data_timeout: Duration::from_secs(5 * 60),
            min_data_rate: 512,
            pipelining: true,
            eight_bit_mime: true,
            smtputf8: true,
            chunking: true,
            binary_mime: true,
            dsn: true,
            enhanced_status_codes: true,
            starttls: false,
            auth_mechanisms: Vec::new(),
            allow_plaintext_auth: false,
            require_auth: false,
            require_tls: false,
            bare_line_endings: BareLineEndings::Reject,
            reject_nul: true,
        }
    }

    /// The same settings for LMTP (RFC 2033).
    pub fn lmtp(hostname: EhloDomain) -> ServerConfig {
        ServerConfig {
            lmtp: true,
            ..ServerConfig::new(hostname)
        }
    }
}
