//! Delivery status notifications (RFC 3464, built by `mailwire_mime::dsn`): who gets one,
//! what it returns of the original, and where it goes.
//!
//! - Never for a message from `<>` (a bounce must not bounce, RFC 5321 6.2).
//! - A failure DSN lists the recipients that failed for good in one attempt, except those
//!   whose `NOTIFY` excludes `FAILURE` (`NOTIFY=NEVER` included); without `NOTIFY` a
//!   failure is reported (RFC 3461 4.1).
//! - A delay DSN lists recipients whose `NOTIFY` includes `DELAY` (without `NOTIFY`: no
//!   delay notice), once per recipient.
//! - A "relayed" DSN (RFC 3461 5.2.2) goes to a sender whose recipient asked for
//!   `NOTIFY=SUCCESS` when the next hop took the message without offering DSN (a hop
//!   that offers it was given `NOTIFY` and reports success itself).
//! - `RET=HDRS` returns the header; `RET=FULL` the whole message up to 10 MiB (the
//!   header beyond); no `RET`: the whole message up to 1 MiB, else the header (RFC 3461
//!   4.3 leaves it to us).
//! - The DSN comes from `<>` with `From: MAILER-DAEMON@HOSTNAME`. A local sender gets it
//!   in their Maildir at once; a remote one through the queue, like any relayed message.
//!
//! The caller marks the recipients bounced (or delay-notified) only after this returned:
//! if we crash in between, the recipient is retried and may be reported twice, never
//! silently lost.

use std::sync::Arc;
use std::time::SystemTime;

use mailwire_mime::dsn::{Action, DeliveryReport, RecipientReport, Returned};
use mailwire_smtp::types::Ret;
use tracing::{info, warn};

use super::queue::{QueuedMessage, QueuedRecipient};
use crate::App;

/// Which notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Failure,
    Delay,
    /// `NOTIFY=SUCCESS`, and the next hop does not offer DSN (RFC 3461 5.2.2): "relayed".
    Relayed,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Failure => "failure",
            Kind::Delay => "delay",
            Kind::Relayed => "relayed",
        }
    }
}

/// One recipient to report.
#[derive(Clone, Debug)]
pub(crate) struct Reported {
    /// Its index in the message's recipients.
    pub(crate) index: usize,
    pub(crate) status: (u8, u16, u16),
    pub(crate) diagnostic: String,
    pub(crate) remote_mta: Option<String>,
}

/// Whether `recipient` wants a notification of this kind.
pub(crate) fn wanted(recipient: &QueuedRecipient, kind: Kind) -> bool {
    match (recipient.notify, kind) {
        (None, Kind::Failure) => true,
        (None, Kind::Delay) => false,
        (Some(n), Kind::Failure) => n.failure,
        (Some(n), Kind::Delay) => n.delay,
        (None, Kind::Relayed) => false,
        (Some(n), Kind::Relayed) => n.success,
    }
}

const FULL_LIMIT_DEFAULT: u64 = 1024 * 1024;
const FULL_LIMIT_ASKED: u64 = 10 * 1024 * 1024;
/// Enough of a message to hold its header.
const HEADER_LIMIT: u64 = 256 * 1024;

/// Sends the sender a DSN about `reported` (already filtered by the caller with
/// [`wanted`]). Returns the DSN's queue envelope when it was queued for a remote sender
/// (the scheduler takes it in); `Err` when it could not be handed over (the caller keeps
/// the recipients as they were and tries again later).
pub(crate) async fn send(
    app: &Arc<App>,
    msg: &QueuedMessage,
    kind: Kind,
    reported: &[Reported],
    retry_until: SystemTime,
) -> Result<Option<QueuedMessage>, String> {
    let Some(sender) = msg.sender.clone() else {
        info!(id = %msg.id, reason = %"null sender", "dsn suppressed");
        return Ok(None);
    };
    if reported.is_empty() {
        info!(id = %msg.id, reason = %"NOTIFY", "dsn suppressed");
        return Ok(None);
    }
    let (full_limit, headers_only) = match msg.ret {
        Some(Ret::Hdrs) => (0, true),
        Some(Ret::Full) => (FULL_LIMIT_ASKED, false),
        None => (FULL_LIMIT_DEFAULT, false),
    };
    let queue = app.relay.queue.clone();
    let id = msg.id.clone();
    let (original, size) = tokio::task::spawn_blocking(move || {
        queue.body_prefix(&id, HEADER_LIMIT.max(full_limit + 1))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("reading the message for the DSN: {e}"))?;
    let returned = if !headers_only && size <= full_limit {
        Returned::Full(&original)
    } else {
        Returned::Headers(&original)
    };
    let now = SystemTime::now();
    let recipients = reported
        .iter()
        .filter_map(|r| {
            let rcpt = msg.recipients.get(r.index)?;
            Some(RecipientReport {
                final_recipient: rcpt.address.clone(),
                original_recipient: rcpt.orcpt.as_ref().map(|(t, a)| format!("{t};{a}")),
                action: match kind {
                    Kind::Failure => Action::Failed,
                    Kind::Delay => Action::Delayed,
                    Kind::Relayed => Action::Relayed,
                },
                status: r.status,
                remote_mta: r.remote_mta.clone(),
                diagnostic: Some(r.diagnostic.clone()),
                last_attempt: Some(now),
                will_retry_until: (kind == Kind::Delay).then_some(retry_until),
            })
        })
        .collect();
    let report = DeliveryReport {
        reporting_mta: app.hostname.clone(),
        from_mailbox: format!("MAILER-DAEMON@{}", app.hostname),
        to: sender.clone(),
        envelope_id: msg.envid.clone(),
        arrival: Some(msg.arrival),
        recipients,
        original: returned,
        date: now,
    };
    let bytes = report.to_bytes();
    drop(original);

    let local_user = sender
        .rsplit_once('@')
        .filter(|(_, domain)| domain.eq_ignore_ascii_case(&app.domain))
        .map(|(local, _)| app.user(local.trim_matches('"')).map(str::to_owned));
    let queued = match local_user {
        Some(Some(user)) => {
            let store = app.store.clone();
            tokio::task::spawn_blocking(move || store.inbox(&user)?.deliver(&bytes))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("delivering the DSN: {e}"))?;
            None
        }
        Some(None) => {
            warn!(id = %msg.id, to = %sender, "DSN for an unknown local sender dropped");
            info!(id = %msg.id, reason = %"unknown local sender", "dsn suppressed");
            return Ok(None);
        }
        None => {
            let queue = app.relay.queue.clone();
            let mut envelope = QueuedMessage::new(String::new(), None, now);
            envelope
                .recipients
                .push(QueuedRecipient::new(sender.clone(), None, None));
            let envelope = tokio::task::spawn_blocking(move || {
                queue.enqueue(&mut envelope, &bytes).map(|()| envelope)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("queuing the DSN: {e}"))?;
            Some(envelope)
        }
    };
    info!(id = %msg.id, to = %sender, kind = %kind.as_str(), "dsn sent");
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailwire_smtp::types::Notify;

    #[test]
    fn notify_decides() {
        let mut r = QueuedRecipient::new("a@b.test".into(), None, None);
        assert!(wanted(&r, Kind::Failure));
        assert!(!wanted(&r, Kind::Delay));
        r.notify = Some(Notify::NEVER);
        assert!(!wanted(&r, Kind::Failure));
        r.notify = Some(Notify {
            success: true,
            failure: false,
            delay: true,
        });
        assert!(!wanted(&r, Kind::Failure));
        assert!(wanted(&r, Kind::Delay));
    }
}
