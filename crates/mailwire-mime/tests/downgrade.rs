//! `to_seven_bit` judged by Python's `email` package: for every corpus message made 8
//! bit (its text parts re-encoded as raw UTF-8) and a few written to be hard, the
//! converted message is ASCII and Python decodes every leaf part of it to the same
//! octets as it decodes from the original.

mod common;

use common::{data_dir, python_available, python_script};
use mailwire_mime::{Downgrade, to_seven_bit};

fn leaves(raw: &[u8]) -> Vec<String> {
    python_script("leaves_dump.py", raw)
}

fn check(name: &str, raw: &[u8]) -> bool {
    match to_seven_bit(raw) {
        Downgrade::Unchanged => {
            assert!(raw.is_ascii(), "{name}: Unchanged but not ASCII");
            false
        }
        Downgrade::Converted(out) => {
            assert!(out.is_ascii(), "{name}: not ASCII");
            assert_eq!(
                leaves(&out),
                leaves(raw),
                "{name}: Python decodes otherwise"
            );
            true
        }
        Downgrade::CannotConvert(why) => {
            // Only for what the module says it cannot do.
            assert!(
                why.contains("header") || why.contains("outside") || why.contains("apart"),
                "{name}: {why}"
            );
            false
        }
        other => panic!("{name}: {other:?}"),
    }
}

/// Makes a message 8 bit: UTF-8 text appended at its end (the last part's body, or the
/// epilogue of a multipart, which cannot be converted and must be said so).
fn with_8bit_body(raw: &[u8]) -> Vec<u8> {
    let mut out = raw.to_vec();
    out.extend_from_slice("\r\nÅngström, naïve, 日本語 — and € at the end\r\n".as_bytes());
    out
}

#[test]
fn corpus_messages_with_8_bit_bodies_decode_the_same_in_python() {
    if !python_available() {
        return;
    }
    let mut converted = 0;
    let mut files: Vec<_> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    for path in files {
        let raw = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        check(&name, &raw);
        if check(&format!("{name} + 8-bit tail"), &with_8bit_body(&raw)) {
            converted += 1;
        }
    }
    assert!(converted >= 5, "only {converted} corpus messages converted");
}

#[test]
fn hard_cases_decode_the_same_in_python() {
    if !python_available() {
        return;
    }
    let cases: &[(&str, &str)] = &[
        (
            "lf line ends, no CTE field",
            "Content-Type: text/plain; charset=utf-8\n\nligne 1 é\nligne 2 \u{00e8}  \n",
        ),
        (
            "trailing spaces and a lone dot",
            "Content-Type: text/plain; charset=utf-8\r\n\r\nfin é   \r\n.\r\nx\t\r\n",
        ),
        (
            "binary attachment",
            "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: binary\r\n\r\n\u{0089}PNG\u{00ff}\u{0000}\r\n--zz--\r\n",
        ),
        (
            "nested alternative inside mixed",
            "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nplain ü\r\n--i\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html ü</p>\r\n--i--\r\n--o\r\nContent-Type: text/plain\r\n\r\nascii\r\n--o--\r\n",
        ),
        (
            "attached message with 8-bit body",
            "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSubject: inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ninnér\r\n",
        ),
    ];
    for (name, raw) in cases {
        assert!(check(name, raw.as_bytes()), "{name}: not converted");
    }
}
