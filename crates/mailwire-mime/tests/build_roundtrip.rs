//! Build → serialize → parse round trips, checked by our parser (proptest) and by
//! Python's `email` package; and arbitrary bytes never panic the parser or the views.

mod common;

use mailwire_mime::{
    Address, DateTime, Group, Mailbox, Message, MessageBuilder, MimePart, Transport, WriteOptions,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Input {
    from: Mailbox,
    to: Vec<Address>,
    subject: String,
    text: String,
    html: Option<String>,
    attachments: Vec<(String, Vec<u8>)>,
    custom: String,
    transport: Transport,
    utf8: bool,
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9]{1,12}",
        "[a-zA-Zäöüß€日本😀]{1,10}",
        "[a-z\"\\\\(),.:;<>@]{1,6}",
        "[a-z]{60,90}",
    ]
}

fn phrase() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..6).prop_map(|w| w.join(" "))
}

fn mailbox() -> impl Strategy<Value = Mailbox> {
    (
        "[a-z][a-z0-9.]{0,10}",
        "[a-z]{1,8}\\.(org|com)",
        prop::option::of(phrase()),
    )
        .prop_map(|(l, d, n)| Mailbox {
            name: n,
            address: format!("{l}@{d}"),
        })
}

fn address() -> impl Strategy<Value = Address> {
    prop_oneof![
        3 => mailbox().prop_map(Address::Mailbox),
        1 => (phrase(), prop::collection::vec(mailbox(), 0..3))
            .prop_map(|(name, members)| Address::Group(Group { name, members })),
    ]
}

fn body_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[ -~]{0,100}",
            "[a-zäöü€ ]{0,50}",
            "[a-z]{900,1100}",
            Just("--=_mw0_1".to_string())
        ],
        0..6,
    )
    .prop_map(|lines| lines.join("\r\n"))
}

fn input() -> impl Strategy<Value = Input> {
    (
        mailbox(),
        prop::collection::vec(address(), 1..4),
        phrase(),
        body_text(),
        prop::option::of(body_text()),
        prop::collection::vec((phrase(), prop::collection::vec(any::<u8>(), 0..300)), 0..3),
        phrase(),
        prop_oneof![
            Just(Transport::SevenBit),
            Just(Transport::EightBit),
            Just(Transport::Binary)
        ],
        any::<bool>(),
    )
        .prop_map(
            |(from, to, subject, text, html, attachments, custom, transport, utf8)| Input {
                from,
                to,
                subject,
                text,
                html,
                attachments,
                custom,
                transport,
                utf8,
            },
        )
}

fn build(i: &Input) -> Vec<u8> {
    let mut b = MessageBuilder::new()
        .from(i.from.clone())
        .subject(i.subject.clone())
        .date(DateTime::from_unix(1_700_000_000))
        .header("X-Custom", i.custom.clone())
        .text_body(i.text.clone());
    for a in &i.to {
        b = b.to(a.clone());
    }
    if let Some(h) = &i.html {
        b = b.html_body(h.clone());
    }
    for (name, data) in &i.attachments {
        b = b.attachment("application/octet-stream", name.clone(), data.clone());
    }
    b.to_vec(
        &WriteOptions::new()
            .transport(i.transport)
            .utf8_headers(i.utf8)
            .unique(7),
    )
    .unwrap()
}

/// Text as it comes back: every line break is CRLF.
fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n")
}

fn check_ours(i: &Input, raw: &[u8]) {
    for line in raw.split(|&b| b == b'\n') {
        // With a binary transport, attachments are written raw (no lines to speak of).
        if i.transport != Transport::Binary || i.attachments.is_empty() {
            assert!(line.len() <= 999, "line over 998 octets");
        }
        if i.transport == Transport::SevenBit {
            assert!(line.is_ascii() || i.utf8, "8-bit data on a 7-bit transport");
        }
    }
    if i.transport == Transport::SevenBit && !i.utf8 {
        assert!(raw.is_ascii());
    }
    let m = Message::parse(raw).unwrap();
    let root = m.root();
    assert_eq!(
        root.header("subject").unwrap().text(),
        common::collapse(&i.subject)
    );
    assert_eq!(
        root.header("x-custom").unwrap().text(),
        common::collapse(&i.custom)
    );
    let mut from = i.from.clone();
    from.name = from
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    assert_eq!(
        root.header("from").unwrap().addresses(),
        vec![Address::Mailbox(from)]
    );
    let to: Vec<Address> =
        i.to.iter()
            .map(|a| match a {
                Address::Mailbox(m) => Address::Mailbox(Mailbox {
                    name: m
                        .name
                        .as_ref()
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty()),
                    address: m.address.clone(),
                }),
                Address::Group(g) => Address::Group(Group {
                    name: g.name.trim().to_string(),
                    members: g
                        .members
                        .iter()
                        .map(|m| Mailbox {
                            name: m
                                .name
                                .as_ref()
                                .map(|n| n.trim().to_string())
                                .filter(|n| !n.is_empty()),
                            address: m.address.clone(),
                        })
                        .collect(),
                }),
            })
            .collect();
    assert_eq!(root.header("to").unwrap().addresses(), to);
    // Structure and bodies.
    let leaves: Vec<_> = m.parts().filter(|p| !p.is_multipart()).collect();
    let expected = 1 + usize::from(i.html.is_some()) + i.attachments.len();
    assert_eq!(leaves.len(), expected);
    assert_eq!(leaves[0].text().unwrap(), crlf(&i.text));
    if let Some(h) = &i.html {
        assert_eq!(leaves[1].media_subtype(), "html");
        assert_eq!(leaves[1].text().unwrap(), crlf(h));
    }
    for (k, (name, data)) in i.attachments.iter().enumerate() {
        let p = leaves[expected - i.attachments.len() + k];
        assert_eq!(&p.decoded_body()[..], &data[..]);
        assert_eq!(p.filename().unwrap(), name.trim());
    }
    mailwire_mime::fuzzing::views(raw);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn builder_round_trips(i in input()) {
        let raw = build(&i);
        check_ours(&i, &raw);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        mailwire_mime::fuzzing::parse(&data);
        mailwire_mime::fuzzing::views(&data);
    }

    #[test]
    fn mime_like_bytes_never_panic(parts in prop::collection::vec(prop_oneof![
        Just("Content-Type: multipart/mixed; boundary=b\r\n".to_string()),
        Just("Content-Type: message/rfc822\r\n".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("--b\r\n".to_string()),
        Just("--b--\r\n".to_string()),
        Just("From: a <b@c>, g: d@e;\r\n".to_string()),
        Just("Content-Transfer-Encoding: base64\r\n".to_string()),
        Just("Content-Disposition: attachment; filename*0*=utf-8''%E2; filename*1=x\r\n".to_string()),
        "[ -~]{0,20}",
    ], 0..40)) {
        let data = parts.concat();
        mailwire_mime::fuzzing::parse(data.as_bytes());
        mailwire_mime::fuzzing::views(data.as_bytes());
    }
}

/// Splitting the same bytes differently cannot matter to a whole-message parser, but
/// an owned copy must give the very same tree and views.
#[test]
fn owned_equals_borrowed() {
    let raw = std::fs::read(common::data_dir().join("nested_multipart.eml")).unwrap();
    let a = Message::parse(&raw[..]).unwrap();
    let b = Message::parse(raw.clone()).unwrap().into_owned();
    assert_eq!(a, b);
    let o = mailwire_mime::BodyStructureOptions::default();
    assert_eq!(a.body_structure(&o), b.body_structure(&o));
}

#[test]
fn python_agrees_with_what_we_build() {
    if !common::python_available() {
        return;
    }
    let forwarded = std::fs::read(common::data_dir().join("attached_message.eml")).unwrap();
    let fwd = Message::parse(&forwarded[..]).unwrap();
    let long_name = "Ünïcödé ".repeat(12) + "report.pdf";
    let cases: Vec<(MessageBuilder<'_>, WriteOptions)> = vec![
        (
            MessageBuilder::new()
                .from(Mailbox::new("Jörg Müller", "joerg@example.de"))
                .to(Mailbox::new("Smith, John \"JJ\"", "john@example.com"))
                .cc(Group { name: "Team Ω".into(), members: vec![Mailbox::addr("a@x.org"), Mailbox::new("B", "b@x.org")] })
                .bcc("hidden@example.net")
                .reply_to("reply@example.de")
                .sender("sender@example.de")
                .subject("Grüße aus München — a fairly long subject line that certainly needs folding 😀")
                .in_reply_to("parent@example.de")
                .references("root@example.de")
                .references("parent@example.de")
                .header("X-Note", "plain ascii note")
                .text_body("Hallo,\nZeile zwei mit Umlauten äöü.\n")
                .html_body("<p>Hallo <img src=\"cid:logo@x\"></p>")
                .inline("image/png", "logo@x", vec![0x89, b'P', b'N', b'G', 0, 1, 2])
                .attachment("application/pdf", long_name.clone(), b"%PDF-1.4\n\x00\xff".to_vec())
                .attach(MimePart::forward(&fwd)),
            WriteOptions::new().unique(1),
        ),
        (
            MessageBuilder::new()
                .from("plain@example.org")
                .to("x@example.org")
                .subject("8bit")
                .text_body("ünïcödé in 8bit\n".repeat(3)),
            WriteOptions::new().transport(Transport::EightBit).unique(2),
        ),
        (
            MessageBuilder::new()
                .from(Mailbox::new("Zoë", "zoe@example.org"))
                .to("x@example.org")
                .subject("RFC 6532 Grüße")
                .attachment("text/plain", "naïve.txt", b"data".to_vec())
                .text_body("x"),
            WriteOptions::new().utf8_headers(true).transport(Transport::EightBit).unique(3),
        ),
    ];
    for (k, (b, opts)) in cases.into_iter().enumerate() {
        let raw = b.to_vec(&opts).unwrap();
        for line in raw.split(|&c| c == b'\n') {
            assert!(
                line.len() <= 79,
                "case {k}: line of {} octets: {}",
                line.len(),
                String::from_utf8_lossy(line)
            );
        }
        let m = Message::parse(&raw[..]).unwrap();
        let ours = common::our_dump(&m);
        let theirs = common::python_dump(&raw);
        let kinds = ["PART", "BODY", "FILENAME", "ADDR", "GROUP"];
        assert_eq!(
            common::only(&ours, &kinds),
            common::only(&theirs, &kinds),
            "case {k}"
        );
        for name in [
            "subject",
            "x-note",
            "message-id",
            "in-reply-to",
            "references",
            "date",
        ] {
            if let Some(h) = m.root().header(name) {
                assert_eq!(
                    Some(common::collapse(&h.text())),
                    common::python_header(&theirs, "r", name),
                    "case {k} header {name}"
                );
            }
        }
        if k == 0 {
            assert!(m.root().header("bcc").is_none(), "Bcc kept out by default");
            let att = m
                .parts()
                .find(|p| p.filename().as_deref() == Some(long_name.as_str()));
            assert!(att.is_some(), "RFC 2231 file name round trip");
            // The forwarded message is carried unchanged.
            let fwd_part = m.parts().find(|p| p.attached_message().is_some()).unwrap();
            assert_eq!(fwd_part.body(), &forwarded[..]);
        }
    }
}
