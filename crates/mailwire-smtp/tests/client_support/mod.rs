//! A scripted SMTP / LMTP server in memory for the client tests, and a driver that runs a
//! [`ClientSession`] against it.
//!
//! The fake server parses every command with the crate's own parser (so a malformed
//! command from the client is counted in `syntax_errors`), un-stuffs `DATA` with the core
//! `DotDecoder`, reads `BDAT` chunks by count, runs real SASL server exchanges, and
//! counts how many commands the client sent before it could have seen a reply.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use mailwire_core::dot::DotDecoder;
use mailwire_core::sasl::{
    Credentials, Response, ServerExchange, ServerOptions, Step, decode_response, encode_challenge,
};
use mailwire_core::{Session, Transmit};
use mailwire_smtp::client::{ClientConfig, ClientEvent, ClientSession, Envelope};
use mailwire_smtp::parse::{CommandParseOptions, parse_command};
use mailwire_smtp::types::{Command, ForwardPath, Host, Mailbox, ReversePath};

pub const CRAM_CHALLENGE: &str = "<1896.697170952@fake.example>";

/// A hook sees each command line (without CRLF) and may answer it itself.
pub type Hook = Box<dyn FnMut(&str) -> Option<String>>;

enum Mode {
    Command,
    Data(DotDecoder, Vec<u8>),
    Bdat { remaining: usize, last: bool },
    Auth(ServerExchange),
    Closed,
}

pub struct FakeServer {
    // Script.
    pub greeting: String,
    pub capabilities: Vec<String>,
    pub lmtp: bool,
    /// A reply to `EHLO` / `LHLO` instead of the capabilities.
    pub ehlo_reply: Option<String>,
    /// Bytes sent right after the `220` to `STARTTLS`, in the same write (an injection the
    /// client must drop).
    pub starttls_inject: String,
    /// Recipients (substring of the `RCPT` line) refused with 550.
    pub refuse_rcpt: Vec<String>,
    /// LMTP: recipients (substring) whose final reply is 452.
    pub lmtp_refuse_final: Vec<String>,
    /// Replies to successive ends of message (default `250 2.0.0 Ok: queued`).
    pub final_replies: VecDeque<String>,
    /// Replies to successive `BDAT` chunks instead of the usual ones (the chunk is
    /// discarded).
    pub chunk_replies: VecDeque<String>,
    /// The one user and secret (password or token) AUTH accepts.
    pub auth_user: (String, String),
    pub hook: Option<Hook>,
    // State.
    mode: Mode,
    input: Vec<u8>,
    out: Vec<u8>,
    in_transaction: bool,
    accepted: Vec<String>,
    bdat: Vec<u8>,
    unanswered: usize,
    pub tls: bool,
    pub max_unanswered: usize,
    /// Command lines received (AUTH responses and content excluded).
    pub commands: Vec<String>,
    /// The content of every message received whole.
    pub messages: Vec<Vec<u8>>,
    pub syntax_errors: usize,
    /// Bytes received between the `220` to `STARTTLS` and the client's handshake.
    pub bytes_before_handshake: usize,
    awaiting_handshake: bool,
}

impl FakeServer {
    pub fn new(capabilities: &[&str]) -> FakeServer {
        FakeServer {
            greeting: "220 fake.example ESMTP ready\r\n".into(),
            capabilities: capabilities.iter().map(|s| s.to_string()).collect(),
            lmtp: false,
            ehlo_reply: None,
            starttls_inject: String::new(),
            refuse_rcpt: Vec::new(),
            lmtp_refuse_final: Vec::new(),
            final_replies: VecDeque::new(),
            chunk_replies: VecDeque::new(),
            auth_user: ("tim".into(), "tanstaaftanstaaf".into()),
            hook: None,
            mode: Mode::Command,
            input: Vec::new(),
            out: Vec::new(),
            in_transaction: false,
            accepted: Vec::new(),
            bdat: Vec::new(),
            unanswered: 0,
            tls: false,
            max_unanswered: 0,
            commands: Vec::new(),
            messages: Vec::new(),
            syntax_errors: 0,
            bytes_before_handshake: 0,
            awaiting_handshake: false,
        }
    }

    pub fn greet(&mut self) {
        let greeting = self.greeting.clone();
        self.out.extend_from_slice(greeting.as_bytes());
    }

    pub fn take_output(&mut self) -> Vec<u8> {
        self.unanswered = 0;
        std::mem::take(&mut self.out)
    }

    pub fn start_tls(&mut self) {
        assert!(
            self.awaiting_handshake,
            "StartTls without a 220 to STARTTLS"
        );
        self.awaiting_handshake = false;
        self.tls = true;
        self.input.clear();
    }

    fn reply(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    fn count_command(&mut self) {
        self.unanswered += 1;
        self.max_unanswered = self.max_unanswered.max(self.unanswered);
    }

    pub fn receive(&mut self, bytes: &[u8]) {
        if matches!(self.mode, Mode::Closed) {
            return;
        }
        if self.awaiting_handshake {
            self.bytes_before_handshake += bytes.len();
            return;
        }
        self.input.extend_from_slice(bytes);
        self.process();
    }

    fn process(&mut self) {
        loop {
            match &mut self.mode {
                Mode::Closed => return,
                Mode::Data(decoder, content) => {
                    let status = decoder.decode(&self.input, content);
                    self.input.drain(..status.consumed);
                    if !status.done {
                        return;
                    }
                    let content = std::mem::take(content);
                    self.mode = Mode::Command;
                    self.count_command();
                    self.end_of_message(content);
                }
                Mode::Bdat { remaining, last } => {
                    let take = (*remaining).min(self.input.len());
                    self.bdat.extend(self.input.drain(..take));
                    *remaining -= take;
                    if *remaining > 0 {
                        return;
                    }
                    let last = *last;
                    self.mode = Mode::Command;
                    if let Some(reply) = self.chunk_replies.pop_front() {
                        self.bdat.clear();
                        self.reply(&reply);
                    } else if self.accepted.is_empty() {
                        self.bdat.clear();
                        self.reply("554 5.5.1 No valid recipients\r\n");
                    } else if last {
                        let content = std::mem::take(&mut self.bdat);
                        self.end_of_message(content);
                    } else {
                        self.reply("250 2.0.0 Chunk received\r\n");
                    }
                }
                Mode::Auth(_) | Mode::Command => {
                    let Some(lf) = self.input.iter().position(|&b| b == b'\n') else {
                        return;
                    };
                    let line: Vec<u8> = self.input.drain(..=lf).collect();
                    self.count_command();
                    if let Mode::Auth(exchange) = &mut self.mode {
                        let text = line.strip_suffix(b"\r\n").unwrap_or(&line);
                        let step = match decode_response(text, 100_000) {
                            Ok(Response::Data(data)) => exchange.step(&data),
                            Ok(Response::Cancel) => {
                                self.mode = Mode::Command;
                                self.reply("501 5.7.0 Authentication cancelled\r\n");
                                continue;
                            }
                            Err(_) => {
                                self.mode = Mode::Command;
                                self.reply("501 5.5.2 Bad base64\r\n");
                                continue;
                            }
                        };
                        self.auth_step(step);
                        continue;
                    }
                    self.command(&line);
                }
            }
        }
    }

    fn end_of_message(&mut self, content: Vec<u8>) {
        self.messages.push(content);
        self.in_transaction = false;
        let accepted = std::mem::take(&mut self.accepted);
        if self.lmtp {
            for rcpt in accepted {
                if self
                    .lmtp_refuse_final
                    .iter()
                    .any(|r| rcpt.contains(r.as_str()))
                {
                    self.reply("452 4.2.2 Mailbox full\r\n");
                } else {
                    self.reply("250 2.0.0 Delivered\r\n");
                }
            }
        } else {
            let reply = self
                .final_replies
                .pop_front()
                .unwrap_or_else(|| "250 2.0.0 Ok: queued\r\n".into());
            self.reply(&reply);
        }
    }

    fn command(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line.strip_suffix(b"\r\n").unwrap_or(line)).into_owned();
        self.commands.push(text.clone());
        if let Some(hook) = self.hook.as_mut()
            && let Some(reply) = hook(&text)
        {
            self.reply(&reply);
            return;
        }
        let mut opts = CommandParseOptions::default();
        opts.smtputf8 = true;
        let command = match parse_command(line, &opts) {
            Ok(Some((command, _))) => command,
            _ => {
                self.syntax_errors += 1;
                self.reply("500 5.5.2 Syntax error\r\n");
                return;
            }
        };
        match command {
            Command::Ehlo(_) | Command::Lhlo(_) => {
                self.in_transaction = false;
                self.accepted.clear();
                if let Some(reply) = self.ehlo_reply.clone() {
                    self.reply(&reply);
                    return;
                }
                let mut reply = String::from("250");
                let only = self.capabilities.is_empty()
                    || (self.tls
                        && self
                            .capabilities
                            .iter()
                            .all(|c| c.eq_ignore_ascii_case("STARTTLS")));
                reply.push(if only { ' ' } else { '-' });
                reply.push_str("fake.example greets you\r\n");
                // Like real servers, STARTTLS is not offered again once on TLS.
                let caps: Vec<String> = self
                    .capabilities
                    .iter()
                    .filter(|c| !(self.tls && c.eq_ignore_ascii_case("STARTTLS")))
                    .cloned()
                    .collect();
                let n = caps.len();
                for (i, cap) in caps.iter().enumerate() {
                    reply.push_str(if i + 1 == n { "250 " } else { "250-" });
                    reply.push_str(cap);
                    reply.push_str("\r\n");
                }
                self.reply(&reply);
            }
            Command::Helo(_) => self.reply("250 fake.example\r\n"),
            Command::StartTls => {
                self.reply("220 2.0.0 Ready to start TLS\r\n");
                let inject = self.starttls_inject.clone();
                self.out.extend_from_slice(inject.as_bytes());
                self.awaiting_handshake = true;
                self.bytes_before_handshake = self.input.len();
                self.input.clear();
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                let options = ServerOptions {
                    cram_md5_challenge: Some(CRAM_CHALLENGE.into()),
                    ..ServerOptions::default()
                };
                match ServerExchange::new(mechanism, options) {
                    Ok(mut exchange) => {
                        let step = exchange
                            .start(initial_response.as_ref().map(|r| r.expose().as_slice()));
                        self.mode = Mode::Auth(exchange);
                        self.auth_step(step);
                    }
                    Err(_) => self.reply("504 5.5.4 Unrecognized mechanism\r\n"),
                }
            }
            Command::Mail { .. } => {
                if self.in_transaction {
                    self.reply("503 5.5.1 Nested MAIL\r\n");
                } else {
                    self.in_transaction = true;
                    self.accepted.clear();
                    self.reply("250 2.1.0 Sender OK\r\n");
                }
            }
            Command::Rcpt { to, .. } => {
                let to = match to {
                    ForwardPath::Postmaster => "postmaster".to_string(),
                    ForwardPath::Mailbox(m) => m.to_string(),
                };
                if !self.in_transaction {
                    self.reply("503 5.5.1 MAIL first\r\n");
                } else if self.refuse_rcpt.iter().any(|r| to.contains(r.as_str())) {
                    self.reply("550 5.1.1 No such user\r\n");
                } else {
                    self.accepted.push(to);
                    self.reply("250 2.1.5 Recipient OK\r\n");
                }
            }
            Command::Data => {
                if !self.in_transaction {
                    self.reply("503 5.5.1 MAIL first\r\n");
                } else if self.accepted.is_empty() {
                    self.reply("554 5.5.1 No valid recipients\r\n");
                } else {
                    self.reply("354 End data with <CR><LF>.<CR><LF>\r\n");
                    self.mode = Mode::Data(DotDecoder::new(), Vec::new());
                }
            }
            Command::Bdat { size, last } => {
                self.mode = Mode::Bdat {
                    remaining: usize::try_from(size).unwrap(),
                    last,
                };
            }
            Command::Rset => {
                self.in_transaction = false;
                self.accepted.clear();
                self.bdat.clear();
                self.reply("250 2.0.0 Ok\r\n");
            }
            Command::Quit => {
                self.reply("221 2.0.0 Bye\r\n");
                self.mode = Mode::Closed;
            }
            _ => self.reply("250 2.0.0 Ok\r\n"),
        }
    }

    fn auth_step(&mut self, step: Step) {
        match step {
            Step::Challenge(challenge) => {
                let line = format!("334 {}\r\n", encode_challenge(&challenge));
                self.reply(&line);
            }
            Step::Done(credentials) => {
                let (user, secret) = self.auth_user.clone();
                let ok = match &credentials {
                    Credentials::Password(c) => c.authcid == user && c.password.expose() == &secret,
                    Credentials::CramMd5(c) => c.username == user && c.verify(&secret),
                    Credentials::OAuth(c) => {
                        c.user.as_deref() == Some(user.as_str()) && c.token.expose() == &secret
                    }
                    _ => false,
                };
                if ok {
                    self.mode = Mode::Command;
                    self.reply("235 2.7.0 Authentication successful\r\n");
                } else if let Mode::Auth(exchange) = &mut self.mode
                    && matches!(credentials, Credentials::OAuth(_))
                {
                    let step = exchange.fail_with(br#"{"status":"401"}"#);
                    self.auth_step(step);
                } else {
                    self.mode = Mode::Command;
                    self.reply("535 5.7.8 Authentication credentials invalid\r\n");
                }
            }
            Step::Failed(_) => {
                self.mode = Mode::Command;
                self.reply("535 5.7.8 Authentication failed\r\n");
            }
        }
    }
}

/// A client and the fake server, wired together in memory.
pub struct Pair {
    pub client: ClientSession,
    pub server: FakeServer,
    pub now: Instant,
    pub events: Vec<ClientEvent>,
    /// Everything the client sent.
    pub wire: Vec<u8>,
    /// The sizes of the `Transmit::Data` the client produced.
    pub transmit_sizes: Vec<usize>,
    pub handshakes: usize,
    pub transport_closed: bool,
    /// The most replies the client waited for at once.
    pub max_outstanding: usize,
}

impl Pair {
    pub fn new(config: ClientConfig, mut server: FakeServer) -> Pair {
        let now = Instant::now();
        server.greet();
        Pair {
            client: ClientSession::new(config, now),
            server,
            now,
            events: Vec::new(),
            wire: Vec::new(),
            transmit_sizes: Vec::new(),
            handshakes: 0,
            transport_closed: false,
            max_outstanding: 0,
        }
    }

    /// Runs until neither side has anything more to say, delivering the server's output
    /// whole.
    pub fn run(&mut self) {
        self.run_split(&mut |len| vec![len]);
    }

    /// Runs, delivering each server output split at the lengths `split` gives.
    pub fn run_split(&mut self, split: &mut dyn FnMut(usize) -> Vec<usize>) {
        loop {
            let mut progress = false;
            while let Some(event) = self.client.poll_event() {
                self.events.push(event);
                progress = true;
            }
            while let Some(transmit) = self.client.poll_transmit() {
                progress = true;
                self.max_outstanding = self.max_outstanding.max(self.client.outstanding());
                match transmit {
                    Transmit::Data(bytes) => {
                        assert!(!self.transport_closed, "data after Close");
                        self.transmit_sizes.push(bytes.len());
                        self.wire.extend_from_slice(&bytes);
                        self.server.receive(&bytes);
                    }
                    Transmit::StartTls => {
                        self.handshakes += 1;
                        self.server.start_tls();
                    }
                    Transmit::Close => self.transport_closed = true,
                }
            }
            self.max_outstanding = self.max_outstanding.max(self.client.outstanding());
            let output = self.server.take_output();
            if !output.is_empty() && !self.transport_closed {
                progress = true;
                let mut rest = &output[..];
                for len in split(output.len()) {
                    let (piece, tail) = rest.split_at(len.min(rest.len()));
                    rest = tail;
                    self.client.handle_input(piece, self.now);
                }
                if !rest.is_empty() {
                    self.client.handle_input(rest, self.now);
                }
            }
            if !progress {
                return;
            }
        }
    }

    /// The client's bytes as text.
    pub fn wire_text(&self) -> String {
        String::from_utf8_lossy(&self.wire).into_owned()
    }

    /// The event that closed the session.
    pub fn closed(&self) -> Option<&ClientEvent> {
        self.events
            .iter()
            .find(|e| matches!(e, ClientEvent::Closed { .. }))
    }
}

pub fn config() -> ClientConfig {
    ClientConfig::new(Host::try_from("client.example").unwrap())
}

pub fn mailbox(s: &str) -> Mailbox {
    Mailbox::try_from(s).unwrap()
}

pub fn envelope(from: &str, to: &[&str]) -> Envelope {
    let mut envelope = Envelope::new(ReversePath::Mailbox(mailbox(from)));
    for t in to {
        envelope = envelope.to(ForwardPath::Mailbox(mailbox(t)));
    }
    envelope
}

pub fn message(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

/// The capabilities of a modern server without STARTTLS and AUTH.
pub const MODERN: &[&str] = &[
    "PIPELINING",
    "SIZE 10000000",
    "8BITMIME",
    "SMTPUTF8",
    "ENHANCEDSTATUSCODES",
    "DSN",
];
