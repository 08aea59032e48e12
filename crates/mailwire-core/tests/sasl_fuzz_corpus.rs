//! Replays the seed corpus of the `core_sasl` fuzz target through the same checks.

use std::fs;
use std::path::Path;

#[test]
fn core_sasl_corpus_passes_the_fuzz_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/core_sasl");
    let mut count = 0;
    for entry in fs::read_dir(&dir).expect("the core_sasl corpus exists") {
        let path = entry.expect("readable directory entry").path();
        let data = fs::read(&path).expect("readable corpus file");
        mailwire_core::sasl::fuzzing::check(&data);
        count += 1;
    }
    assert!(count >= 5, "the seed corpus has only {count} files");
}
