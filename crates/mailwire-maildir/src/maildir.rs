//! One maildir: a directory with `cur/`, `new/` and `tmp/`.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::delivery::Delivery;
use crate::error::io_err;
use crate::name::{self, default_hostname, sanitize_hostname};
use crate::{DeliveredMessage, Flags, MaildirError};

/// How old a file in `tmp/` must be before [`Maildir::clean_tmp`] removes it: 36 hours, the
/// rule of the Maildir convention.
pub const TMP_MAX_AGE: Duration = Duration::from_secs(36 * 60 * 60);

/// One maildir: a directory holding `cur/`, `new/` and `tmp/`.
///
/// Cheap to clone (a path and a shared host name). All methods do synchronous file I/O;
/// an async server calls them from a blocking thread (`tokio::task::spawn_blocking`).
///
/// Several processes and threads may use one maildir at once: deliveries get unique
/// names, and every reading method copes with a message that another session has just
/// renamed (its flags changed) or removed.
#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
    hostname: Arc<str>,
}

/// Which of a maildir's two message directories a message is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// `new/`: delivered, not yet seen by any mail reader.
    New,
    /// `cur/`: seen by a mail reader; the file name carries the flags.
    Cur,
}

impl Location {
    /// The directory's name: `"new"` or `"cur"`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Location::New => "new",
            Location::Cur => "cur",
        }
    }
}

/// A message found in a maildir by [`Maildir::list`] or [`Maildir::find`].
///
/// It describes the file as it was when listed: another session may rename (flag) or
/// remove it at any time. The methods of [`Maildir`] that take an entry look it up again
/// by its unique name when its path has gone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageEntry {
    /// The unique name: the file name up to its first `:` (including Dovecot's `,S=`
    /// and `,W=` fields). It does not change when flags change; POP3 `UIDL` can use it.
    pub unique: String,
    /// Whether the message is in `new/` or `cur/`.
    pub location: Location,
    /// The flags of the info suffix (`:2,FLAGS`); empty for messages in `new/`.
    pub flags: Flags,
    /// The size of the file in bytes (from the `,S=` field, or from the file system).
    pub size: u64,
    /// The size with every line ending as CRLF, from the `,W=` field, when present.
    pub virtual_size: Option<u64>,
    /// The full path of the file when it was listed.
    pub path: PathBuf,
}

impl MessageEntry {
    /// The entry of a file, or `None` when it is not a message file (hidden, or a name
    /// that is not UTF-8).
    fn from_file(dir: &Path, location: Location, file_name: &str) -> Option<MessageEntry> {
        if file_name.starts_with('.') || file_name.is_empty() {
            return None;
        }
        let (unique, info) = name::split_info(file_name);
        let flags = info.map(Flags::parse_info).unwrap_or_default();
        let path = dir.join(file_name);
        let size = match name::size_field(unique, b'S') {
            Some(size) => size,
            // A file without `,S=` (delivered by another program): ask the file system.
            // If it vanished meanwhile, it is no longer a message of this maildir.
            None => fs::metadata(&path).ok()?.len(),
        };
        Some(MessageEntry {
            unique: unique.to_owned(),
            location,
            flags,
            size,
            virtual_size: name::size_field(unique, b'W'),
            path,
        })
    }

    /// The file name this entry has (or would have) in its directory.
    pub fn file_name(&self) -> String {
        match self.location {
            Location::New => self.unique.clone(),
            Location::Cur => format!("{}:2,{}", self.unique, self.flags),
        }
    }
}

/// Creates a directory with mode 0700, missing ancestors too, and makes each new entry
/// durable in its parent (fsync); succeeds when it already exists as a directory.
pub(crate) fn ensure_dir(path: &Path) -> Result<(), MaildirError> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        ensure_dir(parent)?;
    }
    match fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        // Another thread or process created it meanwhile.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => return Ok(()),
        Err(e) => return Err(io_err("create directory", path)(e)),
    }
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}

/// Makes the entries of a directory (renames, links, new files) durable.
pub(crate) fn sync_dir(path: &Path) -> Result<(), MaildirError> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(io_err("fsync directory", path))
}

impl Maildir {
    /// Opens the maildir at `path`, creating it (and `cur/`, `new/`, `tmp/`) with mode
    /// 0700 where missing. Newly created directories are fsynced into their parents.
    pub fn open(path: impl Into<PathBuf>) -> Result<Maildir, MaildirError> {
        let root = path.into();
        ensure_dir(&root)?;
        for sub in ["cur", "new", "tmp"] {
            ensure_dir(&root.join(sub))?;
        }
        Ok(Maildir {
            root,
            hostname: default_hostname(),
        })
    }

    /// Opens the maildir at `path` without creating anything.
    ///
    /// Fails with [`MaildirError::NotAMaildir`] when `cur/`, `new/` or `tmp/` is missing.
    pub fn open_existing(path: impl Into<PathBuf>) -> Result<Maildir, MaildirError> {
        let root = path.into();
        if !["cur", "new", "tmp"]
            .iter()
            .all(|sub| root.join(sub).is_dir())
        {
            return Err(MaildirError::NotAMaildir(root));
        }
        Ok(Maildir {
            root,
            hostname: default_hostname(),
        })
    }

    /// Uses `hostname` in the names of messages delivered from now on (instead of the
    /// name from [`system_hostname`](crate::system_hostname)). Characters that are not
    /// safe in a file name are escaped (`/` as `\057`, `:` as `\072`).
    #[must_use]
    pub fn with_hostname(mut self, hostname: &str) -> Maildir {
        self.hostname = sanitize_hostname(hostname);
        self
    }

    pub(crate) fn with_shared_hostname(mut self, hostname: Arc<str>) -> Maildir {
        self.hostname = hostname;
        self
    }

    /// The host name (escaped) that names of delivered messages end with.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The maildir's directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The path of `tmp/`, `new/` or `cur/`.
    pub(crate) fn sub(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Starts delivering a message: creates a new file in `tmp/` to write it into.
    ///
    /// Write the message with [`std::io::Write`], then call [`Delivery::commit`]; only
    /// when it returns `Ok` is the message safely on disk. See [`Delivery`].
    pub fn begin_delivery(&self) -> Result<Delivery, MaildirError> {
        Delivery::begin(self.clone())
    }

    /// Delivers a whole message held in memory: [`begin_delivery`](Self::begin_delivery),
    /// write, [`commit`](Delivery::commit).
    pub fn deliver(&self, message: &[u8]) -> Result<DeliveredMessage, MaildirError> {
        use std::io::Write;
        let mut delivery = self.begin_delivery()?;
        let tmp = delivery.tmp_path().to_path_buf();
        delivery.write_all(message).map_err(io_err("write", &tmp))?;
        delivery.commit()
    }

    /// Removes files in `tmp/` that were neither modified nor read for [`TMP_MAX_AGE`]
    /// (36 hours) before `now`: leftovers of deliveries interrupted by a crash. Returns
    /// how many were removed. A server calls this at start (`now` is
    /// `SystemTime::now()`).
    pub fn clean_tmp(&self, now: SystemTime) -> Result<usize, MaildirError> {
        self.clean_tmp_older_than(now, TMP_MAX_AGE)
    }

    /// Like [`clean_tmp`](Self::clean_tmp), with another age limit.
    pub fn clean_tmp_older_than(
        &self,
        now: SystemTime,
        max_age: Duration,
    ) -> Result<usize, MaildirError> {
        let tmp = self.sub("tmp");
        let mut removed = 0;
        for entry in fs::read_dir(&tmp).map_err(io_err("read directory", &tmp))? {
            let entry = entry.map_err(io_err("read directory", &tmp))?;
            // A file that vanished or cannot be examined is left alone.
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let newest = match (meta.modified(), meta.accessed()) {
                (Ok(m), Ok(a)) => m.max(a),
                (Ok(t), Err(_)) | (Err(_), Ok(t)) => t,
                (Err(_), Err(_)) => continue,
            };
            let old_enough = now.duration_since(newest).is_ok_and(|age| age >= max_age);
            if old_enough {
                let path = entry.path();
                match fs::remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err("remove", &path)(e)),
                }
            }
        }
        Ok(removed)
    }

    /// The messages in `new/` and `cur/`, oldest delivery first (by the time in their
    /// unique names; names that carry no time come last, by name).
    ///
    /// Hidden files (starting with `.`), directories and names that are not UTF-8 are
    /// skipped.
    pub fn list(&self) -> Result<Vec<MessageEntry>, MaildirError> {
        let mut entries = self.list_in(Location::New)?;
        entries.extend(self.list_in(Location::Cur)?);
        // By name first, then (stably) by delivery time: the time is parsed once per entry,
        // not once per comparison (it was a few per cent of a POP3 session's CPU).
        entries.sort_unstable_by(|a, b| a.unique.cmp(&b.unique));
        entries
            .sort_by_cached_key(|e| name::delivery_time(&e.unique).unwrap_or((u64::MAX, u32::MAX)));
        Ok(entries)
    }

    /// The messages in one of `new/` and `cur/`, in no particular order.
    pub fn list_in(&self, location: Location) -> Result<Vec<MessageEntry>, MaildirError> {
        let dir = self.sub(location.dir_name());
        let mut entries = Vec::new();
        for item in fs::read_dir(&dir).map_err(io_err("read directory", &dir))? {
            let item = item.map_err(io_err("read directory", &dir))?;
            if item.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let file_name = item.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if let Some(entry) = MessageEntry::from_file(&dir, location, file_name) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// Finds a message by its unique name, wherever it is now (`new/` or `cur/`, with
    /// any flags). `None` when it is in neither.
    pub fn find(&self, unique: &str) -> Result<Option<MessageEntry>, MaildirError> {
        if unique.is_empty() || unique.contains(['/', ':']) || unique.starts_with('.') {
            return Ok(None);
        }
        // The common case first: a message still in new/ under its plain name.
        let new_dir = self.sub("new");
        if new_dir.join(unique).is_file()
            && let Some(entry) = MessageEntry::from_file(&new_dir, Location::New, unique)
        {
            return Ok(Some(entry));
        }
        for location in [Location::Cur, Location::New] {
            let dir = self.sub(location.dir_name());
            for item in fs::read_dir(&dir).map_err(io_err("read directory", &dir))? {
                let item = item.map_err(io_err("read directory", &dir))?;
                let file_name = item.file_name();
                let Some(file_name) = file_name.to_str() else {
                    continue;
                };
                if name::split_info(file_name).0 == unique
                    && let Some(entry) = MessageEntry::from_file(&dir, location, file_name)
                {
                    return Ok(Some(entry));
                }
            }
        }
        Ok(None)
    }

    /// Runs `op` on the entry's path; if the file has gone (renamed by another session),
    /// finds it again by its unique name and runs `op` once more on the new path.
    fn with_current<T>(
        &self,
        entry: &MessageEntry,
        mut op: impl FnMut(&MessageEntry) -> io::Result<T>,
    ) -> Result<T, MaildirError> {
        match op(entry) {
            Ok(value) => return Ok(value),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("access", &entry.path)(e)),
        }
        let Some(current) = self.find(&entry.unique)? else {
            return Err(MaildirError::MessageNotFound(entry.unique.clone()));
        };
        match op(&current) {
            Ok(value) => Ok(value),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(MaildirError::MessageNotFound(entry.unique.clone()))
            }
            Err(e) => Err(io_err("access", &current.path)(e)),
        }
    }

    /// Opens a message for reading.
    ///
    /// The file stays readable after it is opened even if another session renames or
    /// removes it meanwhile.
    pub fn open_message(&self, entry: &MessageEntry) -> Result<File, MaildirError> {
        self.with_current(entry, |e| File::open(&e.path))
    }

    /// Reads a whole message into memory.
    pub fn read_message(&self, entry: &MessageEntry) -> Result<Vec<u8>, MaildirError> {
        let mut file = self.open_message(entry)?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(io_err("read", &entry.path))?;
        Ok(bytes)
    }

    /// Moves a message from `new/` to `cur/` (adding the info suffix `:2,` with its
    /// current flags). A message already in `cur/` is left as it is.
    pub fn move_to_cur(&self, entry: &MessageEntry) -> Result<MessageEntry, MaildirError> {
        if entry.location == Location::Cur {
            return Ok(entry.clone());
        }
        self.set_flags(entry, entry.flags)
    }

    /// Sets a message's flags to exactly `flags`, by renaming it to
    /// `cur/<unique>:2,<FLAGS>` (which also moves it out of `new/`). Returns the entry as
    /// it is now.
    ///
    /// Flag changes are not fsynced: after a crash a message may show its older flags,
    /// but it is never lost.
    pub fn set_flags(
        &self,
        entry: &MessageEntry,
        flags: Flags,
    ) -> Result<MessageEntry, MaildirError> {
        let cur = self.sub("cur");
        let mut updated = entry.clone();
        updated.location = Location::Cur;
        updated.flags = flags;
        updated.path = cur.join(updated.file_name());
        let target = updated.path.clone();
        self.with_current(entry, |current| fs::rename(&current.path, &target))?;
        Ok(updated)
    }

    /// Removes a message (POP3 `DELE` at `QUIT`, IMAP `EXPUNGE`).
    ///
    /// Fails with [`MaildirError::MessageNotFound`] when another session removed it first.
    pub fn remove(&self, entry: &MessageEntry) -> Result<(), MaildirError> {
        self.with_current(entry, |current| fs::remove_file(&current.path))
    }
}
