//! A stream that starts in plaintext and can be upgraded to TLS in place, and the
//! [`Connection`] the driver runs on.

use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConnection, ServerConnection};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// A byte stream that is either plaintext or TLS (server or client side), and can be
/// upgraded from plaintext to TLS in place (STARTTLS, STLS).
///
/// It implements [`AsyncRead`] and [`AsyncWrite`] whatever its state. If an upgrade fails
/// the underlying stream is gone: every later read or write returns
/// [`io::ErrorKind::NotConnected`].
pub struct MaybeTlsStream<IO> {
    inner: Inner<IO>,
}

enum Inner<IO> {
    Plain(IO),
    // Boxed: a TLS stream holds a whole rustls connection, much larger than `IO`.
    Server(Box<tokio_rustls::server::TlsStream<IO>>),
    Client(Box<tokio_rustls::client::TlsStream<IO>>),
    /// During a handshake, or after a failed one.
    Gone,
}

impl<IO> fmt::Debug for MaybeTlsStream<IO> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.inner {
            Inner::Plain(_) => "plain",
            Inner::Server(_) => "tls-server",
            Inner::Client(_) => "tls-client",
            Inner::Gone => "gone",
        };
        f.debug_struct("MaybeTlsStream")
            .field("state", &state)
            .finish()
    }
}

impl<IO> MaybeTlsStream<IO> {
    /// A plaintext stream.
    pub fn plain(io: IO) -> Self {
        MaybeTlsStream {
            inner: Inner::Plain(io),
        }
    }

    /// A stream whose server-side TLS handshake is done (see [`TlsUpgrade::server`]).
    pub fn server_tls(stream: tokio_rustls::server::TlsStream<IO>) -> Self {
        MaybeTlsStream {
            inner: Inner::Server(Box::new(stream)),
        }
    }

    /// A stream whose client-side TLS handshake is done.
    pub fn client_tls(stream: tokio_rustls::client::TlsStream<IO>) -> Self {
        MaybeTlsStream {
            inner: Inner::Client(Box::new(stream)),
        }
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self.inner, Inner::Server(_) | Inner::Client(_))
    }

    /// The underlying transport (for example the `TcpStream`, to read its peer address);
    /// `None` after a failed upgrade.
    pub fn get_ref(&self) -> Option<&IO> {
        match &self.inner {
            Inner::Plain(io) => Some(io),
            Inner::Server(tls) => Some(tls.get_ref().0),
            Inner::Client(tls) => Some(tls.get_ref().0),
            Inner::Gone => None,
        }
    }

    /// The rustls server connection (negotiated version, SNI, client certificates), when
    /// this is a server-side TLS stream.
    pub fn server_connection(&self) -> Option<&ServerConnection> {
        match &self.inner {
            Inner::Server(tls) => Some(tls.get_ref().1),
            _ => None,
        }
    }

    /// The rustls client connection (negotiated version, server certificates), when this
    /// is a client-side TLS stream.
    pub fn client_connection(&self) -> Option<&ClientConnection> {
        match &self.inner {
            Inner::Client(tls) => Some(tls.get_ref().1),
            _ => None,
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> MaybeTlsStream<IO> {
    /// Performs the TLS handshake described by `upgrade` on this plaintext stream.
    ///
    /// Fails with [`io::ErrorKind::AlreadyExists`] (and leaves the stream as it is) if the
    /// stream is already encrypted. If the handshake fails the stream is gone. The
    /// handshake is not bounded in time here: wrap the call in a timeout
    /// ([`drive`](crate::drive) does, with
    /// [`tls_handshake_timeout`](crate::DriveOptions::tls_handshake_timeout)).
    pub async fn upgrade(&mut self, upgrade: &TlsUpgrade) -> io::Result<()> {
        let io = match std::mem::replace(&mut self.inner, Inner::Gone) {
            Inner::Plain(io) => io,
            Inner::Gone => return Err(gone()),
            other => {
                self.inner = other;
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "the stream is already encrypted",
                ));
            }
        };
        self.inner = match &upgrade.side {
            Side::Server(acceptor) => Inner::Server(Box::new(acceptor.accept(io).await?)),
            Side::Client {
                connector,
                server_name,
            } => Inner::Client(Box::new(connector.connect(server_name.clone(), io).await?)),
        };
        Ok(())
    }
}

fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the stream was lost in a failed TLS handshake",
    )
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTlsStream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(io) => Pin::new(io).poll_read(cx, buf),
            Inner::Server(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
            Inner::Client(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTlsStream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Plain(io) => Pin::new(io).poll_write(cx, buf),
            Inner::Server(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
            Inner::Client(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Plain(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Inner::Server(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
            Inner::Client(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.inner {
            Inner::Plain(io) => io.is_write_vectored(),
            Inner::Server(tls) => tls.is_write_vectored(),
            Inner::Client(tls) => tls.is_write_vectored(),
            Inner::Gone => false,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(io) => Pin::new(io).poll_flush(cx),
            Inner::Server(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
            Inner::Client(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(io) => Pin::new(io).poll_shutdown(cx),
            Inner::Server(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
            Inner::Client(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }
}

/// How to perform a TLS handshake on a plaintext stream when the session asks for it
/// ([`Transmit::StartTls`](mailwire_core::Transmit::StartTls)): as the server, with a
/// certificate, or as the client, checking the server's certificate for a name.
#[derive(Clone)]
pub struct TlsUpgrade {
    side: Side,
}

#[derive(Clone)]
enum Side {
    Server(TlsAcceptor),
    Client {
        connector: TlsConnector,
        server_name: ServerName<'static>,
    },
}

impl fmt::Debug for TlsUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.side {
            Side::Server(_) => f.write_str("TlsUpgrade::Server"),
            Side::Client { server_name, .. } => f
                .debug_struct("TlsUpgrade::Client")
                .field("server_name", server_name)
                .finish(),
        }
    }
}

impl TlsUpgrade {
    /// The server side, with this configuration (see
    /// [`server_config`](crate::tls::server_config)).
    pub fn server(config: Arc<rustls::ServerConfig>) -> Self {
        TlsUpgrade {
            side: Side::Server(TlsAcceptor::from(config)),
        }
    }

    /// The client side: the server's certificate must be valid for `server_name` under
    /// `config` (see [`client_config`](crate::tls::client_config)).
    pub fn client(config: Arc<rustls::ClientConfig>, server_name: ServerName<'static>) -> Self {
        TlsUpgrade {
            side: Side::Client {
                connector: TlsConnector::from(config),
                server_name,
            },
        }
    }

    /// Whether this is the server side of the handshake.
    pub fn is_server(&self) -> bool {
        matches!(self.side, Side::Server(_))
    }
}

/// What [`drive`](crate::drive) runs on: a [`MaybeTlsStream`] and, if the session may ask
/// for STARTTLS, how to perform that upgrade.
///
/// A session that emits [`Transmit::StartTls`](mailwire_core::Transmit::StartTls) on a
/// connection without a [`TlsUpgrade`] (or on one already encrypted) ends the drive with
/// [`DriveError::TlsNotConfigured`](crate::DriveError::TlsNotConfigured) (or
/// [`DriveError::TlsAlreadyActive`](crate::DriveError::TlsAlreadyActive)): the session
/// has promised the peer a handshake that cannot happen, and nothing sensible can follow.
#[derive(Debug)]
pub struct Connection<IO> {
    stream: MaybeTlsStream<IO>,
    upgrade: Option<TlsUpgrade>,
}

impl<IO> Connection<IO> {
    /// A plaintext connection without a TLS upgrade.
    pub fn new(io: IO) -> Self {
        Connection::from_stream(MaybeTlsStream::plain(io))
    }

    /// A connection on a stream that may already be encrypted (implicit TLS).
    pub fn from_stream(stream: MaybeTlsStream<IO>) -> Self {
        Connection {
            stream,
            upgrade: None,
        }
    }

    /// Allows the session to ask for a TLS upgrade (STARTTLS), performed as `upgrade` says.
    pub fn with_tls_upgrade(mut self, upgrade: TlsUpgrade) -> Self {
        self.upgrade = Some(upgrade);
        self
    }

    /// Sets or removes the TLS upgrade.
    pub fn set_tls_upgrade(&mut self, upgrade: Option<TlsUpgrade>) {
        self.upgrade = upgrade;
    }

    /// The TLS upgrade the session may ask for.
    pub fn tls_upgrade(&self) -> Option<&TlsUpgrade> {
        self.upgrade.as_ref()
    }

    /// The stream.
    pub fn stream(&self) -> &MaybeTlsStream<IO> {
        &self.stream
    }

    /// The stream, mutably (to read or write around the driver, for example in a test).
    pub fn stream_mut(&mut self) -> &mut MaybeTlsStream<IO> {
        &mut self.stream
    }

    /// The stream, giving up the TLS upgrade.
    pub fn into_stream(self) -> MaybeTlsStream<IO> {
        self.stream
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    pub(crate) fn parts(&mut self) -> (&mut MaybeTlsStream<IO>, Option<&TlsUpgrade>) {
        (&mut self.stream, self.upgrade.as_ref())
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Connection<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Connection<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
