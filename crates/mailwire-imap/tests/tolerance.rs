//! What real servers send that the grammar does not allow, accepted on the client side.
//! Each case is one of the tolerances listed in the `parse` module documentation.

use bytes::Bytes;
use mailwire_imap::parse::{self, ParseError};
use mailwire_imap::types::*;

fn response(s: &str) -> Response {
    parse::response(&Bytes::copy_from_slice(s.as_bytes())).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn fetch_items(s: &str) -> Vec<FetchItem> {
    match response(s) {
        Response::Data(Data::Fetch { items, .. }) => items,
        other => panic!("not a FETCH: {other:?}"),
    }
}

#[test]
fn empty_response_text() {
    let Response::Status(s) = response("* OK\r\n") else {
        panic!()
    };
    assert_eq!(
        (s.kind, s.code, s.text.as_bytes()),
        (StatusKind::Ok, None, &b""[..])
    );
    let Response::Status(s) = response("A1 OK [READ-WRITE]\r\n") else {
        panic!()
    };
    assert_eq!(s.code, Some(Code::ReadWrite));
    let Response::Status(s) = response("A1 NO [TRYCREATE] \r\n") else {
        panic!()
    };
    assert_eq!(
        (s.code, s.text.as_bytes()),
        (Some(Code::TryCreate), &b""[..])
    );
    // No space between the code and the text.
    let Response::Status(s) = response("* OK [UIDVALIDITY 3857529045]UIDs valid\r\n") else {
        panic!()
    };
    assert_eq!(s.text.as_bytes(), b"UIDs valid");
    // A bare "+".
    assert!(matches!(response("+\r\n"), Response::Continue(c) if c.text.as_bytes().is_empty()));
}

#[test]
fn stray_spaces() {
    assert!(
        matches!(response("* SEARCH 1 2 \r\n"), Response::Data(Data::Search { numbers, .. }) if numbers.len() == 2)
    );
    assert!(
        matches!(response("* SEARCH \r\n"), Response::Data(Data::Search { numbers, .. }) if numbers.is_empty())
    );
    assert_eq!(
        fetch_items("* 1 FETCH (UID 7 )\r\n"),
        vec![FetchItem::Uid(7.try_into().unwrap())]
    );
    assert_eq!(
        fetch_items("* 1 FETCH (FLAGS (\\Seen ) UID 7)\r\n").len(),
        2
    );
    // Addresses separated by spaces.
    let items = fetch_items(
        "* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\") (NIL NIL \"c\" \"d\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
    );
    let [FetchItem::Envelope(e)] = &items[..] else {
        panic!()
    };
    assert_eq!(e.from.len(), 2);
}

#[test]
fn lower_case_keywords() {
    assert!(matches!(
        response("* ok [uidnext 4] x\r\n"),
        Response::Status(StatusResponse {
            code: Some(Code::UidNext(_)),
            ..
        })
    ));
    assert_eq!(fetch_items("* 1 fetch (flags (\\seen) uid 3)\r\n").len(), 2);
    assert!(matches!(
        response("* 3 exists\r\n"),
        Response::Data(Data::Exists(3))
    ));
}

#[test]
fn eight_bit_text() {
    let Response::Status(s) = response("* OK Grüße\r\n") else {
        panic!()
    };
    assert_eq!(s.text.to_str_lossy(), "Grüße");
    let items =
        fetch_items("* 1 FETCH (ENVELOPE (NIL \"Grüße\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n");
    let [FetchItem::Envelope(e)] = &items[..] else {
        panic!()
    };
    assert_eq!(e.subject.as_ref().unwrap().to_str_lossy(), "Grüße");
}

#[test]
fn sloppy_body_structures() {
    // NIL where a string is due (type, subtype, encoding), and `()` for no parameters.
    let items = fetch_items("* 1 FETCH (BODYSTRUCTURE (NIL NIL () NIL NIL NIL 12))\r\n");
    let [FetchItem::BodyStructure(b)] = &items[..] else {
        panic!()
    };
    let BodyStructure::Single { body, .. } = b.as_ref() else {
        panic!()
    };
    assert!(body.media_type.as_bytes().is_empty() && body.parameters.is_empty() && body.size == 12);
    // A parameter value of NIL.
    let items = fetch_items(
        "* 1 FETCH (BODY (\"text\" \"plain\" (\"charset\" NIL) NIL NIL \"7bit\" 1 1))\r\n",
    );
    assert_eq!(items.len(), 1);
    // message/rfc822 sent as a basic part, text without a line count.
    let items = fetch_items(
        "* 1 FETCH (BODYSTRUCTURE ((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 100 NIL NIL NIL NIL)(\"text\" \"plain\" NIL NIL NIL \"7bit\" 3) \"mixed\"))\r\n",
    );
    let [FetchItem::BodyStructure(b)] = &items[..] else {
        panic!()
    };
    let BodyStructure::Multi { bodies, .. } = b.as_ref() else {
        panic!()
    };
    assert!(bodies.iter().all(|b| matches!(
        b,
        BodyStructure::Single {
            body: Body {
                specific: BodySpecific::Basic,
                ..
            },
            ..
        }
    )));
}

#[test]
fn dovecot_and_exchange_body_structures() {
    // As Dovecot writes it (lower case, extension data, a disposition with parameters).
    let s = "* 3 FETCH (UID 3 BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)\
(\"application\" \"octet-stream\" (\"name\" \"a.bin\") NIL NIL \"base64\" 8 NIL (\"attachment\" (\"filename\" \"a.bin\")) NIL NIL) \
\"mixed\" (\"boundary\" \"XX\") NIL NIL NIL))\r\n";
    let r = response(s);
    let mut out = Vec::new();
    r.encode_into(&mut out);
    assert_eq!(out, s.as_bytes());
    // Exchange: language as a list, location, and extension values.
    let s = "* 1 FETCH (BODYSTRUCTURE (\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 1234 56 NIL (\"inline\" NIL) (\"en\" \"de\") \"http://x\" 7 (NIL \"x\")))\r\n";
    let r = response(s);
    let mut out = Vec::new();
    r.encode_into(&mut out);
    assert_eq!(out, s.as_bytes());
}

#[test]
fn one_digit_day() {
    let items = fetch_items("* 1 FETCH (INTERNALDATE \"1-Feb-2024 10:00:00 +0100\")\r\n");
    let [FetchItem::InternalDate(d)] = &items[..] else {
        panic!()
    };
    assert_eq!((d.date().day(), d.zone_minutes()), (1, 60));
}

#[test]
fn gmail_extensions() {
    let s = "* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334866 X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\") UID 1)\r\n";
    let items = fetch_items(s);
    assert_eq!(items[0], FetchItem::GmailThreadId(1278455344230334865));
    assert_eq!(items[1], FetchItem::GmailMsgId(1278455344230334866));
    let FetchItem::GmailLabels(labels) = &items[2] else {
        panic!()
    };
    assert_eq!(labels.len(), 4);
    assert!(matches!(&labels[0], GmailLabel::System(a) if a.as_str() == "Inbox"));
    assert!(matches!(&labels[3], GmailLabel::Label(l) if l.as_bytes() == b"Muy Importante"));
    let mut out = Vec::new();
    response(s).encode_into(&mut out);
    assert_eq!(out, s.as_bytes());
    let c = parse::command(&Bytes::from_static(
        b"a UID SEARCH X-GM-RAW \"has:attachment in:unread\"\r\n",
    ))
    .unwrap();
    assert!(
        matches!(c.body, CommandBody::Search { ref criteria, .. } if matches!(criteria[..], [SearchKey::GmailRaw(_)]))
    );
}

#[test]
fn unknown_codes_and_capabilities_are_kept() {
    let s = "* OK [X-SOMETHING some data here] hello\r\n";
    let Response::Status(st) = response(s) else {
        panic!()
    };
    let Some(Code::Other(name, Some(data))) = &st.code else {
        panic!("{st:?}")
    };
    assert_eq!(
        (name.as_str(), data.as_bytes()),
        ("X-SOMETHING", &b"some data here"[..])
    );
    // A known code with data it should not have is kept as unknown, not refused.
    let Response::Status(st) = response("* OK [UIDNEXT soon] hm\r\n") else {
        panic!()
    };
    assert!(matches!(&st.code, Some(Code::Other(n, Some(_))) if n.as_str() == "UIDNEXT"));
    let Response::Data(Data::Capability(caps)) =
        response("* CAPABILITY IMAP4rev1 X-FANCY AUTH=SCRAM-SHA-256 QUOTA=RES-STORAGE\r\n")
    else {
        panic!()
    };
    assert_eq!(caps.len(), 4);
    assert!(matches!(&caps[1], Capability::Other(a) if a.as_str() == "X-FANCY"));
    assert!(matches!(&caps[2], Capability::Auth(m) if m.as_str() == "SCRAM-SHA-256"));
    assert!(matches!(&caps[3], Capability::Other(_)));
}

#[test]
fn malformed_commands_report_their_tag() {
    for (wire, tag) in [
        (&b"A1 FROB\r\n"[..], Some("A1")),
        (b"A2 LOGIN\r\n", Some("A2")),
        (b"A3 FETCH 0 FLAGS\r\n", Some("A3")),
        (b"A4 SELECT INBOX extra\r\n", Some("A4")),
        (b"+++\r\n", None),
        (b"\r\n", None),
    ] {
        let err = parse::command(&Bytes::from_static(wire)).unwrap_err();
        assert!(matches!(err, ParseError::Syntax { .. }), "{err:?}");
        assert_eq!(
            err.tag().map(Tag::as_str),
            tag,
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
    // Cut short: incomplete, not a syntax error.
    assert_eq!(
        parse::command(&Bytes::from_static(b"A1 NOOP")),
        Err(ParseError::Incomplete)
    );
    assert_eq!(
        parse::command(&Bytes::from_static(b"A1 LOGIN {5}\r\nab")),
        Err(ParseError::Incomplete)
    );
    // Bare LF is not a line end.
    assert!(matches!(
        parse::command(&Bytes::from_static(b"A1 NOOP\n")),
        Err(ParseError::Syntax { .. })
    ));
}

#[test]
fn nesting_is_bounded() {
    let deep = format!(
        "A1 SEARCH {}ALL{}\r\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(parse::command(&Bytes::from(deep)).is_err());
    let deep = format!(
        "* 1 FETCH (BODYSTRUCTURE {}\"a\" \"b\" NIL NIL NIL \"7bit\" 1{} \"mixed\"))\r\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(parse::response(&Bytes::from(deep)).is_err());
}

#[test]
fn unknown_esearch_items_are_kept() {
    let s = "* ESEARCH (TAG \"a1\") UID MIN+ 5 X-RANGE (1 2) COUNT 3\r\n";
    let Response::Data(Data::ESearch { uid, items, .. }) = response(s) else {
        panic!()
    };
    assert!(uid);
    assert!(
        matches!(&items[0], ESearchItem::Other(a, ExtensionValue::Number(5)) if a.as_str() == "MIN+")
    );
    assert!(
        matches!(&items[1], ESearchItem::Other(a, ExtensionValue::List(l)) if a.as_str() == "X-RANGE" && l.len() == 2)
    );
    assert_eq!(items[2], ESearchItem::Count(3));
    let mut out = Vec::new();
    response(s).encode_into(&mut out);
    assert_eq!(out, s.as_bytes());
}
