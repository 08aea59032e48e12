//! Listing, flags from the info suffix, reading, moving new/ to cur/, removing.

#[path = "support/tempdir.rs"]
mod tempdir;

use std::fs;
use std::io::Read;

use mailwire_maildir::{Flags, Location, Maildir, MaildirError};
use tempdir::TempDir;

#[test]
fn list_gives_unique_names_sizes_and_delivery_order() {
    let tmp = TempDir::new("read-list");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();
    let bodies: Vec<Vec<u8>> = (0..12)
        .map(|i| format!("Subject: {i}\r\n\r\n{}\n", "y".repeat(i)).into_bytes())
        .collect();
    let delivered: Vec<_> = bodies.iter().map(|b| maildir.deliver(b).unwrap()).collect();

    let listed = maildir.list().unwrap();
    assert_eq!(listed.len(), 12);
    for ((entry, d), body) in listed.iter().zip(&delivered).zip(&bodies) {
        assert_eq!(entry.unique, d.unique);
        assert_eq!(entry.location, Location::New);
        assert_eq!(entry.flags, Flags::empty());
        assert_eq!(entry.size, body.len() as u64);
        assert_eq!(entry.virtual_size, Some(body.len() as u64 + 1));
        assert_eq!(entry.path, d.path);
        assert_eq!(&maildir.read_message(entry).unwrap(), body);
    }
}

#[test]
fn files_from_other_programs_are_listed_with_their_flags() {
    let tmp = TempDir::new("read-foreign");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();
    let cur = maildir.path().join("cur");
    let new = maildir.path().join("new");
    fs::write(
        cur.join("1600000000.12345_1.otherhost:2,SRF"),
        b"seen, replied",
    )
    .unwrap();
    fs::write(cur.join("1600000001.M5P6.h,S=4:2,Ta"), b"abcd").unwrap();
    fs::write(cur.join("1600000002.M1P1.h:2,"), b"none").unwrap();
    fs::write(cur.join("1600000003.M1P1.h:1,experimental"), b"x").unwrap();
    fs::write(new.join("1600000004.M1P1.h"), b"fresh").unwrap();
    fs::write(new.join(".hidden"), b"not a message").unwrap();
    fs::create_dir(cur.join("subdir")).unwrap();

    let listed = maildir.list().unwrap();
    let summary: Vec<_> = listed
        .iter()
        .map(|e| (e.unique.as_str(), e.location, e.flags.to_string(), e.size))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "1600000000.12345_1.otherhost",
                Location::Cur,
                "FRS".to_owned(),
                13
            ),
            ("1600000001.M5P6.h,S=4", Location::Cur, "Ta".to_owned(), 4),
            ("1600000002.M1P1.h", Location::Cur, String::new(), 4),
            ("1600000003.M1P1.h", Location::Cur, String::new(), 1),
            ("1600000004.M1P1.h", Location::New, String::new(), 5),
        ]
    );
    assert!(
        listed[0]
            .flags
            .contains(Flags::SEEN | Flags::REPLIED | Flags::FLAGGED)
    );
    assert!(listed[1].flags.contains(Flags::TRASHED));
    assert_eq!(listed[0].virtual_size, None);
    assert_eq!(listed[1].file_name(), "1600000001.M5P6.h,S=4:2,Ta");
    assert_eq!(maildir.list_in(Location::New).unwrap().len(), 1);
    assert_eq!(maildir.list_in(Location::Cur).unwrap().len(), 4);
}

#[test]
fn move_to_cur_and_set_flags_rename_the_file() {
    let tmp = TempDir::new("read-flags");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();
    let d = maildir.deliver(b"Subject: f\r\n\r\nbody\r\n").unwrap();
    let entry = maildir.list().unwrap().remove(0);

    let moved = maildir.move_to_cur(&entry).unwrap();
    assert_eq!(moved.location, Location::Cur);
    assert_eq!(moved.unique, d.unique);
    assert_eq!(
        moved.path,
        maildir.path().join("cur").join(format!("{}:2,", d.unique))
    );
    assert!(moved.path.is_file());
    assert!(!d.path.exists());
    // Already in cur/: nothing changes.
    assert_eq!(maildir.move_to_cur(&moved).unwrap(), moved);

    let flagged = maildir
        .set_flags(&moved, Flags::TRASHED | Flags::SEEN)
        .unwrap();
    assert_eq!(
        flagged.path,
        maildir
            .path()
            .join("cur")
            .join(format!("{}:2,ST", d.unique))
    );
    assert!(flagged.path.is_file());
    let listed = maildir.list().unwrap();
    assert_eq!(listed, vec![flagged.clone()]);

    let cleared = maildir.set_flags(&flagged, Flags::empty()).unwrap();
    assert!(cleared.path.to_str().unwrap().ends_with(":2,"));
    assert_eq!(
        maildir.read_message(&cleared).unwrap(),
        b"Subject: f\r\n\r\nbody\r\n"
    );
}

#[test]
fn stale_entries_are_found_again_by_unique_name() {
    let tmp = TempDir::new("read-stale");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();
    let d = maildir.deliver(b"hello\r\n").unwrap();
    let stale = maildir.list().unwrap().remove(0);

    // Another session moves it and flags it behind our back.
    let elsewhere = maildir.path().join("cur").join(format!("{}:2,S", d.unique));
    fs::rename(&d.path, &elsewhere).unwrap();

    let found = maildir.find(&d.unique).unwrap().unwrap();
    assert_eq!(found.path, elsewhere);
    assert_eq!(found.flags, Flags::SEEN);
    let mut text = String::new();
    maildir
        .open_message(&stale)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "hello\r\n");
    let replied = maildir
        .set_flags(&stale, Flags::SEEN | Flags::REPLIED)
        .unwrap();
    assert!(replied.path.to_str().unwrap().ends_with(":2,RS"));
    assert!(!elsewhere.exists());

    maildir.remove(&stale).unwrap();
    assert!(maildir.list().unwrap().is_empty());
    assert!(matches!(
        maildir.remove(&stale),
        Err(MaildirError::MessageNotFound(_))
    ));
    assert!(matches!(
        maildir.read_message(&stale),
        Err(MaildirError::MessageNotFound(_))
    ));
    assert!(maildir.find(&d.unique).unwrap().is_none());
}

#[test]
fn find_refuses_names_that_are_not_unique_names() {
    let tmp = TempDir::new("read-find");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();
    fs::write(maildir.path().join("cur").join("x:2,S"), b"x").unwrap();
    assert!(maildir.find("x").unwrap().is_some());
    for bad in ["", "../cur/x", "x:2,S", ".", "..", "cur/x"] {
        assert!(maildir.find(bad).unwrap().is_none(), "{bad:?}");
    }
}
