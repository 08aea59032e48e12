//! SMTP reply parsing: mailwire-smtp against smtp-proto, on the same inputs in the same run.
//!
//! - `reply/*`: one reply read into a generic value (code, enhanced code, text): mailwire's
//!   `parse_reply` against smtp-proto's `ResponseReceiver`, for a single-line reply, an
//!   enhanced-code reply, and a 12-line EHLO reply; `reply/mixed` is a client's typical
//!   stream (greeting, EHLO, MAIL, RCPT x3, DATA, end of data, QUIT).
//! - `ehlo_typed/*`: the 12-line EHLO reply read into typed capabilities: mailwire's
//!   `parse_reply` + `EhloReply::from_reply` against smtp-proto's `EhloResponse::parse`.
//!
//! Both sides produce owned values (smtp-proto a `String` message, mailwire a `Reply`).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mailwire_smtp::parse::{ReplyLimits, parse_reply};
use mailwire_smtp::types::EhloReply;

const SINGLE: &[u8] = b"250 OK\r\n";

const ENHANCED: &[u8] = b"550 5.1.1 <nosuchuser@example.com>: Recipient address rejected: \
User unknown in local recipient table\r\n";

const EHLO: &[u8] = b"250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n\
250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n\
250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n";

const MIXED: &[u8] = b"220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n\
250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n\
250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n\
250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n\
250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n\
550 5.1.1 <nosuchuser@example.com>: Recipient address rejected: User unknown in local recipient table\r\n\
354 End data with <CR><LF>.<CR><LF>\r\n\
250 2.0.0 Ok: queued as 4Bq3Xk1Zz9z9s\r\n221 2.0.0 Bye\r\n";

/// Parses every reply in `input` with mailwire; returns how many.
fn mailwire(input: &[u8], limits: &ReplyLimits) -> usize {
    let mut rest = input;
    let mut n = 0;
    // Stop at the end of the input, as the smtp-proto loop does.
    while !rest.is_empty() {
        let Ok(Some((reply, used))) = parse_reply(rest, limits) else {
            break;
        };
        black_box(&reply);
        rest = &rest[used..];
        n += 1;
    }
    n
}

/// Parses every reply in `input` with smtp-proto; returns how many.
fn smtp_proto(input: &[u8]) -> usize {
    let mut iter = input.iter();
    let mut receiver = smtp_proto::response::parser::ResponseReceiver::default();
    let mut n = 0;
    while !iter.as_slice().is_empty() {
        match receiver.parse(&mut iter) {
            Ok(response) => {
                black_box(&response);
                receiver.reset();
                n += 1;
            }
            Err(_) => break,
        }
    }
    n
}

fn mailwire_ehlo(input: &[u8], limits: &ReplyLimits) -> Option<EhloReply> {
    let (reply, _) = parse_reply(input, limits).ok()??;
    EhloReply::from_reply(&reply).ok()
}

fn smtp_proto_ehlo(input: &[u8]) -> Option<smtp_proto::EhloResponse<String>> {
    smtp_proto::EhloResponse::parse(&mut input.iter()).ok()
}

fn bench(c: &mut Criterion) {
    let limits = ReplyLimits::default();
    let inputs: [(&str, &[u8], usize); 4] = [
        ("single", SINGLE, 1),
        ("enhanced", ENHANCED, 1),
        ("ehlo12", EHLO, 1),
        ("mixed", MIXED, 9),
    ];

    // Both parsers must read the inputs the same way, or the comparison means nothing.
    for (name, input, count) in inputs {
        assert_eq!(mailwire(input, &limits), count, "mailwire on {name}");
        assert_eq!(smtp_proto(input), count, "smtp-proto on {name}");
    }
    let ours = mailwire_ehlo(EHLO, &limits).expect("mailwire reads the EHLO reply");
    let theirs = smtp_proto_ehlo(EHLO).expect("smtp-proto reads the EHLO reply");
    assert_eq!(ours.capabilities.len(), 11);
    assert_eq!(ours.capabilities.size(), Some(Some(10240000)));
    assert_eq!(theirs.size, 10240000);
    assert_eq!(theirs.hostname, "mail.example.com");

    let mut group = c.benchmark_group("smtp_reply/reply");
    for (name, input, _) in inputs {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(BenchmarkId::new("mailwire", name), input, |b, input| {
            b.iter(|| mailwire(black_box(input), &limits))
        });
        group.bench_with_input(BenchmarkId::new("smtp-proto", name), input, |b, input| {
            b.iter(|| smtp_proto(black_box(input)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("smtp_reply/ehlo_typed");
    group.throughput(Throughput::Bytes(EHLO.len() as u64));
    group.bench_function("mailwire", |b| {
        b.iter(|| mailwire_ehlo(black_box(EHLO), &limits))
    });
    group.bench_function("smtp-proto", |b| {
        b.iter(|| smtp_proto_ehlo(black_box(EHLO)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
