//! The scheduler: one task that owns the in-memory view of the queue, decides what is due,
//! hands it to per-destination sessions ([`super::deliver`]), and records their results.
//!
//! - At start it loads every queued message (cleaning crash leftovers, see
//!   [`super::queue`]); a pending `queue flush` request makes everything due at once.
//!   Otherwise each recipient keeps its `next` time across restarts.
//! - Due recipients of a message are grouped by destination (the static route's
//!   `HOST:PORT`, or `mx:DOMAIN`) into one job each; jobs wait in the destination's line.
//!   A destination gets another session while it has more waiting jobs than idle
//!   sessions, up to `--max-per-destination`, and `--max-deliveries` in total.
//! - It is the only writer of envelope files, so state changes never race. Results
//!   arrive as [`Report`]s: 2xx → delivered; 4xx, a refused connection or a timeout →
//!   deferred (`--retry-initial` doubling up to `--retry-max`), or bounced once
//!   `--queue-lifetime` is over; 5xx → bounced. The new state is durable before anything
//!   else happens (a crash after the remote 250 and before this write makes the message
//!   go again: SMTP's at-least-once, never a loss).
//! - A DSN (see [`super::bounce`]) is handed over before the recipients it reports are
//!   marked, so a crash between the two repeats the DSN rather than losing it.
//! - Ctrl-C: no new sessions or jobs; sessions finish the message they carry and `QUIT`;
//!   the scheduler waits for them at most [`SHUTDOWN_GRACE`].

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use mailwire_tokio::Shutdown;
use tokio::sync::{Notify, mpsc};
use tracing::{error, info, warn};

use super::bounce::{self, Kind, Reported};
use super::deliver::{self, Courier};
use super::queue::{QueuedMessage, RcptState};
use super::route::{Myself, Resolver, destination_key};
use crate::App;

/// How long Ctrl-C waits for sessions in flight.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often the flush trigger file is looked for (one failed `unlink` each time).
const FLUSH_POLL: Duration = Duration::from_millis(100);

/// A message's recipients for one destination, handed to a session.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub(crate) message: Arc<QueuedMessage>,
    /// Indices into `message.recipients`.
    pub(crate) recipients: Vec<usize>,
}

/// What happened to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The remote server took it; `relay` is `HOST:PORT`. `dsn`: the server offered
    /// DSN, so success notices are its business from now on (RFC 3461 5.2.2).
    Delivered { relay: String, dsn: bool },
    /// Try again later.
    Deferred { error: String },
    /// Failed for good.
    Bounced {
        status: (u8, u16, u16),
        error: String,
        remote_mta: Option<String>,
    },
}

/// What a session tells the scheduler.
#[derive(Debug)]
pub(crate) enum Report {
    /// Results for recipients of a message.
    Results {
        id: String,
        results: Vec<(usize, Outcome)>,
    },
    /// A session ended (the destination may need another).
    SessionEnded { destination: String },
}

/// A destination's line of jobs, shared with its sessions.
#[derive(Debug)]
pub(crate) struct Destination {
    pub(crate) key: String,
    /// A domain routed here (what routing is asked about).
    pub(crate) domain: String,
    pub(crate) jobs: Mutex<VecDeque<Job>>,
    /// Rung when a job is added.
    pub(crate) notify: Notify,
    pub(crate) sessions: AtomicUsize,
    /// Sessions waiting for a job.
    pub(crate) idle: AtomicUsize,
}

impl Destination {
    pub(crate) fn pop(&self) -> Option<Job> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop_front()
    }

    /// Every waiting job (when the destination cannot be reached at all).
    pub(crate) fn drain(&self) -> Vec<Job> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..)
            .collect()
    }

    fn waiting(&self) -> usize {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// What sessions share.
pub(crate) struct Context {
    pub(crate) app: Arc<App>,
    pub(crate) resolver: Arc<dyn Resolver>,
    pub(crate) myself: Myself,
    pub(crate) reports: mpsc::UnboundedSender<Report>,
    pub(crate) shutdown: Shutdown,
    pub(crate) tls: Arc<mailwire_tokio::rustls::ClientConfig>,
    pub(crate) sessions: AtomicUsize,
    /// Destinations whose STARTTLS handshake failed: later sessions to them stay in
    /// plaintext (opportunistic TLS only; never under `--require-tls`), for the life of
    /// the process.
    pub(crate) tls_broken: Mutex<std::collections::HashSet<String>>,
}

struct Entry {
    message: QueuedMessage,
    /// Per recipient: handed to a session, result not in yet.
    in_flight: Vec<bool>,
}

/// The back-off after `attempts` transient failures: `initial * 2^(attempts-1)`, at most
/// `max`.
pub(crate) fn backoff(initial: Duration, max: Duration, attempts: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX);
    initial.saturating_mul(factor).min(max)
}

/// What the queue held at start.
pub(crate) struct Startup {
    messages: Vec<QueuedMessage>,
    flush: bool,
}

/// Reads the queue and cleans what a crash left, **before** any SMTP session may write
/// to it (the cleaning removes every file in `tmp/`, which would include a message being
/// received).
pub(crate) fn load(queue: &super::queue::Queue) -> std::io::Result<Startup> {
    let flush = queue.take_flush_request();
    let (messages, removed) = queue.load()?;
    if removed > 0 {
        info!(removed, "removed leftovers of interrupted queue writes");
    }
    if !messages.is_empty() {
        info!(messages = messages.len(), "queue loaded");
    }
    Ok(Startup { messages, flush })
}

/// Runs the scheduler until `shutdown` (then for at most [`SHUTDOWN_GRACE`] more).
pub(crate) async fn run(
    app: Arc<App>,
    resolver: Arc<dyn Resolver>,
    myself: Myself,
    shutdown: Shutdown,
    startup: Startup,
) {
    let Startup { messages, flush } = startup;
    let tls = match mailwire_tokio::tls::client_config(&mailwire_tokio::ClientTlsOptions::Insecure)
    {
        Ok(tls) => tls,
        Err(e) => {
            error!("outbound TLS configuration: {e}; relaying stops");
            return;
        }
    };
    let (reports, mut inbox) = mpsc::unbounded_channel();
    let context = Arc::new(Context {
        app: app.clone(),
        resolver,
        myself,
        reports,
        shutdown: shutdown.clone(),
        tls,
        sessions: AtomicUsize::new(0),
        tls_broken: Mutex::new(std::collections::HashSet::new()),
    });
    let mut scheduler = Scheduler {
        context,
        entries: HashMap::new(),
        destinations: HashMap::new(),
        rescan: true,
    };
    for mut message in messages {
        if flush {
            make_due(&mut message);
        }
        scheduler.insert(message);
    }
    let relay = app.relay.clone();
    let stopping = shutdown.triggered();
    let mut stopping = std::pin::pin!(stopping);
    let mut next_due: Option<SystemTime> = None;
    loop {
        for message in relay.take_submitted() {
            scheduler.insert(message);
        }
        // A full scan only when something may have become due: new messages, deferrals,
        // a flush, or the time of the earliest retry (not after every delivery: with
        // thousands queued that would cost a scan per message).
        if scheduler.rescan || next_due.is_some_and(|t| t <= SystemTime::now()) {
            scheduler.rescan = false;
            next_due = scheduler.dispatch();
        }
        let wait = next_due
            .and_then(|t| t.duration_since(SystemTime::now()).ok())
            .unwrap_or(if next_due.is_some() {
                Duration::ZERO
            } else {
                FLUSH_POLL
            })
            .min(FLUSH_POLL);
        tokio::select! {
            report = inbox.recv() => {
                if let Some(report) = report {
                    let mut batch = Batch::default();
                    let started = std::time::Instant::now();
                    scheduler.apply(report, &mut batch).await;
                    for _ in 1..BATCH {
                        let Ok(report) = inbox.try_recv() else { break };
                        scheduler.apply(report, &mut batch).await;
                    }
                    tracing::debug!(
                        reports = batch.changes.len(),
                        micros = started.elapsed().as_micros() as u64,
                        "reports recorded"
                    );
                    scheduler.write(batch).await;
                }
            }
            () = relay.wake.notified() => {}
            () = tokio::time::sleep(wait) => {
                let queue = relay.queue.clone();
                let flush = tokio::task::spawn_blocking(move || queue.take_flush_request())
                    .await
                    .unwrap_or(false);
                if flush {
                    info!("queue flush requested: every pending recipient is due now");
                    for entry in scheduler.entries.values_mut() {
                        make_due(&mut entry.message);
                    }
                    scheduler.rescan = true;
                }
            }
            () = &mut stopping => break,
        }
    }
    // Shutdown: nothing new starts; sessions finish what they carry.
    for destination in scheduler.destinations.values() {
        destination.drain();
        destination.notify.notify_waiters();
    }
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while scheduler.context.sessions.load(Ordering::SeqCst) > 0 {
        match tokio::time::timeout_at(deadline, inbox.recv()).await {
            Ok(Some(report)) => {
                let mut batch = Batch::default();
                scheduler.apply(report, &mut batch).await;
                scheduler.write(batch).await;
            }
            Ok(None) => break,
            Err(_) => {
                warn!("outbound sessions still running after the shutdown grace; leaving them");
                break;
            }
        }
    }
    // Results that arrived meanwhile are recorded too.
    let mut batch = Batch::default();
    while let Ok(report) = inbox.try_recv() {
        scheduler.apply(report, &mut batch).await;
    }
    scheduler.write(batch).await;
    info!("relay stopped");
}

fn make_due(message: &mut QueuedMessage) {
    for r in &mut message.recipients {
        if r.state == RcptState::Pending {
            r.next_attempt = SystemTime::UNIX_EPOCH;
        }
    }
}

struct Scheduler {
    context: Arc<Context>,
    entries: HashMap<String, Entry>,
    destinations: HashMap<String, Arc<Destination>>,
    /// Something may have become due: [`Scheduler::dispatch`] must look.
    rescan: bool,
}

impl Scheduler {
    fn insert(&mut self, message: QueuedMessage) {
        self.rescan = true;
        let in_flight = vec![false; message.recipients.len()];
        self.entries
            .insert(message.id.clone(), Entry { message, in_flight });
    }

    /// Hands every due recipient to its destination, starts sessions as allowed, and
    /// returns when the next recipient falls due.
    fn dispatch(&mut self) -> Option<SystemTime> {
        let now = SystemTime::now();
        let config = &self.context.app.relay.config;
        let mut next: Option<SystemTime> = None;
        let mut touched = Vec::new();
        if !self.context.shutdown.is_triggered() {
            for entry in self.entries.values_mut() {
                let mut groups: HashMap<String, (String, Vec<usize>)> = HashMap::new();
                for (i, r) in entry.message.recipients.iter().enumerate() {
                    if r.state != RcptState::Pending || entry.in_flight.get(i) == Some(&true) {
                        continue;
                    }
                    if r.next_attempt > now {
                        next = Some(next.map_or(r.next_attempt, |n| n.min(r.next_attempt)));
                        continue;
                    }
                    let domain = r.domain();
                    let key = destination_key(&config.routes, &domain);
                    groups
                        .entry(key)
                        .or_insert_with(|| (domain, Vec::new()))
                        .1
                        .push(i);
                }
                if groups.is_empty() {
                    continue;
                }
                let message = Arc::new(entry.message.clone());
                for (key, (domain, recipients)) in groups {
                    for &i in &recipients {
                        if let Some(flag) = entry.in_flight.get_mut(i) {
                            *flag = true;
                        }
                    }
                    let destination = self
                        .destinations
                        .entry(key.clone())
                        .or_insert_with(|| {
                            Arc::new(Destination {
                                key: key.clone(),
                                domain,
                                jobs: Mutex::new(VecDeque::new()),
                                notify: Notify::new(),
                                sessions: AtomicUsize::new(0),
                                idle: AtomicUsize::new(0),
                            })
                        })
                        .clone();
                    destination
                        .jobs
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push_back(Job {
                            message: message.clone(),
                            recipients,
                        });
                    destination.notify.notify_one();
                    touched.push(key);
                }
            }
        }
        touched.sort();
        touched.dedup();
        for key in touched {
            self.start_sessions(&key);
        }
        next
    }

    /// Starts sessions for a destination while it has more jobs than idle sessions.
    fn start_sessions(&mut self, key: &str) {
        if self.context.shutdown.is_triggered() {
            return;
        }
        let Some(destination) = self.destinations.get(key).cloned() else {
            return;
        };
        let config = &self.context.app.relay.config;
        loop {
            let sessions = destination.sessions.load(Ordering::SeqCst);
            let total = self.context.sessions.load(Ordering::SeqCst);
            let waiting = destination.waiting();
            if waiting == 0
                || waiting <= destination.idle.load(Ordering::SeqCst)
                || sessions >= config.max_per_destination.max(1)
                || total >= config.max_deliveries.max(1)
            {
                break;
            }
            destination.sessions.fetch_add(1, Ordering::SeqCst);
            self.context.sessions.fetch_add(1, Ordering::SeqCst);
            let courier = Courier::new(self.context.clone(), destination.clone());
            tokio::spawn(deliver::run(courier));
        }
    }

    async fn apply(&mut self, report: Report, batch: &mut Batch) {
        match report {
            Report::SessionEnded { destination } => {
                // A session ended: this destination (or, if the total limit was in the
                // way, any other) may need a new one.
                self.start_sessions(&destination);
                let keys: Vec<String> = self.destinations.keys().cloned().collect();
                for key in keys {
                    self.start_sessions(&key);
                }
                // Lines of destinations without jobs or sessions are forgotten.
                self.destinations
                    .retain(|_, d| d.sessions.load(Ordering::SeqCst) > 0 || d.waiting() > 0);
            }
            Report::Results { id, results } => self.record(&id, results, batch).await,
        }
    }

    /// Records results durably; bounces, delay notices; removes finished messages.
    async fn record(&mut self, id: &str, results: Vec<(usize, Outcome)>, batch: &mut Batch) {
        let app = self.context.app.clone();
        let config = &app.relay.config;
        let now = SystemTime::now();
        let Some(entry) = self.entries.get_mut(id) else {
            warn!(id = %id, "results for a message no longer queued");
            return;
        };
        let expires = entry.message.arrival + config.queue_lifetime;
        let mut failed: Vec<Reported> = Vec::new();
        let mut delayed: Vec<Reported> = Vec::new();
        // Asked for NOTIFY=SUCCESS, handed to a server that cannot honour it.
        let mut relayed: Vec<Reported> = Vec::new();
        let mut any_delivered = false;
        for (index, outcome) in results {
            if let Some(flag) = entry.in_flight.get_mut(index) {
                *flag = false;
            }
            let Some(rcpt) = entry.message.recipients.get_mut(index) else {
                continue;
            };
            if rcpt.state != RcptState::Pending {
                continue;
            }
            match outcome {
                Outcome::Delivered { relay, dsn } => {
                    info!(id = %id, rcpt = %rcpt.address, relay = %relay, "delivered");
                    rcpt.state = RcptState::Delivered;
                    any_delivered = true;
                    if !dsn && rcpt.notify.is_some_and(|n| n.success) {
                        let host = relay.rsplit_once(':').map_or(relay.as_str(), |(h, _)| h);
                        relayed.push(Reported {
                            index,
                            status: (2, 0, 0),
                            diagnostic: String::from("250 relayed to a server without DSN"),
                            remote_mta: Some(host.to_owned()),
                        });
                    }
                }
                Outcome::Bounced {
                    status,
                    error,
                    remote_mta,
                } => {
                    info!(id = %id, rcpt = %rcpt.address, error = %error, "bounced");
                    rcpt.state = RcptState::Bounced;
                    rcpt.last_error = Some(error.clone());
                    failed.push(Reported {
                        index,
                        status,
                        diagnostic: error,
                        remote_mta,
                    });
                }
                Outcome::Deferred { error } => {
                    // A new retry time: the next scan must see it.
                    self.rescan = true;
                    rcpt.attempts = rcpt.attempts.saturating_add(1);
                    rcpt.last_error = Some(error.clone());
                    if now >= expires {
                        let error = format!("delivery time expired; last error: {error}");
                        info!(id = %id, rcpt = %rcpt.address, error = %error, "bounced");
                        rcpt.state = RcptState::Bounced;
                        failed.push(Reported {
                            index,
                            status: (5, 4, 7),
                            diagnostic: error,
                            remote_mta: None,
                        });
                        continue;
                    }
                    let delay = backoff(config.retry_initial, config.retry_max, rcpt.attempts);
                    rcpt.next_attempt = now + delay;
                    info!(
                        id = %id,
                        rcpt = %rcpt.address,
                        next = %format!("{}s", delay.as_secs()),
                        error = %error,
                        "deferred"
                    );
                    let waited = now
                        .duration_since(entry.message.arrival)
                        .unwrap_or_default();
                    if !rcpt.delay_notified && waited >= config.delay_warning {
                        delayed.push(Reported {
                            index,
                            status: transient_status(&error),
                            diagnostic: error,
                            remote_mta: None,
                        });
                    }
                }
            }
        }
        let snapshot = entry.message.clone();
        let mut new_messages = Vec::new();
        // Failure DSN: the recipients that failed in this attempt and want to hear it.
        // A failed hand-over leaves them pending, to be tried (and reported) again.
        if !failed.is_empty() {
            let wanted: Vec<Reported> = failed
                .iter()
                .filter(|r| {
                    snapshot
                        .recipients
                        .get(r.index)
                        .is_some_and(|rcpt| bounce::wanted(rcpt, Kind::Failure))
                })
                .cloned()
                .collect();
            match bounce::send(
                &self.context.app,
                &snapshot,
                Kind::Failure,
                &wanted,
                expires,
            )
            .await
            {
                Ok(queued) => new_messages.extend(queued),
                Err(e) => {
                    error!(id = %id, "cannot send the DSN: {e}; the recipients stay queued");
                    self.rescan = true;
                    for r in &failed {
                        if let Some(rcpt) = entry.message.recipients.get_mut(r.index) {
                            rcpt.state = RcptState::Pending;
                            rcpt.next_attempt = now + config.retry_initial;
                        }
                    }
                }
            }
        }
        if !relayed.is_empty() {
            // Best effort: a lost success notice is no loss of mail.
            match bounce::send(&app, &snapshot, Kind::Relayed, &relayed, expires).await {
                Ok(queued) => new_messages.extend(queued),
                Err(e) => warn!(id = %id, "cannot send the relayed DSN: {e}"),
            }
        }
        if !delayed.is_empty() {
            let wanted: Vec<Reported> = delayed
                .into_iter()
                .filter(|r| {
                    snapshot
                        .recipients
                        .get(r.index)
                        .is_some_and(|rcpt| bounce::wanted(rcpt, Kind::Delay))
                })
                .collect();
            if !wanted.is_empty() {
                match bounce::send(&app, &snapshot, Kind::Delay, &wanted, expires).await {
                    Ok(queued) => {
                        new_messages.extend(queued);
                        for r in &wanted {
                            if let Some(rcpt) = entry.message.recipients.get_mut(r.index) {
                                rcpt.delay_notified = true;
                            }
                        }
                    }
                    Err(e) => warn!(id = %id, "cannot send the delay DSN: {e}"),
                }
            }
        }
        // The bookkeeping, made durable by `write` before anything else happens.
        let done = entry.message.is_done();
        batch.delivered |= any_delivered;
        if done {
            batch.changes.insert(id.to_owned(), None);
            self.entries.remove(id);
        } else {
            batch
                .changes
                .insert(id.to_owned(), Some(entry.message.clone()));
        }
        for message in new_messages {
            info!(id = %message.id, recipients = message.recipients.len(), "queued");
            self.insert(message);
        }
    }

    /// Makes a batch of state changes durable (one directory fsync for all: group
    /// commit), then the `deliver-after-bookkeeping` test hook.
    async fn write(&mut self, batch: Batch) {
        if batch.changes.is_empty() {
            return;
        }
        let mut changes: Vec<(String, Option<QueuedMessage>)> = batch.changes.into_iter().collect();
        let removed: Vec<String> = changes
            .iter()
            .filter(|(_, change)| change.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        let count = changes.len();
        let started = std::time::Instant::now();
        // File system metadata operations are slow one at a time; a large batch is split
        // among a few blocking threads (each part is durable when its task returns).
        let parts = if count >= 32 { WRITERS } else { 1 };
        let per_part = count.div_ceil(parts);
        let mut tasks = Vec::with_capacity(parts);
        while !changes.is_empty() {
            let part: Vec<_> = changes.drain(..per_part.min(changes.len())).collect();
            let queue = self.context.app.relay.queue.clone();
            tasks.push(tokio::task::spawn_blocking(move || queue.apply(&part)));
        }
        let mut ok = true;
        for task in tasks {
            let written = task.await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    ok = false;
                    error!("cannot record delivery results: {e}");
                }
                Err(e) => {
                    ok = false;
                    error!("cannot record delivery results: {e}");
                }
            }
        }
        tracing::debug!(
            messages = count,
            micros = started.elapsed().as_micros() as u64,
            "bookkeeping written"
        );
        if ok && batch.delivered {
            super::failpoint("deliver-after-bookkeeping");
        }
        if !removed.is_empty() {
            let queue = self.context.app.relay.queue.clone();
            drop(tokio::task::spawn_blocking(move || {
                queue.remove_bodies(&removed)
            }));
        }
    }
}

/// State changes not yet durable: per message its new envelope, or `None` to remove it.
#[derive(Default)]
struct Batch {
    changes: HashMap<String, Option<QueuedMessage>>,
    delivered: bool,
}

/// The most reports recorded in one group commit.
const BATCH: usize = 256;

/// How many blocking threads write one large batch.
const WRITERS: usize = 4;

/// The RFC 3463 status of a transient failure: the remote reply's own (`451 4.3.0 …`),
/// 4.4.1 when the host did not answer, 4.4.3 for a routing (DNS) failure, else 4.0.0.
fn transient_status(error: &str) -> (u8, u16, u16) {
    let mut words = error.split(' ');
    let code = words.next().unwrap_or_default();
    if code.len() == 3 && code.starts_with('4') && code.bytes().all(|b| b.is_ascii_digit()) {
        let mut parts = words.next().unwrap_or_default().split('.');
        let parsed = (|| {
            let class: u8 = parts.next()?.parse().ok()?;
            let subject: u16 = parts.next()?.parse().ok()?;
            let detail: u16 = parts.next()?.parse().ok()?;
            (class == 4 && subject <= 999 && detail <= 999).then_some((class, subject, detail))
        })();
        return parsed.unwrap_or((4, 0, 0));
    }
    if error.starts_with("cannot connect") {
        (4, 4, 1)
    } else if error.contains("lookup") {
        (4, 4, 3)
    } else {
        (4, 0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_statuses() {
        assert_eq!(transient_status("451 4.3.2 try later"), (4, 3, 2));
        assert_eq!(transient_status("421 service closing"), (4, 0, 0));
        assert_eq!(transient_status("450 5.1.1 inconsistent"), (4, 0, 0));
        assert_eq!(
            transient_status("cannot connect to b.test: 127.0.0.1:1: refused"),
            (4, 4, 1)
        );
        assert_eq!(
            transient_status("MX lookup for x.test: SERVFAIL"),
            (4, 4, 3)
        );
        assert_eq!(transient_status("session with h:25 ended"), (4, 0, 0));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        let b = |n| backoff(s(300), s(3600), n);
        assert_eq!(
            [b(1), b(2), b(3), b(4), b(5)],
            [s(300), s(600), s(1200), s(2400), s(3600)]
        );
        assert_eq!(b(0), s(300));
        assert_eq!(b(40), s(3600));
        assert_eq!(b(u32::MAX), s(3600));
        assert_eq!(backoff(s(2), s(5), 2), s(4));
    }
}
