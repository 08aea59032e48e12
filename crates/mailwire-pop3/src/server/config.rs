//! [`ServerConfig`]: what a POP3 server session offers and the limits it enforces.

use std::time::Duration;

use mailwire_core::sasl::Mechanism;

use crate::types::ExpirePolicy;

/// The settings of a [`ServerSession`](super::ServerSession), shared by all sessions of a
/// server (wrap it in an `Arc`).
///
/// Every limit has a safe default; exceeding one gives the client a clear `-ERR`, never a
/// panic or a silent cut.
///
/// ```
/// use mailwire_core::sasl::Mechanism;
/// use mailwire_pop3::server::ServerConfig;
///
/// let mut config = ServerConfig::new();
/// config.stls = true;
/// config.auth_mechanisms = vec![Mechanism::Plain];
/// assert!(!config.allow_plaintext_auth); // USER/PASS and PLAIN only after STLS
/// assert_eq!(config.max_line_len, 255);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The server's name, in the `QUIT` answer (`+OK <hostname> POP3 server signing
    /// off`). Default `"mailwire"`.
    pub hostname: String,
    /// Text of the `+OK` greeting, before the APOP timestamp. Default
    /// `"POP3 server ready"`.
    pub greeting: String,
    /// Advertised as `IMPLEMENTATION` in `CAPA` when set. Default `None`.
    pub implementation: Option<String>,

    /// The longest command line, CRLF included (RFC 2449 section 4: 255). Longer lines get
    /// `-ERR` and count as a bad command. Default 255.
    pub max_line_len: usize,
    /// The longest argument in characters (RFC 2449: 40). `PASS` is bounded by the line
    /// only. Default 40.
    pub max_arg_len: usize,
    /// Bad commands (unknown, malformed, wrong state) tolerated before `-ERR` and close.
    /// Default 10.
    pub max_errors: u32,
    /// Failed authentications tolerated before `-ERR` and close. Default 3.
    pub max_auth_failures: u32,
    /// Commands accepted in one session before `-ERR` and close. Default 100,000.
    pub max_commands: u32,
    /// Input buffered while the application decides on an event; past it
    /// [`wants_input`](mailwire_core::Session::wants_input) is `false`. Default 64 KiB.
    pub max_pending_input: usize,
    /// Output queued and not yet taken by
    /// [`poll_transmit`](mailwire_core::Session::poll_transmit) past which the session
    /// asks for no more message pieces
    /// ([`wants_message_chunk`](super::ServerSession::wants_message_chunk) is `false`) and
    /// answers no further pipelined command until the driver has taken it. Default 64 KiB.
    pub max_pending_output: usize,
    /// The longest SASL response, decoded. Default 8 KiB.
    pub max_sasl_response: usize,
    /// How long the server waits for the next complete command (RFC 1939 section 3: at
    /// least 10 minutes). Default 10 minutes.
    pub idle_timeout: Duration,

    /// Advertise and accept `STLS` (RFC 2595). Set it only when the transport can do the
    /// handshake. Default `false`.
    pub stls: bool,
    /// Accept `USER`/`PASS`. Default `true`.
    pub user_pass: bool,
    /// Accept `APOP` (only in sessions given a timestamp). APOP never sends the password,
    /// so it is allowed without TLS unless [`require_tls`](Self::require_tls). Default
    /// `true`.
    pub apop: bool,
    /// SASL mechanisms offered with `AUTH` (RFC 5034); empty for none. CRAM-MD5 is offered
    /// only in sessions given an APOP timestamp, which serves as its challenge.
    /// Default empty.
    pub auth_mechanisms: Vec<Mechanism>,
    /// Allow `USER`/`PASS`, and SASL mechanisms that send a password or token readable on
    /// the wire (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER), without TLS. Default `false`: they
    /// get `-ERR [AUTH]` and are not advertised before TLS.
    pub allow_plaintext_auth: bool,
    /// Refuse every authentication command before TLS. Default `false`.
    pub require_tls: bool,
    /// Advertise `PIPELINING` (RFC 2449). Commands are answered in order either way.
    /// Default `true`.
    pub pipelining: bool,
    /// Advertise and accept `UTF8` (RFC 6856). Default `false`.
    pub utf8: bool,
    /// Advertise `EXPIRE` (RFC 2449 section 6.7): how long the server keeps messages
    /// after a client has retrieved them; [`ExpirePolicy::Never`] for a server that
    /// never deletes on its own. Default `None`: not advertised.
    pub expire: Option<ExpirePolicy>,
    /// Advertise `LOGIN-DELAY` seconds (RFC 2449 section 6.5), the least time between
    /// logins. Enforcing it is the application's: refuse the login with
    /// [`ResponseCode::LoginDelay`](crate::types::ResponseCode::LoginDelay). Default
    /// `None`: not advertised.
    pub login_delay: Option<u32>,
    /// Advertise and accept `LANG` (RFC 6856). Responses are in English only: `LANG`
    /// lists `en`, `LANG en` and `LANG *` succeed, other languages get `-ERR` and the
    /// language stays English. Default `false`.
    pub lang: bool,
}

impl ServerConfig {
    /// The defaults documented on each field.
    pub fn new() -> ServerConfig {
        ServerConfig {
            hostname: String::from("mailwire"),
            greeting: String::from("POP3 server ready"),
            implementation: None,
            max_line_len: 255,
            max_arg_len: 40,
            max_errors: 10,
            max_auth_failures: 3,
            max_commands: 100_000,
            max_pending_input: 64 * 1024,
            max_pending_output: 64 * 1024,
            max_sasl_response: mailwire_core::sasl::DEFAULT_MAX_RESPONSE_LEN,
            idle_timeout: Duration::from_secs(10 * 60),
            stls: false,
            user_pass: true,
            apop: true,
            auth_mechanisms: Vec::new(),
            allow_plaintext_auth: false,
            require_tls: false,
            pipelining: true,
            utf8: false,
            expire: None,
            login_delay: None,
            lang: false,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig::new()
    }
}
