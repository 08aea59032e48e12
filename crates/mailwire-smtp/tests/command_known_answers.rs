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
    assert_eq!(
        parse(b"AUTH cram-md5\r\n"),
        Command::Auth {
            mechanism: mailwire_core::sasl::Mechanism::CramMd5,
            initial_response: None
        }
    );
}

/// The command lines of RFC 5321 Appendix D (D.1 to D.4), all already canonical.
#[test]
fn rfc5321_appendix_d() {
    let lines: [&[u8]; 16] = [
        b"EHLO bar.com\r\n",
        b"EHLO foo.com\r\n",
        b"MAIL FROM:<Smith@bar.com>\r\n",
        b"MAIL FROM:<JQP@bar.com>\r\n",
        b"MAIL FROM:<EAK@bar.com>\r\n",
        b"RCPT TO:<Jones@foo.com>\r\n",
        b"RCPT TO:<Green@foo.com>\r\n",
        b"RCPT TO:<Brown@foo.com>\r\n",
        b"RCPT TO:<Jones@XYZ.COM>\r\n",
        b"RCPT TO:<Admin.MRC@foo.com>\r\n",
        b"DATA\r\n",
        b"QUIT\r\n",
        b"RSET\r\n",
        b"VRFY Crispin\r\n",
        b"EXPN Example-People\r\n",
        b"HELP\r\n",
    ];
    for line in lines {
        let cmd = parse(line);
        assert_eq!(cmd.to_bytes(), line, "{:?}", String::from_utf8_lossy(line));
    }
    let Command::Rcpt {
        to: ForwardPath::Mailbox(m),
        ..
    } = parse(b"RCPT TO:<Admin.MRC@foo.com>\r\n")
    else {
        panic!("not a RCPT")
    };
    assert_eq!(m.local_part.as_str(), "Admin.MRC");
    assert_eq!(m.domain, Host::Domain(Domain::try_from("foo.com").unwrap()));
}

fn rcpt_mailbox(wire: &[u8]) -> Mailbox {
    match parse(wire) {
        Command::Rcpt {
            to: ForwardPath::Mailbox(m),
            ..
        } => m,
        other => panic!("{other:?}"),
    }
}

#[test]
fn quoted_local_parts() {
    // Decoded on input; re-quoted with the minimum quoting on output.
    let cases: [(&[u8], &str, &[u8]); 6] = [
        (
            b"RCPT TO:<\"john doe\"@example.com>\r\n",
            "john doe",
            b"RCPT TO:<\"john doe\"@example.com>\r\n",
        ),
        (
            b"RCPT TO:<\"Joe\\,Smith\"@example.com>\r\n",
            "Joe,Smith",
            b"RCPT TO:<\"Joe,Smith\"@example.com>\r\n",
        ),
        (
            b"RCPT TO:<\"a\\\"b\\\\c\"@example.com>\r\n",
            "a\"b\\c",
            b"RCPT TO:<\"a\\\"b\\\\c\"@example.com>\r\n",
        ),
        (
            b"RCPT TO:<\"plain\"@example.com>\r\n",
            "plain",
            b"RCPT TO:<plain@example.com>\r\n",
        ),
        (
            b"RCPT TO:<\"\"@example.com>\r\n",
            "",
            b"RCPT TO:<\"\"@example.com>\r\n",
        ),
        (
            b"RCPT TO:<\"a@b\"@example.com>\r\n",
            "a@b",
            b"RCPT TO:<\"a@b\"@example.com>\r\n",
        ),
    ];
    for (wire, local, canonical) in cases {
        let m = rcpt_mailbox(wire);
        assert_eq!(m.local_part.as_str(), local);
        let cmd = parse(wire);
        assert_eq!(cmd.to_bytes(), canonical);
        assert_eq!(parse(canonical), cmd);
    }
    // A dot-string that is not one (leading, trailing or double dots) is quoted.
    let lp = LocalPart::try_from("a..b").unwrap();
    assert!(lp.needs_quoting());
    let cmd = Command::Rcpt {
        to: ForwardPath::Mailbox(Mailbox::new(lp, dom("x.org"))),
        params: RcptParameters::default(),
    };
    assert_eq!(cmd.to_bytes(), b"RCPT TO:<\"a..b\"@x.org>\r\n");
}

#[test]
fn address_literals() {
    let v4 = rcpt_mailbox(b"RCPT TO:<a@[010.0.0.255]>\r\n");
    assert_eq!(
        v4.domain,
        Host::Literal(AddressLiteral::Ipv4([10, 0, 0, 255].into()))
    );
    let v6 = rcpt_mailbox(b"RCPT TO:<a@[ipv6:::ffff:192.0.2.1]>\r\n");
    assert_eq!(
        v6.domain,
        Host::Literal(AddressLiteral::Ipv6("::ffff:192.0.2.1".parse().unwrap()))
    );
    let g = rcpt_mailbox(b"RCPT TO:<a@[x-tag:some:thing]>\r\n");
    assert_eq!(
        g.domain,
        Host::Literal(AddressLiteral::General(
            GeneralLiteral::new("x-tag", "some:thing").unwrap()
        ))
    );
    assert_eq!(g.to_string(), "a@[x-tag:some:thing]");
    assert!(GeneralLiteral::new("IPV6", "1").is_err());
    for bad in [
        &b"RCPT TO:<a@[256.0.0.1]>\r\n"[..],
        b"RCPT TO:<a@[1.2.3]>\r\n",
        b"RCPT TO:<a@[IPv6:1::2::3]>\r\n",
        b"RCPT TO:<a@[IPv6:12345::]>\r\n",
        b"RCPT TO:<a@[1.2.3.4>\r\n",
        b"RCPT TO:<a@[]>\r\n",
        b"EHLO [1.2.3.4.5]\r\n",
    ] {
        assert!(
            parse_command(bad, &opts()).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn utf8_addresses() {
    let wire = "MAIL FROM:<José@bücher.example> SMTPUTF8\r\n".as_bytes();
    let err = parse_command(wire, &opts()).unwrap_err();
    assert_eq!(
        err.kind(),
        &mailwire_smtp::parse::CommandErrorKind::Utf8NotEnabled
    );
    assert_eq!((err.reply_code(), err.enhanced_code()), (553, "5.6.7"));
    let cmd = parse_with(wire, &utf8());
    let Command::Mail {
        from: ReversePath::Mailbox(m),
        params,
    } = &cmd
    else {
        panic!("{cmd:?}")
    };
    assert_eq!(m.local_part.as_str(), "José");
    assert!(m.needs_smtputf8() && cmd.needs_smtputf8() && params.smtputf8);
    assert_eq!(cmd.to_bytes(), wire);
    // UTF-8 quoted local part and UTF-8 domain alone.
    let q = parse_with("RCPT TO:<\"日本 語\"@example.com>\r\n".as_bytes(), &utf8());
    assert!(q.needs_smtputf8());
    let d = parse_with("EHLO münchen.de\r\n".as_bytes(), &utf8());
    assert!(d.needs_smtputf8());
    assert!(parse_command("EHLO münchen.de\r\n".as_bytes(), &opts()).is_err());
    // ASCII commands do not need it.
    assert!(!parse(b"MAIL FROM:<a@b> SMTPUTF8\r\n").needs_smtputf8());
    // Invalid UTF-8 is refused even in SMTPUTF8 mode.
    assert!(parse_command(b"RCPT TO:<\xff@example.com>\r\n", &utf8()).is_err());
    assert!(parse_command(b"RCPT TO:<a@ex\xc3.com>\r\n", &utf8()).is_err());
}

#[test]
fn all_mail_parameters() {
    let wire = b"MAIL FROM:<a@b.example> SIZE=1000000 BODY=BINARYMIME SMTPUTF8 REQUIRETLS RET=HDRS ENVID=QQ314159+20x AUTH=e+2Bf@b.example X-FOO=bar XYZ\r\n";
    let cmd = parse(wire);
    let Command::Mail { params: p, .. } = &cmd else {
        panic!("{cmd:?}")
    };
    assert_eq!(p.size, Some(1_000_000));
    assert_eq!(p.body, Some(BodyType::BinaryMime));
    assert!(p.smtputf8 && p.requiretls);
    assert_eq!(p.ret, Some(Ret::Hdrs));
    assert_eq!(p.envid.as_ref().unwrap().as_str(), "QQ314159 x");
    assert_eq!(p.auth, Some(ReversePath::Mailbox(mbox("e+f@b.example"))));
    assert_eq!(p.other().len(), 2);
    assert_eq!(p.other()[0].keyword.as_str(), "X-FOO");
    assert_eq!(p.other()[0].value.as_ref().unwrap().as_str(), "bar");
    assert_eq!(p.other()[1].keyword.as_str(), "XYZ");
    assert_eq!(p.other()[1].value, None);
    assert_eq!(cmd.to_bytes(), wire);

    let cmd = parse(b"MAIL FROM:<> AUTH=<> body=7bit ret=full\r\n");
    let Command::Mail { params: p, .. } = &cmd else {
        panic!("{cmd:?}")
    };
    assert_eq!(p.auth, Some(ReversePath::Null));
    assert_eq!(p.body, Some(BodyType::SevenBit));
    assert_eq!(p.ret, Some(Ret::Full));
    assert_eq!(
        cmd.to_bytes(),
        b"MAIL FROM:<> BODY=7BIT RET=FULL AUTH=<>\r\n"
    );

    // A parameter without a field cannot use a known keyword.
    let mut p = MailParameters::default();
    let size = Parameter {
        keyword: ParamKeyword::try_from("size").unwrap(),
        value: None,
    };
    assert!(p.push_other(size).is_err());
    let notify = Parameter {
        keyword: ParamKeyword::try_from("NOTIFY").unwrap(),
        value: None,
    };
    assert!(p.push_other(notify.clone()).is_ok());
    assert!(RcptParameters::default().push_other(notify).is_err());
}

#[test]
fn all_rcpt_parameters() {
    let cmd = parse(b"RCPT TO:<c@d.example> NOTIFY=NEVER ORCPT=rfc822;c+40d.example X=1\r\n");
    let Command::Rcpt { params: p, .. } = &cmd else {
        panic!("{cmd:?}")
    };
    assert_eq!(p.notify, Some(Notify::NEVER));
    let orcpt = p.orcpt.as_ref().unwrap();
    assert_eq!(
        (orcpt.addr_type(), orcpt.address()),
        ("rfc822", "c@d.example")
    );
    assert_eq!(
        cmd.to_bytes(),
        b"RCPT TO:<c@d.example> NOTIFY=NEVER ORCPT=rfc822;c@d.example X=1\r\n"
    );
    let cmd = parse(b"RCPT TO:<c@d> NOTIFY=failure,Success,DELAY\r\n");
    assert_eq!(
        cmd.to_bytes(),
        b"RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE,DELAY\r\n"
    );
}

#[test]
fn xtext() {
    use mailwire_smtp::encode::encode_xtext;
    use mailwire_smtp::parse::xtext_decode;
    let all: Vec<u8> = (0..=255).collect();
    let mut enc = Vec::new();
    encode_xtext(&all, &mut enc);
    assert!(enc.iter().all(|&b| (33..=126).contains(&b) && b != b'='));
    assert_eq!(xtext_decode(&enc).unwrap(), all);
    assert_eq!(xtext_decode(b"+2b+3d").unwrap(), b"+=");
    for bad in [
        &b"+"[..],
        b"+4",
        b"+4G",
        b"a=b",
        b"a b",
        b"\x7f",
        b"\xc3\xa9",
    ] {
        assert_eq!(xtext_decode(bad), None, "{bad:?}");
    }
}

#[test]
fn tolerated_forms() {
    // A space after the colon, several spaces between parameters, trailing spaces.
    let cmd = parse(b"MAIL FROM: <a@b>   SIZE=10   \r\n");
    assert_eq!(cmd.to_bytes(), b"MAIL FROM:<a@b> SIZE=10\r\n");
    let cmd = parse(b"rcpt to:   <a@b>\r\n");
    assert_eq!(cmd.to_bytes(), b"RCPT TO:<a@b>\r\n");
    // Source routes are dropped.
    let cmd = parse(b"MAIL FROM:<@relay.example:a@b>\r\n");
    assert_eq!(cmd.to_bytes(), b"MAIL FROM:<a@b>\r\n");
    // HELO with an address literal.
    assert_eq!(
        parse(b"HELO [127.0.0.1]\r\n").to_bytes(),
        b"HELO [127.0.0.1]\r\n"
    );
    // Postmaster with a domain is an ordinary mailbox.
    let m = rcpt_mailbox(b"RCPT TO:<Postmaster@example.org>\r\n");
    assert!(m.is_postmaster());
}

#[test]
fn secrets_stay_out_of_debug() {
    let cmd = parse(b"AUTH PLAIN AHVzZXIAaHVudGVyMg==\r\n");
    let shown = format!("{cmd:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("AHVzZXIAaHVudGVyMg"),
        "{shown}"
    );
}
