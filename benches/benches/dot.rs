//! Dot-stuffing throughput: un-stuffing (`DotDecoder`, SMTP `DATA` on a server) and stuffing
//! (`DotEncoder`, `DATA` on a client) of a 10 MB body of ~70-character text lines, some
//! starting with a dot, in one call and in 64 KiB chunks.
//!
//! There is no peer crate doing streaming dot-stuffing; the reference point in the same run
//! is a plain copy of the same bytes into a reused buffer (`copy`), the floor any un-stuffer
//! that copies its output must pay.

// `criterion_group!` generates a public function without documentation.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use mailwire_core::dot::{BareLineEndings, DotDecoder, DotEncoder};

const BODY_SIZE: usize = 10 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// A realistic body: header-like lines, then prose lines of 60 to 78 characters, one in
/// about 40 starting with a dot, CRLF line ends.
fn body() -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the", "message", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "mail",
        "server", "client", "protocol", "delivery", "transfer", "line", "of", "text", "and",
        "with", "a", "to", "in", "is", "reply", "receipt", "envelope", "header", "body",
    ];
    mailwire_benches::prose(WORDS, BODY_SIZE, 40)
}

fn encode(content: &[u8], chunk: usize, out: &mut Vec<u8>) {
    let mut encoder = DotEncoder::new();
    for piece in content.chunks(chunk) {
        encoder.encode(piece, out);
    }
    encoder.finish(out);
}

fn decode(policy: BareLineEndings, wire: &[u8], chunk: usize, out: &mut Vec<u8>) -> usize {
    let mut decoder = DotDecoder::with_policy(policy);
    let mut consumed = 0;
    for piece in wire.chunks(chunk) {
        let status = decoder.decode(piece, out);
        consumed += status.consumed;
        if status.done {
            break;
        }
    }
    consumed
}

fn benches(c: &mut Criterion) {
    let content = body();
    let mut wire = Vec::new();
    encode(&content, content.len(), &mut wire);
    let mut check = Vec::new();
    assert_eq!(
        decode(BareLineEndings::Reject, &wire, CHUNK, &mut check),
        wire.len()
    );
    assert_eq!(check, content);

    let mut out = Vec::with_capacity(wire.len() + 16);

    let mut group = c.benchmark_group("dot_decode_10MB");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.bench_function("copy", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&wire));
            black_box(out.len())
        })
    });
    for (name, policy) in [
        ("reject", BareLineEndings::Reject),
        ("normalize", BareLineEndings::Normalize),
    ] {
        group.bench_function(format!("{name}/one_call"), |b| {
            b.iter(|| {
                out.clear();
                black_box(decode(policy, black_box(&wire), wire.len(), &mut out))
            })
        });
        group.bench_function(format!("{name}/64KiB_chunks"), |b| {
            b.iter(|| {
                out.clear();
                black_box(decode(policy, black_box(&wire), CHUNK, &mut out))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("dot_encode_10MB");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(content.len() as u64));
    group.bench_function("copy", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&content));
            black_box(out.len())
        })
    });
    group.bench_function("one_call", |b| {
        b.iter(|| {
            out.clear();
            encode(black_box(&content), content.len(), &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("64KiB_chunks", |b| {
        b.iter(|| {
            out.clear();
            encode(black_box(&content), CHUNK, &mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(dot, benches);
criterion_main!(dot);
