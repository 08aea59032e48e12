//! The conversation: connect, drive the sans-IO client session with the tokio adapter,
//! and record what the server said about the message.

use std::time::Duration;

use bytes::Bytes;
use mailwire_smtp::client::{
    ClientConfig, ClientError, ClientEvent, ClientSession, Envelope, MessageFailure,
};
use mailwire_smtp::types::{Host, Reply};
use mailwire_tokio::{ClientTlsOptions, DriveOptions, Handler, TlsMode, connect, drive};

/// Where to send, and how.
pub(crate) struct Target {
    /// `HOST:PORT`, as given to the resolver.
    pub(crate) address: String,
    /// The name the server's certificate must be valid for.
    pub(crate) tls_name: String,
    /// Plain, STARTTLS (upgrade when the session agrees it) or implicit TLS.
    pub(crate) mode: TlsMode,
    /// Which certificates are trusted.
    pub(crate) trust: ClientTlsOptions,
    /// How long connecting (and an implicit-TLS handshake) may take.
    pub(crate) connect_timeout: Duration,
    /// The `EHLO` name; `None`: the local address as an address literal.
    pub(crate) helo: Option<Host>,
}

/// What the server said about one recipient.
#[derive(Clone, Debug, Default)]
pub(crate) struct RecipientOutcome {
    /// The reply to `RCPT` (absent when `MAIL` was refused or the session ended first).
    pub(crate) rcpt: Option<(bool, Reply)>,
    /// LMTP: the reply for this recipient after the end of the message.
    pub(crate) delivery: Option<(bool, Reply)>,
}

/// Everything the session reported.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// One per `--to`, in order.
    pub(crate) recipients: Vec<RecipientOutcome>,
    /// `Ok(final reply)` when the server took the message, else why not.
    pub(crate) message: Option<Result<Reply, MessageFailure>>,
    /// The session's own error, when it did not end with `QUIT` answered.
    pub(crate) session_error: Option<ClientError>,
    /// The transport's error (connect, TLS, read, write), when there was one.
    pub(crate) transport_error: Option<String>,
}

/// The handler: records the events, and tells the user what happens with `--verbose`.
struct Recorder {
    outcome: Outcome,
    verbose: bool,
}

impl Handler<ClientSession> for Recorder {
    async fn on_event(&mut self, _session: &mut ClientSession, event: ClientEvent) {
        match event {
            ClientEvent::Greeting(reply) if self.verbose => {
                eprintln!("smtp-send: server: {}", one_line(&reply));
            }
            ClientEvent::Ready {
                capabilities,
                encrypted,
                authenticated,
            } if self.verbose => {
                let offered: Vec<&str> = capabilities.iter().map(|c| c.keyword()).collect();
                let encryption = if encrypted {
                    "encrypted"
                } else {
                    "not encrypted"
                };
                let authentication = match &authenticated {
                    Some(mechanism) => format!("authenticated with {mechanism}"),
                    None => String::from("not authenticated"),
                };
                eprintln!(
                    "smtp-send: ready ({encryption}, {authentication}); server offers: {}",
                    offered.join(" ")
                );
            }
            ClientEvent::Recipient {
                index,
                accepted,
                reply,
                ..
            } => {
                if let Some(slot) = self.outcome.recipients.get_mut(index) {
                    slot.rcpt = Some((accepted, reply));
                }
            }
            ClientEvent::RecipientDelivery {
                index,
                delivered,
                reply,
                ..
            } => {
                if let Some(slot) = self.outcome.recipients.get_mut(index) {
                    slot.delivery = Some((delivered, reply));
                }
            }
            ClientEvent::Delivered { reply, .. } => self.outcome.message = Some(Ok(reply)),
            ClientEvent::Failed { failure, .. } => self.outcome.message = Some(Err(failure)),
            ClientEvent::Closed { error } => self.outcome.session_error = error,
            _ => {}
        }
    }
}

/// Connects, sends the one message and `QUIT`, and returns what happened. Never fails:
/// every error is in the [`Outcome`].
pub(crate) async fn send(
    target: &Target,
    mut config: ClientConfig,
    envelope: Envelope,
    message: Vec<u8>,
    verbose: bool,
) -> Outcome {
    let mut recorder = Recorder {
        outcome: Outcome {
            recipients: vec![RecipientOutcome::default(); envelope.recipients.len()],
            ..Outcome::default()
        },
        verbose,
    };
    let connecting = connect(
        target.address.as_str(),
        &target.tls_name,
        target.mode,
        &target.trust,
    );
    let mut connection = match tokio::time::timeout(target.connect_timeout, connecting).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(e)) => {
            recorder.outcome.transport_error = Some(format!("{}: {e}", target.address));
            return recorder.outcome;
        }
        Err(_) => {
            recorder.outcome.transport_error = Some(format!(
                "{}: no connection within {:?}",
                target.address, target.connect_timeout
            ));
            return recorder.outcome;
        }
    };
    if verbose {
        eprintln!(
            "smtp-send: connected to {}{}",
            target.address,
            if connection.is_tls() { " (TLS)" } else { "" }
        );
    }
    let local = connection
        .stream()
        .get_ref()
        .and_then(|tcp| tcp.local_addr().ok());
    config.hostname = match (&target.helo, local) {
        (Some(name), _) => name.clone(),
        (None, Some(addr)) => address_literal(addr.ip()).unwrap_or(config.hostname),
        (None, None) => config.hostname,
    };

    let now = tokio::time::Instant::now().into_std();
    let mut session = ClientSession::new(config, now);
    if let Err(e) = session.send_mail(envelope, Bytes::from(message)) {
        recorder.outcome.transport_error = Some(format!("cannot queue the message: {e}"));
        return recorder.outcome;
    }
    session.quit();
    let result = drive(
        &mut connection,
        &mut session,
        &mut recorder,
        &DriveOptions::default(),
        std::future::pending(),
    )
    .await;
    if let Err(e) = result {
        recorder.outcome.transport_error = Some(format!("{}: {e}", target.address));
    }
    recorder.outcome
}

/// `[192.0.2.1]` or `[IPv6:2001:db8::1]`: what a client without a name says in `EHLO`.
fn address_literal(ip: std::net::IpAddr) -> Option<Host> {
    let text = match ip {
        std::net::IpAddr::V4(v4) => format!("[{v4}]"),
        std::net::IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
    };
    Host::try_from(text.as_str()).ok()
}

/// A reply on one line: its lines joined by ` / `, without CRLF.
pub(crate) fn one_line(reply: &Reply) -> String {
    reply
        .to_string()
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}
