//! The relay end to end inside one process: server A (domain `a.test`) queues and
//! delivers to server B (`b.test`, our own SMTP service on a loopback port) through a
//! static route, with the scheduler, the sessions and the DSNs all real. Nothing here
//! asserts a duration: the tests wait (with a generous limit) for an outcome.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use mailwire_core::Secret;
use mailwire_maildir::MailStore;
use mailwire_smtp::server::ServerConfig;
use mailwire_smtp::types::EhloDomain;
use mailwire_tokio::{ServeOptions, Shutdown, serve};
use tokio::net::TcpListener;

use super::queue::{Queue, QueuedMessage, QueuedRecipient, RcptState};
use super::route::{Myself, Route};
use super::{Relay, RelayConfig};
use crate::App;

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mailwire-relay-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(routes: Vec<Route>) -> RelayConfig {
    RelayConfig {
        routes,
        relay_nets: Vec::new(),
        require_tls: false,
        retry_initial: Duration::from_secs(1),
        retry_max: Duration::from_secs(1),
        queue_lifetime: Duration::from_secs(3600),
        delay_warning: Duration::from_secs(3600),
        max_deliveries: 4,
        max_per_destination: 2,
        connect_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_millis(200),
    }
}

fn app(data: &Path, domain: &str, users: &[&str], relay: RelayConfig) -> Arc<App> {
    let queue = Queue::open(data).unwrap();
    Arc::new(App {
        store: MailStore::open(data).unwrap(),
        users: users
            .iter()
            .map(|u| (u.to_string(), Secret::new(String::from("pw"))))
            .collect::<HashMap<_, _>>(),
        domain: domain.to_owned(),
        hostname: domain.to_owned(),
        discard: false,
        relay: Arc::new(Relay::new(queue, relay)),
    })
}

/// Serves `app` by SMTP on `listener` until `shutdown`.
fn serve_smtp(app: Arc<App>, listener: TcpListener, shutdown: &Shutdown) {
    serve_smtp_with(app, listener, shutdown, |_| {});
}

/// [`serve_smtp`] with the server's configuration changed by `adjust`.
fn serve_smtp_with(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: &Shutdown,
    adjust: impl FnOnce(&mut ServerConfig),
) {
    let mut config = ServerConfig::new(EhloDomain::new(&app.hostname).unwrap());
    config.starttls = false;
    adjust(&mut config);
    let service = Arc::new(crate::smtp::SmtpService::new(app, Arc::new(config)));
    let mut options = ServeOptions::default();
    options.shutdown_grace = Duration::from_secs(1);
    tokio::spawn(serve(listener, service, options, shutdown.triggered()));
}

fn start_relay(app: &Arc<App>, shutdown: &Shutdown) -> tokio::task::JoinHandle<()> {
    let startup = super::schedule::load(&app.relay.queue).unwrap();
    tokio::spawn(super::schedule::run(
        app.clone(),
        super::route::HickoryResolver::new(),
        Myself::default(),
        shutdown.clone(),
        startup,
    ))
}

/// Queues a message on `app` as the SMTP side would.
fn enqueue(app: &App, sender: &str, rcpts: &[&str], body: &[u8]) -> String {
    let mut msg = QueuedMessage::new(String::new(), Some(sender.to_owned()), SystemTime::now());
    for r in rcpts {
        msg.recipients
            .push(QueuedRecipient::new((*r).to_owned(), None, None));
    }
    app.relay.queue.enqueue(&mut msg, body).unwrap();
    let id = msg.id.clone();
    app.relay.submit(msg);
    id
}

fn messages(app: &App, user: &str) -> Vec<Vec<u8>> {
    let inbox = app.store.inbox(user).unwrap();
    inbox
        .list()
        .unwrap()
        .iter()
        .map(|e| inbox.read_message(e).unwrap())
        .collect()
}

async fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not done after 15 s");
}

/// Server B (`b.test`, users `b_users`, its configuration changed by `adjust`) on a
/// loopback port, and server A (`a.test`, user alice) relaying by the static route
/// `route(B's address)`, with its relay running.
struct AToB {
    shutdown: Shutdown,
    a: Arc<App>,
    b: Arc<App>,
    relay: tokio::task::JoinHandle<()>,
    _dirs: (Dir, Dir),
}

impl AToB {
    async fn start(
        b_users: &[&str],
        adjust: impl FnOnce(&mut ServerConfig),
        route: impl FnOnce(SocketAddr) -> String,
    ) -> AToB {
        let shutdown = Shutdown::new();
        let (dir_a, dir_b) = (Dir::new("a"), Dir::new("b"));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let b_addr = listener.local_addr().unwrap();
        let b = app(&dir_b.0, "b.test", b_users, config(Vec::new()));
        serve_smtp_with(b.clone(), listener, &shutdown, adjust);
        let route = Route::parse(&route(b_addr)).unwrap();
        let a = app(&dir_a.0, "a.test", &["alice"], config(vec![route]));
        let relay = start_relay(&a, &shutdown);
        AToB {
            shutdown,
            a,
            b,
            relay,
            _dirs: (dir_a, dir_b),
        }
    }

    async fn stop(self) {
        self.shutdown.trigger();
        self.relay.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivers_to_b_and_bounces_the_refused_recipient() {
    let pair = AToB::start(&["bob", "carol"], |_| {}, |b| format!("b.test={b}")).await;
    let (a, b) = (&pair.a, &pair.b);

    let body = b"Subject: one\r\n\r\nhello\r\n";
    let id = enqueue(
        a,
        "alice@a.test",
        &["bob@b.test", "nobody@b.test", "carol@B.test"],
        body,
    );
    // Several messages to the same destination share sessions.
    for n in 0..5 {
        let body = format!("Subject: more {n}\r\n\r\nx\r\n");
        enqueue(a, "alice@a.test", &["carol@b.test"], body.as_bytes());
    }
    wait_until(|| a.relay.queue.list().unwrap().is_empty()).await;

    let bob = messages(b, "bob");
    assert_eq!(bob.len(), 1);
    assert!(
        bob[0].ends_with(body),
        "{}",
        String::from_utf8_lossy(&bob[0])
    );
    assert_eq!(messages(b, "carol").len(), 6);
    // The refused recipient comes back to alice, locally, as a DSN.
    let dsn = messages(a, "alice");
    assert_eq!(dsn.len(), 1);
    let text = String::from_utf8_lossy(&dsn[0]);
    assert!(text.contains("multipart/report"), "{text}");
    assert!(
        text.contains("Final-Recipient: rfc822;nobody@b.test"),
        "{text}"
    );
    assert!(text.contains("Status: 5.1.1"), "{text}");
    assert!(
        !text.contains("Final-Recipient: rfc822;bob@b.test"),
        "{text}"
    );
    assert!(
        text.contains("Subject: one"),
        "the message is returned: {text}"
    );
    assert!(!id.is_empty());
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_down_is_retried_and_the_queue_survives_a_restart() {
    let shutdown = Shutdown::new();
    let (dir_a, dir_b) = (Dir::new("a"), Dir::new("b"));
    // A port with nobody listening yet.
    let b_addr: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let route = Route::parse(&format!("b.test={b_addr}")).unwrap();
    let a = app(&dir_a.0, "a.test", &["alice"], config(vec![route.clone()]));
    let relay = start_relay(&a, &shutdown);
    enqueue(
        &a,
        "alice@a.test",
        &["bob@b.test"],
        b"Subject: later\r\n\r\nx\r\n",
    );
    wait_until(|| {
        a.relay.queue.list().unwrap().first().is_some_and(|m| {
            m.recipients[0].attempts >= 2
                && m.recipients[0]
                    .last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("refused"))
        })
    })
    .await;
    // Stop A; the message stays queued, pending.
    shutdown.trigger();
    relay.await.unwrap();
    let left = a.relay.queue.list().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].recipients[0].state, RcptState::Pending);

    // B comes up; a new A on the same data directory, after a flush, delivers it.
    let shutdown = Shutdown::new();
    let b = app(&dir_b.0, "b.test", &["bob"], config(Vec::new()));
    serve_smtp(
        b.clone(),
        TcpListener::bind(b_addr).await.unwrap(),
        &shutdown,
    );
    let a = app(&dir_a.0, "a.test", &["alice"], config(vec![route]));
    a.relay.queue.request_flush().unwrap();
    let relay = start_relay(&a, &shutdown);
    wait_until(|| a.relay.queue.list().unwrap().is_empty()).await;
    assert_eq!(messages(&b, "bob").len(), 1);
    assert!(
        messages(&a, "alice").is_empty(),
        "no DSN for a delivered message"
    );
    shutdown.trigger();
    relay.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_sender_never_gets_a_dsn() {
    let pair = AToB::start(&["bob"], |_| {}, |b| format!("*={b}")).await;
    let (a, b) = (&pair.a, &pair.b);
    let mut msg = QueuedMessage::new(String::new(), None, SystemTime::now());
    msg.recipients
        .push(QueuedRecipient::new("nobody@b.test".into(), None, None));
    a.relay
        .queue
        .enqueue(&mut msg, b"Subject: x\r\n\r\n")
        .unwrap();
    a.relay.submit(msg);
    wait_until(|| a.relay.queue.list().unwrap().is_empty()).await;
    assert!(messages(a, "alice").is_empty());
    assert!(messages(b, "bob").is_empty());
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delay_notice_once_then_a_failure_when_the_lifetime_runs_out() {
    let shutdown = Shutdown::new();
    let dir_a = Dir::new("a");
    let nobody: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let mut relay_config = config(vec![Route::parse(&format!("b.test={nobody}")).unwrap()]);
    relay_config.delay_warning = Duration::from_secs(1);
    relay_config.queue_lifetime = Duration::from_secs(3);
    let a = app(&dir_a.0, "a.test", &["alice"], relay_config);
    let relay = start_relay(&a, &shutdown);
    let mut msg = QueuedMessage::new(
        String::new(),
        Some("alice@a.test".into()),
        SystemTime::now(),
    );
    let asks = mailwire_smtp::types::Notify {
        success: false,
        failure: true,
        delay: true,
    };
    msg.recipients
        .push(QueuedRecipient::new("bob@b.test".into(), Some(asks), None));
    // Without NOTIFY: a failure notice, no delay notice.
    msg.recipients
        .push(QueuedRecipient::new("carol@b.test".into(), None, None));
    a.relay
        .queue
        .enqueue(&mut msg, b"Subject: waits\r\n\r\nx\r\n")
        .unwrap();
    a.relay.submit(msg);
    wait_until(|| a.relay.queue.list().unwrap().is_empty()).await;
    let mut notices: Vec<String> = messages(&a, "alice")
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect();
    notices.sort_by_key(|n| !n.contains("Action: delayed"));
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(notices[0].contains("Action: delayed"), "{}", notices[0]);
    assert!(notices[0].contains("Final-Recipient: rfc822;bob@b.test"));
    assert!(
        !notices[0].contains("carol@b.test"),
        "carol did not ask: {}",
        notices[0]
    );
    assert!(notices[0].contains("Status: 4.4.1"), "{}", notices[0]);
    assert!(notices[1].contains("Action: failed"), "{}", notices[1]);
    assert!(notices[1].contains("Status: 5.4.7"), "{}", notices[1]);
    assert!(notices[1].contains("Final-Recipient: rfc822;bob@b.test"));
    assert!(notices[1].contains("Final-Recipient: rfc822;carol@b.test"));
    shutdown.trigger();
    relay.await.unwrap();
}

/// A host that answers every connection with `greeting` and closes; counts connections.
async fn refusing_host(greeting: &'static str) -> (SocketAddr, Arc<AtomicU32>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicU32::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(greeting.as_bytes()).await;
            // Read what the client says (QUIT, usually) until it closes.
            let mut buf = [0u8; 512];
            while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
        }
    });
    (addr, count)
}

/// RFC 5321 section 5.1: a host that refuses the session, for now (421) or for good
/// (554), is passed over for the next host of the route, which gets the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_first_host_is_passed_over_for_the_next() {
    for greeting in ["421 4.3.2 busy, try another\r\n", "554 5.7.1 not here\r\n"] {
        let (first, tried) = refusing_host(greeting).await;
        let pair = AToB::start(&["bob"], |_| {}, |b| format!("b.test={first},{b}")).await;
        let (a, b) = (&pair.a, &pair.b);

        let body = b"Subject: second host\r\n\r\nhello\r\n";
        enqueue(a, "alice@a.test", &["bob@b.test"], body);
        wait_until(|| a.relay.queue.list().unwrap().is_empty()).await;

        let bob = messages(b, "bob");
        assert_eq!(bob.len(), 1, "{greeting}");
        assert!(bob[0].ends_with(body));
        assert!(
            tried.load(Ordering::SeqCst) >= 1,
            "the first host was tried"
        );
        assert!(messages(a, "alice").is_empty(), "no DSN: {greeting}");
        pair.stop().await;
    }
}

/// When every host refuses for good, the message bounces (once, with the last host's
/// words); when one of them only refuses for now, it waits for a retry instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_host_refusing_bounces_only_when_all_refuse_for_good() {
    let shutdown = Shutdown::new();
    let dir_a = Dir::new("a");
    let (one, tried_one) = refusing_host("554 5.7.1 go away\r\n").await;
    let (two, tried_two) = refusing_host("554 5.7.1 not here either\r\n").await;
    let (busy, tried_busy) = refusing_host("421 4.3.2 busy\r\n").await;
    let routes = vec![
        Route::parse(&format!("b.test={one},{two}")).unwrap(),
        Route::parse(&format!("c.test={one},{busy}")).unwrap(),
    ];
    let a = app(&dir_a.0, "a.test", &["alice"], config(routes));
    let relay = start_relay(&a, &shutdown);

    enqueue(
        &a,
        "alice@a.test",
        &["bob@b.test"],
        b"Subject: b\r\n\r\nx\r\n",
    );
    let c_id = enqueue(
        &a,
        "alice@a.test",
        &["carol@c.test"],
        b"Subject: c\r\n\r\ny\r\n",
    );
    wait_until(|| {
        tried_two.load(Ordering::SeqCst) >= 1
            && tried_busy.load(Ordering::SeqCst) >= 1
            && messages(&a, "alice").len() == 1
    })
    .await;
    assert!(tried_one.load(Ordering::SeqCst) >= 2);
    let dsn = messages(&a, "alice");
    let text = String::from_utf8_lossy(&dsn[0]);
    assert!(
        text.contains("Final-Recipient: rfc822;bob@b.test"),
        "{text}"
    );
    assert!(
        text.contains("not here either"),
        "the last host's words: {text}"
    );
    assert!(!text.contains("carol@c.test"), "{text}");
    // carol's message is still queued, waiting for another try.
    let pending = a.relay.queue.list().unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].id, c_id);
    shutdown.trigger();
    relay.await.unwrap();
}

/// RFC 6152 section 3: to a server without 8BITMIME, an 8-bit message goes converted to
/// 7 bit (each part decoding to what it held); one with 8-bit header fields, which
/// cannot be converted, goes as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_8_bit_message_is_converted_for_a_server_without_8bitmime() {
    let no_8bitmime = |c: &mut ServerConfig| c.eight_bit_mime = false;
    let pair = AToB::start(&["bob", "carol"], no_8bitmime, |b| format!("b.test={b}")).await;
    let (a, b) = (&pair.a, &pair.b);

    let body = "Subject: converted\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
Grüße aus Köln\r\n--zz\r\nContent-Type: application/octet-stream\r\n\r\n\u{00ff}\u{00fe}\r\n--zz--\r\n";
    enqueue(a, "alice@a.test", &["bob@b.test"], body.as_bytes());
    let header_8bit = "Subject: Grüße\r\n\r\nsent as it is: ü\r\n";
    enqueue(a, "alice@a.test", &["carol@b.test"], header_8bit.as_bytes());
    wait_until(|| a.relay.queue.list().unwrap().is_empty()).await;

    let bob = messages(b, "bob");
    assert_eq!(bob.len(), 1);
    assert!(bob[0].is_ascii(), "{}", String::from_utf8_lossy(&bob[0]));
    let got = mailwire_mime::Message::parse(&bob[0][..]).unwrap();
    let sent = mailwire_mime::Message::parse(body.as_bytes()).unwrap();
    let leaves = |m: &mailwire_mime::Message<'_>| -> Vec<Vec<u8>> {
        m.parts()
            .filter(|p| !p.is_multipart())
            .map(|p| p.decoded_body().into_owned())
            .collect()
    };
    assert_eq!(leaves(&got), leaves(&sent));
    let text = String::from_utf8_lossy(&bob[0]).into_owned();
    assert!(
        text.contains("Content-Transfer-Encoding: quoted-printable\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Content-Transfer-Encoding: base64\r\n"),
        "{text}"
    );
    let carol = messages(b, "carol");
    assert_eq!(carol.len(), 1);
    assert!(carol[0].ends_with(header_8bit.as_bytes()));
    pair.stop().await;
}
