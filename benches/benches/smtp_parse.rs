//! SMTP command parsing: mailwire-smtp against smtp-proto, on the same pipelined
//! transactions, parsed line after line from one buffer until it is used up: one with DSN
//! parameters (EHLO, MAIL FROM with SIZE/BODY, four RCPT TO, some with NOTIFY/ORCPT, DATA,
//! QUIT: 8 lines, 358 octets) and a plain one (SIZE only, three RCPT: 7 lines, 162
//! octets).
//! Like is compared with like: borrowed values against borrowed values, owned against
//! owned.
//!
//! What each side does with a line:
//!
//! - `mailwire-ref`: `parse_command_ref` frames the line (LF within the length limit, CR
//!   before it), checks the arguments as UTF-8, validates the whole grammar (dot-string
//!   local parts, domain labels and lengths, path and local-part limits, parameter
//!   keywords and values, xtext), and returns a `CommandRef` that borrows from the input
//!   (the address split into local part and domain).
//! - `smtp-proto`: `Request::parse` scans the line and returns a `Request<Cow<str>>` that
//!   borrows from the input where it can, the address as one string (not split into
//!   local part and domain); it checks less (for instance `<a@-b.c>` is accepted: domain
//!   labels are not checked).
//! - `mailwire`: `parse_command`, which is `parse_command_ref` then `into_owned()`: an owned
//!   `Command` (strings in `SmolStr`: up to 23 octets inline, longer ones on the heap).
//! - `smtp-proto+into_owned`: `Request::parse` then `into_owned()` (one `String` per
//!   borrowed value), what a session that keeps the command after the input buffer is
//!   reused has to do.
//!
//! Every parsed value is dropped at the end of its iteration.

// `criterion_group!` generates a public function without documentation.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailwire_benches::parse::{
    COMMANDS, PLAIN, TRANSACTION, mailwire, mailwire_ref, smtp_proto, smtp_proto_owned,
};
use mailwire_smtp::parse::CommandParseOptions;

fn bench(c: &mut Criterion) {
    let opts = CommandParseOptions::default();
    // Both parsers understand every line of the transaction.
    assert_eq!(mailwire(TRANSACTION, &opts), COMMANDS);
    assert_eq!(mailwire_ref(TRANSACTION, &opts), COMMANDS);
    assert_eq!(smtp_proto(TRANSACTION), COMMANDS);

    assert_eq!(mailwire_ref(PLAIN, &opts), 7);
    assert_eq!(smtp_proto(PLAIN), 7);

    // `smtp_command_parse`: the transaction with DSN parameters; `smtp_command_parse_plain`:
    // the plain one.
    for (name, input) in [
        ("smtp_command_parse", TRANSACTION),
        ("smtp_command_parse_plain", PLAIN),
    ] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function("mailwire-ref", |b| {
            b.iter(|| mailwire_ref(black_box(input), &opts))
        });
        group.bench_function("mailwire", |b| b.iter(|| mailwire(black_box(input), &opts)));
        group.bench_function("smtp-proto", |b| b.iter(|| smtp_proto(black_box(input))));
        group.bench_function("smtp-proto+into_owned", |b| {
            b.iter(|| smtp_proto_owned(black_box(input)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
