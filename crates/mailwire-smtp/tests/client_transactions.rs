//! Sending mail: pipelining, parameters, content, several messages, refusals, LMTP.

mod client_support;

use bytes::Bytes;
use client_support::*;
use mailwire_core::Session;
use mailwire_smtp::client::{
    ClientApiError, ClientEvent, Envelope, LocalRefusal, MessageFailure, TransactionId,
};
use mailwire_smtp::types::{BodyType, ForwardPath, Reply};

fn delivered(pair: &Pair) -> Vec<TransactionId> {
    pair.events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Delivered { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

fn failure(pair: &Pair, id: TransactionId) -> MessageFailure {
    pair.events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Failed { id: i, failure } if *i == id => Some(failure.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no failure for {id}: {:?}", pair.events))
}

fn recipients(pair: &Pair, id: TransactionId) -> Vec<(usize, bool, u16)> {
    pair.events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Recipient {
                id: i,
                index,
                accepted,
                reply,
            } if *i == id => Some((*index, *accepted, reply.code().as_u16())),
            _ => None,
        })
        .collect()
}

/// Each message ends with exactly one Delivered or Failed, and Closed comes last.
fn check_outcomes(pair: &Pair, ids: &[TransactionId]) {
    for id in ids {
        let n = pair
            .events
            .iter()
            .filter(|e| {
                matches!(e, ClientEvent::Delivered { id: i, .. } | ClientEvent::Failed { id: i, .. } if i == id)
            })
            .count();
        assert_eq!(n, 1, "{id}: {:?}", pair.events);
    }
    let closed = pair
        .events
        .iter()
        .filter(|e| matches!(e, ClientEvent::Closed { .. }))
        .count();
    assert!(closed <= 1);
    if closed == 1 {
        assert!(matches!(
            pair.events.last(),
            Some(ClientEvent::Closed { .. })
        ));
    }
}

fn send(pair: &mut Pair, from: &str, to: &[&str], body: &str) -> TransactionId {
    pair.client
        .send_mail(envelope(from, to), message(body))
        .unwrap()
}

#[test]
fn pipelining_sends_mail_rcpts_and_data_in_one_group() {
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    let id = send(
        &mut pair,
        "a@example.org",
        &["b@example.com", "c@example.com"],
        "Hi\r\n",
    );
    pair.client.quit();
    pair.run();
    let group = "MAIL FROM:<a@example.org> SIZE=4\r\nRCPT TO:<b@example.com>\r\n\
                 RCPT TO:<c@example.com>\r\nDATA\r\n";
    assert!(pair.wire_text().contains(group), "{}", pair.wire_text());
    assert_eq!(pair.server.max_unanswered, 4);
    assert_eq!(recipients(&pair, id), [(0, true, 250), (1, true, 250)]);
    assert_eq!(delivered(&pair), [id]);
    assert_eq!(pair.server.messages, [b"Hi\r\n".to_vec()]);
    check_outcomes(&pair, &[id]);
    assert!(matches!(
        pair.events.last(),
        Some(ClientEvent::Closed { error: None })
    ));
    assert!(pair.transport_closed);
}

#[test]
fn without_pipelining_never_more_than_one_command_outstanding() {
    // A server in the style of OpenSMTPD without PIPELINING, with and without CHUNKING,
    // with a refused recipient and several messages.
    for caps in [
        &["SIZE 1000000", "8BITMIME"][..],
        &["CHUNKING", "8BITMIME"][..],
    ] {
        let mut server = FakeServer::new(caps);
        server.refuse_rcpt.push("bad@".into());
        let mut config = config();
        config.chunk_size = 7;
        let mut pair = Pair::new(config, server);
        let a = send(
            &mut pair,
            "a@example.org",
            &["b@example.com", "bad@example.com", "c@example.com"],
            "one\r\ntwo\r\nthree\r\n",
        );
        let b = send(&mut pair, "a@example.org", &["bad@example.com"], "x\r\n");
        let c = send(&mut pair, "a@example.org", &["d@example.com"], "four\r\n");
        pair.client.quit();
        pair.run();
        assert_eq!(
            pair.server.max_unanswered, 1,
            "{caps:?}: {:?}",
            pair.server.commands
        );
        assert_eq!(pair.max_outstanding, 1);
        assert_eq!(pair.server.syntax_errors, 0);
        assert_eq!(delivered(&pair), [a, c]);
        assert!(
            matches!(failure(&pair, b), MessageFailure::AllRecipientsRefused(r) if r.code().as_u16() == 550)
        );
        assert_eq!(
            pair.server.messages,
            [b"one\r\ntwo\r\nthree\r\n".to_vec(), b"four\r\n".to_vec()]
        );
        check_outcomes(&pair, &[a, b, c]);
    }
    // The client's own switch too, against a server that offers PIPELINING.
    let mut config = config();
    config.pipelining = false;
    let mut pair = Pair::new(config, FakeServer::new(MODERN));
    let a = send(
        &mut pair,
        "a@example.org",
        &["b@example.com", "c@example.com"],
        "x\r\n",
    );
    pair.run();
    assert_eq!(pair.server.max_unanswered, 1);
    assert_eq!(delivered(&pair), [a]);
}

#[test]
fn size_is_declared_and_an_oversized_message_is_refused_locally() {
    let mut pair = Pair::new(config(), FakeServer::new(&["PIPELINING", "SIZE 100"]));
    let big = send(
        &mut pair,
        "a@example.org",
        &["b@example.com"],
        &"x".repeat(150),
    );
    let small = send(&mut pair, "a@example.org", &["b@example.com"], "small\n");
    pair.client.quit();
    pair.run();
    assert_eq!(
        failure(&pair, big),
        MessageFailure::Local(LocalRefusal::TooLarge {
            size: 152,
            limit: 100
        })
    );
    assert_eq!(delivered(&pair), [small]);
    // Nothing was sent for the big one; the small one declared its CRLF size.
    let mails: Vec<&String> = pair
        .server
        .commands
        .iter()
        .filter(|c| c.starts_with("MAIL"))
        .collect();
    assert_eq!(mails, ["MAIL FROM:<a@example.org> SIZE=7"]);
    check_outcomes(&pair, &[big, small]);

    // SIZE without a limit (or 0): declared, never refused.
    for cap in ["SIZE", "SIZE 0"] {
        let mut pair = Pair::new(config(), FakeServer::new(&[cap]));
        let id = send(
            &mut pair,
            "a@example.org",
            &["b@example.com"],
            &"y".repeat(5000),
        );
        pair.run();
        assert_eq!(delivered(&pair), [id]);
        assert!(
            pair.server
                .commands
                .contains(&"MAIL FROM:<a@example.org> SIZE=5002".to_string())
        );
    }
}

#[test]
fn smtputf8_is_added_when_needed_and_refused_locally_when_not_offered() {
    let mut pair = Pair::new(config(), FakeServer::new(&["PIPELINING", "8BITMIME"]));
    let utf8 = send(
        &mut pair,
        "a@example.org",
        &["jos\u{e9}@example.com"],
        "x\r\n",
    );
    let ascii = send(&mut pair, "a@example.org", &["b@example.com"], "x\r\n");
    pair.run();
    assert_eq!(
        failure(&pair, utf8),
        MessageFailure::Local(LocalRefusal::NotOffered("SMTPUTF8"))
    );
    assert_eq!(delivered(&pair), [ascii]);
    assert!(!pair.wire_text().contains("jos"));

    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    let id = send(
        &mut pair,
        "\u{e4}sa@example.org",
        &["b@example.com"],
        "x\r\n",
    );
    pair.run();
    assert_eq!(delivered(&pair), [id]);
    assert!(
        pair.server
            .commands
            .contains(&"MAIL FROM:<\u{e4}sa@example.org> SIZE=3 SMTPUTF8".to_string())
    );
    assert_eq!(pair.server.syntax_errors, 0);
}

#[test]
fn eight_bit_content_is_declared_when_offered() {
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    let id = send(
        &mut pair,
        "a@example.org",
        &["b@example.com"],
        "caf\u{e9}\r\n",
    );
    pair.run();
    assert_eq!(delivered(&pair), [id]);
    assert!(
        pair.server
            .commands
            .contains(&"MAIL FROM:<a@example.org> SIZE=7 BODY=8BITMIME".to_string())
    );

    // Not offered: sent as is, without BODY=; an explicit BODY=8BITMIME is refused.
    let mut pair = Pair::new(config(), FakeServer::new(&["PIPELINING"]));
    let plain = send(
        &mut pair,
        "a@example.org",
        &["b@example.com"],
        "caf\u{e9}\r\n",
    );
    let mut env = envelope("a@example.org", &["b@example.com"]);
    env.params.body = Some(BodyType::EightBitMime);
    let explicit = pair.client.send_mail(env, message("x\r\n")).unwrap();
    pair.run();
    assert_eq!(delivered(&pair), [plain]);
    assert!(
        pair.server
            .commands
            .contains(&"MAIL FROM:<a@example.org>".to_string())
    );
    assert_eq!(
        failure(&pair, explicit),
        MessageFailure::Local(LocalRefusal::NotOffered("8BITMIME"))
    );
}

#[test]
fn dsn_requiretls_and_auth_parameters_need_their_extension() {
    let mut pair = Pair::new(config(), FakeServer::new(&["PIPELINING"]));
    let mut env = envelope("a@example.org", &["b@example.com"]);
    env.params.ret = Some(mailwire_smtp::types::Ret::Hdrs);
    let dsn = pair.client.send_mail(env, message("x\r\n")).unwrap();
    let mut env = envelope("a@example.org", &["b@example.com"]);
    env.params.requiretls = true;
    let requiretls = pair.client.send_mail(env, message("x\r\n")).unwrap();
    pair.run();
    assert_eq!(
        failure(&pair, dsn),
        MessageFailure::Local(LocalRefusal::NotOffered("DSN"))
    );
    assert_eq!(
        failure(&pair, requiretls),
        MessageFailure::Local(LocalRefusal::NotOffered("REQUIRETLS"))
    );
    assert!(!pair.wire_text().contains("MAIL"));

    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    let mut env = envelope("a@example.org", &["b@example.com"]);
    env.params.ret = Some(mailwire_smtp::types::Ret::Hdrs);
    env.recipients[0].params.notify = Some(mailwire_smtp::types::Notify::NEVER);
    let id = pair.client.send_mail(env, message("x\r\n")).unwrap();
    pair.run();
    assert_eq!(delivered(&pair), [id]);
    assert!(
        pair.server
            .commands
            .contains(&"MAIL FROM:<a@example.org> SIZE=3 RET=HDRS".to_string())
    );
    assert!(
        pair.server
            .commands
            .contains(&"RCPT TO:<b@example.com> NOTIFY=NEVER".to_string())
    );
}

#[test]
fn dot_stuffing_and_bare_line_endings_in_data() {
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    let body = ".leading\nbare lf\rbare cr\r\n..two\r\n.\r\nend";
    let id = send(&mut pair, "a@example.org", &["b@example.com"], body);
    pair.run();
    assert_eq!(delivered(&pair), [id]);
    let want = ".leading\r\nbare lf\r\nbare cr\r\n..two\r\n.\r\nend\r\n";
    assert_eq!(String::from_utf8_lossy(&pair.server.messages[0]), want);
    let wire = pair.wire_text();
    assert!(
        wire.contains("DATA\r\n..leading\r\nbare lf\r\nbare cr\r\n...two\r\n..\r\nend\r\n.\r\n"),
        "{wire}"
    );
    assert!(wire.contains(&format!("SIZE={}", want.len())));
}

#[test]
fn data_leaves_in_bounded_pieces() {
    let mut config = config();
    config.data_piece_size = 1000;
    let mut pair = Pair::new(config, FakeServer::new(MODERN));
    let body: String = (0..2000).map(|i| format!(".line {i}\n")).collect();
    let id = send(&mut pair, "a@example.org", &["b@example.com"], &body);
    pair.run();
    assert_eq!(delivered(&pair), [id]);
    assert_eq!(
        pair.server.messages[0],
        body.replace('\n', "\r\n").into_bytes()
    );
    // Every piece is at most the piece size, stuffed and normalised (at most doubled).
    let content_pieces = pair.transmit_sizes.iter().filter(|&&n| n > 200).count();
    assert!(
        content_pieces >= body.len() / 1000,
        "{:?}",
        pair.transmit_sizes
    );
    assert!(
        pair.transmit_sizes.iter().all(|&n| n <= 2000 + 3),
        "{:?}",
        pair.transmit_sizes
    );
}

#[test]
fn bdat_chunks_are_normalised_not_stuffed() {
    let mut config = config();
    config.chunk_size = 10;
    let mut pair = Pair::new(
        config,
        FakeServer::new(&["PIPELINING", "CHUNKING", "SIZE 1000"]),
    );
    let body = "0123456789.abc\nxyz\r\n.\r\nend";
    let id = send(&mut pair, "a@example.org", &["b@example.com"], body);
    pair.client.quit();
    pair.run();
    assert_eq!(delivered(&pair), [id]);
    let want = "0123456789.abc\r\nxyz\r\n.\r\nend";
    assert_eq!(String::from_utf8_lossy(&pair.server.messages[0]), want);
    let bdats: Vec<&String> = pair
        .server
        .commands
        .iter()
        .filter(|c| c.starts_with("BDAT"))
        .collect();
    assert_eq!(bdats, ["BDAT 10", "BDAT 11", "BDAT 6 LAST"]);
    assert!(!pair.wire_text().contains("DATA\r\n"));
    assert!(pair.wire_text().contains(&format!("SIZE={}", want.len())));
    // The first chunk goes with MAIL and RCPT.
    assert!(
        pair.wire_text()
            .contains("RCPT TO:<b@example.com>\r\nBDAT 10\r\n0123456789")
    );
}

#[test]
fn binarymime_goes_untouched_by_bdat_and_needs_its_extensions() {
    let body = Bytes::from_static(b"\x00\xff bare\nlf\r\n.\r\n");
    let binary = || {
        let mut env = envelope("a@example.org", &["b@example.com"]);
        env.params.body = Some(BodyType::BinaryMime);
        env
    };
    let mut pair = Pair::new(
        config(),
        FakeServer::new(&["PIPELINING", "CHUNKING", "BINARYMIME", "8BITMIME"]),
    );
    let id = pair.client.send_mail(binary(), body.clone()).unwrap();
    pair.run();
    assert_eq!(delivered(&pair), [id]);
    assert_eq!(pair.server.messages[0], body.to_vec());
    assert!(
        pair.server
            .commands
            .contains(&"MAIL FROM:<a@example.org> BODY=BINARYMIME".to_string())
    );
    assert!(pair.server.commands.contains(&"BDAT 15 LAST".to_string()));

    let mut pair = Pair::new(config(), FakeServer::new(&["PIPELINING", "CHUNKING"]));
    let id = pair.client.send_mail(binary(), body.clone()).unwrap();
    pair.run();
    assert_eq!(
        failure(&pair, id),
        MessageFailure::Local(LocalRefusal::NotOffered("BINARYMIME"))
    );

    let mut config = config();
    config.chunking = false;
    let mut pair = Pair::new(config, FakeServer::new(&["CHUNKING", "BINARYMIME"]));
    let id = pair.client.send_mail(binary(), body).unwrap();
    pair.run();
    assert_eq!(
        failure(&pair, id),
        MessageFailure::Local(LocalRefusal::NotOffered("CHUNKING"))
    );
    assert!(!pair.wire_text().contains("MAIL"));
}

#[test]
fn several_messages_on_one_session_without_rset() {
    for caps in [MODERN, &["PIPELINING", "CHUNKING"][..], &[][..]] {
        let mut pair = Pair::new(config(), FakeServer::new(caps));
        let ids: Vec<TransactionId> = (0..3)
            .map(|i| {
                send(
                    &mut pair,
                    "a@example.org",
                    &["b@example.com"],
                    &format!("message {i}\r\n"),
                )
            })
            .collect();
        pair.client.quit();
        pair.run();
        assert_eq!(delivered(&pair), ids, "{caps:?}");
        assert_eq!(pair.server.messages.len(), 3);
        assert!(!pair.server.commands.iter().any(|c| c == "RSET"));
        assert_eq!(
            pair.server
                .commands
                .iter()
                .filter(|c| c.starts_with("EHLO"))
                .count(),
            1
        );
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        check_outcomes(&pair, &ids);
    }
}

#[test]
fn some_recipients_refused() {
    let mut server = FakeServer::new(MODERN);
    server.refuse_rcpt.push("nobody@".into());
    let mut pair = Pair::new(config(), server);
    let id = send(
        &mut pair,
        "a@example.org",
        &["b@example.com", "nobody@example.com", "c@example.com"],
        "x\r\n",
    );
    pair.run();
    assert_eq!(
        recipients(&pair, id),
        [(0, true, 250), (1, false, 550), (2, true, 250)]
    );
    assert_eq!(delivered(&pair), [id]);
}

#[test]
fn all_recipients_refused_sends_no_content_and_rset_before_the_next() {
    for caps in [&["SIZE 1000"][..], MODERN, &["PIPELINING", "CHUNKING"][..]] {
        let mut server = FakeServer::new(caps);
        server.refuse_rcpt.push("nobody@".into());
        let mut pair = Pair::new(config(), server);
        let bad = send(
            &mut pair,
            "a@example.org",
            &["nobody@example.com", "nobody@example.net"],
            "lost\r\n",
        );
        let good = send(&mut pair, "a@example.org", &["b@example.com"], "kept\r\n");
        pair.run();
        assert!(
            matches!(failure(&pair, bad), MessageFailure::AllRecipientsRefused(r) if r.code().as_u16() == 550),
            "{caps:?}"
        );
        assert_eq!(recipients(&pair, bad), [(0, false, 550), (1, false, 550)]);
        assert_eq!(delivered(&pair), [good]);
        assert_eq!(pair.server.messages, [b"kept\r\n".to_vec()]);
        let cmds = &pair.server.commands;
        let rset = cmds.iter().position(|c| c == "RSET").expect("an RSET");
        assert!(cmds[rset + 1].starts_with("MAIL"));
        if !caps.contains(&"PIPELINING") {
            // Without pipelining DATA is never sent for it.
            assert_eq!(cmds.iter().filter(|c| *c == "DATA").count(), 1);
        }
        check_outcomes(&pair, &[bad, good]);
    }
}

#[test]
fn refused_mail_fails_the_message_and_rset_follows() {
    for caps in [MODERN, &["SIZE 1000"][..]] {
        let mut server = FakeServer::new(caps);
        server.hook = Some(Box::new(|line| {
            line.starts_with("MAIL FROM:<spammer@")
                .then(|| "550 5.7.1 Go away\r\n".to_string())
        }));
        let mut pair = Pair::new(config(), server);
        let bad = send(
            &mut pair,
            "spammer@example.org",
            &["b@example.com", "c@example.com"],
            "x\r\n",
        );
        let good = send(&mut pair, "a@example.org", &["b@example.com"], "y\r\n");
        pair.run();
        assert!(matches!(failure(&pair, bad), MessageFailure::Mail(r) if r.code().as_u16() == 550));
        // The RCPT replies of a refused MAIL (503 when pipelined) are not reported.
        assert!(recipients(&pair, bad).is_empty());
        assert_eq!(delivered(&pair), [good]);
        let cmds = &pair.server.commands;
        let rset = cmds.iter().position(|c| c == "RSET").expect("an RSET");
        assert_eq!(cmds[rset + 1], "MAIL FROM:<a@example.org> SIZE=3");
        check_outcomes(&pair, &[bad, good]);
    }
}

#[test]
fn refused_data_fails_transiently_and_rset_follows() {
    let mut server = FakeServer::new(MODERN);
    let mut first = true;
    server.hook = Some(Box::new(move |line| {
        (line == "DATA" && std::mem::take(&mut first))
            .then(|| "451 4.3.0 Try later\r\n".to_string())
    }));
    let mut pair = Pair::new(config(), server);
    let bad = send(&mut pair, "a@example.org", &["b@example.com"], "x\r\n");
    let good = send(&mut pair, "a@example.org", &["b@example.com"], "y\r\n");
    pair.run();
    let fail = failure(&pair, bad);
    assert!(matches!(&fail, MessageFailure::Data(r) if r.code().as_u16() == 451));
    assert!(fail.is_transient());
    assert_eq!(delivered(&pair), [good]);
    assert!(pair.server.commands.contains(&"RSET".to_string()));
}

#[test]
fn refused_final_reply_needs_no_rset() {
    let mut server = FakeServer::new(MODERN);
    server
        .final_replies
        .push_back("554 5.7.1 Looks like spam\r\n".into());
    let mut pair = Pair::new(config(), server);
    let bad = send(
        &mut pair,
        "a@example.org",
        &["b@example.com"],
        "buy now\r\n",
    );
    let good = send(&mut pair, "a@example.org", &["b@example.com"], "hello\r\n");
    pair.run();
    let fail = failure(&pair, bad);
    assert!(matches!(&fail, MessageFailure::Final(r) if r.code().as_u16() == 554));
    assert!(!fail.is_transient());
    assert_eq!(delivered(&pair), [good]);
    assert!(!pair.server.commands.contains(&"RSET".to_string()));
}

#[test]
fn refused_bdat_stops_the_chunks_and_rset_follows() {
    for pipelining in [false, true] {
        let mut server = FakeServer::new(&["PIPELINING", "CHUNKING"]);
        server
            .chunk_replies
            .push_back("552 5.3.4 Too big\r\n".into());
        let mut config = config();
        config.chunk_size = 4;
        config.pipelining = pipelining;
        let mut pair = Pair::new(config, server);
        let bad = send(
            &mut pair,
            "a@example.org",
            &["b@example.com"],
            "aaa\nbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        );
        let good = send(&mut pair, "a@example.org", &["b@example.com"], "fine\r\n");
        pair.run();
        assert!(matches!(failure(&pair, bad), MessageFailure::Data(r) if r.code().as_u16() == 552));
        assert_eq!(delivered(&pair), [good]);
        let cmds = &pair.server.commands;
        let rset = cmds.iter().position(|c| c == "RSET").expect("an RSET");
        let bdats = cmds[..rset]
            .iter()
            .filter(|c| c.starts_with("BDAT"))
            .count();
        // The refused chunk is the first, sent with MAIL and RCPT; no chunk follows it.
        assert_eq!(bdats, 1, "{cmds:?}");
        assert_eq!(pair.server.messages, [b"fine\r\n".to_vec()]);
    }
}

#[test]
fn pipelined_data_accepted_despite_no_recipients_gets_a_lone_dot() {
    let mut server = FakeServer::new(MODERN);
    server.refuse_rcpt.push("nobody@".into());
    server.hook = Some(Box::new(|line| match line {
        // A broken server: 354 although no recipient was accepted.
        "DATA" => Some("354 Go ahead anyway\r\n".to_string()),
        "." => Some("250 2.0.0 Nothing delivered\r\n".to_string()),
        _ => None,
    }));
    let mut pair = Pair::new(config(), server);
    let bad = send(
        &mut pair,
        "a@example.org",
        &["nobody@example.com"],
        "secret content\r\n",
    );
    let next = send(
        &mut pair,
        "a@example.org",
        &["nobody@example.com"],
        "more\r\n",
    );
    pair.run();
    assert!(matches!(
        failure(&pair, bad),
        MessageFailure::AllRecipientsRefused(_)
    ));
    assert!(matches!(
        failure(&pair, next),
        MessageFailure::AllRecipientsRefused(_)
    ));
    let wire = pair.wire_text();
    assert!(wire.contains("DATA\r\n.\r\nRSET\r\n"), "{wire}");
    assert!(!wire.contains("secret content"));
}

#[test]
fn lmtp_reports_one_reply_per_accepted_recipient() {
    for caps in [
        &["PIPELINING", "8BITMIME"][..],
        &["PIPELINING", "CHUNKING"][..],
        &[][..],
    ] {
        let mut server = FakeServer::new(caps);
        server.lmtp = true;
        server.refuse_rcpt.push("nobody@".into());
        server.lmtp_refuse_final.push("full@".into());
        let mut pair = Pair::new(ClientConfigExt::lmtp(), server);
        let id = send(
            &mut pair,
            "a@example.org",
            &[
                "b@example.com",
                "nobody@example.com",
                "full@example.com",
                "c@example.com",
            ],
            "x\r\n",
        );
        let none = send(&mut pair, "a@example.org", &["full@example.com"], "y\r\n");
        pair.client.quit();
        pair.run();
        assert!(pair.server.commands[0].starts_with("LHLO"));
        let deliveries: Vec<(TransactionId, usize, bool, u16)> = pair
            .events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::RecipientDelivery {
                    id,
                    index,
                    delivered,
                    reply,
                } => Some((*id, *index, *delivered, reply.code().as_u16())),
                _ => None,
            })
            .collect();
        assert_eq!(
            deliveries,
            [
                (id, 0, true, 250),
                (id, 2, false, 452),
                (id, 3, true, 250),
                (none, 0, false, 452)
            ],
            "{caps:?}"
        );
        assert!(pair.events.iter().any(
            |e| matches!(e, ClientEvent::Delivered { id: i, reply } if *i == id && reply.code().as_u16() == 250)
        ));
        assert!(
            matches!(failure(&pair, none), MessageFailure::Final(r) if r.code().as_u16() == 452)
        );
        assert!(matches!(
            pair.events.last(),
            Some(ClientEvent::Closed { error: None })
        ));
        check_outcomes(&pair, &[id, none]);
    }
}

#[test]
fn verbs_refuse_misuse() {
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    let empty = Envelope::new(mailwire_smtp::types::ReversePath::Null);
    assert_eq!(
        pair.client.send_mail(empty, Bytes::new()),
        Err(ClientApiError::NoRecipients)
    );
    let bounce = Envelope::new(mailwire_smtp::types::ReversePath::Null).to(ForwardPath::Postmaster);
    let id = pair
        .client
        .send_mail(bounce, message("bounce\r\n"))
        .unwrap();
    assert_eq!(id.as_u64(), 1);
    pair.client.quit();
    assert_eq!(
        pair.client
            .send_mail(envelope("a@example.org", &["b@example.com"]), Bytes::new()),
        Err(ClientApiError::Closing)
    );
    pair.run();
    assert_eq!(delivered(&pair), [id]);
    assert!(
        pair.server
            .commands
            .contains(&"MAIL FROM:<> SIZE=8".to_string())
    );
    assert!(
        pair.server
            .commands
            .contains(&"RCPT TO:<Postmaster>".to_string())
    );
    assert!(pair.client.is_closed());
    pair.client.quit();
    assert!(pair.client.poll_event().is_none());
}

#[test]
fn an_empty_message_is_sent_as_such() {
    for caps in [MODERN, &["CHUNKING"][..]] {
        let mut pair = Pair::new(config(), FakeServer::new(caps));
        let id = pair
            .client
            .send_mail(envelope("a@example.org", &["b@example.com"]), Bytes::new())
            .unwrap();
        pair.run();
        assert_eq!(delivered(&pair), [id]);
        assert_eq!(pair.server.messages, [Vec::<u8>::new()]);
    }
}

#[test]
fn delivered_reply_is_the_servers() {
    let mut server = FakeServer::new(MODERN);
    server
        .final_replies
        .push_back("250 2.0.0 Ok: queued as 4XyZ\r\n".into());
    let mut pair = Pair::new(config(), server);
    let id = send(&mut pair, "a@example.org", &["b@example.com"], "x\r\n");
    pair.run();
    let reply = pair.events.iter().find_map(|e| match e {
        ClientEvent::Delivered { id: i, reply } if *i == id => Some(reply.clone()),
        _ => None,
    });
    assert_eq!(
        reply,
        Some(Reply::new(250, "2.0.0 Ok: queued as 4XyZ").unwrap())
    );
}

/// LMTP configuration for the tests.
struct ClientConfigExt;
impl ClientConfigExt {
    fn lmtp() -> mailwire_smtp::client::ClientConfig {
        let mut config = config();
        config.lmtp = true;
        config
    }
}
