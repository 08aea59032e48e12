//! [`drive`]: the one loop that runs any [`Session`] over a tokio stream.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use bytes::{Buf, Bytes};
use mailwire_core::{Session, Transmit};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::{Instant, sleep_until};

use crate::stream::Connection;

/// The application's side of a session: it sees the session's events and answers them
/// by calling the session's verbs (accept a recipient, answer a FETCH, …).
///
/// Implement it with `async fn`s; the futures must be `Send` so that a connection can run
/// in a spawned task. The handler may await (a disk write before accepting a message, a
/// database lookup); the connection waits for it meanwhile (no reads, writes, timeouts or
/// shutdown), which is what a decision means. Work that may take long belongs in a task
/// of its own, its result coming back through [`wait_external`](Handler::wait_external).
///
/// ```
/// use mailwire_core::session::tests::Echo;
/// use mailwire_tokio::Handler;
///
/// struct Quiet;
///
/// impl Handler<Echo> for Quiet {
///     async fn on_event(&mut self, _session: &mut Echo, _event: ()) {}
/// }
/// ```
pub trait Handler<S: Session> {
    /// Handles one event of the session. Decisions the session waits for are made here,
    /// by calling its verbs.
    fn on_event(&mut self, session: &mut S, event: S::Event) -> impl Future<Output = ()> + Send;

    /// The server is shutting down: called at most once per drive, when the shutdown
    /// future given to [`drive`] completes. Ask the session to end (an SMTP server calls
    /// `ServerSession::shutdown`, which answers `421` and closes). The default does
    /// nothing: the session then runs until it ends by itself or its task is dropped.
    fn on_shutdown(&mut self, session: &mut S) {
        let _ = session;
    }

    /// Waits for something from outside the connection that the session must hear about
    /// (new mail in the mailbox an IMAP session watches with IDLE, a message to send on an
    /// open client session). When it completes, the driver calls
    /// [`on_external`](Handler::on_external). The driver waits for it together with the
    /// stream and drops it whenever something else happens first, so it must be
    /// cancel-safe (`Notify::notified`, `watch::Receiver::changed`,
    /// `mpsc::Receiver::recv`). The default never completes.
    fn wait_external(&mut self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }

    /// Called after [`wait_external`](Handler::wait_external) completed: tell the session
    /// by calling its verbs. The default does nothing.
    fn on_external(&mut self, session: &mut S) -> impl Future<Output = ()> + Send {
        let _ = session;
        async {}
    }
}

/// Limits and timeouts of [`drive`], the same for every protocol. Build it with
/// [`DriveOptions::default`] and change the fields you need.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DriveOptions {
    /// The size of the read buffer: the most bytes handed to the session in one
    /// `handle_input`. Fixed for the life of the connection. Default 16 KiB.
    pub read_buffer_size: usize,
    /// The most bytes the driver takes from the session before they are written. Past it
    /// the driver stops taking output and stops reading, so that a peer that sends but
    /// never reads its replies meets TCP back-pressure instead of growing a buffer.
    /// Default 256 KiB.
    pub max_write_buffer: usize,
    /// How long a write may make no progress (the peer does not read) before the
    /// connection is dropped with [`DriveError::WriteTimeout`]. Also bounds the final
    /// flush and close. Default 2 minutes.
    pub write_timeout: Duration,
    /// How long a TLS handshake (STARTTLS) may take. Default 30 seconds.
    pub tls_handshake_timeout: Duration,
}

impl Default for DriveOptions {
    fn default() -> Self {
        DriveOptions {
            read_buffer_size: 16 * 1024,
            max_write_buffer: 256 * 1024,
            write_timeout: Duration::from_secs(120),
            tls_handshake_timeout: Duration::from_secs(30),
        }
    }
}

/// Why [`drive`] ended before the session closed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriveError {
    /// Reading from the peer failed (for example, the connection was reset).
    #[error("read failed: {0}")]
    Read(#[source] io::Error),
    /// Writing to the peer failed.
    #[error("write failed: {0}")]
    Write(#[source] io::Error),
    /// The peer did not read what was written for longer than the write timeout.
    #[error("write made no progress within the write timeout")]
    WriteTimeout,
    /// The session asked for a TLS upgrade on a connection without a [`TlsUpgrade`](crate::TlsUpgrade).
    #[error("the session asked for TLS, but the connection has no TLS configuration")]
    TlsNotConfigured,
    /// The session asked for a TLS upgrade on a connection already encrypted.
    #[error("the session asked for TLS on a connection already encrypted")]
    TlsAlreadyActive,
    /// The TLS handshake failed.
    #[error("TLS handshake failed: {0}")]
    TlsHandshake(#[source] io::Error),
    /// The TLS handshake took longer than the handshake timeout.
    #[error("TLS handshake timed out")]
    TlsHandshakeTimeout,
}

/// The session's clock, read from tokio's (so that tests may pause and advance it).
pub(crate) fn now() -> std::time::Instant {
    Instant::now().into_std()
}

/// Runs `session` over `connection` until the session closes, calling `handler` with its
/// events. This is the whole driving contract of [`mailwire_core::session`], over tokio:
///
/// 1. Drain the session: every event goes to [`Handler::on_event`] (awaited), every
///    transmit is queued, until neither yields anything (at most
///    [`max_write_buffer`](DriveOptions::max_write_buffer) bytes are taken from the
///    session; the rest waits in it).
/// 2. Write the queued bytes **while** reading: a read is pending whenever
///    [`wants_input`](Session::wants_input) says so and the write queue is under its
///    limit; what arrives goes to `handle_input` at once, at most
///    [`read_buffer_size`](DriveOptions::read_buffer_size) bytes at a time. End of stream
///    goes to `handle_eof`.
/// 3. At the deadline of [`poll_timeout`](Session::poll_timeout), call `handle_timeout`.
/// 4. [`Transmit::StartTls`]: stop reading, write and flush everything before it, then
///    perform the handshake of the connection's [`TlsUpgrade`](crate::TlsUpgrade) (no
///    upgrade configured: [`DriveError::TlsNotConfigured`]) and carry on, encrypted.
/// 5. [`Transmit::Close`], or [`is_closed`](Session::is_closed) with nothing left to
///    send: write and flush what is queued, shut the stream down, return `Ok(())`. After
///    end of stream, a session that has nothing to send, no deadline and is not closed is
///    finished too (nothing can reach it any more).
///
/// When `shutdown` completes, [`Handler::on_shutdown`] is called once and the loop goes
/// on, so that the session can answer and close. Pass [`std::future::pending()`] for a
/// connection that is never shut down from outside, or [`Shutdown::triggered`](crate::Shutdown::triggered).
///
/// On an I/O error or a write timeout the driver tells the session the stream ended
/// (`handle_eof`, so that it drops a half-received message), passes the resulting events
/// to the handler, and returns the error. The session decides everything else: the
/// driver knows no protocol.
pub async fn drive<IO, S, H>(
    connection: &mut Connection<IO>,
    session: &mut S,
    handler: &mut H,
    options: &DriveOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DriveError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    S: Session,
    H: Handler<S>,
{
    let mut shutdown = pin!(shutdown);
    // Two timers, reset rather than made anew on every turn.
    let mut session_timer = pin!(sleep_until(Instant::now()));
    let mut write_timer = pin!(sleep_until(Instant::now()));
    let mut read_buf = vec![0u8; options.read_buffer_size.max(1)].into_boxed_slice();
    let mut out = Outgoing::default();
    let mut state = State::default();
    loop {
        drain(
            session,
            handler,
            &mut out,
            &mut state,
            options.max_write_buffer,
        )
        .await;
        if out.is_idle() {
            if state.upgrade {
                state.upgrade = false;
                if let Err(error) = upgrade(connection, options).await {
                    return Err(fail(session, handler, error).await);
                }
                tracing::debug!("TLS established");
                continue;
            }
            if state.closing || session.is_closed() {
                let (stream, _) = connection.parts();
                // The session is over; a peer that is gone or slow to take the close is
                // not an error.
                let _ = tokio::time::timeout(options.write_timeout, stream.shutdown()).await;
                tracing::debug!("session closed");
                return Ok(());
            }
            if state.eof && session.poll_timeout().is_none() {
                tracing::debug!("peer closed; session has nothing more to do");
                return Ok(());
            }
        }

        let now_tokio = Instant::now();
        let deadline = session.poll_timeout().map(Instant::from_std);
        if deadline.is_some_and(|deadline| deadline <= now_tokio) {
            session.handle_timeout(now());
            continue;
        }
        let write_deadline = out.deadline(options.write_timeout);
        if write_deadline.is_some_and(|deadline| deadline <= now_tokio) {
            return Err(fail(session, handler, DriveError::WriteTimeout).await);
        }
        if let Some(deadline) = deadline
            && session_timer.deadline() != deadline
        {
            session_timer.as_mut().reset(deadline);
        }
        if let Some(deadline) = write_deadline
            && write_timer.deadline() != deadline
        {
            write_timer.as_mut().reset(deadline);
        }
        let read = !state.eof
            && !state.closing
            && !state.upgrade
            && !session.is_closed()
            && session.wants_input()
            && out.len < options.max_write_buffer;

        let (stream, _) = connection.parts();
        tokio::select! {
            () = &mut shutdown, if !state.shutdown => {
                state.shutdown = true;
                tracing::debug!("shutdown: asking the session to end");
                handler.on_shutdown(session);
            }
            io = transfer(stream, &mut out, &mut read_buf, read) => match io {
                Io::Read(0) => {
                    state.eof = true;
                    session.handle_eof(now());
                }
                Io::Read(n) => {
                    // `transfer` reports at most the buffer's length.
                    let input = read_buf.get(..n).unwrap_or(&read_buf[..]);
                    session.handle_input(input, now());
                }
                Io::Wrote => {}
                Io::ReadError(error) => {
                    return Err(fail(session, handler, DriveError::Read(error)).await);
                }
                Io::WriteError(error) => {
                    return Err(fail(session, handler, DriveError::Write(error)).await);
                }
            },
            () = &mut session_timer, if deadline.is_some() => {
                session.handle_timeout(now());
            }
            () = &mut write_timer, if write_deadline.is_some() => {
                return Err(fail(session, handler, DriveError::WriteTimeout).await);
            }
            () = handler.wait_external() => {
                handler.on_external(session).await;
            }
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// The session asked for TLS: stop reading and taking output until it is done.
    upgrade: bool,
    /// The session said `Close`: take nothing more from it.
    closing: bool,
    /// The peer closed its side.
    eof: bool,
    /// `on_shutdown` was called.
    shutdown: bool,
}

/// Bytes taken from the session, not yet written.
#[derive(Debug, Default)]
struct Outgoing {
    chunks: VecDeque<Bytes>,
    len: usize,
    /// Written bytes may sit in a TLS layer's buffer until flushed.
    needs_flush: bool,
    /// The last time writing made progress (or began), while there is something to write.
    since: Option<Instant>,
}

impl Outgoing {
    fn is_idle(&self) -> bool {
        self.chunks.is_empty() && !self.needs_flush
    }

    fn push(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        if self.since.is_none() {
            self.since = Some(Instant::now());
        }
        self.len += bytes.len();
        self.chunks.push_back(bytes);
    }

    fn progressed(&mut self) {
        self.since = if self.is_idle() {
            None
        } else {
            Some(Instant::now())
        };
    }

    fn deadline(&self, timeout: Duration) -> Option<Instant> {
        self.since.map(|since| since + timeout)
    }
}

/// Takes events and transmits from the session until it has nothing more (or the write
/// queue is full).
async fn drain<S: Session, H: Handler<S>>(
    session: &mut S,
    handler: &mut H,
    out: &mut Outgoing,
    state: &mut State,
    max_write_buffer: usize,
) {
    loop {
        let mut progressed = false;
        while let Some(event) = session.poll_event() {
            progressed = true;
            handler.on_event(session, event).await;
        }
        while !state.closing && !state.upgrade && out.len < max_write_buffer {
            match session.poll_transmit() {
                None => break,
                Some(Transmit::Data(bytes)) => out.push(bytes),
                Some(Transmit::StartTls) => state.upgrade = true,
                Some(Transmit::Close) => state.closing = true,
            }
            progressed = true;
        }
        if !progressed {
            return;
        }
    }
}

/// What one turn of [`transfer`] did.
enum Io {
    /// Read this many bytes (0: end of stream).
    Read(usize),
    /// Wrote or flushed something.
    Wrote,
    ReadError(io::Error),
    WriteError(io::Error),
}

/// Writes (or flushes) and reads at the same time; completes as soon as either makes
/// progress. Pending forever when there is nothing to write and `read` is false.
async fn transfer<IO: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut IO,
    out: &mut Outgoing,
    read_buf: &mut [u8],
    read: bool,
) -> Io {
    poll_fn(|cx| {
        if let Some(front) = out.chunks.front_mut() {
            match Pin::new(&mut *stream).poll_write(cx, front) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Io::WriteError(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    let n = n.min(front.len());
                    front.advance(n);
                    if front.is_empty() {
                        out.chunks.pop_front();
                    }
                    out.len -= n;
                    out.needs_flush = true;
                    out.progressed();
                    return Poll::Ready(Io::Wrote);
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Io::WriteError(error)),
                Poll::Pending => {}
            }
        } else if out.needs_flush {
            match Pin::new(&mut *stream).poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    out.needs_flush = false;
                    out.progressed();
                    return Poll::Ready(Io::Wrote);
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Io::WriteError(error)),
                Poll::Pending => {}
            }
        }
        if read {
            let mut buf = ReadBuf::new(read_buf);
            match Pin::new(&mut *stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => return Poll::Ready(Io::Read(buf.filled().len())),
                Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {
                    // Retried on the next turn of the loop.
                    cx.waker().wake_by_ref();
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Io::ReadError(error)),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
    .await
}

/// Performs the TLS upgrade the session asked for.
async fn upgrade<IO: AsyncRead + AsyncWrite + Unpin>(
    connection: &mut Connection<IO>,
    options: &DriveOptions,
) -> Result<(), DriveError> {
    let (stream, upgrade) = connection.parts();
    let Some(upgrade) = upgrade else {
        return Err(DriveError::TlsNotConfigured);
    };
    if stream.is_tls() {
        return Err(DriveError::TlsAlreadyActive);
    }
    match tokio::time::timeout(options.tls_handshake_timeout, stream.upgrade(upgrade)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(DriveError::TlsHandshake(error)),
        Err(_) => Err(DriveError::TlsHandshakeTimeout),
    }
}

/// The stream failed: the session hears end of stream, the handler sees what follows.
async fn fail<S: Session, H: Handler<S>>(
    session: &mut S,
    handler: &mut H,
    error: DriveError,
) -> DriveError {
    tracing::debug!(%error, "connection failed");
    session.handle_eof(now());
    while let Some(event) = session.poll_event() {
        handler.on_event(session, event).await;
    }
    error
}
