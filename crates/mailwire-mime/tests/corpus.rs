//! The shipped corpus (tests/data): our parse agrees with Python's `email` package on
//! structure, addresses, file names and decoded bodies, and the fuzzing checks hold.

mod common;

use mailwire_mime::Message;

#[test]
fn corpus_agrees_with_python() {
    let python = common::python_available();
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(common::data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        n += 1;
        let data = std::fs::read(&path).unwrap();
        mailwire_mime::fuzzing::parse(&data);
        mailwire_mime::fuzzing::views(&data);
        if !python {
            continue;
        }
        let msg = Message::parse(&data[..]).unwrap();
        let mut ours = common::our_dump(&msg);
        if path.ends_with("missing_final_boundary.eml") {
            // A known, deliberate difference: without a close delimiter the last part
            // runs to the end of the data, final line break included (as IMAP servers
            // report it); Python drops that line break.
            let last = ours
                .iter_mut()
                .rev()
                .find(|l| l.starts_with("BODY "))
                .unwrap();
            assert!(last.ends_with("0d0a"), "last part keeps its final CRLF");
            last.truncate(last.len() - 4);
        }
        let theirs = common::python_dump(&data);
        let kinds = ["PART", "BODY", "FILENAME", "ADDR", "GROUP"];
        assert_eq!(
            common::only(&ours, &kinds),
            common::only(&theirs, &kinds),
            "{} differs from Python",
            path.display()
        );
        if let (Some(h), Some(theirs)) = (
            msg.root().header("subject"),
            common::python_header(&theirs, "r", "subject"),
        ) {
            assert_eq!(
                common::collapse(&h.text()),
                theirs,
                "{} subject",
                path.display()
            );
        }
    }
    assert!(n >= 14, "corpus files missing: {n}");
}
