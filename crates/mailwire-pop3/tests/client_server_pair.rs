//! Our client against our server, in memory.

mod support;

use std::sync::Arc;
use std::time::Instant;

use mailwire_core::sasl::Mechanism;
use mailwire_pop3::client::{
    AuthMethod, ClientConfig, ClientError, ClientEvent, ClientSession, Login, TlsPolicy,
};
use mailwire_pop3::server::{CloseReason, ServerConfig, ServerEvent, ServerSession};
use mailwire_pop3::types::{ApopTimestamp, ResponseCode};
use support::{App, Run, run_pair};

const DOTTY: &[u8] = b"Subject: dots\r\nFrom: a@example.org\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nline\r\n...\r\nend\r\n";
const PLAIN_MSG: &[u8] = b"Subject: two\r\n\r\nbody 1\r\nbody 2\r\nbody 3\r\nbody 4\r\nbody 5\r\n";

fn fresh_app() -> App {
    App::new(vec![DOTTY.to_vec(), PLAIN_MSG.to_vec()])
}

fn client_config(tls: TlsPolicy) -> ClientConfig {
    let mut config = ClientConfig::new(Login::password("mrose", "tanstaaf".to_string()));
    config.tls = tls;
    config
}

fn ready(run: &Run) -> (bool, Option<AuthMethod>) {
    run.client_events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Ready {
                encrypted,
                authenticated,
                ..
            } => Some((*encrypted, authenticated.clone())),
            _ => None,
        })
        .expect("the client became ready")
}

fn message_bytes(run: &Run, id: mailwire_pop3::client::RequestId) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ended = false;
    for e in &run.client_events {
        match e {
            ClientEvent::MessageData { id: i, data } if *i == id => out.extend_from_slice(data),
            ClientEvent::MessageEnd { id: i } if *i == id => ended = true,
            _ => {}
        }
    }
    assert!(ended, "message {id:?} ended");
    out
}

fn closed_normally(run: &Run) {
    assert!(
        matches!(
            run.client_events.last(),
            Some(ClientEvent::Closed { error: None })
        ),
        "{:?}",
        run.client_events.last()
    );
}

#[test]
fn stls_then_user_pass_retr_with_dots_and_commit() {
    let mut server_config = ServerConfig::new();
    server_config.stls = true;
    let now = Instant::now();
    let mut server = ServerSession::new(Arc::new(server_config), now);
    let mut client = ClientSession::new(client_config(TlsPolicy::Required), now);
    let retr = client.retr(1).unwrap();
    let dele = client.dele(1).unwrap();
    client.quit().unwrap();
    let mut app = fresh_app();
    let run = run_pair(&mut client, &mut server, &mut app, None);
    assert_eq!(run.tls_upgrades, 2, "both sides upgraded");
    assert_eq!(ready(&run), (true, Some(AuthMethod::UserPass)));
    assert_eq!(message_bytes(&run, retr), DOTTY);
    assert!(
        run.client_events
            .iter()
            .any(|e| matches!(e, ClientEvent::Done { id, .. } if *id == dele))
    );
    closed_normally(&run);
    assert_eq!(app.removed, [0]);
    // The wire shows the stuffing.
    let wire = String::from_utf8_lossy(&run.to_client);
    assert!(
        wire.contains("\r\n..leading dot\r\n...two dots\r\n..\r\nline\r\n....\r\nend\r\n.\r\n")
    );
}

#[test]
fn apop_without_tls() {
    let now = Instant::now();
    let ts = ApopTimestamp::generate(4242, 1_700_000_000, "pop.example.org").unwrap();
    let mut server = ServerSession::with_timestamp(Arc::new(ServerConfig::new()), ts, false, now);
    let mut client = ClientSession::new(client_config(TlsPolicy::Opportunistic), now);
    let stat = client.stat().unwrap();
    client.quit().unwrap();
    let mut app = fresh_app();
    let run = run_pair(&mut client, &mut server, &mut app, None);
    assert_eq!(run.tls_upgrades, 0);
    assert_eq!(ready(&run), (false, Some(AuthMethod::Apop)));
    let total = (DOTTY.len() + PLAIN_MSG.len()) as u64;
    assert!(run.client_events.iter().any(
        |e| matches!(e, ClientEvent::Stat { id, count: 2, size } if *id == stat && *size == total)
    ));
    assert!(!String::from_utf8_lossy(&run.to_server).contains("tanstaaf"));
    closed_normally(&run);
    assert!(app.removed.is_empty());
}

#[test]
fn sasl_plain_login_and_cram_md5() {
    for (mechanisms, expected, tls) in [
        (
            vec![Mechanism::Plain, Mechanism::Login],
            Mechanism::Plain,
            true,
        ),
        (vec![Mechanism::Login], Mechanism::Login, true),
        (
            vec![Mechanism::CramMd5, Mechanism::Plain],
            Mechanism::CramMd5,
            false,
        ),
    ] {
        let now = Instant::now();
        let mut config = ServerConfig::new();
        config.auth_mechanisms = mechanisms;
        config.apop = false;
        let ts = ApopTimestamp::generate(7, 8, "pop.example.org").unwrap();
        let mut server = ServerSession::with_timestamp(Arc::new(config), ts, tls, now);
        let mut client = ClientSession::new(
            client_config(if tls {
                TlsPolicy::Implicit
            } else {
                TlsPolicy::Never
            }),
            now,
        );
        let list = client.list(None).unwrap();
        client.quit().unwrap();
        let mut app = fresh_app();
        let run = run_pair(&mut client, &mut server, &mut app, None);
        assert_eq!(
            ready(&run),
            (tls, Some(AuthMethod::Sasl(expected.clone()))),
            "{expected}"
        );
        let entries = run
            .client_events
            .iter()
            .find_map(|e| match e {
                ClientEvent::Listing { id, entries } if *id == list => Some(entries.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].size, PLAIN_MSG.len() as u64);
        closed_normally(&run);
    }
}

#[test]
fn top_cuts_after_header_and_n_lines() {
    let now = Instant::now();
    let mut config = ServerConfig::new();
    config.allow_plaintext_auth = true;
    let mut server = ServerSession::new(Arc::new(config), now);
    let mut cc = client_config(TlsPolicy::Never);
    cc.allow_plaintext_auth = true;
    let mut client = ClientSession::new(cc, now);
    let top2 = client.top(2, 2).unwrap();
    let top0 = client.top(2, 0).unwrap();
    let top_many = client.top(2, 100).unwrap();
    let uidl = client.uidl(Some(2)).unwrap();
    client.quit().unwrap();
    let mut app = fresh_app();
    app.piece = 3;
    let run = run_pair(&mut client, &mut server, &mut app, None);
    assert_eq!(
        message_bytes(&run, top2),
        b"Subject: two\r\n\r\nbody 1\r\nbody 2\r\n"
    );
    assert_eq!(message_bytes(&run, top0), b"Subject: two\r\n\r\n");
    assert_eq!(message_bytes(&run, top_many), PLAIN_MSG);
    // The application stopped streaming once the cuts had enough.
    assert!(app.streamed < 3 * PLAIN_MSG.len(), "{}", app.streamed);
    assert!(run.client_events.iter().any(|e| matches!(e,
        ClientEvent::UniqueIds { id, entries } if *id == uidl && entries[0].uid.as_str() == "uid1-stable")));
    closed_normally(&run);
}

#[test]
fn dele_then_drop_commits_nothing_and_rset_undoes() {
    let now = Instant::now();
    let mut config = ServerConfig::new();
    config.allow_plaintext_auth = true;
    let config = Arc::new(config);
    let mut cc = client_config(TlsPolicy::Never);
    cc.allow_plaintext_auth = true;

    // DELE, then the connection drops: nothing is committed.
    let mut server = ServerSession::new(config.clone(), now);
    let mut client = ClientSession::new(cc.clone(), now);
    client.dele(1).unwrap();
    client.dele(2).unwrap();
    let mut app = fresh_app();
    let run = run_pair(&mut client, &mut server, &mut app, Some(4));
    let deleted = run
        .client_events
        .iter()
        .filter(|e| matches!(e, ClientEvent::Done { .. }))
        .count();
    assert_eq!(deleted, 2, "both DELEs were answered before the drop");
    assert!(app.removed.is_empty());
    assert!(
        !app.events
            .iter()
            .any(|e| matches!(e, ServerEvent::Commit { .. }))
    );
    assert!(app.events.iter().any(|e| matches!(
        e,
        ServerEvent::Closed {
            reason: CloseReason::PeerClosed
        }
    )));
    assert!(matches!(
        run.client_events.last(),
        Some(ClientEvent::Closed {
            error: Some(ClientError::PeerClosed)
        })
    ));

    // DELE, RSET, QUIT: a commit with nothing deleted.
    let mut server = ServerSession::new(config, now);
    let mut client = ClientSession::new(cc, now);
    client.dele(1).unwrap();
    client.rset().unwrap();
    client.dele(2).unwrap();
    client.quit().unwrap();
    let mut app = fresh_app();
    let run = run_pair(&mut client, &mut server, &mut app, None);
    closed_normally(&run);
    assert_eq!(app.removed, [1]);
}

#[test]
fn maildrop_in_use_ends_with_auth_failure() {
    let now = Instant::now();
    let mut config = ServerConfig::new();
    config.stls = true;
    let mut server = ServerSession::new(Arc::new(config), now);
    let mut client = ClientSession::new(client_config(TlsPolicy::Opportunistic), now);
    let mut app = fresh_app();
    app.locked = true;
    let run = run_pair(&mut client, &mut server, &mut app, None);
    let Some(ClientEvent::Closed {
        error: Some(ClientError::AuthFailed(response)),
    }) = run.client_events.last()
    else {
        panic!("{:?}", run.client_events.last())
    };
    assert_eq!(response.code(), Some(&ResponseCode::InUse));
    assert!(app.events.iter().any(|e| matches!(
        e,
        ServerEvent::Closed {
            reason: CloseReason::Quit
        }
    )));
}

#[test]
fn no_password_in_the_clear() {
    let now = Instant::now();
    // The server would allow it, but the client refuses to send it without TLS.
    let mut config = ServerConfig::new();
    config.allow_plaintext_auth = true;
    let mut server = ServerSession::new(Arc::new(config), now);
    let mut client = ClientSession::new(client_config(TlsPolicy::Opportunistic), now);
    let mut app = fresh_app();
    let run = run_pair(&mut client, &mut server, &mut app, None);
    assert!(matches!(
        run.client_events.last(),
        Some(ClientEvent::Closed {
            error: Some(ClientError::NoAuthMethod)
        })
    ));
    assert!(!String::from_utf8_lossy(&run.to_server).contains("tanstaaf"));
}

#[test]
fn without_pipelining_the_same_answers() {
    let mut answers = Vec::new();
    for pipelining in [true, false] {
        let now = Instant::now();
        let mut config = ServerConfig::new();
        config.pipelining = pipelining;
        config.stls = true;
        let mut server = ServerSession::new(Arc::new(config), now);
        let mut client = ClientSession::new(client_config(TlsPolicy::Required), now);
        client.stat().unwrap();
        client.list(Some(1)).unwrap();
        client.retr(2).unwrap();
        client.noop().unwrap();
        client.retr(9).unwrap();
        client.quit().unwrap();
        let mut app = fresh_app();
        let run = run_pair(&mut client, &mut server, &mut app, None);
        closed_normally(&run);
        // Only the capabilities differ.
        answers.push(
            run.client_events
                .into_iter()
                .filter(|e| !matches!(e, ClientEvent::Ready { .. }))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(answers[0], answers[1]);
    assert!(
        answers[0]
            .iter()
            .any(|e| matches!(e, ClientEvent::Failed { .. }))
    );
}
