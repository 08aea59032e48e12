//! The SMTP side: recipients, authentication, delivery into the Maildirs, and relaying.
//!
//! A recipient in our domain is a local user: the message goes into their Maildir. Any
//! other recipient is relayed, if the client authenticated or connects from a
//! `--relay-net` network (otherwise `554 5.7.1`): the message goes into the outbound
//! queue ([`crate::relay::queue`]). A message with both kinds is written to both while it
//! arrives; at its end the queue entry is made durable first, then the Maildir copies;
//! if either fails, the other is undone and the client gets `451` (all or nothing). Only
//! after both may the `250` go out. (A crash between the two leaves the queued copy
//! without a `250`: the client sends again and the remote recipients may get the message
//! twice, SMTP's usual at-least-once.)

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use mailwire_core::sasl::Credentials;
use mailwire_maildir::{Delivery, Maildir};
use mailwire_smtp::server::{AbortReason, HeloVerb, ServerConfig, ServerEvent, ServerSession};
use mailwire_smtp::types::{ForwardPath, Host, MailParameters, RcptParameters, Reply, ReversePath};
use mailwire_tokio::{ConnectionInfo, DriveError, Handler, Service};
use tracing::{info, warn};

use crate::received::received_header;
use crate::relay::queue::{Incoming, QueuedMessage, QueuedRecipient};
use crate::{App, ChallengeSeed};

/// Makes an SMTP session and its handler for each connection.
pub(crate) struct SmtpService {
    app: Arc<App>,
    config: Arc<ServerConfig>,
    seed: ChallengeSeed,
}

impl SmtpService {
    pub(crate) fn new(app: Arc<App>, config: Arc<ServerConfig>) -> SmtpService {
        SmtpService {
            app,
            config,
            seed: ChallengeSeed::new(),
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
        let (random, timestamp) = self.seed.next();
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
    /// Remote recipients of the current message, to be queued (deduplicated, in order).
    remote: Vec<QueuedRecipient>,
    from: String,
    /// The sender as a queue envelope wants it (`None` for `<>`).
    sender: Option<String>,
    mail_params: MailParameters,
    delivery: Option<Delivery>,
    /// The queued copy being written, when there are remote recipients.
    queued: Option<Incoming>,
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
            remote: Vec::new(),
            from: String::new(),
            sender: None,
            mail_params: MailParameters::default(),
            delivery: None,
            queued: None,
            write_failed: false,
            messages: 0,
        }
    }

    fn rcpt(
        &mut self,
        session: &ServerSession,
        to: &ForwardPath,
        params: &RcptParameters,
    ) -> Result<Rcpt, Reply> {
        let app = &self.app;
        let mailbox = match to {
            ForwardPath::Postmaster => {
                return app
                    .postmaster()
                    .map(|user| Rcpt::Local(user.to_owned()))
                    .ok_or_else(Reply::no_such_user);
            }
            ForwardPath::Mailbox(mailbox) => mailbox,
        };
        let local = match &mailbox.domain {
            Host::Domain(domain) => domain.as_str().eq_ignore_ascii_case(&app.domain),
            _ => false,
        };
        if !local {
            let allowed = session.authenticated_user().is_some()
                || self.peer.parse().is_ok_and(|ip| app.relay.may_relay(ip));
            if !allowed || app.discard {
                return Err(reply(554, (5, 7, 1), "Relay access denied"));
            }
            return Ok(Rcpt::Remote(QueuedRecipient::new(
                mailbox.to_string(),
                params.notify,
                params
                    .orcpt
                    .as_ref()
                    .map(|o| (o.addr_type().to_owned(), o.address().to_owned())),
            )));
        }
        match app.user(mailbox.local_part.as_str()) {
            Some(user) => Ok(Rcpt::Local(user.to_owned())),
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
        if self.recipients.is_empty() && self.remote.is_empty() {
            return Err(String::from("no recipients"));
        }
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
        let single = match (&self.recipients[..], &self.remote[..]) {
            ([user], []) => Some(format!("{user}@{}", self.app.domain)),
            ([], [remote]) => Some(remote.address.clone()),
            _ => None,
        };
        let header = received_header(
            &helo,
            &self.peer,
            &self.app.hostname,
            protocol,
            &id,
            single.as_deref(),
            SystemTime::now(),
        );
        if let Some(first) = self.recipients.first() {
            let inbox = self.app.store.inbox(first).map_err(|e| e.to_string())?;
            let mut delivery = tokio::task::block_in_place(|| inbox.begin_delivery())
                .map_err(|e| e.to_string())?;
            delivery
                .write_all(header.as_bytes())
                .map_err(|e| e.to_string())?;
            self.delivery = Some(delivery);
        }
        if !self.remote.is_empty() {
            let mut queued = tokio::task::block_in_place(|| self.app.relay.queue.begin())
                .map_err(|e| e.to_string())?;
            queued.write(header.as_bytes()).map_err(|e| e.to_string())?;
            self.queued = Some(queued);
        }
        Ok(())
    }

    fn write(&mut self, chunk: &[u8]) {
        if self.write_failed {
            return;
        }
        let result = tokio::task::block_in_place(|| {
            if let Some(delivery) = self.delivery.as_mut() {
                delivery.write_all(chunk)?;
            }
            if let Some(queued) = self.queued.as_mut() {
                queued.write(chunk)?;
            }
            Ok::<(), std::io::Error>(())
        });
        if let Err(e) = result {
            warn!(peer = %self.peer, "writing a message failed: {e}");
            self.write_failed = true;
        }
    }

    /// Makes the queued copy durable (before the Maildir copies, see the module doc).
    fn commit_queue(&mut self) -> Result<Option<QueuedMessage>, String> {
        let Some(queued) = self.queued.take() else {
            return Ok(None);
        };
        let mut envelope =
            QueuedMessage::new(queued.id.clone(), self.sender.clone(), SystemTime::now());
        envelope.ret = self.mail_params.ret;
        envelope.envid = self
            .mail_params
            .envid
            .as_ref()
            .map(|e| e.as_str().to_owned());
        envelope.body = self.mail_params.body;
        envelope.smtputf8 = self.mail_params.smtputf8;
        envelope.recipients = self.remote.clone();
        tokio::task::block_in_place(|| {
            self.app.relay.queue.commit(queued, &envelope, || {
                crate::relay::failpoint("queue-before-commit");
            })
        })
        .map_err(|e| format!("queuing failed: {e}"))?;
        Ok(Some(envelope))
    }

    /// Makes the message durable in every recipient's Maildir; `Ok` names it.
    fn commit(&mut self) -> Result<String, String> {
        if self.app.discard {
            return Ok(String::from("discarded"));
        }
        if self.write_failed || (self.delivery.is_none() && self.queued.is_none()) {
            self.drop_message();
            return Err(String::from("the message could not be written"));
        }
        let queued = match self.commit_queue() {
            Ok(queued) => queued,
            Err(e) => {
                self.drop_message();
                return Err(e);
            }
        };
        let Some(delivery) = self.delivery.take() else {
            return Ok(self.queued_ok(queued));
        };
        let local = self.deliver_local(delivery);
        match (local, queued) {
            (Ok(name), queued) => {
                if let Some(envelope) = queued {
                    self.queued_ok(Some(envelope));
                }
                Ok(name)
            }
            (Err(e), Some(envelope)) => {
                // All or nothing: the queued copy goes too.
                if let Err(undo) =
                    tokio::task::block_in_place(|| self.app.relay.queue.remove(&envelope.id))
                {
                    warn!(id = %envelope.id, "cannot remove the queued copy: {undo}");
                }
                Err(e)
            }
            (Err(e), None) => Err(e),
        }
    }

    /// A queued message is durable: the test hook, then the scheduler hears of it.
    fn queued_ok(&self, queued: Option<QueuedMessage>) -> String {
        let Some(envelope) = queued else {
            return String::new();
        };
        crate::relay::failpoint("queue-after-commit");
        let id = envelope.id.clone();
        self.app.relay.submit(envelope);
        id
    }

    /// Commits the Maildir copy into every local recipient's INBOX.
    fn deliver_local(&self, delivery: Delivery) -> Result<String, String> {
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
        // Dropping an uncommitted queue entry removes its tmp file.
        self.queued = None;
    }

    fn clear_envelope(&mut self) {
        self.recipients.clear();
        self.remote.clear();
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
            ServerEvent::Mail { from, params } => {
                self.sender = match &from {
                    ReversePath::Mailbox(mailbox) => Some(mailbox.to_string()),
                    _ => None,
                };
                self.from = self.sender.clone().unwrap_or_else(|| String::from("<>"));
                self.mail_params = params;
                self.clear_envelope();
                session.accept()
            }
            ServerEvent::Rcpt { to, params } => match self.rcpt(session, &to, &params) {
                Ok(Rcpt::Local(user)) => {
                    if !self.recipients.contains(&user) {
                        self.recipients.push(user);
                    }
                    session.accept()
                }
                Ok(Rcpt::Remote(remote)) => {
                    if !self.remote.iter().any(|r| r.address == remote.address) {
                        self.remote.push(remote);
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
                    let remote: Vec<&str> =
                        self.remote.iter().map(|r| r.address.as_str()).collect();
                    info!(
                        peer = %self.peer,
                        from = %self.from,
                        to = ?self.recipients,
                        relay = ?remote,
                        id = %id,
                        "message accepted"
                    );
                    self.clear_envelope();
                    session.accept_with(reply(250, (2, 0, 0), &format!("Ok: queued as {id}")))
                }
                Err(e) => {
                    warn!(peer = %self.peer, "message not stored: {e}");
                    self.clear_envelope();
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
                self.clear_envelope();
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

/// What a `RCPT` names.
enum Rcpt {
    /// A local user.
    Local(String),
    /// Someone elsewhere, to relay to.
    Remote(QueuedRecipient),
}

/// A reply from literal parts (valid by construction).
fn reply(code: u16, enhanced: (u8, u16, u16), text: &str) -> Reply {
    Reply::with_enhanced(code, enhanced, text).unwrap_or_else(|_| Reply::local_error())
}
