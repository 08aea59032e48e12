//! The one error type of this crate.

use std::io;
use std::path::{Path, PathBuf};

/// What went wrong in a Maildir operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MaildirError {
    /// A file system operation failed.
    #[error("{op} {}: {source}", .path.display())]
    Io {
        /// What was being done (`"create"`, `"fsync"`, `"rename"`, ...).
        op: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The error the operating system reported.
        #[source]
        source: io::Error,
    },
    /// A user name was refused because it could name a path outside the data directory.
    #[error("invalid user name {name:?}: {reason}")]
    InvalidUser {
        /// The refused name.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A folder name was refused because it could name a path outside the user's maildir.
    #[error("invalid folder name {name:?}: {reason}")]
    InvalidFolder {
        /// The refused name.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The message is neither in `new/` nor in `cur/` any more (another session removed it).
    #[error("message {0} not found")]
    MessageNotFound(String),
    /// The directory lacks one of `cur/`, `new/` and `tmp/`.
    #[error("{} is not a maildir (cur/, new/ and tmp/ are needed)", .0.display())]
    NotAMaildir(PathBuf),
    /// No unused file name was found after several attempts (the system clock or the
    /// host name is probably shared with another writer in an unexpected way).
    #[error("no unused file name in {} after several attempts", .0.display())]
    NameCollision(PathBuf),
}

impl MaildirError {
    /// The I/O error behind this error, if there is one.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            MaildirError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A closure that wraps an `io::Error` with what was being done and to which path.
pub(crate) fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> MaildirError {
    let path = path.to_path_buf();
    move |source| MaildirError::Io { op, path, source }
}
