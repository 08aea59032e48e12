//! The `smtp_server` target: a server session fed arbitrary bytes in arbitrary pieces.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mailwire_core::dot::BareLineEndings;
use mailwire_core::sasl::Mechanism;
use mailwire_core::{Session, Transmit};

use crate::parse::{ReplyLimits, parse_reply};
use crate::server::{ServerConfig, ServerEvent, ServerSession};
use crate::types::{EhloDomain, Reply};

/// Runs a server session over `data`: the first byte picks the configuration, the rest is
/// split into inputs at every `0xff` byte (so the fuzzer controls the chunking). The
/// application accepts everything except every third decision. Checks that nothing
/// panics, that every byte written parses as SMTP replies, that every decision event
/// accepts a verb, and that a closed session writes nothing more.
pub fn server(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut config = ServerConfig::new(
        EhloDomain::new("fuzz.example").unwrap_or_else(|_| unreachable!("a valid literal domain")),
    );
    config.lmtp = selector & 1 != 0;
    config.starttls = selector & 2 != 0;
    config.allow_plaintext_auth = selector & 4 != 0;
    config.pipelining = selector & 8 != 0;
    config.max_message_size = Some(4096);
    config.max_line_len = 200;
    config.max_recipients = 5;
    if selector & 16 != 0 {
        config.bare_line_endings = BareLineEndings::Normalize;
    }
    config.auth_mechanisms = vec![
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
    ];
    let start = Instant::now();
    let mut now = start;
    let mut session = if selector & 32 != 0 {
        ServerSession::new_tls(Arc::new(config), now)
    } else {
        ServerSession::new(Arc::new(config), now)
    };
    session.set_cram_md5_seed(1, 2);
    let mut wire = Vec::new();
    let mut decisions = 0u32;
    let mut closed = false;
    for chunk in rest.split(|&b| b == 0xff) {
        now += Duration::from_secs(1);
        session.handle_input(chunk, now);
        drain(&mut session, &mut wire, &mut decisions, &mut closed);
    }
    session.handle_timeout(now + Duration::from_secs(3600));
    drain(&mut session, &mut wire, &mut decisions, &mut closed);
    session.handle_eof(now);
    drain(&mut session, &mut wire, &mut decisions, &mut closed);
    let mut rest = &wire[..];
    while !rest.is_empty() {
        match parse_reply(rest, &ReplyLimits::default()) {
            Ok(Some((_, used))) => rest = &rest[used..],
            other => panic!("the server wrote an invalid reply: {other:?}"),
        }
    }
}

fn drain(session: &mut ServerSession, wire: &mut Vec<u8>, decisions: &mut u32, closed: &mut bool) {
    loop {
        let mut busy = false;
        while let Some(event) = session.poll_event() {
            busy = true;
            let decide = matches!(
                event,
                ServerEvent::Helo { .. }
                    | ServerEvent::Auth { .. }
                    | ServerEvent::Mail { .. }
                    | ServerEvent::Rcpt { .. }
                    | ServerEvent::DataEnd { .. }
            );
            // LMTP answers once per accepted recipient: all but the last here. (SMTP
            // answers once, below, whatever the number of recipients.)
            if let ServerEvent::DataEnd { recipients } = event
                && session.config().lmtp
            {
                for _ in 1..recipients.max(1) {
                    let _ = session.accept();
                }
            }
            if decide {
                *decisions += 1;
                let result = if decisions.is_multiple_of(3) {
                    session.reject(Reply::no_such_user())
                } else {
                    session.accept()
                };
                assert!(result.is_ok(), "a decision event must accept a verb");
            }
        }
        while let Some(transmit) = session.poll_transmit() {
            busy = true;
            assert!(!*closed, "output after Transmit::Close");
            match transmit {
                Transmit::Data(bytes) => wire.extend_from_slice(&bytes),
                Transmit::StartTls => {}
                Transmit::Close => *closed = true,
            }
        }
        if !busy {
            break;
        }
    }
}
