//! Delivery: exact bytes in new/, nothing left in tmp/, abort and drop, concurrency,
//! multi-recipient delivery by hard link (and by copy across file systems).

#[path = "support/tempdir.rs"]
mod tempdir;

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use mailwire_maildir::{Maildir, MaildirError};
use tempdir::TempDir;

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn open_creates_the_three_directories_with_mode_0700() {
    let tmp = TempDir::new("maildir-open");
    let root = tmp.path().join("deep/box");
    let maildir = Maildir::open(&root).unwrap();
    assert_eq!(maildir.path(), root);
    for sub in ["cur", "new", "tmp"] {
        assert!(root.join(sub).is_dir(), "{sub}/ missing");
        assert_eq!(mode(&root.join(sub)), 0o700);
    }
    assert_eq!(mode(&root), 0o700);
    // Opening again is fine; open_existing needs all three.
    Maildir::open(&root).unwrap();
    Maildir::open_existing(&root).unwrap();
    fs::remove_dir(root.join("tmp")).unwrap();
    assert!(matches!(
        Maildir::open_existing(&root),
        Err(MaildirError::NotAMaildir(_))
    ));
}

#[test]
fn commit_puts_exactly_the_bytes_in_new_and_nothing_in_tmp() {
    let tmp = TempDir::new("maildir-commit");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();

    // Larger than the write buffer, written in uneven chunks, with bare LFs and 8-bit.
    let mut message = b"From: a@example.org\r\nSubject: test\r\n\r\n".to_vec();
    for i in 0..5000 {
        message.extend_from_slice(format!("line {i} é\r\n").as_bytes());
    }
    message.extend_from_slice(b"bare\nlf\n\r\n.\r\n");
    let bare_lfs = 2;

    let mut delivery = maildir.begin_delivery().unwrap();
    let tmp_file = delivery.tmp_path().to_path_buf();
    assert!(tmp_file.starts_with(maildir.path().join("tmp")));
    assert!(tmp_file.is_file(), "the file exists in tmp/ while writing");
    assert!(names_in(&maildir.path().join("new")).is_empty());
    for chunk in message.chunks(7777) {
        delivery.write_all(chunk).unwrap();
    }
    assert_eq!(delivery.size(), message.len() as u64);
    // Nothing is visible in new/ before commit.
    assert!(names_in(&maildir.path().join("new")).is_empty());

    let delivered = delivery.commit().unwrap();
    assert_eq!(delivered.size, message.len() as u64);
    assert_eq!(delivered.virtual_size, message.len() as u64 + bare_lfs);
    assert!(delivered.unique.ends_with(&format!(
        ",S={},W={}",
        message.len(),
        message.len() as u64 + bare_lfs
    )));
    assert_eq!(
        delivered.path,
        maildir.path().join("new").join(&delivered.unique)
    );
    assert_eq!(fs::read(&delivered.path).unwrap(), message);
    assert_eq!(mode(&delivered.path), 0o600);
    assert_eq!(
        names_in(&maildir.path().join("new")),
        vec![delivered.unique.clone()]
    );
    assert!(names_in(&maildir.path().join("tmp")).is_empty());
    assert!(!tmp_file.exists());
    // The tmp name and the final name share the unique base.
    let base = tmp_file.file_name().unwrap().to_str().unwrap();
    assert!(delivered.unique.starts_with(&format!("{base},S=")));
}

#[test]
fn names_follow_the_convention_and_escape_the_host_name() {
    let tmp = TempDir::new("maildir-names");
    let maildir = Maildir::open(tmp.path().join("box"))
        .unwrap()
        .with_hostname("mx/1:2");
    assert_eq!(maildir.hostname(), "mx\\0571\\0722");
    let delivered = maildir.deliver(b"x\r\n").unwrap();
    let (secs, rest) = delivered.unique.split_once(".M").unwrap();
    assert!(secs.parse::<u64>().unwrap() > 1_600_000_000);
    let (usecs, rest) = rest.split_once('P').unwrap();
    assert!(usecs.parse::<u32>().unwrap() < 1_000_000);
    let (pid, rest) = rest.split_once('Q').unwrap();
    assert_eq!(pid.parse::<u32>().unwrap(), std::process::id());
    let (counter, rest) = rest.split_once('.').unwrap();
    counter.parse::<u64>().unwrap();
    assert_eq!(rest, "mx\\0571\\0722,S=3,W=3");
}

#[test]
fn abort_leaves_nothing() {
    let tmp = TempDir::new("maildir-abort");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();
    let mut delivery = maildir.begin_delivery().unwrap();
    delivery.write_all(b"Subject: never\r\n\r\nhalf").unwrap();
    delivery.flush().unwrap();
    assert_eq!(names_in(&maildir.path().join("tmp")).len(), 1);
    delivery.abort().unwrap();
    assert!(names_in(&maildir.path().join("tmp")).is_empty());
    assert!(names_in(&maildir.path().join("new")).is_empty());
    assert!(names_in(&maildir.path().join("cur")).is_empty());
}

#[test]
fn drop_without_commit_leaves_nothing() {
    let tmp = TempDir::new("maildir-drop");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();
    {
        let mut delivery = maildir.begin_delivery().unwrap();
        delivery.write_all(&[b'x'; 100_000]).unwrap();
        assert_eq!(names_in(&maildir.path().join("tmp")).len(), 1);
    }
    assert!(names_in(&maildir.path().join("tmp")).is_empty());
    assert!(names_in(&maildir.path().join("new")).is_empty());
    assert!(maildir.list().unwrap().is_empty());
}

#[test]
fn concurrent_deliveries_from_8_threads_all_land_with_distinct_names() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 200;
    let tmp = TempDir::new("maildir-concurrent");
    let maildir = Maildir::open(tmp.path().join("box")).unwrap();

    let content = |t: usize, i: usize| {
        format!(
            "Subject: thread {t} message {i}\r\n\r\n{}\r\n",
            "x".repeat(i % 50)
        )
        .into_bytes()
    };
    let delivered: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let maildir = maildir.clone();
                scope.spawn(move || {
                    (0..PER_THREAD)
                        .map(|i| {
                            let mut d = maildir.begin_delivery().unwrap();
                            let bytes = content(t, i);
                            // Two writes, to interleave with the other threads.
                            let (head, tail) = bytes.split_at(10);
                            d.write_all(head).unwrap();
                            d.write_all(tail).unwrap();
                            (d.commit().unwrap(), bytes)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });

    assert_eq!(delivered.len(), THREADS * PER_THREAD);
    let names: HashSet<_> = delivered.iter().map(|(d, _)| d.unique.clone()).collect();
    assert_eq!(names.len(), THREADS * PER_THREAD, "names collided");
    for (message, bytes) in &delivered {
        assert_eq!(&fs::read(&message.path).unwrap(), bytes);
    }
    let on_disk: HashSet<_> = names_in(&maildir.path().join("new")).into_iter().collect();
    assert_eq!(on_disk, names);
    assert!(names_in(&maildir.path().join("tmp")).is_empty());
    assert_eq!(maildir.list().unwrap().len(), THREADS * PER_THREAD);
}

#[test]
fn one_message_for_several_maildirs_is_hard_linked() {
    let tmp = TempDir::new("maildir-multi");
    let a = Maildir::open(tmp.path().join("a")).unwrap();
    let b = Maildir::open(tmp.path().join("b")).unwrap();
    let c = Maildir::open(tmp.path().join("c")).unwrap();
    let message = b"Subject: to three\r\n\r\nhello\n".to_vec();

    let mut delivery = a.begin_delivery().unwrap();
    delivery.write_all(&message).unwrap();
    let placed = delivery.commit_all(&[&b, &c]).unwrap();
    assert_eq!(placed.len(), 3);
    for (message_dir, placed) in [&a, &b, &c].iter().zip(&placed) {
        assert_eq!(
            placed.path.parent().unwrap(),
            message_dir.path().join("new")
        );
        assert_eq!(fs::read(&placed.path).unwrap(), message);
        assert_eq!(placed.size, message.len() as u64);
        assert_eq!(placed.virtual_size, message.len() as u64 + 1);
        assert_eq!(
            names_in(&message_dir.path().join("new")),
            vec![placed.unique.clone()]
        );
        assert!(names_in(&message_dir.path().join("tmp")).is_empty());
    }
    let inode = fs::metadata(&placed[0].path).unwrap().ino();
    for p in &placed {
        let meta = fs::metadata(&p.path).unwrap();
        assert_eq!(meta.ino(), inode, "not a hard link");
        assert_eq!(meta.nlink(), 3, "tmp/ name still linked, or a link missing");
    }
}

#[test]
fn multi_delivery_across_file_systems_copies() {
    let shm = Path::new("/dev/shm");
    let tmp = TempDir::new("maildir-xdev");
    let other_fs =
        shm.is_dir() && fs::metadata(shm).unwrap().dev() != fs::metadata(tmp.path()).unwrap().dev();
    if !other_fs {
        eprintln!("SKIPPED: /dev/shm is missing or on the same file system as the temp dir");
        return;
    }
    let far = TempDir::new_in(shm, "maildir-xdev");
    let a = Maildir::open(tmp.path().join("a")).unwrap();
    let b = Maildir::open(far.path().join("b")).unwrap();
    let message = b"Subject: across\r\n\r\nbody\r\n";
    let mut delivery = a.begin_delivery().unwrap();
    delivery.write_all(message).unwrap();
    let placed = delivery.commit_all(&[&b]).unwrap();
    assert_eq!(placed.len(), 2);
    assert_eq!(fs::read(&placed[1].path).unwrap(), message);
    assert!(placed[1].path.starts_with(b.path().join("new")));
    assert_eq!(placed[1].size, message.len() as u64);
    let fields = format!(",S={0},W={0}", message.len());
    assert!(placed[1].unique.ends_with(&fields), "{}", placed[1].unique);
    assert_eq!(fs::metadata(&placed[0].path).unwrap().nlink(), 1);
    assert_eq!(fs::metadata(&placed[1].path).unwrap().nlink(), 1);
    assert!(names_in(&b.path().join("tmp")).is_empty());
    assert!(names_in(&a.path().join("tmp")).is_empty());
}

#[test]
fn commit_all_is_all_or_nothing() {
    let tmp = TempDir::new("maildir-rollback");
    let a = Maildir::open(tmp.path().join("a")).unwrap();
    let c = Maildir::open(tmp.path().join("c")).unwrap();
    let broken = Maildir::open(tmp.path().join("broken")).unwrap();
    // A maildir whose new/ vanished: linking and copying into it both fail.
    fs::remove_dir(broken.path().join("new")).unwrap();

    let mut delivery = a.begin_delivery().unwrap();
    delivery.write_all(b"Subject: x\r\n\r\ny\r\n").unwrap();
    let err = delivery.commit_all(&[&c, &broken]).unwrap_err();
    assert!(matches!(err, MaildirError::Io { .. }), "{err:?}");
    for m in [&a, &c] {
        assert!(
            names_in(&m.path().join("new")).is_empty(),
            "not rolled back"
        );
        assert!(names_in(&m.path().join("tmp")).is_empty());
    }
    assert!(names_in(&broken.path().join("tmp")).is_empty());
}

#[test]
fn commit_each_reports_every_maildir() {
    let tmp = TempDir::new("maildir-each");
    let a = Maildir::open(tmp.path().join("a")).unwrap();
    let c = Maildir::open(tmp.path().join("c")).unwrap();
    let broken = Maildir::open(tmp.path().join("broken")).unwrap();
    fs::remove_dir(broken.path().join("new")).unwrap();

    let mut delivery = a.begin_delivery().unwrap();
    delivery.write_all(b"Subject: x\r\n\r\ny\r\n").unwrap();
    let results = delivery.commit_each(&[&broken, &c]);
    assert_eq!(results.len(), 3);
    let own = results[0].as_ref().unwrap();
    assert!(results[1].is_err());
    let for_c = results[2].as_ref().unwrap();
    assert_eq!(fs::read(&own.path).unwrap(), b"Subject: x\r\n\r\ny\r\n");
    assert_eq!(fs::read(&for_c.path).unwrap(), b"Subject: x\r\n\r\ny\r\n");
    assert!(names_in(&a.path().join("tmp")).is_empty());
}

#[test]
fn the_same_maildir_twice_gets_two_copies() {
    let tmp = TempDir::new("maildir-twice");
    let a = Maildir::open(tmp.path().join("a")).unwrap();
    let mut delivery = a.begin_delivery().unwrap();
    delivery.write_all(b"x\r\n").unwrap();
    let placed = delivery.commit_all(&[&a]).unwrap();
    assert_ne!(placed[0].unique, placed[1].unique);
    assert_eq!(names_in(&a.path().join("new")).len(), 2);
}

#[test]
fn commit_fails_cleanly_when_new_is_gone() {
    let tmp = TempDir::new("maildir-nonew");
    let a = Maildir::open(tmp.path().join("a")).unwrap();
    let mut delivery = a.begin_delivery().unwrap();
    delivery.write_all(b"x\r\n").unwrap();
    fs::remove_dir(a.path().join("new")).unwrap();
    assert!(delivery.commit().is_err());
    assert!(
        names_in(&a.path().join("tmp")).is_empty(),
        "tmp file left behind"
    );
}

#[test]
fn types_can_move_to_a_blocking_thread() {
    fn send_and_sync<T: Send + Sync + 'static>() {}
    send_and_sync::<mailwire_maildir::Delivery>();
    send_and_sync::<Maildir>();
    send_and_sync::<mailwire_maildir::MailStore>();
    send_and_sync::<mailwire_maildir::MessageEntry>();
    send_and_sync::<MaildirError>();
}
