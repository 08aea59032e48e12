//! The same events and the same bytes sent, whatever the chunking of the server's bytes.

mod client_support;

use client_support::*;
use mailwire_core::sasl::ClientCredentials;
use mailwire_smtp::client::ClientEvent;
use proptest::prelude::*;

/// A scenario: a configured client and server, some messages, then QUIT.
fn scenario(which: usize) -> Pair {
    let mut config = config();
    let mut server = match which {
        // Pipelining, SIZE, refusals, dot-stuffing.
        0 => FakeServer::new(MODERN),
        // One command at a time, with CHUNKING.
        1 => FakeServer::new(&["CHUNKING", "8BITMIME"]),
        // STARTTLS, AUTH LOGIN (multi-step), pipelined BDAT.
        2 => {
            config.credentials = Some(ClientCredentials::password(
                "tim",
                "tanstaaftanstaaf".to_string(),
            ));
            FakeServer::new(&["STARTTLS", "PIPELINING", "CHUNKING", "AUTH LOGIN"])
        }
        // LMTP with per-recipient replies.
        _ => {
            config.lmtp = true;
            let mut server = FakeServer::new(&["PIPELINING", "ENHANCEDSTATUSCODES"]);
            server.lmtp = true;
            server.lmtp_refuse_final.push("full@".into());
            server
        }
    };
    config.chunk_size = 9;
    config.data_piece_size = 7;
    server.refuse_rcpt.push("nobody@".into());
    let mut pair = Pair::new(config, server);
    pair.client
        .send_mail(
            envelope(
                "a@example.org",
                &["b@example.com", "nobody@example.com", "full@example.com"],
            ),
            message(".dot\nbare\rline\r\nend"),
        )
        .unwrap();
    pair.client
        .send_mail(
            envelope("a@example.org", &["nobody@example.com"]),
            message("lost\r\n"),
        )
        .unwrap();
    pair.client
        .send_mail(
            envelope("a@example.org", &["c@example.com"]),
            message("caf\u{e9}\r\n"),
        )
        .unwrap();
    pair.client.quit();
    pair
}

fn baseline(which: usize) -> (Vec<ClientEvent>, Vec<u8>) {
    let mut pair = scenario(which);
    pair.run();
    assert!(
        matches!(
            pair.events.last(),
            Some(ClientEvent::Closed { error: None })
        ),
        "scenario {which}: {:?}",
        pair.events
    );
    (pair.events, pair.wire)
}

#[test]
fn baselines_deliver_and_refuse_as_scripted() {
    for which in 0..4 {
        let (events, _) = baseline(which);
        let delivered = events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Delivered { .. }))
            .count();
        let failed = events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Failed { .. }))
            .count();
        assert_eq!((delivered, failed), (2, 1), "scenario {which}: {events:?}");
    }
}

proptest! {
    #[test]
    fn same_events_whatever_the_chunking(
        which in 0usize..4,
        cuts in prop::collection::vec(1usize..40, 1..12),
    ) {
        let (events, wire) = baseline(which);
        let mut pair = scenario(which);
        let mut next = 0usize;
        pair.run_split(&mut |len| {
            let mut pieces = Vec::new();
            let mut total = 0;
            while total < len {
                let n = cuts[next % cuts.len()];
                next += 1;
                pieces.push(n);
                total += n;
            }
            pieces
        });
        prop_assert_eq!(&pair.events, &events);
        prop_assert_eq!(&pair.wire, &wire);
    }

    #[test]
    fn same_events_byte_by_byte(which in 0usize..4) {
        let (events, wire) = baseline(which);
        let mut pair = scenario(which);
        pair.run_split(&mut |len| vec![1; len]);
        prop_assert_eq!(&pair.events, &events);
        prop_assert_eq!(&pair.wire, &wire);
    }
}
