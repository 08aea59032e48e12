//! RETR/TOP streaming with a bounded output: pieces on `MoreMessageData`, any split gives
//! the same bytes, the output never grows past its bound, pipelined commands wait for the
//! output to drain.

mod support;

use std::sync::Arc;
use std::time::Instant;

use mailwire_core::{Session, Transmit};
use mailwire_pop3::server::{MessageInfo, ServerConfig, ServerEvent, ServerSession};
use mailwire_pop3::types::Uid;
use proptest::prelude::*;

fn config(max_pending_output: usize) -> Arc<ServerConfig> {
    let mut config = ServerConfig::new();
    config.allow_plaintext_auth = true;
    config.max_pending_output = max_pending_output;
    Arc::new(config)
}

/// An application that streams each message in pieces of `piece` octets, only while the
/// session wants them, the rest on `MoreMessageData`.
struct Streamer {
    messages: Vec<Vec<u8>>,
    piece: usize,
    /// The message being streamed and how much of it was sent.
    cursor: Option<(usize, usize)>,
    retrieves: usize,
    more_asked: usize,
    /// The most output seen waiting in the session after the application acted.
    max_pending: usize,
}

impl Streamer {
    fn new(messages: Vec<Vec<u8>>, piece: usize) -> Streamer {
        Streamer {
            messages,
            piece,
            cursor: None,
            retrieves: 0,
            more_asked: 0,
            max_pending: 0,
        }
    }

    fn serve(&mut self, session: &mut ServerSession) -> bool {
        let mut any = false;
        while let Some(event) = session.poll_event() {
            any = true;
            match event {
                ServerEvent::Login { .. } => session.accept().unwrap(),
                ServerEvent::Maildrop { .. } => {
                    let listing = self
                        .messages
                        .iter()
                        .enumerate()
                        .map(|(i, m)| MessageInfo {
                            // As the support application lists them, so that both
                            // transcripts are comparable byte for byte.
                            size: m.len() as u64,
                            uid: Uid::new(format!("u{i}")).unwrap(),
                        })
                        .collect();
                    session.open_maildrop(listing).unwrap();
                }
                ServerEvent::Retrieve { index, .. } => {
                    assert!(self.cursor.is_none(), "a Retrieve while streaming");
                    self.retrieves += 1;
                    self.cursor = Some((index, 0));
                    self.feed(session);
                }
                ServerEvent::MoreMessageData { index } => {
                    assert_eq!(self.cursor.map(|c| c.0), Some(index));
                    self.more_asked += 1;
                    self.feed(session);
                }
                ServerEvent::Commit { .. } => session.accept().unwrap(),
                _ => {}
            }
            self.max_pending = self.max_pending.max(session.pending_output());
        }
        any
    }

    fn feed(&mut self, session: &mut ServerSession) {
        let (index, mut offset) = self.cursor.expect("a message is being streamed");
        let message = &self.messages[index];
        loop {
            if !session.wants_message_data() || offset == message.len() {
                session.finish_message().unwrap();
                self.cursor = None;
                return;
            }
            if !session.wants_message_chunk() {
                self.cursor = Some((index, offset));
                return;
            }
            let end = (offset + self.piece).min(message.len());
            session.send_message_chunk(&message[offset..end]).unwrap();
            offset = end;
        }
    }
}

/// Runs `commands` (after a login) against a session served by `app`, taking at most one
/// transmit between rounds of events (a slow writer); returns what was written.
fn run(app: &mut Streamer, max_pending_output: usize, commands: &[u8]) -> Vec<u8> {
    let now = Instant::now();
    let mut session = ServerSession::new(config(max_pending_output), now);
    let mut input = b"USER u\r\nPASS p\r\n".to_vec();
    input.extend_from_slice(commands);
    input.extend_from_slice(b"QUIT\r\n");
    session.handle_input(&input, now);
    let mut wire = Vec::new();
    loop {
        let served = app.serve(&mut session);
        match session.poll_transmit() {
            Some(Transmit::Data(bytes)) => wire.extend_from_slice(&bytes),
            Some(Transmit::Close) => break,
            Some(other) => panic!("unexpected {other:?}"),
            None => assert!(served, "stalled: nothing to send, no event"),
        }
    }
    assert!(session.is_closed());
    wire
}

/// The same commands answered by the plain support application (each message sent
/// whole, in one piece).
fn whole(messages: &[Vec<u8>], commands: &[u8]) -> Vec<u8> {
    let mut app = support::App::new(messages.to_vec());
    app.users.insert("u".into(), "p".into());
    app.piece = usize::MAX;
    let now = Instant::now();
    let mut session = ServerSession::new(config(usize::MAX), now);
    let mut input = b"USER u\r\nPASS p\r\n".to_vec();
    input.extend_from_slice(commands);
    input.extend_from_slice(b"QUIT\r\n");
    let mut wire = Vec::new();
    support::drain(&mut session, &mut app, &mut wire);
    session.handle_input(&input, now);
    support::drain(&mut session, &mut app, &mut wire);
    assert!(session.is_closed());
    wire
}

fn sample() -> Vec<u8> {
    b"Subject: a\r\nX: b\n\r\n.dot\r\nline 2\n..two\rbare cr\r\n.\r\nlast without end".to_vec()
}

#[test]
fn every_split_of_a_message_gives_the_output_of_the_whole() {
    let message = sample();
    let messages = vec![message.clone()];
    for commands in [
        &b"RETR 1\r\n"[..],
        b"TOP 1 0\r\n",
        b"TOP 1 2\r\n",
        b"TOP 1 9\r\n",
    ] {
        let expected = whole(&messages, commands);
        for piece in 1..=message.len() {
            let mut app = Streamer::new(messages.clone(), piece);
            let got = run(&mut app, 64 * 1024, commands);
            assert_eq!(
                got,
                expected,
                "piece {piece}, {:?}",
                String::from_utf8_lossy(commands)
            );
        }
    }
}

#[test]
fn a_tiny_output_bound_still_gives_the_same_bytes() {
    // With a bound of one octet every piece waits for the one before to be taken.
    let messages = vec![sample(), sample().repeat(3)];
    let commands = b"RETR 1\r\nTOP 2 3\r\nRETR 2\r\nLIST\r\n";
    let expected = whole(&messages, commands);
    for piece in [1, 2, 5, 64] {
        let mut app = Streamer::new(messages.clone(), piece);
        let got = run(&mut app, 1, commands);
        assert_eq!(got, expected, "piece {piece}");
        assert!(app.more_asked > 0, "the rest came on MoreMessageData");
    }
}

#[test]
fn a_large_message_passes_through_a_bounded_window() {
    let line = b"0123456789 abcdefghij .x\n".repeat(4);
    let mut message = Vec::new();
    while message.len() < 8 * 1024 * 1024 {
        message.extend_from_slice(b".");
        message.extend_from_slice(&line);
    }
    let piece = 64 * 1024;
    let mut app = Streamer::new(vec![message.clone()], piece);
    let got = run(&mut app, 64 * 1024, b"RETR 1\r\n");
    // Stuffing doubles at most a piece; the status line is small.
    assert!(
        app.max_pending <= 64 * 1024 + 2 * piece + 64,
        "pending output reached {}",
        app.max_pending
    );
    assert!(
        app.more_asked >= 8 * 1024 * 1024 / (3 * piece),
        "{}",
        app.more_asked
    );
    let expected = whole(&[message], b"RETR 1\r\n");
    assert!(got == expected, "bytes differ");
    assert!(got.len() > 8 * 1024 * 1024);
}

#[test]
fn more_message_data_comes_once_until_a_piece_is_sent() {
    let now = Instant::now();
    let mut session = ServerSession::new(config(1024), now);
    session.handle_input(b"USER u\r\nPASS p\r\nRETR 1\r\n", now);
    while session.poll_transmit().is_some() {}
    assert!(matches!(
        session.poll_event(),
        Some(ServerEvent::Login { .. })
    ));
    session.accept().unwrap();
    assert!(matches!(
        session.poll_event(),
        Some(ServerEvent::Maildrop { .. })
    ));
    session
        .open_maildrop(vec![MessageInfo {
            size: 4000,
            uid: Uid::new("a").unwrap(),
        }])
        .unwrap();
    assert_eq!(
        session.poll_event(),
        Some(ServerEvent::Retrieve {
            index: 0,
            top: None
        })
    );
    // The application only opened the message: it is asked for data.
    assert_eq!(
        session.poll_event(),
        Some(ServerEvent::MoreMessageData { index: 0 })
    );
    assert_eq!(session.poll_event(), None, "asked once until a piece comes");
    while session.wants_message_chunk() {
        session.send_message_chunk(&[b'x'; 100]).unwrap();
    }
    assert!(session.pending_output() >= 1024);
    assert!(session.wants_message_data());
    assert_eq!(session.poll_event(), None, "no room: not asked");
    assert!(session.poll_transmit().is_some());
    assert_eq!(session.pending_output(), 0);
    assert_eq!(
        session.poll_event(),
        Some(ServerEvent::MoreMessageData { index: 0 })
    );
    session.finish_message().unwrap();
    assert_eq!(session.poll_event(), None);
    assert!(!session.wants_message_chunk());
}

#[test]
fn pipelined_commands_wait_for_the_output_to_drain() {
    let message = b"x".repeat(10_000);
    let messages = vec![message; 50];
    let now = Instant::now();
    let mut app = support::App::new(messages.clone());
    app.users.insert("u".into(), "p".into());
    app.piece = usize::MAX;
    let mut config = ServerConfig::new();
    config.allow_plaintext_auth = true;
    config.max_pending_input = 64;
    let mut session = ServerSession::new(Arc::new(config), now);
    let mut input = b"USER u\r\nPASS p\r\n".to_vec();
    for i in 1..=50 {
        input.extend_from_slice(format!("RETR {i}\r\n").as_bytes());
    }
    input.extend_from_slice(b"QUIT\r\n");
    session.handle_input(&input, now);
    // Events only, nothing taken: the session stops answering past its output bound.
    app.serve(&mut session);
    let retrieved = app
        .events
        .iter()
        .filter(|e| matches!(e, ServerEvent::Retrieve { .. }))
        .count();
    assert!((1..=8).contains(&retrieved), "{retrieved} answered at once");
    assert!(session.pending_output() < 64 * 1024 + 10_100);
    assert!(
        !session.wants_input(),
        "input held back while the output is full"
    );
    // Taking the output lets the rest through, in order.
    let mut wire = Vec::new();
    support::drain(&mut session, &mut app, &mut wire);
    let text = String::from_utf8(wire).unwrap();
    assert_eq!(text.matches("+OK 10000 octets\r\n").count(), 50);
    assert!(
        text.ends_with("signing off (50 messages left)\r\n"),
        "{}",
        &text[text.len() - 80..]
    );
    assert!(session.is_closed());
}

#[test]
fn commands_pipelined_before_eof_are_all_answered_despite_the_bound() {
    let messages = vec![b"y".repeat(30_000); 6];
    let mut app = support::App::new(messages);
    app.users.insert("u".into(), "p".into());
    app.piece = usize::MAX;
    let now = Instant::now();
    let mut session = ServerSession::new(config(1000), now);
    session.handle_input(
        b"USER u\r\nPASS p\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\nDELE 1\r\n",
        now,
    );
    session.handle_eof(now);
    let mut wire = Vec::new();
    support::drain(&mut session, &mut app, &mut wire);
    let text = String::from_utf8(wire).unwrap();
    assert_eq!(text.matches("+OK 30000 octets\r\n").count(), 3);
    assert!(text.ends_with("+OK message 1 deleted\r\n"));
    assert!(session.is_closed());
    assert!(app.removed.is_empty(), "no QUIT: nothing deleted");
}

proptest! {
    #[test]
    fn random_splits_give_the_output_of_the_whole(
        message in proptest::collection::vec(
            prop_oneof![Just(b'.'), Just(b'\r'), Just(b'\n'), Just(b'a'), Just(b' ')],
            0..300,
        ),
        piece in 1usize..40,
        bound in 1usize..200,
        top in proptest::option::of(0u32..6),
    ) {
        let messages = vec![message];
        let commands = match top {
            Some(n) => format!("TOP 1 {n}\r\nRETR 1\r\n"),
            None => "RETR 1\r\n".to_string(),
        };
        let expected = whole(&messages, commands.as_bytes());
        let mut app = Streamer::new(messages, piece);
        let got = run(&mut app, bound, commands.as_bytes());
        prop_assert_eq!(got, expected);
        prop_assert!(app.max_pending <= bound + 2 * piece + 64);
    }
}

#[test]
fn top_counts_bare_cr_as_a_line_end_for_every_split() {
    // On the wire a bare CR is a line end (CRLF), so TOP counts it as one: the header
    // ends at the empty line made by the second CR.
    let message = b"Subject: a\rX: b\r\rbody 1\rbody 2\r\n.3\r".to_vec();
    let cases: [(&[u8], &str); 3] = [
        (b"TOP 1 0\r\n", "Subject: a\r\nX: b\r\n\r\n"),
        (b"TOP 1 1\r\n", "Subject: a\r\nX: b\r\n\r\nbody 1\r\n"),
        (
            b"TOP 1 3\r\n",
            "Subject: a\r\nX: b\r\n\r\nbody 1\r\nbody 2\r\n..3\r\n",
        ),
    ];
    for (command, body) in cases {
        let expected = format!("+OK {} octets\r\n{body}.\r\n", message.len());
        for piece in 1..=message.len() {
            let mut app = Streamer::new(vec![message.clone()], piece);
            let got = String::from_utf8(run(&mut app, 64 * 1024, command)).unwrap();
            assert!(got.contains(&expected), "piece {piece}: {got:?}");
        }
    }
}
