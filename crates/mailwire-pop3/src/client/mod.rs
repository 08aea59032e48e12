//! The POP3 client state machine: [`ClientSession`].
//!
//! ## Driving it
//!
//! A [`ClientSession`] implements [`mailwire_core::Session`]: feed it what the server
//! sends, drain [`poll_event`](Session::poll_event) and
//! [`poll_transmit`](Session::poll_transmit) until both are empty, and call
//! [`handle_timeout`](Session::handle_timeout) when [`poll_timeout`](Session::poll_timeout)
//! says. The application's verbs ([`stat`](ClientSession::stat),
//! [`list`](ClientSession::list), [`uidl`](ClientSession::uidl),
//! [`retr`](ClientSession::retr), [`top`](ClientSession::top),
//! [`dele`](ClientSession::dele), [`rset`](ClientSession::rset),
//! [`noop`](ClientSession::noop), [`quit`](ClientSession::quit)) may be called at any
//! time, even before the greeting: requests wait until the session is logged in, and
//! are answered in order, each by one event carrying its [`RequestId`].
//!
//! ```
//! use std::time::Instant;
//! use mailwire_core::{Session, Transmit};
//! use mailwire_pop3::client::{AuthMethod, ClientConfig, ClientEvent, ClientSession, Login};
//!
//! let now = Instant::now();
//! let mut config = ClientConfig::new(Login::password("mrose", "tanstaaf".to_string()));
//! config.tls = mailwire_pop3::client::TlsPolicy::Never;
//! let mut client = ClientSession::new(config, now);
//! let retr = client.retr(1).unwrap();
//! client.quit().unwrap();
//!
//! let server = [
//!     "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
//!     "-ERR unknown command\r\n", // no CAPA
//!     "+OK mrose's maildrop has 2 messages (320 octets)\r\n",
//!     "+OK 120 octets\r\nSubject: hi\r\n\r\n..dot\r\n.\r\n",
//!     "+OK dewey POP3 server signing off\r\n",
//! ];
//! let mut wire = Vec::new();
//! let mut events = Vec::new();
//! for input in server {
//!     client.handle_input(input.as_bytes(), now);
//!     while let Some(event) = client.poll_event() {
//!         events.push(event);
//!     }
//!     while let Some(Transmit::Data(bytes)) = client.poll_transmit() {
//!         wire.extend_from_slice(&bytes);
//!     }
//! }
//! assert_eq!(
//!     String::from_utf8(wire).unwrap(),
//!     "CAPA\r\nAPOP mrose c4c9334bac560ecc979e58001b3e22fb\r\nRETR 1\r\nQUIT\r\n"
//! );
//! assert!(events.iter().any(|e| matches!(e,
//!     ClientEvent::Ready { authenticated: Some(AuthMethod::Apop), .. })));
//! let body: Vec<u8> = events.iter().filter_map(|e| match e {
//!     ClientEvent::MessageData { id, data } if *id == retr => Some(data.to_vec()),
//!     _ => None,
//! }).flatten().collect();
//! assert_eq!(body, b"Subject: hi\r\n\r\n.dot\r\n");
//! assert!(matches!(events.last(), Some(ClientEvent::Closed { error: None })));
//! ```
//!
//! ## What the session does
//!
//! - **Opening.** Waits for `+OK` (keeping the APOP timestamp), sends `CAPA`, then `STLS`
//!   per [`TlsPolicy`] (on `+OK`: [`Transmit::StartTls`], every byte received after the
//!   `+OK` is dropped, and `CAPA` is asked again). Then it logs in with the strongest
//!   method that fits: SASL `AUTH` with the mechanism
//!   [`choose_mechanism`] picks (initial response
//!   when the line stays within 255 octets, `*` when a challenge cannot be answered),
//!   else `APOP` when the greeting has a timestamp, else `USER`/`PASS`. Passwords and
//!   tokens readable on the wire are sent only over TLS unless
//!   [`ClientConfig::allow_plaintext_auth`]. Then [`ClientEvent::Ready`].
//! - **Pipelining.** When the server offers `PIPELINING` (and
//!   [`ClientConfig::pipelining`]), every queued request leaves at once; otherwise one at
//!   a time.
//! - **Multi-line answers** are un-stuffed with [`DotDecoder`]; message content goes out
//!   in [`ClientEvent::MessageData`] pieces, never held whole.
//! - **Timeouts.** Every response waited for has a deadline of
//!   [`ClientConfig::timeout`], restarted by progress. A verb cannot read the clock, so
//!   a deadline it starts is measured from the last `now` the session was given, and
//!   the next [`handle_timeout`](Session::handle_timeout) restarts it from its own `now`
//!   instead of failing: such a deadline may be late by up to one period, never early.
//! - **Errors** (a refused greeting or login, a malformed line, a line nothing waits for,
//!   an end of stream before `QUIT` is answered, a timeout) end the session with
//!   [`ClientEvent::Closed`] and [`Transmit::Close`]; requests not yet answered get no
//!   event.

mod config;
mod event;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use mailwire_core::dot::DotDecoder;
use mailwire_core::line::LineBuffer;
use mailwire_core::sasl::{
    self, ClientExchange, CredentialsKind, Mechanism, Transport, choose_mechanism,
};
use mailwire_core::session::Outbox;
use mailwire_core::{Session, Transmit};

pub use config::{ClientConfig, Login, TlsPolicy};
pub use event::{AuthMethod, ClientApiError, ClientError, ClientEvent, RequestId};

use crate::parse::{
    ServerLine, parse_capability, parse_response, parse_scan_listing, parse_server_line,
    parse_stat, parse_uid_listing,
};
use crate::types::{ApopDigest, ApopTimestamp, Arg, Capability, Command, Password, Response};

/// What the answer to a request looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Stat,
    ListAll,
    ListOne,
    UidlAll,
    UidlOne,
    Message,
    Simple,
    Quit,
}

/// A response the client waits for, in order.
#[derive(Debug)]
enum Expect {
    Greeting,
    Capa,
    Stls,
    User,
    Pass,
    Apop,
    Auth(Box<ClientExchange>),
    Request(RequestId, Kind),
}

/// Where multi-line content goes.
#[derive(Debug)]
enum Body {
    Capa(Vec<u8>),
    List(RequestId, Vec<u8>),
    Uidl(RequestId, Vec<u8>),
    Message(RequestId),
}

/// One POP3 client session. See the [module documentation](self).
#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    lines: LineBuffer,
    body: Option<(DotDecoder, Body)>,
    expect: VecDeque<Expect>,
    queued: VecDeque<(RequestId, Command, Kind)>,
    next_id: u64,
    events: VecDeque<ClientEvent>,
    outbox: Outbox,
    timestamp: Option<ApopTimestamp>,
    capabilities: Vec<Capability>,
    capa_ok: bool,
    encrypted: bool,
    tls_tried: bool,
    ready: bool,
    authenticated: Option<AuthMethod>,
    quitting: bool,
    deadline: Option<Instant>,
    /// The deadline was set by a verb, from a stale `now`.
    deadline_from_verb: bool,
    now: Instant,
    closed: bool,
}

impl ClientSession {
    /// A session on a new connection; it waits for the server's greeting.
    pub fn new(config: ClientConfig, now: Instant) -> ClientSession {
        let encrypted = config.tls == TlsPolicy::Implicit;
        let mut expect = VecDeque::new();
        expect.push_back(Expect::Greeting);
        ClientSession {
            lines: LineBuffer::new(config.max_line_len),
            deadline: Some(now + config.timeout),
            config,
            body: None,
            expect,
            queued: VecDeque::new(),
            next_id: 0,
            events: VecDeque::new(),
            outbox: Outbox::new(),
            timestamp: None,
            capabilities: Vec::new(),
            capa_ok: false,
            encrypted,
            tls_tried: false,
            ready: false,
            authenticated: None,
            quitting: false,
            deadline_from_verb: false,
            now,
            closed: false,
        }
    }

    /// The server's capabilities from its last `CAPA` answer.
    pub fn capabilities(&self) -> &[Capability] {
        &self.capabilities
    }

    /// Whether the session is logged in and answering requests.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Whether the connection is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// How the session logged in, once it has.
    pub fn authenticated(&self) -> Option<&AuthMethod> {
        self.authenticated.as_ref()
    }

    /// Requests sent and not yet answered.
    pub fn outstanding(&self) -> usize {
        self.expect.len()
    }

    // ----------------------------------------------------------------------------------
    // Verbs.

    /// `STAT`: answered by [`ClientEvent::Stat`].
    pub fn stat(&mut self) -> Result<RequestId, ClientApiError> {
        self.request(Command::Stat, Kind::Stat)
    }

    /// `LIST` (all messages, or message `msg`): answered by [`ClientEvent::Listing`].
    pub fn list(&mut self, msg: Option<u32>) -> Result<RequestId, ClientApiError> {
        let kind = if msg.is_some() {
            Kind::ListOne
        } else {
            Kind::ListAll
        };
        self.request(Command::List(msg), kind)
    }

    /// `UIDL` (all messages, or message `msg`): answered by [`ClientEvent::UniqueIds`].
    pub fn uidl(&mut self, msg: Option<u32>) -> Result<RequestId, ClientApiError> {
        let kind = if msg.is_some() {
            Kind::UidlOne
        } else {
            Kind::UidlAll
        };
        self.request(Command::Uidl(msg), kind)
    }

    /// `RETR msg`: answered by [`ClientEvent::MessageStart`], data, and
    /// [`ClientEvent::MessageEnd`].
    pub fn retr(&mut self, msg: u32) -> Result<RequestId, ClientApiError> {
        self.request(Command::Retr(msg), Kind::Message)
    }

    /// `TOP msg lines`: the header and the first `lines` body lines, answered like
    /// [`retr`](Self::retr).
    pub fn top(&mut self, msg: u32, lines: u32) -> Result<RequestId, ClientApiError> {
        self.request(Command::Top { msg, lines }, Kind::Message)
    }

    /// `DELE msg`: answered by [`ClientEvent::Done`]. Takes effect at `QUIT`.
    pub fn dele(&mut self, msg: u32) -> Result<RequestId, ClientApiError> {
        self.request(Command::Dele(msg), Kind::Simple)
    }

    /// `RSET`: unmarks deleted messages; answered by [`ClientEvent::Done`].
    pub fn rset(&mut self) -> Result<RequestId, ClientApiError> {
        self.request(Command::Rset, Kind::Simple)
    }

    /// `NOOP`: answered by [`ClientEvent::Done`].
    pub fn noop(&mut self) -> Result<RequestId, ClientApiError> {
        self.request(Command::Noop, Kind::Simple)
    }

    /// `QUIT`, after the requests before it: the server commits deletions, and the
    /// session ends with [`ClientEvent::Closed`]. No request may follow.
    pub fn quit(&mut self) -> Result<RequestId, ClientApiError> {
        let id = self.request(Command::Quit, Kind::Quit)?;
        self.quitting = true;
        Ok(id)
    }

    fn request(&mut self, command: Command, kind: Kind) -> Result<RequestId, ClientApiError> {
        if self.closed || self.quitting {
            return Err(ClientApiError::Closed);
        }
        self.next_id += 1;
        let id = RequestId(self.next_id);
        self.queued.push_back((id, command, kind));
        let before = self.deadline;
        self.pump();
        if self.deadline != before {
            self.deadline_from_verb = true;
        }
        Ok(id)
    }

    /// Sends queued requests when the session is ready: all at once with pipelining,
    /// else one when nothing is outstanding.
    fn pump(&mut self) {
        if !self.ready || self.closed {
            return;
        }
        let pipelining =
            self.config.pipelining && self.capabilities.contains(&Capability::Pipelining);
        while !self.queued.is_empty() && (pipelining || self.expect.is_empty()) {
            let Some((id, command, kind)) = self.queued.pop_front() else {
                break;
            };
            self.send(&command, Expect::Request(id, kind));
        }
    }

    // ----------------------------------------------------------------------------------
    // Input.

    fn process(&mut self) {
        while !self.closed {
            let progressed = if self.body.is_some() {
                self.process_body()
            } else {
                match self.lines.next_line() {
                    None => false,
                    Some(Ok(line)) => {
                        self.on_line(&line);
                        true
                    }
                    Some(Err(_)) => {
                        self.fail(ClientError::TooLarge);
                        true
                    }
                }
            };
            if !progressed {
                break;
            }
        }
    }

    fn process_body(&mut self) -> bool {
        let Some((decoder, body)) = self.body.as_mut() else {
            return false;
        };
        let input = self.lines.take_buffered();
        if input.is_empty() {
            return false;
        }
        let mut content = Vec::with_capacity(input.len());
        let status = decoder.decode(&input, &mut content);
        if let Some(rest) = input.get(status.consumed..)
            && !rest.is_empty()
        {
            self.lines.push(rest);
        }
        self.deadline = Some(self.now + self.config.timeout);
        self.deadline_from_verb = false;
        let limit = self.config.max_listing_len;
        let too_large = match body {
            Body::Message(id) => {
                if !content.is_empty() {
                    self.events.push_back(ClientEvent::MessageData {
                        id: *id,
                        data: Bytes::from(content),
                    });
                }
                false
            }
            Body::Capa(buf) | Body::List(_, buf) | Body::Uidl(_, buf) => {
                buf.extend_from_slice(&content);
                buf.len() > limit
            }
        };
        if too_large {
            self.fail(ClientError::TooLarge);
            return true;
        }
        if status.done
            && let Some((_, body)) = self.body.take()
        {
            self.body_done(body);
        }
        true
    }

    fn body_done(&mut self, body: Body) {
        match body {
            Body::Message(id) => {
                self.events.push_back(ClientEvent::MessageEnd { id });
                self.pump();
            }
            Body::Capa(buf) => {
                // Lines this crate cannot read are skipped: servers send odd ones.
                self.capabilities = body_lines(&buf)
                    .filter_map(|line| parse_capability(line).ok())
                    .collect();
                self.capa_ok = true;
                self.after_capa();
            }
            Body::List(id, buf) => {
                match body_lines(&buf).map(parse_scan_listing).collect() {
                    Ok(entries) => self.events.push_back(ClientEvent::Listing { id, entries }),
                    Err(error) => self.fail(ClientError::Protocol(error)),
                }
                self.pump();
            }
            Body::Uidl(id, buf) => {
                match body_lines(&buf).map(parse_uid_listing).collect() {
                    Ok(entries) => self
                        .events
                        .push_back(ClientEvent::UniqueIds { id, entries }),
                    Err(error) => self.fail(ClientError::Protocol(error)),
                }
                self.pump();
            }
        }
    }

    fn start_body(&mut self, body: Body) {
        self.body = Some((DotDecoder::new(), body));
    }

    fn on_line(&mut self, line: &[u8]) {
        let Some(expect) = self.expect.pop_front() else {
            return self.fail(ClientError::Unexpected);
        };
        self.deadline_from_verb = false;
        self.deadline = if self.expect.is_empty() {
            None
        } else {
            Some(self.now + self.config.timeout)
        };
        if let Expect::Auth(exchange) = expect {
            return self.auth_line(*exchange, line);
        }
        let response = match parse_response(line) {
            Ok(response) => response,
            Err(error) => return self.fail(ClientError::Protocol(error)),
        };
        match expect {
            Expect::Greeting => {
                if !response.is_ok() {
                    return self.fail(ClientError::GreetingRefused(response));
                }
                let timestamp = ApopTimestamp::find_in(response.text());
                self.timestamp = timestamp.clone();
                self.events.push_back(ClientEvent::Greeting {
                    response,
                    timestamp,
                });
                self.send(&Command::Capa, Expect::Capa);
            }
            Expect::Capa => {
                if response.is_ok() {
                    self.start_body(Body::Capa(Vec::new()));
                } else {
                    self.capabilities.clear();
                    self.capa_ok = false;
                    self.after_capa();
                }
            }
            Expect::Stls => {
                if response.is_ok() {
                    self.outbox.start_tls();
                    // RFC 2595 4: nothing the server sent before the handshake counts.
                    self.lines.clear();
                    self.encrypted = true;
                    self.capabilities.clear();
                    self.send(&Command::Capa, Expect::Capa);
                } else if self.config.tls == TlsPolicy::Required {
                    self.fail(ClientError::TlsRefused(response));
                } else {
                    self.start_auth();
                }
            }
            Expect::User => {
                if !response.is_ok() {
                    return self.auth_failed(response);
                }
                let password = self
                    .config
                    .credentials
                    .as_ref()
                    .and_then(|login| Password::new(login.secret().expose()).ok());
                match password {
                    Some(password) => self.send(&Command::Pass(password), Expect::Pass),
                    None => self.fail(ClientError::NoAuthMethod),
                }
            }
            Expect::Pass => self.logged_in(response, AuthMethod::UserPass),
            Expect::Apop => self.logged_in(response, AuthMethod::Apop),
            Expect::Auth(_) => {}
            Expect::Request(id, kind) => self.answer(id, kind, response),
        }
    }

    fn answer(&mut self, id: RequestId, kind: Kind, response: Response) {
        if !response.is_ok() {
            if kind == Kind::Quit {
                return self.finish(Some(ClientError::QuitRefused(response)));
            }
            self.events.push_back(ClientEvent::Failed { id, response });
            return self.pump();
        }
        match kind {
            Kind::Stat => match parse_stat(response.text()) {
                Ok((count, size)) => self.events.push_back(ClientEvent::Stat { id, count, size }),
                Err(error) => return self.fail(ClientError::Protocol(error)),
            },
            Kind::ListOne => match parse_scan_listing(response.text().as_bytes()) {
                Ok(entry) => self.events.push_back(ClientEvent::Listing {
                    id,
                    entries: vec![entry],
                }),
                Err(error) => return self.fail(ClientError::Protocol(error)),
            },
            Kind::UidlOne => match parse_uid_listing(response.text().as_bytes()) {
                Ok(entry) => self.events.push_back(ClientEvent::UniqueIds {
                    id,
                    entries: vec![entry],
                }),
                Err(error) => return self.fail(ClientError::Protocol(error)),
            },
            Kind::ListAll => return self.start_body(Body::List(id, Vec::new())),
            Kind::UidlAll => return self.start_body(Body::Uidl(id, Vec::new())),
            Kind::Message => {
                self.events
                    .push_back(ClientEvent::MessageStart { id, response });
                return self.start_body(Body::Message(id));
            }
            Kind::Simple => self.events.push_back(ClientEvent::Done { id, response }),
            Kind::Quit => return self.finish(None),
        }
        self.pump();
    }

    // ----------------------------------------------------------------------------------
    // Opening and login.

    fn after_capa(&mut self) {
        let offered = self.capabilities.contains(&Capability::Stls);
        let want = match self.config.tls {
            TlsPolicy::Never | TlsPolicy::Implicit => false,
            TlsPolicy::Opportunistic => offered,
            TlsPolicy::Required => {
                if self.capa_ok && !offered && !self.encrypted {
                    return self.fail(ClientError::TlsUnavailable);
                }
                true
            }
        };
        if want && !self.encrypted && !self.tls_tried {
            self.tls_tried = true;
            return self.send(&Command::Stls, Expect::Stls);
        }
        self.start_auth();
    }

    fn transport(&self) -> Transport {
        if self.encrypted {
            Transport::Encrypted
        } else if self.config.allow_plaintext_auth {
            Transport::UnencryptedAllowCleartext
        } else {
            Transport::Unencrypted
        }
    }

    fn start_auth(&mut self) {
        let Some(login) = self.config.credentials.clone() else {
            return self.ready(None);
        };
        let offered: Vec<Mechanism> = self
            .capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::Sasl(mechs) => Some(mechs.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        if let Some(mechanism) = choose_mechanism(&offered, login.kind(), self.transport())
            && let Ok(exchange) = ClientExchange::new(mechanism.clone(), login.clone())
        {
            let mut command = Command::Auth {
                mechanism: mechanism.clone(),
                initial_response: exchange.initial_response().map(Into::into),
            };
            if command.to_bytes().len() > 255 {
                command = Command::Auth {
                    mechanism,
                    initial_response: None,
                };
            }
            return self.send(&command, Expect::Auth(Box::new(exchange)));
        }
        if login.kind() == CredentialsKind::Password {
            let name = Arg::new(login.username()).ok();
            if self.config.apop
                && let (Some(timestamp), Some(name)) = (self.timestamp.as_ref(), name.clone())
            {
                let digest = ApopDigest::compute(timestamp, login.secret().expose());
                return self.send(&Command::Apop { name, digest }, Expect::Apop);
            }
            let cleartext = self.transport() != Transport::Unencrypted;
            let offers_user = !self.capa_ok || self.capabilities.contains(&Capability::User);
            if cleartext
                && offers_user
                && let Some(name) = name
            {
                return self.send(&Command::User(name), Expect::User);
            }
        }
        self.fail(ClientError::NoAuthMethod);
    }

    fn auth_line(&mut self, mut exchange: ClientExchange, line: &[u8]) {
        let mechanism = exchange.mechanism().clone();
        match parse_server_line(line) {
            Ok(ServerLine::Continuation(text)) => {
                let answer =
                    sasl::decode_challenge(text.as_bytes(), self.config.max_sasl_challenge)
                        .and_then(|challenge| exchange.respond(&challenge));
                let mut wire = match answer {
                    Ok(answer) => sasl::encode_response(&answer).into_bytes(),
                    Err(_) => sasl::CANCEL.to_vec(),
                };
                wire.extend_from_slice(b"\r\n");
                self.outbox.buf().extend_from_slice(&wire);
                self.expect.push_front(Expect::Auth(Box::new(exchange)));
                self.deadline = Some(self.now + self.config.timeout);
            }
            Ok(ServerLine::Response(response)) => {
                self.logged_in(response, AuthMethod::Sasl(mechanism))
            }
            Err(error) => self.fail(ClientError::Protocol(error)),
        }
    }

    fn logged_in(&mut self, response: Response, method: AuthMethod) {
        if response.is_ok() {
            self.ready(Some(method));
        } else {
            self.auth_failed(response);
        }
    }

    fn auth_failed(&mut self, response: Response) {
        // Leave politely: the server is still talking to us.
        Command::Quit.encode(self.outbox.buf());
        self.finish(Some(ClientError::AuthFailed(response)));
    }

    fn ready(&mut self, method: Option<AuthMethod>) {
        self.ready = true;
        self.authenticated = method.clone();
        self.events.push_back(ClientEvent::Ready {
            capabilities: self.capabilities.clone(),
            encrypted: self.encrypted,
            authenticated: method,
        });
        self.pump();
    }

    // ----------------------------------------------------------------------------------
    // Output.

    fn send(&mut self, command: &Command, expect: Expect) {
        if self.closed {
            return;
        }
        command.encode(self.outbox.buf());
        self.expect.push_back(expect);
        self.deadline = Some(self.now + self.config.timeout);
    }

    fn fail(&mut self, error: ClientError) {
        self.finish(Some(error));
    }

    fn finish(&mut self, error: Option<ClientError>) {
        if self.closed {
            return;
        }
        self.outbox.close();
        self.events.push_back(ClientEvent::Closed { error });
        self.closed = true;
        self.deadline = None;
        self.expect.clear();
        self.queued.clear();
        self.body = None;
        self.lines.clear();
    }
}

/// The lines of a decoded multi-line body, without their CRLF.
fn body_lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = buf.strip_suffix(b"\r\n").unwrap_or(buf);
    let empty = trimmed.is_empty() && buf.is_empty();
    trimmed
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(move |_| !empty)
}

impl Session for ClientSession {
    type Event = ClientEvent;

    fn handle_input(&mut self, input: &[u8], now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        self.lines.push(input);
        self.process();
    }

    fn handle_eof(&mut self, now: Instant) {
        self.now = now;
        self.finish(Some(ClientError::PeerClosed));
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.deadline.is_some_and(|deadline| deadline <= now) {
            if std::mem::take(&mut self.deadline_from_verb) {
                self.deadline = Some(now + self.config.timeout);
            } else {
                self.fail(ClientError::Timeout);
            }
        }
    }

    fn poll_event(&mut self) -> Option<ClientEvent> {
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
}
