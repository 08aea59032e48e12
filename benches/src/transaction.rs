//! Whole SMTP sessions in memory: mailwire-smtp's `ClientSession` against its own
//! `ServerSession`, back to back, with no I/O (shared by the `smtp_transaction` and
//! `interleaved` benches; see `benches/smtp_transaction.rs`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use mailwire_core::{Session, Transmit};
use mailwire_smtp::client::{ClientConfig, ClientEvent, ClientSession, Envelope};
use mailwire_smtp::server::{ServerConfig, ServerEvent, ServerSession};
use mailwire_smtp::types::{EhloDomain, ForwardPath, Host, Mailbox, ReversePath};

/// A 4096-octet message: a few headers, then text lines of 60 to 78 characters, one in
/// about 20 starting with a dot (so that stuffing has something to do), CRLF line ends.
pub fn message() -> Bytes {
    const WORDS: &[&str] = &[
        "the", "message", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "mail",
        "server", "client", "protocol", "delivery", "transfer", "line", "of", "text", "and",
    ];
    let mut out = crate::prose(WORDS, 4096 - 80, 20);
    // Pad the last line so that the message is exactly 4096 octets.
    let pad = 4096 - 2 - out.len();
    out.extend(std::iter::repeat_n(b'x', pad));
    out.extend_from_slice(b"\r\n");
    assert_eq!(out.len(), 4096);
    Bytes::from(out)
}

/// The envelope of every session: a sender and three recipients.
pub fn envelope() -> Envelope {
    let mailbox = |s: &str| Mailbox::try_from(s).expect("a valid mailbox");
    Envelope::new(ReversePath::Mailbox(mailbox("alice.sender@example.org")))
        .to(ForwardPath::Mailbox(mailbox("bob@example.net")))
        .to(ForwardPath::Mailbox(mailbox(
            "carol.smith@mail.example.com",
        )))
        .to(ForwardPath::Mailbox(mailbox("dave@example.com")))
}

/// What one run needs, built once.
pub struct Setup {
    /// The client's configuration.
    pub client: ClientConfig,
    /// The server's configuration.
    pub server: Arc<ServerConfig>,
    /// The envelope sent.
    pub envelope: Envelope,
    /// The message sent.
    pub message: Bytes,
}

impl Setup {
    /// The setup; `chunking` lets the client use `BDAT`.
    pub fn new(chunking: bool) -> Setup {
        let mut client = ClientConfig::new(Host::try_from("client.example.org").unwrap());
        client.chunking = chunking;
        let mut server = ServerConfig::new(EhloDomain::new("mx.example.net").unwrap());
        // The `reuse` variant sends millions of commands on one session.
        server.max_commands = u32::MAX;
        Setup {
            client,
            server: Arc::new(server),
            envelope: envelope(),
            message: message(),
        }
    }
}

/// A client and a server wired back to back.
pub struct Pair {
    /// The client.
    pub client: ClientSession,
    /// The server.
    pub server: ServerSession,
    now: Instant,
    /// Messages the client has seen delivered.
    pub delivered: usize,
}

impl Pair {
    /// A new client and server from `setup`.
    pub fn new(setup: &Setup, now: Instant) -> Pair {
        Pair {
            client: ClientSession::new(setup.client.clone(), now),
            server: ServerSession::new(Arc::clone(&setup.server), now),
            now,
            delivered: 0,
        }
    }

    /// Moves bytes and answers decisions until neither side has anything to do.
    #[inline(never)]
    pub fn run(&mut self) {
        loop {
            let mut busy = false;
            while let Some(event) = self.client.poll_event() {
                busy = true;
                if let ClientEvent::Delivered { .. } = event {
                    self.delivered += 1;
                }
                black_box(event);
            }
            while let Some(transmit) = self.client.poll_transmit() {
                busy = true;
                match transmit {
                    Transmit::Data(bytes) => self.server.handle_input(&bytes, self.now),
                    Transmit::Close => self.server.handle_eof(self.now),
                    Transmit::StartTls => unreachable!("STARTTLS is not offered"),
                }
            }
            while let Some(event) = self.server.poll_event() {
                busy = true;
                match event {
                    ServerEvent::Helo { .. }
                    | ServerEvent::Mail { .. }
                    | ServerEvent::Rcpt { .. }
                    | ServerEvent::DataEnd { .. } => {
                        self.server.accept().expect("a decision is pending")
                    }
                    // The content is dropped unread.
                    other => drop(black_box(other)),
                }
            }
            while let Some(transmit) = self.server.poll_transmit() {
                busy = true;
                match transmit {
                    Transmit::Data(bytes) => self.client.handle_input(&bytes, self.now),
                    Transmit::Close => self.client.handle_eof(self.now),
                    Transmit::StartTls => unreachable!("STARTTLS is not offered"),
                }
            }
            if !busy {
                return;
            }
        }
    }
}

/// One complete session: greeting, EHLO, one message, QUIT.
#[inline(never)]
pub fn session(setup: &Setup, now: Instant) -> usize {
    let mut pair = Pair::new(setup, now);
    pair.client
        .send_mail(setup.envelope.clone(), setup.message.clone())
        .expect("the envelope is valid");
    pair.client.quit();
    pair.run();
    debug_assert!(pair.client.is_closed() && pair.server.is_closed());
    pair.delivered
}
