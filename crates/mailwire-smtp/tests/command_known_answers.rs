//! Known-answer tests for the SMTP command codec: bytes → value → bytes.

use mailwire_smtp::parse::{CommandParseOptions, parse_command};
use mailwire_smtp::types::*;

fn opts() -> CommandParseOptions {
    CommandParseOptions::default()
}

fn utf8() -> CommandParseOptions {
    let mut o = CommandParseOptions::default();
    o.smtputf8 = true;
    o
}

/// Parses `wire` (one full line), checks it consumed everything, and returns the value.
fn parse_with(wire: &[u8], o: &CommandParseOptions) -> Command {
    match parse_command(wire, o) {
        Ok(Some((cmd, used))) => {
            assert_eq!(used, wire.len(), "{:?}", String::from_utf8_lossy(wire));
            cmd
        }
        other => panic!("{:?} -> {other:?}", String::from_utf8_lossy(wire)),
    }
}

fn parse(wire: &[u8]) -> Command {
    parse_with(wire, &opts())
}

/// `wire` parses to `expected`, and `expected` encodes to `canonical`.
fn kat(wire: &[u8], expected: Command, canonical: &[u8]) {
    kat_with(wire, expected, canonical, &opts())
}

fn kat_with(wire: &[u8], expected: Command, canonical: &[u8], o: &CommandParseOptions) {
    let cmd = parse_with(wire, o);
    assert_eq!(cmd, expected, "{:?}", String::from_utf8_lossy(wire));
    let enc = cmd.to_bytes();
    assert_eq!(
        String::from_utf8_lossy(&enc),
        String::from_utf8_lossy(canonical)
    );
    assert_eq!(parse_with(&enc, o), expected);
}

fn mbox(s: &str) -> Mailbox {
    Mailbox::try_from(s).unwrap()
}

fn dom(s: &str) -> Host {
    Host::try_from(s).unwrap()
}

#[test]
fn simple_commands() {
    kat(b"DATA\r\n", Command::Data, b"DATA\r\n");
    kat(b"data\r\n", Command::Data, b"DATA\r\n");
    kat(b"RSET\r\n", Command::Rset, b"RSET\r\n");
    kat(b"QUIT  \r\n", Command::Quit, b"QUIT\r\n");
    kat(b"StartTLS\r\n", Command::StartTls, b"STARTTLS\r\n");
    kat(b"NOOP\r\n", Command::Noop(None), b"NOOP\r\n");
    kat(
        b"NOOP hello there\r\n",
        Command::Noop(Some(Argument::try_from("hello there").unwrap())),
        b"NOOP hello there\r\n",
    );
    kat(b"HELP\r\n", Command::Help(None), b"HELP\r\n");
    kat(
        b"help mail\r\n",
        Command::Help(Some(Argument::try_from("mail").unwrap())),
        b"HELP mail\r\n",
    );
    kat(
        b"VRFY Smith\r\n",
        Command::Vrfy(Argument::try_from("Smith").unwrap()),
        b"VRFY Smith\r\n",
    );
    kat(
        b"EXPN Example-People\r\n",
        Command::Expn(Argument::try_from("Example-People").unwrap()),
        b"EXPN Example-People\r\n",
    );
}

#[test]
fn greetings() {
    kat(
        b"EHLO bar.com\r\n",
        Command::Ehlo(dom("bar.com")),
        b"EHLO bar.com\r\n",
    );
    kat(b"helo foo\r\n", Command::Helo(dom("foo")), b"HELO foo\r\n");
    kat(
        b"LHLO mx.example\r\n",
        Command::Lhlo(dom("mx.example")),
        b"LHLO mx.example\r\n",
    );
    kat(
        b"EHLO [192.0.2.1]\r\n",
        Command::Ehlo(Host::Literal(AddressLiteral::Ipv4([192, 0, 2, 1].into()))),
        b"EHLO [192.0.2.1]\r\n",
    );
    kat(
        b"EHLO [IPv6:2001:DB8::1]\r\n",
        Command::Ehlo(Host::Literal(AddressLiteral::Ipv6(
            "2001:db8::1".parse().unwrap(),
        ))),
        b"EHLO [IPv6:2001:db8::1]\r\n",
    );
}

#[test]
fn mail_and_rcpt() {
    kat(
        b"MAIL FROM:<Smith@bar.com>\r\n",
        Command::Mail {
            from: ReversePath::Mailbox(mbox("Smith@bar.com")),
            params: MailParameters::default(),
        },
        b"MAIL FROM:<Smith@bar.com>\r\n",
    );
    kat(
        b"mail from: <>\r\n",
        Command::Mail {
            from: ReversePath::Null,
            params: MailParameters::default(),
        },
        b"MAIL FROM:<>\r\n",
    );
    let mut p = MailParameters::default();
    p.size = Some(12345);
    p.body = Some(BodyType::EightBitMime);
    kat(
        b"MAIL FROM:<a@b.c> body=8bitmime  SIZE=12345 \r\n",
        Command::Mail {
            from: ReversePath::Mailbox(mbox("a@b.c")),
            params: p,
        },
        b"MAIL FROM:<a@b.c> SIZE=12345 BODY=8BITMIME\r\n",
    );
    let mut p = RcptParameters::default();
    p.notify = Some(Notify {
        success: true,
        failure: false,
        delay: true,
    });
    p.orcpt = Some(OriginalRecipient::new("rfc822", "Bob+x@example.org").unwrap());
    kat(
        b"RCPT TO:<@hosta.int,@jkl.org:userc@d.bar.org> NOTIFY=delay,SUCCESS ORCPT=rfc822;Bob+2Bx@example.org\r\n",
        Command::Rcpt { to: ForwardPath::Mailbox(mbox("userc@d.bar.org")), params: p },
        b"RCPT TO:<userc@d.bar.org> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;Bob+2Bx@example.org\r\n",
    );
    kat(
        b"RCPT TO:<postMaster>\r\n",
        Command::Rcpt {
            to: ForwardPath::Postmaster,
            params: RcptParameters::default(),
        },
        b"RCPT TO:<Postmaster>\r\n",
    );
    kat(
        b"RCPT TO:<\"john doe\"@example.com>\r\n",
        Command::Rcpt {
            to: ForwardPath::Mailbox(Mailbox::new(
                LocalPart::try_from("john doe").unwrap(),
                dom("example.com"),
            )),
            params: RcptParameters::default(),
        },
        b"RCPT TO:<\"john doe\"@example.com>\r\n",
    );
}

#[test]
fn auth_and_bdat() {
    kat(
        b"BDAT 1000\r\n",
        Command::Bdat {
            size: 1000,
            last: false,
        },
        b"BDAT 1000\r\n",
    );
    kat(
        b"bdat 0 last\r\n",
        Command::Bdat {
            size: 0,
            last: true,
        },
        b"BDAT 0 LAST\r\n",
    );
    kat(
        b"AUTH plain AHRlc3QAdGVzdA==\r\n",
        Command::Auth {
            mechanism: mailwire_core::sasl::Mechanism::Plain,
            initial_response: Some(mailwire_core::Secret::new(b"\0test\0test".to_vec())),
        },
        b"AUTH PLAIN AHRlc3QAdGVzdA==\r\n",
    );
    kat(
        b"AUTH LOGIN =\r\n",
        Command::Auth {
            mechanism: mailwire_core::sasl::Mechanism::Login,
            initial_response: Some(mailwire_core::Secret::new(Vec::new())),
        },
        b"AUTH LOGIN =\r\n",
    );
    let _ = parse(b"AUTH CRAM-MD5\r\n");
    let _ = utf8();
}
