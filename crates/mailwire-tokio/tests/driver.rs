//! `drive` with small sessions written here, over in-memory streams, and the SMTP idle
//! timeout over TCP, on tokio's paused clock.

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use mailwire_core::session::tests::Echo;
use mailwire_core::{Session, Transmit};
use mailwire_smtp::server::CloseReason;
use mailwire_tokio::{Connection, DriveError, DriveOptions, Handler, ServeOptions, drive};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// A session with scripted behaviour, recording what the driver did to it.
#[derive(Default)]
struct Probe {
    /// Sizes of the `handle_input` calls.
    inputs: Vec<usize>,
    received: Vec<u8>,
    eof: bool,
    timeouts: usize,
    out: VecDeque<Transmit>,
    closed: bool,
    /// Refuse input (back-pressure) once this many bytes have come.
    block_after: Option<usize>,
    /// Ticks: every `tick` a line "tick" is sent, `ticks` times, then close.
    tick: Option<(Duration, usize)>,
    deadline: Option<Instant>,
    /// Lazily produced output: this many bytes still to produce, in 1 KiB chunks.
    produce: usize,
    /// Bytes handed to the driver so far (shared with the test).
    taken: Arc<AtomicUsize>,
    /// After the produced output, ask for TLS.
    starttls_after_output: bool,
    /// Close once the produced output is taken.
    close_after_output: bool,
}

impl Probe {
    fn send(&mut self, bytes: &[u8]) {
        self.out
            .push_back(Transmit::Data(Bytes::copy_from_slice(bytes)));
    }

    fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.out.push_back(Transmit::Close);
        }
    }
}

impl Session for Probe {
    type Event = ();

    fn handle_input(&mut self, input: &[u8], _now: Instant) {
        assert!(
            self.wants_input(),
            "the driver read while the session refused input"
        );
        self.inputs.push(input.len());
        self.received.extend_from_slice(input);
    }

    fn handle_eof(&mut self, _now: Instant) {
        self.eof = true;
        self.close();
    }

    fn handle_timeout(&mut self, now: Instant) {
        let (Some((every, ticks)), Some(deadline)) = (self.tick, self.deadline) else {
            return;
        };
        if now < deadline {
            return;
        }
        self.timeouts += 1;
        self.send(b"tick\r\n");
        if self.timeouts == ticks {
            self.deadline = None;
            self.close();
        } else {
            self.deadline = Some(deadline + every);
        }
    }

    fn poll_event(&mut self) -> Option<()> {
        None
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(transmit) = self.out.pop_front() {
            return Some(transmit);
        }
        if self.produce > 0 {
            let n = self.produce.min(1024);
            self.produce -= n;
            self.taken.fetch_add(n, Ordering::SeqCst);
            if self.produce == 0 {
                if self.starttls_after_output {
                    self.out.push_back(Transmit::StartTls);
                }
                if self.close_after_output {
                    self.close();
                }
            }
            return Some(Transmit::Data(Bytes::from(vec![b'x'; n])));
        }
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn wants_input(&self) -> bool {
        !self.closed
            && self
                .block_after
                .is_none_or(|limit| self.received.len() < limit)
    }
}

/// Records calls; `on_external` unblocks the session.
#[derive(Default)]
struct ProbeHandler {
    shutdowns: usize,
    wake: Option<mpsc::Receiver<()>>,
    received_at_wake: Vec<usize>,
}

impl Handler<Probe> for ProbeHandler {
    async fn on_event(&mut self, _session: &mut Probe, _event: ()) {}

    fn on_shutdown(&mut self, session: &mut Probe) {
        self.shutdowns += 1;
        session.send(b"bye\r\n");
        session.close();
    }

    async fn wait_external(&mut self) {
        let woken = match &mut self.wake {
            Some(wake) => wake.recv().await.is_some(),
            None => false,
        };
        if !woken {
            std::future::pending::<()>().await;
        }
    }

    async fn on_external(&mut self, session: &mut Probe) {
        self.received_at_wake.push(session.received.len());
        session.block_after = None;
    }
}

fn options() -> DriveOptions {
    DriveOptions::default()
}

#[tokio::test]
async fn reads_are_bounded_by_the_read_buffer() {
    let (mut peer, io) = tokio::io::duplex(64 * 1024);
    let mut options = options();
    options.read_buffer_size = 100;
    let input: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    peer.write_all(&input).await.expect("write");
    peer.shutdown().await.expect("shutdown");
    let mut session = Probe::default();
    let mut connection = Connection::new(io);
    drive(
        &mut connection,
        &mut session,
        &mut ProbeHandler::default(),
        &options,
        std::future::pending(),
    )
    .await
    .expect("ends at end of stream");
    assert!(session.eof);
    assert_eq!(session.received, input);
    assert!(
        session.inputs.iter().all(|&n| n > 0 && n <= 100),
        "{:?}",
        session.inputs
    );
}

// Paused clock: the sleep below ends only once every task is idle.
#[tokio::test(start_paused = true)]
async fn back_pressure_stops_reading_until_an_external_wake() {
    let (mut peer, io) = tokio::io::duplex(64 * 1024);
    let mut options = options();
    options.read_buffer_size = 16;
    peer.write_all(&[b'a'; 1000]).await.expect("write");
    let (wake, wake_rx) = mpsc::channel(1);
    let mut handler = ProbeHandler {
        wake: Some(wake_rx),
        ..ProbeHandler::default()
    };
    let mut session = Probe {
        block_after: Some(1),
        ..Probe::default()
    };
    let driver = async {
        let mut connection = Connection::new(io);
        drive(
            &mut connection,
            &mut session,
            &mut handler,
            &options,
            std::future::pending(),
        )
        .await
    };
    let peer_side = async {
        // Let the driver run into the back-pressure first.
        tokio::time::sleep(Duration::from_millis(50)).await;
        wake.send(()).await.expect("the handler listens");
        peer.shutdown().await.expect("shutdown");
    };
    let (result, ()) = tokio::join!(driver, peer_side);
    result.expect("ends at end of stream");
    // One read of at most 16 bytes, then nothing until the wake.
    assert_eq!(handler.received_at_wake.len(), 1);
    assert!(
        (1..=16).contains(&handler.received_at_wake[0]),
        "{:?}",
        handler.received_at_wake
    );
    assert_eq!(session.received.len(), 1000);
}

// Paused clock: the sleep below ends only once every task is idle.
#[tokio::test(start_paused = true)]
async fn output_is_bounded_and_written_in_order() {
    let (mut peer, io) = tokio::io::duplex(1024);
    let mut options = options();
    options.max_write_buffer = 4096;
    let taken = Arc::new(AtomicUsize::new(0));
    let mut session = Probe {
        produce: 1024 * 1024,
        taken: taken.clone(),
        close_after_output: true,
        ..Probe::default()
    };
    let driver = async {
        let mut connection = Connection::new(io);
        drive(
            &mut connection,
            &mut session,
            &mut ProbeHandler::default(),
            &options,
            std::future::pending(),
        )
        .await
    };
    let peer_side = async {
        // Not reading: the driver takes no more than its bound from the session.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stalled = taken.load(Ordering::SeqCst);
        let mut all = Vec::new();
        peer.read_to_end(&mut all).await.expect("read");
        (stalled, all)
    };
    let (result, (stalled, all)) = tokio::join!(driver, peer_side);
    result.expect("closes after its output");
    // Bound: the driver's queue, plus one chunk, plus what the pipe holds.
    assert!(
        stalled <= 4096 + 1024 + 1024,
        "took {stalled} bytes while the peer read nothing"
    );
    assert_eq!(all.len(), 1024 * 1024);
    assert!(all.iter().all(|&b| b == b'x'));
    // The session stopped being read while its output was backed up, and ended
    // by closing, not by end of stream.
    assert!(!session.eof);
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_does_not_read_meets_the_write_timeout() {
    let (_peer, io) = tokio::io::duplex(64);
    let mut options = options();
    options.write_timeout = Duration::from_secs(7);
    let mut session = Probe {
        produce: 64 * 1024,
        ..Probe::default()
    };
    let start = tokio::time::Instant::now();
    let mut connection = Connection::new(io);
    let result = drive(
        &mut connection,
        &mut session,
        &mut ProbeHandler::default(),
        &options,
        std::future::pending(),
    )
    .await;
    assert!(
        matches!(result, Err(DriveError::WriteTimeout)),
        "{result:?}"
    );
    assert!(start.elapsed() >= Duration::from_secs(7));
    // The session heard that the stream is gone.
    assert!(session.eof);
}

#[tokio::test(start_paused = true)]
async fn deadlines_follow_poll_timeout() {
    let (mut peer, io) = tokio::io::duplex(1024);
    let mut session = Probe {
        tick: Some((Duration::from_secs(10), 3)),
        deadline: Some(tokio::time::Instant::now().into_std() + Duration::from_secs(10)),
        ..Probe::default()
    };
    let start = tokio::time::Instant::now();
    let driver = async {
        let mut connection = Connection::new(io);
        drive(
            &mut connection,
            &mut session,
            &mut ProbeHandler::default(),
            &options(),
            std::future::pending(),
        )
        .await
    };
    let peer_side = async {
        let mut all = String::new();
        peer.read_to_string(&mut all).await.expect("read");
        all
    };
    let (result, all) = tokio::join!(driver, peer_side);
    result.expect("closes after three ticks");
    assert_eq!(all, "tick\r\ntick\r\ntick\r\n");
    assert_eq!(session.timeouts, 3);
    assert!(start.elapsed() >= Duration::from_secs(30));
}

#[tokio::test]
async fn shutdown_calls_on_shutdown_once_and_lets_the_session_answer() {
    let (mut peer, io) = tokio::io::duplex(1024);
    let mut session = Probe::default();
    let mut handler = ProbeHandler::default();
    let driver = async {
        let mut connection = Connection::new(io);
        drive(
            &mut connection,
            &mut session,
            &mut handler,
            &options(),
            std::future::ready(()),
        )
        .await
    };
    let peer_side = async {
        let mut all = String::new();
        peer.read_to_string(&mut all).await.expect("read");
        all
    };
    let (result, all) = tokio::join!(driver, peer_side);
    result.expect("closes");
    assert_eq!(all, "bye\r\n");
    assert_eq!(handler.shutdowns, 1);
}

#[tokio::test]
async fn starttls_without_an_upgrade_is_an_error_after_the_bytes_before_it() {
    let (mut peer, io) = tokio::io::duplex(64 * 1024);
    let mut session = Probe {
        produce: 3000,
        starttls_after_output: true,
        ..Probe::default()
    };
    let driver = async {
        let mut connection = Connection::new(io);
        let result = drive(
            &mut connection,
            &mut session,
            &mut ProbeHandler::default(),
            &options(),
            std::future::pending(),
        )
        .await;
        drop(connection);
        result
    };
    let peer_side = async {
        let mut all = Vec::new();
        peer.read_to_end(&mut all).await.expect("read");
        all
    };
    let (result, all) = tokio::join!(driver, peer_side);
    assert!(
        matches!(result, Err(DriveError::TlsNotConfigured)),
        "{result:?}"
    );
    assert_eq!(all.len(), 3000, "everything before StartTls was written");
}

#[tokio::test]
async fn a_half_closed_peer_still_gets_its_answer() {
    let (mut peer, io) = tokio::io::duplex(1024);
    peer.write_all(b"ping").await.expect("write");
    peer.shutdown().await.expect("shutdown");
    let mut session = Echo::default();
    struct Quiet;
    impl Handler<Echo> for Quiet {
        async fn on_event(&mut self, _session: &mut Echo, _event: ()) {}
    }
    let mut connection = Connection::new(io);
    drive(
        &mut connection,
        &mut session,
        &mut Quiet,
        &options(),
        std::future::pending(),
    )
    .await
    .expect("closes");
    let mut all = Vec::new();
    peer.read_to_end(&mut all).await.expect("read");
    assert_eq!(all, b"ping");
}

#[tokio::test(start_paused = true)]
async fn an_idle_smtp_session_gets_421_at_its_timeout() {
    // Bounded in virtual time: far past the session's five minutes.
    tokio::time::timeout(Duration::from_secs(3600), async {
        let server = start(smtp_config(), ServeOptions::default()).await;
        let mut client = BufReader::new(TcpStream::connect(server.addr).await.expect("connect"));
        let start = tokio::time::Instant::now();
        expect_reply(&mut client, "220 ").await;
        // Silence: the session's command timeout (5 minutes by default) passes.
        expect_reply(&mut client, "421 4.4.2").await;
        assert!(start.elapsed() >= Duration::from_secs(300));
        assert_eq!(read_to_end(&mut client).await, "");
        wait_for_log(&server.log, |log| log.finished.len() == 1).await;
        let log = lock(&server.log);
        assert_eq!(log.closes, vec![CloseReason::Timeout]);
        assert_eq!(log.finished[0].1, Ok(()));
    })
    .await
    .expect("the session timed out within the hour");
}
