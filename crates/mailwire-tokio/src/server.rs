//! [`serve`]: an accept loop with a connection limit, implicit TLS, a tracing span per
//! connection and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mailwire_core::Session;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinError, JoinSet};
use tokio_rustls::rustls;
use tracing::Instrument;

use crate::driver::{DriveError, DriveOptions, Handler, drive, now};
use crate::shutdown::Shutdown;
use crate::stream::{Connection, MaybeTlsStream, TlsUpgrade};

/// What a server makes of each connection: a session and its handler.
///
/// ```
/// use std::sync::Arc;
/// use mailwire_core::session::tests::Echo;
/// use mailwire_tokio::{ConnectionInfo, DriveError, Handler, Service};
///
/// struct EchoService;
/// struct Quiet;
///
/// impl Handler<Echo> for Quiet {
///     async fn on_event(&mut self, _session: &mut Echo, _event: ()) {}
/// }
///
/// impl Service for EchoService {
///     type Session = Echo;
///     type Handler = Quiet;
///     fn open(&self, _info: &ConnectionInfo) -> (Echo, Quiet) {
///         (Echo::default(), Quiet)
///     }
/// }
/// ```
pub trait Service: Send + Sync + 'static {
    /// The protocol state machine of one connection.
    type Session: Session<Event: Send> + Send + 'static;
    /// The application's side of it.
    type Handler: Handler<Self::Session> + Send + 'static;

    /// A session for a new connection (after the handshake on an implicit-TLS listener:
    /// see [`ConnectionInfo::tls`]).
    fn open(&self, info: &ConnectionInfo) -> (Self::Session, Self::Handler);

    /// A session that refuses service, for a connection over the
    /// [`max_connections`](ServeOptions::max_connections) limit: an SMTP server returns
    /// `ServerSession::busy` (a `421` reply, then close). `None` (the default) closes
    /// such a connection without a word.
    fn busy(&self, info: &ConnectionInfo) -> Option<(Self::Session, Self::Handler)> {
        let _ = info;
        None
    }

    /// Called when a connection's session has ended, with how its drive ended. The
    /// default does nothing (the outcome is also logged in the connection's span).
    fn finished(&self, info: &ConnectionInfo, result: &Result<(), DriveError>) {
        let _ = (info, result);
    }
}

/// What a [`Service`] knows about a new connection.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// A number unique within one [`serve`] call, counting from 1; also in the tracing span.
    pub id: u64,
    /// The peer's address.
    pub peer: SocketAddr,
    /// The local address the peer connected to.
    pub local: SocketAddr,
    /// Whether the connection is encrypted from the start (an implicit-TLS listener): the
    /// session should not offer STARTTLS (`ServerSession::new_tls`).
    pub tls: bool,
    /// The server name the client asked for in TLS (SNI), on an implicit-TLS listener.
    pub server_name: Option<String>,
    /// Whether this connection is over the limit and gets the [`Service::busy`] session.
    pub busy: bool,
    /// The time the connection was accepted, on the driver's clock (tokio's): give it to
    /// the session's constructor.
    pub now: Instant,
}

/// How [`serve`] runs. Build it with [`ServeOptions::default`] and change the fields you
/// need.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServeOptions {
    /// A name for the listener, in every connection's tracing span (`smtp`, `imaps`).
    /// Default `"mailwire"`.
    pub name: String,
    /// The most connections served at once. Past it, new connections get the
    /// [`Service::busy`] session. Default 256.
    pub max_connections: usize,
    /// The most connections being refused with the busy session at once; past it, new
    /// connections are closed at once. Default 64.
    pub max_busy_connections: usize,
    /// Implicit TLS (ports 465, 993, 995): the handshake comes first, bounded by
    /// [`tls_handshake_timeout`](DriveOptions::tls_handshake_timeout), then the session
    /// starts. Default `None`.
    pub implicit_tls: Option<Arc<rustls::ServerConfig>>,
    /// The TLS configuration for STARTTLS on a plaintext listener (the session must offer
    /// STARTTLS itself, for example `ServerConfig::starttls` in SMTP). Ignored with
    /// `implicit_tls`. Default `None`.
    pub starttls: Option<Arc<rustls::ServerConfig>>,
    /// The driver's limits and timeouts for every connection.
    pub drive: DriveOptions,
    /// On shutdown, how long open sessions may go on by themselves (finishing a message
    /// being sent) before they are asked to end with [`Handler::on_shutdown`]. Zero asks
    /// them at once. Default 10 seconds.
    pub shutdown_grace: Duration,
    /// After [`Handler::on_shutdown`], how long sessions may take to say goodbye before
    /// their tasks are dropped. Default 10 seconds.
    pub shutdown_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            name: String::from("mailwire"),
            max_connections: 256,
            max_busy_connections: 64,
            implicit_tls: None,
            starttls: None,
            drive: DriveOptions::default(),
            shutdown_grace: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Accepts connections on `listener` and drives a session of `service` on each, in its own
/// task, until `shutdown` completes.
///
/// - At most [`max_connections`](ServeOptions::max_connections) sessions run at once; a
///   connection over the limit is driven with the [`Service::busy`] session instead (so
///   the peer reads why, for SMTP a `421`).
/// - With [`implicit_tls`](ServeOptions::implicit_tls) every connection starts with the
///   TLS handshake; with [`starttls`](ServeOptions::starttls) the sessions may upgrade.
/// - Each connection runs in a tracing span `connection` with the listener's name, the
///   connection id and the peer address.
/// - Failed accepts (out of file descriptors, say) are logged and retried after a short
///   pause; they never end the loop.
///
/// Graceful shutdown, when `shutdown` completes: stop accepting (the listener is closed);
/// let open sessions run for [`shutdown_grace`](ServeOptions::shutdown_grace); then call
/// every remaining session's [`Handler::on_shutdown`] and give them
/// [`shutdown_timeout`](ServeOptions::shutdown_timeout) to finish; then drop what is left.
/// Returns when every connection task has ended.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use mailwire_core::session::tests::Echo;
/// # use mailwire_tokio::{ConnectionInfo, Handler, Service};
/// # struct EchoService;
/// # struct Quiet;
/// # impl Handler<Echo> for Quiet { async fn on_event(&mut self, _: &mut Echo, _: ()) {} }
/// # impl Service for EchoService {
/// #     type Session = Echo;
/// #     type Handler = Quiet;
/// #     fn open(&self, _: &ConnectionInfo) -> (Echo, Quiet) { (Echo::default(), Quiet) }
/// # }
/// use mailwire_tokio::{ServeOptions, Shutdown, serve};
/// use tokio::net::TcpListener;
///
/// # async fn run() -> std::io::Result<()> {
/// let listener = TcpListener::bind("127.0.0.1:2525").await?;
/// let shutdown = Shutdown::new();
/// let ctrl_c = shutdown.clone();
/// tokio::spawn(async move {
///     let _ = tokio::signal::ctrl_c().await;
///     ctrl_c.trigger();
/// });
/// let mut options = ServeOptions::default();
/// options.name = "echo".into();
/// options.max_connections = 100;
/// serve(listener, Arc::new(EchoService), options, shutdown.triggered()).await;
/// # Ok(())
/// # }
/// ```
pub async fn serve<Svc: Service>(
    listener: TcpListener,
    service: Arc<Svc>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let shared = Arc::new(Shared {
        implicit_tls: options.implicit_tls.clone().map(TlsUpgrade::server),
        starttls: options.starttls.clone().map(TlsUpgrade::server),
        service,
        options,
    });
    let options = &shared.options;
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let busy_permits = Arc::new(Semaphore::new(options.max_busy_connections));
    let sessions_shutdown = Shutdown::new();
    let mut tasks = JoinSet::new();
    let mut next_id: u64 = 0;
    let mut shutdown = std::pin::pin!(shutdown);
    tracing::info!(name = %options.name, address = ?listener.local_addr().ok(), "listening");
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => report(joined),
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, name = %options.name, "accept failed");
                        tokio::select! {
                            () = &mut shutdown => break,
                            () = tokio::time::sleep(Duration::from_millis(100)) => continue,
                        }
                    }
                };
                next_id += 1;
                let (permit, busy) = match permits.clone().try_acquire_owned() {
                    Ok(permit) => (permit, false),
                    Err(_) => match busy_permits.clone().try_acquire_owned() {
                        Ok(permit) => (permit, true),
                        Err(_) => {
                            tracing::warn!(id = next_id, %peer, name = %options.name,
                                "over the connection limit and the busy limit: closed");
                            continue;
                        }
                    },
                };
                let span = tracing::info_span!(
                    "connection",
                    listener = %options.name,
                    id = next_id,
                    %peer,
                );
                let task = connection(
                    tcp,
                    peer,
                    next_id,
                    busy,
                    permit,
                    shared.clone(),
                    sessions_shutdown.clone(),
                );
                tasks.spawn(task.instrument(span));
            }
        }
    }
    drop(listener);
    tracing::info!(name = %options.name, open = tasks.len(), "shutting down");
    if !join_all(&mut tasks, options.shutdown_grace).await {
        tracing::info!(name = %options.name, open = tasks.len(), "asking open sessions to end");
        sessions_shutdown.trigger();
        if !join_all(&mut tasks, options.shutdown_timeout).await {
            tracing::warn!(name = %options.name, open = tasks.len(), "dropping sessions that did not end");
            tasks.abort_all();
            while let Some(joined) = tasks.join_next().await {
                report(joined);
            }
        }
    }
    tracing::info!(name = %options.name, "stopped");
}

/// Waits for every task, at most `limit`; whether all ended.
async fn join_all(tasks: &mut JoinSet<()>, limit: Duration) -> bool {
    let all = async {
        while let Some(joined) = tasks.join_next().await {
            report(joined);
        }
    };
    tokio::time::timeout(limit, all).await.is_ok()
}

fn report(joined: Result<(), JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        tracing::error!(%error, "a connection task panicked");
    }
}

/// What every connection task of one [`serve`] shares.
struct Shared<Svc> {
    service: Arc<Svc>,
    options: ServeOptions,
    implicit_tls: Option<TlsUpgrade>,
    starttls: Option<TlsUpgrade>,
}

/// One connection, from accept to close.
async fn connection<Svc: Service>(
    tcp: TcpStream,
    peer: SocketAddr,
    id: u64,
    busy: bool,
    _permit: OwnedSemaphorePermit,
    shared: Arc<Shared<Svc>>,
    shutdown: Shutdown,
) {
    let Shared {
        service,
        options,
        implicit_tls,
        starttls,
    } = &*shared;
    let _ = tcp.set_nodelay(true);
    let local = match tcp.local_addr() {
        Ok(local) => local,
        Err(error) => {
            tracing::debug!(%error, "connection lost before it started");
            return;
        }
    };
    let mut stream = MaybeTlsStream::plain(tcp);
    if let Some(upgrade) = implicit_tls {
        let handshake = stream.upgrade(upgrade);
        match tokio::time::timeout(options.drive.tls_handshake_timeout, handshake).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(%error, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        }
    }
    let info = ConnectionInfo {
        id,
        peer,
        local,
        tls: stream.is_tls(),
        server_name: stream
            .server_connection()
            .and_then(|tls| tls.server_name())
            .map(str::to_owned),
        busy,
        now: now(),
    };
    let opened = if busy {
        service.busy(&info)
    } else {
        Some(service.open(&info))
    };
    let Some((mut session, mut handler)) = opened else {
        tracing::debug!("over the connection limit: closed");
        return;
    };
    tracing::debug!(busy, tls = info.tls, "session started");
    let mut connection = Connection::from_stream(stream);
    if !info.tls {
        connection.set_tls_upgrade(starttls.clone());
    }
    let result = drive(
        &mut connection,
        &mut session,
        &mut handler,
        &options.drive,
        shutdown.triggered(),
    )
    .await;
    match &result {
        Ok(()) => tracing::debug!("session ended"),
        Err(error) => tracing::info!(%error, "connection ended"),
    }
    service.finished(&info, &result);
}
