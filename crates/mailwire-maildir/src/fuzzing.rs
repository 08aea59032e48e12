//! The checks behind the fuzz target `maildir_names` (in `fuzz/`), kept here so that a
//! test can replay the seed corpus without cargo-fuzz. Not a stable API.

use std::path::{Component, Path};

use crate::Flags;
use crate::name::{delivery_time, sanitize_hostname, size_field, split_info, unique_base};
use crate::validate::{validate_folder_name, validate_user_name};

/// Runs every name check on `data` (read as UTF-8, lossily); panics when one fails.
///
/// - parsing a file name (unique part, info, `,S=`/`,W=` fields, delivery time, flags)
///   never panics, and flags survive formatting and parsing again;
/// - a user or folder name that passes validation names exactly one directory level
///   below its parent, never anything outside it;
/// - a sanitised host name holds only printable ASCII without `/`, `:` and `,`, and the
///   unique names made with it parse back (time, no info, the size field).
pub fn names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);

    let (unique, info) = split_info(&text);
    assert!(!unique.contains(':'));
    let flags = info.map(Flags::parse_info).unwrap_or_default();
    assert_eq!(Flags::parse_info(&format!("2,{flags}")), flags);
    let _ = (
        size_field(unique, b'S'),
        size_field(unique, b'W'),
        delivery_time(unique),
    );

    let root = Path::new("/data");
    if validate_user_name(&text).is_ok() {
        let path = root.join(&*text);
        assert_eq!(path.parent(), Some(root), "user {text:?} escapes");
        assert!(matches!(
            path.components().next_back(),
            Some(Component::Normal(_))
        ));
        assert_eq!(
            path.components().count(),
            3,
            "user {text:?} is not one level"
        );
    }
    if validate_folder_name(&text).is_ok() {
        let user = root.join("user");
        let path = user.join(format!(".{text}"));
        assert_eq!(
            path.parent(),
            Some(user.as_path()),
            "folder {text:?} escapes"
        );
        assert_eq!(
            path.components().count(),
            4,
            "folder {text:?} is not one level"
        );
    }

    let host = sanitize_hostname(&text);
    assert!(
        host.bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && !matches!(b, b'/' | b':' | b',')),
        "unsafe host name {host:?}"
    );
    let base = unique_base(&host);
    assert!(delivery_time(&base).is_some());
    assert_eq!(split_info(&base), (base.as_str(), None));
    let named = format!("{base},S=42,W=44");
    assert_eq!(size_field(&named, b'S'), Some(42));
    assert_eq!(size_field(&named, b'W'), Some(44));
}
