//! RFC 1939 examples as known-answer tests: the sample session of section 10 byte for
//! byte, and the per-command examples of sections 4 to 7.

mod support;

use std::sync::Arc;
use std::time::Instant;

use mailwire_pop3::parse::{CommandOptions, parse_command, parse_response};
use mailwire_pop3::server::{ServerConfig, ServerEvent, ServerSession};
use mailwire_pop3::types::{ApopDigest, ApopTimestamp, Arg, Command, ResponseCode, Status};
use support::{App, config, server_transcript};

fn message(size: usize, fill: u8) -> Vec<u8> {
    let mut m = b"Subject: x\r\n\r\n".to_vec();
    while m.len() + 2 < size {
        m.push(fill);
    }
    m.extend_from_slice(b"\r\n");
    assert_eq!(m.len(), size);
    m
}

fn rfc_session(app: &mut App) -> ServerSession {
    let ts = ApopTimestamp::new("<1896.697170952@dbc.mtview.ca.us>").unwrap();
    let _ = app;
    ServerSession::with_timestamp(config(), ts, false, Instant::now())
}

#[test]
fn section_10_example_session() {
    let m1 = message(120, b'a');
    let m2 = message(200, b'b');
    let mut app = App::new(vec![m1.clone(), m2.clone()]);
    let mut session = rfc_session(&mut app);
    let client: [&[u8]; 8] = [
        b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n",
        b"STAT\r\n",
        b"LIST\r\n",
        b"RETR 1\r\n",
        b"DELE 1\r\n",
        b"RETR 2\r\n",
        b"DELE 2\r\n",
        b"QUIT\r\n",
    ];
    let wire = server_transcript(&mut session, &mut app, &client);
    let expected = format!(
        "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n\
         +OK mrose's maildrop has 2 messages (320 octets)\r\n\
         +OK 2 320\r\n\
         +OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n\
         +OK 120 octets\r\n{}.\r\n\
         +OK message 1 deleted\r\n\
         +OK 200 octets\r\n{}.\r\n\
         +OK message 2 deleted\r\n\
         +OK dewey POP3 server signing off (maildrop empty)\r\n",
        String::from_utf8(m1).unwrap(),
        String::from_utf8(m2).unwrap(),
    );
    assert_eq!(wire, expected);
    assert_eq!(app.removed, [0, 1]);
    assert!(session.is_closed_for_test());
}

trait Closed {
    fn is_closed_for_test(&self) -> bool;
}
impl Closed for ServerSession {
    fn is_closed_for_test(&self) -> bool {
        mailwire_core::Session::is_closed(self)
    }
}

#[test]
fn section_7_apop_digest() {
    let ts = ApopTimestamp::new("<1896.697170952@dbc.mtview.ca.us>").unwrap();
    let digest = ApopDigest::compute(&ts, "tanstaaf");
    assert_eq!(digest.to_hex(), "c4c9334bac560ecc979e58001b3e22fb");
    assert!(digest.verify(&ts, "tanstaaf"));
    assert!(!digest.verify(&ts, "tanstaag"));
    assert_eq!(
        ApopTimestamp::find_in("POP3 server ready <1896.697170952@dbc.mtview.ca.us>"),
        Some(ts)
    );
}

#[test]
fn per_command_examples_parse() {
    let o = CommandOptions::default();
    let cases: Vec<(&[u8], Command)> = vec![
        (b"STAT", Command::Stat),
        (b"LIST", Command::List(None)),
        (b"LIST 2", Command::List(Some(2))),
        (b"RETR 1", Command::Retr(1)),
        (b"DELE 1", Command::Dele(1)),
        (b"NOOP", Command::Noop),
        (b"RSET", Command::Rset),
        (b"QUIT", Command::Quit),
        (b"TOP 1 10", Command::Top { msg: 1, lines: 10 }),
        (b"UIDL", Command::Uidl(None)),
        (b"UIDL 2", Command::Uidl(Some(2))),
        (b"USER frated", Command::User(Arg::new("frated").unwrap())),
        (b"user mrose", Command::User(Arg::new("mrose").unwrap())),
    ];
    for (line, command) in cases {
        assert_eq!(parse_command(line, &o).unwrap(), command, "{line:?}");
        // The keyword is upper-cased, arguments kept.
        let (keyword, rest) = match line.iter().position(|&b| b == b' ') {
            Some(at) => line.split_at(at),
            None => (line, &b""[..]),
        };
        let mut wire = keyword.to_ascii_uppercase();
        wire.extend_from_slice(rest);
        wire.extend_from_slice(b"\r\n");
        assert_eq!(command.to_bytes(), wire);
    }
    let Command::Pass(p) = parse_command(b"PASS secret", &o).unwrap() else {
        panic!()
    };
    assert_eq!(p.expose(), "secret");
    let Command::Pass(p) = parse_command(b"PASS has spaces ", &o).unwrap() else {
        panic!()
    };
    assert_eq!(p.expose(), "has spaces ");
}

#[test]
fn per_command_example_responses_parse() {
    let r = parse_response(b"+OK 2 320").unwrap();
    assert_eq!((r.status(), r.text()), (Status::Ok, "2 320"));
    let r = parse_response(b"-ERR no such message, only 2 messages in maildrop").unwrap();
    assert_eq!(r.status(), Status::Err);
    let r = parse_response(b"-ERR [IN-USE] Do you have another POP session running?").unwrap();
    assert_eq!(r.code(), Some(&ResponseCode::InUse));
    assert_eq!(r.text(), "Do you have another POP session running?");
    let r = parse_response(b"+OK").unwrap();
    assert_eq!((r.status(), r.text(), r.code()), (Status::Ok, "", None));
    let r = parse_response(b"-ERR [SYS/TEMP] try later").unwrap();
    assert_eq!(r.code(), Some(&ResponseCode::SysTemp));
    assert!(parse_response(b"+OKAY").is_err());
    assert!(parse_response(b"OK").is_err());
}

/// Sections 5 and 7: LIST n, UIDL, UIDL n, TOP, DELE of a deleted message, RSET, NOOP,
/// USER/PASS.
#[test]
fn per_command_examples_server() {
    let m1 = message(120, b'a');
    let m2 = message(200, b'b');
    let mut app = App::new(vec![m1, m2]);
    app.uids = vec![
        "whqtswO00WBw418f9t5JxYwZ".into(),
        "QhdPYR:00WBw1Ph7x7".into(),
    ];
    let mut config = ServerConfig::new();
    config.allow_plaintext_auth = true;
    let mut session = ServerSession::new(Arc::new(config), Instant::now());
    let wire = server_transcript(
        &mut session,
        &mut app,
        &[
            b"USER frated\r\n",
            b"PASS x\r\n",
            b"USER mrose\r\nPASS tanstaaf\r\n",
            b"LIST 2\r\nLIST 3\r\nUIDL\r\nUIDL 2\r\nNOOP\r\n",
            b"DELE 1\r\nDELE 1\r\nLIST 1\r\nSTAT\r\nRSET\r\nSTAT\r\n",
        ],
    );
    let expected = "+OK POP3 server ready\r\n\
        +OK Send PASS\r\n\
        -ERR [AUTH] Bad login\r\n\
        +OK Send PASS\r\n\
        +OK mrose's maildrop has 2 messages (320 octets)\r\n\
        +OK 2 200\r\n\
        -ERR No such message\r\n\
        +OK Unique-id listing follows\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n\
        +OK 2 QhdPYR:00WBw1Ph7x7\r\n\
        +OK\r\n\
        +OK message 1 deleted\r\n\
        -ERR message 1 already deleted\r\n\
        -ERR message 1 already deleted\r\n\
        +OK 1 200\r\n\
        +OK maildrop has 2 messages (320 octets)\r\n\
        +OK 2 320\r\n";
    assert_eq!(wire, expected);
    assert!(matches!(app.events[0], ServerEvent::Login { ref user, .. } if user == "frated"));
}
