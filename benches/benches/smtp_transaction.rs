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
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailwire_benches::transaction::{Pair, Setup, session};
use mailwire_core::{Session, Transmit};
use mailwire_smtp::client::ClientEvent;
use mailwire_smtp::server::ServerEvent;

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
