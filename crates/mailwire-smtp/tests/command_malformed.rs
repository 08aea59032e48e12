//! Malformed command lines: each gives a typed error, the suggested reply, and the number
//! of octets to skip to reach the next line.

use mailwire_smtp::parse::{CommandErrorKind as K, CommandParseOptions, parse_command};
use mailwire_smtp::types::Command;

fn opts() -> CommandParseOptions {
    CommandParseOptions::default()
}

fn err(wire: &[u8]) -> mailwire_smtp::parse::CommandError {
    match parse_command(wire, &opts()) {
        Err(e) => e,
        other => panic!("{:?} parsed: {other:?}", String::from_utf8_lossy(wire)),
    }
}

/// `wire` (one line) fails with `kind` and reply `code`, and the error says to skip the
/// whole line.
fn bad(wire: &[u8], kind: K, code: (u16, &str)) {
    let e = err(wire);
    assert_eq!(e.kind(), &kind, "{:?}", String::from_utf8_lossy(wire));
    assert_eq!(
        (e.reply_code(), e.enhanced_code()),
        code,
        "{:?}",
        String::from_utf8_lossy(wire)
    );
    assert_eq!(e.line_len(), Some(wire.len()));
}

#[test]
fn unknown_verbs() {
    for wire in [
        &b"FOO\r\n"[..],
        b"\r\n",
        b" MAIL FROM:<a@b>\r\n",
        b"MAILX FROM:<a@b>\r\n",
        b"STARTTLSX\r\n",
    ] {
        bad(wire, K::UnknownCommand, (500, "5.5.1"));
    }
}

#[test]
fn bad_line_endings() {
    bad(b"QUIT\n", K::BareLineFeed, (500, "5.5.2"));
    bad(b"\n", K::BareLineFeed, (500, "5.5.2"));
    // A bare LF ends the line for framing; what follows is the next line.
    let input = b"MAIL FROM:<a@b>\nRCPT TO:<c@d>\r\n";
    let e = err(input);
    assert_eq!(e.kind(), &K::BareLineFeed);
    assert_eq!(e.line_len(), Some(16));
    assert!(matches!(
        parse_command(&input[16..], &opts()),
        Ok(Some((Command::Rcpt { .. }, 15)))
    ));
    // A bare CR inside a line is a syntax error, not a line end.
    assert!(parse_command(b"MAIL FROM:<a@b>\rRCPT TO:<c@d>\r\n", &opts()).is_err());
    assert!(parse_command(b"NOOP a\rb\r\n", &opts()).is_err());
    assert!(parse_command(b"QUIT\r\r\n", &opts()).is_err());
}

#[test]
fn control_characters() {
    for wire in [
        &b"NOOP a\0b\r\n"[..],
        b"VRFY \x01\r\n",
        b"MAIL FROM:<a\0@b>\r\n",
        b"RCPT TO:<\"a\0\"@b>\r\n",
        b"RCPT TO:<\"a\\\0\"@b>\r\n",
        b"EHLO a\tb\r\n",
        b"MAIL FROM:<a@b> X=\x7f\r\n",
        b"QUIT\0\r\n",
    ] {
        assert!(
            parse_command(wire, &opts()).is_err(),
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
}

#[test]
fn bad_paths() {
    let e = err(b"MAIL FROM:a@b\r\n");
    assert!(matches!(e.kind(), K::InvalidReversePath(_)), "{e:?}");
    assert_eq!((e.reply_code(), e.enhanced_code()), (501, "5.1.7"));
    let e = err(b"RCPT TO:a@b\r\n");
    assert!(matches!(e.kind(), K::InvalidForwardPath(_)), "{e:?}");
    assert_eq!((e.reply_code(), e.enhanced_code()), (501, "5.1.3"));
    for wire in [
        &b"MAIL FROM:<a@b\r\n"[..],
        b"MAIL FROM:<a>\r\n",
        b"MAIL FROM:<@b>\r\n",
        b"MAIL FROM:<a@>\r\n",
        b"MAIL FROM:<a@b.>\r\n",
        b"MAIL FROM:<a@-b>\r\n",
        b"MAIL FROM:<a@b_c.d>\r\n",
        b"MAIL FROM:<.a@b>\r\n",
        b"MAIL FROM:<a..b@c>\r\n",
        b"MAIL FROM:<a b@c>\r\n",
        b"MAIL FROM:<\"a@b>\r\n",
        b"MAIL FROM:<<a@b>>\r\n",
        b"MAIL FROM:<@x:>\r\n",
        b"MAIL FROM:<@x,a@b>\r\n",
    ] {
        let e = err(wire);
        assert!(
            matches!(e.kind(), K::InvalidReversePath(_)),
            "{:?}: {e:?}",
            String::from_utf8_lossy(wire)
        );
    }
    // MAIL needs FROM:, RCPT needs TO:.
    for wire in [
        &b"MAIL TO:<a@b>\r\n"[..],
        b"MAIL\r\n",
        b"MAIL FROM<a@b>\r\n",
        b"RCPT FROM:<a@b>\r\n",
    ] {
        let e = err(wire);
        assert!(matches!(e.kind(), K::InvalidArguments(_)), "{e:?}");
        assert_eq!(e.reply_code(), 501);
    }
    // Text glued to the path.
    assert!(matches!(
        err(b"MAIL FROM:<a@b>SIZE=1\r\n").kind(),
        K::InvalidArguments(_)
    ));
}

#[test]
fn length_limits() {
    let local = "a".repeat(65);
    let e = err(format!("RCPT TO:<{local}@b>\r\n").as_bytes());
    assert_eq!(e.kind(), &K::InvalidForwardPath("local part too long"));
    let mut o = opts();
    o.max_local_part_len = 100;
    assert!(parse_command(format!("RCPT TO:<{local}@b>\r\n").as_bytes(), &o).is_ok());

    let label = "d".repeat(63);
    let domain = [label.as_str(); 4].join("."); // 255 octets
    assert!(parse_command(format!("EHLO {domain}\r\n").as_bytes(), &opts()).is_ok());
    assert!(parse_command(format!("EHLO x{domain}\r\n").as_bytes(), &opts()).is_err());
    assert!(
        parse_command(
            format!("EHLO {}x.com\r\n", "d".repeat(63)).as_bytes(),
            &opts()
        )
        .is_err()
    );
    // 64 + 1 + 255 + 2 > 256.
    let e = err(format!("RCPT TO:<{}@{domain}>\r\n", "a".repeat(64)).as_bytes());
    assert_eq!(e.kind(), &K::InvalidForwardPath("path too long"));
}

#[test]
fn line_too_long() {
    let mut o = opts();
    o.max_line_len = 512;
    // Exactly 512 octets with CRLF is fine.
    let ok = format!("NOOP {}\r\n", "x".repeat(512 - 7));
    assert_eq!(ok.len(), 512);
    assert!(matches!(
        parse_command(ok.as_bytes(), &o),
        Ok(Some((Command::Noop(_), 512)))
    ));
    // One more is too long, and the whole line is to be skipped.
    let long = format!("NOOP {}\r\nQUIT\r\n", "x".repeat(512 - 6));
    let e = parse_command(long.as_bytes(), &o).unwrap_err();
    assert_eq!(e.kind(), &K::LineTooLong);
    assert_eq!((e.reply_code(), e.enhanced_code()), (500, "5.5.2"));
    assert_eq!(e.line_len(), Some(513));
    assert_eq!(
        parse_command(&long.as_bytes()[513..], &o),
        Ok(Some((Command::Quit, 6)))
    );
    // Without an end in sight: incomplete while below the limit, an error at the limit.
    let partial = "MAIL FROM:<a@b> X=".to_string() + &"y".repeat(400);
    assert_eq!(parse_command(partial.as_bytes(), &o), Ok(None));
    let huge = "MAIL FROM:<a@b> X=".to_string() + &"y".repeat(100_000);
    let e = parse_command(huge.as_bytes(), &o).unwrap_err();
    assert_eq!((e.kind(), e.line_len()), (&K::LineTooLong, None));
    // A huge parameter value with the default limit.
    let huge = format!("MAIL FROM:<a@b> X={}\r\n", "y".repeat(20_000));
    assert_eq!(err(huge.as_bytes()).kind(), &K::LineTooLong);
    // A parameter value over ParamValue::MAX_LEN within the line limit.
    let big = format!("MAIL FROM:<a@b> X={}\r\n", "y".repeat(1001));
    assert!(matches!(err(big.as_bytes()).kind(), K::InvalidArguments(_)));
}

#[test]
fn bad_parameters() {
    let p = |name| (K::InvalidParameter(name), (501, "5.5.4"));
    type Case = (&'static [u8], (K, (u16, &'static str)));
    let cases: Vec<Case> = vec![
        (b"MAIL FROM:<a@b> SIZE=x\r\n", p("SIZE")),
        (b"MAIL FROM:<a@b> SIZE\r\n", p("SIZE")),
        (b"MAIL FROM:<a@b> SIZE=\r\n", p("SIZE")),
        (b"MAIL FROM:<a@b> SIZE=99999999999999999999\r\n", p("SIZE")),
        (b"MAIL FROM:<a@b> SIZE=-1\r\n", p("SIZE")),
        (b"MAIL FROM:<a@b> BODY=9BIT\r\n", p("BODY")),
        (b"MAIL FROM:<a@b> SMTPUTF8=yes\r\n", p("SMTPUTF8")),
        (b"MAIL FROM:<a@b> REQUIRETLS=1\r\n", p("REQUIRETLS")),
        (b"MAIL FROM:<a@b> RET=ALL\r\n", p("RET")),
        (b"MAIL FROM:<a@b> ENVID=a+0Db\r\n", p("ENVID")),
        (b"MAIL FROM:<a@b> ENVID=+4\r\n", p("ENVID")),
        (b"MAIL FROM:<a@b> AUTH=nobody\r\n", p("AUTH")),
        (b"RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS\r\n", p("NOTIFY")),
        (b"RCPT TO:<a@b> NOTIFY=\r\n", p("NOTIFY")),
        (b"RCPT TO:<a@b> NOTIFY=SUCCESS,\r\n", p("NOTIFY")),
        (b"RCPT TO:<a@b> ORCPT=rfc822\r\n", p("ORCPT")),
        (b"RCPT TO:<a@b> ORCPT=;a@b\r\n", p("ORCPT")),
        (
            b"MAIL FROM:<a@b> SIZE=1 size=2\r\n",
            (K::DuplicateParameter("SIZE"), (501, "5.5.4")),
        ),
        (
            b"MAIL FROM:<a@b> SMTPUTF8 SMTPUTF8\r\n",
            (K::DuplicateParameter("SMTPUTF8"), (501, "5.5.4")),
        ),
        (
            b"RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=DELAY\r\n",
            (K::DuplicateParameter("NOTIFY"), (501, "5.5.4")),
        ),
    ];
    for (wire, (kind, code)) in cases {
        bad(wire, kind, code);
    }
    for wire in [
        &b"MAIL FROM:<a@b> -X=1\r\n"[..],
        b"MAIL FROM:<a@b> X==1\r\n",
        b"MAIL FROM:<a@b> =1\r\n",
        b"MAIL FROM:<a@b> X_Y=1\r\n",
        b"MAIL FROM:<a@b> X=\r\n",
        "MAIL FROM:<a@b> X=é\r\n".as_bytes(),
    ] {
        let e = err(wire);
        assert!(
            matches!(e.kind(), K::InvalidArguments(_)),
            "{:?}: {e:?}",
            String::from_utf8_lossy(wire)
        );
    }
    // Unknown parameters are kept by default, refused on request.
    assert!(parse_command(b"MAIL FROM:<a@b> X-UNKNOWN=1\r\n", &opts()).is_ok());
    let mut o = opts();
    o.reject_unknown_parameters = true;
    let e = parse_command(b"MAIL FROM:<a@b> SIZE=1 X-Unknown=1\r\n", &o).unwrap_err();
    assert_eq!(e.kind(), &K::UnknownParameter("X-Unknown".into()));
    assert_eq!((e.reply_code(), e.enhanced_code()), (555, "5.5.4"));
    assert!(parse_command(b"MAIL FROM:<a@b> SIZE=1 BODY=8BITMIME\r\n", &o).is_ok());
}

#[test]
fn bad_arguments() {
    let arg = |w: &[u8]| {
        let e = err(w);
        assert!(
            matches!(e.kind(), K::InvalidArguments(_)),
            "{:?}: {e:?}",
            String::from_utf8_lossy(w)
        );
        assert_eq!((e.reply_code(), e.enhanced_code()), (501, "5.5.4"));
    };
    for w in [
        &b"DATA x\r\n"[..],
        b"QUIT now\r\n",
        b"RSET x\r\n",
        b"STARTTLS x\r\n",
        b"EHLO\r\n",
        b"EHLO a b\r\n",
        b"HELO a@b\r\n",
        b"VRFY\r\n",
        b"EXPN \r\n",
        b"BDAT\r\n",
        b"BDAT x\r\n",
        b"BDAT 10 FIRST\r\n",
        b"BDAT -1\r\n",
        b"BDAT 99999999999999999999999\r\n",
        b"AUTH\r\n",
        b"AUTH PLAIN a b\r\n",
        b"AUTH PLAIN abc\r\n",
        b"AUTH PLAIN ====\r\n",
        b"AUTH PL@IN\r\n",
        b"AUTH ABCDEFGHIJKLMNOPQRSTU\r\n",
        "NOOP é\r\n".as_bytes(),
    ] {
        arg(w);
    }
}

#[test]
fn errors_do_not_need_the_next_line() {
    // Pipelined input: a bad line between good ones is skipped on its own.
    let input = b"EHLO a\r\nMAIL FROM:<broken\r\nRCPT TO:<c@d>\r\n";
    let o = opts();
    let (_, n1) = parse_command(input, &o).unwrap().unwrap();
    let e = parse_command(&input[n1..], &o).unwrap_err();
    let n2 = e.line_len().unwrap();
    assert_eq!(&input[n1..n1 + n2], b"MAIL FROM:<broken\r\n");
    assert!(matches!(
        parse_command(&input[n1 + n2..], &o),
        Ok(Some((Command::Rcpt { .. }, _)))
    ));
}
