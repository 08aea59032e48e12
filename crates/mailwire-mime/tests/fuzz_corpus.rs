//! Replays the seed corpora of the `mime_*` fuzz targets through the same checks.

use std::path::Path;

#[test]
fn replay_fuzz_corpora() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut n = 0;
    for (target, check) in [
        ("mime_parse", mailwire_mime::fuzzing::parse as fn(&[u8])),
        ("mime_views", mailwire_mime::fuzzing::views as fn(&[u8])),
        (
            "mime_downgrade",
            mailwire_mime::fuzzing::downgrade as fn(&[u8]),
        ),
    ] {
        for e in std::fs::read_dir(root.join(target)).unwrap() {
            let data = std::fs::read(e.unwrap().path()).unwrap();
            check(&data);
            n += 1;
        }
    }
    assert!(n >= 2, "fuzz corpora missing");
}
