//! Delivery status notifications (`mailwire_mime::dsn`): structure through our own
//! parser, every RFC 3464 field, the RET variants, line-break injection, Python's
//! `email` package reading what we write, and properties over arbitrary reports.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailwire_mime::dsn::{Action, DeliveryReport, RecipientReport, Returned};
use mailwire_mime::{Message, Part};
use proptest::prelude::*;

const ORIGINAL: &[u8] = b"From: Alice <alice@example.org>\r\n\
To: bob@example.net, carol@example.net\r\n\
Subject: Quarterly figures\r\n\
Message-ID: <q1@example.org>\r\n\
\r\n\
Hello Bob,\r\n\
the figures are attached.\r\n";

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn failed(addr: &str) -> RecipientReport {
    RecipientReport {
        final_recipient: addr.into(),
        original_recipient: Some(format!("rfc822;{addr}")),
        action: Action::Failed,
        status: (5, 1, 1),
        remote_mta: Some("dns;mx.example.net".into()),
        diagnostic: Some(format!("550 5.1.1 <{addr}>: Recipient address rejected")),
        last_attempt: Some(at(1_700_000_060)),
        will_retry_until: None,
    }
}

fn delayed(addr: &str) -> RecipientReport {
    RecipientReport {
        final_recipient: addr.into(),
        original_recipient: None,
        action: Action::Delayed,
        status: (4, 4, 1),
        remote_mta: Some("mx2.example.net".into()),
        diagnostic: Some("421 4.4.1 try again later".into()),
        last_attempt: Some(at(1_700_003_600)),
        will_retry_until: Some(at(1_700_432_000)),
    }
}

fn report<'a>(recipients: Vec<RecipientReport>, original: Returned<'a>) -> DeliveryReport<'a> {
    DeliveryReport {
        reporting_mta: "mx.example.org".into(),
        from_mailbox: "MAILER-DAEMON@mx.example.org".into(),
        to: "alice@example.org".into(),
        envelope_id: Some("QQ314159".into()),
        arrival: Some(at(1_700_000_000)),
        recipients,
        original,
        date: at(1_700_000_061),
    }
}

/// The three (or two) parts of a parsed report.
fn parts<'m>(msg: &'m Message<'_>) -> Vec<Part<'m>> {
    msg.root().children().collect()
}

/// The `message/delivery-status` body as blocks of unfolded `(name, value)` fields.
fn blocks(body: &[u8]) -> Vec<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).expect("delivery-status is ASCII");
    assert!(text.is_ascii(), "delivery-status is ASCII: {text:?}");
    let mut out = Vec::new();
    for block in text.split("\r\n\r\n") {
        let block = block.trim_end_matches("\r\n");
        if block.is_empty() {
            continue;
        }
        let unfolded = block.replace("\r\n ", " ").replace("\r\n\t", "\t");
        let fields = unfolded
            .split("\r\n")
            .map(|l| {
                let (n, v) = l.split_once(':').expect("a field");
                (n.to_string(), v.trim_start().to_string())
            })
            .collect();
        out.push(fields);
    }
    out
}

fn field<'b>(block: &'b [(String, String)], name: &str) -> Option<&'b str> {
    block
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn names(block: &[(String, String)]) -> Vec<&str> {
    block.iter().map(|(n, _)| n.as_str()).collect()
}

/// Every line ends with CRLF, no CR or LF stands alone, no line passes 998 octets.
fn assert_wire_clean(b: &[u8]) {
    for (i, &c) in b.iter().enumerate() {
        if c == b'\r' {
            assert_eq!(b.get(i + 1), Some(&b'\n'), "bare CR at {i}");
        }
        if c == b'\n' {
            assert!(i > 0 && b[i - 1] == b'\r', "bare LF at {i}");
        }
    }
    for l in b.split(|&c| c == b'\n') {
        assert!(l.len() <= 999, "line of {} octets", l.len() - 1);
    }
    assert!(b.ends_with(b"\r\n"));
}

fn header(msg: &Message<'_>, name: &str) -> String {
    msg.root()
        .header(name)
        .unwrap_or_else(|| panic!("{name} present"))
        .text()
}

#[test]
fn structure_through_our_parser() {
    let r = report(vec![failed("bob@example.net")], Returned::Full(ORIGINAL));
    let bytes = r.to_bytes();
    assert_wire_clean(&bytes);
    let msg = Message::parse(&bytes[..]).unwrap();
    let root = msg.root();
    assert_eq!(
        (root.media_type(), root.media_subtype()),
        ("multipart", "report")
    );
    assert_eq!(
        root.param("report-type").as_deref(),
        Some("delivery-status")
    );
    let p = parts(&msg);
    let types: Vec<_> = p
        .iter()
        .map(|p| format!("{}/{}", p.media_type(), p.media_subtype()))
        .collect();
    assert_eq!(
        types,
        ["text/plain", "message/delivery-status", "message/rfc822"]
    );
    // Nothing transfer-encoded: the notification is all 7bit here.
    assert!(root.header("Content-Transfer-Encoding").is_none());
    for part in &p {
        assert!(part.header("Content-Transfer-Encoding").is_none());
    }

    assert_eq!(
        header(&msg, "From"),
        "Mail Delivery System <MAILER-DAEMON@mx.example.org>"
    );
    let from = root.header("From").unwrap().addresses();
    assert_eq!(
        from[0],
        mailwire_mime::Mailbox::new("Mail Delivery System", "MAILER-DAEMON@mx.example.org").into()
    );
    assert_eq!(header(&msg, "To"), "alice@example.org");
    assert_eq!(
        header(&msg, "Subject"),
        "Undelivered Mail Returned to Sender"
    );
    assert_eq!(header(&msg, "Date"), "Tue, 14 Nov 2023 22:14:21 +0000");
    assert_eq!(header(&msg, "Auto-Submitted"), "auto-replied");
    assert_eq!(header(&msg, "MIME-Version"), "1.0");
    let id = header(&msg, "Message-ID");
    assert_eq!(id, format!("<{}>", r.message_id()));
    assert!(id.ends_with(".dsn@mx.example.org>"), "{id}");

    // The text part names the recipient and quotes the remote server.
    let text = p[0].text().unwrap();
    assert!(text.contains("mx.example.org"), "{text}");
    assert!(
        text.contains("<bob@example.net>: host mx.example.net said:"),
        "{text}"
    );
    assert!(
        text.contains("550 5.1.1 <bob@example.net>: Recipient address rejected"),
        "{text}"
    );
    assert!(text.contains("could not be delivered"), "{text}");

    // The returned message is the original, byte for byte.
    assert_eq!(p[2].body(), ORIGINAL);
    let inner = p[2].attached_message().expect("an attached message");
    assert_eq!(inner.header("Subject").unwrap().text(), "Quarterly figures");
}

#[test]
fn every_field_in_order() {
    let mut r = report(
        vec![failed("bob@example.net"), delayed("carol@example.net")],
        Returned::Nothing,
    );
    r.recipients[0].original_recipient = Some("rfc822;Bob@Example.NET".into());
    let bytes = r.to_bytes();
    let msg = Message::parse(&bytes[..]).unwrap();
    let p = parts(&msg);
    assert_eq!(p.len(), 2);
    let b = blocks(p[1].body());
    assert_eq!(b.len(), 3, "{b:?}");

    assert_eq!(
        names(&b[0]),
        ["Original-Envelope-Id", "Reporting-MTA", "Arrival-Date"]
    );
    assert_eq!(field(&b[0], "Original-Envelope-Id"), Some("QQ314159"));
    assert_eq!(field(&b[0], "Reporting-MTA"), Some("dns;mx.example.org"));
    assert_eq!(
        field(&b[0], "Arrival-Date"),
        Some("Tue, 14 Nov 2023 22:13:20 +0000")
    );

    assert_eq!(
        names(&b[1]),
        [
            "Original-Recipient",
            "Final-Recipient",
            "Action",
            "Status",
            "Remote-MTA",
            "Diagnostic-Code",
            "Last-Attempt-Date"
        ]
    );
    assert_eq!(
        field(&b[1], "Original-Recipient"),
        Some("rfc822;Bob@Example.NET")
    );
    assert_eq!(
        field(&b[1], "Final-Recipient"),
        Some("rfc822;bob@example.net")
    );
    assert_eq!(field(&b[1], "Action"), Some("failed"));
    assert_eq!(field(&b[1], "Status"), Some("5.1.1"));
    assert_eq!(field(&b[1], "Remote-MTA"), Some("dns;mx.example.net"));
    assert_eq!(
        field(&b[1], "Diagnostic-Code"),
        Some("smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected")
    );
    assert_eq!(
        field(&b[1], "Last-Attempt-Date"),
        Some("Tue, 14 Nov 2023 22:14:20 +0000")
    );

    // No ORCPT: no Original-Recipient (RFC 3461 §6.3 (d)). A bare host gets `dns;`.
    assert_eq!(
        names(&b[2]),
        [
            "Final-Recipient",
            "Action",
            "Status",
            "Remote-MTA",
            "Diagnostic-Code",
            "Last-Attempt-Date",
            "Will-Retry-Until"
        ]
    );
    assert_eq!(field(&b[2], "Action"), Some("delayed"));
    assert_eq!(field(&b[2], "Status"), Some("4.4.1"));
    assert_eq!(field(&b[2], "Remote-MTA"), Some("dns;mx2.example.net"));
    assert_eq!(
        field(&b[2], "Diagnostic-Code"),
        Some("smtp; 421 4.4.1 try again later")
    );
    assert_eq!(
        field(&b[2], "Will-Retry-Until"),
        Some("Sun, 19 Nov 2023 22:13:20 +0000")
    );

    // Both groups are in the text.
    let text = p[0].text().unwrap();
    assert!(text.contains("<bob@example.net>"), "{text}");
    assert!(text.contains("<carol@example.net>"), "{text}");
    assert!(
        text.contains("will keep trying until Sun, 19 Nov 2023 22:13:20 +0000"),
        "{text}"
    );
}

#[test]
fn optional_fields_left_out() {
    let mut r = report(
        vec![RecipientReport {
            final_recipient: "rfc822;bob@example.net".into(),
            original_recipient: None,
            action: Action::Failed,
            status: (5, 4, 7),
            remote_mta: None,
            diagnostic: None,
            last_attempt: None,
            will_retry_until: None,
        }],
        Returned::Nothing,
    );
    r.envelope_id = None;
    r.arrival = None;
    let bytes = r.to_bytes();
    let msg = Message::parse(&bytes[..]).unwrap();
    let b = blocks(parts(&msg)[1].body());
    assert_eq!(names(&b[0]), ["Reporting-MTA"]);
    assert_eq!(names(&b[1]), ["Final-Recipient", "Action", "Status"]);
    // A given `rfc822;` type is not doubled.
    assert_eq!(
        field(&b[1], "Final-Recipient"),
        Some("rfc822;bob@example.net")
    );
    assert_eq!(field(&b[1], "Status"), Some("5.4.7"));
}

#[test]
fn invalid_status_falls_back_to_the_actions_class() {
    let mut a = failed("a@x");
    a.status = (3, 1, 1);
    let mut b = delayed("b@x");
    b.status = (4, 1000, 0);
    let mut c = failed("c@x");
    c.action = Action::Delivered;
    c.status = (9, 9, 9);
    let bytes = report(vec![a, b, c], Returned::Nothing).to_bytes();
    let msg = Message::parse(&bytes[..]).unwrap();
    let bl = blocks(parts(&msg)[1].body());
    let statuses: Vec<_> = bl[1..]
        .iter()
        .map(|b| field(b, "Status").unwrap())
        .collect();
    assert_eq!(statuses, ["5.0.0", "4.0.0", "2.0.0"]);
    assert_eq!(field(&bl[3], "Action"), Some("delivered"));
}

#[test]
fn subjects() {
    let s = |rs: Vec<RecipientReport>| {
        let bytes = report(rs, Returned::Nothing).to_bytes();
        let msg = Message::parse(&bytes[..]).unwrap();
        header(&msg, "Subject")
    };
    assert_eq!(
        s(vec![delayed("a@x")]),
        "Delayed Mail (still being retried)"
    );
    assert_eq!(
        s(vec![delayed("a@x"), failed("b@x")]),
        "Undelivered Mail Returned to Sender"
    );
    let mut ok = failed("a@x");
    ok.action = Action::Relayed;
    ok.status = (2, 0, 0);
    assert_eq!(s(vec![ok]), "Successful Mail Delivery Report");
}

#[test]
fn ret_headers_returns_only_the_header() {
    let bytes = report(vec![failed("bob@example.net")], Returned::Headers(ORIGINAL)).to_bytes();
    assert_wire_clean(&bytes);
    let msg = Message::parse(&bytes[..]).unwrap();
    let p = parts(&msg);
    assert_eq!(p.len(), 3);
    assert_eq!(
        (p[2].media_type(), p[2].media_subtype()),
        ("text", "rfc822-headers")
    );
    assert!(p[2].header("Content-Transfer-Encoding").is_none());
    let head_end = ORIGINAL.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 2;
    assert_eq!(&p[2].decoded_body()[..], &ORIGINAL[..head_end]);
    assert!(!String::from_utf8_lossy(&bytes).contains("the figures are attached"));
    assert!(
        p[0].text()
            .unwrap()
            .contains("header of the original message is attached")
    );
}

#[test]
fn reports_without_failures_return_only_the_header() {
    // RFC 3461 §4.3: RET=FULL applies to failure reports; a delay warning carries
    // the header only.
    let bytes = report(vec![delayed("carol@example.net")], Returned::Full(ORIGINAL)).to_bytes();
    let msg = Message::parse(&bytes[..]).unwrap();
    let p = parts(&msg);
    assert_eq!(p[2].media_subtype(), "rfc822-headers");
    assert!(!String::from_utf8_lossy(&bytes).contains("the figures are attached"));
    // With one failure among them the whole message comes back.
    let bytes = report(
        vec![delayed("carol@example.net"), failed("bob@example.net")],
        Returned::Full(ORIGINAL),
    )
    .to_bytes();
    let msg = Message::parse(&bytes[..]).unwrap();
    assert_eq!(parts(&msg)[2].media_subtype(), "rfc822");
}

#[test]
fn ret_nothing_gives_two_parts() {
    let bytes = report(vec![failed("bob@example.net")], Returned::Nothing).to_bytes();
    let msg = Message::parse(&bytes[..]).unwrap();
    assert_eq!(parts(&msg).len(), 2);
    assert!(!String::from_utf8_lossy(&bytes).contains("Quarterly"));
    // An empty original is nothing to return either.
    let bytes = report(vec![failed("bob@example.net")], Returned::Full(b"")).to_bytes();
    let msg = Message::parse(&bytes[..]).unwrap();
    assert_eq!(parts(&msg).len(), 2);
}

#[test]
fn lf_original_is_returned_with_crlf() {
    let lf = b"Subject: lf\nFrom: a@b\n\nline one\nline two\n";
    let bytes = report(vec![failed("bob@example.net")], Returned::Full(lf)).to_bytes();
    assert_wire_clean(&bytes);
    let msg = Message::parse(&bytes[..]).unwrap();
    assert_eq!(
        parts(&msg)[2].body(),
        b"Subject: lf\r\nFrom: a@b\r\n\r\nline one\r\nline two\r\n"
    );
}

#[test]
fn eight_bit_original_falls_back_to_its_header() {
    let orig = "From: a@example.org\r\nSubject: Gr\u{fc}\u{df}e\r\n\r\nK\u{f6}rper \u{e4}\r\n";
    let bytes = report(
        vec![failed("bob@example.net")],
        Returned::Full(orig.as_bytes()),
    )
    .to_bytes();
    assert_wire_clean(&bytes);
    assert!(bytes.is_ascii(), "the whole DSN is 7-bit");
    let msg = Message::parse(&bytes[..]).unwrap();
    let p = parts(&msg);
    assert_eq!(
        (p[2].media_type(), p[2].media_subtype()),
        ("text", "rfc822-headers")
    );
    assert_eq!(p[2].transfer_encoding().as_str(), "quoted-printable");
    assert_eq!(p[2].param("charset").as_deref(), Some("utf-8"));
    assert_eq!(
        &p[2].decoded_body()[..],
        "From: a@example.org\r\nSubject: Gr\u{fc}\u{df}e\r\n".as_bytes()
    );
    let text = p[0].text().unwrap();
    assert!(text.contains("not 7-bit clean"), "{text}");

    // 7-bit body but a line over 998: header only as well, 7bit this time.
    let long = format!("Subject: long\r\n\r\n{}\r\n", "x".repeat(1500));
    let bytes = report(vec![failed("b@x")], Returned::Full(long.as_bytes())).to_bytes();
    assert_wire_clean(&bytes);
    let msg = Message::parse(&bytes[..]).unwrap();
    let p = parts(&msg);
    assert_eq!(p[2].media_subtype(), "rfc822-headers");
    assert!(p[2].header("Content-Transfer-Encoding").is_none());
    assert_eq!(p[2].body(), b"Subject: long\r\n");

    // A header that is not UTF-8 is labelled unknown-8bit and kept octet for octet.
    let latin1 = b"Subject: Gr\xfc\xdfe\r\n\r\nx\r\n";
    let bytes = report(vec![failed("b@x")], Returned::Headers(latin1)).to_bytes();
    let msg = Message::parse(&bytes[..]).unwrap();
    let p = parts(&msg);
    assert_eq!(p[2].param("charset").as_deref(), Some("unknown-8bit"));
    assert_eq!(&p[2].decoded_body()[..], b"Subject: Gr\xfc\xdfe\r\n");
}

#[test]
fn a_body_holding_a_boundary_like_line_does_not_break_the_structure() {
    // The boundary is derived from a digest of the report, the original included, so
    // a returned message cannot know it in advance; a line that looks like one of
    // ours (another report's boundary) must not end the part anyway.
    let probe = report(vec![failed("b@x")], Returned::Nothing).to_bytes();
    let msg = Message::parse(&probe[..]).unwrap();
    let boundary = msg.root().param("boundary").unwrap();
    assert!(boundary.starts_with("=_dsn"), "{boundary}");
    let orig = format!("Subject: t\r\n\r\n--{boundary}\r\n--{boundary}--\r\n");
    let bytes = report(vec![failed("b@x")], Returned::Full(orig.as_bytes())).to_bytes();
    let msg = Message::parse(&bytes[..]).unwrap();
    assert_ne!(msg.root().param("boundary").unwrap(), boundary);
    let p = parts(&msg);
    assert_eq!(p.len(), 3);
    assert_eq!(p[2].body(), orig.as_bytes());
}

#[test]
fn line_breaks_cannot_inject_fields_or_blocks() {
    let mut evil = failed("bob@example.net");
    evil.diagnostic = Some(
        "550 5.1.1 no\r\nFinal-Recipient: rfc822;evil@x\r\n\r\nAction: delivered\nStatus: 2.0.0\r"
            .into(),
    );
    evil.final_recipient = "bob@example.net\r\nAction: delivered".into();
    evil.original_recipient = Some("rfc822;bob@example.net\n\nX-Evil: 1".into());
    evil.remote_mta = Some("dns;mx.example.net\r\nStatus: 2.0.0".into());
    let mut r = report(vec![evil], Returned::Nothing);
    r.envelope_id = Some("id\r\n\r\nFinal-Recipient: rfc822;x@y".into());
    r.reporting_mta = "mx.example.org\r\nArrival-Date: never".into();
    r.to = "alice@example.org\r\nBcc: victim@example.com".into();
    r.from_mailbox = "MAILER-DAEMON@mx\r\nX-Injected: yes".into();
    let bytes = r.to_bytes();
    assert_wire_clean(&bytes);
    let msg = Message::parse(&bytes[..]).unwrap();
    assert!(msg.root().header("Bcc").is_none());
    assert!(msg.root().header("X-Injected").is_none());
    assert_eq!(msg.root().header_all("To").count(), 1);
    let p = parts(&msg);
    let b = blocks(p[1].body());
    assert_eq!(b.len(), 2, "{b:?}");
    assert_eq!(
        names(&b[0]),
        ["Original-Envelope-Id", "Reporting-MTA", "Arrival-Date"]
    );
    assert_eq!(b[1].iter().filter(|(n, _)| n == "Action").count(), 1);
    assert_eq!(b[1].iter().filter(|(n, _)| n == "Status").count(), 1);
    assert_eq!(
        b[1].iter().filter(|(n, _)| n == "Final-Recipient").count(),
        1
    );
    assert_eq!(field(&b[1], "Action"), Some("failed"));
    assert_eq!(field(&b[1], "Status"), Some("5.1.1"));
    assert_eq!(
        field(&b[1], "Diagnostic-Code"),
        Some("smtp; 550 5.1.1 no Final-Recipient: rfc822;evil@x Action: delivered Status: 2.0.0")
    );
    assert_eq!(
        field(&b[1], "Final-Recipient"),
        Some("rfc822;bob@example.net Action: delivered")
    );
    assert!(!names(&b[1]).contains(&"X-Evil"));
    // The text part: the injected words are there, but inside the indented text.
    let text = p[0].text().unwrap();
    assert!(!text.lines().any(|l| l.starts_with("Status:")), "{text}");
}

#[test]
fn utf8_addresses_use_rfc6533() {
    let mut r = report(
        vec![failed("j\u{f6}rg@b\u{fc}cher.example")],
        Returned::Nothing,
    );
    r.recipients[0].original_recipient = Some("rfc822;J\u{f6}rg@b\u{fc}cher.example".into());
    r.recipients[0].diagnostic = Some("550 5.1.1 unbekannter Empf\u{e4}nger".into());
    r.to = "\u{e9}lise@exemple.fr".into();
    let bytes = r.to_bytes();
    assert_wire_clean(&bytes);
    let msg = Message::parse(&bytes[..]).unwrap();
    let p = parts(&msg);
    // The delivery-status part stays 7-bit, unencoded.
    assert!(p[1].body().is_ascii());
    assert!(p[1].header("Content-Transfer-Encoding").is_none());
    let b = blocks(p[1].body());
    assert_eq!(
        field(&b[1], "Final-Recipient"),
        Some("utf-8;j\\x{F6}rg@b\\x{FC}cher.example")
    );
    assert_eq!(
        field(&b[1], "Original-Recipient"),
        Some("utf-8;J\\x{F6}rg@b\\x{FC}cher.example")
    );
    assert_eq!(
        field(&b[1], "Diagnostic-Code"),
        Some("smtp; 550 5.1.1 unbekannter Empf\\x{E4}nger")
    );
    // The text part is quoted-printable UTF-8 and shows the address as it is.
    assert_eq!(p[0].transfer_encoding().as_str(), "quoted-printable");
    let text = p[0].text().unwrap();
    assert!(text.contains("<j\u{f6}rg@b\u{fc}cher.example>"), "{text}");
    assert!(text.contains("Empf\u{e4}nger"), "{text}");
    // The To address can only be written as it is (RFC 6532).
    assert_eq!(header(&msg, "To"), "\u{e9}lise@exemple.fr");
}

#[test]
fn long_diagnostics_fold() {
    let mut r = failed("bob@example.net");
    let words: Vec<String> = (0..300).map(|i| format!("w{i}")).collect();
    r.diagnostic = Some(format!("554 5.7.1 {}", words.join(" ")));
    let bytes = report(vec![r], Returned::Nothing).to_bytes();
    assert_wire_clean(&bytes);
    let msg = Message::parse(&bytes[..]).unwrap();
    let p = parts(&msg);
    assert!(p[1].body().split(|&c| c == b'\n').all(|l| l.len() <= 79));
    let b = blocks(p[1].body());
    assert_eq!(
        field(&b[1], "Diagnostic-Code").unwrap(),
        format!("smtp; 554 5.7.1 {}", words.join(" "))
    );
    // The text part wraps it too.
    assert!(p[0].body().split(|&c| c == b'\n').all(|l| l.len() <= 79));
}

#[test]
fn write_to_matches_to_bytes_and_output_is_deterministic() {
    let r = report(vec![failed("bob@example.net")], Returned::Full(ORIGINAL));
    let mut w = Vec::new();
    r.write_to(&mut w).unwrap();
    assert_eq!(w, r.to_bytes());
    assert_eq!(r.to_bytes(), r.clone().to_bytes());
    let mut later = r.clone();
    later.date = r.date + Duration::from_nanos(1);
    assert_ne!(later.message_id(), r.message_id());
    let mut other = r.clone();
    other.recipients[0].final_recipient = "dave@example.net".into();
    assert_ne!(other.message_id(), r.message_id());
}

// --- Python's email package -------------------------------------------------------

fn python_facts(data: &[u8]) -> Vec<String> {
    common::python_script("dsn_dump.py", data)
}

fn unhex(s: &str) -> String {
    if s == "-" {
        return String::new();
    }
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}

/// The value of the one line `KEY value`.
fn fact<'f>(facts: &'f [String], key: &str) -> Vec<&'f str> {
    facts
        .iter()
        .filter_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
        .collect()
}

/// Python's view of the delivery-status blocks: block -> [(name, value)].
fn python_blocks(facts: &[String]) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = Vec::new();
    for l in facts {
        if l.starts_with("BLOCK ") {
            out.push(Vec::new());
        } else if let Some(rest) = l.strip_prefix("FIELD ") {
            let mut it = rest.splitn(3, ' ');
            let n: usize = it.next().unwrap().parse().unwrap();
            let name = it.next().unwrap().to_string();
            let value = unhex(it.next().unwrap());
            out[n].push((name, value));
        }
    }
    out
}

#[test]
fn python_reads_a_well_formed_multipart_report() {
    if !common::python_available() {
        return;
    }
    let mut utf8 = failed("j\u{f6}rg@b\u{fc}cher.example");
    utf8.original_recipient = None;
    let eight_bit = "Subject: Gr\u{fc}\u{df}e\r\nFrom: a@b\r\n\r\n\u{e4}\r\n";
    let cases: Vec<(DeliveryReport<'_>, Option<(&str, &str)>)> = vec![
        (
            report(
                vec![failed("bob@example.net"), delayed("carol@example.net")],
                Returned::Full(ORIGINAL),
            ),
            Some(("message/rfc822", "Quarterly figures")),
        ),
        (
            report(
                vec![delayed("carol@example.net")],
                Returned::Headers(ORIGINAL),
            ),
            Some(("text/rfc822-headers", "Quarterly figures")),
        ),
        (
            report(vec![failed("bob@example.net"), utf8], Returned::Nothing),
            None,
        ),
        (
            report(
                vec![failed("bob@example.net")],
                Returned::Full(eight_bit.as_bytes()),
            ),
            Some(("text/rfc822-headers", "Gr\u{fc}\u{df}e")),
        ),
    ];
    for (r, returned) in cases {
        let bytes = r.to_bytes();
        let facts = python_facts(&bytes);
        let ctx = String::from_utf8_lossy(&bytes).into_owned();
        assert_eq!(fact(&facts, "CT"), ["multipart/report"], "{ctx}");
        assert_eq!(
            fact(&facts, "REPORT-TYPE")
                .iter()
                .map(|h| unhex(h))
                .collect::<Vec<_>>(),
            ["delivery-status"]
        );
        assert!(fact(&facts, "DEFECT").is_empty(), "{facts:?}\n{ctx}");
        let mut want_parts = vec!["text/plain", "message/delivery-status"];
        if let Some((ct, _)) = returned {
            want_parts.push(ct);
        }
        assert_eq!(fact(&facts, "PART"), want_parts, "{ctx}");

        let hdr = |name: &str| -> String {
            facts
                .iter()
                .find_map(|l| l.strip_prefix(&format!("HDR {name} ")))
                .map(unhex)
                .unwrap_or_else(|| panic!("{name} missing: {facts:?}"))
        };
        assert_eq!(hdr("subject"), r.subject());
        assert_eq!(hdr("auto-submitted"), "auto-replied");
        assert_eq!(hdr("to"), "alice@example.org");
        assert_eq!(
            hdr("from"),
            "Mail Delivery System <MAILER-DAEMON@mx.example.org>"
        );
        assert_eq!(hdr("message-id"), format!("<{}>", r.message_id()));
        assert_eq!(hdr("date"), "Tue, 14 Nov 2023 22:14:21 +0000");

        // Python's blocks are the same as ours.
        let theirs = python_blocks(&facts);
        assert_eq!(theirs.len(), 1 + r.recipients.len(), "{facts:?}");
        let msg = Message::parse(&bytes[..]).unwrap();
        let ours = blocks(parts(&msg)[1].body());
        assert_eq!(theirs, ours);
        for (block, rcpt) in theirs[1..].iter().zip(&r.recipients) {
            let (c, s, d) = rcpt.status;
            assert_eq!(
                field(block, "Status"),
                Some(format!("{c}.{s}.{d}").as_str())
            );
            assert_eq!(field(block, "Action"), Some(rcpt.action.as_str()));
        }

        let text = unhex(fact(&facts, "TEXT")[0]);
        for rcpt in &r.recipients {
            assert!(
                text.contains(&format!("<{}>", rcpt.final_recipient)),
                "{text}"
            );
        }

        let ret = fact(&facts, "RETURNED");
        match returned {
            None => assert!(ret.is_empty()),
            Some((ct, subject)) => {
                let mut it = ret[0].split(' ');
                assert_eq!(it.next(), Some(ct));
                assert_eq!(unhex(it.next().unwrap()), subject);
                let body = unhex(it.next().unwrap());
                if ct == "message/rfc822" {
                    assert_eq!(body, "Hello Bob,\r\nthe figures are attached.\r\n");
                } else {
                    assert!(body.starts_with("Subject: ") || body.starts_with("From: "));
                    assert!(!body.contains("\r\n\r\n"), "{body:?}");
                }
            }
        }
    }
}

// --- Properties ---------------------------------------------------------------------

/// What the writer makes of a value: controls and white space runs become one space,
/// the ends are trimmed.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Decodes a Final-Recipient value back to the address.
fn decode_recipient(v: &str) -> String {
    if let Some(a) = v.strip_prefix("rfc822;") {
        return a.to_string();
    }
    let x = v.strip_prefix("utf-8;").expect("rfc822 or utf-8 type");
    let mut out = String::new();
    let mut rest = x;
    while let Some(i) = rest.find("\\x{") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').unwrap() + i;
        let cp = u32::from_str_radix(&rest[i + 3..end], 16).unwrap();
        out.push(char::from_u32(cp).unwrap());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Failed),
        Just(Action::Delayed),
        Just(Action::Delivered),
        Just(Action::Relayed),
        Just(Action::Expanded),
    ]
}

fn recipient() -> impl Strategy<Value = RecipientReport> {
    (
        // Addresses with the odd space, CR, LF, non-ASCII, `+`, `=` and `\`.
        "[a-z0-9.+=\\\\\u{e9}\u{4e2d}\r\n ]{1,40}@[a-z\u{fc}.\r\n-]{1,30}",
        // Diagnostics: words and line breaks, or a run with no space to fold at.
        proptest::option::of(prop_oneof![
            "[ -~\r\n\t\u{e4}\u{2028}]{0,600}",
            "55[0-4] [!-~\u{e4}]{900,2500}",
        ]),
        action(),
        (0u8..8, 0u16..1200, 0u16..1200),
        proptest::option::of("[a-z.\r\n;]{1,60}"),
        proptest::option::of("(rfc822;)?[a-z@.\r\n\u{f6}]{1,40}"),
        proptest::option::of(0u64..4_000_000_000),
    )
        .prop_map(
            |(addr, diag, action, status, mta, orcpt, t)| RecipientReport {
                final_recipient: addr,
                original_recipient: orcpt,
                action,
                status,
                remote_mta: mta,
                diagnostic: diag,
                last_attempt: t.map(at),
                will_retry_until: t.map(|t| at(t + 86_400)),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_reports_stay_well_formed(
        recipients in proptest::collection::vec(recipient(), 1..6),
        envid in proptest::option::of("[ -~\r\n]{0,120}"),
        mta in "[a-z.\r\n ]{1,40}",
        ret in 0u8..3,
        body in "[ -~\r\n\u{e9}]{0,300}",
    ) {
        let orig = format!("Subject: s\r\nFrom: a@b\r\n\r\n{body}");
        let original = match ret {
            0 => Returned::Full(orig.as_bytes()),
            1 => Returned::Headers(orig.as_bytes()),
            _ => Returned::Nothing,
        };
        let r = DeliveryReport {
            reporting_mta: mta,
            from_mailbox: "MAILER-DAEMON@mx.example".into(),
            to: "alice@example.org".into(),
            envelope_id: envid,
            arrival: Some(at(1_700_000_000)),
            recipients: recipients.clone(),
            original,
            date: at(1_700_000_100),
        };
        let bytes = r.to_bytes();
        assert_wire_clean(&bytes);
        let msg = Message::parse(&bytes[..]).unwrap();
        prop_assert_eq!(msg.root().media_subtype(), "report");
        let p = parts(&msg);
        prop_assert_eq!(p.len(), if ret == 2 { 2 } else { 3 });
        prop_assert_eq!(p[1].media_subtype(), "delivery-status");
        let b = blocks(p[1].body());
        prop_assert_eq!(b.len(), 1 + recipients.len());
        for (block, rcpt) in b[1..].iter().zip(&recipients) {
            let finals = block.iter().filter(|(n, _)| n == "Final-Recipient").count();
            prop_assert_eq!(finals, 1);
            let fr = field(block, "Final-Recipient").unwrap();
            prop_assert_eq!(decode_recipient(fr), one_line(&rcpt.final_recipient));
            prop_assert_eq!(field(block, "Action"), Some(rcpt.action.as_str()));
            let (c, s, d) = rcpt.status;
            let valid = matches!(c, 2 | 4 | 5) && s <= 999 && d <= 999;
            let status = field(block, "Status").unwrap();
            if valid {
                prop_assert_eq!(status, format!("{c}.{s}.{d}"));
            } else {
                let class = match rcpt.action {
                    Action::Failed => "5",
                    Action::Delayed => "4",
                    _ => "2",
                };
                prop_assert_eq!(status, format!("{class}.0.0"));
            }
            if let Some(diag) = &rcpt.diagnostic {
                let v = field(block, "Diagnostic-Code").unwrap();
                let text = v.split_once("; ").map(|(_, t)| t).unwrap_or("");
                let want: String = one_line(diag)
                    .chars()
                    .map(|c| if c.is_ascii() { c.to_string() } else { format!("\\x{{{:02X}}}", c as u32) })
                    .collect();
                if want.split(' ').all(|w| w.len() < 800) {
                    prop_assert_eq!(text, want);
                } else {
                    // A run too long for a line was broken with a fold, which
                    // unfolds to an extra space; nothing else changed.
                    prop_assert_eq!(text.replace(' ', ""), want.replace(' ', ""));
                }
            }
        }
    }
}

#[test]
fn replay_the_mime_dsn_fuzz_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/mime_dsn");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(e.unwrap().path()).unwrap();
        mailwire_mime::dsn::fuzzing::build(&data);
        n += 1;
    }
    assert!(n >= 5, "the mime_dsn corpus is missing");
}

#[test]
fn the_fuzz_check_rejects_broken_reports() {
    let good = report(vec![failed("bob@example.net")], Returned::Nothing).to_bytes();
    mailwire_mime::dsn::fuzzing::check(&good, 1);
    let must_fail = |bytes: Vec<u8>, n: usize| {
        let r = std::panic::catch_unwind(|| mailwire_mime::dsn::fuzzing::check(&bytes, n));
        assert!(r.is_err(), "{}", String::from_utf8_lossy(&bytes));
    };
    must_fail(good.clone(), 2);
    let text = String::from_utf8(good.clone()).unwrap();
    must_fail(
        text.replacen("Status: 5.1.1\r\n", "Status: 5.1.1\n", 1)
            .into_bytes(),
        1,
    );
    must_fail(
        text.replacen(
            "Action: failed\r\n",
            "Action: failed\r\nAction: delivered\r\n",
            1,
        )
        .into_bytes(),
        1,
    );
    let long = text.replacen(
        "Status: 5.1.1",
        &format!("Status: 5.1.1{}", "x".repeat(999)),
        1,
    );
    must_fail(long.into_bytes(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_build_well_formed_reports(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        mailwire_mime::dsn::fuzzing::build(&data);
    }
}
