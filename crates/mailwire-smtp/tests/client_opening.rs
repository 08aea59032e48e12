//! The client's opening: greeting, EHLO / HELO / LHLO, STARTTLS, AUTH.

mod client_support;

use client_support::*;
use mailwire_core::Session;
use mailwire_core::sasl::{ClientCredentials, Mechanism};
use mailwire_smtp::client::{ClientError, ClientEvent, MessageFailure, TlsPolicy};

fn ready(
    pair: &Pair,
) -> (
    &mailwire_smtp::types::Capabilities,
    bool,
    Option<&Mechanism>,
) {
    pair.events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Ready {
                capabilities,
                encrypted,
                authenticated,
            } => Some((capabilities, *encrypted, authenticated.as_ref())),
            _ => None,
        })
        .expect("a Ready event")
}

fn closed_with(pair: &Pair) -> Option<ClientError> {
    match pair.events.last() {
        Some(ClientEvent::Closed { error }) => error.clone(),
        other => panic!("the last event is not Closed: {other:?}"),
    }
}

#[test]
fn greeting_then_ehlo_then_ready() {
    let mut pair = Pair::new(config(), FakeServer::new(MODERN));
    pair.run();
    assert_eq!(pair.wire_text(), "EHLO client.example\r\n");
    assert!(matches!(&pair.events[0], ClientEvent::Greeting(r) if r.code().as_u16() == 220));
    let (caps, encrypted, auth) = ready(&pair);
    assert!(caps.supports_pipelining() && caps.supports_smtputf8());
    assert_eq!(caps.size(), Some(Some(10_000_000)));
    assert!(!encrypted && auth.is_none());
    assert_eq!(pair.events.len(), 2);
    assert!(pair.client.is_ready() && !pair.client.is_closed());
    // Idle and ready: nothing to wait for.
    assert_eq!(pair.client.poll_timeout(), None);
}

#[test]
fn greeting_554_ends_the_session_and_its_messages() {
    let mut server = FakeServer::new(MODERN);
    server.greeting = "554 5.3.2 No service for you\r\n".into();
    let mut pair = Pair::new(config(), server);
    let id = pair
        .client
        .send_mail(
            envelope("a@example.org", &["b@example.com"]),
            message("hi\r\n"),
        )
        .unwrap();
    pair.run();
    assert_eq!(pair.wire_text(), "QUIT\r\n");
    assert!(pair.transport_closed && pair.client.is_closed());
    assert!(pair.events.contains(&ClientEvent::Failed {
        id,
        failure: MessageFailure::SessionEnded
    }));
    assert!(
        matches!(closed_with(&pair), Some(ClientError::GreetingRefused(r)) if r.code().as_u16() == 554)
    );
}

#[test]
fn ehlo_502_falls_back_to_helo_without_extensions() {
    let mut server = FakeServer::new(MODERN);
    server.ehlo_reply = Some("502 5.5.1 EHLO not implemented\r\n".into());
    let mut pair = Pair::new(config(), server);
    let id = pair
        .client
        .send_mail(
            envelope("a@example.org", &["b@example.com"]),
            message("caf\u{e9}\r\n"),
        )
        .unwrap();
    pair.client.quit();
    pair.run();
    let (caps, _, _) = ready(&pair);
    assert!(caps.is_empty());
    // No extension: no SIZE, no BODY, and one command at a time.
    assert_eq!(
        pair.server.commands,
        [
            "EHLO client.example",
            "HELO client.example",
            "MAIL FROM:<a@example.org>",
            "RCPT TO:<b@example.com>",
            "DATA",
            "QUIT"
        ]
    );
    assert_eq!(pair.server.max_unanswered, 1);
    assert!(
        pair.events
            .iter()
            .any(|e| matches!(e, ClientEvent::Delivered { id: i, .. } if *i == id))
    );
    assert_eq!(closed_with(&pair), None);
}

#[test]
fn ehlo_500_also_falls_back_but_other_refusals_end_the_session() {
    let mut server = FakeServer::new(MODERN);
    server.ehlo_reply = Some("500 5.5.2 What?\r\n".into());
    let mut pair = Pair::new(config(), server);
    pair.run();
    assert!(pair.client.is_ready());
    assert_eq!(pair.server.commands[1], "HELO client.example");

    let mut server = FakeServer::new(MODERN);
    server.ehlo_reply = Some("550 5.7.1 Go away\r\n".into());
    let mut pair = Pair::new(config(), server);
    pair.run();
    assert!(
        matches!(closed_with(&pair), Some(ClientError::HelloRefused(r)) if r.code().as_u16() == 550)
    );
    assert!(!pair.wire_text().contains("HELO"));
}

#[test]
fn lmtp_sends_lhlo_and_never_falls_back_to_helo() {
    let mut server = FakeServer::new(MODERN);
    server.ehlo_reply = Some("500 5.5.2 Unknown command\r\n".into());
    let mut config = config();
    config.lmtp = true;
    let mut pair = Pair::new(config, server);
    pair.run();
    assert_eq!(pair.wire_text(), "LHLO client.example\r\nQUIT\r\n");
    assert!(matches!(
        closed_with(&pair),
        Some(ClientError::HelloRefused(_))
    ));
}

#[test]
fn malformed_ehlo_reply_ends_the_session() {
    let mut server = FakeServer::new(MODERN);
    server.ehlo_reply = Some("250 \r\n".into());
    let mut pair = Pair::new(config(), server);
    pair.run();
    assert!(matches!(
        closed_with(&pair),
        Some(ClientError::MalformedEhlo(_))
    ));
}

#[test]
fn opportunistic_starttls_upgrades_forgets_and_drops_injected_bytes() {
    let mut caps = MODERN.to_vec();
    caps.push("STARTTLS");
    let mut server = FakeServer::new(&caps);
    // A man in the middle appends a fake EHLO reply to the 220: the client must not
    // read it as the answer to its second EHLO.
    server.starttls_inject = "250-evil.example\r\n250 AUTH PLAIN\r\n".into();
    let mut pair = Pair::new(config(), server);
    pair.run();
    assert_eq!(pair.handshakes, 1);
    assert_eq!(
        pair.server.commands,
        ["EHLO client.example", "STARTTLS", "EHLO client.example"]
    );
    assert_eq!(pair.server.bytes_before_handshake, 0);
    let (caps, encrypted, _) = ready(&pair);
    assert!(encrypted && pair.client.is_encrypted());
    assert!(!caps.supports_starttls() && !caps.supports_auth());
    assert!(caps.supports_pipelining());
    assert_eq!(pair.events.len(), 2, "{:?}", pair.events);
}

#[test]
fn starttls_required_but_not_offered_fails_before_any_mail() {
    let mut config = config();
    config.tls = TlsPolicy::Required;
    let mut pair = Pair::new(config, FakeServer::new(MODERN));
    let id = pair
        .client
        .send_mail(
            envelope("a@example.org", &["b@example.com"]),
            message("secret\r\n"),
        )
        .unwrap();
    pair.run();
    assert_eq!(pair.wire_text(), "EHLO client.example\r\nQUIT\r\n");
    assert_eq!(closed_with(&pair), Some(ClientError::TlsNotOffered));
    assert!(pair.events.contains(&ClientEvent::Failed {
        id,
        failure: MessageFailure::SessionEnded
    }));
    assert!(
        !pair
            .events
            .iter()
            .any(|e| matches!(e, ClientEvent::Ready { .. }))
    );
}

#[test]
fn starttls_refused_fails_when_required_and_continues_when_opportunistic() {
    let refuse: fn() -> FakeServer = || {
        let mut server = FakeServer::new(&["STARTTLS", "PIPELINING"]);
        server.hook = Some(Box::new(|line| {
            (line == "STARTTLS").then(|| "454 4.7.0 TLS not available\r\n".to_string())
        }));
        server
    };
    let mut config_required = config();
    config_required.tls = TlsPolicy::Required;
    let mut pair = Pair::new(config_required, refuse());
    pair.run();
    assert!(
        matches!(closed_with(&pair), Some(ClientError::TlsRefused(r)) if r.code().as_u16() == 454)
    );
    assert_eq!(pair.handshakes, 0);

    let mut pair = Pair::new(config(), refuse());
    pair.run();
    let (_, encrypted, _) = ready(&pair);
    assert!(!encrypted);
    assert_eq!(pair.handshakes, 0);
}

#[test]
fn never_policy_ignores_the_offer() {
    let mut config = config();
    config.tls = TlsPolicy::Never;
    let mut pair = Pair::new(config, FakeServer::new(&["STARTTLS"]));
    pair.run();
    assert_eq!(pair.wire_text(), "EHLO client.example\r\n");
    let (caps, encrypted, _) = ready(&pair);
    assert!(caps.supports_starttls() && !encrypted);
}

fn password() -> ClientCredentials {
    ClientCredentials::password("tim", "tanstaaftanstaaf".to_string())
}

#[test]
fn implicit_tls_never_sends_starttls_and_may_use_plain() {
    let mut config = config();
    config.tls = TlsPolicy::Implicit;
    config.credentials = Some(password());
    let mut pair = Pair::new(config, FakeServer::new(&["STARTTLS", "AUTH LOGIN PLAIN"]));
    pair.run();
    assert_eq!(
        pair.wire_text(),
        "EHLO client.example\r\nAUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"
    );
    let (_, encrypted, auth) = ready(&pair);
    assert!(encrypted);
    assert_eq!(auth, Some(&Mechanism::Plain));
    assert_eq!(pair.client.authenticated(), Some(&Mechanism::Plain));
}

#[test]
fn auth_plain_after_starttls() {
    let mut config = config();
    config.credentials = Some(password());
    let mut pair = Pair::new(
        config,
        FakeServer::new(&["STARTTLS", "AUTH PLAIN LOGIN CRAM-MD5"]),
    );
    pair.run();
    assert_eq!(pair.handshakes, 1);
    assert_eq!(
        pair.server.commands,
        [
            "EHLO client.example",
            "STARTTLS",
            "EHLO client.example",
            "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
        ]
    );
    assert_eq!(ready(&pair).2, Some(&Mechanism::Plain));
}

#[test]
fn auth_login_answers_both_prompts() {
    let mut config = config();
    config.tls = TlsPolicy::Implicit;
    config.credentials = Some(password());
    let mut pair = Pair::new(config, FakeServer::new(&["AUTH LOGIN"]));
    pair.run();
    assert_eq!(
        pair.wire_text(),
        "EHLO client.example\r\nAUTH LOGIN\r\ndGlt\r\ndGFuc3RhYWZ0YW5zdGFhZg==\r\n"
    );
    assert_eq!(ready(&pair).2, Some(&Mechanism::Login));
}

#[test]
fn cram_md5_is_chosen_without_tls_and_plain_is_not() {
    let mut config = config();
    config.tls = TlsPolicy::Never;
    config.credentials = Some(password());
    let mut pair = Pair::new(
        config.clone(),
        FakeServer::new(&["AUTH PLAIN LOGIN CRAM-MD5"]),
    );
    pair.run();
    assert_eq!(pair.server.commands[1], "AUTH CRAM-MD5");
    assert_eq!(ready(&pair).2, Some(&Mechanism::CramMd5));
    assert!(!pair.wire_text().contains("AHRpbQB0"));

    // A wrong password: the server's 535 ends the session.
    config.credentials = Some(ClientCredentials::password("tim", "wrong".to_string()));
    let mut pair = Pair::new(config, FakeServer::new(&["AUTH CRAM-MD5"]));
    pair.run();
    assert!(
        matches!(closed_with(&pair), Some(ClientError::AuthFailed(r)) if r.code().as_u16() == 535)
    );
    assert!(pair.wire_text().ends_with("QUIT\r\n"));
}

#[test]
fn plaintext_mechanisms_need_tls_unless_allowed() {
    let mut config = config();
    config.tls = TlsPolicy::Never;
    config.credentials = Some(password());
    let mut pair = Pair::new(config.clone(), FakeServer::new(&["AUTH PLAIN LOGIN"]));
    let id = pair
        .client
        .send_mail(
            envelope("a@example.org", &["b@example.com"]),
            message("x\r\n"),
        )
        .unwrap();
    pair.run();
    assert_eq!(closed_with(&pair), Some(ClientError::AuthUnavailable));
    assert!(!pair.wire_text().contains("AUTH"));
    assert!(pair.events.contains(&ClientEvent::Failed {
        id,
        failure: MessageFailure::SessionEnded
    }));

    config.allow_plaintext_auth = true;
    let mut pair = Pair::new(config, FakeServer::new(&["AUTH PLAIN LOGIN"]));
    pair.run();
    assert_eq!(ready(&pair).2, Some(&Mechanism::Plain));
}

#[test]
fn credentials_without_any_auth_offer_fail() {
    let mut config = config();
    config.tls = TlsPolicy::Implicit;
    config.credentials = Some(password());
    let mut pair = Pair::new(config, FakeServer::new(MODERN));
    pair.run();
    assert_eq!(closed_with(&pair), Some(ClientError::AuthUnavailable));
}

#[test]
fn unusable_credentials_are_reported() {
    let mut config = config();
    config.tls = TlsPolicy::Implicit;
    config.credentials = Some(ClientCredentials::password("tim", String::new()));
    let mut pair = Pair::new(config, FakeServer::new(&["AUTH PLAIN"]));
    pair.run();
    assert!(matches!(
        closed_with(&pair),
        Some(ClientError::Credentials(_))
    ));
    assert!(!pair.wire_text().contains("AUTH"));
}

#[test]
fn xoauth2_success_and_failure() {
    let mut config = config();
    config.tls = TlsPolicy::Implicit;
    config.credentials = Some(ClientCredentials::oauth("tim", "ya29.token".to_string()));
    let mut server = FakeServer::new(&["AUTH PLAIN XOAUTH2"]);
    server.auth_user = ("tim".into(), "ya29.token".into());
    let mut pair = Pair::new(config.clone(), server);
    pair.run();
    assert_eq!(ready(&pair).2, Some(&Mechanism::XOAuth2));
    // base64("user=tim\x01auth=Bearer ya29.token\x01\x01")
    assert_eq!(
        pair.server.commands[1],
        "AUTH XOAUTH2 dXNlcj10aW0BYXV0aD1CZWFyZXIgeWEyOS50b2tlbgEB"
    );

    // A refused token: the server sends its JSON error in a 334, the client answers with
    // an empty line, the server fails the exchange.
    let mut server = FakeServer::new(&["AUTH XOAUTH2"]);
    server.auth_user = ("tim".into(), "another".into());
    let mut pair = Pair::new(config, server);
    pair.run();
    assert!(
        pair.wire_text()
            .contains("AUTH XOAUTH2 dXNlcj10aW0BYXV0aD1CZWFyZXIgeWEyOS50b2tlbgEB\r\n\r\nQUIT\r\n")
    );
    assert!(
        matches!(closed_with(&pair), Some(ClientError::AuthFailed(r)) if r.code().as_u16() == 535)
    );
}

#[test]
fn a_long_initial_response_waits_for_an_empty_challenge() {
    let token = "t".repeat(600);
    let mut config = config();
    config.tls = TlsPolicy::Implicit;
    config.credentials = Some(ClientCredentials::oauth("tim", token.clone()));
    let mut server = FakeServer::new(&["AUTH XOAUTH2"]);
    server.auth_user = ("tim".into(), token);
    let mut pair = Pair::new(config, server);
    pair.run();
    assert_eq!(pair.server.commands[1], "AUTH XOAUTH2");
    assert!(
        pair.wire
            .split(|&b| b == b'\n')
            .all(|line| line.len() <= 1000 || line.starts_with(b"dXNlcj10aW0B"))
    );
    assert_eq!(ready(&pair).2, Some(&Mechanism::XOAuth2));
}

#[test]
fn auth_challenge_that_is_not_base64_is_cancelled() {
    let mut config = config();
    config.tls = TlsPolicy::Implicit;
    config.credentials = Some(password());
    let mut server = FakeServer::new(&["AUTH LOGIN"]);
    server.hook = Some(Box::new(|line| match line {
        "AUTH LOGIN" => Some("334 not base64!\r\n".to_string()),
        "*" => Some("501 5.7.0 Authentication cancelled\r\n".to_string()),
        _ => None,
    }));
    let mut pair = Pair::new(config, server);
    pair.run();
    assert!(pair.wire_text().contains("AUTH LOGIN\r\n*\r\n"));
    assert!(
        matches!(closed_with(&pair), Some(ClientError::AuthFailed(r)) if r.code().as_u16() == 501)
    );
}

#[test]
fn debug_output_never_shows_the_password() {
    let mut config = config();
    config.tls = TlsPolicy::Implicit;
    config.credentials = Some(password());
    let mut pair = Pair::new(config, FakeServer::new(&["AUTH PLAIN"]));
    // Feed the greeting and EHLO reply but do not drain the AUTH line yet.
    let greeting = pair.server.take_output();
    pair.client.handle_input(&greeting, pair.now);
    while pair.client.poll_transmit().is_some() {}
    pair.client
        .handle_input(b"250-fake.example\r\n250 AUTH PLAIN\r\n", pair.now);
    let debug = format!("{:?}", pair.client);
    assert!(
        !debug.contains("tanstaaf") && !debug.contains("AHRpbQB0"),
        "{debug}"
    );
}
