//! How a client session ends: 421, malformed replies, unexpected replies, end of stream,
//! timeouts.

mod client_support;

use std::time::Duration;

use client_support::*;
use mailwire_core::{Session, Transmit};
use mailwire_smtp::client::{
    ClientError, ClientEvent, ClientSession, MessageFailure, TimeoutStage, TransactionId,
};
use mailwire_smtp::parse::ReplyError;

fn closed_with(pair: &Pair) -> Option<ClientError> {
    match pair.events.last() {
        Some(ClientEvent::Closed { error }) => error.clone(),
        other => panic!("the last event is not Closed: {other:?}"),
    }
}

fn ended(pair: &Pair, id: TransactionId) -> bool {
    pair.events.contains(&ClientEvent::Failed {
        id,
        failure: MessageFailure::SessionEnded,
    })
}

#[test]
fn a_421_mid_session_ends_it_and_fails_what_is_left() {
    let mut server = FakeServer::new(MODERN);
    server.hook = Some(Box::new(|line| {
        line.starts_with("RCPT TO:<c@")
            .then(|| "421 4.3.2 Shutting down\r\n".to_string())
    }));
    let mut pair = Pair::new(config(), server);
    let first = pair
        .client
        .send_mail(
            envelope("a@example.org", &["b@example.com"]),
            message("one\r\n"),
        )
        .unwrap();
    let second = pair
        .client
        .send_mail(
            envelope("a@example.org", &["b@example.com", "c@example.com"]),
            message("two\r\n"),
        )
        .unwrap();
    let third = pair
        .client
        .send_mail(
            envelope("a@example.org", &["d@example.com"]),
            message("three\r\n"),
        )
        .unwrap();
    pair.run();
    assert!(
        pair.events
            .iter()
            .any(|e| matches!(e, ClientEvent::Delivered { id, .. } if *id == first))
    );
    assert!(ended(&pair, second) && ended(&pair, third));
    assert!(
        matches!(closed_with(&pair), Some(ClientError::ServiceClosing(r)) if r.code().as_u16() == 421)
    );
    assert!(pair.transport_closed && pair.client.is_closed());
    // Nothing more is sent after the 421: not the content, not QUIT.
    assert!(!pair.wire_text().contains("two\r\n"));
    assert!(!pair.wire_text().contains("QUIT"));
    assert_eq!(pair.client.poll_timeout(), None);
}

#[test]
fn a_421_greeting_or_unsolicited_421_closes() {
    let mut server = FakeServer::new(MODERN);
    server.greeting = "421 4.7.0 Too busy\r\n".into();
    let mut pair = Pair::new(config(), server);
    pair.run();
    assert!(matches!(
        closed_with(&pair),
        Some(ClientError::ServiceClosing(_))
    ));
    assert_eq!(pair.wire_text(), "");

    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    pair.run();
    assert!(pair.client.is_ready());
    pair.client
        .handle_input(b"421 4.4.2 Idle too long\r\n", pair.now);
    pair.run();
    assert!(matches!(
        closed_with(&pair),
        Some(ClientError::ServiceClosing(_))
    ));
}

#[test]
fn malformed_replies_close_the_session() {
    let cases: &[(&str, ReplyError)] = &[
        ("250 OK\n", ReplyError::BareLf),
        ("hello\r\n", ReplyError::InvalidCode),
        (
            "250-a\r\n251 b\r\n",
            ReplyError::CodeMismatch {
                first: mailwire_smtp::types::ReplyCode::OK,
                found: mailwire_smtp::types::ReplyCode::USER_NOT_LOCAL_WILL_FORWARD,
            },
        ),
    ];
    for (bad, error) in cases {
        let mut server = FakeServer::new(MODERN);
        let bad = bad.to_string();
        server.hook = Some(Box::new(move |line| {
            line.starts_with("MAIL").then(|| bad.clone())
        }));
        let mut pair = Pair::new(config(), server);
        let id = pair
            .client
            .send_mail(
                envelope("a@example.org", &["b@example.com"]),
                message("x\r\n"),
            )
            .unwrap();
        pair.run();
        assert_eq!(
            closed_with(&pair),
            Some(ClientError::MalformedReply(error.clone()))
        );
        assert!(ended(&pair, id));
        assert!(pair.transport_closed);
    }
}

#[test]
fn an_overlong_reply_is_refused_before_it_ends() {
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    pair.run();
    // 10 KB without a line end: refused once past the 4096-octet line limit.
    for _ in 0..10 {
        pair.client.handle_input(&[b'x'; 1000], pair.now);
    }
    pair.run();
    assert_eq!(
        closed_with(&pair),
        Some(ClientError::MalformedReply(ReplyError::LineTooLong {
            limit: 4096
        }))
    );
}

#[test]
fn replies_nothing_waits_for_close_the_session() {
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    pair.run();
    pair.client.handle_input(b"250 Surprise\r\n", pair.now);
    pair.run();
    assert!(
        matches!(closed_with(&pair), Some(ClientError::UnexpectedReply(r)) if r.code().as_u16() == 250)
    );

    // An intermediate reply to a command that takes none.
    let mut server = FakeServer::new(MODERN);
    server.hook = Some(Box::new(|line| {
        line.starts_with("RCPT")
            .then(|| "354 What?\r\n".to_string())
    }));
    let mut pair = Pair::new(config(), server);
    pair.client
        .send_mail(
            envelope("a@example.org", &["b@example.com"]),
            message("x\r\n"),
        )
        .unwrap();
    pair.run();
    assert!(
        matches!(closed_with(&pair), Some(ClientError::UnexpectedReply(r)) if r.code().as_u16() == 354)
    );
}

#[test]
fn end_of_stream_before_and_after_quit() {
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    let id = pair
        .client
        .send_mail(
            envelope("a@example.org", &["b@example.com"]),
            message("x\r\n"),
        )
        .unwrap();
    let greeting = pair.server.take_output();
    pair.client.handle_input(&greeting, pair.now);
    pair.client.handle_eof(pair.now);
    pair.run();
    assert_eq!(closed_with(&pair), Some(ClientError::ConnectionClosed));
    assert!(ended(&pair, id));
    assert!(pair.transport_closed);

    // A server that closes right after reading QUIT, without a reply: a normal end.
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    pair.client.quit();
    let greeting = pair.server.take_output();
    pair.client.handle_input(&greeting, pair.now);
    pair.client.handle_input(b"250 fake.example\r\n", pair.now);
    let mut wire = Vec::new();
    while let Some(t) = pair.client.poll_transmit() {
        if let Transmit::Data(b) = t {
            wire.extend_from_slice(&b);
        }
    }
    assert!(wire.ends_with(b"QUIT\r\n"));
    pair.client.handle_eof(pair.now);
    pair.run();
    assert_eq!(closed_with(&pair), None);
}

#[test]
fn input_after_close_is_ignored() {
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    pair.client.quit();
    pair.run();
    assert!(pair.client.is_closed());
    let n = pair.events.len();
    pair.client.handle_input(b"250 late\r\n", pair.now);
    pair.client.handle_eof(pair.now);
    pair.client
        .handle_timeout(pair.now + Duration::from_secs(3600));
    assert!(pair.client.poll_event().is_none());
    assert!(pair.client.poll_transmit().is_none());
    assert_eq!(pair.events.len(), n);
}

/// Drains the client; returns the bytes it sent.
fn drain(client: &mut ClientSession, events: &mut Vec<ClientEvent>) -> Vec<u8> {
    let mut wire = Vec::new();
    loop {
        let mut busy = false;
        while let Some(e) = client.poll_event() {
            events.push(e);
            busy = true;
        }
        while let Some(t) = client.poll_transmit() {
            busy = true;
            if let Transmit::Data(b) = t {
                wire.extend_from_slice(&b);
            }
        }
        if !busy {
            return wire;
        }
    }
}

#[test]
fn greeting_timeout() {
    let t0 = std::time::Instant::now();
    let mut client = ClientSession::new(config(), t0);
    let deadline = client.poll_timeout().unwrap();
    assert_eq!(deadline, t0 + Duration::from_secs(300));
    client.handle_timeout(t0 + Duration::from_secs(299));
    assert!(!client.is_closed());
    assert_eq!(client.poll_timeout(), Some(deadline));
    client.handle_timeout(deadline);
    assert!(client.is_closed());
    assert_eq!(client.poll_timeout(), None);
    assert_eq!(client.poll_transmit(), Some(Transmit::Close));
    let mut events = Vec::new();
    drain(&mut client, &mut events);
    assert_eq!(
        events,
        [ClientEvent::Closed {
            error: Some(ClientError::Timeout(TimeoutStage::Greeting))
        }]
    );
}

#[test]
fn each_stage_has_its_rfc_5321_timeout() {
    let minutes = |m: u64| Duration::from_secs(60 * m);
    let t0 = std::time::Instant::now();
    let mut events = Vec::new();
    let mut client = ClientSession::new(config(), t0);
    client.handle_input(b"220 fake.example\r\n", t0);
    assert_eq!(drain(&mut client, &mut events), b"EHLO client.example\r\n");
    assert_eq!(client.poll_timeout(), Some(t0 + minutes(5)));
    let t1 = t0 + minutes(1);
    client.handle_input(b"250-fake.example\r\n250 PIPELINING\r\n", t1);
    drain(&mut client, &mut events);
    assert_eq!(client.poll_timeout(), None, "idle and ready: no deadline");

    // An hour later the application sends a message. The verb cannot read the clock: the
    // deadline it sets is measured from t1 and already past, so the next handle_timeout
    // restarts it from its own `now` instead of failing.
    let t2 = t1 + minutes(60);
    let id = client
        .send_mail(
            envelope("a@example.org", &["b@example.com", "c@example.com"]),
            message("x\r\n"),
        )
        .unwrap();
    drain(&mut client, &mut events);
    let stale = client.poll_timeout().unwrap();
    assert!(stale < t2);
    client.handle_timeout(t2);
    assert!(!client.is_closed());
    assert_eq!(
        client.poll_timeout(),
        Some(t2 + minutes(5)),
        "MAIL: 5 minutes"
    );

    // MAIL answered at t3: the first RCPT now has its own 5 minutes.
    let t3 = t2 + minutes(4);
    client.handle_input(b"250 OK\r\n", t3);
    assert_eq!(
        client.poll_timeout(),
        Some(t3 + minutes(5)),
        "RCPT: 5 minutes"
    );
    // A partial reply does not extend the deadline.
    client.handle_input(b"250 O", t3 + minutes(1));
    assert_eq!(client.poll_timeout(), Some(t3 + minutes(5)));
    let t4 = t3 + minutes(2);
    client.handle_input(b"K\r\n250 OK\r\n", t4);
    assert_eq!(
        client.poll_timeout(),
        Some(t4 + minutes(2)),
        "DATA: 2 minutes"
    );

    let t5 = t4 + minutes(1);
    client.handle_input(b"354 Go\r\n", t5);
    assert_eq!(
        client.poll_timeout(),
        Some(t5 + minutes(3)),
        "content: 3 minutes"
    );
    drain(&mut client, &mut events);
    // The final dot left during the drain: 10 minutes, from the last known time.
    assert_eq!(
        client.poll_timeout(),
        Some(t5 + minutes(10)),
        "final: 10 minutes"
    );
    let t6 = t5 + minutes(10);
    client.handle_timeout(t6);
    assert!(
        !client.is_closed(),
        "a deadline set without a clock is restarted once"
    );
    assert_eq!(client.poll_timeout(), Some(t6 + minutes(10)));
    client.handle_timeout(t6 + minutes(10));
    assert!(client.is_closed());
    drain(&mut client, &mut events);
    assert!(events.contains(&ClientEvent::Failed {
        id,
        failure: MessageFailure::SessionEnded
    }));
    assert_eq!(
        events.last(),
        Some(&ClientEvent::Closed {
            error: Some(ClientError::Timeout(TimeoutStage::DataFinal))
        })
    );
}

#[test]
fn rcpt_and_data_init_timeouts_fire() {
    let minutes = |m: u64| Duration::from_secs(60 * m);
    for (replies, stage, wait) in [
        (&b"250 OK\r\n"[..], TimeoutStage::Rcpt, 5),
        (b"250 OK\r\n250 OK\r\n", TimeoutStage::DataInit, 2),
        (b"", TimeoutStage::Mail, 5),
    ] {
        let t0 = std::time::Instant::now();
        let mut events = Vec::new();
        let mut client = ClientSession::new(config(), t0);
        client
            .send_mail(
                envelope("a@example.org", &["b@example.com"]),
                message("x\r\n"),
            )
            .unwrap();
        client.handle_input(b"220 x\r\n250-x\r\n250 PIPELINING\r\n", t0);
        drain(&mut client, &mut events);
        client.handle_input(replies, t0);
        let deadline = client.poll_timeout().unwrap();
        assert_eq!(deadline, t0 + minutes(wait));
        client.handle_timeout(deadline);
        drain(&mut client, &mut events);
        assert_eq!(
            events.last(),
            Some(&ClientEvent::Closed {
                error: Some(ClientError::Timeout(stage))
            })
        );
    }
}

#[test]
fn content_timeout_restarts_with_progress() {
    let t0 = std::time::Instant::now();
    let mut config = config();
    config.data_piece_size = 10;
    let mut client = ClientSession::new(config, t0);
    client
        .send_mail(
            envelope("a@example.org", &["b@example.com"]),
            message(&"z".repeat(100)),
        )
        .unwrap();
    client.handle_input(b"220 x\r\n250-x\r\n250 PIPELINING\r\n", t0);
    let mut events = Vec::new();
    drain(&mut client, &mut events);
    client.handle_input(b"250 OK\r\n250 OK\r\n354 Go\r\n", t0);
    let block = Duration::from_secs(180);
    assert_eq!(client.poll_timeout(), Some(t0 + block));
    // The driver writes one piece, then is stuck for 2 minutes, then writes another: the
    // deadline follows the progress.
    assert!(client.poll_transmit().is_some());
    let t1 = t0 + Duration::from_secs(120);
    client.handle_timeout(t1);
    assert!(!client.is_closed());
    assert!(client.poll_timeout().unwrap() >= t1 + block);
    // No progress for the whole period: timed out.
    let deadline = client.poll_timeout().unwrap();
    client.handle_timeout(deadline);
    assert!(client.is_closed());
    drain(&mut client, &mut events);
    assert_eq!(
        events.last(),
        Some(&ClientEvent::Closed {
            error: Some(ClientError::Timeout(TimeoutStage::DataBlock))
        })
    );
}

#[test]
fn poll_timeout_always_advances_once_handled() {
    // Whatever state the session is in, calling handle_timeout at the deadline moves the
    // deadline later or removes it.
    let t0 = std::time::Instant::now();
    let mut client = ClientSession::new(config(), t0);
    client
        .send_mail(
            envelope("a@example.org", &["b@example.com"]),
            message("x\r\n"),
        )
        .unwrap();
    let mut events = Vec::new();
    let steps: &[&[u8]] = &[
        b"220 x\r\n",
        b"250 x\r\n",
        b"250 OK\r\n",
        b"250 OK\r\n",
        b"354 go\r\n",
    ];
    for step in steps {
        client.handle_input(step, t0);
        drain(&mut client, &mut events);
    }
    let mut now = t0;
    for _ in 0..4 {
        let Some(deadline) = client.poll_timeout() else {
            break;
        };
        now = now.max(deadline);
        client.handle_timeout(now);
        drain(&mut client, &mut events);
        assert!(client.poll_timeout().is_none_or(|d| d > now));
    }
    assert!(client.is_closed());
}
