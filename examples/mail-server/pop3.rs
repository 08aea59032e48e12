//! The POP3 side: the same users and Maildirs as SMTP, one session at a time per maildrop.

use std::collections::HashSet;
use std::io::Read;
use std::sync::{Arc, Mutex};

use mailwire_core::sasl::Credentials;
use mailwire_maildir::{Maildir, MessageEntry};
use mailwire_pop3::server::{MessageInfo, ServerConfig, ServerEvent, ServerSession};
use mailwire_pop3::types::{ApopTimestamp, ExpirePolicy, Response, ResponseCode, Uid};
use mailwire_tokio::{ConnectionInfo, DriveError, Handler, Service};
use tracing::{info, warn};

use crate::{App, ChallengeSeed};

/// How much of a message file is read at a time.
const CHUNK: usize = 64 * 1024;

/// The users whose maildrop a session holds open (TRANSACTION state).
type Locks = Arc<Mutex<HashSet<String>>>;

/// Makes a POP3 session and its handler for each connection.
pub(crate) struct Pop3Service {
    app: Arc<App>,
    config: Arc<ServerConfig>,
    locks: Locks,
    seed: ChallengeSeed,
}

impl Pop3Service {
    /// A service; every listener given a clone of the same `locks` shares the IN-USE rule.
    ///
    /// What holds for this server whatever the flags is set here: it never deletes mail
    /// on its own (`EXPIRE NEVER`, unless the configuration says otherwise) and answers
    /// in English (`LANG`, RFC 6856).
    pub(crate) fn new(app: Arc<App>, config: Arc<ServerConfig>, locks: Locks) -> Pop3Service {
        let mut config = Arc::unwrap_or_clone(config);
        config.expire.get_or_insert(ExpirePolicy::Never);
        config.lang = true;
        let config = Arc::new(config);
        Pop3Service {
            app,
            config,
            locks,
            seed: ChallengeSeed::new(),
        }
    }
}

impl Service for Pop3Service {
    type Session = ServerSession;
    type Handler = Pop3Handler;

    fn open(&self, info: &ConnectionInfo) -> (ServerSession, Pop3Handler) {
        let (unique, clock) = self.seed.next();
        let session = match ApopTimestamp::generate(unique, clock, &self.app.hostname) {
            Ok(timestamp) => {
                ServerSession::with_timestamp(self.config.clone(), timestamp, info.tls, info.now)
            }
            Err(e) => {
                warn!(
                    "no APOP timestamp for hostname {:?}: {e}",
                    self.app.hostname
                );
                if info.tls {
                    ServerSession::new_tls(self.config.clone(), info.now)
                } else {
                    ServerSession::new(self.config.clone(), info.now)
                }
            }
        };
        (
            session,
            Pop3Handler::new(self.app.clone(), self.locks.clone(), info),
        )
    }

    fn busy(&self, info: &ConnectionInfo) -> Option<(ServerSession, Pop3Handler)> {
        Some((
            ServerSession::busy(self.config.clone(), info.now),
            Pop3Handler::new(self.app.clone(), self.locks.clone(), info),
        ))
    }

    fn finished(&self, info: &ConnectionInfo, result: &Result<(), DriveError>) {
        if let Err(e) = result {
            info!(peer = %info.peer, "POP3 session ended: {e}");
        }
    }
}

/// One POP3 session's state: the maildrop it holds and its listing.
pub(crate) struct Pop3Handler {
    app: Arc<App>,
    locks: Locks,
    peer: String,
    /// The user whose maildrop this session holds (and has locked).
    locked: Option<String>,
    maildir: Option<Maildir>,
    /// The listing given to the session: wire number n is `entries[n - 1]`.
    entries: Vec<MessageEntry>,
    /// The message being streamed (RETR, TOP).
    streaming: Option<Streaming>,
}

/// A message being streamed into the session, a piece at a time.
struct Streaming {
    file: std::fs::File,
    /// Its index in the listing.
    index: usize,
    /// `RETR` (moved to `cur/` once sent), not `TOP`.
    whole: bool,
    /// The piece being sent (at most CHUNK octets).
    buf: Vec<u8>,
}

impl Pop3Handler {
    fn new(app: Arc<App>, locks: Locks, info: &ConnectionInfo) -> Pop3Handler {
        Pop3Handler {
            app,
            locks,
            peer: info.peer.ip().to_string(),
            locked: None,
            maildir: None,
            entries: Vec::new(),
            streaming: None,
        }
    }

    /// The user name as configured, when `password` is theirs.
    fn check_password(&self, user: &str, password: &str) -> Option<String> {
        let expected = self.app.password_of(user)?;
        (expected == password).then(|| user.to_owned())
    }

    fn check_credentials(&self, credentials: &Credentials) -> Option<String> {
        let app = &self.app;
        match credentials {
            Credentials::Password(claim) => {
                let password = app.password_of(&claim.authcid)?;
                let authz_ok = claim
                    .authzid
                    .as_deref()
                    .is_none_or(|z| z.is_empty() || z == claim.authcid);
                (authz_ok && claim.password.expose() == password).then(|| claim.authcid.clone())
            }
            Credentials::CramMd5(claim) => {
                let password = app.password_of(&claim.username)?;
                claim.verify(password).then(|| claim.username.clone())
            }
            _ => None,
        }
    }

    fn lock(&self, user: &str) -> bool {
        match self.locks.lock() {
            Ok(mut set) => set.insert(user.to_owned()),
            // A panic while holding the lock: the set itself is still consistent.
            Err(poisoned) => poisoned.into_inner().insert(user.to_owned()),
        }
    }

    fn release(&mut self) {
        if let Some(user) = self.locked.take() {
            match self.locks.lock() {
                Ok(mut set) => set.remove(&user),
                Err(poisoned) => poisoned.into_inner().remove(&user),
            };
        }
        self.maildir = None;
        self.entries.clear();
        self.streaming = None;
    }

    /// Locks and lists `user`'s INBOX.
    fn open_maildrop(&mut self, user: &str) -> Result<Vec<MessageInfo>, Response> {
        if !self.lock(user) {
            return Err(Response::in_use());
        }
        self.locked = Some(user.to_owned());
        let listed = self.app.store.inbox(user).and_then(|maildir| {
            let entries = tokio::task::block_in_place(|| maildir.list())?;
            Ok((maildir, entries))
        });
        let (maildir, entries) = match listed {
            Ok(found) => found,
            Err(e) => {
                warn!(peer = %self.peer, user, "cannot open the maildrop: {e}");
                self.release();
                return Err(Response::err_with(
                    ResponseCode::SysTemp,
                    "Cannot open the maildrop",
                ));
            }
        };
        let mut listing = Vec::with_capacity(entries.len());
        let mut kept = Vec::with_capacity(entries.len());
        for entry in entries {
            let size = match entry.virtual_size {
                Some(size) => size,
                None => match tokio::task::block_in_place(|| crlf_size(&maildir, &entry)) {
                    Ok(size) => size,
                    // Gone meanwhile (another program took it): not part of this maildrop.
                    Err(e) => {
                        warn!(peer = %self.peer, user, unique = %entry.unique, "skipped: {e}");
                        continue;
                    }
                },
            };
            listing.push(MessageInfo {
                size,
                uid: uid_of(&entry.unique),
            });
            kept.push(entry);
        }
        self.maildir = Some(maildir);
        self.entries = kept;
        Ok(listing)
    }

    /// Starts streaming message `index` ([`ServerEvent::Retrieve`]): opens its file and
    /// sends the first pieces.
    fn retrieve(&mut self, session: &mut ServerSession, index: usize, top: Option<u32>) {
        self.streaming = None;
        let (Some(maildir), Some(entry)) = (self.maildir.as_ref(), self.entries.get(index)) else {
            let _ = session.reject(Response::err_with(ResponseCode::SysTemp, "No such message"));
            return;
        };
        // Message files are read inline, not through `block_in_place`: an open and a read
        // of at most CHUNK octets of a local file cost less than handing the worker thread
        // over (benches/pop3-load/README.md has the measurement).
        match maildir.open_message(entry) {
            Ok(file) => {
                let capacity = usize::try_from(entry.size).map_or(CHUNK, |s| s.saturating_add(1));
                self.streaming = Some(Streaming {
                    file,
                    index,
                    whole: top.is_none(),
                    buf: Vec::with_capacity(capacity.min(CHUNK)),
                });
                self.feed(session);
            }
            Err(e) => {
                warn!(peer = %self.peer, unique = %entry.unique, "cannot open a message: {e}");
                let _ = session.reject(Response::err_with(
                    ResponseCode::SysTemp,
                    "The message cannot be read now",
                ));
            }
        }
    }

    /// Sends pieces of the message being streamed while the session has room for them
    /// (the rest on [`ServerEvent::MoreMessageData`]); at its end finishes it, and moves
    /// it to `cur/` after a whole `RETR`.
    fn feed(&mut self, session: &mut ServerSession) {
        let Some(stream) = self.streaming.as_mut() else {
            warn!(peer = %self.peer, "handler bug: more message data asked, none open");
            return;
        };
        loop {
            if !session.wants_message_data() {
                break;
            }
            if !session.wants_message_chunk() {
                // The output is full: MoreMessageData comes once it has drained.
                return;
            }
            stream.buf.clear();
            match (&mut stream.file)
                .take(CHUNK as u64)
                .read_to_end(&mut stream.buf)
            {
                Ok(0) => break,
                Ok(_) => {
                    let _ = session.send_message_chunk(&stream.buf);
                }
                Err(e) => {
                    let unique = self.entries.get(stream.index).map(|e| e.unique.as_str());
                    warn!(peer = %self.peer, ?unique, "reading a message failed: {e}");
                    // Before the first chunk this is a -ERR; after it the session closes
                    // the connection so that a cut message is never taken for whole.
                    let _ = session.reject(Response::err_with(
                        ResponseCode::SysTemp,
                        "The message cannot be read now",
                    ));
                    self.streaming = None;
                    return;
                }
            }
        }
        let (index, whole) = (stream.index, stream.whole);
        self.streaming = None;
        if let Err(e) = session.finish_message() {
            warn!(peer = %self.peer, "handler bug: {e}");
            return;
        }
        if whole
            && let (Some(maildir), Some(entry)) = (self.maildir.as_ref(), self.entries.get(index))
        {
            match maildir.move_to_cur(entry) {
                Ok(moved) => {
                    if let Some(slot) = self.entries.get_mut(index) {
                        *slot = moved;
                    }
                }
                Err(e) => warn!(peer = %self.peer, "cannot move a message to cur/: {e}"),
            }
        }
    }

    /// Removes the deleted messages; `false` when some could not be removed.
    fn commit(&mut self, deleted: &[usize]) -> bool {
        let Some(maildir) = self.maildir.as_ref() else {
            return deleted.is_empty();
        };
        let mut ok = true;
        for &index in deleted {
            let Some(entry) = self.entries.get(index) else {
                continue;
            };
            match tokio::task::block_in_place(|| maildir.remove(entry)) {
                Ok(()) => {}
                // Removed by someone else meanwhile: it is gone, as asked.
                Err(mailwire_maildir::MaildirError::MessageNotFound { .. }) => {}
                Err(e) => {
                    warn!(peer = %self.peer, unique = %entry.unique, "cannot remove a message: {e}");
                    ok = false;
                }
            }
        }
        ok
    }
}

impl Drop for Pop3Handler {
    fn drop(&mut self) {
        // A task dropped mid-session (server shutdown) must not leave the maildrop locked.
        self.release();
    }
}

impl Handler<ServerSession> for Pop3Handler {
    async fn on_event(&mut self, session: &mut ServerSession, event: ServerEvent) {
        // Every verb call answers a decision event pending at that moment; an error would
        // be a bug in this handler, so it is logged.
        let result = match event {
            ServerEvent::Login { user, password } => {
                match self.check_password(&user, password.expose()) {
                    Some(_) => session.accept(),
                    None => {
                        info!(peer = %self.peer, user, "POP3 authentication failed");
                        session.reject(auth_failed())
                    }
                }
            }
            ServerEvent::Apop {
                user,
                digest,
                timestamp,
            } => {
                let ok = self
                    .app
                    .password_of(&user)
                    .is_some_and(|password| digest.verify(&timestamp, password));
                if ok {
                    session.accept()
                } else {
                    info!(peer = %self.peer, user, "POP3 APOP authentication failed");
                    session.reject(auth_failed())
                }
            }
            ServerEvent::Auth { credentials } => match self.check_credentials(&credentials) {
                Some(_) => session.accept(),
                None => {
                    info!(peer = %self.peer, user = credentials.username(), "POP3 authentication failed");
                    session.reject(auth_failed())
                }
            },
            ServerEvent::Maildrop { user } => match self.open_maildrop(&user) {
                Ok(listing) => {
                    info!(peer = %self.peer, user, messages = listing.len(), "POP3 maildrop opened");
                    session.open_maildrop(listing)
                }
                Err(refusal) => {
                    info!(peer = %self.peer, user, "POP3 maildrop refused: {}", refusal.text());
                    session.reject(refusal)
                }
            },
            ServerEvent::Retrieve { index, top } => {
                self.retrieve(session, index, top);
                Ok(())
            }
            ServerEvent::MoreMessageData { .. } => {
                self.feed(session);
                Ok(())
            }
            ServerEvent::Commit { deleted } => {
                let ok = self.commit(&deleted);
                info!(peer = %self.peer, user = ?self.locked, deleted = deleted.len(), "POP3 commit");
                self.release();
                if ok {
                    session.accept()
                } else {
                    session.reject(Response::err_with(
                        ResponseCode::SysTemp,
                        "Some deleted messages could not be removed",
                    ))
                }
            }
            ServerEvent::Closed { reason } => {
                self.release();
                info!(peer = %self.peer, ?reason, "POP3 session closed");
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            warn!(peer = %self.peer, "handler bug: {e}");
        }
    }

    fn on_shutdown(&mut self, session: &mut ServerSession) {
        session.shutdown();
    }
}

fn auth_failed() -> Response {
    Response::err_with(ResponseCode::Auth, "Authentication failed")
}

/// The `UIDL` of a message: its Maildir unique name, or (when that is too long or not
/// printable ASCII) a stable hash of it.
fn uid_of(unique: &str) -> Uid {
    if let Ok(uid) = Uid::new(unique) {
        return uid;
    }
    // Two FNV-1a 64 hashes (different offsets): stable across runs and builds.
    let fnv = |mut hash: u64| {
        for &b in unique.as_bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    };
    let text = format!(
        "H{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142)
    );
    // 33 characters of [0-9a-fH]: always a valid unique-id.
    Uid::new(text).unwrap_or_else(|_| unreachable!("a 33-character hex id is a valid uid"))
}

/// The size of a message as POP3 sends it: every line ending as CRLF (bare LF and bare
/// CR each become CRLF), and a CRLF added after a last line without one.
fn crlf_size(maildir: &Maildir, entry: &MessageEntry) -> Result<u64, String> {
    let mut file = maildir.open_message(entry).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    let mut after_cr = false;
    let mut line_start = true;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        };
        for &b in buf.get(..n).unwrap_or_default() {
            match b {
                b'\n' => {
                    // CRLF, or a bare LF that becomes CRLF.
                    size += 2;
                    after_cr = false;
                    line_start = true;
                }
                b'\r' => {
                    if after_cr {
                        // The previous CR was bare: it became CRLF.
                        size += 2;
                    }
                    after_cr = true;
                    line_start = false;
                }
                _ => {
                    if after_cr {
                        size += 2;
                        after_cr = false;
                    }
                    size += 1;
                    line_start = false;
                }
            }
        }
    }
    if after_cr || !line_start {
        size += 2;
    }
    Ok(size)
}
