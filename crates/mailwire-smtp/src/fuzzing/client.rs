//! Fuzz checks for the client state machine ([`ClientSession`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mailwire_core::sasl::ClientCredentials;
use mailwire_core::{Session, Transmit};

use crate::client::{ClientConfig, ClientEvent, ClientSession, Envelope, TlsPolicy, TransactionId};
use crate::types::{ForwardPath, Host, Mailbox, ReversePath};

/// In the server bytes: deliver what came before as one input.
const SPLIT: u8 = 0xff;
/// In the server bytes: call `handle_timeout` at the current deadline.
const TIMEOUT: u8 = 0xfe;

/// Runs a [`ClientSession`] against `data` as the server's bytes, and checks its
/// invariants. The first byte picks the configuration (bit 0: pipelining, 1: chunking,
/// 2: LMTP, 3-4: TLS policy, 5: credentials, 6: plaintext AUTH allowed, 7: tiny chunk
/// and piece sizes); the rest is what the server sends, cut into inputs at `0xff`, with
/// `0xfe` standing for a timeout. Three messages are queued, then `quit`; the end of
/// `data` is the end of stream.
///
/// Checks, after every input: no event follows [`ClientEvent::Closed`]; no transmit
/// follows [`Transmit::Close`]; each message gets at most one outcome; without
/// pipelining at most one command is outstanding; the bytes sent hold no bare CR or LF
/// (everything leaves CRLF-normalised); the output stays proportional to the input;
/// `poll_timeout` advances past a handled deadline. At the end of stream: the session is
/// closed, `Closed` was the last event, and every message has its outcome.
///
/// Panics when a check fails; never panics otherwise.
pub fn client(data: &[u8]) {
    let Some((&flags, server)) = data.split_first() else {
        return;
    };
    let mut config = ClientConfig::new(
        Host::try_from("client.example").unwrap_or_else(|_| unreachable!("a valid domain")),
    );
    config.pipelining = flags & 1 != 0;
    config.chunking = flags & 2 != 0;
    config.lmtp = flags & 4 != 0;
    config.tls = match (flags >> 3) & 3 {
        0 => TlsPolicy::Never,
        1 => TlsPolicy::Opportunistic,
        2 => TlsPolicy::Required,
        _ => TlsPolicy::Implicit,
    };
    if flags & 32 != 0 {
        config.credentials = Some(ClientCredentials::password("tim", "tanstaaf".to_string()));
    }
    config.allow_plaintext_auth = flags & 64 != 0;
    if flags & 128 != 0 {
        config.chunk_size = 3;
        config.data_piece_size = 2;
    }
    config.reply_limits.max_line_len = 512;
    config.reply_limits.max_lines = 32;
    let pipelining_allowed = config.pipelining;

    let mut now = Instant::now();
    let mut client = ClientSession::new(config, now);
    let mut ids = Vec::new();
    for (from, to, body) in [
        (
            "a@example.org",
            &["b@example.com"][..],
            &b".dot\nbare\rline\r\nend"[..],
        ),
        (
            "a@example.org",
            &["b@example.com", "c@example.net"][..],
            b"two\r\n",
        ),
        (
            "a@example.org",
            &["jos\u{e9}@example.com"][..],
            b"caf\xc3\xa9\r\n",
        ),
    ] {
        let mut envelope = Envelope::new(ReversePath::Mailbox(mailbox(from)));
        for t in to {
            envelope = envelope.to(ForwardPath::Mailbox(mailbox(t)));
        }
        if let Ok(id) = client.send_mail(envelope, Bytes::from_static(body)) {
            ids.push(id);
        }
    }
    client.quit();

    let mut state = State::default();
    state.drain(&mut client, pipelining_allowed);
    for input in server.split(|&b| b == SPLIT) {
        now += Duration::from_secs(1);
        let mut rest = input;
        while let Some(at) = rest.iter().position(|&b| b == TIMEOUT) {
            let (before, after) = rest.split_at(at);
            client.handle_input(before, now);
            state.drain(&mut client, pipelining_allowed);
            if let Some(deadline) = client.poll_timeout() {
                now = now.max(deadline);
                client.handle_timeout(now);
                assert!(
                    client.poll_timeout().is_none_or(|d| d > now),
                    "the deadline did not advance"
                );
                state.drain(&mut client, pipelining_allowed);
            }
            rest = after.get(1..).unwrap_or_default();
        }
        client.handle_input(rest, now);
        state.drain(&mut client, pipelining_allowed);
        let bound = 64 * (data.len() + 1) + 16 * 1024;
        assert!(
            state.sent <= bound,
            "sent {} for {} input bytes",
            state.sent,
            data.len()
        );
    }
    client.handle_eof(now);
    state.drain(&mut client, pipelining_allowed);
    assert!(client.is_closed(), "open after the end of stream");
    assert!(state.closed, "no Closed event");
    assert!(state.close_transmitted, "no Transmit::Close");
    for id in ids {
        assert_eq!(
            state.outcomes.get(&id),
            Some(&1),
            "message {id} has no outcome"
        );
    }
}

fn mailbox(s: &str) -> Mailbox {
    Mailbox::try_from(s).unwrap_or_else(|_| unreachable!("valid test addresses"))
}

#[derive(Default)]
struct State {
    closed: bool,
    close_transmitted: bool,
    outcomes: BTreeMap<TransactionId, usize>,
    sent: usize,
    /// The last byte sent was a CR.
    after_cr: bool,
}

impl State {
    fn drain(&mut self, client: &mut ClientSession, pipelining_allowed: bool) {
        loop {
            let mut busy = false;
            while let Some(event) = client.poll_event() {
                busy = true;
                assert!(!self.closed, "event after Closed: {event:?}");
                match event {
                    ClientEvent::Delivered { id, .. } | ClientEvent::Failed { id, .. } => {
                        let n = self.outcomes.entry(id).or_default();
                        *n += 1;
                        assert_eq!(*n, 1, "two outcomes for {id}");
                    }
                    ClientEvent::Closed { .. } => self.closed = true,
                    _ => {}
                }
            }
            while let Some(transmit) = client.poll_transmit() {
                busy = true;
                assert!(!self.close_transmitted, "transmit after Close");
                match transmit {
                    Transmit::Data(bytes) => {
                        self.sent += bytes.len();
                        for &b in bytes.iter() {
                            match (self.after_cr, b) {
                                (true, b'\n') => {}
                                (true, _) => panic!("bare CR sent"),
                                (false, b'\n') => panic!("bare LF sent"),
                                _ => {}
                            }
                            self.after_cr = b == b'\r';
                        }
                    }
                    Transmit::StartTls => {}
                    Transmit::Close => self.close_transmitted = true,
                }
            }
            let pipelining = pipelining_allowed && client.capabilities().supports_pipelining();
            if client.is_ready() && !pipelining {
                assert!(client.outstanding() <= 1, "pipelined without PIPELINING");
            }
            if !busy {
                return;
            }
        }
    }
}
