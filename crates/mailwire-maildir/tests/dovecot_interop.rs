//! Interop with Dovecot: what this crate delivers, Dovecot serves byte for byte; flags
//! set by either side are seen by the other.
//!
//! Skipped with a printed reason when /usr/sbin/dovecot is missing, unless
//! `MAILWIRE_INTEROP` is set (then it fails).

#[path = "support/dovecot.rs"]
mod dovecot;
#[path = "support/tempdir.rs"]
mod tempdir;

use std::io::Write;

use dovecot::{Dovecot, Imap, fetch_flags, fetch_literal, fetch_number};
use mailwire_maildir::{Flags, Location, MailStore};

const PLAIN: &[u8] = b"From: Alice <alice@example.org>\r\n\
To: bob@example.org\r\n\
Subject: plain\r\n\
Message-ID: <1@example.org>\r\n\
\r\n\
Hello Bob.\r\n";

const DOTS: &[u8] = b"From: alice@example.org\r\n\
Subject: dots\r\n\
\r\n\
.a line starting with a dot\r\n\
..two dots\r\n\
.\r\n\
after a lone dot\r\n";

const EIGHT_BIT: &[u8] = b"From: alice@example.org\r\n\
Subject: 8bit\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Gr\xc3\xbc\xc3\x9fe, \xe2\x98\x83\r\n\
latin-1 byte: caf\xe9\r\n";

/// Stored with bare LF line ends: Dovecot serves it with CRLF, and its size with CRLF
/// must match the `,W=` this crate wrote.
const LF_ONLY: &[u8] = b"From: alice@example.org\nSubject: lf\n\nline one\nline two\n";

/// All `* n FETCH` responses, as (sequence number, response).
fn fetches(responses: Vec<Vec<u8>>) -> Vec<(u32, Vec<u8>)> {
    responses
        .into_iter()
        .filter_map(|r| {
            let text = r.strip_prefix(b"* ")?;
            let space = text.iter().position(|&b| b == b' ')?;
            let seq = std::str::from_utf8(&text[..space]).ok()?.parse().ok()?;
            text[space..].starts_with(b" FETCH (").then_some((seq, r))
        })
        .collect()
}

#[test]
fn dovecot_serves_exactly_what_we_delivered() {
    if !dovecot::available() {
        return;
    }
    let mut dovecot = Dovecot::new(&[("alice", "alicepw"), ("carol", "carolpw")]);
    let store = MailStore::open(dovecot.mail_dir()).unwrap();
    let alice = store.inbox("alice").unwrap();
    let carol = store.inbox("carol").unwrap();

    let mut delivered = Vec::new();
    for message in [PLAIN, DOTS] {
        let mut delivery = alice.begin_delivery().unwrap();
        for chunk in message.chunks(5) {
            delivery.write_all(chunk).unwrap();
        }
        delivered.push(delivery.commit().unwrap());
    }
    // The 8-bit message goes to alice and carol: written once, hard-linked.
    let mut delivery = alice.begin_delivery().unwrap();
    delivery.write_all(EIGHT_BIT).unwrap();
    let both = delivery.commit_all(&[&carol]).unwrap();
    delivered.push(both[0].clone());
    let lf = carol.deliver(LF_ONLY).unwrap();

    dovecot.start();

    // alice: exactly the three messages, byte for byte.
    let mut imap = Imap::login(dovecot.imap_addr(), "alice", "alicepw");
    assert_eq!(imap.select("INBOX"), 3, "log:\n{}", dovecot.log());
    let responses = fetches(imap.command("FETCH 1:* (RFC822.SIZE BODY.PEEK[])"));
    assert_eq!(responses.len(), 3);
    let mut served: Vec<(u32, &[u8], u64)> = responses
        .iter()
        .map(|(seq, r)| {
            let body = fetch_literal(r, "BODY[]").expect("BODY[] literal");
            let size = fetch_number(r, "RFC822.SIZE").expect("RFC822.SIZE");
            (*seq, body, size)
        })
        .collect();
    served.sort_by_key(|(_, body, _)| body.to_vec());
    let mut expected = vec![PLAIN, DOTS, EIGHT_BIT];
    expected.sort();
    for ((_, body, size), want) in served.iter().zip(&expected) {
        assert_eq!(body, want, "Dovecot served other bytes");
        assert_eq!(*size, want.len() as u64);
    }
    for d in &delivered {
        assert_eq!(d.virtual_size, d.size, "CRLF text has no bare LF");
    }

    // A flag set over IMAP shows up in our listing.
    let plain_seq = served
        .iter()
        .find(|(_, body, _)| *body == PLAIN)
        .map(|(seq, _, _)| *seq)
        .unwrap();
    imap.command(&format!("STORE {plain_seq} +FLAGS (\\Flagged \\Seen)"));
    imap.logout();

    let listed = alice.list().unwrap();
    assert_eq!(listed.len(), 3);
    let plain_entry = listed
        .iter()
        .find(|e| e.unique == delivered[0].unique)
        .expect("the PLAIN message, under its unique name");
    assert_eq!(plain_entry.location, Location::Cur);
    assert_eq!(
        plain_entry.flags,
        Flags::FLAGGED | Flags::SEEN,
        "{plain_entry:?}"
    );
    assert_eq!(alice.read_message(plain_entry).unwrap(), PLAIN);

    // A flag set by us shows up over IMAP.
    let dots_entry = listed
        .iter()
        .find(|e| e.unique == delivered[1].unique)
        .unwrap();
    alice
        .set_flags(dots_entry, dots_entry.flags | Flags::REPLIED)
        .unwrap();
    let mut imap = Imap::login(dovecot.imap_addr(), "alice", "alicepw");
    assert_eq!(imap.select("INBOX"), 3);
    let responses = fetches(imap.command("FETCH 1:* (FLAGS BODY.PEEK[])"));
    let dots_flags = responses
        .iter()
        .find(|(_, r)| fetch_literal(r, "BODY[]") == Some(DOTS))
        .and_then(|(_, r)| fetch_flags(r))
        .expect("the DOTS message with its flags");
    assert!(
        dots_flags.iter().any(|f| f == "\\Answered"),
        "{dots_flags:?}"
    );
    imap.logout();

    // carol: the hard-linked 8-bit message, and the LF message served with CRLF and the
    // size we recorded in ,W=.
    let mut imap = Imap::login(dovecot.imap_addr(), "carol", "carolpw");
    assert_eq!(imap.select("INBOX"), 2);
    let responses = fetches(imap.command("FETCH 1:* (RFC822.SIZE BODY.PEEK[])"));
    assert_eq!(responses.len(), 2);
    let crlf: Vec<u8> = String::from_utf8(LF_ONLY.to_vec())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let mut saw = (false, false);
    for (_, r) in &responses {
        let body = fetch_literal(r, "BODY[]").unwrap();
        let size = fetch_number(r, "RFC822.SIZE").unwrap();
        if body == EIGHT_BIT {
            assert_eq!(size, EIGHT_BIT.len() as u64);
            saw.0 = true;
        } else {
            assert_eq!(body, crlf.as_slice());
            assert_eq!(size, lf.virtual_size);
            assert_eq!(lf.virtual_size, crlf.len() as u64);
            saw.1 = true;
        }
    }
    assert_eq!(saw, (true, true));
    imap.logout();
}
