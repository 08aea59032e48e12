//! Known-answer tests for the SMTP reply codec: the server replies of RFC 5321 Appendix D,
//! the RFC 2034 example, EHLO replies as real servers send them, and malformed replies.

use mailwire_core::sasl::Mechanism;
use mailwire_smtp::parse::{ReplyError, ReplyLimits, parse_reply};
use mailwire_smtp::types::{Capability, EhloError, EhloReply, EnhancedCode, Reply, ReplyCode};

fn limits() -> ReplyLimits {
    ReplyLimits::default()
}

/// Parses every reply in `wire`, which must be whole replies back to back.
fn parse_all(wire: &[u8]) -> Vec<Reply> {
    let mut out = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let (reply, used) = parse_reply(rest, &limits())
            .unwrap_or_else(|e| panic!("{e} at {:?}", String::from_utf8_lossy(rest)))
            .unwrap_or_else(|| panic!("incomplete at {:?}", String::from_utf8_lossy(rest)));
        out.push(reply);
        rest = &rest[used..];
    }
    out
}

fn summary(reply: &Reply) -> (u16, Option<String>, Vec<&str>) {
    (
        reply.code().as_u16(),
        reply.enhanced().map(|e| e.to_string()),
        reply.lines().collect(),
    )
}

fn ehlo(wire: &[u8]) -> EhloReply {
    let (reply, used) = parse_reply(wire, &limits()).unwrap().unwrap();
    assert_eq!(used, wire.len());
    EhloReply::from_reply(&reply).unwrap()
}

#[test]
fn rfc5321_appendix_d1_server_replies() {
    let wire = b"220 foo.com Simple Mail Transfer Service Ready\r\n\
        250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n\
        250 OK\r\n250 OK\r\n550 No such user here\r\n250 OK\r\n\
        354 Start mail input; end with <CRLF>.<CRLF>\r\n250 OK\r\n\
        221 foo.com Service closing transmission channel\r\n";
    let replies = parse_all(wire);
    let got: Vec<_> = replies.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (
                220,
                None,
                vec!["foo.com Simple Mail Transfer Service Ready"]
            ),
            (
                250,
                None,
                vec!["foo.com greets bar.com", "8BITMIME", "SIZE", "DSN", "HELP"]
            ),
            (250, None, vec!["OK"]),
            (250, None, vec!["OK"]),
            (550, None, vec!["No such user here"]),
            (250, None, vec!["OK"]),
            (354, None, vec!["Start mail input; end with <CRLF>.<CRLF>"]),
            (250, None, vec!["OK"]),
            (
                221,
                None,
                vec!["foo.com Service closing transmission channel"]
            ),
        ]
    );
    assert!(replies[4].is_permanent() && replies[6].is_intermediate());

    let caps = EhloReply::from_reply(&replies[1]).unwrap();
    assert_eq!(caps.domain.as_str(), "foo.com");
    assert_eq!(caps.greeting.as_str(), "greets bar.com");
    assert_eq!(
        caps.capabilities.as_slice(),
        [
            Capability::EightBitMime,
            Capability::Size(None),
            Capability::Dsn,
            Capability::Help
        ]
    );
    assert_eq!(caps.capabilities.size(), Some(None));

    // The encoder writes back exactly these bytes: they are already canonical.
    let mut out = Vec::new();
    for reply in &replies {
        reply.encode(&mut out);
    }
    assert_eq!(out, wire);
}

#[test]
fn rfc5321_appendix_d3_d4_replies() {
    let replies = parse_all(
        b"250 xyz.com is on the air\r\n250 Mark Crispin <Admin.MRC@foo.com>\r\n\
          250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250-VRFY\r\n250 HELP\r\n",
    );
    assert_eq!(replies.len(), 3);
    // HELO's reply read as an EHLO reply: a name and a greeting, no extensions.
    let helo = EhloReply::from_reply(&replies[0]).unwrap();
    assert_eq!(
        (
            helo.domain.as_str(),
            helo.greeting.as_str(),
            helo.capabilities.len()
        ),
        ("xyz.com", "is on the air", 0)
    );
    assert_eq!(replies[1].text(), "Mark Crispin <Admin.MRC@foo.com>");
    let caps = EhloReply::from_reply(&replies[2]).unwrap().capabilities;
    assert!(caps.contains("vrfy") && caps.contains("HELP"));
    assert_eq!(caps.get("VRFY"), Some(&Capability::Vrfy));
}

#[test]
fn rfc2034_example() {
    let wire = b"220 dbc.mtview.ca.us SMTP service ready\r\n\
        250-dbc.mtview.ca.us says hello\r\n250 ENHANCEDSTATUSCODES\r\n\
        250 2.1.0 Originator <ned@ymir.claremont.edu> ok\r\n\
        250 2.1.5 Recipient <mrose@dbc.mtview.ca.us> ok\r\n\
        550 5.1.1 Mailbox \"nosuchuser\" does not exist\r\n\
        551-5.7.1 Forwarding to remote hosts disabled\r\n\
        551 5.7.1 Select another host to act as your forwarder\r\n\
        354 Send message, ending in CRLF.CRLF.\r\n\
        250 2.6.0 Message accepted\r\n\
        221 2.0.0 Goodbye\r\n";
    let replies = parse_all(wire);
    let got: Vec<_> = replies.iter().map(summary).collect();
    let s = |x: &str| Some(x.to_owned());
    assert_eq!(
        got,
        vec![
            (220, None, vec!["dbc.mtview.ca.us SMTP service ready"]),
            (
                250,
                None,
                vec!["dbc.mtview.ca.us says hello", "ENHANCEDSTATUSCODES"]
            ),
            (
                250,
                s("2.1.0"),
                vec!["Originator <ned@ymir.claremont.edu> ok"]
            ),
            (
                250,
                s("2.1.5"),
                vec!["Recipient <mrose@dbc.mtview.ca.us> ok"]
            ),
            (
                550,
                s("5.1.1"),
                vec!["Mailbox \"nosuchuser\" does not exist"]
            ),
            (
                551,
                s("5.7.1"),
                vec![
                    "Forwarding to remote hosts disabled",
                    "Select another host to act as your forwarder"
                ]
            ),
            (354, None, vec!["Send message, ending in CRLF.CRLF."]),
            (250, s("2.6.0"), vec!["Message accepted"]),
            (221, s("2.0.0"), vec!["Goodbye"]),
        ]
    );
    let ehlo = EhloReply::from_reply(&replies[1]).unwrap();
    assert!(ehlo.capabilities.supports_enhanced_status_codes());
    let mut out = Vec::new();
    for reply in &replies {
        reply.encode(&mut out);
    }
    assert_eq!(out, wire);
    assert_eq!(
        replies[4],
        Reply::with_enhanced(550, (5, 1, 1), "Mailbox \"nosuchuser\" does not exist").unwrap()
    );
}

#[test]
fn postfix_ehlo() {
    let wire = b"250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n\
        250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n\
        250-SMTPUTF8\r\n250 CHUNKING\r\n";
    let reply = ehlo(wire);
    assert_eq!(reply.domain.as_str(), "mail.example.com");
    assert_eq!(reply.greeting.as_str(), "");
    assert_eq!(
        reply.capabilities.as_slice(),
        [
            Capability::Pipelining,
            Capability::Size(Some(10240000)),
            Capability::Vrfy,
            Capability::Etrn,
            Capability::StartTls,
            Capability::EnhancedStatusCodes,
            Capability::EightBitMime,
            Capability::Dsn,
            Capability::SmtpUtf8,
            Capability::Chunking,
        ]
    );
    let caps = &reply.capabilities;
    assert!(caps.supports_pipelining() && caps.supports_starttls() && caps.supports_chunking());
    assert!(caps.supports_8bitmime() && caps.supports_smtputf8() && caps.supports_dsn());
    assert!(!caps.supports_auth() && !caps.supports_binary_mime() && !caps.supports_requiretls());
    assert_eq!(caps.size(), Some(Some(10240000)));
    assert!(caps.auth_mechanisms().is_empty());
    assert_eq!(reply.to_reply().to_bytes(), wire);
}

#[test]
fn exim_ehlo() {
    let wire = b"250-mail.example.net Hello client.example.com [192.0.2.10]\r\n\
        250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-PIPE_CONNECT\r\n\
        250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n250-STARTTLS\r\n250-PRDR\r\n250 HELP\r\n";
    let reply = ehlo(wire);
    assert_eq!(reply.domain.as_str(), "mail.example.net");
    assert_eq!(
        reply.greeting.as_str(),
        "Hello client.example.com [192.0.2.10]"
    );
    let caps = &reply.capabilities;
    assert_eq!(caps.len(), 9);
    assert_eq!(
        caps.auth_mechanisms(),
        [&Mechanism::Plain, &Mechanism::Login]
    );
    let Some(Capability::Other(pipe_connect)) = caps.get("pipe_connect") else {
        panic!("PIPE_CONNECT kept as an unknown keyword");
    };
    assert_eq!(pipe_connect.keyword(), "PIPE_CONNECT");
    assert!(pipe_connect.params().is_empty());
    assert!(caps.contains("PRDR"));
    assert_eq!(reply.to_reply().to_bytes(), wire);
}

#[test]
fn gmail_ehlo() {
    let wire = b"250-smtp.gmail.com at your service, [203.0.113.5]\r\n250-SIZE 35882577\r\n\
        250-8BITMIME\r\n250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n\
        250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n";
    let reply = ehlo(wire);
    assert_eq!(reply.domain.as_str(), "smtp.gmail.com");
    assert_eq!(reply.greeting.as_str(), "at your service, [203.0.113.5]");
    assert_eq!(
        reply.capabilities.auth_mechanisms(),
        [
            &Mechanism::Login,
            &Mechanism::Plain,
            &Mechanism::XOAuth2,
            &Mechanism::from_name("PLAIN-CLIENTTOKEN").unwrap(),
            &Mechanism::OAuthBearer,
            &Mechanism::from_name("XOAUTH").unwrap(),
        ]
    );
    assert!(reply.capabilities.supports_mechanism(&Mechanism::XOAuth2));
    assert!(!reply.capabilities.supports_mechanism(&Mechanism::CramMd5));
    assert_eq!(reply.capabilities.size(), Some(Some(35882577)));
    assert_eq!(reply.to_reply().to_bytes(), wire);
}

/// Captured from Postfix's `smtp-sink -u nobody 127.0.0.1:PORT 5` (Postfix 3.x): note the
/// empty last line `250 `.
#[test]
fn smtp_sink_session() {
    let wire = b"220 smtp-sink ESMTP\r\n\
        250-smtp-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n\
        250-XCLIENT NAME HELO\r\n250-XFORWARD NAME ADDR PROTO HELO\r\n\
        250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250 \r\n\
        250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n\
        250 2.0.0 Ok\r\n500 5.5.1 Error: unknown command\r\n";
    let replies = parse_all(wire);
    assert_eq!(replies.len(), 7);
    assert_eq!(replies[1].line_count(), 9);
    assert_eq!(replies[1].lines().next_back(), Some(""));
    let reply = EhloReply::from_reply(&replies[1]).unwrap();
    assert_eq!(reply.domain.as_str(), "smtp-sink");
    let keywords: Vec<_> = reply.capabilities.iter().map(|c| c.keyword()).collect();
    assert_eq!(
        keywords,
        [
            "PIPELINING",
            "8BITMIME",
            "AUTH",
            "XCLIENT",
            "XFORWARD",
            "ENHANCEDSTATUSCODES",
            "DSN"
        ]
    );
    let Some(Capability::Other(xforward)) = reply.capabilities.get("XFORWARD") else {
        panic!("XFORWARD kept as an unknown keyword");
    };
    assert_eq!(xforward.params(), ["NAME", "ADDR", "PROTO", "HELO"]);
    // The empty line is dropped from the EHLO reply; what remains round-trips.
    let again = parse_reply(&reply.to_reply().to_bytes(), &limits())
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(EhloReply::from_reply(&again).unwrap(), reply);
    assert_eq!(
        summary(&replies[6]),
        (500, Some("5.5.1".into()), vec!["Error: unknown command"])
    );
}

#[test]
fn old_outlook_auth_form() {
    let reply = ehlo(
        b"250-mx.example.org Hello\r\n250-AUTH LOGIN PLAIN\r\n250-AUTH=LOGIN PLAIN\r\n250 STARTTLS\r\n",
    );
    assert_eq!(
        reply.capabilities.as_slice(),
        [
            Capability::Auth(vec![Mechanism::Login, Mechanism::Plain]),
            Capability::AuthLegacy(vec![Mechanism::Login, Mechanism::Plain]),
            Capability::StartTls,
        ]
    );
    assert_eq!(
        reply.capabilities.auth_mechanisms(),
        [&Mechanism::Login, &Mechanism::Plain]
    );
    // Only the legacy form: still AUTH.
    let only_legacy = ehlo(b"250-x\r\n250 AUTH=CRAM-MD5\r\n");
    assert!(only_legacy.capabilities.supports_auth());
    assert_eq!(
        only_legacy.capabilities.auth_mechanisms(),
        [&Mechanism::CramMd5]
    );
}

#[test]
fn server_side_ehlo_construction() {
    let mut reply = EhloReply::new("mail.example.com".try_into().unwrap());
    reply.greeting = "Hello client.example".try_into().unwrap();
    for cap in [
        Capability::Pipelining,
        Capability::Size(Some(25 << 20)),
        Capability::EightBitMime,
        Capability::SmtpUtf8,
        Capability::Chunking,
        Capability::BinaryMime,
        Capability::Dsn,
        Capability::EnhancedStatusCodes,
        Capability::StartTls,
        Capability::RequireTls,
        Capability::Auth(vec![Mechanism::Plain, Mechanism::Login]),
        Capability::new("X-UNKNOWN", &["a", "b=c"]).unwrap(),
    ] {
        reply.capabilities.push(cap);
    }
    let mut out = Vec::new();
    reply.encode(&mut out);
    assert_eq!(
        out,
        b"250-mail.example.com Hello client.example\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n\
          250-8BITMIME\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250-DSN\r\n\
          250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-REQUIRETLS\r\n250-AUTH PLAIN LOGIN\r\n\
          250 X-UNKNOWN a b=c\r\n"
    );
    assert_eq!(ehlo(&out), reply);
}

#[test]
fn ehlo_errors_and_tolerances() {
    let read =
        |wire: &[u8]| EhloReply::from_reply(&parse_reply(wire, &limits()).unwrap().unwrap().0);
    assert_eq!(
        read(b"554 5.7.1 Go away\r\n"),
        Err(EhloError::NotOk(ReplyCode::TRANSACTION_FAILED))
    );
    assert_eq!(read(b"250 \r\n"), Err(EhloError::MissingDomain));
    assert_eq!(
        read(b"250  leading space\r\n"),
        Err(EhloError::MissingDomain)
    );
    assert_eq!(read(b"250 bad\x01name\r\n"), Err(EhloError::InvalidDomain));
    // Doubled and trailing spaces, lower case and empty lines.
    let tolerant = read(b"250-x.example\r\n250-size  1000 \r\n250-\r\n250 pipelining\r\n").unwrap();
    assert_eq!(
        tolerant.capabilities.as_slice(),
        [Capability::Size(Some(1000)), Capability::Pipelining]
    );
    // A server that (against RFC 2034) puts enhanced codes on its EHLO lines.
    let coded = read(b"250-2.0.0 x.example Hi\r\n250 2.0.0 PIPELINING\r\n").unwrap();
    assert_eq!(coded.domain.as_str(), "x.example");
    assert_eq!(coded.capabilities.as_slice(), [Capability::Pipelining]);
    // An address literal as the name.
    let literal = read(b"250 [192.0.2.1]\r\n").unwrap();
    assert!(literal.domain.to_host().is_some());
}

#[test]
fn malformed_replies() {
    let cases: &[(&[u8], ReplyError)] = &[
        (
            b"250-mail.example.com\r\n251 OK\r\n",
            ReplyError::CodeMismatch {
                first: ReplyCode::OK,
                found: ReplyCode::USER_NOT_LOCAL_WILL_FORWARD,
            },
        ),
        (
            b"550-5.1.1 a\r\n450 4.1.1 b\r\n",
            ReplyError::CodeMismatch {
                first: ReplyCode::MAILBOX_UNAVAILABLE,
                found: ReplyCode::MAILBOX_UNAVAILABLE_TRANSIENT,
            },
        ),
        (b"2S0 OK\r\n", ReplyError::InvalidCode),
        (b"OK\r\n", ReplyError::InvalidCode),
        (b"\r\n", ReplyError::InvalidCode),
        (b"199 OK\r\n", ReplyError::InvalidCode),
        (b"600 OK\r\n", ReplyError::InvalidCode),
        (b"270 OK\r\n", ReplyError::InvalidCode),
        (b"+OK POP3 ready\r\n", ReplyError::InvalidCode),
        (b"250_OK\r\n", ReplyError::InvalidSeparator),
        (b"2500 OK\r\n", ReplyError::InvalidSeparator),
        (b"250 OK\n", ReplyError::BareLf),
        (b"250-first\n250 second\r\n", ReplyError::BareLf),
        (b"250-first\r\n250 second\n", ReplyError::BareLf),
        (b"250 O\rK\r\n", ReplyError::BareCr),
        (b"250 OK\r\r\n", ReplyError::BareCr),
    ];
    for (wire, error) in cases {
        assert_eq!(
            parse_reply(wire, &limits()).as_ref(),
            Err(error),
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
}

#[test]
fn incomplete_is_not_an_error() {
    for wire in [
        &b""[..],
        b"2",
        b"250",
        b"250 OK",
        b"250 OK\r",
        b"250-a\r\n",
        b"250-a\r\n250",
        b"250-a\r\n250 b\r",
    ] {
        assert_eq!(parse_reply(wire, &limits()), Ok(None), "{wire:?}");
    }
}

#[test]
fn replies_follow_each_other() {
    // A pipelined batch of replies: each parse takes exactly one.
    let wire =
        b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n554 5.5.1 Error: no valid recipients\r\n354 go\r\n";
    let replies = parse_all(wire);
    assert_eq!(
        replies
            .iter()
            .map(|r| r.code().as_u16())
            .collect::<Vec<_>>(),
        [250, 250, 554, 354]
    );
    assert_eq!(
        replies[2].enhanced(),
        Some(EnhancedCode::new(5, 5, 1).unwrap())
    );
}

#[test]
fn enhanced_code_tolerances() {
    let one = |wire: &[u8]| parse_reply(wire, &limits()).unwrap().unwrap().0;
    // A later line without the code keeps its text; the encoder adds the code back.
    let r = one(b"550-5.1.1 first\r\n550 second\r\n");
    assert_eq!(
        summary(&r),
        (550, Some("5.1.1".into()), vec!["first", "second"])
    );
    assert_eq!(r.to_bytes(), b"550-5.1.1 first\r\n550 5.1.1 second\r\n");
    // A later line with another code keeps it in its text.
    let r = one(b"550-5.1.1 first\r\n550 5.7.1 second\r\n");
    assert_eq!(r.lines().collect::<Vec<_>>(), ["first", "5.7.1 second"]);
    assert_eq!(one(&r.to_bytes()), r);
    // Only the first line decides: a code on the second line alone is text.
    let r = one(b"250-first\r\n250 2.0.0 second\r\n");
    assert_eq!(summary(&r), (250, None, vec!["first", "2.0.0 second"]));
    // A code whose class differs from the reply's, or with leading zeros, is text.
    for wire in [
        &b"250 5.1.1 odd\r\n"[..],
        b"550 5.01.1 odd\r\n",
        b"354 3.0.0 go\r\n",
    ] {
        assert_eq!(one(wire).enhanced(), None, "{wire:?}");
    }
    // The code alone, and the code with a trailing space.
    for wire in [&b"421 4.4.2\r\n"[..], b"421 4.4.2 \r\n"] {
        assert_eq!(summary(&one(wire)), (421, Some("4.4.2".into()), vec![""]));
    }
}
