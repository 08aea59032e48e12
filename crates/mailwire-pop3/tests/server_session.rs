//! Server session behaviour: STLS injection defence, plaintext refusal, budgets,
//! timeouts, busy, shutdown, decisions and pipelining, and chunking invariance.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mailwire_core::sasl::Mechanism;
use mailwire_core::{Session, Transmit};
use mailwire_pop3::server::{
    CloseReason, DecisionError, ServerConfig, ServerEvent, ServerSession, State,
};
use mailwire_pop3::types::{ApopTimestamp, Response};
use proptest::prelude::*;
use support::{App, drain, server_transcript};

fn messages() -> Vec<Vec<u8>> {
    vec![
        b"Subject: a\r\n\r\n.x\r\nline 2\r\nline 3\r\n".to_vec(),
        b"Subject: b\nX: y\n\nbare lf body\n.\n".to_vec(),
    ]
}

fn plaintext_config() -> ServerConfig {
    let mut config = ServerConfig::new();
    config.allow_plaintext_auth = true;
    config
}

fn transmits(session: &mut ServerSession) -> Vec<Transmit> {
    std::iter::from_fn(|| session.poll_transmit()).collect()
}

#[test]
fn stls_drops_what_was_pipelined_before_the_handshake() {
    let mut config = ServerConfig::new();
    config.stls = true;
    let now = Instant::now();
    let mut session = ServerSession::new(Arc::new(config), now);
    let _ = transmits(&mut session);
    session.handle_input(b"STLS\r\nUSER mrose\r\nPASS tanstaaf\r\n", now);
    let out = transmits(&mut session);
    assert_eq!(
        out,
        [
            Transmit::Data(b"+OK Begin TLS negotiation now\r\n"[..].into()),
            Transmit::StartTls
        ]
    );
    assert!(
        session.poll_event().is_none(),
        "USER/PASS were not processed"
    );
    assert!(session.is_tls());
    // After the handshake: PASS without USER is refused; STLS again is refused.
    session.handle_input(b"PASS tanstaaf\r\nSTLS\r\nCAPA\r\n", now);
    let mut app = App::new(messages());
    let mut wire = Vec::new();
    drain(&mut session, &mut app, &mut wire);
    let wire = String::from_utf8(wire).unwrap();
    assert!(
        wire.starts_with(
            "-ERR Send USER first\r\n-ERR TLS already active\r\n+OK Capability list follows\r\n"
        ),
        "{wire}"
    );
    assert!(!wire.contains("STLS\r\n"), "STLS no longer offered: {wire}");
    assert!(
        wire.contains("\r\nUSER\r\n"),
        "USER offered over TLS: {wire}"
    );
}

#[test]
fn plaintext_refused_without_tls() {
    let mut config = ServerConfig::new();
    config.auth_mechanisms = vec![Mechanism::Plain];
    let mut session = ServerSession::new(Arc::new(config), Instant::now());
    let mut app = App::new(messages());
    let wire = server_transcript(
        &mut session,
        &mut app,
        &[b"CAPA\r\nUSER mrose\r\nAUTH PLAIN AG1yb3NlAHRhbnN0YWFm\r\n"],
    );
    assert!(
        !wire.contains("\r\nUSER\r\n") && !wire.contains("SASL"),
        "{wire}"
    );
    assert!(wire.contains("-ERR [AUTH] Plaintext authentication disallowed without TLS\r\n"));
    assert!(
        wire.ends_with("-ERR [AUTH] Mechanism not allowed without TLS\r\n"),
        "{wire}"
    );
    assert!(app.events.is_empty());
}

#[test]
fn require_tls_refuses_apop_too() {
    let mut config = ServerConfig::new();
    config.require_tls = true;
    let ts = ApopTimestamp::generate(1, 2, "h.example").unwrap();
    let mut session = ServerSession::with_timestamp(Arc::new(config), ts, false, Instant::now());
    let mut app = App::new(messages());
    let wire = server_transcript(
        &mut session,
        &mut app,
        &[b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"],
    );
    assert!(wire.ends_with("-ERR [AUTH] Use STLS first\r\n"), "{wire}");
}

#[test]
fn sasl_cancel_and_auth_failure_budget() {
    let mut config = ServerConfig::new();
    config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    config.max_auth_failures = 2;
    let mut session = ServerSession::new_tls(Arc::new(config), Instant::now());
    let mut app = App::new(messages());
    let wire = server_transcript(
        &mut session,
        &mut app,
        &[
            b"AUTH LOGIN\r\n*\r\nAUTH PLAIN\r\n",
            b"AG1yb3NlAHdyb25n\r\nNOOP\r\n",
        ],
    );
    assert_eq!(
        wire,
        "+OK POP3 server ready\r\n+ VXNlcm5hbWU6\r\n-ERR Authentication cancelled\r\n+ \r\n\
         -ERR [AUTH] Bad login\r\n-ERR Too many authentication failures\r\n"
    );
    assert!(app.events.iter().any(|e| matches!(
        e,
        ServerEvent::Closed {
            reason: CloseReason::TooManyAuthFailures
        }
    )));
}

#[test]
fn bad_command_budget_and_line_limits() {
    let mut config = ServerConfig::new();
    config.max_errors = 3;
    let mut session = ServerSession::new(Arc::new(config), Instant::now());
    let mut app = App::new(messages());
    let long = format!("NOOP {}\r\n", "x".repeat(300));
    let wire = server_transcript(
        &mut session,
        &mut app,
        &[long.as_bytes(), b"STAT\r\nXYZZY\r\nQUIT\r\n"],
    );
    assert_eq!(
        wire,
        "+OK POP3 server ready\r\n-ERR Command line too long\r\n-ERR Command not valid in this state\r\n\
         -ERR Unknown command\r\n-ERR Too many bad commands\r\n"
    );
    assert!(session.is_closed());
}

#[test]
fn idle_timeout_busy_and_shutdown() {
    let config = Arc::new(plaintext_config());
    let now = Instant::now();
    let mut session = ServerSession::new(config.clone(), now);
    let deadline = session.poll_timeout().unwrap();
    assert_eq!(deadline, now + Duration::from_secs(600));
    session.handle_timeout(now + Duration::from_secs(599));
    assert!(!session.is_closed());
    session.handle_timeout(deadline);
    assert!(session.is_closed());
    let out = transmits(&mut session);
    assert_eq!(out.last(), Some(&Transmit::Close));
    assert_eq!(
        out[0],
        Transmit::Data(
            b"+OK POP3 server ready\r\n-ERR Autologout; idle for too long\r\n"[..].into()
        )
    );

    let mut busy = ServerSession::busy(config.clone(), now);
    assert_eq!(
        transmits(&mut busy),
        [
            Transmit::Data(b"-ERR [SYS/TEMP] Server busy, try again later\r\n"[..].into()),
            Transmit::Close
        ]
    );

    let mut session = ServerSession::new(config, now);
    session.shutdown();
    let out = transmits(&mut session);
    assert_eq!(
        out,
        [
            Transmit::Data(
                b"+OK POP3 server ready\r\n-ERR [SYS/TEMP] Server shutting down\r\n"[..].into()
            ),
            Transmit::Close
        ]
    );
}

#[test]
fn decisions_hold_pipelined_commands_and_misuse_is_reported() {
    let now = Instant::now();
    let mut session = ServerSession::new(Arc::new(plaintext_config()), now);
    let _ = transmits(&mut session);
    assert_eq!(session.accept(), Err(DecisionError::NothingPending));
    session.handle_input(
        b"USER mrose\r\nPASS tanstaaf\r\nSTAT\r\nRETR 2\r\nQUIT\r\n",
        now,
    );
    assert!(matches!(
        session.poll_event(),
        Some(ServerEvent::Login { .. })
    ));
    assert_eq!(
        session.poll_timeout(),
        None,
        "no idle clock while the application decides"
    );
    assert_eq!(session.finish_message(), Err(DecisionError::WrongVerb));
    assert_eq!(
        session.reject(Response::ok("x")),
        Err(DecisionError::WrongStatus)
    );
    session.accept().unwrap();
    assert!(
        matches!(session.poll_event(), Some(ServerEvent::Maildrop { ref user }) if user == "mrose")
    );
    assert_eq!(session.accept(), Err(DecisionError::WrongVerb));
    session
        .open_maildrop(vec![
            mailwire_pop3::server::MessageInfo {
                size: 3,
                uid: "a".try_into().unwrap(),
            },
            mailwire_pop3::server::MessageInfo {
                size: 5,
                uid: "b".try_into().unwrap(),
            },
        ])
        .unwrap();
    assert_eq!(session.state(), State::Transaction);
    assert_eq!(
        session.poll_event(),
        Some(ServerEvent::Retrieve {
            index: 1,
            top: None
        })
    );
    // Bare LF in the store becomes CRLF on the wire; the lone dot is stuffed.
    session.send_message_chunk(b"a\n.\n").unwrap();
    session.finish_message().unwrap();
    assert_eq!(
        session.poll_event(),
        Some(ServerEvent::Commit { deleted: vec![] })
    );
    session.accept().unwrap();
    let wire: Vec<u8> = transmits(&mut session)
        .into_iter()
        .flat_map(|t| match t {
            Transmit::Data(b) => b.to_vec(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(
        String::from_utf8(wire).unwrap(),
        "+OK Send PASS\r\n+OK mrose's maildrop has 2 messages (8 octets)\r\n+OK 2 8\r\n\
         +OK 5 octets\r\na\r\n..\r\n.\r\n+OK mailwire POP3 server signing off (2 messages left)\r\n"
    );
}

#[test]
fn rejecting_a_started_message_closes_the_connection() {
    let now = Instant::now();
    let mut session = ServerSession::new(Arc::new(plaintext_config()), now);
    session.handle_input(b"USER mrose\r\nPASS tanstaaf\r\nRETR 1\r\n", now);
    let _ = session.poll_event();
    session.accept().unwrap();
    let _ = session.poll_event();
    session
        .open_maildrop(vec![mailwire_pop3::server::MessageInfo {
            size: 3,
            uid: "a".try_into().unwrap(),
        }])
        .unwrap();
    assert!(matches!(
        session.poll_event(),
        Some(ServerEvent::Retrieve { .. })
    ));
    session.send_message_chunk(b"abc").unwrap();
    session.reject(Response::err("gone")).unwrap();
    assert!(session.is_closed());
    let out = transmits(&mut session);
    assert_eq!(out.last(), Some(&Transmit::Close));
    let text: String = out
        .iter()
        .filter_map(|t| match t {
            Transmit::Data(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        })
        .collect();
    assert!(!text.contains("gone") && !text.ends_with(".\r\n"), "{text}");
}

#[test]
fn eof_after_quit_still_commits_but_eof_alone_does_not() {
    let now = Instant::now();
    for (input, committed) in [
        (
            &b"USER mrose\r\nPASS tanstaaf\r\nDELE 1\r\nQUIT\r\n"[..],
            true,
        ),
        (&b"USER mrose\r\nPASS tanstaaf\r\nDELE 1\r\n"[..], false),
    ] {
        let mut session = ServerSession::new(Arc::new(plaintext_config()), now);
        let mut app = App::new(messages());
        session.handle_input(input, now);
        session.handle_eof(now);
        let mut wire = Vec::new();
        drain(&mut session, &mut app, &mut wire);
        assert_eq!(!app.removed.is_empty(), committed);
        assert!(session.is_closed());
    }
}

/// The same events and bytes whatever the chunking of the client's input.
fn script() -> Vec<u8> {
    b"CAPA\r\nUSER mrose\r\nPASS wrong\r\nUSER mrose\r\nPASS tanstaaf\r\nSTAT\r\nLIST\r\nUIDL 2\r\n\
      TOP 1 1\r\nRETR 2\r\nDELE 1\r\nRSET\r\nDELE 2\r\nNOOP\r\nQUIT\r\n"
        .to_vec()
}

fn run_chunked(cuts: &[usize]) -> (Vec<ServerEvent>, Vec<u8>, Vec<usize>) {
    let now = Instant::now();
    let mut session = ServerSession::new(Arc::new(plaintext_config()), now);
    let mut app = App::new(messages());
    let input = script();
    let mut wire = Vec::new();
    let mut start = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(input.len());
    drain(&mut session, &mut app, &mut wire);
    for cut in cuts {
        session.handle_input(&input[start..cut.max(start)], now);
        drain(&mut session, &mut app, &mut wire);
        start = cut.max(start);
    }
    (app.events, wire, app.removed)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn chunking_does_not_matter(cuts in proptest::collection::vec(any::<usize>(), 0..12)) {
        let whole = run_chunked(&[]);
        prop_assert_eq!(whole.2.as_slice(), &[1usize][..]);
        prop_assert_eq!(run_chunked(&cuts), whole);
    }
}

#[test]
fn back_pressure_while_a_decision_waits() {
    let mut config = plaintext_config();
    config.max_pending_input = 64;
    let now = Instant::now();
    let mut session = ServerSession::new(Arc::new(config), now);
    session.handle_input(b"USER mrose\r\nPASS tanstaaf\r\n", now);
    assert!(session.is_decision_pending());
    assert!(session.wants_input(), "nothing buffered yet");
    session.handle_input(&b"NOOP\r\n".repeat(20), now);
    assert!(!session.wants_input(), "the driver must stop reading");
    let _ = session.poll_event();
    session.accept().unwrap();
    let _ = session.poll_event();
    session.open_maildrop(Vec::new()).unwrap();
    assert!(session.wants_input());
    let wire: Vec<u8> = transmits(&mut session)
        .into_iter()
        .flat_map(|t| match t {
            Transmit::Data(b) => b.to_vec(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(
        String::from_utf8(wire).unwrap().matches("+OK\r\n").count(),
        20
    );
}

#[test]
fn oauth_rejection_sends_the_error_challenge_first() {
    let mut config = ServerConfig::new();
    config.auth_mechanisms = vec![Mechanism::XOAuth2];
    let now = Instant::now();
    let mut session = ServerSession::new_tls(Arc::new(config), now);
    let _ = transmits(&mut session);
    // user=a@example.com^Aauth=Bearer t0k3n^A^A
    session.handle_input(
        b"AUTH XOAUTH2 dXNlcj1hQGV4YW1wbGUuY29tAWF1dGg9QmVhcmVyIHQwazNuAQE=\r\n",
        now,
    );
    assert!(matches!(
        session.poll_event(),
        Some(ServerEvent::Auth { .. })
    ));
    session
        .reject(Response::err_with(
            mailwire_pop3::types::ResponseCode::Auth,
            "Invalid token",
        ))
        .unwrap();
    let out = transmits(&mut session);
    let Transmit::Data(challenge) = &out[0] else {
        panic!()
    };
    assert!(challenge.starts_with(b"+ eyJ"), "{challenge:?}");
    session.handle_input(b"\r\n", now);
    assert_eq!(
        transmits(&mut session),
        [Transmit::Data(b"-ERR [AUTH] Invalid token\r\n"[..].into())]
    );
    assert_eq!(session.state(), State::Authorization);
}

#[test]
fn a_refused_commit_still_closes() {
    let now = Instant::now();
    let mut session = ServerSession::new(Arc::new(plaintext_config()), now);
    session.handle_input(b"USER mrose\r\nPASS tanstaaf\r\nDELE 1\r\nQUIT\r\n", now);
    let _ = session.poll_event();
    session.accept().unwrap();
    let _ = session.poll_event();
    session
        .open_maildrop(vec![mailwire_pop3::server::MessageInfo {
            size: 3,
            uid: "a".try_into().unwrap(),
        }])
        .unwrap();
    assert_eq!(
        session.poll_event(),
        Some(ServerEvent::Commit { deleted: vec![0] })
    );
    assert_eq!(session.state(), State::Update);
    session
        .reject(Response::err_with(
            mailwire_pop3::types::ResponseCode::SysTemp,
            "some deleted messages not removed",
        ))
        .unwrap();
    assert!(session.is_closed());
    assert_eq!(
        session.poll_event(),
        Some(ServerEvent::Closed {
            reason: CloseReason::Quit
        })
    );
    let out = transmits(&mut session);
    let Transmit::Data(wire) = &out[0] else {
        panic!()
    };
    assert!(wire.ends_with(b"-ERR [SYS/TEMP] some deleted messages not removed\r\n"));
    assert_eq!(out.last(), Some(&Transmit::Close));
}
