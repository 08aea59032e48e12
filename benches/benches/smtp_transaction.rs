//! Whole SMTP transactions in memory: mailwire-smtp's `ClientSession` against its own
//! `ServerSession`, back to back, with no I/O.
//!
//! Each side's `poll_transmit` bytes are fed to the other's `handle_input` until neither has
//! anything left to do. The server "application" accepts every `HELO`/`MAIL`/`RCPT` and the
//! end of the message, and drops `Data` chunks unread; the client application drains its
//! events and counts `Delivered`. The transaction is the one the performance goal names:
//! `EHLO`, `MAIL FROM` (with the `SIZE=` the client adds), three `RCPT TO`, `DATA` with a
//! 4 KiB message of ~70-character text lines (the client CRLF-normalises and dot-stuffs it,
//! the server un-stuffs it), and `QUIT`, pipelined as the server offers `PIPELINING`.
//!
//! - `session`: a complete session per iteration (new client and server, greeting, EHLO,
//!   one message, QUIT): sessions per second.
//! - `reuse`: one session kept open, one message (MAIL, 3 RCPT, DATA) per iteration:
//!   transactions per second.
//! - `session_bdat`: as `session`, but with `CHUNKING` used (one `BDAT LAST` chunk instead
//!   of `DATA`), for comparison.
//!
//! There is no peer crate with both an SMTP client and server state machine to run in the
//! same loop, so this bench has no peer; the goal is an absolute one (200,000 sessions/s).

// `criterion_group!` generates a public function without documentation.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailwire_core::{Session, Transmit};
use mailwire_smtp::client::{ClientConfig, ClientEvent, ClientSession, Envelope};
use mailwire_smtp::server::{ServerConfig, ServerEvent, ServerSession};
use mailwire_smtp::types::{EhloDomain, ForwardPath, Host, Mailbox, ReversePath};

/// A 4096-octet message: a few headers, then text lines of 60 to 78 characters, one in
/// about 20 starting with a dot (so that stuffing has something to do), CRLF line ends.
fn message() -> Bytes {
    const WORDS: &[&str] = &[
        "the", "message", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "mail",
        "server", "client", "protocol", "delivery", "transfer", "line", "of", "text", "and",
    ];
    let mut out = Vec::with_capacity(4200);
    out.extend_from_slice(
        b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\n\
Subject: benchmark\r\nMessage-ID: <1@example.org>\r\n\r\n",
    );
    let mut seed: u32 = 0x2545_f491;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    while out.len() < 4096 - 80 {
        let target = 60 + (next() % 19) as usize;
        let start = out.len();
        if next() % 20 == 0 {
            out.push(b'.');
        }
        while out.len() - start < target {
            let word = WORDS[(next() as usize) % WORDS.len()];
            out.extend_from_slice(word.as_bytes());
            out.push(b' ');
        }
        out.pop();
        out.extend_from_slice(b"\r\n");
    }
    // Pad the last line so that the message is exactly 4096 octets.
    let pad = 4096 - 2 - out.len();
    out.extend(std::iter::repeat_n(b'x', pad));
    out.extend_from_slice(b"\r\n");
    assert_eq!(out.len(), 4096);
    Bytes::from(out)
}

fn envelope() -> Envelope {
    let mailbox = |s: &str| Mailbox::try_from(s).expect("a valid mailbox");
    Envelope::new(ReversePath::Mailbox(mailbox("alice.sender@example.org")))
        .to(ForwardPath::Mailbox(mailbox("bob@example.net")))
        .to(ForwardPath::Mailbox(mailbox(
            "carol.smith@mail.example.com",
        )))
        .to(ForwardPath::Mailbox(mailbox("dave@example.com")))
}

/// What one run needs, built once.
struct Setup {
    client: ClientConfig,
    server: Arc<ServerConfig>,
    envelope: Envelope,
    message: Bytes,
}

impl Setup {
    fn new(chunking: bool) -> Setup {
        let mut client = ClientConfig::new(Host::try_from("client.example.org").unwrap());
        client.chunking = chunking;
        let mut server = ServerConfig::new(EhloDomain::new("mx.example.net").unwrap());
        // The `reuse` variant sends millions of commands on one session.
        server.max_commands = u32::MAX;
        Setup {
            client,
            server: Arc::new(server),
            envelope: envelope(),
            message: message(),
        }
    }
}

/// A client and a server wired back to back.
struct Pair {
    client: ClientSession,
    server: ServerSession,
    now: Instant,
    delivered: usize,
}

impl Pair {
    fn new(setup: &Setup, now: Instant) -> Pair {
        Pair {
            client: ClientSession::new(setup.client.clone(), now),
            server: ServerSession::new(Arc::clone(&setup.server), now),
            now,
            delivered: 0,
        }
    }

    /// Moves bytes and answers decisions until neither side has anything to do.
    #[inline(never)]
    fn run(&mut self) {
        loop {
            let mut busy = false;
            while let Some(event) = self.client.poll_event() {
                busy = true;
                if let ClientEvent::Delivered { .. } = event {
                    self.delivered += 1;
                }
                black_box(event);
            }
            while let Some(transmit) = self.client.poll_transmit() {
                busy = true;
                match transmit {
                    Transmit::Data(bytes) => self.server.handle_input(&bytes, self.now),
                    Transmit::Close => self.server.handle_eof(self.now),
                    Transmit::StartTls => unreachable!("STARTTLS is not offered"),
                }
            }
            while let Some(event) = self.server.poll_event() {
                busy = true;
                match event {
                    ServerEvent::Helo { .. }
                    | ServerEvent::Mail { .. }
                    | ServerEvent::Rcpt { .. }
                    | ServerEvent::DataEnd { .. } => {
                        self.server.accept().expect("a decision is pending")
                    }
                    // The content is dropped unread.
                    other => drop(black_box(other)),
                }
            }
            while let Some(transmit) = self.server.poll_transmit() {
                busy = true;
                match transmit {
                    Transmit::Data(bytes) => self.client.handle_input(&bytes, self.now),
                    Transmit::Close => self.client.handle_eof(self.now),
                    Transmit::StartTls => unreachable!("STARTTLS is not offered"),
                }
            }
            if !busy {
                return;
            }
        }
    }
}

/// One complete session: greeting, EHLO, one message, QUIT.
#[inline(never)]
fn session(setup: &Setup, now: Instant) -> usize {
    let mut pair = Pair::new(setup, now);
    pair.client
        .send_mail(setup.envelope.clone(), setup.message.clone())
        .expect("the envelope is valid");
    pair.client.quit();
    pair.run();
    debug_assert!(pair.client.is_closed() && pair.server.is_closed());
    pair.delivered
}

fn bench(c: &mut Criterion) {
    let now = Instant::now();
    let data = Setup::new(false);
    let bdat = Setup::new(true);
    assert_eq!(data.message.len(), 4096);

    // Both sides must really do the work: check the transcript once per setup.
    for (setup, verb) in [(&data, "DATA"), (&bdat, "BDAT")] {
        let mut pair = Pair::new(setup, now);
        pair.client
            .send_mail(setup.envelope.clone(), setup.message.clone())
            .unwrap();
        pair.client.quit();
        let mut to_server = Vec::new();
        let mut chunks = 0;
        loop {
            let mut busy = false;
            while let Some(event) = pair.client.poll_event() {
                busy = true;
                if let ClientEvent::Delivered { .. } = event {
                    pair.delivered += 1;
                }
            }
            while let Some(transmit) = pair.client.poll_transmit() {
                busy = true;
                match transmit {
                    Transmit::Data(bytes) => {
                        to_server.extend_from_slice(&bytes);
                        pair.server.handle_input(&bytes, now);
                    }
                    Transmit::Close => pair.server.handle_eof(now),
                    Transmit::StartTls => unreachable!(),
                }
            }
            while let Some(event) = pair.server.poll_event() {
                busy = true;
                match event {
                    ServerEvent::Data(chunk) => chunks += chunk.len(),
                    ServerEvent::Helo { .. }
                    | ServerEvent::Mail { .. }
                    | ServerEvent::Rcpt { .. }
                    | ServerEvent::DataEnd { .. } => pair.server.accept().unwrap(),
                    _ => {}
                }
            }
            while let Some(transmit) = pair.server.poll_transmit() {
                busy = true;
                match transmit {
                    Transmit::Data(bytes) => pair.client.handle_input(&bytes, now),
                    Transmit::Close => pair.client.handle_eof(now),
                    Transmit::StartTls => unreachable!(),
                }
            }
            if !busy {
                break;
            }
        }
        let wire = String::from_utf8_lossy(&to_server);
        assert_eq!(pair.delivered, 1, "{verb}: the message is delivered");
        assert!(pair.client.is_closed() && pair.server.is_closed());
        assert_eq!(
            chunks, 4096,
            "{verb}: the server application sees the content"
        );
        assert_eq!(wire.matches("RCPT TO:").count(), 3);
        assert!(wire.starts_with("EHLO client.example.org\r\n"));
        assert!(wire.contains(&format!("\r\n{verb}")), "{verb} is used");
        assert!(wire.ends_with("QUIT\r\n"));
    }

    let mut group = c.benchmark_group("smtp_transaction");
    group.throughput(Throughput::Elements(1));
    group.bench_function("session", |b| {
        b.iter(|| assert_eq!(session(black_box(&data), now), 1))
    });
    group.bench_function("session_bdat", |b| {
        b.iter(|| assert_eq!(session(black_box(&bdat), now), 1))
    });

    let mut pair = Pair::new(&data, now);
    pair.run();
    group.bench_function("reuse", |b| {
        b.iter(|| {
            let before = pair.delivered;
            pair.client
                .send_mail(data.envelope.clone(), data.message.clone())
                .expect("the envelope is valid");
            pair.run();
            assert_eq!(pair.delivered, before + 1);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
