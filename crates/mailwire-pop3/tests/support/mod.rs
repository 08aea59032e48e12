//! An in-memory maildrop application driving a `ServerSession`, and a client/server pair.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use mailwire_core::sasl::Credentials;
use mailwire_core::{Session, Transmit};
use mailwire_pop3::client::{ClientEvent, ClientSession};
use mailwire_pop3::server::{MessageInfo, ServerConfig, ServerEvent, ServerSession};
use mailwire_pop3::types::{Response, ResponseCode, Uid};

/// The application behind a server session.
#[derive(Debug, Default)]
pub struct App {
    pub users: HashMap<String, String>,
    pub messages: Vec<Vec<u8>>,
    pub uids: Vec<String>,
    pub locked: bool,
    /// The size of the pieces messages are streamed in.
    pub piece: usize,
    /// Every event the server produced.
    pub events: Vec<ServerEvent>,
    /// Messages removed by accepted commits.
    pub removed: Vec<usize>,
    /// How many bytes of messages were handed to the session.
    pub streamed: usize,
}

impl App {
    pub fn new(messages: Vec<Vec<u8>>) -> App {
        let uids = (0..messages.len())
            .map(|i| format!("uid{i}-stable"))
            .collect();
        let mut users = HashMap::new();
        users.insert("mrose".to_string(), "tanstaaf".to_string());
        App {
            users,
            messages,
            uids,
            piece: 7,
            ..App::default()
        }
    }

    fn password_ok(&self, user: &str, password: &str) -> bool {
        self.users.get(user).is_some_and(|p| p == password)
    }

    /// Answers every event the session has, until none is left.
    pub fn serve(&mut self, session: &mut ServerSession) {
        while let Some(event) = session.poll_event() {
            self.events.push(event.clone());
            match event {
                ServerEvent::Login { user, password } => {
                    if self.password_ok(&user, password.expose()) {
                        session.accept().unwrap();
                    } else {
                        session
                            .reject(Response::err_with(ResponseCode::Auth, "Bad login"))
                            .unwrap();
                    }
                }
                ServerEvent::Apop {
                    user,
                    digest,
                    timestamp,
                } => {
                    let ok = self
                        .users
                        .get(&user)
                        .is_some_and(|p| digest.verify(&timestamp, p));
                    if ok {
                        session.accept().unwrap();
                    } else {
                        session
                            .reject(Response::err_with(ResponseCode::Auth, "Bad login"))
                            .unwrap();
                    }
                }
                ServerEvent::Auth { credentials } => {
                    let ok = match &credentials {
                        Credentials::Password(claim) => {
                            self.password_ok(&claim.authcid, claim.password.expose())
                        }
                        Credentials::CramMd5(claim) => self
                            .users
                            .get(&claim.username)
                            .is_some_and(|p| claim.verify(p)),
                        _ => false,
                    };
                    if ok {
                        session.accept().unwrap();
                    } else {
                        session
                            .reject(Response::err_with(ResponseCode::Auth, "Bad login"))
                            .unwrap();
                    }
                }
                ServerEvent::Maildrop { .. } => {
                    if self.locked {
                        session.reject(Response::in_use()).unwrap();
                    } else {
                        let listing = self
                            .messages
                            .iter()
                            .zip(&self.uids)
                            .map(|(m, u)| MessageInfo {
                                size: m.len() as u64,
                                uid: Uid::new(u.clone()).unwrap(),
                            })
                            .collect();
                        session.open_maildrop(listing).unwrap();
                    }
                }
                ServerEvent::Retrieve { index, .. } => {
                    let message = self.messages[index].clone();
                    for piece in message.chunks(self.piece.max(1)) {
                        if !session.wants_message_data() {
                            break;
                        }
                        self.streamed += piece.len();
                        session.send_message_chunk(piece).unwrap();
                    }
                    session.finish_message().unwrap();
                }
                ServerEvent::Commit { deleted } => {
                    self.removed.extend(deleted);
                    session.accept().unwrap();
                }
                _ => {}
            }
        }
    }
}

/// Feeds `input` to a server in one go, serves it, and returns what it wrote.
pub fn server_transcript(session: &mut ServerSession, app: &mut App, input: &[&[u8]]) -> String {
    let now = Instant::now();
    let mut wire = Vec::new();
    drain(session, app, &mut wire);
    for chunk in input {
        session.handle_input(chunk, now);
        drain(session, app, &mut wire);
    }
    String::from_utf8(wire).unwrap()
}

pub fn drain(session: &mut ServerSession, app: &mut App, wire: &mut Vec<u8>) {
    loop {
        app.serve(session);
        let mut any = false;
        while let Some(t) = session.poll_transmit() {
            any = true;
            if let Transmit::Data(bytes) = t {
                wire.extend_from_slice(&bytes);
            }
        }
        if !any && session.poll_event().is_none() {
            // poll_event above may have consumed an event: serve() handles events, so an
            // event here means the loop must go on.
            break;
        }
    }
}

pub fn config() -> Arc<ServerConfig> {
    let mut config = ServerConfig::new();
    config.hostname = "dewey".to_string();
    Arc::new(config)
}

/// What passed between a client and a server.
#[derive(Debug, Default)]
pub struct Run {
    pub client_events: Vec<ClientEvent>,
    pub to_server: Vec<u8>,
    pub to_client: Vec<u8>,
    pub tls_upgrades: usize,
}

/// Runs a client against a server until neither has anything to do. `StartTls` is a
/// pass-through (both sides just count it). If `drop_after` is set, the connection is
/// cut (EOF to both sides) once the client has seen that many events.
pub fn run_pair(
    client: &mut ClientSession,
    server: &mut ServerSession,
    app: &mut App,
    drop_after: Option<usize>,
) -> Run {
    let now = Instant::now();
    let mut run = Run::default();
    let mut dropped = false;
    for _ in 0..10_000 {
        let mut progressed = false;
        app.serve(server);
        let mut to_client = Vec::new();
        while let Some(t) = server.poll_transmit() {
            progressed = true;
            match t {
                Transmit::Data(b) => to_client.extend_from_slice(&b),
                Transmit::StartTls => run.tls_upgrades += 1,
                Transmit::Close => {}
            }
        }
        if !to_client.is_empty() && !dropped {
            run.to_client.extend_from_slice(&to_client);
            client.handle_input(&to_client, now);
        }
        let mut to_server = Vec::new();
        while let Some(t) = client.poll_transmit() {
            progressed = true;
            match t {
                Transmit::Data(b) => to_server.extend_from_slice(&b),
                Transmit::StartTls => run.tls_upgrades += 1,
                Transmit::Close => {}
            }
        }
        while let Some(e) = client.poll_event() {
            progressed = true;
            run.client_events.push(e);
        }
        if !to_server.is_empty() && !dropped {
            run.to_server.extend_from_slice(&to_server);
            server.handle_input(&to_server, now);
        }
        if let Some(n) = drop_after
            && !dropped
            && run.client_events.len() >= n
        {
            dropped = true;
            server.handle_eof(now);
            client.handle_eof(now);
            progressed = true;
        }
        if !progressed {
            break;
        }
    }
    app.serve(server);
    run
}
