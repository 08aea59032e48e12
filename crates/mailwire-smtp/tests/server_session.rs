//! The server state machine driven in memory: RFC 5321 Appendix D scenarios, pipelining,
//! SMTP smuggling, STARTTLS injection, limits, AUTH, BDAT, LMTP, timeouts, chunking.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mailwire_core::dot::BareLineEndings;
use mailwire_core::sasl::{Credentials, Mechanism};
use mailwire_core::{Session, Transmit};
use mailwire_smtp::parse::{ReplyLimits, parse_reply};
use mailwire_smtp::server::{
    AbortReason, CloseReason, HeloVerb, ServerConfig, ServerEvent, ServerSession,
};
use mailwire_smtp::types::{EhloDomain, EhloReply, ForwardPath, Reply};
use proptest::prelude::*;

fn config() -> ServerConfig {
    ServerConfig::new(EhloDomain::new("foo.com").unwrap())
}

/// A server session with a simple application: accepts everything except recipients
/// whose local part starts with `nobody`, and passwords other than `secret`.
struct Harness {
    session: ServerSession,
    now: Instant,
    wire: Vec<u8>,
    /// How many `Transmit::Data` writes there were.
    writes: usize,
    events: Vec<ServerEvent>,
    message: Vec<u8>,
    starttls: usize,
    closed: bool,
    /// LMTP: reject every second recipient's delivery.
    lmtp_alternate: bool,
    lmtp_count: usize,
    /// Leave decisions to the test.
    manual: bool,
}

impl Harness {
    fn new(config: ServerConfig) -> Harness {
        let now = Instant::now();
        let mut h = Harness {
            session: ServerSession::new(Arc::new(config), now),
            now,
            wire: Vec::new(),
            writes: 0,
            events: Vec::new(),
            message: Vec::new(),
            starttls: 0,
            closed: false,
            lmtp_alternate: false,
            lmtp_count: 0,
            manual: false,
        };
        h.drain();
        h
    }

    fn input(&mut self, bytes: &[u8]) -> &mut Harness {
        self.session.handle_input(bytes, self.now);
        self.drain();
        self
    }

    fn drain(&mut self) {
        loop {
            let mut busy = false;
            while let Some(event) = self.session.poll_event() {
                busy = true;
                if !self.manual {
                    self.decide(&event);
                }
                if let ServerEvent::Data(chunk) = &event {
                    self.message.extend_from_slice(chunk);
                }
                self.events.push(event);
            }
            while let Some(transmit) = self.session.poll_transmit() {
                busy = true;
                match transmit {
                    Transmit::Data(bytes) => {
                        self.writes += 1;
                        self.wire.extend_from_slice(&bytes);
                    }
                    Transmit::StartTls => self.starttls += 1,
                    Transmit::Close => self.closed = true,
                }
            }
            if !busy {
                break;
            }
        }
    }

    fn decide(&mut self, event: &ServerEvent) {
        let s = &mut self.session;
        match event {
            ServerEvent::Rcpt {
                to: ForwardPath::Mailbox(mailbox),
                ..
            } if mailbox.local_part.as_str().starts_with("nobody")
                || mailbox.local_part.as_str() == "Green" =>
            {
                s.reject(Reply::with_enhanced(550, (5, 1, 1), "No such user here").unwrap())
                    .unwrap()
            }
            ServerEvent::Auth { credentials } => {
                let good = match credentials {
                    Credentials::Password(p) => p.password.expose() == "secret",
                    Credentials::CramMd5(c) => c.verify("secret"),
                    Credentials::OAuth(o) => o.token.expose() == "secret",
                    _ => false,
                };
                if good {
                    s.accept().unwrap()
                } else {
                    s.reject(Reply::auth_failed()).unwrap()
                }
            }
            ServerEvent::DataEnd { recipients } if self.lmtp_alternate => {
                for _ in 0..*recipients {
                    self.lmtp_count += 1;
                    if self.lmtp_count.is_multiple_of(2) {
                        s.reject(Reply::mailbox_full()).unwrap();
                    } else {
                        s.accept().unwrap();
                    }
                }
            }
            ServerEvent::Helo { .. }
            | ServerEvent::Mail { .. }
            | ServerEvent::Rcpt { .. }
            | ServerEvent::DataEnd { .. } => s.accept().unwrap(),
            _ => {}
        }
    }

    /// Every reply sent so far.
    fn replies(&self) -> Vec<Reply> {
        let mut out = Vec::new();
        let mut rest = &self.wire[..];
        while !rest.is_empty() {
            let (reply, used) = parse_reply(rest, &ReplyLimits::default())
                .expect("the server sends valid replies")
                .expect("the server sends whole replies");
            out.push(reply);
            rest = &rest[used..];
        }
        out
    }

    fn codes(&self) -> Vec<u16> {
        self.replies().iter().map(|r| r.code().as_u16()).collect()
    }

    fn last_reply(&self) -> Reply {
        self.replies().pop().expect("a reply")
    }

    fn count(&self, pred: impl Fn(&ServerEvent) -> bool) -> usize {
        self.events.iter().filter(|e| pred(e)).count()
    }
}

fn is_mail(e: &ServerEvent) -> bool {
    matches!(e, ServerEvent::Mail { .. })
}
fn is_data_end(e: &ServerEvent) -> bool {
    matches!(e, ServerEvent::DataEnd { .. })
}

// ---------------------------------------------------------------------------------------
// RFC 5321 Appendix D.

const D1: &[u8] = b"EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\n\
RCPT TO:<Green@foo.com>\r\nRCPT TO:<Brown@foo.com>\r\nDATA\r\nBlah blah blah...\r\n\
...etc. etc. etc.\r\n.\r\nQUIT\r\n";

#[test]
fn appendix_d1_typical_transaction_line_by_line() {
    let mut h = Harness::new(config());
    for line in D1.split_inclusive(|&b| b == b'\n') {
        h.input(line);
    }
    assert_eq!(h.codes(), [220, 250, 250, 250, 550, 250, 354, 250, 221]);
    assert_eq!(h.message, b"Blah blah blah...\r\n..etc. etc. etc.\r\n");
    let replies = h.replies();
    assert_eq!(replies[0].lines().next().unwrap(), "foo.com ESMTP mailwire");
    let ehlo = EhloReply::from_reply(&replies[1]).unwrap();
    assert_eq!(ehlo.domain.as_str(), "foo.com");
    assert!(ehlo.capabilities.supports_pipelining());
    assert!(ehlo.capabilities.supports_8bitmime());
    assert!(ehlo.capabilities.supports_dsn());
    assert_eq!(ehlo.capabilities.size(), Some(Some(50 * 1024 * 1024)));
    assert!(!ehlo.capabilities.supports_starttls());
    assert!(!ehlo.capabilities.supports_auth());
    assert_eq!(replies[4].enhanced().unwrap().to_string(), "5.1.1");
    assert!(h.closed);
    assert!(matches!(
        h.events.last(),
        Some(ServerEvent::Closed {
            reason: CloseReason::Quit
        })
    ));
    assert_eq!(h.count(is_data_end), 1);
}

#[test]
fn appendix_d1_pipelined_in_one_write_gets_one_write_back() {
    let mut h = Harness::new(config());
    assert_eq!(h.writes, 1, "the greeting");
    h.input(D1);
    assert_eq!(h.codes(), [220, 250, 250, 250, 550, 250, 354, 250, 221]);
    assert_eq!(h.writes, 2, "all replies to one input leave together");
    assert_eq!(h.message, b"Blah blah blah...\r\n..etc. etc. etc.\r\n");
}

#[test]
fn appendix_d2_aborted_transaction() {
    let mut h = Harness::new(config());
    h.input(
        b"EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\n\
RCPT TO:<Green@foo.com>\r\nRSET\r\nQUIT\r\n",
    );
    assert_eq!(h.codes(), [220, 250, 250, 250, 550, 250, 221]);
    assert_eq!(h.count(|e| matches!(e, ServerEvent::Reset)), 1);
    assert_eq!(h.count(is_data_end), 0);
}

#[test]
fn helo_client_gets_no_extensions_and_no_parameters() {
    let mut h = Harness::new(config());
    h.input(b"HELO bar.com\r\nMAIL FROM:<a@bar.com> SIZE=10\r\nMAIL FROM:<a@bar.com>\r\n");
    assert_eq!(h.codes(), [220, 250, 555, 250]);
    assert_eq!(h.replies()[1].line_count(), 1);
    assert_eq!(h.session.helo_verb(), Some(HeloVerb::Helo));
}

// ---------------------------------------------------------------------------------------
// SMTP smuggling: only CRLF.CRLF ends the data.

const SMUGGLING_ENDS: [&[u8]; 7] = [
    b"\n.\n",
    b"\n.\r\n",
    b"\r.\r",
    b"\r.\r\n",
    b"\r\n.\r",
    b"\r\n.\n",
    b"\r\n\0.\r\n",
];

fn smuggle(end: &[u8]) -> Vec<u8> {
    let mut input = b"EHLO x.example\r\nMAIL FROM:<alice@x.example>\r\nRCPT TO:<bob@foo.com>\r\n\
DATA\r\nSubject: hi\r\n\r\nfirst"
        .to_vec();
    input.extend_from_slice(end);
    input.extend_from_slice(
        b"MAIL FROM:<admin@foo.com>\r\nRCPT TO:<victim@foo.com>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n",
    );
    input
}

#[test]
fn smuggling_variants_never_end_data_and_are_refused() {
    for end in SMUGGLING_ENDS {
        let mut h = Harness::new(config());
        h.input(&smuggle(end));
        assert_eq!(h.count(is_mail), 1, "{end:?}: a second MAIL was smuggled");
        assert_eq!(h.count(is_data_end), 0, "{end:?}: the message was accepted");
        let reason = if end.contains(&0) {
            AbortReason::Nul
        } else {
            AbortReason::BareLineEnding
        };
        assert!(
            h.events.contains(&ServerEvent::DataAborted { reason }),
            "{end:?}: {:?}",
            h.events
        );
        assert_eq!(h.codes(), [220, 250, 250, 250, 354, 554, 221], "{end:?}");
        assert!(h.closed);
    }
}

#[test]
fn smuggling_variants_normalised_stay_one_message() {
    for end in SMUGGLING_ENDS.iter().filter(|e| !e.contains(&0)) {
        let mut cfg = config();
        cfg.bare_line_endings = BareLineEndings::Normalize;
        let mut h = Harness::new(cfg);
        h.input(&smuggle(end));
        assert_eq!(h.count(is_mail), 1, "{end:?}");
        assert_eq!(h.count(is_data_end), 1, "{end:?}");
        let text = String::from_utf8_lossy(&h.message).into_owned();
        assert!(
            text.contains("MAIL FROM:<admin@foo.com>\r\n"),
            "{end:?}: {text:?}"
        );
        assert!(!h.message.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
        assert_eq!(h.codes(), [220, 250, 250, 250, 354, 250, 221], "{end:?}");
    }
}

#[test]
fn terminator_split_at_every_point_gives_one_message() {
    let input = b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\n.start\r\nline\r\n.\r\nNOOP\r\n";
    let dot = input.windows(5).position(|w| w == b"\r\n.\r\n").unwrap();
    for split in dot..dot + 6 {
        let mut h = Harness::new(config());
        h.input(&input[..split]).input(&input[split..]);
        assert_eq!(h.message, b"start\r\nline\r\n");
        assert_eq!(
            h.codes(),
            [220, 250, 250, 250, 354, 250, 250],
            "split {split}"
        );
    }
}

#[test]
fn empty_message_is_accepted() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\n.\r\n");
    assert_eq!(h.codes(), [220, 250, 250, 250, 354, 250]);
    assert!(h.message.is_empty());
    assert_eq!(h.count(is_data_end), 1);
}

// ---------------------------------------------------------------------------------------
// STARTTLS.

#[test]
fn starttls_drops_pipelined_plaintext_and_prior_state() {
    let mut cfg = config();
    cfg.starttls = true;
    let mut h = Harness::new(cfg);
    h.input(b"EHLO x\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<b@foo.com>\r\n");
    assert_eq!(h.codes(), [220, 250, 220]);
    assert_eq!(h.starttls, 1);
    assert!(
        EhloReply::from_reply(&h.replies()[1])
            .unwrap()
            .capabilities
            .supports_starttls()
    );
    assert_eq!(
        h.count(is_mail),
        0,
        "plaintext behind STARTTLS was processed"
    );
    assert!(h.session.is_tls());
    // After the handshake the client must greet again.
    h.input(b"MAIL FROM:<a@x>\r\n");
    assert_eq!(h.last_reply().code().as_u16(), 503);
    h.input(b"EHLO x\r\n");
    let ehlo = EhloReply::from_reply(&h.last_reply()).unwrap();
    assert!(!ehlo.capabilities.supports_starttls());
    h.input(b"STARTTLS\r\n");
    assert_eq!(h.last_reply().code().as_u16(), 503);
    assert_eq!(h.starttls, 1);
}

/// STARTTLS at the start of an input (nothing buffered before it, so the line is read
/// where it lies): the plaintext after it in the same input is dropped all the same.
#[test]
fn starttls_first_in_an_input_drops_what_follows() {
    let mut cfg = config();
    cfg.starttls = true;
    let mut h = Harness::new(cfg);
    h.input(b"EHLO x\r\n");
    h.input(b"STARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<b@foo.com>\r\n");
    assert_eq!(h.codes(), [220, 250, 220]);
    assert_eq!(h.starttls, 1);
    assert_eq!(
        h.count(is_mail),
        0,
        "plaintext behind STARTTLS was processed"
    );
    assert!(h.session.is_tls());
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\n");
    assert_eq!(h.count(is_mail), 1);
}

#[test]
fn starttls_not_offered_is_refused() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nSTARTTLS\r\n");
    assert_eq!(h.codes(), [220, 250, 502]);
    assert_eq!(h.starttls, 0);
}

// ---------------------------------------------------------------------------------------
// Limits.

#[test]
fn over_long_command_line_gets_500_and_the_session_goes_on() {
    let mut h = Harness::new(config());
    let mut input = b"NOOP ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 100_000));
    input.extend_from_slice(b"\r\nNOOP\r\n");
    for piece in input.chunks(1000) {
        h.input(piece);
    }
    assert_eq!(h.codes(), [220, 500, 250]);
    assert_eq!(h.replies()[1].enhanced().unwrap().to_string(), "5.5.2");
}

#[test]
fn message_size_checked_declared_and_actual() {
    let mut cfg = config();
    cfg.max_message_size = Some(1000);
    let mut h = Harness::new(cfg);
    h.input(b"EHLO x\r\nMAIL FROM:<a@x> SIZE=2000\r\nMAIL FROM:<a@x> SIZE=500\r\nRCPT TO:<b@foo.com>\r\nDATA\r\n");
    assert_eq!(h.codes(), [220, 250, 552, 250, 250, 354]);
    for _ in 0..30 {
        h.input(&[b'a'; 98]).input(b"\r\n");
    }
    h.input(b".\r\nNOOP\r\n");
    assert_eq!(h.codes(), [220, 250, 552, 250, 250, 354, 552, 250]);
    assert_eq!(h.replies()[6].enhanced().unwrap().to_string(), "5.3.4");
    assert!(h.events.contains(&ServerEvent::DataAborted {
        reason: AbortReason::TooBig
    }));
    assert_eq!(h.count(is_data_end), 0);
    assert!(h.message.len() <= 1100, "data kept flowing after the abort");
    // The session goes on with a new transaction.
    h.input(b"MAIL FROM:<a@x>\r\n");
    assert_eq!(h.last_reply().code().as_u16(), 250);
}

#[test]
fn recipient_limit_gives_452() {
    let mut cfg = config();
    cfg.max_recipients = 2;
    let mut h = Harness::new(cfg);
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nRCPT TO:<c@foo.com>\r\nRCPT TO:<d@foo.com>\r\n");
    assert_eq!(h.codes(), [220, 250, 250, 250, 250, 452]);
    assert_eq!(h.last_reply().enhanced().unwrap().to_string(), "4.5.3");
}

#[test]
fn bad_sequence_and_error_budget() {
    let mut h = Harness::new(config());
    h.input(
        b"MAIL FROM:<a@x>\r\nEHLO x\r\nRCPT TO:<b@foo.com>\r\nDATA\r\nMAIL FROM:<a@x>\r\nDATA\r\n",
    );
    assert_eq!(h.codes(), [220, 503, 250, 503, 503, 250, 554]);
    assert!(!h.closed);
    for _ in 0..10 {
        h.input(b"BOGUS\r\n");
    }
    assert!(h.closed);
    assert_eq!(h.last_reply().code().as_u16(), 421);
    assert!(h.events.contains(&ServerEvent::Closed {
        reason: CloseReason::TooManyErrors
    }));
    let before = h.wire.len();
    h.input(b"NOOP\r\n");
    assert_eq!(h.wire.len(), before, "nothing after close");
}

#[test]
fn parameters_of_disabled_extensions_are_refused() {
    let mut cfg = config();
    cfg.eight_bit_mime = false;
    cfg.dsn = false;
    cfg.smtputf8 = false;
    let mut h = Harness::new(cfg);
    h.input(
        b"EHLO x\r\nMAIL FROM:<a@x> BODY=8BITMIME\r\nMAIL FROM:<a@x> RET=HDRS\r\n\
MAIL FROM:<a@x> SMTPUTF8\r\nMAIL FROM:<a@x> XFOO=1\r\nMAIL FROM:<a@x>\r\n\
RCPT TO:<b@foo.com> NOTIFY=NEVER\r\n",
    );
    assert_eq!(h.codes(), [220, 250, 555, 555, 555, 555, 250, 555]);
}

#[test]
fn smtputf8_addresses_need_the_parameter() {
    let mut h = Harness::new(config());
    h.input("EHLO x\r\nMAIL FROM:<用户@例子.广告>\r\nMAIL FROM:<用户@例子.广告> SMTPUTF8\r\nRCPT TO:<θ@foo.com>\r\n".as_bytes());
    assert_eq!(h.codes(), [220, 250, 553, 250, 250]);
    let mut h = Harness::new(config());
    h.input("EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<θ@foo.com>\r\n".as_bytes());
    assert_eq!(h.codes(), [220, 250, 250, 553]);
}

#[test]
fn binarymime_needs_bdat() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nMAIL FROM:<a@x> BODY=BINARYMIME\r\nRCPT TO:<b@foo.com>\r\nDATA\r\nBDAT 3 LAST\r\n\0\r\n");
    assert_eq!(h.codes(), [220, 250, 250, 250, 503, 250]);
    assert_eq!(h.message, b"\0\r\n");
}

#[test]
fn backpressure_while_a_decision_is_pending() {
    let mut cfg = config();
    cfg.max_pending_input = 1024;
    let mut h = Harness::new(cfg);
    h.manual = true;
    h.input(b"EHLO x\r\n");
    assert!(h.session.is_decision_pending());
    assert!(h.session.wants_input());
    let noops = b"NOOP\r\n".repeat(300);
    h.input(&noops);
    assert!(!h.session.wants_input());
    h.session.accept().unwrap();
    h.drain();
    assert!(h.session.wants_input());
    assert_eq!(h.codes().len(), 1 + 1 + 300);
    assert_eq!(
        h.session.accept(),
        Err(mailwire_smtp::server::DecisionError::NothingPending)
    );
}

#[test]
fn decision_verbs_check_the_reply_class() {
    let mut h = Harness::new(config());
    h.manual = true;
    h.input(b"EHLO x\r\n");
    use mailwire_smtp::server::DecisionError;
    assert_eq!(
        h.session.accept_with(Reply::no_such_user()),
        Err(DecisionError::NotPositive)
    );
    assert_eq!(
        h.session.reject(Reply::ok()),
        Err(DecisionError::NotNegative)
    );
    h.session
        .reject(Reply::with_enhanced(550, (5, 7, 1), "Go away").unwrap())
        .unwrap();
    h.drain();
    assert_eq!(h.codes(), [220, 550]);
    h.input(b"MAIL FROM:<a@x>\r\n");
    assert_eq!(
        h.last_reply().code().as_u16(),
        503,
        "a refused EHLO is no EHLO"
    );
}

// ---------------------------------------------------------------------------------------
// AUTH.

fn auth_config() -> ServerConfig {
    let mut cfg = config();
    cfg.auth_mechanisms = vec![
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
    ];
    cfg
}

#[test]
fn plaintext_auth_needs_tls_unless_allowed() {
    let mut h = Harness::new(auth_config());
    h.input(b"EHLO x\r\nAUTH PLAIN AHRpbQBzZWNyZXQ=\r\n");
    assert_eq!(h.codes(), [220, 250, 538]);
    assert_eq!(h.last_reply().enhanced().unwrap().to_string(), "5.7.11");
    let ehlo = EhloReply::from_reply(&h.replies()[1]).unwrap();
    // Without a CRAM-MD5 seed and without TLS only XOAUTH2 is usable.
    assert_eq!(ehlo.capabilities.auth_mechanisms(), [&Mechanism::XOAuth2]);
    assert_eq!(h.session.authenticated_user(), None);
}

#[test]
fn auth_plain_login_and_failures() {
    let mut cfg = auth_config();
    cfg.allow_plaintext_auth = true;
    let mut h = Harness::new(cfg.clone());
    // \0tim\0secret
    h.input(b"EHLO x\r\nAUTH PLAIN AHRpbQBzZWNyZXQ=\r\nAUTH PLAIN AHRpbQBzZWNyZXQ=\r\n");
    assert_eq!(h.codes(), [220, 250, 235, 503]);
    assert_eq!(h.session.authenticated_user(), Some("tim"));
    let ehlo_after = {
        h.input(b"EHLO x\r\n");
        EhloReply::from_reply(&h.last_reply()).unwrap()
    };
    assert!(!ehlo_after.capabilities.supports_auth());

    // LOGIN, with the challenges.
    let mut h = Harness::new(cfg.clone());
    h.input(b"EHLO x\r\nAUTH LOGIN\r\n");
    assert_eq!(h.last_reply().lines().next(), Some("VXNlcm5hbWU6"));
    h.input(b"dGlt\r\n");
    assert_eq!(h.last_reply().lines().next(), Some("UGFzc3dvcmQ6"));
    h.input(b"c2VjcmV0\r\n");
    assert_eq!(h.codes(), [220, 250, 334, 334, 235]);

    // Wrong passwords, a cancel and bad base64 use up the budget of 3.
    let mut h = Harness::new(cfg);
    h.input(b"EHLO x\r\nAUTH PLAIN AHRpbQB3cm9uZw==\r\nAUTH LOGIN\r\n*\r\nAUTH PLAIN\r\n!!!\r\n");
    assert_eq!(h.codes(), [220, 250, 535, 334, 501, 334, 501, 421]);
    assert!(h.events.contains(&ServerEvent::Closed {
        reason: CloseReason::TooManyAuthFailures
    }));
}

#[test]
fn auth_cram_md5_with_a_seed() {
    let mut h = Harness::new(auth_config());
    h.session.set_cram_md5_seed(1896, 697170952);
    h.input(b"EHLO x\r\nAUTH CRAM-MD5\r\n");
    let challenge = h.last_reply().lines().next().unwrap().to_owned();
    let challenge = mailwire_core::sasl::decode_challenge(challenge.as_bytes(), 1000).unwrap();
    let mut client = mailwire_core::sasl::ClientExchange::new(
        Mechanism::CramMd5,
        mailwire_core::sasl::ClientCredentials::password("tim", String::from("secret")),
    )
    .unwrap();
    let response = client.respond(&challenge).unwrap();
    let line = format!("{}\r\n", mailwire_core::sasl::encode_response(&response));
    h.input(line.as_bytes());
    assert_eq!(h.codes(), [220, 250, 334, 235]);
    assert_eq!(h.session.authenticated_user(), Some("tim"));
}

#[test]
fn auth_xoauth2_rejection_sends_the_error_challenge_first() {
    let mut h = Harness::new(auth_config());
    let ir = mailwire_core::sasl::encode_initial_response(b"user=tim\x01auth=Bearer nope\x01\x01");
    h.input(format!("EHLO x\r\nAUTH XOAUTH2 {ir}\r\n").as_bytes());
    assert_eq!(h.codes(), [220, 250, 334]);
    h.input(b"\r\n");
    assert_eq!(h.codes(), [220, 250, 334, 535]);
    let ir =
        mailwire_core::sasl::encode_initial_response(b"user=tim\x01auth=Bearer secret\x01\x01");
    h.input(format!("AUTH XOAUTH2 {ir}\r\n").as_bytes());
    assert_eq!(h.last_reply().code().as_u16(), 235);
}

#[test]
fn require_auth_refuses_mail() {
    let mut cfg = auth_config();
    cfg.require_auth = true;
    cfg.allow_plaintext_auth = true;
    let mut h = Harness::new(cfg);
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\nAUTH PLAIN AHRpbQBzZWNyZXQ=\r\nMAIL FROM:<a@x>\r\n");
    assert_eq!(h.codes(), [220, 250, 530, 235, 250]);
}

// ---------------------------------------------------------------------------------------
// BDAT and LMTP.

#[test]
fn bdat_chunks_are_counted_not_unstuffed() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nBDAT 8\r\n.\r\nHel");
    h.input(b"lo");
    h.input(b"BDAT 10 LAST\r\n\r\n.\r\nWorld");
    h.input(b"QUIT\r\n");
    assert_eq!(h.codes(), [220, 250, 250, 250, 250, 250, 221]);
    assert_eq!(h.message, b".\r\nHello\r\n.\r\nWorld");
    assert_eq!(h.replies()[4].lines().next(), Some("8 octets received"));
    assert!(h.events.contains(&ServerEvent::DataStart { chunked: true }));
}

#[test]
fn bdat_without_recipients_is_read_and_refused() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nBDAT 6 LAST\r\nQUIT\r\nNOOP\r\n");
    assert_eq!(h.codes(), [220, 250, 503, 250]);
    assert!(h.message.is_empty());
}

#[test]
fn bdat_over_the_size_limit() {
    let mut cfg = config();
    cfg.max_message_size = Some(10);
    let mut h = Harness::new(cfg);
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nBDAT 6\r\n123456BDAT 6 LAST\r\n123456NOOP\r\n");
    assert_eq!(h.codes(), [220, 250, 250, 250, 250, 552, 250]);
    assert!(h.events.contains(&ServerEvent::DataAborted {
        reason: AbortReason::TooBig
    }));
    assert_eq!(h.count(is_data_end), 0);
}

#[test]
fn lmtp_answers_once_per_recipient() {
    let mut h = Harness::new(ServerConfig::lmtp(EhloDomain::new("foo.com").unwrap()));
    h.lmtp_alternate = true;
    h.input(b"EHLO x\r\nLHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nRCPT TO:<nobody@foo.com>\r\nRCPT TO:<c@foo.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n");
    assert_eq!(
        h.codes(),
        [220, 500, 250, 250, 250, 550, 250, 354, 250, 552, 221]
    );
    assert!(h.replies()[0].lines().next().unwrap().contains("LMTP"));
    assert!(h.events.contains(&ServerEvent::DataEnd { recipients: 2 }));
}

// ---------------------------------------------------------------------------------------
// Time and the end of the connection.

#[test]
fn timeouts_are_not_extended_by_a_slow_drip() {
    let mut h = Harness::new(config());
    let start = h.now;
    assert_eq!(
        h.session.poll_timeout(),
        Some(start + Duration::from_secs(300))
    );
    for minute in 1..=4 {
        h.now = start + Duration::from_secs(60 * minute);
        h.input(b"N");
        h.session.handle_timeout(h.now);
        h.drain();
        assert!(!h.closed);
    }
    h.now = start + Duration::from_secs(300);
    h.session.handle_timeout(h.now);
    h.drain();
    assert!(h.closed);
    assert_eq!(h.last_reply().code().as_u16(), 421);
    assert_eq!(h.last_reply().enhanced().unwrap().to_string(), "4.4.2");
    assert_eq!(h.session.poll_timeout(), None);
}

#[test]
fn data_dripped_below_the_minimum_rate_is_cut_off() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\n");
    let start = h.now;
    let mut cut_at = None;
    for second in 1..=400u64 {
        h.now = start + Duration::from_secs(second);
        h.input(b"x");
        h.session.handle_timeout(h.now);
        h.drain();
        if h.closed {
            cut_at = Some(second);
            break;
        }
    }
    // 300 s of grace (data_timeout), then 512 octets/s on average.
    let cut_at = cut_at.expect("a 1 octet/s drip is cut off");
    assert!((300..=302).contains(&cut_at), "cut after {cut_at} s");
    assert_eq!(h.last_reply().code().as_u16(), 421);
    assert!(h.events.contains(&ServerEvent::DataAborted {
        reason: AbortReason::ConnectionLost
    }));
}

#[test]
fn data_at_a_modest_rate_is_not_cut_off() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\n");
    let start = h.now;
    let line = [b'y'; 998];
    for second in 1..=900u64 {
        h.now = start + Duration::from_secs(second);
        h.input(&line).input(b"\r\n");
        h.session.handle_timeout(h.now);
        h.drain();
        assert!(!h.closed, "cut off at {second} s at 1000 octets/s");
    }
    h.input(b".\r\n");
    assert_eq!(h.last_reply().code().as_u16(), 250);
}

#[test]
fn data_timeout_aborts_the_message() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\npartial");
    let deadline = h.session.poll_timeout().unwrap();
    h.now = deadline;
    h.session.handle_timeout(h.now);
    h.drain();
    assert!(h.closed);
    assert!(h.events.contains(&ServerEvent::DataAborted {
        reason: AbortReason::ConnectionLost
    }));
    assert_eq!(h.count(is_data_end), 0);
}

#[test]
fn eof_mid_data_aborts_and_pipelined_quit_is_answered() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\npartial\r\n");
    h.session.handle_eof(h.now);
    h.drain();
    assert!(h.closed);
    assert!(h.events.contains(&ServerEvent::DataAborted {
        reason: AbortReason::ConnectionLost
    }));
    assert!(h.events.contains(&ServerEvent::Closed {
        reason: CloseReason::PeerClosed
    }));

    let mut h = Harness::new(config());
    h.manual = true;
    h.input(b"EHLO x\r\nNOOP\r\n");
    h.session.handle_eof(h.now);
    h.drain();
    assert!(!h.closed, "the decision is still pending");
    h.session.accept().unwrap();
    h.drain();
    assert_eq!(h.codes(), [220, 250, 250]);
    assert!(h.closed);
}

#[test]
fn busy_session_refuses_and_closes() {
    let now = Instant::now();
    let mut s = ServerSession::busy(Arc::new(config()), now);
    assert_eq!(
        s.poll_transmit(),
        Some(Transmit::Data(bytes::Bytes::from_static(
            b"421 4.3.2 foo.com Service not available, closing transmission channel\r\n"
        )))
    );
    assert_eq!(s.poll_transmit(), Some(Transmit::Close));
    assert!(s.is_closed());
}

#[test]
fn shutdown_aborts_the_message_in_progress() {
    let mut h = Harness::new(config());
    h.input(b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\nabc");
    h.session.shutdown();
    h.drain();
    assert!(h.closed);
    assert_eq!(h.last_reply().code().as_u16(), 421);
    assert!(h.events.contains(&ServerEvent::DataAborted {
        reason: AbortReason::ConnectionLost
    }));
}

// ---------------------------------------------------------------------------------------
// Chunking invariance.

fn session_transcript() -> Vec<u8> {
    let mut input = b"EHLO client.example\r\nMAIL FROM:<a@x> SIZE=100 BODY=8BITMIME\r\n\
RCPT TO:<b@foo.com> NOTIFY=SUCCESS,FAILURE\r\nRCPT TO:<nobody@foo.com>\r\nDATA\r\n"
        .to_vec();
    input.extend_from_slice(b"Subject: test\r\n\r\n..leading dot\r\n\r\n..\r\nend\r\n.\r\n");
    input.extend_from_slice(b"MAIL FROM:<>\r\nRCPT TO:<c@foo.com>\r\nBDAT 10\r\n0123456789");
    input.extend_from_slice(b"BDAT 3 LAST\r\nabcRSET\r\nBOGUS\r\nNOOP\r\nQUIT\r\n");
    input
}

fn run_chunked(input: &[u8], cuts: &[usize]) -> (Vec<u8>, Vec<ServerEvent>, Vec<u8>) {
    let mut h = Harness::new(config());
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut from = 0;
    for cut in cuts {
        h.input(&input[from..cut]);
        from = cut;
    }
    h.input(&input[from..]);
    // Data events may be split differently; compare their concatenation instead.
    let events: Vec<ServerEvent> = h
        .events
        .iter()
        .filter(|e| !matches!(e, ServerEvent::Data(_)))
        .cloned()
        .collect();
    (h.wire, events, h.message)
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_session(cuts in proptest::collection::vec(0usize..10_000, 0..40)) {
        let input = session_transcript();
        let whole = run_chunked(&input, &[]);
        let chunked = run_chunked(&input, &cuts);
        prop_assert_eq!(&whole, &chunked);
        prop_assert_eq!(&whole.2[..], &b"Subject: test\r\n\r\n.leading dot\r\n\r\n.\r\nend\r\n0123456789abc"[..]);
    }

    #[test]
    fn arbitrary_input_never_panics_and_stays_bounded(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..30)
    ) {
        let mut cfg = auth_config();
        cfg.allow_plaintext_auth = true;
        cfg.starttls = true;
        cfg.max_line_len = 100;
        let mut h = Harness::new(cfg);
        h.input(b"EHLO x\r\n");
        for chunk in &chunks {
            h.input(chunk);
        }
        h.session.handle_eof(h.now);
        h.drain();
        prop_assert!(h.closed || h.session.is_decision_pending());
        // Every byte the server wrote is a well-formed reply.
        let _ = h.replies();
    }
}

/// The EHLO reply and the 221 are written straight into the output, not built as a
/// `Reply`: they must be exactly what the reply types would encode.
#[test]
fn ehlo_and_quit_replies_are_the_canonical_encoding() {
    for (chunking, starttls, auth, enhanced) in [
        (false, false, false, true),
        (true, true, true, true),
        (true, false, true, false),
    ] {
        let mut config = config();
        config.chunking = chunking;
        config.binary_mime = chunking;
        config.starttls = starttls;
        config.enhanced_status_codes = enhanced;
        config.allow_plaintext_auth = true;
        if auth {
            config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
        }
        let mut h = Harness::new(config);
        let greeting = h.wire.len();
        h.input(b"EHLO bar.com\r\n");
        let ehlo_wire = h.wire[greeting..].to_vec();
        let (reply, used) = parse_reply(&ehlo_wire, &ReplyLimits::default())
            .unwrap()
            .unwrap();
        assert_eq!(used, ehlo_wire.len());
        let ehlo = EhloReply::from_reply(&reply).unwrap();
        assert_eq!(ehlo.to_reply().to_bytes(), ehlo_wire);
        assert_eq!(ehlo.capabilities.supports_chunking(), chunking);
        assert_eq!(ehlo.capabilities.supports_starttls(), starttls);
        assert_eq!(ehlo.capabilities.auth_mechanisms().is_empty(), !auth);
        let before_quit = h.wire.len();
        h.input(b"QUIT\r\n");
        let want: &[u8] = if enhanced {
            b"221 2.0.0 foo.com Service closing transmission channel\r\n"
        } else {
            b"221 foo.com Service closing transmission channel\r\n"
        };
        assert_eq!(&h.wire[before_quit..], want);
        assert!(h.closed);
    }
}
