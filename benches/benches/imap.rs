//! IMAP parsing: mailwire-imap (framer + parser) against imap-codec and imap-proto on the
//! same inputs, in the same run.
//!
//! Inputs: responses (FETCH with BODYSTRUCTURE and ENVELOPE, FETCH with 4 KiB literals,
//! LIST, SEARCH with 10,000 numbers) and a mix of commands. Each benchmark parses a whole
//! buffer of messages. For mailwire that buffer is the framer's input buffer, filled
//! outside the measurement (as a socket read fills it; the peers also start from bytes in
//! memory); the measurement covers framing, parsing and dropping the parsed values.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use imap_codec::decode::Decoder;
use mailwire_imap::frame::{Frame, Framer, FramerConfig, Role};

const BODYSTRUCTURE: &str = concat!(
    "BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL \"quoted-printable\" 2210 57 NIL NIL NIL NIL)",
    "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 15080 302 NIL NIL NIL NIL) \"alternative\" ",
    "(\"boundary\" \"b1_a3f7c2\") NIL NIL NIL)"
);

fn envelope(i: usize) -> String {
    format!(
        "ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Re: afternoon meeting number {i}\" ((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.COM\")) \
         ((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.COM\")) ((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.COM\")) \
         ((NIL NIL \"mooch\" \"owatagu.siam.edu\")(\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) NIL NIL \
         \"<B27397-0100000@Blurdybloop.COM>\" \"<message-{i}@example.com>\")"
    )
}

fn fetch_structure() -> Vec<u8> {
    let mut out = String::new();
    for i in 1..=200 {
        out.push_str(&format!(
            "* {i} FETCH (UID {} FLAGS (\\Seen $NotJunk) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 {} {})\r\n",
            i + 1000,
            envelope(i),
            BODYSTRUCTURE
        ));
    }
    out.into_bytes()
}

fn fetch_literals() -> Vec<u8> {
    let mut out = Vec::new();
    let body: Vec<u8> = (0..4096)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789 \r\n"[i % 39])
        .collect();
    for i in 1..=200 {
        out.extend_from_slice(
            format!("* {i} FETCH (UID {} BODY[] {{4096}}\r\n", i + 1000).as_bytes(),
        );
        out.extend_from_slice(&body);
        out.extend_from_slice(b")\r\n");
    }
    out
}

fn list() -> Vec<u8> {
    let mut out = String::new();
    for i in 0..500 {
        out.push_str(&format!(
            "* LIST (\\HasNoChildren \\Marked) \"/\" \"Archive/{}/Project folder {i}\"\r\n",
            2000 + i % 25
        ));
    }
    out.into_bytes()
}

fn search() -> Vec<u8> {
    let mut out = String::from("* SEARCH");
    for i in 0..10_000 {
        out.push_str(&format!(" {}", 1 + i * 3));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn commands() -> Vec<u8> {
    let mut out = String::new();
    for i in 0..100 {
        out.push_str(&format!("a{i}1 UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT TO CC MESSAGE-ID)])\r\n"));
        out.push_str(&format!(
            "a{i}2 UID STORE 1,5:9,{} +FLAGS.SILENT (\\Seen \\Flagged $Label1)\r\n",
            100 + i
        ));
        out.push_str(&format!("a{i}3 UID SEARCH OR (FROM \"smith\" SINCE 1-Feb-1994) NOT SUBJECT \"meeting {i}\" UNSEEN\r\n"));
        out.push_str(&format!("a{i}4 SELECT \"Archive/{i}\"\r\n"));
        out.push_str(&format!(
            "a{i}5 LOGIN \"user{i}@example.com\" \"secret password\"\r\n"
        ));
        out.push_str(&format!(
            "a{i}6 STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)\r\n"
        ));
    }
    out.into_bytes()
}

/// A framer holding `input`, as a client's socket reads would have filled it (the same
/// state the peers start from: the bytes in memory).
fn filled(role: Role, input: &[u8]) -> Framer {
    let mut f = Framer::new(FramerConfig::new(role));
    f.handle_input_buf(BytesMut::from(input));
    f
}

fn mailwire_responses(input: &[u8]) -> usize {
    mailwire_frames(filled(Role::Client, input))
}

fn mailwire_frames(mut f: Framer) -> usize {
    let mut n = 0;
    while let Some(frame) = f.poll_frame() {
        let Frame::Message(m) = frame else {
            panic!("unexpected frame")
        };
        black_box(mailwire_imap::parse::response(&m).expect("mailwire parses the corpus"));
        n += 1;
    }
    n
}

fn mailwire_commands(input: &[u8]) -> usize {
    mailwire_command_frames(filled(Role::Server, input))
}

fn mailwire_command_frames(mut f: Framer) -> usize {
    let mut n = 0;
    while let Some(frame) = f.poll_frame() {
        let Frame::Message(m) = frame else {
            panic!("unexpected frame")
        };
        black_box(mailwire_imap::parse::command(&m).expect("mailwire parses the corpus"));
        n += 1;
    }
    n
}

fn codec_responses(input: &[u8]) -> usize {
    let codec = imap_codec::ResponseCodec::default();
    let mut rest = input;
    let mut n = 0;
    while !rest.is_empty() {
        let (r, resp) = codec.decode(rest).expect("imap-codec parses the corpus");
        black_box(resp);
        rest = r;
        n += 1;
    }
    n
}

fn codec_commands(input: &[u8]) -> usize {
    let codec = imap_codec::CommandCodec::default();
    let mut rest = input;
    let mut n = 0;
    while !rest.is_empty() {
        let (r, cmd) = codec.decode(rest).expect("imap-codec parses the corpus");
        black_box(cmd);
        rest = r;
        n += 1;
    }
    n
}

fn proto_responses(input: &[u8]) -> usize {
    let mut rest = input;
    let mut n = 0;
    while !rest.is_empty() {
        let (r, resp) =
            imap_proto::parser::parse_response(rest).expect("imap-proto parses the corpus");
        black_box(resp);
        rest = r;
        n += 1;
    }
    n
}

fn responses(c: &mut Criterion) {
    let inputs = [
        ("fetch_bodystructure_envelope", fetch_structure()),
        ("fetch_4k_literals", fetch_literals()),
        ("list", list()),
        ("search_10000", search()),
    ];
    for (name, input) in &inputs {
        // Same number of messages for all three, checked before measuring.
        let n = mailwire_responses(input);
        assert_eq!(n, codec_responses(input), "{name}: imap-codec disagrees");
        assert_eq!(n, proto_responses(input), "{name}: imap-proto disagrees");
        let mut g = c.benchmark_group(format!("imap_response/{name}"));
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_with_input(BenchmarkId::new("mailwire", input.len()), input, |b, i| {
            b.iter_batched(
                || filled(Role::Client, i),
                mailwire_frames,
                BatchSize::LargeInput,
            )
        });
        g.bench_with_input(
            BenchmarkId::new("imap-codec", input.len()),
            input,
            |b, i| b.iter(|| codec_responses(i)),
        );
        g.bench_with_input(
            BenchmarkId::new("imap-proto", input.len()),
            input,
            |b, i| b.iter(|| proto_responses(i)),
        );
        g.finish();
    }
}

fn commands_bench(c: &mut Criterion) {
    let input = commands();
    assert_eq!(mailwire_commands(&input), codec_commands(&input));
    let mut g = c.benchmark_group("imap_command/mix");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_with_input(BenchmarkId::new("mailwire", input.len()), &input, |b, i| {
        b.iter_batched(
            || filled(Role::Server, i),
            mailwire_command_frames,
            BatchSize::LargeInput,
        )
    });
    g.bench_with_input(
        BenchmarkId::new("imap-codec", input.len()),
        &input,
        |b, i| b.iter(|| codec_commands(i)),
    );
    g.finish();
}

fn encode_bench(c: &mut Criterion) {
    // Serializing back what was parsed: mailwire only (a reference figure).
    let input = fetch_structure();
    let mut f = Framer::new(FramerConfig::new(Role::Client));
    f.handle_input(&input);
    let parsed: Vec<_> = std::iter::from_fn(|| f.poll_frame())
        .map(|fr| match fr {
            Frame::Message(m) => mailwire_imap::parse::response(&m).expect("parses"),
            _ => panic!("unexpected frame"),
        })
        .collect();
    let mut g = c.benchmark_group("imap_encode/fetch_bodystructure_envelope");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("mailwire", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(input.len());
            for r in &parsed {
                r.encode_into(&mut out);
            }
            black_box(out)
        })
    });
    g.finish();
}

criterion_group!(benches, responses, commands_bench, encode_bench);
criterion_main!(benches);
