//! mailwire-mime against mail-builder and lettre (build + serialize the same
//! messages) and against mail-parser (parse + IMAP views vs a plain parse).
//!
//! Build: each side builds the same message from borrowed text, HTML and
//! attachments (mailwire and mail-builder borrow; lettre's API needs owned copies,
//! which it is charged for) and serializes it to a `Vec<u8>`.
//!
//! Parse: `mail-parser parse` is `MessageParser::default().parse(bytes)` (headers
//! and bodies decoded, no IMAP views). `mailwire parse` is `Message::parse` (the
//! part tree with byte ranges; nothing decoded). `mailwire parse+views` is what an
//! IMAP server does for `FETCH (ENVELOPE BODYSTRUCTURE BODY[HEADER.FIELDS (...)])`:
//! parse, then ENVELOPE, BODYSTRUCTURE and one HEADER.FIELDS section, all owned
//! values. mail-parser computes neither ENVELOPE nor BODYSTRUCTURE, so the two
//! "parse" rows are not the same work; the views row is the realistic comparison
//! for an IMAP server.

// `criterion_group!` generates a public function without documentation.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

struct Case {
    name: &'static str,
    text: String,
    html: Option<String>,
    attachments: Vec<(&'static str, Vec<u8>)>,
}

fn cases() -> Vec<Case> {
    let text = "Hello Bob,\r\nthis is the report you asked for. Grüße!\r\n".repeat(40);
    let html = format!(
        "<html><body><p>{}</p></body></html>",
        "Hello Bob, the report. ".repeat(80)
    );
    let bin: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    vec![
        Case {
            name: "text",
            text: text.clone(),
            html: None,
            attachments: vec![],
        },
        Case {
            name: "alternative",
            text: text.clone(),
            html: Some(html.clone()),
            attachments: vec![],
        },
        Case {
            name: "mixed_100k",
            text,
            html: Some(html),
            attachments: vec![
                ("report.pdf", bin),
                ("notes.txt", b"short notes\r\n".repeat(50)),
            ],
        },
    ]
}

fn ours(c: &Case) -> Vec<u8> {
    let mut b = mailwire_mime::MessageBuilder::new()
        .from(mailwire_mime::Mailbox::new(
            "Alice Example",
            "alice@example.org",
        ))
        .to(mailwire_mime::Mailbox::new("Bob", "bob@example.com"))
        .subject("Quarterly report — Grüße")
        .date(mailwire_mime::DateTime::from_unix(1_700_000_000))
        .message_id("bench@example.org")
        .text_body(c.text.as_str());
    if let Some(h) = &c.html {
        b = b.html_body(h.as_str());
    }
    for (n, d) in &c.attachments {
        b = b.attachment("application/octet-stream", *n, d.as_slice());
    }
    b.to_vec(&mailwire_mime::WriteOptions::new().unique(1))
        .unwrap()
}

fn mail_builder(c: &Case) -> Vec<u8> {
    let mut b = mail_builder::MessageBuilder::new()
        .from(("Alice Example", "alice@example.org"))
        .to(("Bob", "bob@example.com"))
        .subject("Quarterly report — Grüße")
        .date(1_700_000_000i64)
        .message_id("bench@example.org")
        .text_body(c.text.as_str());
    if let Some(h) = &c.html {
        b = b.html_body(h.as_str());
    }
    for (n, d) in &c.attachments {
        b = b.attachment("application/octet-stream", *n, d.as_slice());
    }
    b.write_to_vec().unwrap()
}

fn lettre(c: &Case) -> Vec<u8> {
    use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
    let b = lettre::Message::builder()
        .from(
            "Alice Example <alice@example.org>"
                .parse::<Mailbox>()
                .unwrap(),
        )
        .to("Bob <bob@example.com>".parse::<Mailbox>().unwrap())
        .subject("Quarterly report — Grüße")
        .message_id(Some("<bench@example.org>".into()));
    let body = match &c.html {
        Some(h) => MultiPart::alternative_plain_html(c.text.clone(), h.clone()),
        None => MultiPart::mixed().singlepart(SinglePart::plain(c.text.clone())),
    };
    let msg = if c.attachments.is_empty() {
        if c.html.is_some() {
            b.multipart(body)
        } else {
            b.body(c.text.clone())
        }
    } else {
        let mut m = MultiPart::mixed().multipart(body);
        for (n, d) in &c.attachments {
            let ct = ContentType::parse("application/octet-stream").unwrap();
            m = m.singlepart(Attachment::new((*n).to_string()).body(d.clone(), ct));
        }
        b.multipart(m)
    };
    msg.unwrap().formatted()
}

fn build(cr: &mut Criterion) {
    for c in cases() {
        let mut g = cr.benchmark_group(format!("mime_build/{}", c.name));
        g.throughput(Throughput::Bytes(ours(&c).len() as u64));
        g.bench_function("mailwire", |b| b.iter(|| black_box(ours(black_box(&c)))));
        g.bench_function("mail-builder", |b| {
            b.iter(|| black_box(mail_builder(black_box(&c))))
        });
        g.bench_function("lettre", |b| b.iter(|| black_box(lettre(black_box(&c)))));
        g.finish();
    }
}

/// ENVELOPE, BODYSTRUCTURE and `BODY[HEADER.FIELDS (From To Subject Date)]`.
fn views(m: &mailwire_mime::Message<'_>) -> usize {
    let env = m.envelope();
    let bs = m.body_structure(&mailwire_mime::BodyStructureOptions::default());
    let s =
        m.section(&mailwire_mime::Section::parse("HEADER.FIELDS (From To Subject Date)").unwrap());
    env.from().len() + bs.params.len() + s.map_or(0, |s| s.len())
}

fn parse(cr: &mut Criterion) {
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/mailwire-mime/tests/data");
    let mut inputs: Vec<(String, Vec<u8>)> = [
        "nested_multipart.eml",
        "attached_message.eml",
        "non_ascii.eml",
    ]
    .iter()
    .map(|n| {
        (
            n.trim_end_matches(".eml").to_string(),
            std::fs::read(data.join(n)).unwrap(),
        )
    })
    .collect();
    inputs.push(("built_mixed_100k".into(), ours(&cases()[2])));
    let parser = mail_parser::MessageParser::default();
    for (name, raw) in &inputs {
        let mut g = cr.benchmark_group(format!("mime_parse/{name}"));
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function("mail-parser parse", |b| {
            b.iter(|| black_box(parser.parse(black_box(&raw[..]))))
        });
        g.bench_function("mailwire parse", |b| {
            b.iter(|| black_box(mailwire_mime::Message::parse(black_box(&raw[..])).unwrap()))
        });
        g.bench_function("mailwire parse+views", |b| {
            b.iter(|| {
                let m = mailwire_mime::Message::parse(black_box(&raw[..])).unwrap();
                black_box(views(&m))
            })
        });
        g.finish();
    }
}

criterion_group!(benches, build, parse);
criterion_main!(benches);
