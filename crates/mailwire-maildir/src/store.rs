//! A data directory with one Maildir++ per user.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::io_err;
use crate::maildir::{ensure_dir, sync_dir};
use crate::name::{default_hostname, sanitize_hostname};
use crate::validate::{validate_folder_name, validate_user_name};
use crate::{Maildir, MaildirError};

/// The marker file that makes a directory a Maildir++ folder (Courier and Dovecot look
/// for it).
pub const FOLDER_MARKER: &str = "maildirfolder";

/// A data directory holding one Maildir++ per user, laid out as Dovecot's
/// `mail_location = maildir:DATA/%u` expects:
///
/// ```text
/// DATA/alice/{cur,new,tmp}/                  the INBOX
/// DATA/alice/.Sent/{cur,new,tmp}/            the folder "Sent" (with a maildirfolder file)
/// DATA/alice/.Archive.2024/{cur,new,tmp}/    "Archive.2024": '.' separates levels
/// ```
///
/// User and folder names are checked ([`validate_user_name`], [`validate_folder_name`])
/// before any path is built from them, so a hostile name never leads outside `DATA`.
/// Maildirs and folders are created on first use, with mode 0700.
///
/// [`validate_user_name`]: crate::validate_user_name
/// [`validate_folder_name`]: crate::validate_folder_name
#[derive(Debug, Clone)]
pub struct MailStore {
    root: PathBuf,
    hostname: Arc<str>,
}

impl MailStore {
    /// Opens the data directory `root`, creating it (mode 0700) if needed.
    pub fn open(root: impl Into<PathBuf>) -> Result<MailStore, MaildirError> {
        let root = root.into();
        ensure_dir(&root)?;
        Ok(MailStore {
            root,
            hostname: default_hostname(),
        })
    }

    /// Uses `hostname` in the names of messages delivered through this store's maildirs
    /// (see [`Maildir::with_hostname`]).
    #[must_use]
    pub fn with_hostname(mut self, hostname: &str) -> MailStore {
        self.hostname = sanitize_hostname(hostname);
        self
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The directory of a user's maildir (`DATA/<user>`), after checking the name.
    /// Nothing is created.
    pub fn user_path(&self, user: &str) -> Result<PathBuf, MaildirError> {
        validate_user_name(user)?;
        Ok(self.root.join(user))
    }

    /// The path of a user's folder (`DATA/<user>/.<folder>`), after checking both names.
    /// Nothing is created.
    pub fn folder_path(&self, user: &str, folder: &str) -> Result<PathBuf, MaildirError> {
        validate_folder_name(folder)?;
        Ok(self.user_path(user)?.join(format!(".{folder}")))
    }

    /// The user's INBOX (the maildir at `DATA/<user>`), created if needed.
    pub fn inbox(&self, user: &str) -> Result<Maildir, MaildirError> {
        let maildir = Maildir::open(self.user_path(user)?)?;
        Ok(maildir.with_shared_hostname(self.hostname.clone()))
    }

    /// Whether the user has a maildir yet (without creating one).
    pub fn has_user(&self, user: &str) -> Result<bool, MaildirError> {
        Ok(Maildir::open_existing(self.user_path(user)?).is_ok())
    }

    /// One of the user's folders (`DATA/<user>/.<folder>`), created with its
    /// `maildirfolder` marker if needed (and the INBOX too).
    pub fn folder(&self, user: &str, folder: &str) -> Result<Maildir, MaildirError> {
        let path = self.folder_path(user, folder)?;
        self.inbox(user)?;
        let maildir = Maildir::open(&path)?;
        let marker = path.join(FOLDER_MARKER);
        if !marker.is_file() {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&marker)
            {
                Ok(_) => sync_dir(&path)?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("create", &marker)(e)),
            }
        }
        Ok(maildir.with_shared_hostname(self.hostname.clone()))
    }

    /// An existing folder of the user, without creating anything; `None` when it does
    /// not exist.
    pub fn existing_folder(
        &self,
        user: &str,
        folder: &str,
    ) -> Result<Option<Maildir>, MaildirError> {
        let path = self.folder_path(user, folder)?;
        Ok(Maildir::open_existing(path)
            .ok()
            .map(|m| m.with_shared_hostname(self.hostname.clone())))
    }

    /// The names of the user's folders (without the leading `.`), sorted; empty when the
    /// user has no maildir yet. Directories whose names are not valid folder names, or
    /// that are not maildirs, are left out.
    pub fn folders(&self, user: &str) -> Result<Vec<String>, MaildirError> {
        let user_dir = self.user_path(user)?;
        let reader = match fs::read_dir(&user_dir) {
            Ok(reader) => reader,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("read directory", &user_dir)(e)),
        };
        let mut folders = Vec::new();
        for item in reader {
            let item = item.map_err(io_err("read directory", &user_dir))?;
            let file_name = item.file_name();
            let Some(folder) = file_name.to_str().and_then(|n| n.strip_prefix('.')) else {
                continue;
            };
            if validate_folder_name(folder).is_ok() && Maildir::open_existing(item.path()).is_ok() {
                folders.push(folder.to_owned());
            }
        }
        folders.sort();
        Ok(folders)
    }

    /// The users that have a maildir, sorted. Entries that are not valid user names or
    /// not maildirs are left out.
    pub fn users(&self) -> Result<Vec<String>, MaildirError> {
        let mut users = Vec::new();
        for item in fs::read_dir(&self.root).map_err(io_err("read directory", &self.root))? {
            let item = item.map_err(io_err("read directory", &self.root))?;
            let file_name = item.file_name();
            let Some(user) = file_name.to_str() else {
                continue;
            };
            if validate_user_name(user).is_ok() && Maildir::open_existing(item.path()).is_ok() {
                users.push(user.to_owned());
            }
        }
        users.sort();
        Ok(users)
    }

    /// Runs [`Maildir::clean_tmp`] on every user's INBOX and folders; returns how many
    /// stale files were removed in all. A server calls this at start.
    pub fn clean_tmp(&self, now: SystemTime) -> Result<usize, MaildirError> {
        let mut removed = 0;
        for user in self.users()? {
            if let Ok(inbox) = Maildir::open_existing(self.user_path(&user)?) {
                removed += inbox.clean_tmp(now)?;
            }
            for folder in self.folders(&user)? {
                if let Some(maildir) = self.existing_folder(&user, &folder)? {
                    removed += maildir.clean_tmp(now)?;
                }
            }
        }
        Ok(removed)
    }
}
