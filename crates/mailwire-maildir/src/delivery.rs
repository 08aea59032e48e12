//! Crash-safe delivery: write into `tmp/`, fsync, link into `new/`, fsync `new/`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::io_err;
use crate::maildir::sync_dir;
use crate::name::{count_bare_lf, unique_base};
use crate::{Maildir, MaildirError};

/// How many fresh names a delivery tries before giving up with
/// [`MaildirError::NameCollision`].
const NAME_ATTEMPTS: usize = 8;

/// The write buffer of a delivery.
const BUFFER_SIZE: usize = 64 * 1024;

/// A message on its way into a maildir, made by [`Maildir::begin_delivery`].
///
/// The message is written into a new file in `tmp/` (created with `O_EXCL`, mode 0600)
/// through [`std::io::Write`] (buffered: write chunks of any size as they arrive).
/// Nothing is visible to mail readers until [`commit`](Self::commit), which
///
/// 1. flushes the buffer and `fsync`s the file,
/// 2. links it into `new/` as `<unique>,S=<size>,W=<size with CRLF>` (a hard link, which
///    unlike a rename never replaces an existing file; where the file system has no hard
///    links, a rename),
/// 3. `fsync`s `new/`, and removes the name in `tmp/`.
///
/// When `commit` returns `Ok`, the message survives a crash or power loss: only then may
/// an SMTP server answer `250`. When it returns an error, or the delivery is dropped or
/// [`abort`](Self::abort)ed, the file in `tmp/` is removed and no reader ever sees a
/// partial message.
///
/// A message for several local recipients is written once and committed to all of their
/// maildirs with [`commit_all`](Self::commit_all) or [`commit_each`](Self::commit_each).
/// The copies are hard links to one file: they share its owner and mode (0600), which
/// suits a server where one system user owns every virtual user's mail.
///
/// From an async server: a `Delivery` is `Send`. Its writes go to a 64 KiB buffer and
/// only touch the disk when it fills, but `begin_delivery` and `commit` (which waits for
/// fsync) block: run them, or the whole delivery, in `spawn_blocking`.
///
/// ```
/// # use std::io::Write;
/// # let dir = std::env::temp_dir().join(format!("mw-delivery-doc-{}", std::process::id()));
/// let maildir = mailwire_maildir::Maildir::open(&dir)?;
/// let mut delivery = maildir.begin_delivery()?;
/// delivery.write_all(b"Subject: test\r\n\r\n")?;
/// delivery.write_all(b"Hello\r\n")?;
/// let delivered = delivery.commit()?;
/// assert_eq!(delivered.size, 24);
/// assert_eq!(std::fs::read(&delivered.path)?, b"Subject: test\r\n\r\nHello\r\n");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Delivery {
    maildir: Maildir,
    /// The unique base name; the file is `tmp/<base>`.
    base: String,
    tmp_path: PathBuf,
    /// `None` once the file has been flushed and closed.
    writer: Option<BufWriter<File>>,
    size: u64,
    virtual_size: u64,
    last_was_cr: bool,
    /// Set when a write or flush failed: the file may lack bytes, so it must not be
    /// committed.
    write_failed: bool,
    /// Set when the file in `tmp/` is gone for good (committed or aborted).
    finished: bool,
}

/// A message that [`Delivery::commit`] put into a maildir's `new/`, durably.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveredMessage {
    /// The file name in `new/`, which is also the message's unique name
    /// ([`MessageEntry::unique`](crate::MessageEntry::unique)).
    pub unique: String,
    /// The full path of the file.
    pub path: PathBuf,
    /// The size in bytes.
    pub size: u64,
    /// The size with every line ending as CRLF (bare LFs counted as two bytes).
    pub virtual_size: u64,
}

impl Delivery {
    pub(crate) fn begin(maildir: Maildir) -> Result<Delivery, MaildirError> {
        let tmp_dir = maildir.sub("tmp");
        for _ in 0..NAME_ATTEMPTS {
            let base = unique_base(maildir.hostname());
            let tmp_path = tmp_dir.join(&base);
            match create_new(&tmp_path) {
                Ok(file) => {
                    return Ok(Delivery {
                        maildir,
                        base,
                        tmp_path,
                        writer: Some(BufWriter::with_capacity(BUFFER_SIZE, file)),
                        size: 0,
                        virtual_size: 0,
                        last_was_cr: false,
                        write_failed: false,
                        finished: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err("create", &tmp_path)(e)),
            }
        }
        Err(MaildirError::NameCollision(tmp_dir))
    }

    /// The path of the file in `tmp/` being written.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp_path
    }

    /// The maildir this delivery goes to.
    pub fn maildir(&self) -> &Maildir {
        &self.maildir
    }

    /// How many bytes have been written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes the buffer, fsyncs and closes the file in `tmp/`, and checks that it holds
    /// exactly the bytes written. Refuses when an earlier write failed (the caller may
    /// have ignored that error; the file could lack bytes).
    fn finish_file(&mut self) -> Result<(), MaildirError> {
        let failed = |what: String| MaildirError::Io {
            op: "write",
            path: self.tmp_path.clone(),
            source: io::Error::other(what),
        };
        if self.write_failed {
            return Err(failed(
                "an earlier write to this delivery failed".to_owned(),
            ));
        }
        if let Some(writer) = self.writer.take() {
            let file = writer
                .into_inner()
                .map_err(|e| io_err("write", &self.tmp_path)(e.into_error()))?;
            file.sync_all().map_err(io_err("fsync", &self.tmp_path))?;
            let on_disk = file
                .metadata()
                .map_err(io_err("stat", &self.tmp_path))?
                .len();
            if on_disk != self.size {
                return Err(failed(format!(
                    "the file holds {on_disk} bytes, {} were written",
                    self.size
                )));
            }
        }
        Ok(())
    }

    /// The `,S=<size>,W=<vsize>` fields of the final name.
    fn size_fields(&self) -> String {
        format!(",S={},W={}", self.size, self.virtual_size)
    }

    fn delivered(&self, unique: String, path: PathBuf) -> DeliveredMessage {
        DeliveredMessage {
            unique,
            path,
            size: self.size,
            virtual_size: self.virtual_size,
        }
    }

    /// Makes the message durable in `new/`. See [`Delivery`] for the steps.
    ///
    /// On error the file in `tmp/` is removed and the message is not delivered.
    pub fn commit(mut self) -> Result<DeliveredMessage, MaildirError> {
        self.finish_file()?;
        let placed = self.publish_own()?;
        self.finished = true;
        Ok(placed)
    }

    /// Commits the message to this delivery's maildir and to each of `others` (a message
    /// for several local recipients), all or nothing.
    ///
    /// The file is written once; each other maildir gets a hard link to it (or a copy,
    /// fsynced, when it is on another file system), and each `new/` is fsynced before this
    /// returns. The result lists this delivery's maildir first, then `others` in order.
    /// If any of them fails, the copies already placed are removed again (best effort)
    /// and the first error is returned: the sender may then retry without creating
    /// duplicates. Listing a maildir twice delivers two copies to it.
    pub fn commit_all(self, others: &[&Maildir]) -> Result<Vec<DeliveredMessage>, MaildirError> {
        let mut first_error = None;
        let mut placed = Vec::with_capacity(1 + others.len());
        for result in self.commit_each(others) {
            match result {
                Ok(message) => placed.push(message),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(placed),
            Some(e) => {
                for message in placed {
                    // Best effort: a copy that cannot be removed is a duplicate, not a loss.
                    let _ = fs::remove_file(&message.path);
                }
                Err(e)
            }
        }
    }

    /// Commits the message to this delivery's maildir and to each of `others`, and
    /// reports each outcome separately (what LMTP needs: one reply per recipient).
    ///
    /// The result has one entry per maildir: this delivery's first, then `others` in
    /// order. Each `Ok` entry is durable. If the file itself cannot be flushed and
    /// fsynced, every entry is that error (repeated as [`MaildirError::Io`] values).
    pub fn commit_each(
        mut self,
        others: &[&Maildir],
    ) -> Vec<Result<DeliveredMessage, MaildirError>> {
        if let Err(e) = self.finish_file() {
            // The error is reported for every maildir; `io::Error` is not `Clone`, so the
            // others get an error of the same kind and text.
            let (kind, text) = match &e {
                MaildirError::Io { source, .. } => (source.kind(), source.to_string()),
                other => (io::ErrorKind::Other, other.to_string()),
            };
            let copies = others.iter().map(|_| {
                Err(MaildirError::Io {
                    op: "write",
                    path: self.tmp_path.clone(),
                    source: io::Error::new(kind, text.clone()),
                })
            });
            return std::iter::once(Err(e)).chain(copies).collect();
        }
        // Link into the others first, while the file in tmp/ is ours alone; then move it
        // into our own new/.
        let mut rest = Vec::with_capacity(others.len());
        for other in others {
            rest.push(self.link_or_copy(other));
        }
        let own = self.publish_own();
        if own.is_ok() {
            self.finished = true;
        }
        let mut results = Vec::with_capacity(1 + others.len());
        results.push(own);
        results.extend(rest);
        results
    }

    /// Abandons the delivery: removes the file in `tmp/`. Dropping a delivery without
    /// committing does the same, ignoring errors.
    pub fn abort(mut self) -> Result<(), MaildirError> {
        self.writer = None;
        self.finished = true;
        match fs::remove_file(&self.tmp_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("remove", &self.tmp_path)(e)),
        }
    }

    /// Moves the (fsynced) file from `tmp/` into this delivery's `new/`.
    fn publish_own(&self) -> Result<DeliveredMessage, MaildirError> {
        let (unique, path) = publish(
            &self.tmp_path,
            &self.maildir,
            Some(&self.base),
            &self.size_fields(),
        )?;
        Ok(self.delivered(unique, path))
    }

    /// Places the (fsynced) file into another maildir's `new/`: a hard link, or a copy
    /// through that maildir's `tmp/` when linking fails (another file system).
    fn link_or_copy(&self, target: &Maildir) -> Result<DeliveredMessage, MaildirError> {
        let fields = self.size_fields();
        let new_dir = target.sub("new");
        let mut link_error = None;
        for _ in 0..NAME_ATTEMPTS {
            let unique = format!("{}{fields}", unique_base(target.hostname()));
            let path = new_dir.join(&unique);
            match fs::hard_link(&self.tmp_path, &path) {
                Ok(()) => {
                    if let Err(e) = sync_dir(&new_dir) {
                        let _ = fs::remove_file(&path);
                        return Err(e);
                    }
                    return Ok(self.delivered(unique, path));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    link_error = Some(e);
                    break;
                }
            }
        }
        if link_error.is_none() {
            return Err(MaildirError::NameCollision(new_dir));
        }
        // Cross-device (EXDEV) or no hard links on this file system: copy.
        let mut copy = Delivery::begin(target.clone())?;
        let mut source = File::open(&self.tmp_path).map_err(io_err("open", &self.tmp_path))?;
        io::copy(&mut source, &mut copy).map_err(io_err("copy", &copy.tmp_path))?;
        copy.commit()
    }
}

impl Write for Delivery {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| io::Error::other("the delivery's file is already closed"))?;
        let written = writer.write(buf).inspect_err(|e| {
            // `Interrupted` means nothing was written; the caller simply retries.
            if e.kind() != io::ErrorKind::Interrupted {
                self.write_failed = true;
            }
        })?;
        // `write` never reports more than it was given; `get` keeps that a non-panic.
        let accepted = buf.get(..written).unwrap_or(buf);
        self.size += accepted.len() as u64;
        self.virtual_size += accepted.len() as u64 + count_bare_lf(accepted, &mut self.last_was_cr);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(writer) => writer.flush().inspect_err(|e| {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.write_failed = true;
                }
            }),
            None => Ok(()),
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if !self.finished {
            // Close first, then remove; errors cannot be reported from a drop, and a
            // leftover is removed later by `Maildir::clean_tmp`.
            self.writer = None;
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

/// Creates a file that must not exist yet, readable and writable by its owner only.
fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Moves an fsynced file from `target`'s `tmp/` into its `new/` as `<base><fields>` and
/// fsyncs `new/`. A hard link is tried first (it fails instead of replacing an existing
/// file; on a clash a fresh base name is used), then a rename where hard links are not
/// supported. Returns the unique name and path in `new/`.
fn publish(
    tmp_path: &Path,
    target: &Maildir,
    base: Option<&str>,
    fields: &str,
) -> Result<(String, PathBuf), MaildirError> {
    let new_dir = target.sub("new");
    let mut base = base.map(str::to_owned);
    for _ in 0..NAME_ATTEMPTS {
        let unique = format!(
            "{}{fields}",
            base.take()
                .unwrap_or_else(|| unique_base(target.hostname()))
        );
        let path = new_dir.join(&unique);
        match fs::hard_link(tmp_path, &path) {
            Ok(()) => {
                sync_dir(&new_dir).inspect_err(|_| {
                    let _ = fs::remove_file(&path);
                })?;
                // The message is durable in new/; a leftover name in tmp/ would only be
                // cleaned up later, so an error here is not a failed delivery.
                let _ = fs::remove_file(tmp_path);
                return Ok((unique, path));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(_) if !path.exists() => {
                fs::rename(tmp_path, &path).map_err(io_err("rename", tmp_path))?;
                sync_dir(&new_dir).inspect_err(|_| {
                    let _ = fs::remove_file(&path);
                })?;
                return Ok((unique, path));
            }
            Err(e) => return Err(io_err("link", &path)(e)),
        }
    }
    Err(MaildirError::NameCollision(new_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "mailwire-maildir-unit-{tag}-{}-{}",
            std::process::id(),
            unique_base("x")
        ))
    }

    #[test]
    fn a_delivery_whose_write_failed_is_never_committed() {
        let dir = scratch("write-failed");
        let maildir = Maildir::open(&dir).unwrap();
        let mut delivery = maildir.begin_delivery().unwrap();
        delivery.write_all(b"Subject: half\r\n").unwrap();
        // As if the disk had filled up and the caller ignored the error.
        delivery.write_failed = true;
        let tmp = delivery.tmp_path().to_path_buf();
        let err = delivery.commit().unwrap_err();
        assert!(err.to_string().contains("earlier write"), "{err}");
        assert!(!tmp.exists());
        assert!(maildir.list().unwrap().is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_size_mismatch_is_never_committed() {
        let dir = scratch("size-mismatch");
        let maildir = Maildir::open(&dir).unwrap();
        let mut delivery = maildir.begin_delivery().unwrap();
        delivery.write_all(b"Subject: x\r\n").unwrap();
        // As if the accounting had missed bytes.
        delivery.size += 1;
        let results = delivery.commit_each(&[&maildir]);
        assert_eq!(results.len(), 2);
        assert!(results.iter().all(Result::is_err));
        assert!(maildir.list().unwrap().is_empty());
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
