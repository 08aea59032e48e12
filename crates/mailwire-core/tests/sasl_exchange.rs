//! Client against server in memory for every mechanism, failures, malformed input, misuse,
//! and `Debug` hygiene.

use mailwire_core::Secret;
use mailwire_core::sasl::{
    CANCEL, ClientCredentials, ClientExchange, Credentials, CredentialsKind,
    DEFAULT_MAX_RESPONSE_LEN, LOGIN_PASSWORD_PROMPT, LOGIN_USERNAME_PROMPT, MalformedReason,
    Mechanism, OAuthError, Response, SaslError, ServerExchange, ServerOptions, Step, Transport,
    choose_mechanism, decode_challenge, decode_response, encode_challenge, encode_initial_response,
    encode_response,
};

const MAX: usize = DEFAULT_MAX_RESPONSE_LEN;
const CHALLENGE: &str = "<1896.697170952@postoffice.example.net>";

fn options() -> ServerOptions {
    ServerOptions {
        cram_md5_challenge: Some(CHALLENGE.to_string()),
        ..ServerOptions::default()
    }
}

/// What crossed the wire, line by line, and how the server ended.
struct Transcript {
    lines: Vec<String>,
    outcome: Step,
}

/// Drives `client` against a fresh server through base64 lines, as SMTP would
/// (`AUTH <mech> [ir]`, `334 <challenge>`, `<response>`).
fn run(mut client: ClientExchange, with_initial_response: bool) -> Transcript {
    let mut server = ServerExchange::new(client.mechanism().clone(), options()).expect("server");
    let mut lines = Vec::new();
    let initial = if with_initial_response {
        client.initial_response()
    } else {
        None
    };
    let mut step = match initial {
        Some(ir) => {
            let wire = encode_initial_response(&ir);
            lines.push(format!("C: AUTH {} {wire}", client.mechanism()));
            let Ok(Response::Data(ir)) = decode_response(wire.as_bytes(), MAX) else {
                panic!("our own initial response decodes");
            };
            server.start(Some(&ir))
        }
        None => {
            lines.push(format!("C: AUTH {}", client.mechanism()));
            server.start(None)
        }
    };
    for _ in 0..6 {
        let Step::Challenge(challenge) = &step else {
            break;
        };
        let wire = encode_challenge(challenge);
        lines.push(format!("S: 334 {wire}"));
        let challenge = decode_challenge(wire.as_bytes(), MAX).expect("our own challenge");
        let answer = match client.respond(&challenge) {
            Ok(answer) => encode_response(&answer),
            Err(_) => String::from_utf8(CANCEL.to_vec()).expect("ASCII"),
        };
        lines.push(format!("C: {answer}"));
        step = match decode_response(answer.as_bytes(), MAX).expect("our own response") {
            Response::Data(data) => server.step(&data),
            Response::Cancel => Step::Failed(SaslError::Cancelled),
        };
    }
    Transcript {
        lines,
        outcome: step,
    }
}

fn password(mechanism: Mechanism) -> ClientExchange {
    ClientExchange::new(
        mechanism,
        ClientCredentials::password("tim", "tanstaaftanstaaf".to_string()),
    )
    .expect("password credentials")
}

fn token(mechanism: Mechanism) -> ClientExchange {
    ClientExchange::new(
        mechanism,
        ClientCredentials::oauth("user@example.com", "t0k3n-._~+/=".to_string())
            .with_host("imap.example.com", 993),
    )
    .expect("token credentials")
}

#[test]
fn every_mechanism_with_and_without_initial_response() {
    for ir in [true, false] {
        for mechanism in [Mechanism::Plain, Mechanism::Login] {
            let t = run(password(mechanism.clone()), ir);
            let Step::Done(Credentials::Password(claim)) = t.outcome else {
                panic!("{mechanism} ir={ir}: {:?} {:?}", t.lines, t.outcome);
            };
            assert_eq!(claim.mechanism, mechanism);
            assert_eq!(claim.authzid, None);
            assert_eq!(claim.authcid, "tim");
            assert_eq!(claim.password.expose(), "tanstaaftanstaaf");
        }

        let t = run(password(Mechanism::CramMd5), ir);
        let Step::Done(Credentials::CramMd5(claim)) = t.outcome else {
            panic!("CRAM-MD5 ir={ir}: {:?}", t.lines);
        };
        assert_eq!(claim.username, "tim");
        assert!(claim.verify("tanstaaftanstaaf"));
        assert!(!claim.verify("tanstaaftanstaaF"));

        for mechanism in [Mechanism::XOAuth2, Mechanism::OAuthBearer] {
            let t = run(token(mechanism.clone()), ir);
            let Step::Done(Credentials::OAuth(claim)) = t.outcome else {
                panic!("{mechanism} ir={ir}: {:?}", t.lines);
            };
            assert_eq!(claim.mechanism, mechanism);
            assert_eq!(claim.user.as_deref(), Some("user@example.com"));
            assert_eq!(claim.token.expose(), "t0k3n-._~+/=");
            if mechanism == Mechanism::OAuthBearer {
                assert_eq!(claim.host.as_deref(), Some("imap.example.com"));
                assert_eq!(claim.port, Some(993));
            } else {
                assert_eq!((claim.host, claim.port), (None, None));
            }
        }
    }
}

#[test]
fn round_trips_are_as_short_as_the_mechanism_allows() {
    let count = |t: &Transcript| t.lines.len();
    // AUTH PLAIN <ir>: one line.
    assert_eq!(count(&run(password(Mechanism::Plain), true)), 1);
    // AUTH PLAIN / 334 / <message>.
    assert_eq!(count(&run(password(Mechanism::Plain), false)), 3);
    // LOGIN never sends an initial response from our client: 5 lines either way.
    assert_eq!(count(&run(password(Mechanism::Login), true)), 5);
    // CRAM-MD5: AUTH / 334 challenge / digest.
    assert_eq!(count(&run(password(Mechanism::CramMd5), true)), 3);
    assert_eq!(count(&run(token(Mechanism::OAuthBearer), true)), 1);
}

#[test]
fn login_prompts_and_username_as_initial_response() {
    let mut server = ServerExchange::new(Mechanism::Login, ServerOptions::default()).expect("ok");
    let Step::Challenge(prompt) = server.start(None) else {
        panic!("LOGIN asks for the username");
    };
    assert_eq!(prompt, LOGIN_USERNAME_PROMPT);
    assert_eq!(encode_challenge(&prompt), "VXNlcm5hbWU6");
    let Step::Challenge(prompt) = server.step(b"tim") else {
        panic!("LOGIN asks for the password");
    };
    assert_eq!(prompt, LOGIN_PASSWORD_PROMPT);
    assert_eq!(encode_challenge(&prompt), "UGFzc3dvcmQ6");

    // Some clients send the username with the command (`AUTH LOGIN dGlt`).
    let mut server = ServerExchange::new(Mechanism::Login, ServerOptions::default()).expect("ok");
    assert_eq!(
        server.start(Some(b"tim")),
        Step::Challenge(LOGIN_PASSWORD_PROMPT.to_vec())
    );
    let Step::Done(credentials) = server.step("pässwörd".as_bytes()) else {
        panic!("LOGIN completes");
    };
    assert_eq!(credentials.username(), Some("tim"));

    // The client answers whatever the prompts say.
    let mut client = password(Mechanism::Login);
    assert_eq!(client.initial_response(), None);
    assert_eq!(client.respond(b"User Name").expect("first"), b"tim");
    assert_eq!(client.respond(b"").expect("second"), b"tanstaaftanstaaf");
    assert_eq!(
        client.respond(b"Password:"),
        Err(SaslError::Unexpected {
            mechanism: Mechanism::Login
        })
    );
}

#[test]
fn oauth_failures_go_through_an_error_challenge() {
    for mechanism in [Mechanism::XOAuth2, Mechanism::OAuthBearer] {
        let mut client = token(mechanism.clone());
        let mut server = ServerExchange::new(mechanism.clone(), options()).expect("ok");
        let ir = client.initial_response().expect("client-first");
        let Step::Done(_) = server.start(Some(&ir)) else {
            panic!("{mechanism} parses");
        };
        let error = OAuthError::new("401")
            .with_scope("https://mail.google.com/")
            .to_json();
        let Step::Challenge(challenge) = server.fail_with(&error) else {
            panic!("{mechanism} sends the error");
        };
        let dummy = client.respond(&challenge).expect("the client acknowledges");
        let expected_dummy: &[u8] = if mechanism == Mechanism::OAuthBearer {
            b"\x01"
        } else {
            b""
        };
        assert_eq!(dummy, expected_dummy, "{mechanism}");
        assert_eq!(client.server_error(), Some(&error[..]));
        assert_eq!(server.step(&dummy), Step::Failed(SaslError::Rejected));
        assert!(server.is_finished());
        assert_eq!(server.step(b""), Step::Failed(SaslError::OutOfOrder));
    }

    // Without the initial response the first (empty) challenge asks for the message and a
    // second one carries the error.
    let mut client = token(Mechanism::XOAuth2);
    let message = client.respond(b"").expect("message");
    assert!(message.starts_with(b"user=user@example.com\x01"));
    assert_eq!(client.server_error(), None);
    assert_eq!(client.respond(b"{\"status\":\"401\"}").expect("dummy"), b"");
    assert_eq!(client.server_error(), Some(&b"{\"status\":\"401\"}"[..]));
    assert!(client.respond(b"").is_err());

    // An empty JSON is replaced: an empty challenge would mean "send your message".
    let mut server = ServerExchange::new(Mechanism::OAuthBearer, options()).expect("ok");
    let _ = server.start(Some(b"n,,\x01auth=\x01\x01"));
    assert_eq!(
        server.fail_with(b""),
        Step::Challenge(br#"{"status":"invalid_token"}"#.to_vec())
    );
}

#[test]
fn cancel_is_a_wire_level_outcome() {
    assert_eq!(decode_response(CANCEL, MAX), Ok(Response::Cancel));
    // A client that cannot answer cancels; the transcript shows the `*` line.
    let mut client = password(Mechanism::CramMd5);
    assert_eq!(
        client.respond(b""),
        Err(SaslError::Malformed {
            mechanism: Mechanism::CramMd5,
            reason: MalformedReason::EmptyChallenge
        })
    );
    assert!(
        client.respond(CHALLENGE.as_bytes()).is_err(),
        "stays failed"
    );
}

fn server(mechanism: Mechanism) -> ServerExchange {
    ServerExchange::new(mechanism, options()).expect("supported")
}

fn malformed(mechanism: Mechanism, reason: MalformedReason) -> Step {
    Step::Failed(SaslError::Malformed { mechanism, reason })
}

#[test]
fn malformed_plain_fails_cleanly() {
    use MalformedReason::*;
    for (message, reason) in [
        (&b""[..], PlainFields),
        (b"tim", PlainFields),
        (b"\0tim", PlainFields),
        (b"\0tim\0pw\0", PlainFields),
        (b"a\0b\0c\0d", PlainFields),
        (b"\0\0pw", EmptyField),
        (b"\0tim\0", EmptyField),
        (b"\0\0", EmptyField),
        (b"\0t\xffm\0pw", InvalidUtf8),
        (b"\xc3\0tim\0pw", InvalidUtf8),
        (b"\0tim\0p\xe2\x82w", InvalidUtf8),
    ] {
        let mut with_ir = server(Mechanism::Plain);
        assert_eq!(
            with_ir.start(Some(message)),
            malformed(Mechanism::Plain, reason),
            "{message:?}"
        );
        assert!(with_ir.is_finished());
        let mut without = server(Mechanism::Plain);
        let _ = without.start(None);
        assert_eq!(
            without.step(message),
            malformed(Mechanism::Plain, reason),
            "{message:?}"
        );
    }
}

#[test]
fn malformed_login_and_cram() {
    let mut s = server(Mechanism::Login);
    let _ = s.start(None);
    assert_eq!(
        s.step(b"t\xffm"),
        malformed(Mechanism::Login, MalformedReason::InvalidUtf8)
    );
    let mut s = server(Mechanism::Login);
    let _ = s.start(None);
    let _ = s.step(b"tim");
    assert_eq!(
        s.step(b"p\0w"),
        malformed(Mechanism::Login, MalformedReason::Nul)
    );
    let mut s = server(Mechanism::Login);
    let _ = s.start(None);
    assert_eq!(
        s.step(b""),
        malformed(Mechanism::Login, MalformedReason::EmptyField)
    );

    for response in [
        &b""[..],
        b"tim",
        b"tim b913a602c7eda7a495b4e6e7334d389",
        b"tim b913a602c7eda7a495b4e6e7334d3890a",
        b"tim z913a602c7eda7a495b4e6e7334d3890",
    ] {
        let mut s = server(Mechanism::CramMd5);
        let _ = s.start(None);
        assert_eq!(
            s.step(response),
            malformed(Mechanism::CramMd5, MalformedReason::CramMd5Response),
            "{response:?}"
        );
    }
    // CRAM-MD5 is server-first: an initial response (even `=`) fails the exchange.
    for ir in [&b""[..], b"tim b913a602c7eda7a495b4e6e7334d3890"] {
        let mut s = server(Mechanism::CramMd5);
        assert_eq!(
            s.start(Some(ir)),
            Step::Failed(SaslError::Unexpected {
                mechanism: Mechanism::CramMd5
            })
        );
    }
}

#[test]
fn malformed_oauth() {
    let mut s = server(Mechanism::OAuthBearer);
    assert_eq!(
        s.start(Some(b"p=tls-server-end-point,,\x01auth=Bearer t\x01\x01")),
        Step::Failed(SaslError::ChannelBindingUnsupported)
    );
    // A lone kvsep as first message: RFC 7628 lets the server fail at once.
    let mut s = server(Mechanism::OAuthBearer);
    assert_eq!(
        s.start(Some(b"\x01")),
        malformed(Mechanism::OAuthBearer, MalformedReason::Gs2Header)
    );
    let mut s = server(Mechanism::XOAuth2);
    assert_eq!(
        s.start(Some(b"user=u\x01auth=Bearer t\x01")),
        malformed(Mechanism::XOAuth2, MalformedReason::KeyValues)
    );
    let mut s = server(Mechanism::XOAuth2);
    assert_eq!(
        s.start(Some(b"user=u\x01auth=Bearer two words\x01\x01")),
        malformed(Mechanism::XOAuth2, MalformedReason::AuthScheme)
    );
}

#[test]
fn limits_apply_before_parsing() {
    let small = ServerOptions {
        max_response_len: 16,
        ..ServerOptions::default()
    };
    let mut s = ServerExchange::new(Mechanism::Plain, small.clone()).expect("ok");
    assert_eq!(
        s.start(Some(&[b'a'; 17])),
        Step::Failed(SaslError::TooLong { limit: 16 })
    );
    let mut s = ServerExchange::new(Mechanism::Login, small.clone()).expect("ok");
    let _ = s.start(None);
    assert!(matches!(s.step(&[b'a'; 16]), Step::Challenge(_)));
    assert_eq!(
        s.step(&[b'a'; 17]),
        Step::Failed(SaslError::TooLong { limit: 16 })
    );

    // The default limit takes a 255-byte PLAIN field of each kind (RFC 4616) with room.
    let mut message = vec![b'z'; 255];
    message.push(0);
    message.extend_from_slice(&[b'u'; 255]);
    message.push(0);
    message.extend_from_slice(&[b'p'; 255]);
    let mut s = server(Mechanism::Plain);
    assert!(matches!(s.start(Some(&message)), Step::Done(_)));

    // The wire decoder refuses long lines before decoding them.
    let long = "QUFB".repeat(MAX / 3 + 1);
    assert_eq!(
        decode_response(long.as_bytes(), MAX),
        Err(SaslError::TooLong { limit: MAX })
    );
    assert_eq!(
        decode_response(b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm!", MAX),
        Err(SaslError::InvalidBase64)
    );
}

#[test]
fn misuse_is_reported_not_panicked() {
    assert_eq!(
        ServerExchange::new(Mechanism::CramMd5, ServerOptions::default()).err(),
        Some(SaslError::MissingChallenge)
    );
    let bad_challenge = ServerOptions {
        cram_md5_challenge: Some("no angle brackets".into()),
        ..ServerOptions::default()
    };
    assert_eq!(
        ServerExchange::new(Mechanism::CramMd5, bad_challenge).err(),
        Some(SaslError::InvalidChallenge)
    );
    let scram = Mechanism::from_name("SCRAM-SHA-256").expect("valid name");
    assert_eq!(
        ServerExchange::new(scram.clone(), options()).err(),
        Some(SaslError::Unsupported(scram.clone()))
    );
    assert_eq!(
        ClientExchange::new(
            scram.clone(),
            ClientCredentials::password("a", "b".to_string())
        )
        .err(),
        Some(SaslError::Unsupported(scram))
    );

    let mut s = server(Mechanism::Plain);
    assert_eq!(
        s.step(b"\0a\0b"),
        Step::Failed(SaslError::OutOfOrder),
        "step before start"
    );
    let mut s = server(Mechanism::Plain);
    let _ = s.start(None);
    assert_eq!(
        s.start(None),
        Step::Failed(SaslError::OutOfOrder),
        "start twice"
    );
    let mut s = server(Mechanism::Plain);
    assert!(matches!(s.start(Some(b"\0a\0b")), Step::Done(_)));
    assert_eq!(
        s.step(b"\0a\0b"),
        Step::Failed(SaslError::OutOfOrder),
        "step after done"
    );
    // fail_with mid-exchange just fails.
    let mut s = server(Mechanism::Login);
    let _ = s.start(None);
    assert_eq!(s.fail_with(b"{}"), Step::Failed(SaslError::Rejected));
    assert!(s.is_finished());
}

#[test]
fn client_credentials_are_checked_against_the_mechanism() {
    let pw = || ClientCredentials::password("tim", "secret".to_string());
    let tok = || ClientCredentials::oauth("tim@example.com", "t0k3n".to_string());
    assert_eq!(
        ClientExchange::new(Mechanism::XOAuth2, pw()).err(),
        Some(SaslError::WrongCredentials {
            mechanism: Mechanism::XOAuth2,
            expected: CredentialsKind::OAuth
        })
    );
    assert_eq!(
        ClientExchange::new(Mechanism::Plain, tok()).err(),
        Some(SaslError::WrongCredentials {
            mechanism: Mechanism::Plain,
            expected: CredentialsKind::Password
        })
    );
    let unencodable = |mechanism: Mechanism, creds: ClientCredentials| match ClientExchange::new(
        mechanism, creds,
    ) {
        Err(SaslError::UnencodableCredentials { reason, .. }) => reason,
        other => panic!("expected UnencodableCredentials, got {other:?}"),
    };
    use MalformedReason::*;
    let p = |u: &str, pw: &str| ClientCredentials::password(u, pw.to_string());
    let t = |u: &str, tk: &str| ClientCredentials::oauth(u, tk.to_string());
    assert_eq!(unencodable(Mechanism::Plain, p("t\0m", "pw")), Nul);
    assert_eq!(unencodable(Mechanism::Plain, p("tim", "")), EmptyField);
    assert_eq!(unencodable(Mechanism::Login, p("", "pw")), EmptyField);
    assert_eq!(
        unencodable(Mechanism::Plain, p("tim", "pw").with_authzid("a\0")),
        Nul
    );
    assert_eq!(unencodable(Mechanism::CramMd5, p("tim", "p\0w")), Nul);
    assert_eq!(
        unencodable(Mechanism::XOAuth2, t("u\x01", "tok")),
        InvalidCharacter
    );
    assert_eq!(
        unencodable(Mechanism::XOAuth2, t("u", "two words")),
        InvalidCharacter
    );
    assert_eq!(unencodable(Mechanism::OAuthBearer, t("u", "")), EmptyField);
    assert_eq!(
        unencodable(Mechanism::OAuthBearer, t("u", "tok").with_host("a b", 1)),
        InvalidCharacter
    );
    assert_eq!(
        unencodable(Mechanism::OAuthBearer, t("u", "tok").with_host("h", 0)),
        Port
    );

    // PLAIN answers one challenge only.
    let mut client = ClientExchange::new(Mechanism::Plain, pw()).expect("ok");
    assert!(client.respond(b"").is_ok());
    assert!(client.respond(b"").is_err());
}

#[test]
fn gs2_authzid_is_escaped_and_unescaped() {
    let t = run(
        ClientExchange::new(
            Mechanism::OAuthBearer,
            ClientCredentials::oauth("a,b=c@example.com", "tok".to_string()),
        )
        .expect("ok"),
        true,
    );
    let Step::Done(credentials) = t.outcome else {
        panic!("parses");
    };
    assert_eq!(credentials.username(), Some("a,b=c@example.com"));
}

#[test]
fn chosen_mechanism_completes() {
    let offered: Vec<Mechanism> = "LOGIN PLAIN CRAM-MD5 XOAUTH2"
        .split(' ')
        .filter_map(Mechanism::from_name)
        .collect();
    let chosen = choose_mechanism(&offered, CredentialsKind::Password, Transport::Unencrypted)
        .expect("CRAM-MD5 is safe in the clear");
    assert!(matches!(run(password(chosen), true).outcome, Step::Done(_)));
    let chosen = choose_mechanism(&offered, CredentialsKind::OAuth, Transport::Encrypted)
        .expect("XOAUTH2 is offered");
    assert_eq!(chosen, Mechanism::XOAuth2);
    assert!(matches!(run(token(chosen), true).outcome, Step::Done(_)));
}

#[test]
fn debug_never_shows_passwords_or_tokens() {
    const PW: &str = "hunter2-pw";
    const TOKEN: &str = "ya29.s3cr3t-token";
    let mut shown = Vec::new();

    let pw_creds = ClientCredentials::password("tim", PW.to_string()).with_authzid("boss");
    let tok_creds = ClientCredentials::oauth("tim@example.com", Secret::new(TOKEN.to_string()))
        .with_host("h", 993);
    shown.push(format!("{pw_creds:?} {tok_creds:#?}"));

    for mechanism in [Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5] {
        let mut client = ClientExchange::new(mechanism, pw_creds.clone()).expect("ok");
        shown.push(format!("{client:?}"));
        let _ = client.respond(CHALLENGE.as_bytes());
        let _ = client.respond(b"Password:");
        shown.push(format!("{client:#?}"));
    }
    for mechanism in [Mechanism::XOAuth2, Mechanism::OAuthBearer] {
        let mut client = ClientExchange::new(mechanism.clone(), tok_creds.clone()).expect("ok");
        let ir = client.initial_response().expect("client-first");
        shown.push(format!(
            "{:?}",
            decode_response(encode_response(&ir).as_bytes(), MAX)
        ));
        let mut s = server(mechanism);
        let step = s.start(Some(&ir));
        shown.push(format!("{step:?} {step:#?} {s:?}"));
        let _ = client.respond(b"{\"status\":\"401\"}");
        shown.push(format!("{client:?}"));
    }

    let mut s = server(Mechanism::Plain);
    let step = s.start(Some(format!("boss\0tim\0{PW}").as_bytes()));
    if let Step::Done(credentials) = &step {
        shown.push(format!("{credentials:?} {:?}", credentials.username()));
    }
    shown.push(format!("{step:?}"));

    let mut s = server(Mechanism::Login);
    let _ = s.start(Some(b"tim"));
    let step = s.step(PW.as_bytes());
    shown.push(format!("{step:#?} {s:?}"));

    let mut client = password(Mechanism::CramMd5);
    let answer = client.respond(CHALLENGE.as_bytes()).expect("digest");
    let digest = String::from_utf8(answer.clone()).expect("ASCII");
    let digest = digest
        .rsplit(' ')
        .next()
        .expect("username SP digest")
        .to_string();
    let mut s = server(Mechanism::CramMd5);
    let _ = s.start(None);
    shown.push(format!("{:?}", s.step(&answer)));

    let all = shown.join("\n");
    assert!(!all.contains(PW), "{all}");
    assert!(!all.contains("tanstaaf"), "{all}");
    assert!(!all.contains(TOKEN), "{all}");
    assert!(!all.contains("s3cr3t"), "{all}");
    assert!(!all.contains(&digest), "{all}");
    // The Debug output is still useful: usernames show.
    assert!(all.contains("tim"), "{all}");
}
