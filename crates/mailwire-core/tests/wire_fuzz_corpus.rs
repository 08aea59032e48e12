//! Replays the seed corpora of the fuzz targets `core_line` and `core_dot` through the same
//! checks the fuzzer runs.

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a readable corpus directory").path();
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(&data);
        count += 1;
    }
    assert!(count >= 3, "the {target} corpus has only {count} files");
}

#[test]
fn core_line_corpus() {
    replay("core_line", mailwire_core::fuzzing::line::check);
}

#[test]
fn core_dot_corpus() {
    replay("core_dot", mailwire_core::fuzzing::dot::check);
}
