//! The Maildir++ layout of a MailStore, and hostile user and folder names.

#[path = "support/tempdir.rs"]
mod tempdir;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mailwire_maildir::{
    FOLDER_MARKER, MailStore, MaildirError, validate_folder_name, validate_user_name,
};
use tempdir::TempDir;

/// Every path below `dir`, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

const HOSTILE_USERS: &[&str] = &[
    "",
    ".",
    "..",
    ".hidden",
    "../escape",
    "a/b",
    "/abs",
    "a\0b",
    "a\nb",
    "a\rb",
    "tab\there",
    "del\x7f",
    "c1\u{85}",
];

const HOSTILE_FOLDERS: &[&str] = &[
    "",
    ".",
    "..",
    ".Sent",
    "Sent.",
    "a..b",
    "../../etc",
    "a/b",
    "/abs",
    "x\0",
    "x\r\n",
    "esc\x1b",
];

#[test]
fn hostile_user_names_are_refused_and_create_nothing() {
    let tmp = TempDir::new("store-hostile-users");
    let data = tmp.path().join("data");
    let store = MailStore::open(&data).unwrap();
    let long = "u".repeat(256);
    for &user in HOSTILE_USERS.iter().chain([long.as_str()].iter()) {
        assert!(
            matches!(
                validate_user_name(user),
                Err(MaildirError::InvalidUser { .. })
            ),
            "{user:?} accepted"
        );
        assert!(matches!(
            store.inbox(user),
            Err(MaildirError::InvalidUser { .. })
        ));
        assert!(store.user_path(user).is_err());
        assert!(store.folder(user, "Sent").is_err());
        assert!(store.folders(user).is_err());
        assert!(store.has_user(user).is_err());
    }
    assert!(tree(&data).is_empty(), "{:?}", tree(&data));
    assert_eq!(tree(tmp.path()), vec!["data".to_owned()]);
}

#[test]
fn hostile_folder_names_are_refused_and_create_nothing() {
    let tmp = TempDir::new("store-hostile-folders");
    let data = tmp.path().join("data");
    let store = MailStore::open(&data).unwrap();
    store.inbox("alice").unwrap();
    let before = tree(tmp.path());
    let long = "f".repeat(255);
    for &folder in HOSTILE_FOLDERS.iter().chain([long.as_str()].iter()) {
        assert!(
            matches!(
                validate_folder_name(folder),
                Err(MaildirError::InvalidFolder { .. })
            ),
            "{folder:?} accepted"
        );
        assert!(matches!(
            store.folder("alice", folder),
            Err(MaildirError::InvalidFolder { .. })
        ));
        assert!(store.existing_folder("alice", folder).is_err());
        assert!(store.folder_path("alice", folder).is_err());
    }
    assert_eq!(tree(tmp.path()), before);
}

#[test]
fn ordinary_names_are_accepted() {
    for user in [
        "alice",
        "alice@example.org",
        "a.b",
        "bob+tag",
        "Zoë",
        "x".repeat(255).as_str(),
    ] {
        validate_user_name(user).unwrap();
    }
    for folder in [
        "Sent",
        "Archive.2024",
        "Entwürfe",
        "a b",
        "INBOX.Junk",
        "f".repeat(254).as_str(),
    ] {
        validate_folder_name(folder).unwrap();
    }
}

#[test]
fn layout_is_maildir_plus_plus() {
    let tmp = TempDir::new("store-layout");
    let data = tmp.path().join("data");
    let store = MailStore::open(&data).unwrap();
    assert!(!store.has_user("alice").unwrap());
    assert!(store.existing_folder("alice", "Sent").unwrap().is_none());
    assert!(store.folders("alice").unwrap().is_empty());

    let inbox = store.inbox("alice").unwrap();
    assert_eq!(inbox.path(), data.join("alice"));
    assert!(store.has_user("alice").unwrap());
    let archive = store.folder("alice", "Archive.2024").unwrap();
    assert_eq!(archive.path(), data.join("alice/.Archive.2024"));
    store.folder("alice", "Sent").unwrap();
    // A folder of a user without an INBOX creates the INBOX too.
    store.folder("bob", "Drafts").unwrap();

    for dir in [
        "alice",
        "alice/.Archive.2024",
        "alice/.Sent",
        "bob",
        "bob/.Drafts",
    ] {
        for sub in ["cur", "new", "tmp"] {
            let path = data.join(dir).join(sub);
            assert!(path.is_dir(), "{} missing", path.display());
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }
    assert!(data.join("alice/.Sent").join(FOLDER_MARKER).is_file());
    assert!(data.join("alice/.Archive.2024/maildirfolder").is_file());
    assert!(
        !data.join("alice").join(FOLDER_MARKER).exists(),
        "INBOX is not a folder"
    );
    assert_eq!(
        fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );

    assert_eq!(
        store.folders("alice").unwrap(),
        vec!["Archive.2024", "Sent"]
    );
    assert_eq!(store.folders("bob").unwrap(), vec!["Drafts"]);
    assert_eq!(store.users().unwrap(), vec!["alice", "bob"]);
    assert!(store.existing_folder("alice", "Sent").unwrap().is_some());

    // Things that are not users or folders are left out of the listings.
    fs::create_dir(data.join(".hidden")).unwrap();
    fs::create_dir(data.join("notamaildir")).unwrap();
    fs::create_dir(data.join("alice/.Empty")).unwrap();
    fs::write(data.join("alice/.file"), b"").unwrap();
    assert_eq!(store.users().unwrap(), vec!["alice", "bob"]);
    assert_eq!(
        store.folders("alice").unwrap(),
        vec!["Archive.2024", "Sent"]
    );

    // Opening again changes nothing and delivers into the same place.
    let again = store.folder("alice", "Sent").unwrap();
    let delivered = again.deliver(b"x\r\n").unwrap();
    assert!(delivered.path.starts_with(data.join("alice/.Sent/new")));
}

#[test]
fn store_host_name_is_used_by_its_maildirs() {
    let tmp = TempDir::new("store-host");
    let store = MailStore::open(tmp.path().join("data"))
        .unwrap()
        .with_hostname("mail.example.org");
    let delivered = store.inbox("alice").unwrap().deliver(b"x").unwrap();
    assert!(
        delivered.unique.ends_with(".mail.example.org,S=1,W=1"),
        "{}",
        delivered.unique
    );
    let in_folder = store.folder("alice", "Sent").unwrap();
    assert_eq!(in_folder.hostname(), "mail.example.org");
}
