//! The POP3 server state machine: [`ServerSession`].
//!
//! ## Driving it
//!
//! A [`ServerSession`] implements [`mailwire_core::Session`]: feed it what the client
//! sends, drain [`poll_event`](Session::poll_event) and
//! [`poll_transmit`](Session::poll_transmit) until both are empty, and call
//! [`handle_timeout`](Session::handle_timeout) when [`poll_timeout`](Session::poll_timeout)
//! says. Events marked *decision* in [`ServerEvent`] wait for the application's verb;
//! commands pipelined behind them wait too, and are answered in order.
//!
//! See the [crate documentation](crate) for a whole loop.
//!
//! ## States (RFC 1939)
//!
//! - **AUTHORIZATION**: `CAPA`, `STLS`, `USER`/`PASS`, `APOP`, `AUTH`, `UTF8`, `QUIT`.
//!   A successful authentication ([`ServerEvent::Login`], [`ServerEvent::Apop`],
//!   [`ServerEvent::Auth`] accepted) is followed by [`ServerEvent::Maildrop`]: the
//!   application opens and locks the maildrop and gives its listing
//!   ([`ServerSession::open_maildrop`]), or refuses (`-ERR [IN-USE]`).
//! - **TRANSACTION**: `STAT`, `LIST`, `UIDL`, `RETR`, `TOP`, `DELE`, `RSET`, `NOOP`,
//!   `CAPA`, `QUIT`. `DELE` only marks; `RSET` unmarks.
//! - **UPDATE**: `QUIT` in TRANSACTION asks [`ServerEvent::Commit`] with the marked
//!   messages; the `+OK` goes out only after the application has removed them. A
//!   connection that ends any other way deletes nothing.
//!
//! ## Message data: streamed, bounded, and cut for TOP
//!
//! The session never holds a message. On [`ServerEvent::Retrieve`] the application
//! pushes the message in pieces with [`ServerSession::send_message_chunk`] and ends with
//! [`ServerSession::finish_message`]. Each piece is dot-stuffed (and bare CR / LF turned
//! into CRLF) by [`DotEncoder`] on its way into the output. For `TOP msg n` the
//! application streams the same whole message: the session counts lines as they pass,
//! forwards the header, the blank line and `n` body lines, and drops the rest;
//! [`ServerSession::wants_message_data`] turns `false` once it has all it needs, so the
//! application may stop reading early (it must still call `finish_message`).
//!
//! The output is bounded: an application sends pieces only while
//! [`ServerSession::wants_message_chunk`] says so (the message wants data and less than
//! [`ServerConfig::max_pending_output`] octets wait in the output), then returns. Once the
//! driver has taken the output ([`poll_transmit`](Session::poll_transmit), which a driver
//! calls only while its own write buffer has room), the session asks for the next pieces
//! with [`ServerEvent::MoreMessageData`]. So a message of any size passes through a
//! window of about `max_pending_output` plus one piece, plus the driver's write buffer.
//! Pipelined commands wait in the same way: the session answers the next one only once
//! its output is below the bound.
//!
//! ## What the session enforces
//!
//! - Command lines of at most [`ServerConfig::max_line_len`] octets and arguments of at
//!   most [`ServerConfig::max_arg_len`] characters (RFC 2449 section 4).
//! - `STLS` discards every byte buffered before the handshake and any `USER` given.
//! - `USER`/`PASS` and cleartext SASL mechanisms need TLS unless
//!   [`ServerConfig::allow_plaintext_auth`].
//! - Budgets for bad commands, failed authentications and commands, and an idle timeout;
//!   past any of them the session answers `-ERR` and closes.

mod config;
mod event;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use mailwire_core::dot::DotEncoder;
use mailwire_core::line::{LineBuffer, LineError};
use mailwire_core::sasl::{
    self, Credentials, Mechanism, OAuthError, Response as SaslResponse, SaslError, ServerExchange,
    ServerOptions, Step,
};
use mailwire_core::session::Outbox;
use mailwire_core::{Session, Transmit};

pub use config::ServerConfig;
pub use event::{CloseReason, DecisionError, MessageInfo, ServerEvent};

use crate::encode::encode_continuation;
use crate::parse::{CommandError, CommandOptions, parse_command};
use crate::types::{
    ApopDigest, ApopTimestamp, Capability, Command, Response, ResponseCode, ScanListing, Status,
    Text, UidListing,
};

/// The RFC 1939 state of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Before authentication.
    Authorization,
    /// The maildrop is open.
    Transaction,
    /// After `QUIT` in TRANSACTION: deletions are being committed, then the session ends.
    Update,
}

/// One POP3 server session: the state machine for one client connection.
///
/// See the [module documentation](self) for the states, the driving loop and what it
/// enforces. The session never reads a clock: every input carries `now`.
#[derive(Debug)]
pub struct ServerSession {
    config: Arc<ServerConfig>,
    options: CommandOptions,
    lines: LineBuffer,
    state: State,
    phase: Phase,
    pending: Option<Pending>,
    events: VecDeque<ServerEvent>,
    outbox: Outbox,
    timestamp: Option<ApopTimestamp>,
    tls: bool,
    user_arg: Option<String>,
    user: Option<String>,
    maildrop: Vec<MessageInfo>,
    deleted: Vec<bool>,
    errors: u32,
    auth_failures: u32,
    commands: u32,
    deadline: Option<Instant>,
    now: Instant,
    eof: bool,
    closed: bool,
}

#[derive(Debug)]
enum Phase {
    Command,
    Auth(AuthState),
}

#[derive(Debug)]
struct AuthState {
    exchange: ServerExchange,
    /// The application's rejection, sent once the client acknowledges the OAuth error.
    rejection: Option<Response>,
}

#[derive(Debug)]
enum Pending {
    Login(String),
    Auth(Box<AuthState>, String),
    Maildrop(String),
    Retrieve(Box<Stream>),
    Commit,
}

/// A message being streamed for RETR or TOP.
#[derive(Debug)]
struct Stream {
    index: usize,
    size: u64,
    encoder: DotEncoder,
    started: bool,
    cut: Option<TopCut>,
    /// A [`ServerEvent::MoreMessageData`] was emitted and no piece has come since.
    asked: bool,
}

impl Stream {
    fn wants_data(&self) -> bool {
        !self.cut.as_ref().is_some_and(|c| c.done)
    }
}

/// Line counting for TOP: forwards the header, the blank line, then `remaining` lines.
/// Lines end where [`DotEncoder`] ends them on the wire: at LF, CRLF and a bare CR, so
/// that the cut is the same for every split of the message.
#[derive(Debug)]
struct TopCut {
    in_header: bool,
    remaining: u32,
    /// Octets of the current line so far, line-end characters not counted.
    line_len: usize,
    /// The last octet seen was a CR: it ends a line, with the next octet if that is LF.
    after_cr: bool,
    done: bool,
}

impl TopCut {
    fn new(lines: u32) -> TopCut {
        TopCut {
            in_header: true,
            remaining: lines,
            line_len: 0,
            after_cr: false,
            done: false,
        }
    }

    /// How much of `chunk` to forward; sets `done` when the cut point is inside it (or
    /// at its start, when the previous chunk ended in a CR that ended the last line).
    fn take(&mut self, chunk: &[u8]) -> usize {
        if self.done {
            return 0;
        }
        for (i, &b) in chunk.iter().enumerate() {
            if std::mem::take(&mut self.after_cr) {
                if b == b'\n' {
                    if self.end_line() {
                        return i + 1;
                    }
                    continue;
                }
                // A bare CR: its line ended before this octet.
                if self.end_line() {
                    return i;
                }
            }
            match b {
                b'\r' => self.after_cr = true,
                b'\n' => {
                    if self.end_line() {
                        return i + 1;
                    }
                }
                _ => self.line_len += 1,
            }
        }
        chunk.len()
    }

    /// A line ended; `true` once the cut is complete.
    fn end_line(&mut self) -> bool {
        let len = std::mem::take(&mut self.line_len);
        if self.in_header {
            if len == 0 {
                self.in_header = false;
            }
        } else {
            self.remaining = self.remaining.saturating_sub(1);
        }
        self.done = !self.in_header && self.remaining == 0;
        self.done
    }
}

impl ServerSession {
    /// A new session on a plaintext connection. The `+OK` greeting is queued.
    pub fn new(config: Arc<ServerConfig>, now: Instant) -> ServerSession {
        ServerSession::blank(config, now, false, None)
    }

    /// A new session on a connection that is already encrypted (POP3S, port 995).
    pub fn new_tls(config: Arc<ServerConfig>, now: Instant) -> ServerSession {
        ServerSession::blank(config, now, true, None)
    }

    /// A new session whose greeting carries `timestamp`, enabling `APOP` (and CRAM-MD5, with
    /// the timestamp as its challenge). Make a fresh one for every connection
    /// ([`ApopTimestamp::generate`]).
    pub fn with_timestamp(
        config: Arc<ServerConfig>,
        timestamp: ApopTimestamp,
        tls: bool,
        now: Instant,
    ) -> ServerSession {
        ServerSession::blank(config, now, tls, Some(timestamp))
    }

    /// A session that refuses service: `-ERR [SYS/TEMP] ...` instead of a greeting, then
    /// close. For a server at its connection limit or shutting down.
    pub fn busy(config: Arc<ServerConfig>, now: Instant) -> ServerSession {
        let mut session = ServerSession::blank(config, now, false, None);
        session.outbox.buf().clear();
        session.send(&Response::err_with(
            ResponseCode::SysTemp,
            "Server busy, try again later",
        ));
        session.close(CloseReason::Shutdown);
        session
    }

    fn blank(
        config: Arc<ServerConfig>,
        now: Instant,
        tls: bool,
        timestamp: Option<ApopTimestamp>,
    ) -> ServerSession {
        let options = CommandOptions::new(config.max_line_len, config.max_arg_len);
        let mut session = ServerSession {
            lines: LineBuffer::new(config.max_line_len.saturating_sub(2)),
            options,
            state: State::Authorization,
            phase: Phase::Command,
            pending: None,
            events: VecDeque::new(),
            outbox: Outbox::new(),
            timestamp,
            tls,
            user_arg: None,
            user: None,
            maildrop: Vec::new(),
            deleted: Vec::new(),
            errors: 0,
            auth_failures: 0,
            commands: 0,
            deadline: Some(now + config.idle_timeout),
            now,
            eof: false,
            closed: false,
            config,
        };
        let mut text = session.config.greeting.clone();
        if let Some(ts) = &session.timestamp {
            text.push(' ');
            text.push_str(ts.as_str());
        }
        let greeting = Response::new(Status::Ok, None, &text)
            .unwrap_or_else(|_| Response::ok("POP3 server ready"));
        session.send(&greeting);
        session
    }

    /// The settings of this session.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The RFC 1939 state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the connection is encrypted (implicit TLS, or after STLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The APOP timestamp of this session's greeting, if it has one.
    pub fn timestamp(&self) -> Option<&ApopTimestamp> {
        self.timestamp.as_ref()
    }

    /// The authenticated user, once the maildrop is open.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Whether an event waits for the application's verb.
    pub fn is_decision_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the message being streamed still wants data: `false` once a `TOP` cut has
    /// everything it needs, or when no message is being streamed.
    pub fn wants_message_data(&self) -> bool {
        match &self.pending {
            Some(Pending::Retrieve(stream)) => stream.wants_data(),
            _ => false,
        }
    }

    /// Whether to send the next piece of the message now: it
    /// [wants data](Self::wants_message_data) and fewer than
    /// [`ServerConfig::max_pending_output`] octets wait in the output. When this turns
    /// `false` while the message still wants data, return from the event:
    /// [`ServerEvent::MoreMessageData`] comes once the output has drained.
    pub fn wants_message_chunk(&self) -> bool {
        self.wants_message_data() && !self.output_full()
    }

    /// How many octets of output wait to be taken by
    /// [`poll_transmit`](Session::poll_transmit).
    pub fn pending_output(&self) -> usize {
        self.outbox.pending_len()
    }

    fn output_full(&self) -> bool {
        self.outbox.pending_len() >= self.config.max_pending_output
    }

    // ----------------------------------------------------------------------------------
    // The application's decisions.

    /// Accepts the pending [`ServerEvent::Login`], [`ServerEvent::Apop`] or
    /// [`ServerEvent::Auth`] (a [`ServerEvent::Maildrop`] follows), or the
    /// [`ServerEvent::Commit`] (`+OK`, then close). Other events need other verbs:
    /// [`DecisionError::WrongVerb`].
    pub fn accept(&mut self) -> Result<(), DecisionError> {
        match self.pending.as_ref() {
            None => return Err(DecisionError::NothingPending),
            Some(Pending::Maildrop(_) | Pending::Retrieve(_)) => {
                return Err(DecisionError::WrongVerb);
            }
            Some(Pending::Commit) => {
                let left = self.deleted.iter().filter(|d| !**d).count();
                let host = &self.config.hostname;
                let text = if left == 0 {
                    format!("{host} POP3 server signing off (maildrop empty)")
                } else {
                    format!("{host} POP3 server signing off ({left} messages left)")
                };
                return self.commit_done(Response::ok(&text));
            }
            Some(Pending::Login(_) | Pending::Auth(..)) => {}
        }
        let user = match self.pending.take() {
            Some(Pending::Login(user)) | Some(Pending::Auth(_, user)) => user,
            _ => return Err(DecisionError::NothingPending),
        };
        self.ask(
            Pending::Maildrop(user.clone()),
            ServerEvent::Maildrop { user },
        );
        Ok(())
    }

    /// Accepts the pending [`ServerEvent::Commit`] with a `+OK` of the application's own.
    pub fn accept_with(&mut self, response: Response) -> Result<(), DecisionError> {
        match self.pending {
            None => Err(DecisionError::NothingPending),
            Some(Pending::Commit) if response.is_ok() => self.commit_done(response),
            Some(Pending::Commit) => Err(DecisionError::WrongStatus),
            Some(_) => Err(DecisionError::WrongVerb),
        }
    }

    /// Refuses what the pending decision asked about with this `-ERR` response:
    /// credentials (counted as a failed authentication), a maildrop (back to
    /// AUTHORIZATION), a message before its first chunk, or a commit (then close). A
    /// message stream already begun cannot be refused on the wire: the session closes
    /// the connection instead, so that the client never takes a cut message for whole.
    pub fn reject(&mut self, response: Response) -> Result<(), DecisionError> {
        if self.pending.is_none() {
            return Err(DecisionError::NothingPending);
        }
        if response.is_ok() {
            return Err(DecisionError::WrongStatus);
        }
        match self.pending.take() {
            None => return Err(DecisionError::NothingPending),
            Some(Pending::Login(_)) => {
                self.send(&response);
                self.auth_failed();
            }
            Some(Pending::Auth(mut auth, _)) => {
                let json = OAuthError::new("invalid_token").to_json();
                match auth.exchange.fail_with(&json) {
                    Step::Challenge(challenge) => {
                        auth.rejection = Some(response);
                        self.continuation(&challenge);
                        self.enter_auth(*auth);
                    }
                    _ => {
                        self.send(&response);
                        self.auth_failed();
                    }
                }
            }
            Some(Pending::Maildrop(_)) => self.send(&response),
            Some(Pending::Retrieve(stream)) => {
                if stream.started {
                    self.close(CloseReason::Shutdown);
                } else {
                    self.send(&response);
                }
            }
            Some(Pending::Commit) => {
                self.send(&response);
                self.close(CloseReason::Quit);
            }
        }
        self.resume();
        Ok(())
    }

    /// Opens the maildrop asked for by [`ServerEvent::Maildrop`], with its listing (the
    /// message numbered `n` is `listing[n - 1]`): `+OK`, and the TRANSACTION state.
    pub fn open_maildrop(&mut self, listing: Vec<MessageInfo>) -> Result<(), DecisionError> {
        let user = match self.pending.take() {
            Some(Pending::Maildrop(user)) => user,
            None => return Err(DecisionError::NothingPending),
            Some(other) => {
                self.pending = Some(other);
                return Err(DecisionError::WrongVerb);
            }
        };
        let size: u64 = listing.iter().map(|m| m.size).sum();
        let text = format!(
            "{user}'s maildrop has {} messages ({size} octets)",
            listing.len()
        );
        self.deleted = vec![false; listing.len()];
        self.maildrop = listing;
        self.user = Some(user);
        self.state = State::Transaction;
        self.send(&Response::ok(&text));
        self.resume();
        Ok(())
    }

    /// Sends the next piece of the message asked for by [`ServerEvent::Retrieve`] (the
    /// first piece is preceded by the `+OK`). Pieces past a `TOP` cut are dropped. Any
    /// split of a message into pieces gives the same output. The piece is taken even when
    /// the output is over its bound; to keep it bounded, send only while
    /// [`wants_message_chunk`](Self::wants_message_chunk).
    pub fn send_message_chunk(&mut self, chunk: &[u8]) -> Result<(), DecisionError> {
        let Some(Pending::Retrieve(stream)) = self.pending.as_mut() else {
            return Err(self.not_streaming());
        };
        stream.asked = false;
        if !stream.started {
            stream.started = true;
            let text = format!("{} octets", stream.size);
            Response::ok(&text).encode(self.outbox.buf());
        }
        let take = match stream.cut.as_mut() {
            Some(cut) => cut.take(chunk),
            None => chunk.len(),
        };
        stream
            .encoder
            .encode(chunk.get(..take).unwrap_or_default(), self.outbox.buf());
        Ok(())
    }

    /// Ends the message asked for by [`ServerEvent::Retrieve`] (`.` CRLF), and goes on
    /// with the commands that wait.
    pub fn finish_message(&mut self) -> Result<(), DecisionError> {
        if !matches!(self.pending, Some(Pending::Retrieve(_))) {
            return Err(self.not_streaming());
        }
        let Some(Pending::Retrieve(mut stream)) = self.pending.take() else {
            return Err(DecisionError::NothingPending);
        };
        if !stream.started {
            let text = format!("{} octets", stream.size);
            Response::ok(&text).encode(self.outbox.buf());
        }
        stream.encoder.finish(self.outbox.buf());
        self.resume();
        Ok(())
    }

    /// Ends the session now: `-ERR [SYS/TEMP] ...` and close, deleting nothing. For a
    /// server shutting down.
    pub fn shutdown(&mut self) {
        if self.closed {
            return;
        }
        if matches!(&self.pending, Some(Pending::Retrieve(s)) if s.started) {
            // A response is half sent: no line can follow it.
            self.pending = None;
            self.close(CloseReason::Shutdown);
            return;
        }
        self.pending = None;
        self.send(&Response::err_with(
            ResponseCode::SysTemp,
            "Server shutting down",
        ));
        self.close(CloseReason::Shutdown);
    }

    fn not_streaming(&self) -> DecisionError {
        if self.pending.is_some() {
            DecisionError::WrongVerb
        } else {
            DecisionError::NothingPending
        }
    }

    fn commit_done(&mut self, response: Response) -> Result<(), DecisionError> {
        self.pending = None;
        self.send(&response);
        self.close(CloseReason::Quit);
        Ok(())
    }

    /// After a decision: restart the idle clock and work through waiting input.
    fn resume(&mut self) {
        if self.pending.is_none() && !self.closed {
            self.deadline = Some(self.now + self.config.idle_timeout);
            self.process();
        }
    }

    // ----------------------------------------------------------------------------------
    // Input.

    fn process(&mut self) {
        // The output bound also holds pipelined commands back: the next one is answered
        // once what is queued has been taken (`poll_transmit` comes back here).
        let mut exhausted = false;
        while !self.closed && self.pending.is_none() && !self.output_full() {
            let line = match self.lines.next_line() {
                None => {
                    exhausted = true;
                    break;
                }
                Some(Ok(line)) => line,
                Some(Err(LineError::TooLong { .. }) | Err(_)) => {
                    if matches!(self.phase, Phase::Auth(_)) {
                        self.phase = Phase::Command;
                        self.restore_line_limit();
                        self.send(&Response::err("Authentication line too long"));
                        self.auth_failed();
                    } else {
                        self.error(Response::err("Command line too long"));
                    }
                    continue;
                }
            };
            self.deadline = Some(self.now + self.config.idle_timeout);
            if matches!(self.phase, Phase::Auth(_)) {
                self.auth_line(&line);
                continue;
            }
            self.commands += 1;
            if self.commands > self.config.max_commands {
                self.send(&Response::err("Too many commands"));
                self.close(CloseReason::TooManyCommands);
                break;
            }
            match parse_command(&line, &self.options) {
                Ok(command) => self.command(command),
                Err(error) => self.parse_error(&error),
            }
        }
        if self.eof && exhausted && !self.closed && self.pending.is_none() {
            self.close(CloseReason::PeerClosed);
        }
    }

    fn parse_error(&mut self, error: &CommandError) {
        let text = match error {
            CommandError::Unknown => "Unknown command",
            CommandError::LineTooLong => "Command line too long",
            CommandError::ArgumentTooLong => "Argument too long",
            CommandError::MissingArgument => "Missing argument",
            CommandError::TooManyArguments => "Too many arguments",
            CommandError::Empty => "Empty command",
            _ => "Invalid command syntax",
        };
        self.error(Response::err(text));
    }

    fn command(&mut self, command: Command) {
        let authorization = self.state == State::Authorization;
        match command {
            Command::Capa => self.capa(),
            Command::Quit => self.quit(),
            Command::Noop if !authorization => self.send(&Response::ok("")),
            Command::Stls if authorization => self.stls(),
            Command::User(name) if authorization => self.user_command(name.as_str()),
            Command::Pass(password) if authorization => self.pass(password.into_secret()),
            Command::Apop { name, digest } if authorization => self.apop(name.as_str(), digest),
            Command::Auth {
                mechanism,
                initial_response,
            } if authorization => self.auth(mechanism, initial_response.map(|r| r.into_inner())),
            Command::Utf8 if authorization && self.config.utf8 => {
                self.send(&Response::ok("UTF8 enabled"))
            }
            Command::Stat if !authorization => {
                let (count, size) = self.totals();
                self.send(&Response::ok(&format!("{count} {size}")));
            }
            Command::List(which) if !authorization => self.list(which),
            Command::Uidl(which) if !authorization => self.uidl(which),
            Command::Retr(msg) if !authorization => self.retrieve(msg, None),
            Command::Top { msg, lines } if !authorization => self.retrieve(msg, Some(lines)),
            Command::Dele(msg) if !authorization => match self.message(msg) {
                Ok(index) => {
                    if let Some(flag) = self.deleted.get_mut(index) {
                        *flag = true;
                    }
                    self.send(&Response::ok(&format!("message {msg} deleted")));
                }
                Err(response) => self.error(response),
            },
            Command::Rset if !authorization => {
                self.deleted.iter_mut().for_each(|d| *d = false);
                let (count, size) = self.totals();
                self.send(&Response::ok(&format!(
                    "maildrop has {count} messages ({size} octets)"
                )));
            }
            Command::Lang(range) if self.config.lang => {
                self.lang(range.as_ref().map(|r| r.as_str()))
            }
            Command::Lang(_) => self.error(Response::err("LANG is not supported")),
            Command::Utf8 if !self.config.utf8 => self.error(Response::err("Unknown command")),
            _ => self.error(Response::err("Command not valid in this state")),
        }
    }

    fn capa(&mut self) {
        let config = Arc::clone(&self.config);
        let mut caps = vec![Capability::Top, Capability::Uidl, Capability::RespCodes];
        caps.push(Capability::AuthRespCode);
        if config.pipelining {
            caps.push(Capability::Pipelining);
        }
        if let Some(policy) = config.expire {
            caps.push(Capability::Expire {
                policy,
                per_user: false,
            });
        }
        if let Some(seconds) = config.login_delay {
            caps.push(Capability::LoginDelay {
                seconds,
                per_user: false,
            });
        }
        if config.utf8 {
            caps.push(Capability::Utf8 { user: true });
        }
        if config.lang {
            caps.push(Capability::Lang);
        }
        if self.state == State::Authorization {
            if config.stls && !self.tls {
                caps.push(Capability::Stls);
            }
            if config.user_pass && self.cleartext_ok() {
                caps.push(Capability::User);
            }
            let mechs: Vec<Mechanism> = config
                .auth_mechanisms
                .iter()
                .filter(|m| self.mechanism_usable(m))
                .cloned()
                .collect();
            if !mechs.is_empty() {
                caps.push(Capability::Sasl(mechs));
            }
        }
        if let Some(name) = &config.implementation
            && let Ok(text) = Text::new(name.as_str())
        {
            caps.push(Capability::Implementation(text));
        }
        self.send(&Response::ok("Capability list follows"));
        for cap in caps {
            cap.encode(self.outbox.buf());
        }
        self.outbox.buf().extend_from_slice(b".\r\n");
    }

    /// `LANG` (RFC 6856), English only: the listing, or a language range that matches
    /// `en` (RFC 4647 basic filtering: `en` itself or `*`).
    fn lang(&mut self, range: Option<&str>) {
        match range {
            None => {
                self.send(&Response::ok("Language listing follows"));
                self.outbox.buf().extend_from_slice(b"en English\r\n.\r\n");
            }
            Some(range) if range == "*" || range.eq_ignore_ascii_case("en") => {
                self.send(&Response::ok("en Language is English"));
            }
            // A well-formed command the server cannot satisfy: not a protocol error.
            Some(_) => self.send(&Response::err("Unsupported language; LANG lists them")),
        }
    }

    fn quit(&mut self) {
        match self.state {
            State::Transaction => {
                self.state = State::Update;
                let deleted = self
                    .deleted
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| d.then_some(i))
                    .collect();
                self.ask(Pending::Commit, ServerEvent::Commit { deleted });
            }
            State::Authorization | State::Update => {
                let text = format!("{} POP3 server signing off", self.config.hostname);
                self.send(&Response::ok(&text));
                self.close(CloseReason::Quit);
            }
        }
    }

    fn stls(&mut self) {
        if self.tls {
            return self.error(Response::err("TLS already active"));
        }
        if !self.config.stls {
            return self.error(Response::err("STLS not available"));
        }
        self.send(&Response::ok("Begin TLS negotiation now"));
        self.outbox.start_tls();
        // RFC 2595 4 and the command-injection class of bugs: nothing sent before the
        // handshake is processed after it.
        self.lines.clear();
        self.user_arg = None;
        self.tls = true;
    }

    fn cleartext_ok(&self) -> bool {
        (self.tls || self.config.allow_plaintext_auth) && self.tls_ok()
    }

    fn tls_ok(&self) -> bool {
        self.tls || !self.config.require_tls
    }

    fn mechanism_usable(&self, mechanism: &Mechanism) -> bool {
        if !self.tls_ok() {
            return false;
        }
        match mechanism {
            Mechanism::CramMd5 => self.timestamp.is_some(),
            m if m.is_plaintext() => self.cleartext_ok(),
            Mechanism::Other(_) => false,
            _ => true,
        }
    }

    fn user_command(&mut self, name: &str) {
        if !self.config.user_pass {
            return self.error(Response::err("USER not available"));
        }
        if !self.cleartext_ok() {
            return self.error(Response::err_with(
                ResponseCode::Auth,
                "Plaintext authentication disallowed without TLS",
            ));
        }
        self.user_arg = Some(name.to_owned());
        self.send(&Response::ok("Send PASS"));
    }

    fn pass(&mut self, password: mailwire_core::Secret<String>) {
        let Some(user) = self.user_arg.take() else {
            return self.error(Response::err("Send USER first"));
        };
        if !self.cleartext_ok() {
            return self.error(Response::err_with(
                ResponseCode::Auth,
                "Plaintext authentication disallowed without TLS",
            ));
        }
        self.ask(
            Pending::Login(user.clone()),
            ServerEvent::Login { user, password },
        );
    }

    fn apop(&mut self, name: &str, digest: ApopDigest) {
        self.user_arg = None;
        let Some(timestamp) = self.timestamp.clone().filter(|_| self.config.apop) else {
            return self.error(Response::err("APOP not available"));
        };
        if !self.tls_ok() {
            return self.error(Response::err_with(ResponseCode::Auth, "Use STLS first"));
        }
        let user = name.to_owned();
        self.ask(
            Pending::Login(user.clone()),
            ServerEvent::Apop {
                user,
                digest,
                timestamp,
            },
        );
    }

    fn auth(&mut self, mechanism: Mechanism, initial_response: Option<Vec<u8>>) {
        self.user_arg = None;
        if !self.config.auth_mechanisms.contains(&mechanism) {
            return self.error(Response::err("Unsupported authentication mechanism"));
        }
        if !self.mechanism_usable(&mechanism) {
            return self.error(Response::err_with(
                ResponseCode::Auth,
                "Mechanism not allowed without TLS",
            ));
        }
        let mut options = ServerOptions {
            max_response_len: self.config.max_sasl_response,
            ..ServerOptions::default()
        };
        if mechanism == Mechanism::CramMd5 {
            options.cram_md5_challenge = self.timestamp.as_ref().map(|t| t.as_str().to_owned());
        }
        let mut exchange = match ServerExchange::new(mechanism, options) {
            Ok(exchange) => exchange,
            Err(_) => return self.error(Response::err("Unsupported authentication mechanism")),
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

    fn enter_auth(&mut self, state: AuthState) {
        // A response line carries base64 of up to `max_sasl_response` octets.
        let limit = self.config.max_sasl_response.div_ceil(3).saturating_mul(4) + 2;
        self.lines
            .set_max_line_len(limit.max(self.config.max_line_len));
        self.phase = Phase::Auth(state);
    }

    fn restore_line_limit(&mut self) {
        self.lines
            .set_max_line_len(self.config.max_line_len.saturating_sub(2));
    }

    fn auth_line(&mut self, line: &[u8]) {
        let Phase::Auth(mut state) = std::mem::replace(&mut self.phase, Phase::Command) else {
            return;
        };
        self.restore_line_limit();
        match sasl::decode_response(line, self.config.max_sasl_response) {
            Ok(SaslResponse::Cancel) => {
                self.send(&Response::err("Authentication cancelled"));
                self.auth_failed();
            }
            Ok(SaslResponse::Data(data)) => {
                let step = state.exchange.step(&data);
                self.auth_step(state, step);
            }
            Err(_) => {
                self.send(&Response::err("Invalid authentication response"));
                self.auth_failed();
            }
        }
    }

    fn auth_step(&mut self, mut state: AuthState, step: Step) {
        match step {
            Step::Challenge(challenge) => {
                self.continuation(&challenge);
                self.enter_auth(state);
            }
            Step::Done(credentials) => {
                let user = login_name(&credentials);
                self.ask(
                    Pending::Auth(Box::new(state), user),
                    ServerEvent::Auth { credentials },
                );
            }
            Step::Failed(error) => {
                let response = match (state.rejection.take(), error) {
                    (Some(response), _) => response,
                    (None, SaslError::Cancelled) => Response::err("Authentication cancelled"),
                    (None, _) => Response::err_with(ResponseCode::Auth, "Authentication failed"),
                };
                self.send(&response);
                self.auth_failed();
            }
        }
    }

    fn continuation(&mut self, challenge: &[u8]) {
        if !self.closed {
            encode_continuation(challenge, self.outbox.buf());
        }
    }

    fn auth_failed(&mut self) {
        self.auth_failures += 1;
        if self.auth_failures >= self.config.max_auth_failures {
            self.send(&Response::err("Too many authentication failures"));
            self.close(CloseReason::TooManyAuthFailures);
        }
    }

    fn totals(&self) -> (usize, u64) {
        self.live()
            .fold((0, 0), |(n, s), (_, m)| (n + 1, s + m.size))
    }

    fn live(&self) -> impl Iterator<Item = (usize, &MessageInfo)> {
        self.maildrop
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.deleted.get(*i).copied().unwrap_or(true))
    }

    /// The index of message `msg`, if it exists and is not deleted.
    fn message(&self, msg: u32) -> Result<usize, Response> {
        let index = usize::try_from(msg).unwrap_or(usize::MAX).wrapping_sub(1);
        match self.deleted.get(index) {
            None => Err(Response::err("No such message")),
            Some(true) => Err(Response::err(&format!("message {msg} already deleted"))),
            Some(false) => Ok(index),
        }
    }

    fn list(&mut self, which: Option<u32>) {
        match which {
            Some(msg) => match self.message(msg) {
                Ok(index) => {
                    let size = self.maildrop.get(index).map_or(0, |m| m.size);
                    self.send(&Response::ok(&format!("{msg} {size}")));
                }
                Err(response) => self.error(response),
            },
            None => {
                let (count, size) = self.totals();
                let mut body = Vec::new();
                for (index, info) in self.live() {
                    ScanListing {
                        msg: wire_number(index),
                        size: info.size,
                    }
                    .encode(&mut body);
                }
                self.send(&Response::ok(&format!("{count} messages ({size} octets)")));
                self.outbox.buf().extend_from_slice(&body);
                self.outbox.buf().extend_from_slice(b".\r\n");
            }
        }
    }

    fn uidl(&mut self, which: Option<u32>) {
        match which {
            Some(msg) => match self.message(msg) {
                Ok(index) => {
                    let uid = self.maildrop.get(index).map(|m| m.uid.as_str().to_owned());
                    self.send(&Response::ok(&format!("{msg} {}", uid.unwrap_or_default())));
                }
                Err(response) => self.error(response),
            },
            None => {
                let mut body = Vec::new();
                for (index, info) in self.live() {
                    UidListing {
                        msg: wire_number(index),
                        uid: info.uid.clone(),
                    }
                    .encode(&mut body);
                }
                self.send(&Response::ok("Unique-id listing follows"));
                self.outbox.buf().extend_from_slice(&body);
                self.outbox.buf().extend_from_slice(b".\r\n");
            }
        }
    }

    fn retrieve(&mut self, msg: u32, top: Option<u32>) {
        match self.message(msg) {
            Ok(index) => {
                let size = self.maildrop.get(index).map_or(0, |m| m.size);
                let stream = Stream {
                    index,
                    size,
                    encoder: DotEncoder::new(),
                    started: false,
                    cut: top.map(TopCut::new),
                    asked: false,
                };
                self.ask(
                    Pending::Retrieve(Box::new(stream)),
                    ServerEvent::Retrieve { index, top },
                );
            }
            Err(response) => self.error(response),
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

    fn error(&mut self, response: Response) {
        self.send(&response);
        self.errors += 1;
        if self.errors >= self.config.max_errors && !self.closed {
            self.send(&Response::err("Too many bad commands"));
            self.close(CloseReason::TooManyErrors);
        }
    }

    fn send(&mut self, response: &Response) {
        if !self.closed {
            response.encode(self.outbox.buf());
        }
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

/// The wire number of the message at `index`.
fn wire_number(index: usize) -> u32 {
    u32::try_from(index).map_or(u32::MAX, |i| i.saturating_add(1))
}

/// The name whose maildrop SASL credentials open: the authorization identity if given.
fn login_name(credentials: &Credentials) -> String {
    match credentials {
        Credentials::Password(claim) => claim
            .authzid
            .clone()
            .unwrap_or_else(|| claim.authcid.clone()),
        other => other.username().unwrap_or_default().to_owned(),
    }
}

impl Session for ServerSession {
    type Event = ServerEvent;

    fn handle_input(&mut self, input: &[u8], now: Instant) {
        self.now = now;
        if self.closed || self.eof {
            return;
        }
        self.lines.push(input);
        self.process();
    }

    fn handle_eof(&mut self, now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        self.eof = true;
        // What the client sent before closing (a final QUIT, say) is still answered once
        // pending decisions are made; then the session closes. Without a QUIT nothing is
        // committed.
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
            self.send(&Response::err("Autologout; idle for too long"));
            self.close(CloseReason::Timeout);
        }
    }

    fn poll_event(&mut self) -> Option<ServerEvent> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        // A message being streamed whose output has room asks for its next pieces (once,
        // until a piece comes).
        let full = self.output_full();
        match self.pending.as_mut() {
            Some(Pending::Retrieve(stream)) if !stream.asked && stream.wants_data() && !full => {
                stream.asked = true;
                Some(ServerEvent::MoreMessageData {
                    index: stream.index,
                })
            }
            _ => None,
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        let transmit = self.outbox.poll_transmit()?;
        // The output has drained: answer the pipelined commands held back by its bound.
        // (A stream waiting for pieces hears of it through `poll_event`.)
        if !self.closed && self.pending.is_none() {
            self.process();
        }
        Some(transmit)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn wants_input(&self) -> bool {
        let held = self.pending.is_some() || self.output_full();
        let backlog = held && self.lines.buffered_len() >= self.config.max_pending_input;
        !(self.closed || self.eof || backlog)
    }
}
