//! The client against the crate's own server state machine, in memory, over combinations
//! of extensions: pipelining, chunking, LMTP, AUTH, SMTPUTF8, BINARYMIME, SIZE, and
//! STARTTLS with a pass-through "TLS".

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use mailwire_core::sasl::{ClientCredentials, Credentials, Mechanism};
use mailwire_core::{Session, Transmit};
use mailwire_smtp::client::{
    ClientConfig, ClientError, ClientEvent, ClientSession, Envelope, LocalRefusal, MessageFailure,
    TlsPolicy, TransactionId,
};
use mailwire_smtp::server::{ServerConfig, ServerEvent, ServerSession};
use mailwire_smtp::types::{BodyType, EhloDomain, ForwardPath, Host, Mailbox, Reply, ReversePath};

const USER: &str = "tim";
const PASSWORD: &str = "tanstaaftanstaaf";

/// The server application: accepts everyone but `nobody@` recipients, refuses LMTP
/// delivery to `full@`, checks the one password, and keeps the messages.
struct World {
    client: ClientSession,
    server: ServerSession,
    now: Instant,
    client_events: Vec<ClientEvent>,
    messages: Vec<Vec<u8>>,
    current: Vec<u8>,
    /// Accepted recipients of the transaction in progress, in order (for LMTP).
    recipients: Vec<String>,
    lmtp_index: usize,
    handshakes: (usize, usize),
}

impl World {
    fn new(client_config: ClientConfig, server_config: ServerConfig) -> World {
        let now = Instant::now();
        let mut server = ServerSession::new(Arc::new(server_config), now);
        server.set_cram_md5_seed(1896, 697_170_952);
        World {
            client: ClientSession::new(client_config, now),
            server,
            now,
            client_events: Vec::new(),
            messages: Vec::new(),
            current: Vec::new(),
            recipients: Vec::new(),
            lmtp_index: 0,
            handshakes: (0, 0),
        }
    }

    fn decide(&mut self, event: ServerEvent) {
        let server = &mut self.server;
        match event {
            ServerEvent::Helo { .. } | ServerEvent::Mail { .. } => server.accept().unwrap(),
            ServerEvent::Auth { credentials } => {
                let ok = match &credentials {
                    Credentials::Password(c) => {
                        c.authcid == USER && c.password.expose() == PASSWORD
                    }
                    Credentials::CramMd5(c) => c.username == USER && c.verify(PASSWORD),
                    _ => false,
                };
                if ok {
                    server.accept().unwrap();
                } else {
                    server
                        .reject(Reply::with_enhanced(535, (5, 7, 8), "Bad credentials").unwrap())
                        .unwrap();
                }
            }
            ServerEvent::Rcpt { to, .. } => {
                let to = match to {
                    ForwardPath::Postmaster => "postmaster".to_string(),
                    ForwardPath::Mailbox(m) => m.to_string(),
                };
                if to.starts_with("nobody@") {
                    server.reject(Reply::no_such_user()).unwrap();
                } else {
                    self.recipients.push(to);
                    server.accept().unwrap();
                }
            }
            ServerEvent::DataStart { .. } => self.current.clear(),
            ServerEvent::Data(chunk) => self.current.extend_from_slice(&chunk),
            ServerEvent::DataEnd { .. } => {
                self.messages.push(std::mem::take(&mut self.current));
                self.lmtp_index = 0;
                self.answer_message();
            }
            ServerEvent::DataAborted { .. } | ServerEvent::Reset => {
                self.current.clear();
                self.recipients.clear();
            }
            _ => {}
        }
    }

    /// Answers the end of a message: once for SMTP, once per recipient for LMTP.
    fn answer_message(&mut self) {
        let lmtp = self.server.config().lmtp;
        loop {
            let rcpt = self
                .recipients
                .get(self.lmtp_index)
                .cloned()
                .unwrap_or_default();
            self.lmtp_index += 1;
            if lmtp && rcpt.starts_with("full@") {
                self.server.reject(Reply::mailbox_full()).unwrap();
            } else {
                self.server.accept().unwrap();
            }
            if !lmtp || !self.server.is_decision_pending() {
                break;
            }
        }
        self.recipients.clear();
    }

    fn run(&mut self) {
        for _ in 0..100_000 {
            let mut busy = false;
            while let Some(event) = self.client.poll_event() {
                busy = true;
                self.client_events.push(event);
            }
            while let Some(transmit) = self.client.poll_transmit() {
                busy = true;
                match transmit {
                    Transmit::Data(bytes) => self.server.handle_input(&bytes, self.now),
                    // Pass-through "TLS": the bytes go on as they are.
                    Transmit::StartTls => self.handshakes.0 += 1,
                    Transmit::Close => self.server.handle_eof(self.now),
                }
            }
            while let Some(event) = self.server.poll_event() {
                busy = true;
                self.decide(event);
            }
            while let Some(transmit) = self.server.poll_transmit() {
                busy = true;
                match transmit {
                    Transmit::Data(bytes) => self.client.handle_input(&bytes, self.now),
                    Transmit::StartTls => self.handshakes.1 += 1,
                    Transmit::Close => self.client.handle_eof(self.now),
                }
            }
            if !busy {
                return;
            }
        }
        panic!("the pair does not settle");
    }

    fn delivered(&self) -> Vec<TransactionId> {
        self.client_events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Delivered { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    }

    fn failure(&self, id: TransactionId) -> Option<&MessageFailure> {
        self.client_events.iter().find_map(|e| match e {
            ClientEvent::Failed { id: i, failure } if *i == id => Some(failure),
            _ => None,
        })
    }

    fn closed(&self) -> Option<&Option<ClientError>> {
        match self.client_events.last() {
            Some(ClientEvent::Closed { error }) => Some(error),
            _ => None,
        }
    }
}

fn client_config() -> ClientConfig {
    ClientConfig::new(Host::try_from("client.example").unwrap())
}

fn server_config() -> ServerConfig {
    ServerConfig::new(EhloDomain::new("mx.example").unwrap())
}

fn envelope(to: &[&str]) -> Envelope {
    let mut envelope = Envelope::new(ReversePath::Mailbox(
        Mailbox::try_from("a@example.org").unwrap(),
    ));
    for t in to {
        envelope = envelope.to(ForwardPath::Mailbox(Mailbox::try_from(*t).unwrap()));
    }
    envelope
}

#[test]
fn every_combination_of_pipelining_and_chunking_delivers_the_same() {
    for server_pipelining in [false, true] {
        for server_chunking in [false, true] {
            for client_chunk in [5, 64 * 1024] {
                let mut server = server_config();
                server.pipelining = server_pipelining;
                server.chunking = server_chunking;
                let mut client = client_config();
                client.chunk_size = client_chunk;
                client.data_piece_size = 3;
                let mut world = World::new(client, server);
                let body = ".starts with a dot\nbare LF, caf\u{e9}\r\n..two\r\n.\r\nend";
                let first = world
                    .client
                    .send_mail(
                        envelope(&["b@example.com", "nobody@example.com"]),
                        Bytes::from(body),
                    )
                    .unwrap();
                let refused = world
                    .client
                    .send_mail(
                        envelope(&["nobody@example.com"]),
                        Bytes::from_static(b"lost\r\n"),
                    )
                    .unwrap();
                let last = world
                    .client
                    .send_mail(envelope(&["c@example.com"]), Bytes::from_static(b"bye\r\n"))
                    .unwrap();
                world.client.quit();
                world.run();
                let label = format!(
                    "pipelining {server_pipelining}, chunking {server_chunking}, chunk {client_chunk}"
                );
                assert_eq!(
                    world.delivered(),
                    [first, last],
                    "{label}: {:?}",
                    world.client_events
                );
                assert!(
                    matches!(world.failure(refused), Some(MessageFailure::AllRecipientsRefused(r)) if r.code().as_u16() == 550),
                    "{label}"
                );
                let normalised = ".starts with a dot\r\nbare LF, caf\u{e9}\r\n..two\r\n.\r\nend";
                let want_first = if server_chunking {
                    normalised.to_string()
                } else {
                    format!("{normalised}\r\n")
                };
                assert_eq!(
                    world.messages,
                    [want_first.into_bytes(), b"bye\r\n".to_vec()],
                    "{label}"
                );
                assert_eq!(world.closed(), Some(&None), "{label}");
                assert!(world.server.is_closed(), "{label}");
            }
        }
    }
}

#[test]
fn lmtp_per_recipient_results() {
    for chunking in [false, true] {
        for pipelining in [false, true] {
            let mut server = ServerConfig::lmtp(EhloDomain::new("lmtp.example").unwrap());
            server.chunking = chunking;
            server.pipelining = pipelining;
            let mut world = World::new(
                ClientConfig::lmtp(Host::try_from("client.example").unwrap()),
                server,
            );
            let id = world
                .client
                .send_mail(
                    envelope(&[
                        "b@example.com",
                        "nobody@example.com",
                        "full@example.com",
                        "c@example.com",
                    ]),
                    Bytes::from_static(b"Subject: x\r\n\r\nhello\r\n"),
                )
                .unwrap();
            let none = world
                .client
                .send_mail(
                    envelope(&["full@example.com"]),
                    Bytes::from_static(b"x\r\n"),
                )
                .unwrap();
            world.client.quit();
            world.run();
            let results: Vec<(TransactionId, usize, bool)> = world
                .client_events
                .iter()
                .filter_map(|e| match e {
                    ClientEvent::RecipientDelivery {
                        id,
                        index,
                        delivered,
                        ..
                    } => Some((*id, *index, *delivered)),
                    _ => None,
                })
                .collect();
            assert_eq!(
                results,
                [
                    (id, 0, true),
                    (id, 2, false),
                    (id, 3, true),
                    (none, 0, false)
                ],
                "chunking {chunking}, pipelining {pipelining}: {:?}",
                world.client_events
            );
            assert_eq!(world.delivered(), [id]);
            assert!(
                matches!(world.failure(none), Some(MessageFailure::Final(r)) if r.code().as_u16() == 552)
            );
            assert_eq!(world.closed(), Some(&None));
        }
    }
}

#[test]
fn starttls_then_auth_plain() {
    let mut server = server_config();
    server.starttls = true;
    server.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    server.require_auth = true;
    let mut client = client_config();
    client.tls = TlsPolicy::Required;
    client.credentials = Some(ClientCredentials::password(USER, PASSWORD.to_string()));
    let mut world = World::new(client, server);
    let id = world
        .client
        .send_mail(
            envelope(&["b@example.com"]),
            Bytes::from_static(b"secret\r\n"),
        )
        .unwrap();
    world.client.quit();
    world.run();
    assert_eq!(world.handshakes, (1, 1));
    assert!(world.client.is_encrypted() && world.server.is_tls());
    assert_eq!(world.server.authenticated_user(), Some(USER));
    assert_eq!(world.client.authenticated(), Some(&Mechanism::Plain));
    assert_eq!(world.delivered(), [id]);
    assert_eq!(world.closed(), Some(&None));
}

#[test]
fn auth_login_and_cram_md5() {
    // LOGIN on an implicit-TLS connection (the server must count it as TLS too).
    let mut server = server_config();
    server.auth_mechanisms = vec![Mechanism::Login];
    let mut client = client_config();
    client.tls = TlsPolicy::Implicit;
    client.credentials = Some(ClientCredentials::password(USER, PASSWORD.to_string()));
    let now = Instant::now();
    let mut world = World::new(client, server_config());
    world.server = ServerSession::new_tls(Arc::new(server), now);
    world.run();
    assert_eq!(world.client.authenticated(), Some(&Mechanism::Login));

    // CRAM-MD5 on a plaintext connection; PLAIN is offered too but must not be used.
    let mut server = server_config();
    server.auth_mechanisms = vec![Mechanism::Plain, Mechanism::CramMd5];
    server.allow_plaintext_auth = true;
    let mut client = client_config();
    client.tls = TlsPolicy::Never;
    client.credentials = Some(ClientCredentials::password(USER, PASSWORD.to_string()));
    let mut world = World::new(client.clone(), server.clone());
    world.run();
    assert_eq!(world.client.authenticated(), Some(&Mechanism::CramMd5));

    client.credentials = Some(ClientCredentials::password(USER, "wrong".to_string()));
    let mut world = World::new(client, server);
    world.run();
    assert!(
        matches!(world.closed(), Some(Some(ClientError::AuthFailed(r))) if r.code().as_u16() == 535)
    );
}

#[test]
fn smtputf8_and_binarymime() {
    let mut world = World::new(client_config(), server_config());
    let utf8 = world
        .client
        .send_mail(
            envelope(&["jos\u{e9}@example.com"]),
            Bytes::from_static(b"hola\r\n"),
        )
        .unwrap();
    let mut binary_env = envelope(&["b@example.com"]);
    binary_env.params.body = Some(BodyType::BinaryMime);
    let binary_body = Bytes::from_static(b"\x00\x01 binary\nbare\r.\r\n\xff");
    let binary = world
        .client
        .send_mail(binary_env, binary_body.clone())
        .unwrap();
    world.client.quit();
    world.run();
    assert_eq!(world.delivered(), [utf8, binary]);
    assert_eq!(world.messages[1], binary_body.to_vec());

    let mut server = server_config();
    server.smtputf8 = false;
    server.binary_mime = false;
    let mut world = World::new(client_config(), server);
    let utf8 = world
        .client
        .send_mail(
            envelope(&["jos\u{e9}@example.com"]),
            Bytes::from_static(b"hola\r\n"),
        )
        .unwrap();
    let mut binary_env = envelope(&["b@example.com"]);
    binary_env.params.body = Some(BodyType::BinaryMime);
    let binary = world.client.send_mail(binary_env, binary_body).unwrap();
    world.run();
    assert_eq!(
        world.failure(utf8),
        Some(&MessageFailure::Local(LocalRefusal::NotOffered("SMTPUTF8")))
    );
    assert_eq!(
        world.failure(binary),
        Some(&MessageFailure::Local(LocalRefusal::NotOffered(
            "BINARYMIME"
        )))
    );
}

#[test]
fn size_limit_is_respected_before_sending() {
    let mut server = server_config();
    server.max_message_size = Some(100);
    let mut world = World::new(client_config(), server);
    let big = world
        .client
        .send_mail(envelope(&["b@example.com"]), Bytes::from(vec![b'x'; 200]))
        .unwrap();
    let small = world
        .client
        .send_mail(
            envelope(&["b@example.com"]),
            Bytes::from_static(b"small\r\n"),
        )
        .unwrap();
    world.run();
    assert!(matches!(
        world.failure(big),
        Some(MessageFailure::Local(LocalRefusal::TooLarge {
            limit: 100,
            ..
        }))
    ));
    assert_eq!(world.delivered(), [small]);
    assert_eq!(world.messages.len(), 1);
}

#[test]
fn server_shutdown_mid_session() {
    let mut world = World::new(client_config(), server_config());
    world.run();
    let id = world
        .client
        .send_mail(envelope(&["b@example.com"]), Bytes::from_static(b"x\r\n"))
        .unwrap();
    world.server.shutdown();
    world.run();
    assert!(matches!(
        world.failure(id),
        Some(MessageFailure::SessionEnded)
    ));
    assert!(
        matches!(world.closed(), Some(Some(ClientError::ServiceClosing(r))) if r.code().as_u16() == 421)
    );
}
