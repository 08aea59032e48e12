//! `serve` with mailwire-smtp's `ServerSession`, against raw TCP clients on loopback.

mod common;

use std::time::Duration;

use common::*;
use mailwire_smtp::server::{AbortReason, CloseReason};
use mailwire_tokio::{DriveOptions, ServeOptions};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

async fn connect(server: &Server) -> BufReader<TcpStream> {
    BufReader::new(TcpStream::connect(server.addr).await.expect("connect"))
}

#[tokio::test]
async fn pipelined_transaction() {
    bounded(async {
        let server = start(smtp_config(), ServeOptions::default()).await;
        let mut client = connect(&server).await;
        expect_reply(&mut client, "220 mx.test").await;
        send(&mut client, b"EHLO client.test\r\n").await;
        let ehlo = expect_reply(&mut client, "250-mx.test").await;
        assert!(ehlo.contains("PIPELINING"), "{ehlo}");
        assert!(!ehlo.contains("STARTTLS"), "no TLS configured: {ehlo}");

        // One write, three commands: three replies, in order.
        send(
            &mut client,
            b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
        )
        .await;
        expect_reply(&mut client, "250 2.1.0").await;
        expect_reply(&mut client, "250 2.1.5").await;
        expect_reply(&mut client, "354").await;
        send(
            &mut client,
            b"Subject: hi\r\n\r\nHello\r\n..dot\r\n.\r\nQUIT\r\n",
        )
        .await;
        expect_reply(&mut client, "250 2.6.0").await;
        expect_reply(&mut client, "221").await;
        assert_eq!(read_to_end(&mut client).await, "", "nothing after 221");

        wait_for_log(&server.log, |log| log.finished.len() == 1).await;
        let log = lock(&server.log);
        assert_eq!(
            log.messages,
            vec![(b"Subject: hi\r\n\r\nHello\r\n.dot\r\n".to_vec(), false)]
        );
        assert_eq!(log.closes, vec![CloseReason::Quit]);
        let (info, result) = &log.finished[0];
        assert_eq!(result, &Ok(()));
        assert!(!info.tls && !info.busy);
        assert_eq!(info.id, 1);
    })
    .await;
}

#[tokio::test]
async fn connection_limit_gives_the_busy_session() {
    bounded(async {
        let mut options = ServeOptions::default();
        options.max_connections = 2;
        let server = start(smtp_config(), options).await;
        let mut first = connect(&server).await;
        expect_reply(&mut first, "220 ").await;
        let mut second = connect(&server).await;
        expect_reply(&mut second, "220 ").await;

        let mut third = connect(&server).await;
        expect_reply(&mut third, "421 4.3.2").await;
        assert_eq!(read_to_end(&mut third).await, "", "closed after the 421");

        // The second still works.
        send(&mut second, b"NOOP\r\n").await;
        expect_reply(&mut second, "250").await;

        // Once the first has gone, a new connection is served again.
        send(&mut first, b"QUIT\r\n").await;
        expect_reply(&mut first, "221").await;
        assert_eq!(read_to_end(&mut first).await, "");
        wait_for_log(&server.log, |log| log.finished.len() == 2).await;
        let mut greeting = String::new();
        // The permit is released just after `finished`: retry until it is.
        for _ in 0..200 {
            let mut fourth = connect(&server).await;
            greeting = read_reply(&mut fourth).await;
            if greeting.starts_with("220") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(greeting.starts_with("220 "), "{greeting}");

        let log = lock(&server.log);
        let busy: Vec<u64> = log
            .finished
            .iter()
            .filter(|(info, _)| info.busy)
            .map(|(info, _)| info.id)
            .collect();
        assert!(busy.contains(&3), "{busy:?}");
        assert!(log.closes.contains(&CloseReason::Shutdown));
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_lets_an_open_session_finish() {
    bounded(async {
        let mut options = ServeOptions::default();
        options.shutdown_grace = Duration::from_secs(3600);
        let server = start(smtp_config(), options).await;
        let mut client = connect(&server).await;
        expect_reply(&mut client, "220 ").await;
        send(
            &mut client,
            b"EHLO c.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
        )
        .await;
        expect_reply(&mut client, "250-").await;
        expect_reply(&mut client, "250 ").await;
        expect_reply(&mut client, "250 ").await;
        expect_reply(&mut client, "354").await;

        server.shutdown.trigger();
        // The listener closes: new connections are refused (once the loop has seen it).
        loop {
            match TcpStream::connect(server.addr).await {
                Err(_) => break,
                Ok(stream) => {
                    drop(stream);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        assert!(!server.task.is_finished(), "a session is still open");

        // The open session finishes its message.
        send(&mut client, b"during shutdown\r\n.\r\nQUIT\r\n").await;
        expect_reply(&mut client, "250 2.6.0").await;
        expect_reply(&mut client, "221").await;
        assert_eq!(read_to_end(&mut client).await, "");
        // And `serve` returns without waiting out the grace period.
        server.task.await.expect("serve ends");
        let log = lock(&server.log);
        assert_eq!(log.messages, vec![(b"during shutdown\r\n".to_vec(), false)]);
        // (Probing connections that raced with the shutdown may have closed too.)
        assert!(log.closes.contains(&CloseReason::Quit), "{:?}", log.closes);
        assert!(
            !log.closes.contains(&CloseReason::Shutdown),
            "{:?}",
            log.closes
        );
    })
    .await;
}

#[tokio::test]
async fn shutdown_after_the_grace_period_says_421() {
    bounded(async {
        let mut options = ServeOptions::default();
        options.shutdown_grace = Duration::from_millis(50);
        let server = start(smtp_config(), options).await;
        let mut client = connect(&server).await;
        expect_reply(&mut client, "220 ").await;
        send(
            &mut client,
            b"EHLO c.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nhalf a message\r\n",
        )
        .await;
        for code in ["250-", "250 ", "250 ", "354"] {
            expect_reply(&mut client, code).await;
        }
        server.shutdown.trigger();
        expect_reply(&mut client, "421 4.3.2").await;
        assert_eq!(read_to_end(&mut client).await, "");
        server.task.await.expect("serve ends");
        let log = lock(&server.log);
        assert!(log.messages.is_empty());
        assert_eq!(log.aborted, vec![AbortReason::ConnectionLost]);
        assert_eq!(log.closes, vec![CloseReason::Shutdown]);
        assert_eq!(log.finished.len(), 1);
        assert_eq!(log.finished[0].1, Ok(()));
    })
    .await;
}

#[tokio::test]
async fn abrupt_disconnects_do_not_disturb_the_server() {
    bounded(async {
        let server = start(smtp_config(), ServeOptions::default()).await;

        // Connect and go at once.
        drop(TcpStream::connect(server.addr).await.expect("connect"));

        // Reset in the middle of a message.
        let mut client = connect(&server).await;
        expect_reply(&mut client, "220 ").await;
        send(
            &mut client,
            b"EHLO c.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
        )
        .await;
        for code in ["250-", "250 ", "250 ", "354"] {
            expect_reply(&mut client, code).await;
        }
        send(&mut client, b"Subject: half\r\n\r\nand then").await;
        let stream = client.into_inner();
        stream.set_zero_linger().expect("linger");
        drop(stream); // RST

        // Close the write side mid-command: the session sees end of stream.
        let mut half = connect(&server).await;
        expect_reply(&mut half, "220 ").await;
        half.write_all(b"EHLO c.te").await.expect("write");
        half.shutdown().await.expect("shutdown");
        let _ = read_to_end(&mut half).await;

        wait_for_log(&server.log, |log| log.finished.len() == 3).await;
        {
            let log = lock(&server.log);
            assert_eq!(log.aborted, vec![AbortReason::ConnectionLost]);
            assert!(log.messages.is_empty());
        }

        // The server still serves.
        let mut client = connect(&server).await;
        expect_reply(&mut client, "220 ").await;
        send(&mut client, b"QUIT\r\n").await;
        expect_reply(&mut client, "221").await;
        server.shutdown.trigger();
        server.task.await.expect("serve ends, no panic");
    })
    .await;
}

#[tokio::test]
async fn a_peer_that_never_reads_is_cut_off_while_others_go_on() {
    bounded(async {
        let mut config = smtp_config();
        config.max_commands = u32::MAX;
        let mut options = ServeOptions::default();
        options.drive = DriveOptions::default();
        options.drive.write_timeout = Duration::from_millis(500);
        options.drive.max_write_buffer = 16 * 1024;
        let server = start(config, options).await;

        // A client with a small receive window that sends NOOPs and never reads a reply.
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("small buffer");
        let mut stalled = socket.connect(server.addr).await.expect("connect");
        let flood = tokio::spawn(async move {
            let chunk = b"NOOP\r\n".repeat(10_000);
            let mut sent = 0usize;
            // Bounded: far more than the socket buffers on both sides can hold.
            while sent < 512 * 1024 * 1024 {
                if stalled.write_all(&chunk).await.is_err() {
                    return sent;
                }
                sent += chunk.len();
            }
            panic!("the server read 512 MiB of NOOPs without the client reading a reply");
        });

        // Meanwhile another session does a whole transaction.
        let mut client = connect(&server).await;
        expect_reply(&mut client, "220 ").await;
        send(
            &mut client,
            b"EHLO c.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
        )
        .await;
        for code in ["250-", "250 ", "250 ", "354"] {
            expect_reply(&mut client, code).await;
        }
        send(&mut client, b"still served\r\n.\r\n").await;
        expect_reply(&mut client, "250 2.6.0").await;

        // The stalled one is dropped for its write timeout; its writes then fail.
        wait_for_log(&server.log, |log| !log.write_timeouts.is_empty()).await;
        let sent = flood.await.expect("the flooding task ends");
        assert!(sent > 0);

        // The good session is unaffected.
        send(&mut client, b"NOOP\r\nQUIT\r\n").await;
        expect_reply(&mut client, "250").await;
        expect_reply(&mut client, "221").await;
        let log = lock(&server.log);
        assert_eq!(log.write_timeouts, vec![1]);
        assert_eq!(log.messages, vec![(b"still served\r\n".to_vec(), false)]);
    })
    .await;
}
