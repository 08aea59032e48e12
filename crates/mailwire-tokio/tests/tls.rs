//! STARTTLS and implicit TLS, server and client side, with certificates made by rcgen.

mod common;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use common::*;
use mailwire_core::{Session, Transmit};
use mailwire_smtp::server::CloseReason;
use mailwire_tokio::rustls::pki_types::ServerName;
use mailwire_tokio::tls::{self, TlsConfigError};
use mailwire_tokio::{
    ClientTlsOptions, ConnectError, DriveOptions, Handler, ServeOptions, TlsMode, connect, drive,
};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

fn starttls_config() -> mailwire_smtp::server::ServerConfig {
    let mut config = smtp_config();
    config.starttls = true;
    config
}

#[tokio::test]
async fn starttls_end_to_end_and_no_injection() {
    bounded(async {
        let pki = TestPki::new();
        let mut options = ServeOptions::default();
        options.starttls = Some(pki.server_config());
        let server = start(starttls_config(), options).await;

        let mut client = BufReader::new(TcpStream::connect(server.addr).await.expect("connect"));
        expect_reply(&mut client, "220 ").await;
        send(&mut client, b"EHLO c.test\r\n").await;
        let ehlo = expect_reply(&mut client, "250-").await;
        assert!(ehlo.contains("STARTTLS"), "{ehlo}");

        // The injection: a command behind STARTTLS in the same write must be answered
        // neither in plaintext nor after the handshake.
        send(&mut client, b"STARTTLS\r\nRSET\r\n").await;
        expect_reply(&mut client, "220 ").await;
        assert!(
            client.buffer().is_empty(),
            "plaintext after the 220: {:?}",
            String::from_utf8_lossy(client.buffer())
        );
        let tcp = client.into_inner();
        let config = tls::client_config(&ClientTlsOptions::CaFile(pki.ca_file())).expect("config");
        let name = ServerName::try_from("localhost").expect("a name");
        // Had the server answered RSET in plaintext, the handshake would choke on it.
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .expect("TLS handshake");
        let mut client = BufReader::new(tls);

        send(&mut client, b"EHLO c.test\r\n").await;
        // The first reply over TLS is the EHLO's: nothing answered the injected RSET.
        let ehlo = expect_reply(&mut client, "250-mx.test").await;
        assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
        send(
            &mut client,
            b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
        )
        .await;
        for code in ["250 2.1.0", "250 2.1.5", "354"] {
            expect_reply(&mut client, code).await;
        }
        send(&mut client, b"secret\r\n.\r\nQUIT\r\n").await;
        expect_reply(&mut client, "250 2.6.0").await;
        expect_reply(&mut client, "221").await;
        assert_eq!(read_to_end(&mut client).await, "");

        wait_for_log(&server.log, |log| log.finished.len() == 1).await;
        let log = lock(&server.log);
        assert_eq!(log.messages, vec![(b"secret\r\n".to_vec(), true)]);
        assert_eq!(log.finished[0].1, Ok(()));
    })
    .await;
}

#[tokio::test]
async fn implicit_tls_listener() {
    bounded(async {
        let pki = TestPki::new();
        let mut options = ServeOptions::default();
        options.implicit_tls = Some(pki.server_config());
        // A STARTTLS configuration is ignored on an implicit-TLS listener.
        options.starttls = Some(pki.server_config());
        let server = start(starttls_config(), options).await;

        let connection = connect(
            server.addr,
            "localhost",
            TlsMode::Implicit,
            &ClientTlsOptions::CaFile(pki.ca_file()),
        )
        .await
        .expect("connect with TLS");
        assert!(connection.is_tls());
        let mut client = BufReader::new(connection);
        expect_reply(&mut client, "220 mx.test").await;
        send(&mut client, b"EHLO c.test\r\n").await;
        let ehlo = expect_reply(&mut client, "250-").await;
        assert!(!ehlo.contains("STARTTLS"), "already encrypted: {ehlo}");
        send(
            &mut client,
            b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nbody\r\n.\r\nQUIT\r\n",
        )
        .await;
        for code in ["250 2.1.0", "250 2.1.5", "354", "250 2.6.0", "221"] {
            expect_reply(&mut client, code).await;
        }

        wait_for_log(&server.log, |log| log.finished.len() == 1).await;
        let log = lock(&server.log);
        assert_eq!(log.messages, vec![(b"body\r\n".to_vec(), true)]);
        let info = &log.finished[0].0;
        assert!(info.tls);
        assert_eq!(info.server_name.as_deref(), Some("localhost"));
    })
    .await;
}

#[tokio::test]
async fn certificates_are_checked_unless_told_otherwise() {
    bounded(async {
        let pki = TestPki::new();
        let mut options = ServeOptions::default();
        options.implicit_tls = Some(pki.server_config());
        let server = start(smtp_config(), options).await;

        // The test CA is not among the public roots.
        let error = connect(
            server.addr,
            "localhost",
            TlsMode::Implicit,
            &ClientTlsOptions::WebPkiRoots,
        )
        .await
        .expect_err("an unknown issuer");
        assert!(matches!(error, ConnectError::TlsHandshake(_)), "{error:?}");

        // The right CA, the wrong name.
        let ca = ClientTlsOptions::CaCertificates(vec![pki.ca_der.clone()]);
        let error = connect(server.addr, "mx.elsewhere.test", TlsMode::Implicit, &ca)
            .await
            .expect_err("a name mismatch");
        assert!(matches!(error, ConnectError::TlsHandshake(_)), "{error:?}");

        // The right CA and name, by IP address.
        let connection = connect(server.addr, "127.0.0.1", TlsMode::Implicit, &ca)
            .await
            .expect("trusted");
        expect_reply(&mut BufReader::new(connection), "220 ").await;

        // No verification, when asked for.
        let connection = connect(
            server.addr,
            "anything.test",
            TlsMode::Implicit,
            &ClientTlsOptions::Insecure,
        )
        .await
        .expect("insecure accepts anything");
        let mut client = BufReader::new(connection);
        expect_reply(&mut client, "220 ").await;
        send(&mut client, b"QUIT\r\n").await;
        expect_reply(&mut client, "221").await;

        let error = connect(
            server.addr,
            "not a name",
            TlsMode::Implicit,
            &ClientTlsOptions::Insecure,
        )
        .await
        .expect_err("an invalid name");
        assert!(
            matches!(error, ConnectError::InvalidServerName(_)),
            "{error:?}"
        );
    })
    .await;
}

/// A scripted SMTP client session, just enough to exercise the client side of `drive`:
/// greeting, EHLO, STARTTLS, EHLO again over TLS, QUIT.
#[derive(Default)]
struct ScriptedClient {
    input: Vec<u8>,
    step: usize,
    events: VecDeque<String>,
    out: VecDeque<Transmit>,
    closed: bool,
}

impl ScriptedClient {
    fn send(&mut self, line: &str) {
        self.out
            .push_back(Transmit::Data(Bytes::from(format!("{line}\r\n"))));
    }

    fn reply(&mut self, reply: String) {
        let code = reply.get(..3).unwrap_or("").to_owned();
        self.events.push_back(reply);
        match (self.step, code.as_str()) {
            (0, "220") => self.send("EHLO client.test"),
            (1, "250") => self.send("STARTTLS"),
            (2, "220") => {
                self.out.push_back(Transmit::StartTls);
                self.input.clear();
                self.send("EHLO client.test");
            }
            (3, "250") => self.send("QUIT"),
            _ => {
                self.closed = true;
                self.out.push_back(Transmit::Close);
            }
        }
        self.step += 1;
    }
}

impl Session for ScriptedClient {
    type Event = String;

    fn handle_input(&mut self, input: &[u8], _now: Instant) {
        self.input.extend_from_slice(input);
        let mut start = 0;
        while let Some(end) = self.input[start..].windows(2).position(|w| w == b"\r\n") {
            let line_end = start + end + 2;
            let line = &self.input[start..line_end];
            if line.get(3) == Some(&b' ') {
                let reply = String::from_utf8_lossy(&self.input[..line_end]).into_owned();
                self.input.drain(..line_end);
                start = 0;
                self.reply(reply);
                if self.closed || self.step == 3 {
                    return;
                }
            } else {
                start = line_end;
            }
        }
    }

    fn handle_eof(&mut self, _now: Instant) {
        if !self.closed {
            self.closed = true;
            self.out.push_back(Transmit::Close);
        }
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_event(&mut self) -> Option<String> {
        self.events.pop_front()
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_closed(&self) -> bool {
        self.closed
    }
}

struct Record(Vec<String>);

impl Handler<ScriptedClient> for Record {
    async fn on_event(&mut self, _session: &mut ScriptedClient, reply: String) {
        self.0.push(reply);
    }
}

#[tokio::test]
async fn client_starttls_through_the_driver() {
    bounded(async {
        let pki = TestPki::new();
        let mut options = ServeOptions::default();
        options.starttls = Some(pki.server_config());
        let server = start(starttls_config(), options).await;

        let ca = ClientTlsOptions::CaCertificates(vec![pki.ca_der.clone()]);
        let mut connection = connect(server.addr, "localhost", TlsMode::StartTls, &ca)
            .await
            .expect("connect");
        assert!(!connection.is_tls());
        assert!(
            connection
                .tls_upgrade()
                .is_some_and(|upgrade| !upgrade.is_server())
        );
        let mut session = ScriptedClient::default();
        let mut record = Record(Vec::new());
        drive(
            &mut connection,
            &mut session,
            &mut record,
            &DriveOptions::default(),
            std::future::pending(),
        )
        .await
        .expect("the client session runs to its end");
        assert!(connection.is_tls());
        assert!(connection.stream().client_connection().is_some());
        let codes: Vec<&str> = record.0.iter().map(|reply| &reply[..3]).collect();
        assert_eq!(codes, ["220", "250", "220", "250", "221"]);
        assert!(record.0[1].contains("STARTTLS"));
        assert!(!record.0[3].contains("STARTTLS"), "{}", record.0[3]);

        wait_for_log(&server.log, |log| log.finished.len() == 1).await;
        let log = lock(&server.log);
        assert_eq!(log.closes, vec![CloseReason::Quit]);
        assert_eq!(log.finished[0].1, Ok(()));
    })
    .await;
}

#[tokio::test]
async fn starttls_without_a_tls_configuration_ends_the_connection() {
    bounded(async {
        // The session offers STARTTLS, the listener has no certificate.
        let server = start(starttls_config(), ServeOptions::default()).await;
        let mut client = BufReader::new(TcpStream::connect(server.addr).await.expect("connect"));
        expect_reply(&mut client, "220 ").await;
        send(&mut client, b"EHLO c.test\r\nSTARTTLS\r\n").await;
        expect_reply(&mut client, "250-").await;
        expect_reply(&mut client, "220 ").await;
        assert_eq!(read_to_end(&mut client).await, "");
        wait_for_log(&server.log, |log| log.finished.len() == 1).await;
        assert_eq!(lock(&server.log).tls_not_configured, vec![1]);
    })
    .await;
}

#[tokio::test]
async fn failed_handshakes_do_not_disturb_the_server() {
    bounded(async {
        let pki = TestPki::new();
        let mut options = ServeOptions::default();
        options.implicit_tls = Some(pki.server_config());
        let server = start(smtp_config(), options).await;

        // Plaintext on a TLS port.
        let mut plain = BufReader::new(TcpStream::connect(server.addr).await.expect("connect"));
        plain.write_all(b"EHLO c.test\r\n").await.expect("write");
        let _ = read_to_end(&mut plain).await;
        // Half a handshake, then gone.
        let mut half = TcpStream::connect(server.addr).await.expect("connect");
        half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
            .await
            .expect("write");
        drop(half);

        let ca = ClientTlsOptions::CaCertificates(vec![pki.ca_der.clone()]);
        let connection = connect(server.addr, "localhost", TlsMode::Implicit, &ca)
            .await
            .expect("still serving");
        let mut client = BufReader::new(connection);
        expect_reply(&mut client, "220 ").await;
        send(&mut client, b"QUIT\r\n").await;
        expect_reply(&mut client, "221").await;
        // Sessions never started for the failed handshakes.
        wait_for_log(&server.log, |log| !log.finished.is_empty()).await;
        assert_eq!(lock(&server.log).finished.len(), 1);
        server.shutdown.trigger();
        server.task.await.expect("serve ends, no panic");
    })
    .await;
}

#[test]
fn pem_files() {
    let pki = TestPki::new();
    let cert = write_temp("cert.pem", &format!("{}{}", pki.cert_pem, pki.ca_pem));
    let key = write_temp("key.pem", &pki.key_pem);
    assert_eq!(
        tls::load_certificates(&cert)
            .expect("two certificates")
            .len(),
        2
    );
    tls::server_config_from_pem_files(&cert, &key).expect("a server config");

    let no_certs = write_temp("empty.pem", "nothing here\n");
    assert!(matches!(
        tls::load_certificates(&no_certs),
        Err(TlsConfigError::NoCertificates(_))
    ));
    assert!(matches!(
        tls::load_private_key(&no_certs),
        Err(TlsConfigError::Pem { .. })
    ));
    let missing = no_certs.with_file_name("missing.pem");
    assert!(matches!(
        tls::load_certificates(&missing),
        Err(TlsConfigError::Pem { .. })
    ));
    // A key that does not match the certificate.
    let other = TestPki::new();
    let other_key = write_temp("other-key.pem", &other.key_pem);
    assert!(matches!(
        tls::server_config_from_pem_files(&cert, &other_key),
        Err(TlsConfigError::Rustls(_))
    ));
    // A CA file with two certificates is read whole.
    tls::client_config(&ClientTlsOptions::CaFile(cert)).expect("a client config");
    assert!(matches!(
        tls::client_config(&ClientTlsOptions::CaFile(missing)),
        Err(TlsConfigError::Pem { .. })
    ));
}
