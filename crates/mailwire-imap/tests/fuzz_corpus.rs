//! Replays the seed corpora of the `imap_*` fuzz targets through the same checks.

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        check(&std::fs::read(&path).expect("a corpus file"));
        n += 1;
    }
    assert!(n > 0, "no corpus files in {}", dir.display());
}

#[test]
fn imap_command_corpus() {
    replay("imap_command", mailwire_imap::fuzzing::command);
}

#[test]
fn imap_response_corpus() {
    replay("imap_response", mailwire_imap::fuzzing::response);
}

#[test]
fn imap_frame_corpus() {
    replay("imap_frame", mailwire_imap::fuzzing::frame);
}
