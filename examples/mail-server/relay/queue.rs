//! The durable outbound queue under `DATA/queue/`: one body file and one envelope file
//! per message.
//!
//! ```text
//! DATA/queue/tmp/            files being written (never read back; emptied at start)
//! DATA/queue/msg/ID.body     the message as received (with our Received: header)
//! DATA/queue/msg/ID.env      the envelope and every recipient's state: the commit point
//! DATA/queue/flush           `mail-server queue flush` asks for every recipient to be due now
//! DATA/queue/lock            held (flock) by the running server
//! ```
//!
//! ## Crash safety
//!
//! A message exists in the queue **if and only if** `msg/ID.env` exists. Every file is
//! written under `tmp/`, fsynced, then renamed into `msg/`, and `msg/` is fsynced after the
//! last rename: a rename is atomic, so a reader (or a restart) sees either the old file or
//! the new one, never a half-written one, and the directory fsync makes the new name
//! survive a power cut. Accepting a message does, in order:
//!
//! 1. write the body into `tmp/ID.body`, fsync it;
//! 2. rename it to `msg/ID.body` (a body without an envelope is an orphan: removed at
//!    start, and the client never got its `250`);
//! 3. write `tmp/ID.env`, fsync, rename to `msg/ID.env`, fsync `msg/`: now it is queued,
//!    and only now may the SMTP server answer `250`.
//!
//! An envelope whose body is missing can only be left by a crash between step 3's rename
//! and its directory fsync (both renames are in `msg/`; a crash before the fsync may keep
//! either): the client got no `250`, so [`Queue::load`] removes it. A state change
//! (delivered, deferred, bounced) rewrites the envelope the same way (tmp, fsync, rename,
//! fsync `msg/`), so after a crash the envelope is the old state or the new one, never a
//! mix. A message leaves the queue by removing `msg/ID.env` first (the commit point), then
//! the body (after delivery, by a background task); a crash in between leaves an orphan
//! body, removed at start. (Removal after delivery is not fsynced: see [`Queue::apply`].)
//!
//! The envelope is a small line-based text file (`mailwire-queue 1` … `end`); values are
//! percent-encoded so that no address or error text can break a line. A file without its
//! `end` line, or otherwise unreadable, is set aside as `msg/ID.env.bad` and logged, never
//! delivered half-understood.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailwire_smtp::types::{BodyType, Notify, Ret};

/// Where a recipient stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RcptState {
    /// Still to be delivered.
    Pending,
    /// A remote server took it (2xx).
    Delivered,
    /// Failed for good (5xx, or the queue lifetime ran out); the DSN, if any, was sent.
    Bounced,
}

impl RcptState {
    fn as_str(self) -> &'static str {
        match self {
            RcptState::Pending => "pending",
            RcptState::Delivered => "delivered",
            RcptState::Bounced => "bounced",
        }
    }

    fn parse(s: &str) -> Option<RcptState> {
        Some(match s {
            "pending" => RcptState::Pending,
            "delivered" => RcptState::Delivered,
            "bounced" => RcptState::Bounced,
            _ => return None,
        })
    }
}

/// One recipient of a queued message, with its DSN parameters and delivery state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueuedRecipient {
    /// The address, in its wire form without brackets (`Mailbox`'s `Display`).
    pub(crate) address: String,
    /// `NOTIFY=` as given (RFC 3461).
    pub(crate) notify: Option<Notify>,
    /// `ORCPT=`: the address type and the decoded address.
    pub(crate) orcpt: Option<(String, String)>,
    pub(crate) state: RcptState,
    /// Delivery attempts that ended in a transient failure so far.
    pub(crate) attempts: u32,
    /// Not to be tried before this time.
    pub(crate) next_attempt: SystemTime,
    /// The last failure, as text (a remote reply, or what went wrong locally).
    pub(crate) last_error: Option<String>,
    /// A delay DSN was sent for this recipient (it is sent once).
    pub(crate) delay_notified: bool,
}

impl QueuedRecipient {
    /// A pending recipient, due at once.
    pub(crate) fn new(
        address: String,
        notify: Option<Notify>,
        orcpt: Option<(String, String)>,
    ) -> QueuedRecipient {
        QueuedRecipient {
            address,
            notify,
            orcpt,
            state: RcptState::Pending,
            attempts: 0,
            next_attempt: UNIX_EPOCH,
            last_error: None,
            delay_notified: false,
        }
    }

    /// The domain part of the address (after the last `@`), lowercased.
    pub(crate) fn domain(&self) -> String {
        self.address
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default()
    }
}

/// The envelope of a queued message: what `MAIL FROM` and `RCPT TO` said, and the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueuedMessage {
    pub(crate) id: String,
    /// When we accepted it.
    pub(crate) arrival: SystemTime,
    /// The sender's address (wire form), or `None` for `<>`.
    pub(crate) sender: Option<String>,
    pub(crate) ret: Option<Ret>,
    pub(crate) envid: Option<String>,
    pub(crate) body: Option<BodyType>,
    pub(crate) smtputf8: bool,
    pub(crate) recipients: Vec<QueuedRecipient>,
}

impl QueuedMessage {
    /// A new envelope (the id is given by [`Queue::begin`]).
    pub(crate) fn new(id: String, sender: Option<String>, arrival: SystemTime) -> QueuedMessage {
        QueuedMessage {
            id,
            arrival,
            sender,
            ret: None,
            envid: None,
            body: None,
            smtputf8: false,
            recipients: Vec::new(),
        }
    }

    /// Whether no recipient is pending any more (the message can leave the queue).
    pub(crate) fn is_done(&self) -> bool {
        self.recipients
            .iter()
            .all(|r| r.state != RcptState::Pending)
    }

    /// The envelope file's text.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::from("mailwire-queue 1\n");
        out.push_str(&format!("id {}\n", esc(&self.id)));
        out.push_str(&format!("arrival {}\n", secs(self.arrival)));
        match &self.sender {
            Some(sender) => out.push_str(&format!("sender {}\n", esc(sender))),
            None => out.push_str("sender <>\n"),
        }
        if let Some(ret) = self.ret {
            out.push_str(&format!("ret {}\n", ret.as_str()));
        }
        if let Some(envid) = &self.envid {
            out.push_str(&format!("envid {}\n", esc(envid)));
        }
        if let Some(body) = self.body {
            out.push_str(&format!("body {}\n", body.as_str()));
        }
        if self.smtputf8 {
            out.push_str("smtputf8\n");
        }
        for r in &self.recipients {
            out.push_str(&format!(
                "rcpt {} state={} attempts={} next={} delay={}",
                esc(&r.address),
                r.state.as_str(),
                r.attempts,
                secs(r.next_attempt),
                u8::from(r.delay_notified)
            ));
            if let Some(notify) = r.notify {
                out.push_str(&format!(" notify={}", notify_str(notify)));
            }
            if let Some((kind, addr)) = &r.orcpt {
                out.push_str(&format!(" orcpt={};{}", esc(kind), esc(addr)));
            }
            if let Some(error) = &r.last_error {
                out.push_str(&format!(" error={}", esc(error)));
            }
            out.push('\n');
        }
        out.push_str("end\n");
        out
    }

    /// Reads an envelope file's text; `None` when it is not a complete, valid one.
    pub(crate) fn decode(text: &str) -> Option<QueuedMessage> {
        let mut lines = text.lines();
        if lines.next()? != "mailwire-queue 1" {
            return None;
        }
        let mut msg = QueuedMessage::new(String::new(), None, UNIX_EPOCH);
        let mut ended = false;
        for line in lines {
            if ended {
                return None;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "id" => msg.id = unesc(rest)?,
                "arrival" => msg.arrival = from_secs(rest)?,
                "sender" if rest == "<>" => msg.sender = None,
                "sender" => msg.sender = Some(unesc(rest)?),
                "ret" => {
                    msg.ret = Some(match rest {
                        "FULL" => Ret::Full,
                        "HDRS" => Ret::Hdrs,
                        _ => return None,
                    })
                }
                "envid" => msg.envid = Some(unesc(rest)?),
                "body" => {
                    msg.body = Some(match rest {
                        "7BIT" => BodyType::SevenBit,
                        "8BITMIME" => BodyType::EightBitMime,
                        "BINARYMIME" => BodyType::BinaryMime,
                        _ => return None,
                    })
                }
                "smtputf8" => msg.smtputf8 = true,
                "rcpt" => msg.recipients.push(decode_rcpt(rest)?),
                "end" => ended = true,
                _ => return None,
            }
        }
        (ended && valid_id(&msg.id) && !msg.recipients.is_empty()).then_some(msg)
    }
}

fn decode_rcpt(text: &str) -> Option<QueuedRecipient> {
    let mut fields = text.split(' ');
    let mut r = QueuedRecipient::new(unesc(fields.next()?)?, None, None);
    for field in fields {
        let (key, value) = field.split_once('=')?;
        match key {
            "state" => r.state = RcptState::parse(value)?,
            "attempts" => r.attempts = value.parse().ok()?,
            "next" => r.next_attempt = from_secs(value)?,
            "delay" => r.delay_notified = value == "1",
            "notify" => r.notify = Some(parse_notify(value)?),
            "orcpt" => {
                let (kind, addr) = value.split_once(';')?;
                r.orcpt = Some((unesc(kind)?, unesc(addr)?));
            }
            "error" => r.last_error = Some(unesc(value)?),
            _ => return None,
        }
    }
    Some(r)
}

/// `NOTIFY` as in RFC 3461: `NEVER` or a comma list.
pub(crate) fn notify_str(notify: Notify) -> String {
    if notify.is_never() {
        return String::from("NEVER");
    }
    let mut parts = Vec::new();
    if notify.success {
        parts.push("SUCCESS");
    }
    if notify.failure {
        parts.push("FAILURE");
    }
    if notify.delay {
        parts.push("DELAY");
    }
    parts.join(",")
}

fn parse_notify(text: &str) -> Option<Notify> {
    if text == "NEVER" {
        return Some(Notify::NEVER);
    }
    let mut notify = Notify::NEVER;
    for part in text.split(',') {
        match part {
            "SUCCESS" => notify.success = true,
            "FAILURE" => notify.failure = true,
            "DELAY" => notify.delay = true,
            _ => return None,
        }
    }
    Some(notify)
}

/// Percent-encodes everything but printable ASCII other than `%`, `=`, `;` and space.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_graphic() && !matches!(b, b'%' | b'=' | b';') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        // An empty value would vanish between separators.
        out.push('%');
        out.push('-');
    }
    out
}

fn unesc(text: &str) -> Option<String> {
    if text == "%-" {
        return Some(String::new());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn from_secs(text: &str) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_secs(text.parse().ok()?))
}

/// Ids are hex digits and `-` only, so they are safe file names.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// A message body being written, before [`Queue::commit`].
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) id: String,
    tmp: PathBuf,
    writer: Option<BufWriter<File>>,
    failed: bool,
}

impl Incoming {
    /// Appends to the body; a failure is remembered and makes the commit fail.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other("an earlier write failed"));
        }
        let Some(writer) = self.writer.as_mut() else {
            return Err(io::Error::other("closed"));
        };
        let result = writer.write_all(bytes);
        if result.is_err() {
            self.failed = true;
        }
        result
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Not committed: the tmp file goes (a committed one was renamed away already).
        if self.writer.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The queue directory.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    msg: PathBuf,
    tmp: PathBuf,
    root: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Queue {
    /// Opens (creating) `DATA/queue/{msg,tmp}`.
    pub(crate) fn open(data: &Path) -> io::Result<Queue> {
        let root = data.join("queue");
        let queue = Queue {
            msg: root.join("msg"),
            tmp: root.join("tmp"),
            root,
        };
        for dir in [&queue.root, &queue.msg, &queue.tmp] {
            if !dir.is_dir() {
                fs::DirBuilder::new()
                    .mode(0o700)
                    .recursive(true)
                    .create(dir)?;
            }
        }
        sync_dir(&queue.root)?;
        Ok(queue)
    }

    /// Opens an existing queue without creating anything (for `queue list`).
    pub(crate) fn open_existing(data: &Path) -> io::Result<Queue> {
        let root = data.join("queue");
        if !root.join("msg").is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} holds no queue", data.display()),
            ));
        }
        Ok(Queue {
            msg: root.join("msg"),
            tmp: root.join("tmp"),
            root,
        })
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// A new unique id: the time, the pid and a counter (and the body file is created
    /// with `create_new`, so even a clash cannot overwrite anything).
    fn new_id() -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        format!(
            "{:X}{:05X}-{:X}-{:X}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Starts writing a message body (`tmp/ID.body`).
    pub(crate) fn begin(&self) -> io::Result<Incoming> {
        for _ in 0..8 {
            let id = Queue::new_id();
            let tmp = self.tmp.join(format!("{id}.body"));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
            {
                Ok(file) => {
                    return Ok(Incoming {
                        id,
                        tmp,
                        writer: Some(BufWriter::with_capacity(64 * 1024, file)),
                        failed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("could not find a free queue id"))
    }

    /// Makes the message durable: steps 1-3 of the module doc. `before_envelope` runs
    /// once the body is fsynced and before the envelope exists (a test hook).
    pub(crate) fn commit(
        &self,
        mut incoming: Incoming,
        envelope: &QueuedMessage,
        before_envelope: impl FnOnce(),
    ) -> io::Result<()> {
        debug_assert_eq!(incoming.id, envelope.id);
        if incoming.failed {
            return Err(io::Error::other("writing the message failed"));
        }
        let writer = incoming
            .writer
            .take()
            .ok_or_else(|| io::Error::other("closed"))?;
        let result = (|| {
            let file = writer.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            drop(file);
            before_envelope();
            fs::rename(&incoming.tmp, self.body_path(&envelope.id))?;
            self.write_envelope(envelope)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&incoming.tmp);
            let _ = fs::remove_file(self.body_path(&envelope.id));
            let _ = fs::remove_file(self.env_path(&envelope.id));
        }
        result
    }

    /// Queues a message held in memory (a DSN): a new id is given to `envelope`.
    pub(crate) fn enqueue(&self, envelope: &mut QueuedMessage, body: &[u8]) -> io::Result<()> {
        let mut incoming = self.begin()?;
        envelope.id = incoming.id.clone();
        incoming.write(body)?;
        self.commit(incoming, envelope, || {})
    }

    /// Several state changes at once (`None`: the message leaves the queue), made
    /// durable by one fsync of `msg/` at the end (group commit): each envelope is still
    /// written to a temp file, fsynced and renamed, so every message is in its old state
    /// or its new one.
    ///
    /// Removing a message here unlinks its envelope only (the commit point: the message
    /// is gone); its body is left to [`Queue::remove_bodies`], off the critical path (a
    /// body without an envelope is also removed at the next start).
    ///
    /// A batch that only removes messages is not fsynced: removal needs no durability.
    /// Should a power cut undo an unlink, the message is simply sent again, which SMTP's
    /// at-least-once delivery allows (a process crash cannot undo it: the kernel keeps
    /// the change). What must never be lost, a message we answered `250` for, was
    /// fsynced when it was queued. This keeps the cost of a delivered message to two
    /// unlinks.
    pub(crate) fn apply(&self, changes: &[(String, Option<QueuedMessage>)]) -> io::Result<()> {
        let mut first_error = None;
        let mut rewritten = false;
        for (id, change) in changes {
            let result = match change {
                Some(envelope) => {
                    rewritten = true;
                    self.replace_envelope(envelope)
                }
                None => self.unlink_envelope(id),
            };
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        if rewritten {
            sync_dir(&self.msg)?;
        }
        first_error.map_or(Ok(()), Err)
    }

    fn write_envelope(&self, envelope: &QueuedMessage) -> io::Result<()> {
        self.replace_envelope(envelope)?;
        sync_dir(&self.msg)
    }

    /// Writes the envelope to a temp file, fsyncs it and renames it into `msg/` (the
    /// caller fsyncs `msg/`).
    fn replace_envelope(&self, envelope: &QueuedMessage) -> io::Result<()> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = self.tmp.join(format!("{}.env.{n}", envelope.id));
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(envelope.encode().as_bytes())?;
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, self.env_path(&envelope.id))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Removes a message: the envelope (the commit point) first, then the body.
    pub(crate) fn remove(&self, id: &str) -> io::Result<()> {
        self.unlink(id)?;
        sync_dir(&self.msg)
    }

    /// Unlinks the envelope, then the body (the caller fsyncs `msg/`).
    fn unlink(&self, id: &str) -> io::Result<()> {
        self.unlink_envelope(id)?;
        let _ = fs::remove_file(self.body_path(id));
        Ok(())
    }

    fn unlink_envelope(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.env_path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Removes the bodies of messages whose envelopes [`Queue::apply`] removed.
    pub(crate) fn remove_bodies(&self, ids: &[String]) {
        for id in ids {
            let _ = fs::remove_file(self.body_path(id));
        }
    }

    pub(crate) fn body_path(&self, id: &str) -> PathBuf {
        self.msg.join(format!("{id}.body"))
    }

    fn env_path(&self, id: &str) -> PathBuf {
        self.msg.join(format!("{id}.env"))
    }

    /// The whole body (the SMTP client takes the message in one buffer).
    pub(crate) fn read_body(&self, id: &str) -> io::Result<Vec<u8>> {
        fs::read(self.body_path(id))
    }

    /// The first `limit` octets of the body, and the body's whole size.
    pub(crate) fn body_prefix(&self, id: &str, limit: u64) -> io::Result<(Vec<u8>, u64)> {
        let file = File::open(self.body_path(id))?;
        let size = file.metadata()?.len();
        let mut prefix = Vec::with_capacity(size.min(limit) as usize);
        file.take(limit).read_to_end(&mut prefix)?;
        Ok((prefix, size))
    }

    /// Every queued message, for the scheduler at start. Cleans up what a crash left:
    /// everything in `tmp/`, bodies without an envelope, envelopes without a body.
    /// Returns the messages and how many leftovers were removed.
    pub(crate) fn load(&self) -> io::Result<(Vec<QueuedMessage>, usize)> {
        let mut removed = 0;
        for item in fs::read_dir(&self.tmp)? {
            let item = item?;
            if fs::remove_file(item.path()).is_ok() {
                removed += 1;
            }
        }
        let (messages, orphans) = self.scan()?;
        for path in orphans {
            if fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        if removed > 0 {
            sync_dir(&self.msg)?;
            sync_dir(&self.tmp)?;
        }
        Ok((messages, removed))
    }

    /// Every queued message, read-only (for `queue list`); leftovers are skipped.
    pub(crate) fn list(&self) -> io::Result<Vec<QueuedMessage>> {
        Ok(self.scan()?.0)
    }

    /// The messages (sorted by arrival), and the leftover files of interrupted writes.
    fn scan(&self) -> io::Result<(Vec<QueuedMessage>, Vec<PathBuf>)> {
        let mut envelopes = Vec::new();
        let mut bodies = std::collections::HashSet::new();
        for item in fs::read_dir(&self.msg)? {
            let name = item?.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name.strip_suffix(".env") {
                envelopes.push(id.to_owned());
            } else if let Some(id) = name.strip_suffix(".body") {
                bodies.insert(id.to_owned());
            }
        }
        let mut messages = Vec::new();
        let mut orphans = Vec::new();
        for id in envelopes {
            if !bodies.remove(&id) {
                // See the module doc: only a crash before the 250 leaves this.
                orphans.push(self.env_path(&id));
                continue;
            }
            let path = self.env_path(&id);
            let text = match fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            match QueuedMessage::decode(&text) {
                Some(msg) if msg.id == id => messages.push(msg),
                _ => {
                    tracing::warn!(id = %id, "unreadable queue envelope set aside as .env.bad");
                    let _ = fs::rename(&path, self.msg.join(format!("{id}.env.bad")));
                }
            }
        }
        for id in bodies {
            orphans.push(self.body_path(&id));
        }
        messages.sort_by(|a, b| a.arrival.cmp(&b.arrival).then(a.id.cmp(&b.id)));
        Ok((messages, orphans))
    }

    fn flush_path(&self) -> PathBuf {
        self.root.join("flush")
    }

    /// Asks for every pending recipient to be due now (`queue flush`): a trigger file
    /// that the running server polls, or the next one reads at start.
    pub(crate) fn request_flush(&self) -> io::Result<()> {
        // Not fsynced: a request lost in a power cut asks for nothing that matters.
        File::create(self.flush_path()).map(drop)
    }

    /// Whether a flush was asked for; the request is consumed.
    pub(crate) fn take_flush_request(&self) -> bool {
        fs::remove_file(self.flush_path()).is_ok()
    }

    /// Takes the queue's lock file for the life of the server (a second server on the
    /// same data directory would deliver every message twice).
    pub(crate) fn lock(&self) -> io::Result<File> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.root.join("lock"))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(io::Error::other(
                "another mail-server is running on this data directory",
            )),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);
    impl Dir {
        fn new(tag: &str) -> Dir {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("mailwire-queue-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn envelope(id: &str) -> QueuedMessage {
        let mut msg = QueuedMessage::new(
            id.to_owned(),
            Some("alice@example.test".into()),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        );
        msg.ret = Some(Ret::Hdrs);
        msg.envid = Some("QQ 314159 = x;y%".into());
        msg.body = Some(BodyType::EightBitMime);
        msg.smtputf8 = true;
        msg.recipients.push(QueuedRecipient::new(
            "bob@remote.test".into(),
            Some(Notify {
                success: false,
                failure: true,
                delay: true,
            }),
            Some(("rfc822".into(), "Bob <b@x>".into())),
        ));
        let mut second =
            QueuedRecipient::new("\"j s\"@élan.test".into(), Some(Notify::NEVER), None);
        second.attempts = 3;
        second.last_error = Some("451 4.3.0 try\nlater".into());
        second.delay_notified = true;
        second.next_attempt = UNIX_EPOCH + Duration::from_secs(1_700_000_900);
        msg.recipients.push(second);
        msg
    }

    #[test]
    fn envelope_text_round_trips() {
        let msg = envelope("ABC-1-2");
        let text = msg.encode();
        assert_eq!(QueuedMessage::decode(&text), Some(msg.clone()));
        let mut null = msg.clone();
        null.sender = None;
        null.ret = None;
        null.envid = Some(String::new());
        assert_eq!(QueuedMessage::decode(&null.encode()), Some(null));
        // Every line is one line, whatever the values hold.
        assert_eq!(text.lines().filter(|l| l.starts_with("rcpt ")).count(), 2);
    }

    #[test]
    fn truncated_or_garbled_envelopes_are_refused() {
        let text = envelope("AB-1").encode();
        for cut in 0..text.len() - 1 {
            // Every strict prefix lacks the final "end\n" line (or its newline, which
            // only the whole text has).
            let prefix = &text[..cut];
            if prefix.ends_with("end") {
                continue;
            }
            assert_eq!(QueuedMessage::decode(prefix), None, "cut at {cut}");
        }
        assert_eq!(
            QueuedMessage::decode(&text.replace("state=pending", "state=x")),
            None
        );
        assert_eq!(
            QueuedMessage::decode(&text.replace("id AB-1", "id ../x")),
            None
        );
    }

    #[test]
    fn write_reload_update_remove() {
        let dir = Dir::new("cycle");
        let queue = Queue::open(&dir.0).unwrap();
        let mut incoming = queue.begin().unwrap();
        incoming.write(b"Subject: hi\r\n\r\nbody\r\n").unwrap();
        let mut msg = envelope(&incoming.id);
        let mut hook_ran = false;
        queue.commit(incoming, &msg, || hook_ran = true).unwrap();
        assert!(hook_ran);
        let (loaded, removed) = queue.load().unwrap();
        assert_eq!((loaded, removed), (vec![msg.clone()], 0));
        assert_eq!(
            queue.read_body(&msg.id).unwrap(),
            b"Subject: hi\r\n\r\nbody\r\n"
        );
        assert_eq!(
            queue.body_prefix(&msg.id, 4).unwrap(),
            (b"Subj".to_vec(), 21)
        );

        msg.recipients[0].state = RcptState::Delivered;
        msg.recipients[1].attempts = 4;
        queue.apply(&[(msg.id.clone(), Some(msg.clone()))]).unwrap();
        assert_eq!(queue.list().unwrap(), vec![msg.clone()]);
        assert!(
            fs::read_dir(&queue.tmp).unwrap().next().is_none(),
            "tmp/ is left empty"
        );

        queue.remove(&msg.id).unwrap();
        assert!(queue.list().unwrap().is_empty());
        assert!(fs::read_dir(&queue.msg).unwrap().next().is_none());
    }

    #[test]
    fn batched_changes_update_and_remove() {
        let dir = Dir::new("batch");
        let queue = Queue::open(&dir.0).unwrap();
        let mut a = envelope("");
        let mut b = envelope("");
        queue.enqueue(&mut a, b"a").unwrap();
        queue.enqueue(&mut b, b"b").unwrap();
        a.recipients[0].state = RcptState::Delivered;
        queue
            .apply(&[(a.id.clone(), Some(a.clone())), (b.id.clone(), None)])
            .unwrap();
        assert_eq!(queue.list().unwrap(), vec![a.clone()]);
        assert!(queue.body_path(&b.id).exists(), "left for remove_bodies");
        queue.remove_bodies(std::slice::from_ref(&b.id));
        assert!(!queue.body_path(&b.id).exists());
        assert!(fs::read_dir(&queue.tmp).unwrap().next().is_none());
    }

    #[test]
    fn half_written_entries_are_ignored_and_cleaned_at_start() {
        let dir = Dir::new("crash");
        let queue = Queue::open(&dir.0).unwrap();
        // A body still being written (crash before the fsync/rename).
        let mut incoming = queue.begin().unwrap();
        incoming.write(b"partial").unwrap();
        std::mem::forget(incoming);
        // A body renamed into msg/ whose envelope never made it.
        fs::write(queue.body_path("AAAA-1-1"), b"x").unwrap();
        // An envelope whose body rename was lost (crash before the dir fsync).
        let lone = envelope("BBBB-1-1");
        fs::write(queue.env_path("BBBB-1-1"), lone.encode()).unwrap();
        // A complete message next to them.
        let mut good = envelope("");
        queue.enqueue(&mut good, b"good").unwrap();

        assert_eq!(
            queue.list().unwrap(),
            vec![good.clone()],
            "list ignores leftovers"
        );
        let (loaded, removed) = queue.load().unwrap();
        assert_eq!(loaded, vec![good.clone()]);
        assert_eq!(removed, 3);
        let mut names: Vec<String> = fs::read_dir(&queue.msg)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [format!("{}.body", good.id), format!("{}.env", good.id)]
        );
        assert!(fs::read_dir(&queue.tmp).unwrap().next().is_none());
    }

    #[test]
    fn ids_are_unique_and_safe() {
        let dir = Dir::new("ids");
        let queue = Queue::open(&dir.0).unwrap();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..500 {
            let incoming = queue.begin().unwrap();
            assert!(valid_id(&incoming.id), "{}", incoming.id);
            assert!(seen.insert(incoming.id.clone()));
        }
    }

    #[test]
    fn failed_write_is_not_committed() {
        let dir = Dir::new("fail");
        let queue = Queue::open(&dir.0).unwrap();
        let mut incoming = queue.begin().unwrap();
        incoming.failed = true;
        let msg = envelope(&incoming.id);
        assert!(queue.commit(incoming, &msg, || {}).is_err());
        assert!(queue.list().unwrap().is_empty());
        assert!(fs::read_dir(&queue.tmp).unwrap().next().is_none());
    }

    #[test]
    fn flush_requests_are_consumed_once() {
        let dir = Dir::new("flush");
        let queue = Queue::open(&dir.0).unwrap();
        assert!(!queue.take_flush_request());
        queue.request_flush().unwrap();
        assert!(queue.take_flush_request());
        assert!(!queue.take_flush_request());
    }
}
