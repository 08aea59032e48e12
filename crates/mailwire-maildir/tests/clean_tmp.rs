//! Removing leftovers of interrupted deliveries from tmp/ (the 36-hour rule).

#[path = "support/tempdir.rs"]
mod tempdir;

use std::fs::{self, File, FileTimes};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use mailwire_maildir::{MailStore, Maildir, TMP_MAX_AGE};
use tempdir::TempDir;

const HOUR: Duration = Duration::from_secs(3600);

/// Writes a file and sets its access and modification times.
fn file_with_times(path: &Path, modified: SystemTime, accessed: SystemTime) {
    let file = File::create(path).unwrap();
    file.set_times(
        FileTimes::new()
            .set_modified(modified)
            .set_accessed(accessed),
    )
    .unwrap();
}

fn count(dir: &Path) -> usize {
    fs::read_dir(dir).unwrap().count()
}

#[test]
fn only_files_untouched_for_36_hours_are_removed() {
    assert_eq!(TMP_MAX_AGE, 36 * HOUR);
    let tmp = TempDir::new("clean-tmp");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();
    let t = maildir.path().join("tmp");
    let now = SystemTime::now();
    file_with_times(&t.join("old"), now - 37 * HOUR, now - 37 * HOUR);
    file_with_times(&t.join("exactly36"), now - 36 * HOUR, now - 36 * HOUR);
    file_with_times(&t.join("young"), now - 35 * HOUR, now - 35 * HOUR);
    file_with_times(&t.join("read-recently"), now - 40 * HOUR, now - HOUR);
    file_with_times(&t.join("written-recently"), now - HOUR, now - 40 * HOUR);
    fs::create_dir(t.join("a-directory")).unwrap();
    // A delivery in progress.
    let mut delivery = maildir.begin_delivery().unwrap();
    delivery.write_all(b"in progress").unwrap();
    // Messages in new/ and cur/ are never touched, however old.
    let d = maildir.deliver(b"old message").unwrap();
    File::options()
        .write(true)
        .open(&d.path)
        .unwrap()
        .set_times(
            FileTimes::new()
                .set_modified(now - 100 * HOUR)
                .set_accessed(now - 100 * HOUR),
        )
        .unwrap();

    assert_eq!(maildir.clean_tmp(now).unwrap(), 2);
    let mut left: Vec<_> = fs::read_dir(&t)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let in_progress = delivery
        .tmp_path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let mut expected = vec![
        "a-directory".to_owned(),
        in_progress,
        "read-recently".to_owned(),
        "written-recently".to_owned(),
        "young".to_owned(),
    ];
    expected.sort();
    assert_eq!(left, expected);
    assert!(d.path.is_file());
    delivery.commit().unwrap();

    // A shorter limit, with the clock passed in.
    assert_eq!(maildir.clean_tmp_older_than(now, 30 * HOUR).unwrap(), 1);
    assert_eq!(count(&t), 3);
    // Running again removes nothing more.
    assert_eq!(maildir.clean_tmp(now).unwrap(), 0);
}

#[test]
fn the_store_cleans_every_user_and_folder() {
    let tmp = TempDir::new("clean-store");
    let store = MailStore::open(tmp.path().join("data")).unwrap();
    let now = SystemTime::now();
    let old = now - 48 * HOUR;
    let alice = store.inbox("alice").unwrap();
    let sent = store.folder("alice", "Sent").unwrap();
    let bob = store.folder("bob", "Archive.2024").unwrap();
    for (m, name) in [(&alice, "a"), (&sent, "b"), (&bob, "c")] {
        file_with_times(&m.path().join("tmp").join(name), old, old);
        file_with_times(
            &m.path().join("tmp").join(format!("{name}-young")),
            now,
            now,
        );
    }
    assert_eq!(store.clean_tmp(now).unwrap(), 3);
    for m in [&alice, &sent, &bob] {
        assert_eq!(count(&m.path().join("tmp")), 1);
    }
    assert_eq!(store.clean_tmp(now).unwrap(), 0);
}
