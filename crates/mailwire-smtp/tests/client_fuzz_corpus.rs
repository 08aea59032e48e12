//! Replays the seed corpus of the `smtp_client` fuzz target through the same checks.

use std::fs;
use std::path::Path;

#[test]
fn smtp_client_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/smtp_client");
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        mailwire_smtp::fuzzing::client::client(&data);
        count += 1;
    }
    assert!(count >= 5, "only {count} seed files in {}", dir.display());
}

#[test]
fn the_checks_hold_on_edge_inputs() {
    for data in [
        &b""[..],
        b"\x00",
        b"\xff",
        b"\x01\xfe\xfe\xfe",
        b"\x03220 x\r\n\xff250-x\r\n250-PIPELINING\r\n250 CHUNKING\r\n\xfe\xfe",
        b"\x1f220 x\r\n\xff250 STARTTLS\r\n",
    ] {
        mailwire_smtp::fuzzing::client::client(data);
    }
}
