//! Checks that user and folder names cannot name a path outside where they belong.

use crate::MaildirError;

/// The longest name a file system directory entry may have (Linux `NAME_MAX`).
const NAME_MAX: usize = 255;

/// Checks a user name for use as the directory `DATA/<user>/`.
///
/// Refused: the empty name, names longer than 255 bytes, names starting with `.` (which
/// also refuses `.` and `..`), and names holding `/`, a NUL or any other control
/// character. Everything else (letters of any script, `@`, `+`, `-`, `_`, digits, ...)
/// is allowed, so `alice@example.org` is a valid user.
///
/// ```
/// use mailwire_maildir::validate_user_name;
/// assert!(validate_user_name("alice@example.org").is_ok());
/// assert!(validate_user_name("../etc").is_err());
/// ```
pub fn validate_user_name(name: &str) -> Result<(), MaildirError> {
    let refuse = |reason| {
        Err(MaildirError::InvalidUser {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("empty");
    }
    if name.len() > NAME_MAX {
        return refuse("longer than 255 bytes");
    }
    if name.starts_with('.') {
        return refuse("starts with '.'");
    }
    if name.contains('/') {
        return refuse("contains '/'");
    }
    if name.chars().any(char::is_control) {
        return refuse("contains a control character");
    }
    Ok(())
}

/// Checks a Maildir++ folder name such as `Sent` or `Archive.2024` (`.` is the hierarchy
/// separator), stored as the directory `DATA/<user>/.<folder>/`.
///
/// Refused: the empty name, names longer than 254 bytes, names with an empty level (a
/// leading or trailing `.`, or `..` anywhere), and names holding `/`, a NUL or any other
/// control character.
///
/// ```
/// use mailwire_maildir::validate_folder_name;
/// assert!(validate_folder_name("Archive.2024").is_ok());
/// assert!(validate_folder_name("..").is_err());
/// assert!(validate_folder_name("a/b").is_err());
/// ```
pub fn validate_folder_name(name: &str) -> Result<(), MaildirError> {
    let refuse = |reason| {
        Err(MaildirError::InvalidFolder {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("empty");
    }
    if name.len() > NAME_MAX - 1 {
        return refuse("longer than 254 bytes");
    }
    if name.contains('/') {
        return refuse("contains '/'");
    }
    if name.chars().any(char::is_control) {
        return refuse("contains a control character");
    }
    if name.split('.').any(str::is_empty) {
        return refuse("has an empty hierarchy level ('.' at an end, or '..')");
    }
    Ok(())
}
