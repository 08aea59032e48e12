//! The outbound relay (issue #7): mail for other domains, from authenticated clients or
//! `--relay-net` networks, is kept in a durable queue and delivered by the mailwire-smtp
//! client, with retries, bounces (RFC 3464 DSNs) and delay notices.
//!
//! - [`queue`]: the durable queue under `DATA/queue/` (crash-safety reasoning there).
//! - [`route`]: static routes and MX lookups (RFC 5321 5.1, RFC 7505).
//! - [`schedule`]: the scheduler task: what is due, retries with back-off, bookkeeping,
//!   DSNs, the concurrency limits.
//! - [`deliver`]: one SMTP client session per destination host, reused for every queued
//!   message to it.
//! - [`bounce`]: building and handing over DSNs.
//!
//! **TLS**: outbound connections use STARTTLS when the next hop offers it
//! (`--require-tls`: only then), and never verify the server's certificate: MX hosts
//! rarely present one valid for the name we looked up, and an MTA that insisted would
//! fall back to plaintext anyway; opportunistic TLS protects against passive
//! eavesdroppers only (RFC 7435). DANE or MTA-STS would be needed for more. When a
//! STARTTLS handshake fails, later sessions to that destination go in plaintext (not
//! under `--require-tls`), as MTAs do, rather than never delivering.

pub(crate) mod bounce;
pub(crate) mod deliver;
#[cfg(test)]
mod end_to_end;
pub(crate) mod queue;
pub(crate) mod route;
pub(crate) mod schedule;

use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;

use queue::{Queue, QueuedMessage};
use route::Route;

/// The relay settings from the command line.
#[derive(Clone, Debug)]
pub(crate) struct RelayConfig {
    pub(crate) routes: Vec<Route>,
    pub(crate) relay_nets: Vec<Cidr>,
    pub(crate) require_tls: bool,
    pub(crate) retry_initial: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) queue_lifetime: Duration,
    pub(crate) delay_warning: Duration,
    pub(crate) max_deliveries: usize,
    pub(crate) max_per_destination: usize,
    pub(crate) connect_timeout: Duration,
    /// How long an idle outbound session waits for more mail before `QUIT`.
    pub(crate) idle_timeout: Duration,
}

/// What the SMTP side hands the relay: the queue, and the messages it just queued.
pub(crate) struct Relay {
    pub(crate) queue: Queue,
    pub(crate) config: RelayConfig,
    /// Queued by SMTP sessions, not yet seen by the scheduler.
    submitted: Mutex<Vec<QueuedMessage>>,
    wake: Notify,
}

impl Relay {
    pub(crate) fn new(queue: Queue, config: RelayConfig) -> Relay {
        Relay {
            queue,
            config,
            submitted: Mutex::new(Vec::new()),
            wake: Notify::new(),
        }
    }

    /// Whether a client at `ip` may relay without authenticating.
    pub(crate) fn may_relay(&self, ip: IpAddr) -> bool {
        self.config.relay_nets.iter().any(|net| net.contains(ip))
    }

    /// Tells the scheduler about a message now durable in the queue.
    pub(crate) fn submit(&self, message: QueuedMessage) {
        tracing::info!(
            id = %message.id,
            recipients = message.recipients.len(),
            "queued"
        );
        self.submitted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message);
        self.wake.notify_one();
    }

    fn take_submitted(&self) -> Vec<QueuedMessage> {
        std::mem::take(
            &mut *self
                .submitted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// A network in CIDR notation (`10.0.0.0/8`, `::1/128`; a bare address is one host).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Result<Cidr, String> {
        let bad = || format!("--relay-net {text:?}: write ADDRESS/PREFIX, e.g. 10.0.0.0/8");
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Cidr { addr, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client may show up as an IPv4-mapped IPv6 address on a dual-stack socket.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The test hook `MAILWIRE_FAILPOINT`, read once at start.
static FAILPOINT: OnceLock<Option<String>> = OnceLock::new();

/// Reads `MAILWIRE_FAILPOINT` (call once, at start).
pub(crate) fn init_failpoint() {
    let name = std::env::var("MAILWIRE_FAILPOINT")
        .ok()
        .filter(|n| !n.is_empty());
    if let Some(name) = &name {
        tracing::warn!(failpoint = %name, "MAILWIRE_FAILPOINT set: this process aborts there (test hook)");
    }
    let _ = FAILPOINT.set(name);
}

/// **Test hook**: when `MAILWIRE_FAILPOINT` names this point, the process aborts here, as
/// a crash would (no destructors, no flushing). The names are listed in the server's
/// documentation; tests use them to check what survives a crash at each step.
pub(crate) fn failpoint(name: &str) {
    if FAILPOINT.get().and_then(Option::as_deref) == Some(name) {
        eprintln!("MAILWIRE_FAILPOINT {name}: aborting");
        std::process::abort();
    }
}

/// `mail-server queue list`: one block per pending message.
pub(crate) fn print_queue(data: &std::path::Path) -> Result<(), String> {
    use std::fmt::Write;
    let queue = Queue::open_existing(data).map_err(|e| e.to_string())?;
    let messages = queue.list().map_err(|e| e.to_string())?;
    let mut out = String::new();
    for msg in &messages {
        let _ = writeln!(out, "id: {}", msg.id);
        let _ = writeln!(
            out,
            "arrival: {}",
            crate::received::rfc5322_date(msg.arrival)
        );
        let _ = writeln!(
            out,
            "sender: <{}>",
            msg.sender.as_deref().unwrap_or_default()
        );
        for r in msg
            .recipients
            .iter()
            .filter(|r| r.state == queue::RcptState::Pending)
        {
            let next = if queue::secs(r.next_attempt) == 0 {
                String::from("now")
            } else {
                crate::received::rfc5322_date(r.next_attempt)
            };
            let _ = writeln!(
                out,
                "  rcpt: <{}> attempts: {} next: {} last-error: {}",
                r.address,
                r.attempts,
                next,
                r.last_error.as_deref().unwrap_or("-").replace('\n', " ")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{} message(s) queued", messages.len());
    print!("{out}");
    Ok(())
}

/// `mail-server queue flush`.
pub(crate) fn flush_queue(data: &std::path::Path) -> Result<(), String> {
    let queue = Queue::open_existing(data).map_err(|e| e.to_string())?;
    queue.request_flush().map_err(|e| e.to_string())?;
    println!("flush requested: every pending recipient is due now");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_matching() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let host = Cidr::parse("127.0.0.1").unwrap();
        assert!(host.contains("127.0.0.1".parse().unwrap()));
        assert!(!host.contains("127.0.0.2".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
        assert!(!all.contains("2001:db8::1".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        for bad in ["10.0.0.0/33", "x", "::/129", "1.2.3.4/"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }
}
