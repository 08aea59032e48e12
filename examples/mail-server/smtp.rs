//! The SMTP side: recipients, authentication, and delivery into the Maildirs.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use mailwire_core::sasl::Credentials;
use mailwire_maildir::{Delivery, Maildir};
use mailwire_smtp::server::{AbortReason, HeloVerb, ServerConfig, ServerEvent, ServerSession};
use mailwire_smtp::types::{ForwardPath, Host, Reply, ReversePath};
use mailwire_tokio::{ConnectionInfo, DriveError, Handler, Service};
use tracing::{info, warn};

use crate::App;
use crate::received::received_header;

/// Makes an SMTP session and its handler for each connection.
pub(crate) struct SmtpService {
    app: Arc<App>,
    config: Arc<ServerConfig>,
    seed: AtomicU64,
}

impl SmtpService {
    pub(crate) fn new(app: Arc<App>, config: Arc<ServerConfig>) -> SmtpService {
        // A CRAM-MD5 challenge must be unpredictable: seed from the clock and the pid,
        // then count.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        SmtpService {
            app,
            config,
            seed: AtomicU64::new(nanos ^ (u64::from(std::process::id()) << 32)),
        }
    }
}

impl Service for SmtpService {
    type Session = ServerSession;
    type Handler = SmtpHandler;

    fn open(&self, info: &ConnectionInfo) -> (ServerSession, SmtpHandler) {
        let mut session = if info.tls {
            ServerSession::new_tls(self.config.clone(), info.now)
        } else {
            ServerSession::new(self.config.clone(), info.now)
        };
        let random = self
            .seed
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
            .rotate_left(17);
        let timestamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        session.set_cram_md5_seed(random, timestamp);
        (session, SmtpHandler::new(self.app.clone(), info))
    }

    fn busy(&self, info: &ConnectionInfo) -> Option<(ServerSession, SmtpHandler)> {
        Some((
            ServerSession::busy(self.config.clone(), info.now),
            SmtpHandler::new(self.app.clone(), info),
        ))
    }

    fn finished(&self, info: &ConnectionInfo, result: &Result<(), DriveError>) {
        if let Err(e) = result {
            info!(peer = %info.peer, "session ended: {e}");
        }
    }
}

/// One session's application state: the envelope and the message being written.
pub(crate) struct SmtpHandler {
    app: Arc<App>,
    peer: String,
    /// Local users the current message goes to (deduplicated, in RCPT order).
    recipients: Vec<String>,
    from: String,
    delivery: Option<Delivery>,
    /// Writing the message failed: it will be refused at its end.
    write_failed: bool,
    messages: u32,
}

static MESSAGE_IDS: AtomicU64 = AtomicU64::new(1);

impl SmtpHandler {
    fn new(app: Arc<App>, info: &ConnectionInfo) -> SmtpHandler {
        SmtpHandler {
            app,
            peer: info.peer.ip().to_string(),
            recipients: Vec::new(),
            from: String::new(),
            delivery: None,
            write_failed: false,
            messages: 0,
        }
    }

    fn rcpt(&mut self, session: &ServerSession, to: &ForwardPath) -> Result<String, Reply> {
        let app = &self.app;
        let mailbox = match to {
            ForwardPath::Postmaster => {
                return app
                    .postmaster()
                    .map(str::to_owned)
                    .ok_or_else(Reply::no_such_user);
            }
            ForwardPath::Mailbox(mailbox) => mailbox,
        };
        let local = match &mailbox.domain {
            Host::Domain(domain) => domain.as_str().eq_ignore_ascii_case(&app.domain),
            _ => false,
        };
        if !local {
            return Err(if session.authenticated_user().is_some() {
                reply(
                    554,
                    (5, 7, 1),
                    "Relaying to other domains is not supported by this server yet",
                )
            } else {
                reply(554, (5, 7, 1), "Relay access denied")
            });
        }
        match app.user(mailbox.local_part.as_str()) {
            Some(user) => Ok(user.to_owned()),
            None => Err(reply(550, (5, 1, 1), "No such user here")),
        }
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

    /// Opens the file the message is written into, with our Received: header first.
    fn begin(&mut self, session: &ServerSession) -> Result<(), String> {
        self.write_failed = false;
        if self.app.discard {
            return Ok(());
        }
        let first = self
            .recipients
            .first()
            .ok_or_else(|| String::from("no recipients"))?;
        let inbox = self.app.store.inbox(first).map_err(|e| e.to_string())?;
        let mut delivery =
            tokio::task::block_in_place(|| inbox.begin_delivery()).map_err(|e| e.to_string())?;
        let protocol = match (
            session.helo_verb(),
            session.is_tls(),
            session.authenticated_user(),
        ) {
            (Some(HeloVerb::Helo), _, _) => "SMTP",
            (_, false, None) => "ESMTP",
            (_, true, None) => "ESMTPS",
            (_, false, Some(_)) => "ESMTPA",
            (_, true, Some(_)) => "ESMTPSA",
        };
        let helo = session
            .client_name()
            .map(ToString::to_string)
            .unwrap_or_else(|| String::from("unknown"));
        let id = format!("{:X}", MESSAGE_IDS.fetch_add(1, Ordering::Relaxed));
        let single = (self.recipients.len() == 1).then(|| format!("{first}@{}", self.app.domain));
        let header = received_header(
            &helo,
            &self.peer,
            &self.app.hostname,
            protocol,
            &id,
            single.as_deref(),
            SystemTime::now(),
        );
        delivery
            .write_all(header.as_bytes())
            .map_err(|e| e.to_string())?;
        self.delivery = Some(delivery);
        Ok(())
    }

    fn write(&mut self, chunk: &[u8]) {
        if let Some(delivery) = self.delivery.as_mut()
            && !self.write_failed
            && let Err(e) = tokio::task::block_in_place(|| delivery.write_all(chunk))
        {
            warn!(peer = %self.peer, "writing a message failed: {e}");
            self.write_failed = true;
        }
    }

    /// Makes the message durable in every recipient's Maildir; `Ok` names it.
    fn commit(&mut self) -> Result<String, String> {
        if self.app.discard {
            return Ok(String::from("discarded"));
        }
        let delivery = self
            .delivery
            .take()
            .ok_or_else(|| String::from("no message file"))?;
        if self.write_failed {
            let _ = delivery.abort();
            return Err(String::from("the message could not be written"));
        }
        let others: Vec<Maildir> = self
            .recipients
            .iter()
            .skip(1)
            .map(|user| self.app.store.inbox(user))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let refs: Vec<&Maildir> = others.iter().collect();
        let delivered = tokio::task::block_in_place(|| delivery.commit_all(&refs))
            .map_err(|e| e.to_string())?;
        Ok(delivered
            .first()
            .map(|d| d.unique.clone())
            .unwrap_or_default())
    }

    fn drop_message(&mut self) {
        if let Some(delivery) = self.delivery.take() {
            let _ = tokio::task::block_in_place(|| delivery.abort());
        }
    }
}

impl Handler<ServerSession> for SmtpHandler {
    async fn on_event(&mut self, session: &mut ServerSession, event: ServerEvent) {
        // Every verb call below answers a decision event, which is pending when the event
        // arrives; an error would mean a bug in this handler, so it is logged.
        let result = match event {
            ServerEvent::Helo { .. } => session.accept(),
            ServerEvent::Auth { credentials } => match self.check_credentials(&credentials) {
                Some(user) => {
                    info!(peer = %self.peer, user, "authenticated");
                    session.accept()
                }
                None => {
                    info!(peer = %self.peer, user = credentials.username(), "authentication failed");
                    session.reject(Reply::auth_failed())
                }
            },
            ServerEvent::Mail { from, .. } => {
                self.from = match &from {
                    ReversePath::Mailbox(mailbox) => mailbox.to_string(),
                    _ => String::from("<>"),
                };
                self.recipients.clear();
                session.accept()
            }
            ServerEvent::Rcpt { to, .. } => match self.rcpt(session, &to) {
                Ok(user) => {
                    if !self.recipients.contains(&user) {
                        self.recipients.push(user);
                    }
                    session.accept()
                }
                Err(refusal) => session.reject(refusal),
            },
            ServerEvent::DataStart { .. } => {
                if let Err(e) = self.begin(session) {
                    warn!(peer = %self.peer, "cannot start writing a message: {e}");
                    self.write_failed = true;
                }
                Ok(())
            }
            ServerEvent::Data(chunk) => {
                self.write(&chunk);
                Ok(())
            }
            ServerEvent::DataEnd { .. } => match self.commit() {
                Ok(id) => {
                    self.messages += 1;
                    info!(
                        peer = %self.peer,
                        from = %self.from,
                        to = ?self.recipients,
                        id = %id,
                        "message accepted"
                    );
                    self.recipients.clear();
                    session.accept_with(reply(250, (2, 0, 0), &format!("Ok: queued as {id}")))
                }
                Err(e) => {
                    warn!(peer = %self.peer, "message not stored: {e}");
                    self.recipients.clear();
                    session.reject(Reply::local_error())
                }
            },
            ServerEvent::DataAborted { reason } => {
                self.drop_message();
                if reason != AbortReason::ConnectionLost {
                    info!(peer = %self.peer, ?reason, "message refused");
                }
                Ok(())
            }
            ServerEvent::Reset => {
                self.drop_message();
                self.recipients.clear();
                Ok(())
            }
            ServerEvent::Closed { reason } => {
                self.drop_message();
                info!(peer = %self.peer, ?reason, messages = self.messages, "session closed");
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

/// A reply from literal parts (valid by construction).
fn reply(code: u16, enhanced: (u8, u16, u16), text: &str) -> Reply {
    Reply::with_enhanced(code, enhanced, text).unwrap_or_else(|_| Reply::local_error())
}
