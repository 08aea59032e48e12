//! Replays the seed corpus of the `smtp_server` fuzz target through the same checks.

use std::path::Path;

#[test]
fn smtp_server_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/smtp_server");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the seed corpus exists") {
        let path = entry.expect("readable directory").path();
        let data = std::fs::read(&path).expect("readable corpus file");
        mailwire_smtp::fuzzing::server::server(&data);
        count += 1;
    }
    assert!(count >= 5, "only {count} corpus files in {}", dir.display());
}
