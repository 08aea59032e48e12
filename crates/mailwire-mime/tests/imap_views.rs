//! Known answers for the IMAP views on the shipped corpus.

mod common;

use mailwire_mime::{
    BodyKind, BodyStructure, BodyStructureOptions, EnvelopeAddress, Message, Section,
};

fn load(name: &str) -> Vec<u8> {
    std::fs::read(common::data_dir().join(name)).unwrap()
}

fn section(msg: &Message<'_>, spec: &str) -> Option<Vec<u8>> {
    let s = Section::parse(spec).unwrap_or_else(|| panic!("bad spec {spec}"));
    msg.section(&s).map(|b| {
        let v = b.to_vec();
        assert_eq!(v.len(), b.len());
        v
    })
}

fn addr(
    name: Option<&'static str>,
    mailbox: Option<&'static str>,
    host: Option<&'static str>,
) -> EnvelopeAddress<'static> {
    EnvelopeAddress {
        name: name.map(|s| s.as_bytes().into()),
        adl: None,
        mailbox: mailbox.map(|s| s.as_bytes().into()),
        host: host.map(|s| s.as_bytes().into()),
    }
}

#[test]
fn envelope_of_simple_message() {
    let raw = load("simple_crlf.eml");
    let m = Message::parse(&raw[..]).unwrap();
    let e = m.envelope();
    assert_eq!(
        e.date.as_deref(),
        Some(&b"Tue, 1 Jul 2003 10:52:37 +0200"[..])
    );
    // Unfolded: CRLF removed, the folding space kept.
    assert_eq!(e.subject.as_deref(), Some(&b"Hello there"[..]));
    assert_eq!(
        e.from(),
        vec![addr(Some("Alice"), Some("alice"), Some("example.org"))]
    );
    assert_eq!(e.sender(), e.from());
    assert_eq!(e.reply_to(), e.from());
    assert_eq!(
        e.to(),
        vec![addr(Some("Bob"), Some("bob"), Some("example.com"))]
    );
    assert!(e.cc().is_empty() && e.bcc().is_empty() && e.in_reply_to.is_none());
    assert_eq!(e.message_id.as_deref(), Some(&b"<1234@example.org>"[..]));
}

#[test]
fn envelope_groups_and_routes() {
    let raw = load("groups.eml");
    let m = Message::parse(&raw[..]).unwrap();
    let e = m.envelope();
    // RFC 3501: group start (NIL NIL "name" NIL), group end (NIL NIL NIL NIL).
    assert_eq!(
        e.to(),
        vec![
            addr(None, Some("undisclosed-recipients"), None),
            addr(None, None, None)
        ]
    );
    assert_eq!(
        e.cc(),
        vec![
            addr(None, Some("Team"), None),
            addr(None, Some("alice"), Some("example.org")),
            addr(Some("Bob B"), Some("bob"), Some("example.org")),
            addr(None, None, None),
            addr(None, Some("carol"), Some("example.org")),
        ]
    );
    assert_eq!(e.reply_to().len(), 1);
    assert_eq!(e.reply_to()[0].adl.as_deref(), Some(&b"@relay.example"[..]));
    assert_eq!(e.reply_to()[0].mailbox.as_deref(), Some(&b"route"[..]));
}

#[test]
fn envelope_lists_keep_their_own_addresses() {
    let raw = b"From: f@x.org\r\nSender: s@x.org\r\nReply-To: \r\nTo: t1@x.org, t2@x.org\r\n\
                Cc: c@x.org\r\nBcc: b@x.org\r\n\r\nbody";
    let m = Message::parse(&raw[..]).unwrap();
    let e = m.envelope();
    let boxes = |l: &[mailwire_mime::EnvelopeAddress<'_>]| -> Vec<String> {
        l.iter()
            .map(|a| String::from_utf8_lossy(a.mailbox.as_deref().unwrap()).into_owned())
            .collect()
    };
    assert_eq!(boxes(e.from()), ["f"]);
    assert_eq!(boxes(e.sender()), ["s"]);
    // An empty Reply-To field defaults to From, as an absent one does.
    assert_eq!(boxes(e.reply_to()), ["f"]);
    assert_eq!(boxes(e.to()), ["t1", "t2"]);
    assert_eq!(boxes(e.cc()), ["c"]);
    assert_eq!(boxes(e.bcc()), ["b"]);
    // Equality is over the lists as seen: an explicit copy of From equals the default.
    let explicit = e.clone().with_lists([
        e.from().to_vec(),
        e.sender().to_vec(),
        e.from().to_vec(),
        e.to().to_vec(),
        e.cc().to_vec(),
        e.bcc().to_vec(),
    ]);
    assert_eq!(explicit, e);
    let other = e.clone().with_lists([
        e.from().to_vec(),
        e.sender().to_vec(),
        e.from().to_vec(),
        e.to().to_vec(),
        vec![],
        e.bcc().to_vec(),
    ]);
    assert_ne!(other, e);
}

#[test]
fn envelope_keeps_encoded_words() {
    let raw = load("non_ascii.eml");
    let m = Message::parse(&raw[..]).unwrap();
    let e = m.envelope();
    assert_eq!(
        e.subject.as_deref(),
        Some(&b"=?utf-8?q?Gr=C3=BC=C3=9Fe?= und =?utf-8?b?4oKs?= 100"[..])
    );
    assert_eq!(
        e.from()[0].name.as_deref(),
        Some(&b"=?utf-8?b?SsO2cmcgTcO8bGxlcg==?="[..])
    );
    assert_eq!(e.to()[1].name.as_deref(), Some("Zoë Raw".as_bytes()));
}

fn parts<'a, 'm>(bs: &'a BodyStructure<'m>) -> &'a [BodyStructure<'m>] {
    match &bs.kind {
        BodyKind::Multipart(p) => p,
        _ => panic!("not multipart"),
    }
}

#[test]
fn bodystructure_nested() {
    let raw = load("nested_multipart.eml");
    let m = Message::parse(&raw[..]).unwrap();
    let bs = m.body_structure(&BodyStructureOptions::default());
    assert_eq!((bs.media_type, bs.media_subtype), ("multipart", "mixed"));
    assert_eq!(
        bs.params.iter().collect::<Vec<_>>(),
        [("boundary", "outer")]
    );
    let top = parts(&bs);
    assert_eq!(top.len(), 2);
    let alt = parts(&top[0]);
    let BodyKind::Text { fields, lines } = &alt[0].kind else {
        panic!()
    };
    assert_eq!((fields.size, *lines), (10, 0)); // "plain body", its CRLF is the boundary's
    assert_eq!(fields.encoding.as_ref(), b"7bit");
    let rel = parts(&alt[1]);
    assert_eq!(alt[1].params.iter().nth(1), Some(("type", "text/html")));
    let BodyKind::Basic(img) = &rel[1].kind else {
        panic!()
    };
    assert_eq!(img.id.as_deref(), Some(&b"<img1@x>"[..]));
    assert_eq!(img.encoding.as_ref(), b"base64");
    assert_eq!(img.size, 12);
    assert_eq!(
        rel[1].extension.disposition.as_ref().unwrap().kind,
        "inline"
    );
    let BodyKind::Basic(bin) = &top[1].kind else {
        panic!()
    };
    assert_eq!(bin.description.as_deref(), Some(&b"some data"[..]));
    let ext = &top[1].extension;
    assert_eq!(
        ext.disposition.as_ref().unwrap().params.to_vec(),
        vec![("filename".to_string(), "data.bin".to_string())]
    );
    assert_eq!(ext.language, vec![&b"en"[..], &b"de"[..]]);
    assert_eq!(
        ext.location.as_deref(),
        Some(&b"http://example.org/data.bin"[..])
    );

    // Sections.
    assert_eq!(section(&m, "1.1").unwrap(), b"plain body");
    assert_eq!(section(&m, "1.2.2").unwrap(), b"iVBORw0KGgo=");
    assert_eq!(
        section(&m, "1.2.2.MIME").unwrap(),
        b"Content-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    );
    assert!(section(&m, "1.3").is_none());
    assert!(
        section(&m, "2.HEADER").is_none(),
        "HEADER only on message/rfc822 parts"
    );
    let text = section(&m, "TEXT").unwrap();
    assert!(text.starts_with(b"This is the preamble.") && text.ends_with(b"epilogue.\r\n"));
    assert_eq!(section(&m, "").unwrap(), raw);
}

#[test]
fn sections_of_attached_messages() {
    let raw = load("attached_message.eml");
    let m = Message::parse(&raw[..]).unwrap();
    assert_eq!(section(&m, "1").unwrap(), b"see attached");
    let whole = section(&m, "2").unwrap();
    // The attached message ends with the close delimiter of its multipart, right
    // before the outer delimiter: the line break ends that close delimiter's line and
    // stays in the part, as Dovecot counts it (tests/dovecot_views.rs).
    assert!(whole.starts_with(b"From: \"Inner, Sender\"") && whole.ends_with(b"--in1--\r\n"));
    assert!(section(&m, "2.TEXT").unwrap().ends_with(b"--in1--\r\n"));
    let h = section(&m, "2.HEADER").unwrap();
    assert!(h.starts_with(b"From: \"Inner") && h.ends_with(b"boundary=in1\r\n\r\n"));
    assert_eq!(section(&m, "2.1").unwrap(), b"inner text");
    assert_eq!(
        section(&m, "2.2.HEADER").unwrap(),
        b"From: deep@example.net\r\nSubject: innermost\r\n\r\n"
    );
    assert_eq!(section(&m, "2.2.TEXT").unwrap(), b"deepest body");
    // The innermost message is not multipart: its part 1 is its body.
    assert_eq!(section(&m, "2.2.1").unwrap(), b"deepest body");
    assert!(section(&m, "2.2.2").is_none());
    assert_eq!(
        section(&m, "2.2.MIME").unwrap(),
        b"Content-Type: message/rfc822\r\n\r\n"
    );
    assert_eq!(
        section(&m, "2.HEADER.FIELDS (subject TO)").unwrap(),
        b"To: x@example.com\r\nSubject: =?utf-8?q?inner_=C3=A4?=\r\n\r\n"
    );
    let not = section(&m, "HEADER.FIELDS.NOT (From To Content-Type)").unwrap();
    assert_eq!(not, b"Subject: Fwd: inner\r\n\r\n");

    let bs = m.body_structure(&BodyStructureOptions::default());
    let top = parts(&bs);
    let BodyKind::Message {
        fields,
        envelope,
        body,
        lines,
    } = &top[1].kind
    else {
        panic!()
    };
    assert_eq!(fields.size, whole.len());
    assert_eq!(*lines, whole.iter().filter(|&&b| b == b'\n').count());
    assert_eq!(
        envelope.subject.as_deref(),
        Some(&b"=?utf-8?q?inner_=C3=A4?="[..])
    );
    assert_eq!(
        envelope.sender()[0].name.as_deref(),
        Some(&b"Inner, Sender"[..])
    );
    let inner = parts(body);
    assert!(matches!(inner[1].kind, BodyKind::Message { .. }));
}

#[test]
fn bare_lf_reports_crlf_sizes() {
    let crlf = load("simple_crlf.eml");
    let lf = load("simple_lf.eml");
    let a = Message::parse(&crlf[..]).unwrap();
    let b = Message::parse(&lf[..]).unwrap();
    assert_eq!(a.size_crlf(), crlf.len());
    assert_eq!(b.size_crlf(), crlf.len());
    let opts = BodyStructureOptions::default();
    assert_eq!(a.body_structure(&opts), b.body_structure(&opts));
    for spec in ["", "HEADER", "TEXT", "1", "HEADER.FIELDS (Subject)"] {
        assert_eq!(section(&a, spec), section(&b, spec), "{spec}");
    }
}

#[test]
fn degenerate_messages() {
    // No body and no blank line: RFC 3501 section 6.4.5 adds no blank line to
    // header fetches then (and Dovecot adds nothing to the last, unterminated line of
    // HEADER; selected fields are each ended by CRLF).
    let raw = load("headers_only.eml");
    let m = Message::parse(&raw[..]).unwrap();
    assert_eq!(
        section(&m, "HEADER").unwrap(),
        b"From: n@example.org\r\nSubject: no body"
    );
    assert_eq!(section(&m, "TEXT").unwrap(), b"");
    assert_eq!(
        section(&m, "HEADER.FIELDS (SUBJECT)").unwrap(),
        b"Subject: no body\r\n"
    );
    // A header ended by a line that is not a field, with a body: the blank line is
    // added, so that the header fetch still ends as a header does.
    let m = Message::parse(&b"Subject: cut\r\nnot a field\r\nbody"[..]).unwrap();
    assert_eq!(section(&m, "HEADER").unwrap(), b"Subject: cut\r\n\r\n");
    assert_eq!(
        section(&m, "HEADER.FIELDS (SUBJECT)").unwrap(),
        b"Subject: cut\r\n\r\n"
    );

    let raw = load("empty_multipart.eml");
    let m = Message::parse(&raw[..]).unwrap();
    let bs = m.body_structure(&BodyStructureOptions::default());
    let p = parts(&bs);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].part, None);
    assert_eq!(p[0].media_type, "text");
    // That part's body and MIME header are empty, as Dovecot serves them; there is
    // no part 2.
    assert_eq!(section(&m, "1").unwrap(), b"");
    assert_eq!(section(&m, "1.MIME").unwrap(), b"");
    assert!(section(&m, "2").is_none());
    assert!(section(&m, "1.1").is_none());

    let raw = load("digest.eml");
    let m = Message::parse(&raw[..]).unwrap();
    let bs = m.body_structure(&BodyStructureOptions::default());
    let p = parts(&bs);
    assert_eq!((p[0].media_type, p[0].media_subtype), ("message", "rfc822"));
    assert_eq!(
        section(&m, "2.HEADER").unwrap(),
        b"From: two@example.org\r\nSubject: second\r\n\r\n"
    );
}

#[test]
fn rfc2231_parameters_raw_and_decoded() {
    let raw = load("rfc2231.eml");
    let m = Message::parse(&raw[..]).unwrap();
    let pdf = m.root().children().next().unwrap();
    assert_eq!(
        pdf.raw_params(),
        mailwire_mime::Params::from_pairs([("name*", "utf-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.pdf")])
    );
    assert_eq!(pdf.param("name").as_deref(), Some("日本語.pdf"));
    assert_eq!(pdf.filename().as_deref(), Some("Résumé long name.pdf"));
}

#[test]
fn md5_on_request() {
    let raw = load("nested_multipart.eml");
    let m = Message::parse(&raw[..]).unwrap();
    let bs = m.body_structure(&BodyStructureOptions::default().with_md5(true));
    let BodyKind::Basic(f) = &parts(&bs)[1].kind else {
        panic!()
    };
    // base64(md5(00 01 .. 09))
    assert_eq!(f.md5.as_deref(), Some(&b"xWvVSA9uVBPLYqCtlmZhOg=="[..]));
    let bs = m.body_structure(&BodyStructureOptions::default());
    let BodyKind::Basic(f) = &parts(&bs)[1].kind else {
        panic!()
    };
    assert_eq!(f.md5, None);
}

#[test]
fn limits_truncate_without_error() {
    let raw = load("attached_message.eml");
    let lim = mailwire_mime::Limits::default().max_depth(1);
    let m = Message::parse_with(&raw[..], &lim).unwrap();
    assert!(m.is_truncated());
    assert!(m.root().is_multipart());
    assert!(
        m.root()
            .children()
            .nth(1)
            .unwrap()
            .attached_message()
            .is_none()
    );
    let lim = mailwire_mime::Limits::default().max_size(10);
    assert!(Message::parse_with(&raw[..], &lim).is_err());
}

#[test]
fn folded_fields_are_unfolded_in_bodystructure() {
    let raw = b"From: a@b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding:\r\n  8bit \r\n\
Content-Language: en,\r\n de ,\r\n\tfr\r\nContent-ID: <x@y>\r\n\r\nbody\r\n";
    let m = Message::parse(&raw[..]).unwrap();
    let bs = m.body_structure(&BodyStructureOptions::default());
    let BodyKind::Text { fields, .. } = &bs.kind else {
        panic!("{bs:?}");
    };
    assert_eq!(fields.encoding.as_ref(), b"8bit");
    assert_eq!(fields.id.as_deref(), Some(&b"<x@y>"[..]));
    assert_eq!(
        bs.extension.language,
        vec![&b"en"[..], &b"de"[..], &b"fr"[..]]
    );
}

#[test]
fn section_specifiers_parse_case_insensitively() {
    use mailwire_mime::SectionText;
    let s = Section::parse("header.fields.not (a \"B\")").unwrap();
    assert!(s.part.is_empty());
    assert_eq!(
        s.text,
        Some(SectionText::HeaderFieldsNot(vec!["a".into(), "B".into()]))
    );
    let s = Section::parse("1.2.Header.Fields (Subject)").unwrap();
    assert_eq!(s.part, vec![1, 2]);
    assert_eq!(
        s.text,
        Some(SectionText::HeaderFields(vec!["Subject".into()]))
    );
    assert_eq!(
        Section::parse("1.mime").unwrap().text,
        Some(SectionText::Mime)
    );
    assert_eq!(
        Section::parse("text").unwrap().text,
        Some(SectionText::Text)
    );
    assert_eq!(
        Section::parse("Header").unwrap().text,
        Some(SectionText::Header)
    );
    assert_eq!(Section::parse("MIME"), None);
    assert_eq!(Section::parse("HEADER.FIELDS ()"), None);
    assert_eq!(Section::parse("HEADER.FIELDSé (x)"), None);
    assert_eq!(Section::parse("HEADERS"), None);
}
