//! Client session behaviour against canned servers: refusals, TLS policy, the STLS
//! discard, timeouts, unexpected data, and chunking invariance.

use std::time::{Duration, Instant};

use mailwire_core::{Session, Transmit};
use mailwire_pop3::client::{
    ClientConfig, ClientError, ClientEvent, ClientSession, Login, TlsPolicy,
};
use proptest::prelude::*;

fn config(tls: TlsPolicy) -> ClientConfig {
    let mut config = ClientConfig::new(Login::password("demo", "secret".to_string()));
    config.tls = tls;
    config
}

fn drain(client: &mut ClientSession) -> (Vec<ClientEvent>, Vec<Transmit>) {
    let events = std::iter::from_fn(|| client.poll_event()).collect();
    let transmits = std::iter::from_fn(|| client.poll_transmit()).collect();
    (events, transmits)
}

fn last_error(events: &[ClientEvent]) -> Option<&ClientError> {
    match events.last() {
        Some(ClientEvent::Closed { error }) => error.as_ref(),
        other => panic!("not closed: {other:?}"),
    }
}

#[test]
fn greeting_refused() {
    let now = Instant::now();
    let mut client = ClientSession::new(config(TlsPolicy::Never), now);
    client.handle_input(b"-ERR [SYS/TEMP] too busy\r\n", now);
    let (events, transmits) = drain(&mut client);
    assert!(matches!(
        last_error(&events),
        Some(ClientError::GreetingRefused(_))
    ));
    assert_eq!(transmits, [Transmit::Close]);
    assert!(client.is_closed());
}

#[test]
fn required_tls_not_offered_sends_no_credentials() {
    let now = Instant::now();
    let mut client = ClientSession::new(config(TlsPolicy::Required), now);
    client.handle_input(b"+OK ready\r\n+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n", now);
    let (events, transmits) = drain(&mut client);
    assert!(matches!(
        last_error(&events),
        Some(ClientError::TlsUnavailable)
    ));
    assert_eq!(
        transmits,
        [Transmit::Data(b"CAPA\r\n"[..].into()), Transmit::Close]
    );
}

#[test]
fn stls_discards_bytes_sent_with_the_ok() {
    let now = Instant::now();
    let mut client = ClientSession::new(config(TlsPolicy::Opportunistic), now);
    client.handle_input(b"+OK ready\r\n+OK\r\nSTLS\r\n.\r\n", now);
    let (_, transmits) = drain(&mut client);
    assert_eq!(transmits, [Transmit::Data(b"CAPA\r\nSTLS\r\n"[..].into())]);
    // A man in the middle appends a fake CAPA answer to the +OK, in plaintext.
    client.handle_input(b"+OK begin\r\n+OK\r\nUSER\r\n.\r\n", now);
    let (events, transmits) = drain(&mut client);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        transmits,
        [Transmit::StartTls, Transmit::Data(b"CAPA\r\n"[..].into())]
    );
    assert!(client.is_encrypted());
    // The real answer, over TLS.
    client.handle_input(b"+OK\r\nSASL PLAIN\r\n.\r\n", now);
    let (_, transmits) = drain(&mut client);
    assert_eq!(
        transmits,
        [Transmit::Data(
            b"AUTH PLAIN AGRlbW8Ac2VjcmV0\r\n"[..].into()
        )]
    );
    client.handle_input(b"+OK logged in\r\n", now);
    let (events, _) = drain(&mut client);
    assert!(matches!(
        events[..],
        [ClientEvent::Ready {
            encrypted: true,
            ..
        }]
    ));
}

#[test]
fn timeout_and_unexpected_data() {
    let now = Instant::now();
    let mut client = ClientSession::new(config(TlsPolicy::Never), now);
    let deadline = client.poll_timeout().unwrap();
    assert_eq!(deadline, now + Duration::from_secs(600));
    client.handle_timeout(now + Duration::from_secs(1));
    assert!(!client.is_closed());
    client.handle_timeout(deadline);
    let (events, _) = drain(&mut client);
    assert!(matches!(last_error(&events), Some(ClientError::Timeout)));

    let mut cfg = config(TlsPolicy::Never);
    cfg.allow_plaintext_auth = true;
    let mut client = ClientSession::new(cfg, now);
    client.handle_input(b"+OK\r\n-ERR\r\n+OK\r\n+OK\r\n", now);
    let (events, transmits) = drain(&mut client);
    assert!(matches!(events.last(), Some(ClientEvent::Ready { .. })));
    assert_eq!(
        transmits,
        [Transmit::Data(
            b"CAPA\r\nUSER demo\r\nPASS secret\r\n"[..].into()
        )]
    );
    assert_eq!(client.poll_timeout(), None, "idle: no deadline");
    // A verb called much later starts its deadline from the stale `now`: the first
    // timeout restarts it instead of failing.
    let later = now + Duration::from_secs(3600);
    client.noop().unwrap();
    client.handle_timeout(later);
    assert!(!client.is_closed());
    assert_eq!(
        client.poll_timeout(),
        Some(later + Duration::from_secs(600))
    );
    client.handle_input(b"+OK\r\n", later);
    let (events, _) = drain(&mut client);
    assert!(matches!(events[..], [ClientEvent::Done { .. }]));
    client.handle_input(b"+OK surprise\r\n", now);
    let (events, _) = drain(&mut client);
    assert!(matches!(last_error(&events), Some(ClientError::Unexpected)));
}

#[test]
fn auth_failure_quits_politely() {
    let now = Instant::now();
    let mut client = ClientSession::new(config(TlsPolicy::Never), now);
    client.handle_input(b"+OK <1.2@host>\r\n-ERR\r\n-ERR [AUTH] wrong\r\n", now);
    let (events, transmits) = drain(&mut client);
    let Some(ClientError::AuthFailed(response)) = last_error(&events) else {
        panic!("{events:?}")
    };
    assert_eq!(response.text(), "wrong");
    let Transmit::Data(wire) = &transmits[0] else {
        panic!()
    };
    assert!(wire.starts_with(b"CAPA\r\nAPOP demo "));
    assert!(wire.ends_with(b"\r\nQUIT\r\n"));
    assert_eq!(transmits.last(), Some(&Transmit::Close));
}

const TRANSCRIPT: &[u8] =
    b"+OK POP3 ready <9.9@h>\r\n+OK\r\nTOP\r\nUIDL\r\nPIPELINING\r\nSASL CRAM-MD5\r\n.\r\n\
+ PDkuOUBoPg==\r\n+OK welcome\r\n+OK 2 30\r\n+OK 2 messages\r\n1 10\r\n2 20\r\n.\r\n\
+OK\r\n1 a\r\n2 b\r\n.\r\n+OK 10 octets\r\n..x\r\n\r\n.y\r\n.\r\n-ERR no such message\r\n\
+OK\r\nh: v\r\n\r\n.\r\n+OK deleted\r\n+OK bye\r\n";

fn run(cuts: &[usize]) -> Vec<ClientEvent> {
    let now = Instant::now();
    let mut client = ClientSession::new(config(TlsPolicy::Never), now);
    client.stat().unwrap();
    client.list(None).unwrap();
    client.uidl(None).unwrap();
    client.retr(1).unwrap();
    client.retr(7).unwrap();
    client.top(2, 0).unwrap();
    client.dele(1).unwrap();
    client.quit().unwrap();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (TRANSCRIPT.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(TRANSCRIPT.len());
    let mut events: Vec<ClientEvent> = Vec::new();
    let mut start = 0;
    for cut in cuts {
        let cut = cut.max(start);
        client.handle_input(&TRANSCRIPT[start..cut], now);
        start = cut;
        while let Some(event) = client.poll_event() {
            // Message pieces follow the input's chunking: merge them.
            if let (
                ClientEvent::MessageData { id, data },
                Some(ClientEvent::MessageData {
                    id: last,
                    data: prev,
                }),
            ) = (&event, events.last_mut())
                && id == last
            {
                *prev = [prev.as_ref(), data.as_ref()].concat().into();
                continue;
            }
            events.push(event);
        }
        while client.poll_transmit().is_some() {}
    }
    events
}

#[test]
fn canned_session_with_cram_md5() {
    let events = run(&[]);
    assert!(
        matches!(events.last(), Some(ClientEvent::Closed { error: None })),
        "{events:?}"
    );
    assert!(events.iter().any(
        |e| matches!(e, ClientEvent::MessageData { data, .. } if &data[..] == b".x\r\n\r\ny\r\n")
    ));
    assert!(events.iter().any(
        |e| matches!(e, ClientEvent::MessageData { data, .. } if &data[..] == b"h: v\r\n\r\n")
    ));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Failed { .. }))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::UniqueIds { entries, .. } if entries.len() == 2))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn client_chunking_does_not_matter(cuts in proptest::collection::vec(any::<usize>(), 0..16)) {
        prop_assert_eq!(run(&cuts), run(&[]));
    }
}
