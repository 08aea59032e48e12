//! The SMTP / LMTP server state machine: [`ServerSession`].
//!
//! ## Driving it
//!
//! A [`ServerSession`] implements [`mailwire_core::Session`]: feed it what the client
//! sends, drain [`poll_event`](Session::poll_event) and
//! [`poll_transmit`](Session::poll_transmit) until both are empty, and call
//! [`handle_timeout`](Session::handle_timeout) when [`poll_timeout`](Session::poll_timeout)
//! says. Events marked *decision* in [`ServerEvent`] wait for
//! [`accept`](ServerSession::accept) or [`reject`](ServerSession::reject).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use mailwire_core::{Session, Transmit};
//! use mailwire_smtp::server::{ServerConfig, ServerEvent, ServerSession};
//! use mailwire_smtp::types::{EhloDomain, ForwardPath, Reply};
//!
//! let config = Arc::new(ServerConfig::new(EhloDomain::new("mx.example.org").unwrap()));
//! let now = Instant::now();
//! let mut session = ServerSession::new(config, now);
//! session.handle_input(
//!     b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<nobody@example.org>\r\n\
//!       RCPT TO:<b@example.org>\r\nDATA\r\nHello\r\n..dot\r\n.\r\nQUIT\r\n",
//!     now,
//! );
//! let mut message = Vec::new();
//! let mut wire = Vec::new();
//! loop {
//!     let mut busy = false;
//!     while let Some(event) = session.poll_event() {
//!         busy = true;
//!         match event {
//!             ServerEvent::Rcpt { to: ForwardPath::Mailbox(mailbox), .. }
//!                 if mailbox.local_part.as_str() == "nobody" =>
//!             {
//!                 session.reject(Reply::no_such_user()).unwrap()
//!             }
//!             ServerEvent::Data(chunk) => message.extend_from_slice(&chunk),
//!             ServerEvent::Helo { .. } | ServerEvent::Mail { .. } | ServerEvent::Rcpt { .. }
//!             | ServerEvent::DataEnd { .. } => session.accept().unwrap(),
//!             _ => {}
//!         }
//!     }
//!     while let Some(transmit) = session.poll_transmit() {
//!         busy = true;
//!         if let Transmit::Data(bytes) = transmit {
//!             wire.extend_from_slice(&bytes);
//!         }
//!     }
//!     if !busy {
//!         break;
//!     }
//! }
//! assert_eq!(message, b"Hello\r\n.dot\r\n");
//! let wire = String::from_utf8(wire).unwrap();
//! assert!(wire.starts_with("220 mx.example.org ESMTP"));
//! assert!(wire.contains("550 5.1.1 No such user\r\n"));
//! assert!(wire.contains("354 "));
//! assert!(wire.contains("250 2.6.0 Message accepted\r\n221 2.0.0 "));
//! assert!(session.is_closed());
//! ```
//!
//! ## What the session enforces
//!
//! - Command sequence (RFC 5321 4.1.4): `503 5.5.1` for a command out of order.
//! - Pipelining (RFC 2920): commands are answered in order; replies to everything the
//!   client sent in one go leave in one write, so a driver that drains after each input
//!   flushes "when the input is drained".
//! - `DATA` ends only at CRLF.CRLF; bare CR / bare LF and NUL are refused by default after
//!   the end of the data (the SMTP smuggling defence); the content reaches the application
//!   un-stuffed, in pieces, never whole.
//! - `BDAT` chunks are read by count, not un-stuffed.
//! - `SIZE` is checked when declared and as data arrives (`552 5.3.4`); over-long command
//!   lines get `500 5.5.2`; too many recipients `452 4.5.3`; the session goes on.
//! - `STARTTLS` discards every byte buffered before the handshake and every fact learned
//!   before it (RFC 3207 4.2).
//! - `AUTH` uses [`mailwire_core::sasl`]; PLAIN and LOGIN need TLS unless
//!   [`allow_plaintext_auth`](ServerConfig::allow_plaintext_auth) (`538 5.7.11`).
//! - Timeouts, and budgets for bad commands, failed authentications and commands, after
//!   which the session answers `421` and closes.

mod config;
mod event;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use mailwire_core::dot::DotDecoder;
use mailwire_core::line::{LineBuffer, LineError, find_crlf};
use mailwire_core::sasl::{
    self, Mechanism, OAuthError, Response, SaslError, ServerExchange, ServerOptions, Step,
};
use mailwire_core::session::Outbox;
use mailwire_core::{Session, Transmit};

pub use config::ServerConfig;
pub use event::{AbortReason, CloseReason, DecisionError, HeloVerb, ServerEvent};

use crate::encode::write_decimal;
use crate::parse::{CommandError, CommandParseOptions, parse_command_line_ref};
use crate::types::{
    BodyType, Capability, CommandRef, ForwardPath, Host, MailParameters, RcptParameters, Reply,
    ReplyText, ReversePath,
};

/// One SMTP or LMTP server session: the state machine for one client connection.
///
/// See the [module documentation](self) for the driving loop and what it enforces. The
/// session never reads a clock: every input carries `now`.
#[derive(Debug)]
pub struct ServerSession {
    config: Arc<ServerConfig>,
    parse_options: CommandParseOptions,
    lines: LineBuffer,
    phase: Phase,
    pending: Option<Pending>,
    events: VecDeque<ServerEvent>,
    /// Replies not yet handed to `poll_transmit`.
    outbox: Outbox,
    helo: Option<HeloVerb>,
    client: Option<Host>,
    tls: bool,
    user: Option<String>,
    transaction: Option<Transaction>,
    cram_md5_seed: Option<(u64, u64)>,
    cram_md5_count: u64,
    errors: u32,
    auth_failures: u32,
    commands: u32,
    deadline: Option<Instant>,
    /// When the current DATA or BDAT chunk started, and how many octets it has had: the
    /// minimum data rate is measured from there.
    data_phase: (Instant, u64),
    now: Instant,
    eof: bool,
    closed: bool,
}

/// What the session is reading.
#[derive(Debug)]
enum Phase {
    /// Command lines.
    Command,
    /// SASL responses, one per line.
    Auth(AuthState),
    /// `DATA` content, up to CRLF.CRLF.
    Data(DotDecoder),
    /// A `BDAT` chunk: `remaining` octets still to come. `refusal`: the chunk is read and
    /// dropped, then this reply is sent.
    Bdat {
        remaining: u64,
        last: bool,
        size: u64,
        refusal: Option<Reply>,
    },
}

#[derive(Debug)]
struct AuthState {
    exchange: ServerExchange,
    /// Set once the application has rejected OAuth credentials: the reply to send after
    /// the client acknowledges the error challenge.
    rejection: Option<Reply>,
}

/// The event waiting for the application's decision.
#[derive(Debug)]
enum Pending {
    Helo(HeloVerb, Host),
    Auth(Box<PendingAuth>),
    /// What the transaction keeps of the MAIL parameters (the event has them all).
    Mail {
        body: Option<BodyType>,
        smtputf8: bool,
    },
    Rcpt,
    /// LMTP asks `remaining` more times; SMTP once.
    Message {
        remaining: usize,
    },
}

/// The open mail transaction.
#[derive(Debug, Default)]
struct Transaction {
    body: Option<BodyType>,
    smtputf8: bool,
    recipients: usize,
    /// Content has started (`DATA` or a first `BDAT`).
    started: bool,
    /// Octets of content received by BDAT so far.
    chunked_size: u64,
    /// The content was refused partway: later chunks are read and dropped.
    aborted: bool,
}

impl ServerSession {
    /// A new session for a plaintext connection: queues the `220` greeting.
    pub fn new(config: Arc<ServerConfig>, now: Instant) -> ServerSession {
        ServerSession::with_tls(config, now, false)
    }

    /// A new session on a connection that is already encrypted (implicit TLS, port 465):
    /// STARTTLS is not offered, and the session counts as encrypted for AUTH.
    pub fn new_tls(config: Arc<ServerConfig>, now: Instant) -> ServerSession {
        ServerSession::with_tls(config, now, true)
    }

    /// A session that refuses service: it sends `421 4.3.2 Service not available`, then
    /// closes. For a server at its connection limit, or shutting down.
    pub fn busy(config: Arc<ServerConfig>, now: Instant) -> ServerSession {
        let mut session = ServerSession::blank(config, now, false, Outbox::new(), None);
        let host = session.config.hostname.as_str().to_owned();
        let reply = Reply::with_enhanced(
            421,
            (4, 3, 2),
            &format!("{host} Service not available, closing transmission channel"),
        )
        .unwrap_or_else(|_| Reply::service_not_available());
        session.send(reply);
        session.close(CloseReason::Shutdown);
        session
    }

    fn with_tls(config: Arc<ServerConfig>, now: Instant, tls: bool) -> ServerSession {
        // The greeting is written and the deadline set before the session is built, so
        // that it is built where it is returned rather than built and then moved.
        let mut outbox = Outbox::new();
        let tail = if config.lmtp {
            "LMTP"
        } else {
            config.banner.as_str()
        };
        if ReplyText::check(tail).is_ok() {
            // `220 hostname banner`: the hostname is an `EhloDomain` (no CR, LF or
            // anything that reads as an enhanced code) and the banner has no line break,
            // so this is the encoding of `Reply::new(220, "hostname banner")`, written
            // without building the reply.
            let out = outbox.buf();
            out.reserve(OUTBOX_CAPACITY);
            out.extend_from_slice(b"220 ");
            out.extend_from_slice(config.hostname.as_str().as_bytes());
            out.push(b' ');
            out.extend_from_slice(tail.as_bytes());
            out.extend_from_slice(b"\r\n");
        } else {
            // What `send_raw` writes.
            let out = outbox.buf();
            out.reserve(OUTBOX_CAPACITY);
            Reply::service_ready(&config.hostname).encode(out);
        }
        let deadline = Some(now + config.command_timeout);
        ServerSession::blank(config, now, tls, outbox, deadline)
    }

    fn blank(
        config: Arc<ServerConfig>,
        now: Instant,
        tls: bool,
        outbox: Outbox,
        deadline: Option<Instant>,
    ) -> ServerSession {
        let parse_options = CommandParseOptions {
            max_line_len: config.max_line_len.saturating_add(2),
            smtputf8: config.smtputf8,
            ..CommandParseOptions::default()
        };
        ServerSession {
            // Room for a pipelined group of commands (MAIL, RCPTs, DATA) at once.
            lines: LineBuffer::with_capacity(config.max_line_len, 512),
            parse_options,
            config,
            phase: Phase::Command,
            pending: None,
            events: VecDeque::new(),
            outbox,
            helo: None,
            client: None,
            tls,
            user: None,
            transaction: None,
            cram_md5_seed: None,
            cram_md5_count: 0,
            errors: 0,
            auth_failures: 0,
            commands: 0,
            deadline,
            data_phase: (now, 0),
            now,
            eof: false,
            closed: false,
        }
    }

    /// Makes CRAM-MD5 available in this session (if the config lists it): the challenge is
    /// `<random.timestamp@hostname>`, so give a fresh unpredictable `random` and the
    /// current time; this crate has neither randomness nor a clock.
    pub fn set_cram_md5_seed(&mut self, random: u64, timestamp: u64) {
        self.cram_md5_seed = Some((random, timestamp));
    }

    /// The settings of this session.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Whether the connection is encrypted (implicit TLS, or after STARTTLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The name the client authenticated as, once the application accepted its AUTH.
    pub fn authenticated_user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The name the client gave in its accepted HELO, EHLO or LHLO.
    pub fn client_name(&self) -> Option<&Host> {
        self.client.as_ref()
    }

    /// The greeting verb the client used, once accepted.
    pub fn helo_verb(&self) -> Option<HeloVerb> {
        self.helo
    }

    /// Whether an event waits for [`accept`](Self::accept) or [`reject`](Self::reject).
    pub fn is_decision_pending(&self) -> bool {
        self.pending.is_some()
    }

    // ----------------------------------------------------------------------------------
    // The application's decisions.

    /// Accepts what the pending *decision* event asked about, with the usual reply:
    /// `250` (EHLO: the extension list), `235 2.7.0`, `250 2.1.0`, `250 2.1.5` or
    /// `250 2.6.0`.
    pub fn accept(&mut self) -> Result<(), DecisionError> {
        if self.pending.is_none() {
            return Err(DecisionError::NothingPending);
        }
        // The usual reply: the EHLO/LHLO reply and the frequent 250s are written straight
        // into the output (`send_ehlo_reply`, `Canned`), without building a `Reply`.
        self.settle(true, None);
        Ok(())
    }

    /// Accepts with a reply of the application's own, which must be 2xx (for example
    /// `250 2.6.0 Ok: queued as 4F2A`).
    pub fn accept_with(&mut self, reply: Reply) -> Result<(), DecisionError> {
        if self.pending.is_none() {
            return Err(DecisionError::NothingPending);
        }
        if !reply.is_positive_completion() {
            return Err(DecisionError::NotPositive);
        }
        self.decide(true, reply);
        Ok(())
    }

    /// Refuses what the pending *decision* event asked about with this 4xx or 5xx reply.
    /// A `421` reply also closes the session.
    pub fn reject(&mut self, reply: Reply) -> Result<(), DecisionError> {
        if self.pending.is_none() {
            return Err(DecisionError::NothingPending);
        }
        if !(reply.is_transient() || reply.is_permanent()) {
            return Err(DecisionError::NotNegative);
        }
        self.decide(false, reply);
        Ok(())
    }

    /// Ends the session now: answers `421 4.3.2` (aborting any message in progress) and
    /// closes. For a server shutting down.
    pub fn shutdown(&mut self) {
        if self.closed {
            return;
        }
        self.pending = None;
        self.abort_data(AbortReason::ConnectionLost);
        self.send(Reply::service_not_available());
        self.close(CloseReason::Shutdown);
    }

    fn decide(&mut self, accepted: bool, reply: Reply) {
        self.settle(accepted, Some(reply));
    }

    /// Settles the pending decision with `answer`; `None` (only from `accept`) stands for
    /// the usual reply to what is accepted.
    fn settle(&mut self, accepted: bool, answer: Option<Reply>) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let closing = answer.as_ref().is_some_and(|r| r.code().as_u16() == 421);
        if let Pending::Helo(verb, client) = pending {
            if accepted {
                self.helo = Some(verb);
                self.client = Some(client);
            }
            match answer {
                Some(reply) => self.send(reply),
                None if verb == HeloVerb::Helo => self.send(self.helo_reply()),
                None => self.send_ehlo_reply(),
            }
        } else {
            self.settle_other(pending, accepted, answer, closing);
        }
        if closing {
            self.abort_data(AbortReason::ConnectionLost);
            self.close(CloseReason::Shutdown);
        }
        if self.pending.is_none() {
            self.deadline = Some(self.now + self.config.command_timeout);
            self.process();
        }
    }

    /// Settles a decision other than HELO/EHLO/LHLO; `answer` as for `settle`.
    fn settle_other(
        &mut self,
        pending: Pending,
        accepted: bool,
        answer: Option<Reply>,
        closing: bool,
    ) {
        match pending {
            Pending::Helo(..) => self.send(answer.unwrap_or_else(Reply::ok)),
            Pending::Auth(state) => {
                let reply = answer.unwrap_or_else(Reply::auth_succeeded);
                let PendingAuth {
                    mut auth,
                    exchange_user,
                } = *state;
                if accepted {
                    self.user = exchange_user;
                    self.send(reply);
                } else {
                    self.auth_failures += 1;
                    // OAuth mechanisms send an error challenge first (RFC 7628 3.2.2).
                    let json = OAuthError::new("invalid_token").to_json();
                    match auth.exchange.fail_with(&json) {
                        Step::Challenge(challenge) if !closing => {
                            auth.rejection = Some(reply);
                            self.send(Reply::auth_challenge(&challenge));
                            self.phase = Phase::Auth(auth);
                        }
                        _ => {
                            self.send(reply);
                            if !closing && self.auth_failures >= self.config.max_auth_failures {
                                self.send(too_many("authentication failures"));
                                self.close(CloseReason::TooManyAuthFailures);
                            }
                        }
                    }
                }
            }
            Pending::Mail { body, smtputf8 } => {
                if accepted {
                    self.transaction = Some(Transaction {
                        body,
                        smtputf8,
                        ..Transaction::default()
                    });
                }
                self.send_answer(answer, &Canned::SENDER_OK);
            }
            Pending::Rcpt => {
                if accepted && let Some(txn) = self.transaction.as_mut() {
                    txn.recipients += 1;
                }
                self.send_answer(answer, &Canned::RECIPIENT_OK);
            }
            Pending::Message { remaining } => {
                self.send_answer(answer, &Canned::MESSAGE_ACCEPTED);
                if remaining > 1 && !closing {
                    self.pending = Some(Pending::Message {
                        remaining: remaining - 1,
                    });
                } else {
                    self.transaction = None;
                }
            }
        }
    }

    // ----------------------------------------------------------------------------------
    // Input processing.

    /// Works through buffered input until it runs out, a decision is pending, or the
    /// session closes.
    fn process(&mut self) {
        while !self.closed && self.pending.is_none() {
            let progressed = match self.phase {
                Phase::Command | Phase::Auth(_) => self.process_line(),
                Phase::Data(_) => self.process_data(),
                Phase::Bdat { .. } => self.process_bdat(),
            };
            if !progressed {
                break;
            }
        }
        if self.eof && !self.closed && self.pending.is_none() {
            // Everything the client sent before closing has been answered.
            self.abort_data(AbortReason::ConnectionLost);
            self.close(CloseReason::PeerClosed);
        }
    }

    fn process_line(&mut self) -> bool {
        let line = match self.lines.next_line() {
            None => return false,
            Some(Ok(line)) => line,
            Some(Err(LineError::TooLong { .. })) => {
                if matches!(self.phase, Phase::Auth(_)) {
                    self.phase = Phase::Command;
                    self.auth_failures += 1;
                }
                self.error(Reply::line_too_long());
                return true;
            }
            Some(Err(_)) => {
                self.error(Reply::syntax_error());
                return true;
            }
        };
        if matches!(self.phase, Phase::Auth(_)) {
            self.auth_line(&line);
            return true;
        }
        self.command_line(&line);
        true
    }

    /// Acts on a complete command line (without its CRLF, within the length limit).
    fn command_line(&mut self, line: &[u8]) {
        self.commands += 1;
        if self.commands > self.config.max_commands {
            self.send(too_many("commands"));
            self.close(CloseReason::TooManyCommands);
            return;
        }
        self.deadline = Some(self.now + self.config.command_timeout);
        match parse_command_line_ref(line, &self.parse_options) {
            Ok(command) => self.command(command),
            Err(error) => self.parse_error(&error),
        }
    }

    /// Acts on the complete command lines at the start of `input`, read where they lie,
    /// while commands are expected and nothing is buffered: what pushing `input` into the
    /// line buffer and processing would do for them, without the copy and without
    /// splitting each line off as a `Bytes`. Stops at a decision, a change of phase, an
    /// incomplete or over-long line (the line buffer takes those, and reports the
    /// over-long one); returns the bytes not acted on (none after STARTTLS).
    fn direct_commands<'a>(&mut self, input: &'a [u8]) -> &'a [u8] {
        let mut rest = input;
        let tls = self.tls;
        while matches!(self.phase, Phase::Command) && self.pending.is_none() && !self.closed {
            let Some(cr) = find_crlf(rest, 0) else {
                break;
            };
            if cr > self.lines.max_line_len() {
                break;
            }
            let (line, after) = rest.split_at(cr);
            rest = after.get(2..).unwrap_or_default();
            self.command_line(line);
            if self.tls != tls {
                // STARTTLS: what the client sent after it in plaintext is never processed
                // (as `starttls` drops what is buffered).
                return &[];
            }
        }
        rest
    }

    fn parse_error(&mut self, error: &CommandError) {
        let enhanced = error.enhanced_code();
        let mut digits = enhanced.split('.').map(|d| d.parse::<u16>().unwrap_or(0));
        let (class, subject, detail) = (
            digits.next().unwrap_or(5),
            digits.next().unwrap_or(5),
            digits.next().unwrap_or(0),
        );
        let text = capitalise(&error.kind().to_string());
        let reply = Reply::with_enhanced(
            error.reply_code(),
            (u8::try_from(class).unwrap_or(5), subject, detail),
            &text,
        )
        .unwrap_or_else(|_| Reply::syntax_error());
        self.error(reply);
    }

    /// Acts on a command, taking owned values out of the borrowed view only where they
    /// go on (into an event or the session's state).
    fn command(&mut self, command: CommandRef<'_>) {
        match command {
            CommandRef::Helo(host) => self.helo(HeloVerb::Helo, host.into_owned()),
            CommandRef::Ehlo(host) => self.helo(HeloVerb::Ehlo, host.into_owned()),
            CommandRef::Lhlo(host) => self.helo(HeloVerb::Lhlo, host.into_owned()),
            CommandRef::Mail { from, params } => self.mail(from.into_owned(), params.into_owned()),
            CommandRef::Rcpt { to, params } => self.rcpt(to.into_owned(), params.into_owned()),
            CommandRef::Data => self.data(),
            CommandRef::Bdat { size, last } => self.bdat(size, last),
            CommandRef::Rset => {
                self.reset_transaction();
                self.send(Reply::reset_ok());
            }
            CommandRef::Noop(_) => self.send(Reply::ok()),
            CommandRef::Quit => {
                self.send_closing();
                self.close(CloseReason::Quit);
            }
            CommandRef::Vrfy(_) => self.send(Reply::cannot_verify()),
            CommandRef::Expn(_) => self.send(Reply::not_implemented()),
            CommandRef::Help(_) => self.send(simple(
                214,
                (2, 0, 0),
                "See RFC 5321; commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT",
            )),
            CommandRef::StartTls => self.starttls(),
            CommandRef::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response.map(|r| r.into_inner())),
        }
    }

    fn helo(&mut self, verb: HeloVerb, host: Host) {
        let allowed = match verb {
            HeloVerb::Lhlo => self.config.lmtp,
            HeloVerb::Helo | HeloVerb::Ehlo => !self.config.lmtp,
        };
        if !allowed {
            let text = if self.config.lmtp {
                "This is an LMTP server: use LHLO"
            } else {
                "Command unrecognized: LHLO"
            };
            return self.error(simple(500, (5, 5, 1), text));
        }
        self.reset_transaction();
        self.ask(
            Pending::Helo(verb, host.clone()),
            ServerEvent::Helo { verb, client: host },
        );
    }

    /// The reply to an accepted `HELO` (`EHLO`/`LHLO`: [`Self::send_ehlo_reply`]).
    fn helo_reply(&self) -> Reply {
        Reply::new(250, self.config.hostname.as_str()).unwrap_or_else(|_| Reply::ok())
    }

    /// Writes the reply to an accepted `EHLO`/`LHLO` straight into the output, in the form
    /// `EhloReply::to_reply` gives (the tests read it back with `EhloReply::from_reply`):
    /// no capability list or multi-line reply is built per session.
    fn send_ehlo_reply(&mut self) {
        if self.closed {
            return;
        }
        let config = Arc::clone(&self.config);
        let auth: Vec<&Mechanism> = if self.user.is_none() {
            config
                .auth_mechanisms
                .iter()
                .filter(|m| self.mechanism_usable(m))
                .collect()
        } else {
            Vec::new()
        };
        let starttls = config.starttls && !self.tls;
        let out = self.outbox.buf();
        out.reserve(OUTBOX_CAPACITY);
        let line = |out: &mut Vec<u8>, text: &str| {
            out.extend_from_slice(b"250-");
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        };
        line(out, config.hostname.as_str());
        if config.pipelining {
            line(out, Capability::Pipelining.keyword());
        }
        out.extend_from_slice(b"250-SIZE ");
        write_decimal(out, config.max_message_size.unwrap_or(0));
        out.extend_from_slice(b"\r\n");
        if config.eight_bit_mime {
            line(out, Capability::EightBitMime.keyword());
        }
        if config.smtputf8 {
            line(out, Capability::SmtpUtf8.keyword());
        }
        if config.chunking {
            line(out, Capability::Chunking.keyword());
            if config.binary_mime {
                line(out, Capability::BinaryMime.keyword());
            }
        }
        if config.dsn {
            line(out, Capability::Dsn.keyword());
        }
        if config.enhanced_status_codes {
            line(out, Capability::EnhancedStatusCodes.keyword());
        }
        if starttls {
            line(out, Capability::StartTls.keyword());
        }
        if !auth.is_empty() {
            // The names `Capability::Auth` would write: those that read back as the
            // same mechanism.
            let names = auth
                .iter()
                .filter(|m| Mechanism::from_name(m.as_str()).as_ref() == Some(**m));
            out.extend_from_slice(b"250-AUTH");
            for m in names {
                out.push(b' ');
                out.extend_from_slice(m.as_str().as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"250 ");
        out.extend_from_slice(Capability::Help.keyword().as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    fn mechanism_usable(&self, mechanism: &Mechanism) -> bool {
        if self.config.require_tls && !self.tls {
            return false;
        }
        match mechanism {
            Mechanism::CramMd5 => self.cram_md5_seed.is_some(),
            m if m.is_plaintext() => self.tls || self.config.allow_plaintext_auth,
            _ => true,
        }
    }

    fn mail(&mut self, from: ReversePath, params: MailParameters) {
        if self.helo.is_none() {
            return self.error(simple(503, (5, 5, 1), "Send HELO/EHLO first"));
        }
        if self.transaction.is_some() {
            return self.error(simple(503, (5, 5, 1), "Nested MAIL command"));
        }
        if self.config.require_tls && !self.tls {
            return self.send(Reply::starttls_required());
        }
        if self.config.require_auth && self.user.is_none() {
            return self.send(Reply::auth_required());
        }
        if let Err(reply) = self.check_mail_params(&from, &params) {
            return self.send(reply);
        }
        self.ask(
            Pending::Mail {
                body: params.body,
                smtputf8: params.smtputf8,
            },
            ServerEvent::Mail { from, params },
        );
    }

    fn check_mail_params(&self, from: &ReversePath, params: &MailParameters) -> Result<(), Reply> {
        let config = &self.config;
        let extended = self.helo != Some(HeloVerb::Helo);
        if !extended && !params.is_empty() {
            return Err(Reply::parameters_not_recognized());
        }
        let unsupported = match params.body {
            Some(BodyType::EightBitMime) => !config.eight_bit_mime,
            Some(BodyType::BinaryMime) => !(config.chunking && config.binary_mime),
            Some(BodyType::SevenBit) | None => false,
        } || (params.smtputf8 && !config.smtputf8)
            || ((params.ret.is_some() || params.envid.is_some()) && !config.dsn)
            || params.requiretls
            || !params.other().is_empty();
        if unsupported {
            return Err(Reply::parameters_not_recognized());
        }
        if let (Some(declared), Some(max)) = (params.size, config.max_message_size)
            && declared > max
        {
            return Err(Reply::message_too_big());
        }
        if (from.needs_smtputf8() || params.needs_smtputf8()) && !params.smtputf8 {
            return Err(Reply::smtputf8_required());
        }
        Ok(())
    }

    fn rcpt(&mut self, to: ForwardPath, params: RcptParameters) {
        let Some(txn) = self.transaction.as_ref() else {
            return self.error(simple(503, (5, 5, 1), "Need MAIL command"));
        };
        if txn.started {
            return self.error(Reply::bad_sequence());
        }
        let config = &self.config;
        if ((params.notify.is_some() || params.orcpt.is_some()) && !config.dsn)
            || !params.other().is_empty()
        {
            return self.send(Reply::parameters_not_recognized());
        }
        if (to.needs_smtputf8() || params.needs_smtputf8()) && !txn.smtputf8 {
            return self.send(Reply::smtputf8_required());
        }
        if txn.recipients >= config.max_recipients {
            return self.send(Reply::too_many_recipients());
        }
        self.ask(Pending::Rcpt, ServerEvent::Rcpt { to, params });
    }

    /// Checks that a message may start now; `Err` is the refusal.
    fn check_message_start(&self, chunked: bool) -> Result<(), Reply> {
        let Some(txn) = self.transaction.as_ref() else {
            return Err(simple(503, (5, 5, 1), "Need MAIL command"));
        };
        if txn.aborted {
            return Err(Reply::bad_sequence());
        }
        if txn.recipients == 0 {
            return Err(simple(554, (5, 5, 1), "No valid recipients"));
        }
        if !chunked && (txn.started || txn.body == Some(BodyType::BinaryMime)) {
            // BINARYMIME content and a message begun with BDAT continue only by BDAT.
            return Err(simple(503, (5, 5, 1), "Use BDAT for this message"));
        }
        Ok(())
    }

    fn data(&mut self) {
        if let Err(reply) = self.check_message_start(false) {
            return self.error(reply);
        }
        if let Some(txn) = self.transaction.as_mut() {
            txn.started = true;
        }
        self.send_canned(&Canned::START_MAIL_INPUT);
        self.events
            .push_back(ServerEvent::DataStart { chunked: false });
        self.phase = Phase::Data(DotDecoder::with_policy(self.config.bare_line_endings));
        self.data_phase = (self.now, 0);
        self.data_progress(0);
    }

    fn bdat(&mut self, size: u64, last: bool) {
        let mut refusal = None;
        if !self.config.chunking {
            refusal = Some(Reply::not_implemented());
        } else if let Err(reply) = self.check_message_start(true) {
            refusal = Some(reply);
        }
        if refusal.is_some() {
            // RFC 3030 2: the chunk is read and dropped all the same.
            self.errors += 1;
        } else if let Some(txn) = self.transaction.as_mut() {
            let total = txn.chunked_size.saturating_add(size);
            if self.config.max_message_size.is_some_and(|max| total > max) {
                refusal = Some(Reply::message_too_big());
                let started = txn.started;
                txn.aborted = true;
                if started {
                    self.events.push_back(ServerEvent::DataAborted {
                        reason: AbortReason::TooBig,
                    });
                }
            } else if !txn.started {
                txn.started = true;
                self.events
                    .push_back(ServerEvent::DataStart { chunked: true });
            }
        }
        self.phase = Phase::Bdat {
            remaining: size,
            last,
            size,
            refusal,
        };
        self.data_phase = (self.now, 0);
        self.data_progress(0);
    }

    fn starttls(&mut self) {
        if self.tls {
            return self.error(simple(503, (5, 5, 1), "TLS already active"));
        }
        if !self.config.starttls {
            return self.error(Reply::not_implemented());
        }
        self.send(Reply::ready_to_start_tls());
        self.outbox.start_tls();
        // RFC 3207 4.2: forget everything learned before the handshake, and never process
        // what the client sent after STARTTLS in plaintext.
        self.lines.clear();
        self.reset_transaction();
        self.helo = None;
        self.client = None;
        self.user = None;
        self.tls = true;
    }

    fn auth(&mut self, mechanism: Mechanism, initial_response: Option<Vec<u8>>) {
        if self.config.auth_mechanisms.is_empty() {
            return self.error(Reply::not_implemented());
        }
        if self.helo != Some(HeloVerb::Ehlo) && self.helo != Some(HeloVerb::Lhlo) {
            return self.error(simple(503, (5, 5, 1), "Send EHLO first"));
        }
        if self.user.is_some() {
            return self.error(simple(503, (5, 5, 1), "Already authenticated"));
        }
        if self.transaction.is_some() {
            return self.error(simple(
                503,
                (5, 5, 1),
                "AUTH not allowed during a transaction",
            ));
        }
        if self.config.require_tls && !self.tls {
            return self.send(Reply::starttls_required());
        }
        if !self.config.auth_mechanisms.contains(&mechanism) {
            return self.send(simple(504, (5, 5, 4), "Unrecognized authentication type"));
        }
        if mechanism.is_plaintext() && !self.tls && !self.config.allow_plaintext_auth {
            return self.send(Reply::encryption_required());
        }
        let mut options = ServerOptions {
            max_response_len: self.config.max_sasl_response,
            ..ServerOptions::default()
        };
        if mechanism == Mechanism::CramMd5 {
            let Some((random, timestamp)) = self.cram_md5_seed else {
                return self.send(simple(504, (5, 5, 4), "Unrecognized authentication type"));
            };
            self.cram_md5_count += 1;
            options.cram_md5_challenge = Some(sasl::cram_md5_challenge(
                random.wrapping_add(self.cram_md5_count),
                timestamp,
                self.config.hostname.as_str(),
            ));
        }
        let mut exchange = match ServerExchange::new(mechanism, options) {
            Ok(exchange) => exchange,
            Err(_) => {
                return self.send(simple(504, (5, 5, 4), "Unrecognized authentication type"));
            }
        };
        let step = exchange.start(initial_response.as_deref());
        self.auth_step(
            AuthState {
                exchange,
                rejection: None,
            },
            step,
        );
    }

    fn auth_line(&mut self, line: &[u8]) {
        let Phase::Auth(mut state) = std::mem::replace(&mut self.phase, Phase::Command) else {
            return;
        };
        match sasl::decode_response(line, self.config.max_sasl_response) {
            Ok(Response::Cancel) => {
                self.send(Reply::auth_cancelled());
                self.auth_failed_once();
            }
            Ok(Response::Data(data)) => {
                let step = state.exchange.step(&data);
                self.auth_step(state, step);
            }
            Err(SaslError::TooLong { .. }) => {
                self.send(simple(
                    500,
                    (5, 5, 6),
                    "Authentication exchange line is too long",
                ));
                self.auth_failed_once();
            }
            Err(_) => {
                self.send(Reply::auth_bad_base64());
                self.auth_failed_once();
            }
        }
    }

    fn auth_step(&mut self, mut state: AuthState, step: Step) {
        match step {
            Step::Challenge(challenge) => {
                self.send(Reply::auth_challenge(&challenge));
                self.phase = Phase::Auth(state);
            }
            Step::Done(credentials) => {
                let user = credentials.username().map(str::to_owned);
                self.ask(
                    Pending::Auth(Box::new(PendingAuth {
                        auth: state,
                        exchange_user: user,
                    })),
                    ServerEvent::Auth { credentials },
                );
            }
            Step::Failed(error) => {
                let counted = state.rejection.is_some();
                let reply = match (state.rejection.take(), error) {
                    (Some(reply), _) => reply,
                    (None, SaslError::Cancelled) => Reply::auth_cancelled(),
                    (None, SaslError::TooLong { .. }) => {
                        simple(500, (5, 5, 6), "Authentication exchange line is too long")
                    }
                    (None, SaslError::Malformed { .. }) => {
                        simple(501, (5, 5, 2), "Malformed authentication response")
                    }
                    (None, _) => Reply::auth_failed(),
                };
                self.send(reply);
                if counted {
                    // The application's rejection was counted when it was made.
                    self.auth_failures -= 1;
                }
                self.auth_failed_once();
            }
        }
    }

    fn auth_failed_once(&mut self) {
        self.auth_failures += 1;
        if self.auth_failures >= self.config.max_auth_failures {
            self.send(too_many("authentication failures"));
            self.close(CloseReason::TooManyAuthFailures);
        }
    }

    fn process_data(&mut self) -> bool {
        if !matches!(self.phase, Phase::Data(_)) {
            return false;
        }
        let input = self.lines.take_buffered();
        if input.is_empty() {
            return false;
        }
        let consumed = self.data_input(&input);
        if let Some(rest) = input.get(consumed..)
            && !rest.is_empty()
        {
            self.lines.push(rest);
        }
        true
    }

    /// Decodes `DATA` content from `input` (in the `Data` phase) and reports it; returns
    /// how much of `input` it consumed: all of it, unless the end of data is in it.
    fn data_input(&mut self, input: &[u8]) -> usize {
        let Phase::Data(decoder) = &mut self.phase else {
            return 0;
        };
        let mut content = Vec::with_capacity(input.len());
        let status = decoder.decode(input, &mut content);
        let done = status.done;
        let size = decoder.decoded_len();
        let bad = if self.config.reject_nul && decoder.saw_nul() {
            Some(AbortReason::Nul)
        } else if decoder.policy() == mailwire_core::dot::BareLineEndings::Reject
            && decoder.saw_bare_line_ending()
        {
            Some(AbortReason::BareLineEnding)
        } else if self.config.max_message_size.is_some_and(|max| size > max) {
            Some(AbortReason::TooBig)
        } else {
            None
        };
        self.data_progress(status.consumed as u64);
        let aborted = self.transaction.as_ref().is_some_and(|t| t.aborted);
        if let Some(reason) = bad.filter(|_| !aborted) {
            if let Some(txn) = self.transaction.as_mut() {
                txn.aborted = true;
            }
            self.events.push_back(ServerEvent::DataAborted { reason });
        } else if !aborted && !content.is_empty() {
            self.events
                .push_back(ServerEvent::Data(Bytes::from(content)));
        }
        if done {
            self.phase = Phase::Command;
            self.deadline = Some(self.now + self.config.command_timeout);
            match bad {
                Some(reason) => {
                    self.transaction = None;
                    self.send(abort_reply(reason));
                }
                None => self.message_complete(),
            }
        }
        status.consumed
    }

    fn process_bdat(&mut self) -> bool {
        let Phase::Bdat {
            remaining, last, ..
        } = &mut self.phase
        else {
            return false;
        };
        if *remaining > 0 {
            let mut input = self.lines.take_buffered();
            if input.is_empty() {
                return false;
            }
            let take = usize::try_from(*remaining)
                .unwrap_or(usize::MAX)
                .min(input.len());
            let chunk = input.split_to(take).freeze();
            *remaining -= take as u64;
            if !input.is_empty() {
                self.lines.push(&input);
            }
            self.data_progress(chunk.len() as u64);
            let Phase::Bdat { refusal, .. } = &self.phase else {
                return true;
            };
            let dropping = refusal.is_some();
            if !dropping && let Some(txn) = self.transaction.as_mut() {
                txn.chunked_size += chunk.len() as u64;
                self.events.push_back(ServerEvent::Data(chunk));
            }
            return true;
        }
        let last = *last;
        let Phase::Bdat { size, refusal, .. } = std::mem::replace(&mut self.phase, Phase::Command)
        else {
            return true;
        };
        self.deadline = Some(self.now + self.config.command_timeout);
        match refusal {
            // After a 552 the transaction stays, aborted: RSET or a new MAIL clears it.
            Some(reply) => self.send(reply),
            None if last => self.message_complete(),
            None => {
                let text = format!("{size} octets received");
                self.send(simple(250, (2, 0, 0), &text));
            }
        }
        true
    }

    /// Message data arrived: the deadline is `data_timeout` after the last data, but no
    /// later than the minimum data rate allows since the phase began (a client dripping
    /// one byte at a time is cut off, not kept for ever).
    fn data_progress(&mut self, octets: u64) {
        self.data_phase.1 = self.data_phase.1.saturating_add(octets);
        let mut deadline = self.now + self.config.data_timeout;
        if self.config.min_data_rate > 0 {
            let (start, received) = self.data_phase;
            let allowed = std::time::Duration::from_secs_f64(
                received as f64 / f64::from(self.config.min_data_rate),
            );
            deadline = deadline.min(start + self.config.data_timeout + allowed);
        }
        self.deadline = Some(deadline);
    }

    fn message_complete(&mut self) {
        let recipients = self.transaction.as_ref().map_or(0, |t| t.recipients);
        let remaining = if self.config.lmtp { recipients } else { 1 };
        self.ask(
            Pending::Message { remaining },
            ServerEvent::DataEnd { recipients },
        );
    }

    fn abort_data(&mut self, reason: AbortReason) {
        let in_message = matches!(self.phase, Phase::Data(_) | Phase::Bdat { .. })
            || self.transaction.as_ref().is_some_and(|t| t.started);
        let aborted = self.transaction.as_ref().is_some_and(|t| t.aborted);
        if in_message && !aborted {
            self.events.push_back(ServerEvent::DataAborted { reason });
        }
        if in_message {
            self.transaction = None;
            self.phase = Phase::Command;
        }
    }

    fn reset_transaction(&mut self) {
        if let Some(txn) = self.transaction.take() {
            if txn.started && !txn.aborted {
                self.events.push_back(ServerEvent::DataAborted {
                    reason: AbortReason::ConnectionLost,
                });
            }
            self.events.push_back(ServerEvent::Reset);
        }
    }

    // ----------------------------------------------------------------------------------
    // Output.

    fn ask(&mut self, pending: Pending, event: ServerEvent) {
        self.pending = Some(pending);
        self.events.push_back(event);
        // The client is not at fault while the application decides.
        self.deadline = None;
    }

    /// Sends a reply to a bad command and counts it against the error budget.
    fn error(&mut self, reply: Reply) {
        self.send(reply);
        self.errors += 1;
        if self.errors >= self.config.max_errors && !self.closed {
            self.send(too_many("errors"));
            self.close(CloseReason::TooManyErrors);
        }
    }

    fn send(&mut self, reply: Reply) {
        if self.closed {
            return;
        }
        let reply = if self.config.enhanced_status_codes {
            reply
        } else {
            reply.without_enhanced()
        };
        self.send_raw(&reply);
    }

    /// Sends the reply to `QUIT` (as `send` would send `221 2.0.0 HOSTNAME Service closing
    /// transmission channel`) written straight into the output: no text is formatted and
    /// no reply built per session.
    fn send_closing(&mut self) {
        if self.closed {
            return;
        }
        let out = self.outbox.buf();
        if out.capacity() == 0 {
            out.reserve(OUTBOX_CAPACITY);
        }
        // The hostname is an `EhloDomain` (no CR or LF, nothing that reads as an enhanced
        // code), so this is the reply's encoding, with or without the enhanced code.
        out.extend_from_slice(if self.config.enhanced_status_codes {
            b"221 2.0.0 "
        } else {
            b"221 "
        });
        out.extend_from_slice(self.config.hostname.as_str().as_bytes());
        out.extend_from_slice(b" Service closing transmission channel\r\n");
    }

    /// Sends `answer`, or the usual reply `usual` when there is none.
    fn send_answer(&mut self, answer: Option<Reply>, usual: &Canned) {
        match answer {
            Some(reply) => self.send(reply),
            None => self.send_canned(usual),
        }
    }

    /// Sends a reply encoded ahead of time: what `send` would write for it (handed out
    /// without a copy when nothing else is waiting).
    fn send_canned(&mut self, canned: &Canned) {
        if self.closed {
            return;
        }
        self.outbox
            .push_static(if self.config.enhanced_status_codes {
                canned.enhanced
            } else {
                canned.plain
            });
    }

    fn send_raw(&mut self, reply: &Reply) {
        let out = self.outbox.buf();
        if out.capacity() == 0 {
            // One allocation for the replies of one write, rather than several growths.
            out.reserve(OUTBOX_CAPACITY);
        }
        reply.encode(out);
    }

    fn close(&mut self, reason: CloseReason) {
        if self.closed {
            return;
        }
        self.outbox.close();
        self.events.push_back(ServerEvent::Closed { reason });
        self.closed = true;
        self.pending = None;
        self.deadline = None;
        self.lines.clear();
    }
}

/// The pending AUTH decision: the exchange (for OAuth's error challenge) and the name.
#[derive(Debug)]
struct PendingAuth {
    auth: AuthState,
    exchange_user: Option<String>,
}

impl Session for ServerSession {
    type Event = ServerEvent;

    fn handle_input(&mut self, input: &[u8], now: Instant) {
        self.now = now;
        if self.closed || self.eof {
            return;
        }
        if !input.is_empty()
            && matches!(self.phase, Phase::Data(_))
            && self.pending.is_none()
            && self.lines.buffered_len() == 0
            && !self.lines.is_discarding()
        {
            // Message content with nothing buffered before it: decoded straight from
            // `input` instead of being copied into the line buffer first. Only what
            // follows the end of data is buffered.
            let consumed = self.data_input(input);
            if let Some(rest) = input.get(consumed..)
                && !rest.is_empty()
            {
                self.lines.push(rest);
            }
        } else if matches!(self.phase, Phase::Command)
            && self.pending.is_none()
            && self.lines.buffered_len() == 0
            && !self.lines.is_discarding()
        {
            let rest = self.direct_commands(input);
            // A session that closed has dropped its input (`close` clears the buffer).
            if !rest.is_empty() && !self.closed {
                self.lines.push(rest);
            }
        } else {
            self.lines.push(input);
        }
        self.process();
    }

    fn handle_eof(&mut self, now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        self.eof = true;
        if self.pending.is_none() {
            self.process();
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        if self.deadline.is_some_and(|deadline| deadline <= now) {
            self.abort_data(AbortReason::ConnectionLost);
            self.send(Reply::timeout());
            self.close(CloseReason::Timeout);
        }
    }

    fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.poll_transmit()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn wants_input(&self) -> bool {
        let backlog =
            self.pending.is_some() && self.lines.buffered_len() >= self.config.max_pending_input;
        !(self.closed || self.eof || backlog)
    }
}

/// The first allocation of the reply buffer: room for a pipelined batch of replies, or an
/// EHLO reply.
const OUTBOX_CAPACITY: usize = 256;

/// A well-known reply the server sends in every transaction, encoded ahead of time with
/// and without its enhanced status code (`send_canned`): no reply is built or encoded per
/// command. The unit test `canned_replies_are_the_encoding` checks the bytes against the
/// reply types.
struct Canned {
    /// [`Reply::encode`] of the reply.
    enhanced: &'static [u8],
    /// [`Reply::encode`] of the reply without its enhanced code.
    plain: &'static [u8],
}

impl Canned {
    /// [`Reply::sender_ok`], the answer to an accepted MAIL.
    const SENDER_OK: Canned = Canned {
        enhanced: b"250 2.1.0 Sender OK\r\n",
        plain: b"250 Sender OK\r\n",
    };
    /// [`Reply::recipient_ok`], the answer to an accepted RCPT.
    const RECIPIENT_OK: Canned = Canned {
        enhanced: b"250 2.1.5 Recipient OK\r\n",
        plain: b"250 Recipient OK\r\n",
    };
    /// [`Reply::message_accepted`], after an accepted message.
    const MESSAGE_ACCEPTED: Canned = Canned {
        enhanced: b"250 2.6.0 Message accepted\r\n",
        plain: b"250 Message accepted\r\n",
    };
    /// [`Reply::start_mail_input`], the answer to DATA (a 3xx reply has no enhanced code).
    const START_MAIL_INPUT: Canned = Canned {
        enhanced: b"354 End data with <CR><LF>.<CR><LF>\r\n",
        plain: b"354 End data with <CR><LF>.<CR><LF>\r\n",
    };
}

/// A reply from parts known to be valid.
fn simple(code: u16, enhanced: (u8, u16, u16), text: &str) -> Reply {
    // Every caller passes a literal code and enhanced code that agree, and text without CR
    // or LF; the fallback is never taken.
    Reply::with_enhanced(code, enhanced, text).unwrap_or_else(|_| Reply::local_error())
}

fn too_many(what: &str) -> Reply {
    simple(
        421,
        (4, 7, 0),
        &format!("Too many {what}, closing transmission channel"),
    )
}

fn abort_reply(reason: AbortReason) -> Reply {
    match reason {
        AbortReason::TooBig => Reply::message_too_big(),
        AbortReason::BareLineEnding => Reply::bare_line_ending(),
        AbortReason::Nul => simple(554, (5, 6, 0), "Message contains NUL characters"),
        AbortReason::ConnectionLost => Reply::local_error(),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_replies_are_the_encoding() {
        let cases = [
            (&Canned::SENDER_OK, Reply::sender_ok()),
            (&Canned::RECIPIENT_OK, Reply::recipient_ok()),
            (&Canned::MESSAGE_ACCEPTED, Reply::message_accepted()),
            (&Canned::START_MAIL_INPUT, Reply::start_mail_input()),
        ];
        for (canned, reply) in cases {
            assert_eq!(canned.enhanced, reply.to_bytes());
            assert_eq!(canned.plain, reply.without_enhanced().to_bytes());
        }
    }
}
