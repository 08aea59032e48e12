//! [`connect`]: the client side, in plaintext, with STARTTLS or with implicit TLS.

use std::io;

use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_rustls::rustls::pki_types::ServerName;

use crate::stream::{Connection, MaybeTlsStream, TlsUpgrade};
use crate::tls::{ClientTlsOptions, TlsConfigError, client_config};

/// How a client protects its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// No TLS at all.
    Plain,
    /// Plaintext first; the session upgrades when it has agreed STARTTLS (or STLS) with the
    /// server. The connection carries the upgrade for [`drive`](crate::drive). Whether a
    /// client insists on TLS is the session's decision (its configuration), not the
    /// adapter's.
    StartTls,
    /// TLS from the first byte (ports 465, 993, 995): the handshake is done in
    /// [`connect`].
    Implicit,
}

/// Why [`connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The TCP connection could not be made (or the name did not resolve).
    #[error("connect failed: {0}")]
    Connect(#[source] io::Error),
    /// The server name is neither a DNS name nor an IP address.
    #[error("invalid server name {0:?}")]
    InvalidServerName(String),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    TlsConfig(#[from] TlsConfigError),
    /// The implicit-TLS handshake failed (for example, the certificate was not trusted).
    #[error("TLS handshake failed: {0}")]
    TlsHandshake(#[source] io::Error),
}

/// Connects to `address` and prepares the connection for a client session.
///
/// `server_name` is the name the server's certificate must be valid for (a DNS name, or
/// an IP address); `tls` says which certificates are trusted (unused with
/// [`TlsMode::Plain`]). With [`TlsMode::Implicit`] the handshake is done before this
/// returns; with [`TlsMode::StartTls`] the connection carries a [`TlsUpgrade`] that
/// [`drive`](crate::drive) performs when the session asks.
///
/// Neither the TCP connection nor the handshake has a time limit here: wrap the call in
/// [`tokio::time::timeout`].
///
/// ```no_run
/// use mailwire_tokio::{ClientTlsOptions, TlsMode, connect};
///
/// # async fn run() -> Result<(), mailwire_tokio::ConnectError> {
/// let connection = connect(
///     "mail.example.org:587",
///     "mail.example.org",
///     TlsMode::StartTls,
///     &ClientTlsOptions::WebPkiRoots,
/// )
/// .await?;
/// assert!(!connection.is_tls()); // until the session asks for STARTTLS
/// # Ok(())
/// # }
/// ```
pub async fn connect<A: ToSocketAddrs>(
    address: A,
    server_name: &str,
    mode: TlsMode,
    tls: &ClientTlsOptions,
) -> Result<Connection<TcpStream>, ConnectError> {
    let upgrade = match mode {
        TlsMode::Plain => None,
        TlsMode::StartTls | TlsMode::Implicit => {
            let name = ServerName::try_from(server_name.to_owned())
                .map_err(|_| ConnectError::InvalidServerName(server_name.to_owned()))?;
            Some(TlsUpgrade::client(client_config(tls)?, name))
        }
    };
    let tcp = TcpStream::connect(address)
        .await
        .map_err(ConnectError::Connect)?;
    let _ = tcp.set_nodelay(true);
    let mut stream = MaybeTlsStream::plain(tcp);
    match (mode, upgrade) {
        (TlsMode::Implicit, Some(upgrade)) => {
            stream
                .upgrade(&upgrade)
                .await
                .map_err(ConnectError::TlsHandshake)?;
            Ok(Connection::from_stream(stream))
        }
        (TlsMode::StartTls, Some(upgrade)) => {
            Ok(Connection::from_stream(stream).with_tls_upgrade(upgrade))
        }
        _ => Ok(Connection::from_stream(stream)),
    }
}
