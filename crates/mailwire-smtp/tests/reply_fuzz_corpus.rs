//! Replays the seed corpus of the `smtp_reply` fuzz target through the same checks.

use std::fs;
use std::path::Path;

#[test]
fn smtp_reply_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/smtp_reply");
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        mailwire_smtp::fuzzing::reply::reply(&data);
        count += 1;
    }
    assert!(count >= 5, "only {count} seed files in {}", dir.display());
}
