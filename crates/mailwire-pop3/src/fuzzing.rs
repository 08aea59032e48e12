//! Checking logic for the cargo-fuzz targets `pop3_command`, `pop3_response`,
//! `pop3_server` and `pop3_client` in `fuzz/`, kept in the crate so that the seed corpora
//! can be replayed by ordinary tests. Not a stable API.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mailwire_core::sasl::{Credentials, Mechanism};
use mailwire_core::{Session, Transmit};

use crate::client::{ClientConfig, ClientEvent, ClientSession, Login, TlsPolicy};
use crate::parse::{
    CommandOptions, ServerLine, decode_command, parse_capability, parse_command,
    parse_scan_listing, parse_server_line, parse_uid_listing,
};
use crate::server::{DecisionError, MessageInfo, ServerConfig, ServerEvent, ServerSession};
use crate::types::{ApopTimestamp, Response, Uid};

/// `pop3_command`: parses `data` as a command line; a command that parses must encode to
/// a line that parses back to the same command. `decode_command` must agree with
/// `parse_command` on a CRLF-terminated copy.
pub fn command(data: &[u8]) {
    let options = CommandOptions::new(1024, 40);
    if let Ok(command) = parse_command(data, &options) {
        let wire = command.to_bytes();
        let line = wire.strip_suffix(b"\r\n").unwrap_or(&wire);
        assert!(
            !line.contains(&b'\r') && !line.contains(&b'\n'),
            "CR/LF in an encoded command"
        );
        assert_eq!(parse_command(line, &options).as_ref(), Ok(&command));
        assert_eq!(
            decode_command(&wire, &options),
            Ok(Some((command, wire.len())))
        );
    }
    if !data.windows(2).any(|w| w == b"\r\n") {
        let mut line = data.to_vec();
        line.extend_from_slice(b"\r\n");
        let whole = decode_command(&line, &options).map(|d| d.map(|(c, _)| c));
        assert_eq!(whole, parse_command(data, &options).map(Some));
    }
}

/// `pop3_response`: every CRLF-separated line of `data` is tried as a status line or
/// continuation, a capability and a listing; whatever parses must encode and parse back
/// to the same value.
pub fn response(data: &[u8]) {
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Ok(ServerLine::Response(response)) = parse_server_line(line) {
            let wire = response.to_bytes();
            let back = parse_server_line(wire.strip_suffix(b"\r\n").unwrap_or(&wire));
            assert_eq!(back, Ok(ServerLine::Response(response)));
        }
        if let Ok(capability) = parse_capability(line) {
            let mut wire = Vec::new();
            capability.encode(&mut wire);
            assert!(
                !wire.starts_with(b"."),
                "a capability line starting with a dot"
            );
            assert_eq!(
                parse_capability(wire.strip_suffix(b"\r\n").unwrap_or(&wire)),
                Ok(capability)
            );
        }
        if let Ok(scan) = parse_scan_listing(line) {
            let mut wire = Vec::new();
            scan.encode(&mut wire);
            assert_eq!(
                parse_scan_listing(wire.strip_suffix(b"\r\n").unwrap_or(&wire)),
                Ok(scan)
            );
        }
        if let Ok(listing) = parse_uid_listing(line) {
            let mut wire = Vec::new();
            listing.encode(&mut wire);
            assert_eq!(
                parse_uid_listing(wire.strip_suffix(b"\r\n").unwrap_or(&wire)),
                Ok(listing)
            );
        }
    }
}

const MESSAGES: [&[u8]; 3] = [
    b"Subject: a\r\n\r\n.dot\r\nline\r\n",
    b"Subject: b\n\nbare\n.\n",
    b"",
];

/// `pop3_server`: runs a server session over `data`: the first byte picks the
/// configuration, the rest is split into inputs at every `0xff` byte. The application
/// accepts every password `demo`, opens a three-message maildrop (refusing it as in use
/// every other time), streams messages in pieces (only while the session wants them, the
/// rest on `MoreMessageData`; the selector's top bit bounds the output to 16 octets) and
/// commits. Checks that nothing panics, that every decision accepts its verb, that events
/// name valid messages, that a message stream never stalls, that the output is
/// CRLF-terminated lines, that nothing is written after `Transmit::Close`, and that a
/// commit is only asked after `QUIT`.
pub fn server(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut config = ServerConfig::new();
    config.stls = selector & 1 != 0;
    config.allow_plaintext_auth = selector & 2 != 0;
    config.require_tls = selector & 4 != 0;
    config.pipelining = selector & 8 != 0;
    config.utf8 = selector & 16 != 0;
    config.max_errors = 50;
    if selector & 128 != 0 {
        // A tiny output bound: messages stream over many MoreMessageData events and
        // pipelined commands wait for the output to be taken.
        config.max_pending_output = 16;
        config.lang = true;
    }
    config.auth_mechanisms = vec![
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
    ];
    let mut now = Instant::now();
    let config = Arc::new(config);
    let mut session = if selector & 32 != 0 {
        let ts = ApopTimestamp::generate(1, 2, "fuzz.example")
            .unwrap_or_else(|_| unreachable!("a valid literal timestamp"));
        ServerSession::with_timestamp(config, ts, selector & 64 != 0, now)
    } else if selector & 64 != 0 {
        ServerSession::new_tls(config, now)
    } else {
        ServerSession::new(config, now)
    };
    let mut state = ServerCheck::default();
    let mut sent = Vec::new();
    for chunk in rest.split(|&b| b == 0xff) {
        now += Duration::from_secs(1);
        sent.extend_from_slice(chunk);
        state.quit_seen = sent.windows(4).any(|w| w.eq_ignore_ascii_case(b"QUIT"));
        session.handle_input(chunk, now);
        state.drain(&mut session);
    }
    session.handle_timeout(now + Duration::from_secs(3600));
    state.drain(&mut session);
    session.handle_eof(now);
    state.drain(&mut session);
    assert!(
        state.wire.is_empty() || state.wire.ends_with(b"\r\n"),
        "output ends mid-line"
    );
}

#[derive(Default)]
struct ServerCheck {
    wire: Vec<u8>,
    closed: bool,
    maildrops: u32,
    quit_seen: bool,
    /// The message being streamed and how much of it was sent.
    cursor: Option<(usize, usize)>,
}

impl ServerCheck {
    fn drain(&mut self, session: &mut ServerSession) {
        loop {
            let mut busy = false;
            while let Some(event) = session.poll_event() {
                busy = true;
                self.event(session, event);
            }
            while let Some(transmit) = session.poll_transmit() {
                busy = true;
                assert!(!self.closed, "output after Transmit::Close");
                match transmit {
                    Transmit::Data(bytes) => self.wire.extend_from_slice(&bytes),
                    Transmit::StartTls => {}
                    Transmit::Close => self.closed = true,
                }
            }
            if !busy {
                break;
            }
        }
        assert!(
            self.cursor.is_none() || session.is_closed(),
            "a message stream stalled: no output and no MoreMessageData"
        );
    }

    /// Sends pieces of the message being streamed while the session wants them; finishes
    /// it at its end.
    fn feed(&mut self, session: &mut ServerSession) -> Result<(), DecisionError> {
        let Some((index, mut offset)) = self.cursor else {
            panic!("MoreMessageData without a message being streamed");
        };
        let message = MESSAGES
            .get(index)
            .expect("Retrieve names a listed message");
        loop {
            let rest = message.get(offset..).unwrap_or_default();
            if !session.wants_message_data() || rest.is_empty() {
                self.cursor = None;
                return session.finish_message();
            }
            if !session.wants_message_chunk() {
                self.cursor = Some((index, offset));
                return Ok(());
            }
            let piece = rest.get(..3).unwrap_or(rest);
            assert!(session.send_message_chunk(piece).is_ok());
            offset += piece.len();
        }
    }

    fn event(&mut self, session: &mut ServerSession, event: ServerEvent) {
        let refuse = Response::err("no");
        let result = match event {
            ServerEvent::Login { password, .. } => {
                if password.expose() == "demo" {
                    session.accept()
                } else {
                    session.reject(refuse)
                }
            }
            ServerEvent::Apop { .. } => session.accept(),
            ServerEvent::Auth { credentials } => match credentials {
                Credentials::Password(claim) if claim.password.expose() == "demo" => {
                    session.accept()
                }
                _ => session.reject(refuse),
            },
            ServerEvent::Maildrop { .. } => {
                self.maildrops += 1;
                if self.maildrops.is_multiple_of(2) {
                    session.reject(Response::in_use())
                } else {
                    let listing = MESSAGES
                        .iter()
                        .enumerate()
                        .map(|(i, m)| MessageInfo {
                            size: m.len() as u64,
                            uid: Uid::new(format!("u{i}"))
                                .unwrap_or_else(|_| unreachable!("a valid literal uid")),
                        })
                        .collect();
                    session.open_maildrop(listing)
                }
            }
            ServerEvent::Retrieve { index, .. } => {
                assert!(self.cursor.is_none(), "Retrieve while a message streams");
                assert!(index < MESSAGES.len(), "Retrieve names a listed message");
                self.cursor = Some((index, 0));
                self.feed(session)
            }
            ServerEvent::MoreMessageData { index } => {
                assert_eq!(
                    self.cursor.map(|c| c.0),
                    Some(index),
                    "MoreMessageData names the message"
                );
                self.feed(session)
            }
            ServerEvent::Commit { deleted } => {
                assert!(self.quit_seen, "a commit without QUIT");
                assert!(
                    deleted.windows(2).all(|w| w[0] < w[1]),
                    "deletions ascending"
                );
                assert!(deleted.iter().all(|&i| i < MESSAGES.len()));
                session.accept()
            }
            _ => Ok(()),
        };
        assert!(
            result.is_ok(),
            "a decision event must accept its verb: {result:?}"
        );
    }
}

/// `pop3_client`: runs a client session with queued requests against `data` as the
/// server's bytes: the first byte picks the configuration, the rest is split into inputs
/// at every `0xff` byte. Checks that nothing panics, that nothing is written after
/// `Transmit::Close`, and that a closed session has said `Closed` exactly once, last.
pub fn client(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut config = ClientConfig::new(Login::password("demo", "demo".to_string()));
    config.tls = match selector & 3 {
        0 => TlsPolicy::Never,
        1 => TlsPolicy::Opportunistic,
        2 => TlsPolicy::Required,
        _ => TlsPolicy::Implicit,
    };
    config.allow_plaintext_auth = selector & 4 != 0;
    config.pipelining = selector & 8 != 0;
    config.max_listing_len = 4096;
    config.max_line_len = 1024;
    let mut now = Instant::now();
    let mut session = ClientSession::new(config, now);
    let _ = session.stat();
    let _ = session.list(None);
    let _ = session.uidl(Some(1));
    let _ = session.retr(1);
    let _ = session.top(1, 2);
    let _ = session.dele(1);
    if selector & 16 != 0 {
        let _ = session.quit();
    }
    let mut events = Vec::new();
    let mut closed = false;
    for chunk in rest.split(|&b| b == 0xff) {
        now += Duration::from_secs(1);
        session.handle_input(chunk, now);
        drain_client(&mut session, &mut events, &mut closed);
    }
    session.handle_eof(now);
    drain_client(&mut session, &mut events, &mut closed);
    let closes = events
        .iter()
        .filter(|e| matches!(e, ClientEvent::Closed { .. }))
        .count();
    assert_eq!(closes, 1, "exactly one Closed event");
    assert!(matches!(events.last(), Some(ClientEvent::Closed { .. })));
}

fn drain_client(session: &mut ClientSession, events: &mut Vec<ClientEvent>, closed: &mut bool) {
    loop {
        let mut busy = false;
        while let Some(event) = session.poll_event() {
            busy = true;
            events.push(event);
        }
        while let Some(transmit) = session.poll_transmit() {
            busy = true;
            assert!(!*closed, "output after Transmit::Close");
            if transmit == Transmit::Close {
                *closed = true;
            }
        }
        if !busy {
            break;
        }
    }
}
