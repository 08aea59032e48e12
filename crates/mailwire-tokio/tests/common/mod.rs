//! Shared by the integration tests: an SMTP service on `mailwire_smtp::server`, a log of
//! what happened on the server side, line-reading helpers for raw clients, and test
//! certificates made with rcgen.
#![allow(dead_code)] // each test file uses a part
#![allow(unreachable_pub)] // a test helper module: `pub` is for the test files

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailwire_smtp::server::{AbortReason, CloseReason, ServerConfig, ServerEvent, ServerSession};
use mailwire_smtp::types::EhloDomain;
use mailwire_tokio::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use mailwire_tokio::{
    ConnectionInfo, DriveError, Handler, ServeOptions, Service, Shutdown, serve, tls,
};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the server side saw.
#[derive(Debug, Default)]
pub struct Log {
    /// Messages accepted with 250, with whether the session was encrypted then.
    pub messages: Vec<(Vec<u8>, bool)>,
    /// Why sessions closed (`ServerEvent::Closed`).
    pub closes: Vec<CloseReason>,
    /// Aborted messages.
    pub aborted: Vec<AbortReason>,
    /// Every finished connection: its info and how its drive ended.
    pub finished: Vec<(ConnectionInfo, Result<(), String>)>,
    /// `DriveError::WriteTimeout` results, by connection id.
    pub write_timeouts: Vec<u64>,
    /// `DriveError::TlsNotConfigured` results, by connection id.
    pub tls_not_configured: Vec<u64>,
}

pub type SharedLog = Arc<Mutex<Log>>;

pub fn lock(log: &SharedLog) -> std::sync::MutexGuard<'_, Log> {
    log.lock()
        .expect("a test thread panicked while holding the log")
}

pub fn smtp_config() -> ServerConfig {
    ServerConfig::new(EhloDomain::new("mx.test").expect("a valid name"))
}

/// An SMTP server that accepts everything and logs it.
pub struct Smtp {
    pub config: Arc<ServerConfig>,
    pub log: SharedLog,
}

pub struct SmtpHandler {
    log: SharedLog,
    message: Vec<u8>,
}

impl Handler<ServerSession> for SmtpHandler {
    async fn on_event(&mut self, session: &mut ServerSession, event: ServerEvent) {
        match event {
            ServerEvent::Helo { .. } | ServerEvent::Mail { .. } | ServerEvent::Rcpt { .. } => {
                session.accept().expect("a decision is pending");
            }
            ServerEvent::DataStart { .. } => self.message.clear(),
            ServerEvent::Data(chunk) => self.message.extend_from_slice(&chunk),
            ServerEvent::DataEnd { .. } => {
                // What a real server does here: store the message before saying 250.
                tokio::task::yield_now().await;
                let message = std::mem::take(&mut self.message);
                lock(&self.log).messages.push((message, session.is_tls()));
                session.accept().expect("a decision is pending");
            }
            ServerEvent::DataAborted { reason } => lock(&self.log).aborted.push(reason),
            ServerEvent::Closed { reason } => lock(&self.log).closes.push(reason),
            _ => {}
        }
    }

    fn on_shutdown(&mut self, session: &mut ServerSession) {
        session.shutdown();
    }
}

impl Service for Smtp {
    type Session = ServerSession;
    type Handler = SmtpHandler;

    fn open(&self, info: &ConnectionInfo) -> (ServerSession, SmtpHandler) {
        let session = if info.tls {
            ServerSession::new_tls(self.config.clone(), info.now)
        } else {
            ServerSession::new(self.config.clone(), info.now)
        };
        (session, self.handler())
    }

    fn busy(&self, info: &ConnectionInfo) -> Option<(ServerSession, SmtpHandler)> {
        Some((
            ServerSession::busy(self.config.clone(), info.now),
            self.handler(),
        ))
    }

    fn finished(&self, info: &ConnectionInfo, result: &Result<(), DriveError>) {
        let mut log = lock(&self.log);
        match result {
            Err(DriveError::WriteTimeout) => log.write_timeouts.push(info.id),
            Err(DriveError::TlsNotConfigured) => log.tls_not_configured.push(info.id),
            _ => {}
        }
        let result = result
            .as_ref()
            .map(|_| ())
            .map_err(|error| error.to_string());
        log.finished.push((info.clone(), result));
    }
}

impl Smtp {
    fn handler(&self) -> SmtpHandler {
        SmtpHandler {
            log: self.log.clone(),
            message: Vec::new(),
        }
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub task: JoinHandle<()>,
    pub log: SharedLog,
}

/// Serves `Smtp` with `config` on 127.0.0.1, port 0.
pub async fn start(config: ServerConfig, options: ServeOptions) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("a bound address");
    let log = SharedLog::default();
    let service = Arc::new(Smtp {
        config: Arc::new(config),
        log: log.clone(),
    });
    let shutdown = Shutdown::new();
    let task = tokio::spawn(serve(listener, service, options, shutdown.triggered()));
    Server {
        addr,
        shutdown,
        task,
        log,
    }
}

/// Reads one complete reply (all its lines); empty at end of stream.
pub async fn read_reply<R: AsyncBufRead + Unpin>(reader: &mut R) -> String {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .await
            .expect("read a reply line");
        reply.push_str(&line);
        if n == 0 || line.as_bytes().get(3) == Some(&b' ') {
            return reply;
        }
    }
}

/// Reads one reply and checks its code.
pub async fn expect_reply<R: AsyncBufRead + Unpin>(reader: &mut R, code: &str) -> String {
    let reply = read_reply(reader).await;
    assert!(
        reply.starts_with(code),
        "expected a {code} reply, got {reply:?}"
    );
    reply
}

/// Writes `bytes` and flushes.
pub async fn send<W: AsyncWrite + Unpin>(writer: &mut W, bytes: &[u8]) {
    writer.write_all(bytes).await.expect("write");
    writer.flush().await.expect("flush");
}

/// Reads until end of stream; what came.
pub async fn read_to_end<R: AsyncBufRead + Unpin>(reader: &mut R) -> String {
    use tokio::io::AsyncReadExt;
    let mut rest = Vec::new();
    // A reset after the close counts as the end, too.
    let _ = reader.read_to_end(&mut rest).await;
    String::from_utf8_lossy(&rest).into_owned()
}

/// Runs `test` with a generous bound, so that a broken driver fails the test instead of
/// hanging it.
pub async fn bounded<F: std::future::Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("the test did not finish in 60 seconds")
}

/// Waits until `check` holds on the log (polling; bounded by the caller's `bounded`).
pub async fn wait_for_log(log: &SharedLog, check: impl Fn(&Log) -> bool) {
    while !check(&lock(log)) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A test CA and a server certificate for `localhost` and 127.0.0.1 signed by it.
pub struct TestPki {
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    pub chain: Vec<CertificateDer<'static>>,
    pub key_der: Vec<u8>,
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestPki {
    pub fn new() -> TestPki {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "mailwire test CA");
        let ca_key = rcgen::KeyPair::generate().expect("a CA key");
        let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");

        let params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("params");
        let key = rcgen::KeyPair::generate().expect("a server key");
        let cert = params
            .signed_by(&key, &ca, &ca_key)
            .expect("a server certificate");
        TestPki {
            ca_pem: ca.pem(),
            ca_der: ca.der().clone(),
            chain: vec![cert.der().clone()],
            key_der: key.serialize_der(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    pub fn server_config(&self) -> Arc<mailwire_tokio::rustls::ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        tls::server_config(self.chain.clone(), key).expect("a server config")
    }

    /// Writes the CA certificate to a fresh file; its path.
    pub fn ca_file(&self) -> PathBuf {
        write_temp("ca.pem", &self.ca_pem)
    }
}

/// Writes `contents` to a fresh file in the temporary directory.
pub fn write_temp(name: &str, contents: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mailwire-tokio-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("a temporary file");
    path
}
