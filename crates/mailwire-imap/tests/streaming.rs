//! Large literals handed out in pieces: a 5 MiB APPEND read by a server, a 5 MiB BODY[]
//! read by a client, fed in arbitrary pieces.

use bytes::{Bytes, BytesMut};
use mailwire_imap::frame::{Frame, Framer, FramerConfig, Role};
use mailwire_imap::parse;
use mailwire_imap::types::*;

fn big(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"The quick brown fox\r\n"[i % 21]).collect()
}

#[test]
fn streamed_append() {
    let message = big(5 << 20);
    let mut wire = format!(
        "A7 APPEND Archive (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {{{}}}\r\n",
        message.len()
    )
    .into_bytes();
    wire.extend_from_slice(&message);
    wire.extend_from_slice(b"\r\nA8 NOOP\r\n");

    let config = FramerConfig::new(Role::Server)
        .max_literal(64 << 20)
        .max_message(1 << 20)
        .stream_literals_from(Some(64 << 10));
    let mut f = Framer::new(config);
    let mut head = None;
    let mut data = BytesMut::new();
    let mut chunks = 0;
    let mut rest = Vec::new();
    for piece in wire.chunks(8191) {
        f.handle_input(piece);
        while let Some(frame) = f.poll_frame() {
            match frame {
                Frame::LiteralRequest { length, .. } => {
                    assert_eq!(length as usize, message.len());
                    f.accept_literal().unwrap();
                }
                Frame::StreamHead { text, length } => {
                    let h = parse::append_head(&text).unwrap();
                    assert_eq!(h.length, length);
                    head = Some(h);
                }
                Frame::StreamChunk { data: d, .. } => {
                    // The framer never buffers more than what arrived in one piece.
                    assert!(d.len() <= 8191);
                    data.extend_from_slice(&d);
                    chunks += 1;
                }
                Frame::StreamTail(t) => parse::append_tail(head.as_ref().unwrap(), &t).unwrap(),
                Frame::Message(m) => rest.push(parse::command(&m).unwrap()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let head = head.unwrap();
    assert_eq!(head.tag.as_str(), "A7");
    assert_eq!(head.mailbox.as_bytes(), b"Archive");
    assert_eq!(head.flags, Some(vec![Flag::Seen]));
    assert!(head.date.is_some());
    assert_eq!(data.as_ref(), &message[..]);
    assert!(chunks > 600);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].body, CommandBody::Noop);
}

#[test]
fn streamed_fetch_body() {
    let body = big(5 << 20);
    let mut wire = format!(
        "* 12 FETCH (UID 99 FLAGS (\\Seen) BODY[] {{{}}}\r\n",
        body.len()
    )
    .into_bytes();
    wire.extend_from_slice(&body);
    wire.extend_from_slice(b" RFC822.SIZE 42)\r\n* 13 EXISTS\r\n");

    let config = FramerConfig::new(Role::Client)
        .max_literal(64 << 20)
        .stream_literals_from(Some(1 << 20));
    for piece_size in [1 << 16, 4097] {
        let mut f = Framer::new(config.clone());
        let mut head = None;
        let mut tail = None;
        let mut data = Vec::new();
        let mut messages = Vec::new();
        for piece in wire.chunks(piece_size) {
            f.handle_input(piece);
            while let Some(frame) = f.poll_frame() {
                match frame {
                    Frame::StreamHead { text, .. } => {
                        head = Some(parse::fetch_head(&text).unwrap())
                    }
                    Frame::StreamChunk { data: d, .. } => data.extend_from_slice(&d),
                    Frame::StreamTail(t) => tail = Some(parse::fetch_tail(&t).unwrap()),
                    Frame::Message(m) => messages.push(parse::response(&m).unwrap()),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        let head = head.unwrap();
        assert_eq!(head.seq.map(|n| n.get()), Some(12));
        assert_eq!(head.items.len(), 2);
        assert!(matches!(
            head.streamed,
            parse::StreamedItem::BodySection { origin: None, .. }
        ));
        assert_eq!(head.length as usize, body.len());
        assert_eq!(data, body);
        assert_eq!(tail.unwrap().items, vec![FetchItem::Rfc822Size(42)]);
        assert_eq!(messages, vec![Response::Data(Data::Exists(13))]);
    }
}

#[test]
fn small_literals_stay_in_the_message() {
    let config = FramerConfig::new(Role::Client).stream_literals_from(Some(1 << 20));
    let mut f = Framer::new(config);
    f.handle_input(b"* 1 FETCH (BODY[] {3}\r\nabc)\r\n");
    let Some(Frame::Message(m)) = f.poll_frame() else {
        panic!()
    };
    assert!(parse::response(&m).is_ok());
    assert_eq!(
        parse::fetch_tail(&Bytes::from_static(b")\r\n"))
            .unwrap()
            .items,
        vec![]
    );
}
