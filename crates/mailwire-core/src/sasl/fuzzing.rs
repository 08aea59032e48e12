//! Checks for the `core_sasl` fuzz target (and the test that replays its corpus).
//!
//! Not part of the public API.

use super::{
    ClientCredentials, ClientExchange, Credentials, Mechanism, OAuthError, Response, SaslError,
    ServerExchange, ServerOptions, Step, decode_challenge, decode_response, encode_challenge,
    encode_initial_response, encode_response,
};

const CHALLENGE: &str = "<1896.697170952@postoffice.reston.mci.net>";

/// Runs every check on one fuzz input; panics if an invariant breaks.
///
/// The first byte picks the mechanism, the second holds flags (bit 0: the first message
/// is an initial response; bit 1: a small response limit); the rest is split at `\n`
/// into messages. The messages go to: the base64 decoders (round trip), a server exchange
/// (no panic, consistent finishing, sane credentials), a client exchange as challenges
/// (no panic), and the last two, taken as username and secret, to a full client-server
/// exchange that must agree.
pub fn check(data: &[u8]) {
    let (mechanism, flags, rest) = match data {
        [m, f, rest @ ..] => (pick(*m), *f, rest),
        _ => return,
    };
    let max = if flags & 2 != 0 { 16 } else { 1024 };
    let messages: Vec<&[u8]> = rest.split(|&b| b == b'\n').collect();

    for message in &messages {
        check_wire(message, max);
    }
    check_server(&mechanism, flags & 1 != 0, &messages, max);
    check_client(&mechanism, &messages);
    if let [.., user, secret] = messages.as_slice() {
        check_pair(&mechanism, user, secret, flags & 1 != 0);
    }
}

fn pick(byte: u8) -> Mechanism {
    let all = Mechanism::SUPPORTED;
    all.get(usize::from(byte) % all.len())
        .cloned()
        .unwrap_or(Mechanism::Plain)
}

fn check_wire(line: &[u8], max: usize) {
    match decode_response(line, max) {
        Ok(Response::Data(data)) => {
            assert!(data.len() <= max, "decoded past the limit");
            let again = decode_response(encode_response(&data).as_bytes(), max);
            assert_eq!(
                again,
                Ok(Response::Data(data.clone())),
                "response round trip"
            );
            let again = decode_response(encode_initial_response(&data).as_bytes(), max);
            assert_eq!(
                again,
                Ok(Response::Data(data)),
                "initial response round trip"
            );
        }
        Ok(Response::Cancel) => assert_eq!(line, b"*"),
        Err(SaslError::InvalidBase64 | SaslError::TooLong { .. }) => {}
        Err(other) => panic!("unexpected decode error {other:?}"),
    }
    if let Ok(challenge) = decode_challenge(line, max) {
        let again = decode_challenge(encode_challenge(&challenge).as_bytes(), max);
        assert_eq!(again, Ok(challenge), "challenge round trip");
    }
}

fn server_options(max: usize) -> ServerOptions {
    ServerOptions {
        cram_md5_challenge: Some(CHALLENGE.to_string()),
        max_response_len: max,
    }
}

fn check_server(mechanism: &Mechanism, initial: bool, messages: &[&[u8]], max: usize) {
    let Ok(mut server) = ServerExchange::new(mechanism.clone(), server_options(max)) else {
        panic!("every supported mechanism has a server");
    };
    let mut messages = messages.iter();
    let mut step = if initial {
        server.start(messages.next().copied())
    } else {
        server.start(None)
    };
    loop {
        match step {
            Step::Challenge(_) => assert!(!server.is_finished()),
            Step::Done(credentials) => {
                check_credentials(mechanism, &credentials);
                if let Credentials::OAuth(_) = credentials {
                    let json = OAuthError::new("invalid_token").to_json();
                    assert_eq!(server.fail_with(&json), Step::Challenge(json));
                    assert_eq!(server.step(b"\x01"), Step::Failed(SaslError::Rejected));
                }
                break;
            }
            Step::Failed(_) => {
                assert!(server.is_finished());
                break;
            }
        }
        match messages.next() {
            Some(message) => step = server.step(message),
            None => return,
        }
    }
    assert!(
        server.is_finished() || matches!(mechanism, Mechanism::XOAuth2 | Mechanism::OAuthBearer)
    );
    assert!(matches!(server.step(b"late"), Step::Failed(_)));
    assert!(server.is_finished());
}

fn check_credentials(mechanism: &Mechanism, credentials: &Credentials) {
    assert_eq!(&credentials.mechanism(), mechanism);
    match credentials {
        Credentials::Password(c) => {
            assert!(!c.authcid.is_empty() && !c.authcid.contains('\0'));
            assert!(!c.password.expose().is_empty() && !c.password.expose().contains('\0'));
        }
        Credentials::CramMd5(c) => assert!(!c.username.is_empty()),
        Credentials::OAuth(c) => {
            if *mechanism == Mechanism::XOAuth2 {
                assert!(c.user.is_some() && !c.token.expose().is_empty());
            }
            assert!(c.token.expose().bytes().all(|b| b.is_ascii_graphic()));
        }
    }
}

fn check_client(mechanism: &Mechanism, challenges: &[&[u8]]) {
    let credentials = match mechanism {
        Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
            ClientCredentials::oauth("user@example.com", "t0k3n".to_string())
        }
        _ => ClientCredentials::password("tim", "tanstaaftanstaaf".to_string()),
    };
    let Ok(mut client) = ClientExchange::new(mechanism.clone(), credentials) else {
        panic!("valid credentials are accepted");
    };
    let mut failed = false;
    for challenge in challenges {
        let answer = client.respond(challenge);
        if failed {
            assert!(answer.is_err(), "an exchange that failed stays failed");
        }
        failed |= answer.is_err();
    }
}

/// A full exchange with `user` and `secret` as credentials, if the mechanism can carry
/// them: the server must see exactly what the client holds.
fn check_pair(mechanism: &Mechanism, user: &[u8], secret: &[u8], initial: bool) {
    let (Ok(user), Ok(secret)) = (std::str::from_utf8(user), std::str::from_utf8(secret)) else {
        return;
    };
    let oauth = matches!(mechanism, Mechanism::XOAuth2 | Mechanism::OAuthBearer);
    let credentials = if oauth {
        ClientCredentials::oauth(user, secret.to_string())
    } else {
        ClientCredentials::password(user, secret.to_string())
    };
    let Ok(client) = ClientExchange::new(mechanism.clone(), credentials) else {
        return;
    };
    let max = 4096;
    match run_exchange(client, server_options(max), initial, max) {
        Ok(Credentials::Password(c)) => {
            assert_eq!(
                (c.authcid.as_str(), c.password.expose().as_str()),
                (user, secret)
            );
        }
        Ok(Credentials::CramMd5(c)) => {
            assert_eq!(c.username, user);
            assert!(c.verify(secret));
        }
        Ok(Credentials::OAuth(c)) => {
            assert_eq!(
                (c.user.as_deref(), c.token.expose().as_str()),
                (Some(user), secret)
            );
        }
        Err(SaslError::TooLong { .. }) => assert!(user.len() + secret.len() > max / 2),
        Err(error) => panic!("client and server disagree on {user:?}: {error:?}"),
    }
}

/// Drives `client` against a server through the base64 wire encoding, as a protocol
/// would, and returns what the server concluded.
pub fn run_exchange(
    mut client: ClientExchange,
    options: ServerOptions,
    use_initial_response: bool,
    max: usize,
) -> Result<Credentials, SaslError> {
    let mut server = ServerExchange::new(client.mechanism().clone(), options)?;
    let initial = if use_initial_response {
        client.initial_response()
    } else {
        None
    };
    let mut step = match initial {
        Some(response) => {
            let wire = encode_initial_response(&response);
            match decode_response(wire.as_bytes(), max)? {
                Response::Data(data) => server.start(Some(&data)),
                Response::Cancel => return Err(SaslError::Cancelled),
            }
        }
        None => server.start(None),
    };
    for _round in 0..8 {
        match step {
            Step::Challenge(challenge) => {
                let wire = encode_challenge(&challenge);
                let answer = client.respond(&decode_challenge(wire.as_bytes(), max)?)?;
                let wire = encode_response(&answer);
                step = match decode_response(wire.as_bytes(), max)? {
                    Response::Data(data) => server.step(&data),
                    Response::Cancel => return Err(SaslError::Cancelled),
                };
            }
            Step::Done(credentials) => return Ok(credentials),
            Step::Failed(error) => return Err(error),
        }
    }
    panic!("no mechanism takes more than a few rounds");
}
