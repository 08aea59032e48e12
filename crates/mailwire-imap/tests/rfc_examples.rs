//! Known-answer tests: every example exchange of RFC 3501 sections 6 to 8 and of the
//! extension RFCs (collected in `tests/data/rfc_examples.txt`), parsed and serialized back to
//! the same bytes.
//!
//! File format: `C: line` is a command, `S: line` a response, `A: line` a line of
//! `AUTHENTICATE` data, `D: DONE` the end of `IDLE` (CRLF is added). `C~`/`S~` mark
//! lines whose keywords are not in canonical case: they must come back equal ignoring ASCII
//! case. `C!`/`S!` mark lines that are not valid IMAP (the RFCs' made-up commands) and must
//! be refused. `#` starts a comment (the RFC the lines below come from).

use bytes::Bytes;
use mailwire_imap::parse;

#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Exact,
    IgnoreCase,
    Refused,
}

fn check(line_no: usize, kind: char, expect: Expect, text: &str, failures: &mut Vec<String>) {
    let wire = Bytes::from(format!("{text}\r\n"));
    let mut out = Vec::new();
    let parsed = match kind {
        'C' => parse::command(&wire).map(|c| c.encode_into(&mut out)),
        'S' => parse::response(&wire).map(|r| r.encode_into(&mut out)),
        'A' => parse::authenticate_data(&wire).map(|a| out = a.encode()),
        'D' => parse::idle_done(&wire).map(|()| out = mailwire_imap::encode::IDLE_DONE.to_vec()),
        _ => panic!("line {line_no}: unknown kind {kind}"),
    };
    match (expect, parsed) {
        (Expect::Refused, Ok(())) => failures.push(format!("{line_no}: accepted: {text}")),
        (Expect::Refused, Err(_)) => {}
        (_, Err(e)) => failures.push(format!("{line_no}: {e}: {text}")),
        (Expect::Exact, Ok(())) if out != wire => failures.push(format!(
            "{line_no}: re-encoded as {:?}: {text}",
            String::from_utf8_lossy(&out)
        )),
        (Expect::IgnoreCase, Ok(())) if !out.eq_ignore_ascii_case(&wire) => failures.push(format!(
            "{line_no}: re-encoded as {:?}: {text}",
            String::from_utf8_lossy(&out)
        )),
        _ => {}
    }
}

#[test]
fn rfc_examples_round_trip() {
    let data = include_str!("data/rfc_examples.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for (i, line) in data.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut chars = line.chars();
        let kind = chars.next().unwrap_or(' ');
        let expect = match chars.next() {
            Some(':') => Expect::Exact,
            Some('~') => Expect::IgnoreCase,
            Some('!') => Expect::Refused,
            _ => panic!("line {}: bad marker", i + 1),
        };
        let text = line.get(3..).unwrap_or("");
        check(i + 1, kind, expect, text, &mut failures);
        count += 1;
    }
    assert!(count > 600, "the corpus lost its examples ({count})");
    assert!(
        failures.is_empty(),
        "{} of {count} examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Feeds `wire` through a framer in every two-piece split and in one-byte pieces, and checks
/// that the same single message comes out.
fn framed(role: mailwire_imap::frame::Role, wire: &[u8]) -> Bytes {
    use mailwire_imap::frame::{Frame, Framer, FramerConfig};
    let mut whole = None;
    let splits: Vec<Vec<&[u8]>> = (0..=wire.len())
        .map(|i| vec![&wire[..i], &wire[i..]])
        .chain(std::iter::once(wire.chunks(1).collect()))
        .collect();
    for pieces in splits {
        let mut f = Framer::new(FramerConfig::new(role));
        let mut frames = Vec::new();
        for p in pieces {
            f.handle_input(p);
            while let Some(fr) = f.poll_frame() {
                if let Frame::LiteralRequest { .. } = fr {
                    f.accept_literal().unwrap();
                    continue;
                }
                frames.push(fr);
            }
        }
        assert_eq!(frames.len(), 1, "{frames:?}");
        let Frame::Message(m) = frames.pop().unwrap() else {
            panic!("not a message")
        };
        assert_eq!(m.as_ref(), wire);
        if let Some(w) = &whole {
            assert_eq!(w, &m);
        }
        whole = Some(m);
    }
    whole.unwrap()
}

const MESSAGE_3501: &str = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n\
From: Fred Foobar <foobar@Blurdybloop.COM>\r\n\
Subject: afternoon meeting\r\n\
To: mooch@owatagu.siam.edu\r\n\
Message-Id: <B27397-0100000@Blurdybloop.COM>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\
\r\n\
Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";

#[test]
fn literal_examples() {
    use mailwire_imap::encode::Fragment;
    use mailwire_imap::frame::Role;
    use mailwire_imap::types::*;

    // RFC 3501 6.3.11: APPEND with a synchronizing literal of 310 octets.
    assert_eq!(MESSAGE_3501.len(), 310);
    let wire = format!("A003 APPEND saved-messages (\\Seen) {{310}}\r\n{MESSAGE_3501}\r\n");
    let msg = framed(Role::Server, wire.as_bytes());
    let cmd = parse::command(&msg).unwrap();
    let CommandBody::Append {
        mailbox,
        flags,
        message,
        ..
    } = &cmd.body
    else {
        panic!("{cmd:?}")
    };
    assert_eq!(mailbox.as_bytes(), b"saved-messages");
    assert_eq!(flags.as_deref(), Some(&[Flag::Seen][..]));
    assert_eq!(message.data().as_ref(), MESSAGE_3501.as_bytes());
    let enc = cmd.encode();
    assert_eq!(enc.to_vec(), wire.as_bytes());
    assert!(
        matches!(enc.fragments(), [Fragment::Line(l), Fragment::Literal { mode: LiteralMode::Sync, .. }, Fragment::Line(end)]
        if l.ends_with(b"{310}\r\n") && end == b"\r\n")
    );

    // The same APPEND for a server with LITERAL+, and with LITERAL-.
    use mailwire_imap::encode::LiteralPolicy;
    let plus = cmd.encode_with(LiteralPolicy::NonSync);
    assert!(!plus.has_sync_literal());
    assert_eq!(plus.to_vec(), wire.replace("{310}", "{310+}").as_bytes());
    assert!(
        !cmd.encode_with(LiteralPolicy::LiteralMinus)
            .has_sync_literal()
    );
    let big = Command::new(
        cmd.tag.clone(),
        CommandBody::Append {
            mailbox: mailbox.clone(),
            flags: None,
            date: None,
            message: Literal::new(vec![b'x'; 4097], LiteralMode::NonSync).unwrap(),
            utf8: false,
        },
    );
    assert!(
        big.encode_with(LiteralPolicy::LiteralMinus)
            .has_sync_literal()
    );
    assert!(!big.encode().has_sync_literal());

    // RFC 3501 6.4.4: SEARCH with a literal argument.
    let wire = b"A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n";
    let cmd = parse::command(&framed(Role::Server, wire)).unwrap();
    assert!(matches!(&cmd.body, CommandBody::Search { criteria, .. } if criteria.len() == 1));
    assert_eq!(cmd.encode().to_vec(), wire);

    // RFC 3501 7.5 and RFC 7888: LOGIN with synchronizing and non-synchronizing literals.
    for wire in [
        &b"A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n"[..],
        b"A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man\r\n",
    ] {
        let cmd = parse::command(&framed(Role::Server, wire)).unwrap();
        let CommandBody::Login { username, password } = &cmd.body else {
            panic!()
        };
        assert_eq!(
            (username.as_bytes(), password.expose().as_bytes()),
            (&b"FRED FOOBAR"[..], &b"fat man"[..])
        );
        assert_eq!(cmd.encode().to_vec(), wire);
        assert_eq!(
            cmd.encode().has_sync_literal(),
            wire.windows(3).any(|w| w == b"1}\r")
        );
    }

    // RFC 3501 section 8: FETCH BODY[HEADER] answered with a 342-octet literal.
    let header = "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
From: Terry Gray <gray@cac.washington.edu>\r\n\
Subject: IMAP4rev1 WG mtg summary and minutes\r\n\
To: imap@cac.washington.edu\r\n\
cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n\
Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\
\r\n";
    assert_eq!(header.len(), 342);
    let wire = format!("* 12 FETCH (BODY[HEADER] {{342}}\r\n{header})\r\n");
    let resp = parse::response(&framed(Role::Client, wire.as_bytes())).unwrap();
    let Response::Data(Data::Fetch { items, .. }) = &resp else {
        panic!()
    };
    assert!(
        matches!(&items[..], [FetchItem::BodySection { section: Section { text: Some(SectionText::Header), .. }, data: Some(d), .. }] if d.as_bytes() == header.as_bytes())
    );
    let mut out = Vec::new();
    resp.encode_into(&mut out);
    assert_eq!(out, wire.as_bytes());

    // RFC 4315 / RFC 9208 / RFC 3516 and RFC 6855: APPEND variants.
    for wire in [
        format!("A003 APPEND saved-messages (\\Seen) {{310+}}\r\n{MESSAGE_3501}\r\n"),
        format!("A003 APPEND saved-messages ~{{310}}\r\n{MESSAGE_3501}\r\n"),
        format!(
            "A003 APPEND saved-messages (\\Seen) \"17-Jul-1996 02:44:25 -0700\" UTF8 (~{{310}}\r\n{MESSAGE_3501})\r\n"
        ),
    ] {
        let cmd = parse::command(&framed(Role::Server, wire.as_bytes())).unwrap();
        assert_eq!(cmd.encode().to_vec(), wire.as_bytes());
    }
}
