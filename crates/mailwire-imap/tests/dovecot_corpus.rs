//! Responses of a real Dovecot, parsed without loss: every response framed out of the
//! capture parses, and serializes back to exactly the bytes Dovecot sent.
//!
//! `tests/data/dovecot_responses.txt` was captured once with `tests/data/capture_dovecot.py`
//! (Dovecot 2.3.19, a session over a varied mailbox: FETCH BODYSTRUCTURE / ENVELOPE /
//! BODY[] / BINARY, LIST (with LIST-EXTENDED and LIST-STATUS), STATUS, SEARCH, ESEARCH, SORT,
//! THREAD, …). `live_dovecot` runs the same script against the Dovecot installed here.

use std::path::Path;
use std::process::Command;

use mailwire_imap::frame::{Frame, Framer, FramerConfig, Role};
use mailwire_imap::parse;
use mailwire_imap::types::*;

/// Parses every response of `capture`, checks the exact round trip, and returns them.
fn parse_capture(capture: &[u8]) -> Vec<Response> {
    let mut f = Framer::new(FramerConfig::new(Role::Client));
    f.handle_input(capture);
    let mut out = Vec::new();
    while let Some(frame) = f.poll_frame() {
        let Frame::Message(m) = frame else {
            panic!("unexpected {frame:?}")
        };
        let r = parse::response(&m)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&m)));
        let mut back = Vec::new();
        r.encode_into(&mut back);
        assert_eq!(String::from_utf8_lossy(&back), String::from_utf8_lossy(&m));
        out.push(r);
    }
    assert_eq!(f.buffered(), 0, "the capture ends mid-response");
    out
}

fn check_coverage(responses: &[Response]) {
    let count = |pred: &dyn Fn(&Response) -> bool| responses.iter().filter(|r| pred(r)).count();
    let fetch_has = |pred: fn(&FetchItem) -> bool| move |r: &Response| matches!(r, Response::Data(Data::Fetch { items, .. }) if items.iter().any(pred));
    assert!(count(&fetch_has(|i| matches!(i, FetchItem::BodyStructure(_)))) >= 5);
    assert!(count(&fetch_has(|i| matches!(i, FetchItem::Envelope(_)))) >= 5);
    assert!(
        count(&fetch_has(|i| matches!(
            i,
            FetchItem::BodySection { data: Some(_), .. }
        ))) >= 5
    );
    assert!(count(&fetch_has(|i| matches!(i, FetchItem::Binary { .. }))) >= 1);
    assert!(count(&|r| matches!(r, Response::Data(Data::List(_)))) >= 10);
    assert!(count(&|r| matches!(r, Response::Data(Data::Status { .. }))) >= 5);
    assert!(count(&|r| matches!(r, Response::Data(Data::Search { .. }))) >= 3);
    assert!(count(&|r| matches!(r, Response::Data(Data::ESearch { .. }))) >= 1);
    assert!(count(&|r| matches!(r, Response::Data(Data::Thread(_)))) >= 1);
    assert!(count(&|r| matches!(r, Response::Data(Data::Sort { .. }))) >= 1);
    // A nested message/rfc822 part.
    assert!(responses.iter().any(|r| matches!(r, Response::Data(Data::Fetch { items, .. })
        if items.iter().any(|i| matches!(i, FetchItem::BodyStructure(b) if format!("{b:?}").contains("Message {"))))));
}

#[test]
fn captured_dovecot_responses() {
    let responses = parse_capture(include_bytes!("data/dovecot_responses.txt"));
    assert!(responses.len() > 150);
    check_coverage(&responses);
}

/// Runs the capture script against the local Dovecot. Skips (with a reason) when Dovecot
/// or root is missing, unless `MAILWIRE_INTEROP` is set: then it fails.
#[test]
fn live_dovecot() {
    let required = std::env::var_os("MAILWIRE_INTEROP").is_some();
    let skip = |reason: &str| {
        assert!(!required, "MAILWIRE_INTEROP is set but {reason}");
        eprintln!("skipping live_dovecot: {reason}");
    };
    if !Path::new("/usr/sbin/dovecot").exists() {
        return skip("/usr/sbin/dovecot is not installed");
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !is_root {
        return skip("starting a private Dovecot needs root");
    }
    let out = std::env::temp_dir().join(format!(
        "mailwire-dovecot-capture-{}.txt",
        std::process::id()
    ));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/capture_dovecot.py");
    let status = Command::new("python3").arg(&script).arg(&out).status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("the capture script failed: {s}"),
        Err(e) => return skip(&format!("python3 could not run: {e}")),
    }
    let capture = std::fs::read(&out).expect("the capture file");
    let _ = std::fs::remove_file(&out);
    check_coverage(&parse_capture(&capture));
}
