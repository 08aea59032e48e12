//! Replays the seed corpus of the fuzz target `maildir_names` through the same checks.

use std::path::PathBuf;

#[test]
fn seed_corpus_passes_the_name_checks() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/maildir_names");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the seed corpus directory") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        mailwire_maildir::fuzzing::names(&data);
        count += 1;
    }
    assert!(count >= 5, "only {count} seed files in {}", dir.display());
}

#[test]
fn assorted_inputs_pass_the_name_checks() {
    // A deterministic spread of short inputs over the bytes that matter to names.
    let alphabet = b"./:,\\\0\n a1S=WM2";
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 12) as usize;
        let data: Vec<u8> = (0..len)
            .map(|i| alphabet[((seed >> (i * 4)) % alphabet.len() as u64) as usize])
            .collect();
        mailwire_maildir::fuzzing::names(&data);
    }
}
