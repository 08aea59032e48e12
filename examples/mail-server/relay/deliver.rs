//! One outbound SMTP session to a destination: route, connect, then carry every job of
//! the destination's line through one mailwire-smtp [`ClientSession`] driven by
//! mailwire-tokio, until the line stays empty for `idle_timeout` (then `QUIT`).
//!
//! - Routing and connecting: the hosts from [`super::route::resolve`] in order, each of
//!   their addresses, each within `--connect-timeout`. When none answers, or routing
//!   fails, the job and every other job waiting for this destination get the same
//!   result (a dead destination is not hammered once per message).
//! - The session sends `STARTTLS` when offered (`--require-tls`: the session ends when it
//!   is not), pipelines and uses `BDAT` when offered (the client decides). Certificates
//!   are not verified (see [`super`]).
//! - A message is given to the session only after `Ready`, so that its envelope can be
//!   fitted to what the server offers: DSN parameters only to a server offering `DSN`
//!   (RFC 3461 4.x: we then simply stop carrying them), `BODY=8BITMIME` only when offered
//!   (otherwise the message is converted to 7 bit with quoted-printable and base64,
//!   RFC 6152 section 3, by `mailwire_mime::to_seven_bit`; one that cannot be, with 8-bit
//!   header fields, goes as it is, as most MTAs do), and recipients whose address needs
//!   `SMTPUTF8` fail for good when it is not offered (RFC 6531 3.2); the rest go on.
//! - Results per recipient: `RCPT` replies, then the reply to the message. 2xx →
//!   delivered, 4xx or a session that ended → deferred, 5xx → bounced.
//!
//! - Two messages are given to the client at a time (the next one follows the current
//!   without waiting for us), and the body of the one after is read from disk by a
//!   blocking task while the session talks, picked up through `wait_external`.
//!
//! **Memory**: `ClientSession::send_mail` takes the message as one `Bytes` (the client
//! has no way to take content in pieces), so a session holds its messages in memory: up to
//! three small ones (two given to the client, one being read), but the next message is
//! read ahead only while those given to the client hold under `READ_AHEAD_BYTES`, so a
//! session holds at most one large message: about `--max-deliveries` ×
//! `--max-message-size` in all. The client dot-stuffs and chunks from that buffer
//! piecewise, without another whole copy.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use mailwire_core::Session;
use mailwire_smtp::client::{
    ClientConfig, ClientError, ClientEvent, ClientSession, Envelope, LocalRefusal, MessageFailure,
    Recipient, TlsPolicy, TransactionId,
};
use mailwire_smtp::types::{
    BodyType, Capabilities, EnvelopeId, ForwardPath, Host, Mailbox, OriginalRecipient,
    RcptParameters, Reply, ReversePath,
};
use mailwire_tokio::{
    ClientTlsOptions, Connection, DriveError, DriveOptions, Handler, TlsMode, connect, drive,
};
use tracing::{debug, warn};

use super::queue::QueuedMessage;
use super::route::{RouteError, Shuffle, resolve};
use super::schedule::{Context, Destination, Job, Outcome, Report};

/// How many messages a session holds at once: the one being sent, and the next, given
/// to the client before the first is done so that it follows without a pause.
const IN_SESSION: usize = 2;

/// The next message is read ahead only while the messages given to the client hold fewer
/// octets than this: small messages follow each other without a pause, and a session
/// never holds more than one large message (plus this much).
const READ_AHEAD_BYTES: usize = 256 * 1024;

/// A body being read from the queue, off the session's path.
type Loading = tokio::task::JoinHandle<std::io::Result<Vec<u8>>>;

/// One session's state, and the application side of its [`ClientSession`].
///
/// Jobs flow: the destination's line → `loading` (the body is read by a blocking task
/// while the session goes on with the network) → `loaded` (picked up through
/// [`Handler::wait_external`]) → given to the client (`flights`, at most
/// [`IN_SESSION`]) → its result is reported to the scheduler.
pub(crate) struct Courier {
    context: Arc<Context>,
    destination: Arc<Destination>,
    /// `HOST:PORT` of the server we talk to.
    relay: String,
    /// The job taken before connecting: it gets the blame if the session never opens.
    first: Option<Job>,
    /// `Ready` was seen.
    ready: bool,
    /// Why the session closed before `Ready`: [`session`] tries the next host, or gives
    /// `first` (and the destination's line) this outcome when none is left.
    unopened: Option<Outcome>,
    loading: Option<(Job, Loading)>,
    loaded: Option<(Job, Result<Vec<u8>, String>)>,
    /// Messages given to the client, in order.
    flights: VecDeque<(TransactionId, InFlight)>,
    /// Jobs whose session ended under them; they learn why at `Closed`.
    ended: Vec<InFlight>,
    capabilities: Option<Capabilities>,
    /// Waiting for a job since then.
    idle_since: Option<tokio::time::Instant>,
}

/// A message handed to the session.
struct InFlight {
    job: Job,
    /// The message's size in octets.
    bytes: usize,
    /// The envelope's recipients: their indices in the queued message.
    sent: Vec<usize>,
    /// The `RCPT` reply per envelope recipient.
    replies: Vec<Option<Reply>>,
    /// Results known already (recipients that could not be sent).
    results: Vec<(usize, Outcome)>,
}

impl Courier {
    pub(crate) fn new(context: Arc<Context>, destination: Arc<Destination>) -> Courier {
        Courier {
            context,
            destination,
            relay: String::new(),
            first: None,
            ready: false,
            unopened: None,
            loading: None,
            loaded: None,
            flights: VecDeque::new(),
            ended: Vec::new(),
            capabilities: None,
            idle_since: None,
        }
    }

    fn report(&self, job: &Job, results: Vec<(usize, Outcome)>) {
        if results.is_empty() {
            return;
        }
        let _ = self.context.reports.send(Report::Results {
            id: job.message.id.clone(),
            results,
        });
    }

    /// Gives every recipient of `job` the same outcome.
    fn report_all(&self, job: &Job, outcome: &Outcome) {
        let results = job
            .recipients
            .iter()
            .map(|&i| (i, outcome.clone()))
            .collect();
        self.report(job, results);
    }

    /// The destination cannot be used now: `job` and every job waiting for it get
    /// `outcome`.
    fn fail_destination(&self, job: Option<&Job>, outcome: &Outcome) {
        if let Some(job) = job {
            self.report_all(job, outcome);
        }
        for job in self.destination.drain() {
            self.report_all(&job, outcome);
        }
    }

    /// Starts loading the next job when the session has room, or starts idling, or
    /// (shutting down, or idle for too long) quits once nothing is in flight.
    fn refill(&mut self, session: &mut ClientSession, idle_over: bool) {
        if !self.ready || self.loading.is_some() || self.loaded.is_some() {
            return;
        }
        let stopping = self.context.shutdown.is_triggered();
        if self.flights.len() < IN_SESSION
            && self.flights.iter().map(|(_, f)| f.bytes).sum::<usize>() < READ_AHEAD_BYTES
            && !stopping
            && let Some(job) = self.first.take().or_else(|| self.destination.pop())
        {
            self.stop_idle();
            let queue = self.context.app.relay.queue.clone();
            let id = job.message.id.clone();
            let seven_bit = !self
                .capabilities
                .as_ref()
                .is_some_and(Capabilities::supports_8bitmime);
            let handle = tokio::task::spawn_blocking(move || {
                let body = queue.read_body(&id)?;
                Ok(if seven_bit {
                    downgrade(&id, body)
                } else {
                    body
                })
            });
            self.loading = Some((job, handle));
            return;
        }
        if !self.flights.is_empty() {
            return;
        }
        if stopping || idle_over {
            self.stop_idle();
            session.quit();
        } else if self.idle_since.is_none() {
            self.idle_since = Some(tokio::time::Instant::now());
            self.destination.idle.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn stop_idle(&mut self) {
        if self.idle_since.take().is_some() {
            self.destination.idle.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Hands a loaded job to the session (or reports why it cannot go).
    fn submit(&mut self, session: &mut ClientSession, job: Job, body: Result<Vec<u8>, String>) {
        let body = match body {
            Ok(body) => Bytes::from(body),
            Err(e) => {
                let error = format!("cannot read the queued message: {e}");
                self.report_all(&job, &Outcome::Deferred { error });
                return;
            }
        };
        let caps = self.capabilities.clone().unwrap_or_default();
        let (envelope, sent, results) = fit_envelope(&job.message, &job.recipients, &caps);
        let Some(mut envelope) = envelope else {
            self.report(&job, results);
            return;
        };
        if envelope.params.smtputf8 && !caps.supports_smtputf8() && header_is_ascii(&body) {
            // The client asked for SMTPUTF8, but what goes to this server needs none: the
            // addresses sent are ASCII (the others failed above) and so is the header.
            // Sent without it, as Postfix does, instead of failing every recipient.
            envelope.params.smtputf8 = false;
        }
        let bytes = body.len();
        match session.send_mail(envelope, body) {
            Ok(id) => {
                let count = sent.len();
                self.flights.push_back((
                    id,
                    InFlight {
                        job,
                        bytes,
                        sent,
                        replies: vec![None; count],
                        results,
                    },
                ));
            }
            Err(e) => {
                let mut results = results;
                let error = format!("session closing: {e}");
                results.extend(sent.iter().map(|&i| {
                    (
                        i,
                        Outcome::Deferred {
                            error: error.clone(),
                        },
                    )
                }));
                self.report(&job, results);
            }
        }
    }

    /// A message given to the client ended: the reply to its end (`Ok`) or its failure.
    fn finish(&mut self, id: TransactionId, end: Result<Reply, MessageFailure>) {
        let Some(at) = self.flights.iter().position(|(t, _)| *t == id) else {
            return;
        };
        let Some((_, flight)) = self.flights.remove(at) else {
            return;
        };
        if matches!(end, Err(MessageFailure::SessionEnded)) {
            self.ended.push(flight);
            return;
        }
        let InFlight {
            job,
            sent,
            replies,
            mut results,
            ..
        } = flight;
        for (n, &index) in sent.iter().enumerate() {
            let rcpt_reply = replies.get(n).cloned().flatten();
            let outcome = match (&rcpt_reply, &end) {
                // Refused at RCPT: its own reply decides.
                (Some(reply), _) if !reply.is_positive_completion() => self.by_reply(reply),
                (_, Ok(_)) => Outcome::Delivered {
                    relay: self.relay.clone(),
                    dsn: self
                        .capabilities
                        .as_ref()
                        .is_some_and(Capabilities::supports_dsn),
                },
                (_, Err(failure)) => match failure.reply() {
                    Some(reply) => self.by_reply(reply),
                    None => local_failure(failure),
                },
            };
            results.push((index, outcome));
        }
        self.report(&job, results);
    }

    fn by_reply(&self, reply: &Reply) -> Outcome {
        let error = reply_text(reply);
        if reply.is_permanent() {
            Outcome::Bounced {
                status: reply
                    .enhanced()
                    .map(|e| (e.class(), e.subject(), e.detail()))
                    .filter(|s| s.0 == 5)
                    .unwrap_or((5, 0, 0)),
                error,
                remote_mta: Some(self.relay_host()),
            }
        } else {
            Outcome::Deferred { error }
        }
    }

    fn relay_host(&self) -> String {
        self.relay
            .rsplit_once(':')
            .map_or(self.relay.as_str(), |(h, _)| h)
            .to_owned()
    }

    /// The session closed: jobs cut off learn why; if it never opened, `unopened` says
    /// why (and [`session`] tries the next host). Jobs taken but not yet given to the
    /// client go back to the destination's line.
    fn closed(&mut self, error: Option<ClientError>) {
        // The client reports every message before `Closed`; this only matters if the
        // driver stopped without the session closing.
        for (_, flight) in std::mem::take(&mut self.flights) {
            self.ended.push(flight);
        }
        let text = match &error {
            Some(e) => format!("session with {} ended: {e}", self.relay),
            None => format!("session with {} ended", self.relay),
        };
        for flight in std::mem::take(&mut self.ended) {
            let mut results = flight.results;
            results.extend(flight.sent.iter().map(|&i| {
                (
                    i,
                    Outcome::Deferred {
                        error: text.clone(),
                    },
                )
            }));
            self.report(&flight.job, results);
        }
        let unsent = self
            .loading
            .take()
            .map(|(job, handle)| {
                handle.abort();
                job
            })
            .into_iter()
            .chain(self.loaded.take().map(|(job, _)| job));
        for job in unsent {
            self.destination
                .jobs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push_front(job);
        }
        if self.first.is_some() {
            // Never got to Ready: a greeting or hello refused for good is a permanent
            // failure, anything else (TLS missing under --require-tls, a timeout, a 4xx)
            // a transient one.
            self.unopened =
                Some(match &error {
                    Some(
                        ClientError::GreetingRefused(reply) | ClientError::HelloRefused(reply),
                    ) if reply.is_permanent() => self.by_reply(reply),
                    _ => Outcome::Deferred { error: text },
                });
        }
        self.stop_idle();
    }
}

/// The envelope for `indices` of `message`, fitted to what the server offers; the
/// recipients sent (indices into the message), and results for those that cannot be.
fn fit_envelope(
    message: &QueuedMessage,
    indices: &[usize],
    caps: &Capabilities,
) -> (Option<Envelope>, Vec<usize>, Vec<(usize, Outcome)>) {
    let mut results = Vec::new();
    let bounce = |status, error: &str| Outcome::Bounced {
        status,
        error: error.to_owned(),
        remote_mta: None,
    };
    let from = match &message.sender {
        None => Some(ReversePath::Null),
        Some(sender) => Mailbox::try_from(sender.as_str())
            .ok()
            .map(ReversePath::Mailbox),
    };
    let Some(from) = from else {
        let outcome = bounce((5, 1, 7), "the queued sender address is invalid");
        return (
            None,
            Vec::new(),
            indices.iter().map(|&i| (i, outcome.clone())).collect(),
        );
    };
    let dsn = caps.supports_dsn();
    let mut envelope = Envelope::new(from);
    if dsn {
        envelope.params.ret = message.ret;
        envelope.params.envid = message
            .envid
            .as_deref()
            .and_then(|e| EnvelopeId::try_from(e).ok());
    }
    envelope.params.body = match message.body {
        Some(BodyType::BinaryMime) => Some(BodyType::BinaryMime),
        Some(BodyType::EightBitMime) if caps.supports_8bitmime() => Some(BodyType::EightBitMime),
        _ => None,
    };
    envelope.params.smtputf8 = message.smtputf8;
    let mut sent = Vec::new();
    for &index in indices {
        let Some(rcpt) = message.recipients.get(index) else {
            continue;
        };
        let Ok(mailbox) = Mailbox::try_from(rcpt.address.as_str()) else {
            results.push((
                index,
                bounce((5, 1, 3), "the queued recipient address is invalid"),
            ));
            continue;
        };
        if mailbox.needs_smtputf8() && !caps.supports_smtputf8() {
            results.push((
                index,
                bounce(
                    (5, 6, 7),
                    "the address needs SMTPUTF8, which the next hop does not offer",
                ),
            ));
            continue;
        }
        let mut params = RcptParameters::default();
        if dsn {
            params.notify = rcpt.notify;
            params.orcpt = rcpt
                .orcpt
                .as_ref()
                .and_then(|(t, a)| OriginalRecipient::new(t, a).ok());
        }
        envelope.push(Recipient {
            to: ForwardPath::Mailbox(mailbox),
            params,
        });
        sent.push(index);
    }
    if sent.is_empty() {
        return (None, sent, results);
    }
    (Some(envelope), sent, results)
}

/// Whether the message's header section (up to the first empty line) is ASCII.
fn header_is_ascii(message: &[u8]) -> bool {
    for line in message.split(|&b| b == b'\n') {
        if line.is_empty() || line == b"\r" {
            return true;
        }
        if !line.is_ascii() {
            return false;
        }
    }
    true
}

/// A failure without a server reply: the client refused it itself (permanent), or the
/// session ended (transient; reported at `Closed`).
fn local_failure(failure: &MessageFailure) -> Outcome {
    match failure {
        MessageFailure::Local(refusal) => {
            let status = match refusal {
                LocalRefusal::TooLarge { .. } => (5, 3, 4),
                LocalRefusal::NotOffered("SMTPUTF8") => (5, 6, 7),
                _ => (5, 5, 4),
            };
            Outcome::Bounced {
                status,
                error: format!("not sent: {refusal}"),
                remote_mta: None,
            }
        }
        _ => Outcome::Deferred {
            error: String::from("the session ended"),
        },
    }
}

/// `550 5.1.1 text` on one line.
fn reply_text(reply: &Reply) -> String {
    let text = reply.lines().collect::<Vec<_>>().join(" ");
    match reply.enhanced() {
        Some(e) => format!(
            "{} {}.{}.{} {text}",
            reply.code().as_u16(),
            e.class(),
            e.subject(),
            e.detail()
        ),
        None => format!("{} {text}", reply.code().as_u16()),
    }
}

impl Handler<ClientSession> for Courier {
    async fn on_event(&mut self, session: &mut ClientSession, event: ClientEvent) {
        match event {
            ClientEvent::Ready { capabilities, .. } => {
                self.capabilities = Some(capabilities);
                self.ready = true;
                self.refill(session, false);
            }
            ClientEvent::Recipient {
                id, index, reply, ..
            } => {
                if let Some(slot) = self
                    .flights
                    .iter_mut()
                    .find(|(t, _)| *t == id)
                    .and_then(|(_, f)| f.replies.get_mut(index))
                {
                    *slot = Some(reply);
                }
            }
            ClientEvent::Delivered { id, reply } => {
                super::failpoint("deliver-after-remote-250");
                self.finish(id, Ok(reply));
                self.refill(session, false);
            }
            ClientEvent::Failed { id, failure } => {
                let ended = matches!(failure, MessageFailure::SessionEnded);
                self.finish(id, Err(failure));
                if !ended {
                    self.refill(session, false);
                }
            }
            ClientEvent::Closed { error } => self.closed(error),
            _ => {}
        }
    }

    fn wait_external(&mut self) -> impl Future<Output = ()> + Send {
        let destination = self.destination.clone();
        let shutdown = self.context.shutdown.clone();
        let idle_deadline = self
            .idle_since
            .map(|since| since + self.context.app.relay.config.idle_timeout);
        async move {
            // A body being read: wait for it (dropping this future leaves the task
            // running and the handle in place, so it is cancel-safe).
            if let Some((_, handle)) = self.loading.as_mut() {
                let body = match handle.await {
                    Ok(Ok(body)) => Ok(body),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if let Some((job, _)) = self.loading.take() {
                    self.loaded = Some((job, body));
                }
                return;
            }
            let Some(deadline) = idle_deadline else {
                return std::future::pending().await;
            };
            tokio::select! {
                () = destination.notify.notified() => {}
                () = tokio::time::sleep_until(deadline) => {}
                () = shutdown.triggered() => {}
            }
        }
    }

    async fn on_external(&mut self, session: &mut ClientSession) {
        if let Some((job, body)) = self.loaded.take() {
            self.submit(session, job, body);
            self.refill(session, false);
            return;
        }
        let Some(since) = self.idle_since else {
            return;
        };
        let idle_over = since.elapsed() >= self.context.app.relay.config.idle_timeout;
        self.refill(session, idle_over);
    }
}

/// A session's life: route, connect, drive until it ends, then tell the scheduler.
pub(crate) async fn run(mut courier: Courier) {
    let context = courier.context.clone();
    let destination = courier.destination.clone();
    if let Some(job) = destination.pop() {
        courier.first = Some(job);
        session(&mut courier).await;
    }
    courier.stop_idle();
    destination.sessions.fetch_sub(1, Ordering::SeqCst);
    context.sessions.fetch_sub(1, Ordering::SeqCst);
    let _ = context.reports.send(Report::SessionEnded {
        destination: destination.key.clone(),
    });
}

async fn session(courier: &mut Courier) {
    let context = courier.context.clone();
    let config = &context.app.relay.config;
    let domain = courier.destination.domain.clone();
    let mut shuffle = Shuffle::from_clock();
    let targets = match resolve(
        &config.routes,
        context.resolver.as_ref(),
        &context.myself,
        &domain,
        &mut shuffle,
    )
    .await
    {
        Ok(targets) => targets,
        Err(e) => {
            let outcome = match e {
                RouteError::Permanent(status, error) => Outcome::Bounced {
                    status,
                    error,
                    remote_mta: None,
                },
                RouteError::Temporary(error) => Outcome::Deferred { error },
            };
            let job = courier.first.take();
            courier.fail_destination(job.as_ref(), &outcome);
            return;
        }
    };
    let Ok(hostname) = Host::try_from(context.app.hostname.as_str()) else {
        let job = courier.first.take();
        let error = String::from("our hostname is not a valid EHLO name");
        courier.fail_destination(job.as_ref(), &Outcome::Deferred { error });
        return;
    };
    // RFC 5321 section 5.1: each address in order until a delivery attempt succeeds. A
    // host that cannot be reached, or that refuses the session (greeting or EHLO, 4xx or
    // 5xx), is passed over for the next; the first session that opens is used.
    let tls_options = ClientTlsOptions::Config(context.tls.clone());
    let mut unreachable = Vec::new();
    let mut refused = Vec::new();
    let mut last_refusal = None;
    'targets: for target in &targets {
        for &addr in &target.addrs {
            if context.shutdown.is_triggered() {
                break 'targets;
            }
            let attempt = tokio::time::timeout(
                config.connect_timeout,
                connect(
                    addr,
                    &server_name(&target.name, addr),
                    TlsMode::StartTls,
                    &tls_options,
                ),
            )
            .await;
            let mut connection = match attempt {
                Ok(Ok(connection)) => connection,
                Ok(Err(e)) => {
                    unreachable.push(format!("{addr}: {e}"));
                    continue;
                }
                Err(_) => {
                    unreachable.push(format!("{addr}: connect timed out"));
                    continue;
                }
            };
            courier.relay = format!("{}:{}", target.name, addr.port());
            courier.ready = false;
            courier.capabilities = None;
            debug!(relay = %courier.relay, "connected");
            let tls_failed = converse(courier, &mut connection, hostname.clone()).await;
            let Some(outcome) = courier.unopened.take() else {
                // The session opened and did its work.
                return;
            };
            warn!(relay = %courier.relay, "session refused: {}", outcome_text(&outcome));
            refused.push(outcome_text(&outcome));
            last_refusal = Some(outcome);
            if tls_failed {
                // As before: the destination is marked, and the retry goes in plaintext.
                break 'targets;
            }
        }
    }
    let job = courier.first.take();
    let outcome = match last_refusal {
        // Every host that answered refused for good, and every host answered.
        Some(outcome @ Outcome::Bounced { .. })
            if unreachable.is_empty()
                && refused.len() == targets.iter().map(|t| t.addrs.len()).sum::<usize>() =>
        {
            outcome
        }
        _ if refused.is_empty() => Outcome::Deferred {
            error: format!("cannot connect to {domain}: {}", unreachable.join("; ")),
        },
        _ => Outcome::Deferred {
            error: refused
                .into_iter()
                .rev()
                .chain(unreachable)
                .collect::<Vec<_>>()
                .join("; "),
        },
    };
    courier.fail_destination(job.as_ref(), &outcome);
}

/// The error text of a failure outcome.
fn outcome_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Bounced { error, .. } | Outcome::Deferred { error } => error.clone(),
        other => format!("{other:?}"),
    }
}

/// One SMTP session over `connection` until it ends; whether it failed in the STARTTLS
/// handshake (the destination is then marked to go in plaintext next time, unless TLS
/// is required).
async fn converse(
    courier: &mut Courier,
    connection: &mut Connection<tokio::net::TcpStream>,
    hostname: Host,
) -> bool {
    let context = courier.context.clone();
    let config = &context.app.relay.config;
    let mut client_config = ClientConfig::new(hostname);
    client_config.tls = if config.require_tls {
        TlsPolicy::Required
    } else if context
        .tls_broken
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .contains(&courier.destination.key)
    {
        // The last STARTTLS handshake failed: as MTAs do with opportunistic TLS, carry
        // on in plaintext rather than never delivering (RFC 7435).
        TlsPolicy::Never
    } else {
        TlsPolicy::Opportunistic
    };
    let mut session = ClientSession::new(client_config, tokio::time::Instant::now().into_std());
    let options = DriveOptions::default();
    let mut tls_failed = false;
    if let Err(e) = drive(
        connection,
        &mut session,
        courier,
        &options,
        std::future::pending(),
    )
    .await
    {
        warn!(relay = %courier.relay, "outbound session failed: {e}");
        tls_failed = matches!(
            e,
            DriveError::TlsHandshake(_) | DriveError::TlsHandshakeTimeout
        );
        if tls_failed && !config.require_tls {
            context
                .tls_broken
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(courier.destination.key.clone());
        }
    }
    if !session.is_closed() {
        // The driver ended without the session closing (the peer went away while it had
        // nothing to say): whatever was in flight is retried.
        courier.closed(Some(ClientError::ConnectionClosed));
    }
    tls_failed
}

/// `body` for a server without `8BITMIME`: converted to 7 bit when it has 8-bit octets
/// (RFC 6152 section 3); as it is when it cannot be converted (8-bit header fields, say),
/// as most MTAs then do.
fn downgrade(id: &str, body: Vec<u8>) -> Vec<u8> {
    match mailwire_mime::to_seven_bit(&body) {
        mailwire_mime::Downgrade::Converted(seven_bit) => {
            debug!(id, "converted to 7 bit for a server without 8BITMIME");
            seven_bit
        }
        mailwire_mime::Downgrade::CannotConvert(why) => {
            warn!(
                id,
                "sent with 8-bit octets to a server without 8BITMIME: {why}"
            );
            body
        }
        _ => body,
    }
}

/// The name to present in TLS (SNI; nothing is verified): the host name, or the address
/// when the name is not one rustls takes (an underscore, say).
fn server_name(name: &str, addr: SocketAddr) -> String {
    let usable = mailwire_tokio::rustls::pki_types::ServerName::try_from(name.to_owned()).is_ok();
    if usable {
        name.to_owned()
    } else {
        addr.ip().to_string()
    }
}

/// How long an outbound session with nothing to send waits for more before `QUIT` (the
/// contract says ~5 s; not a flag).
pub(crate) const DEFAULT_IDLE: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::queue::QueuedRecipient;
    use mailwire_smtp::types::{EhloReply, Notify, Ret};

    fn caps(lines: &str) -> Capabilities {
        let reply = mailwire_smtp::parse::parse_reply(lines.as_bytes(), &Default::default())
            .unwrap()
            .unwrap()
            .0;
        EhloReply::from_reply(&reply).unwrap().capabilities
    }

    fn message() -> QueuedMessage {
        let mut m = QueuedMessage::new(
            "A-1-1".into(),
            Some("alice@here.test".into()),
            std::time::UNIX_EPOCH,
        );
        m.ret = Some(Ret::Hdrs);
        m.envid = Some("env-1".into());
        m.body = Some(BodyType::EightBitMime);
        m.recipients.push(QueuedRecipient::new(
            "bob@there.test".into(),
            Some(Notify::NEVER),
            Some(("rfc822".into(), "bob@there.test".into())),
        ));
        m.recipients
            .push(QueuedRecipient::new("jörg@there.test".into(), None, None));
        m.recipients
            .push(QueuedRecipient::new("carol@there.test".into(), None, None));
        m
    }

    #[test]
    fn envelope_keeps_what_the_server_offers() {
        let full = caps("250-mx\r\n250-DSN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
        let (env, sent, results) = fit_envelope(&message(), &[0, 1, 2], &full);
        let env = env.unwrap();
        assert_eq!(sent, [0, 1, 2]);
        assert!(results.is_empty());
        assert_eq!(env.params.ret, Some(Ret::Hdrs));
        assert_eq!(env.params.envid.as_ref().map(|e| e.as_str()), Some("env-1"));
        assert_eq!(env.params.body, Some(BodyType::EightBitMime));
        assert_eq!(env.recipients[0].params.notify, Some(Notify::NEVER));
        assert!(env.recipients[0].params.orcpt.is_some());
    }

    #[test]
    fn envelope_drops_what_the_server_lacks() {
        let bare = caps("250 mx\r\n");
        let (env, sent, results) = fit_envelope(&message(), &[0, 1, 2], &bare);
        let env = env.unwrap();
        assert_eq!(sent, [0, 2], "the UTF-8 address cannot go");
        assert!(matches!(
            &results[..],
            [(
                1,
                Outcome::Bounced {
                    status: (5, 6, 7),
                    ..
                }
            )]
        ));
        assert!(!env.uses_dsn());
        assert_eq!(env.params.body, None);
        // Only the UTF-8 recipient: nothing to send at all.
        let (env, sent, results) = fit_envelope(&message(), &[1], &bare);
        assert!(env.is_none() && sent.is_empty() && results.len() == 1);
    }

    #[test]
    fn tls_names_fall_back_to_the_address() {
        let addr: SocketAddr = "192.0.2.1:25".parse().unwrap();
        assert_eq!(server_name("mx.example.org", addr), "mx.example.org");
        assert_eq!(server_name("", addr), "192.0.2.1");
        assert_eq!(server_name("bad name", addr), "192.0.2.1");
    }

    #[test]
    fn only_the_header_decides_on_smtputf8() {
        assert!(header_is_ascii(b"Subject: hi\r\n\r\nJ\xc3\xbcrgen\r\n"));
        assert!(header_is_ascii(b"Subject: hi\n\nJ\xc3\xbcrgen\n"));
        assert!(!header_is_ascii(b"Subject: J\xc3\xbcrgen\r\n\r\nhi\r\n"));
        assert!(!header_is_ascii(b"Subject: J\xc3\xbcrgen"));
        assert!(header_is_ascii(b""));
    }

    #[test]
    fn replies_become_outcomes() {
        let context_free = |code: &str| {
            let reply = mailwire_smtp::parse::parse_reply(code.as_bytes(), &Default::default())
                .unwrap()
                .unwrap()
                .0;
            reply_text(&reply)
        };
        assert_eq!(
            context_free("550 5.1.1 no such user\r\n"),
            "550 5.1.1 no such user"
        );
        assert_eq!(context_free("451-a\r\n451 b\r\n"), "451 a b");
        assert!(matches!(
            local_failure(&MessageFailure::Local(LocalRefusal::TooLarge {
                size: 2,
                limit: 1
            })),
            Outcome::Bounced {
                status: (5, 3, 4),
                ..
            }
        ));
        assert!(matches!(
            local_failure(&MessageFailure::SessionEnded),
            Outcome::Deferred { .. }
        ));
    }
}
