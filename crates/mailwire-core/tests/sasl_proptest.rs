//! Property tests: no input makes an exchange panic; base64 round trips; client and
//! server agree on arbitrary credentials for every mechanism.
//!
//! (SASL messages arrive as whole lines already framed by `mailwire_core::line`, so there
//! is no chunking to vary here: the framer's own tests cover split input.)

use mailwire_core::sasl::{
    ClientCredentials, ClientExchange, Credentials, Mechanism, Response, SaslError, ServerExchange,
    ServerOptions, Step, decode_challenge, decode_response, encode_challenge,
    encode_initial_response, encode_response,
};
use proptest::prelude::*;

const CHALLENGE: &str = "<12345.67890@mail.example.org>";

fn mechanism() -> impl Strategy<Value = Mechanism> {
    prop::sample::select(Mechanism::SUPPORTED.to_vec())
}

fn options(max: usize) -> ServerOptions {
    ServerOptions {
        cram_md5_challenge: Some(CHALLENGE.to_string()),
        max_response_len: max,
    }
}

/// Bytes that look like SASL messages often enough to get past the first checks.
fn message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        prop::collection::vec(
            prop::sample::select(b"\0\x01,=a nBeartimuspoh0123456789:".to_vec()),
            0..80
        ),
        Just(b"n,a=u,\x01auth=Bearer t\x01\x01".to_vec()),
        Just(b"user=u\x01auth=Bearer t\x01\x01".to_vec()),
        Just(b"\0tim\0pw".to_vec()),
    ]
}

/// Runs `client` against a server through the wire encoding; what the server concluded.
fn exchange(mut client: ClientExchange, ir: bool, max: usize) -> Result<Credentials, SaslError> {
    let mut server = ServerExchange::new(client.mechanism().clone(), options(max))?;
    let mut step = match client.initial_response().filter(|_| ir) {
        Some(initial) => {
            match decode_response(encode_initial_response(&initial).as_bytes(), max)? {
                Response::Data(data) => server.start(Some(&data)),
                Response::Cancel => return Err(SaslError::Cancelled),
            }
        }
        None => server.start(None),
    };
    for _ in 0..4 {
        match step {
            Step::Challenge(challenge) => {
                let challenge = decode_challenge(encode_challenge(&challenge).as_bytes(), max)?;
                let answer = client.respond(&challenge)?;
                step = match decode_response(encode_response(&answer).as_bytes(), max)? {
                    Response::Data(data) => server.step(&data),
                    Response::Cancel => return Err(SaslError::Cancelled),
                };
            }
            Step::Done(credentials) => return Ok(credentials),
            Step::Failed(error) => return Err(error),
        }
    }
    panic!("an exchange took more than four rounds");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn server_survives_any_messages(
        mechanism in mechanism(),
        initial in prop::option::of(message()),
        steps in prop::collection::vec(message(), 0..5),
        max in prop_oneof![Just(8usize), Just(64), Just(4096)],
    ) {
        let mut server = ServerExchange::new(mechanism.clone(), options(max)).expect("supported");
        let mut step = server.start(initial.as_deref());
        for message in &steps {
            match &step {
                Step::Failed(_) => prop_assert!(server.is_finished()),
                Step::Challenge(_) => prop_assert!(!server.is_finished()),
                Step::Done(credentials) => {
                    prop_assert_eq!(credentials.mechanism(), mechanism.clone());
                    if let Credentials::Password(c) = credentials {
                        prop_assert!(!c.authcid.is_empty() && !c.password.expose().is_empty());
                    }
                }
            }
            let was_finished = server.is_finished();
            step = server.step(message);
            if was_finished {
                prop_assert_eq!(&step, &Step::Failed(SaslError::OutOfOrder));
            }
            if message.len() > max && !was_finished {
                prop_assert!(matches!(step, Step::Failed(_)), "over-long message accepted");
            }
        }
    }

    #[test]
    fn client_survives_any_challenges(
        mechanism in mechanism(),
        challenges in prop::collection::vec(message(), 0..5),
    ) {
        let credentials = match mechanism {
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
                ClientCredentials::oauth("u@example.com", "tok".to_string())
            }
            _ => ClientCredentials::password("u", "pw".to_string()),
        };
        let mut client = ClientExchange::new(mechanism, credentials).expect("valid");
        let mut failed = false;
        for challenge in &challenges {
            let answer = client.respond(challenge);
            prop_assert!(!(failed && answer.is_ok()), "answered after failing");
            failed |= answer.is_err();
        }
    }

    #[test]
    fn any_line_decodes_or_errs_and_round_trips(line in prop::collection::vec(any::<u8>(), 0..300)) {
        match decode_response(&line, 128) {
            Ok(Response::Data(data)) => {
                prop_assert!(data.len() <= 128);
                prop_assert_eq!(
                    decode_response(encode_response(&data).as_bytes(), 128),
                    Ok(Response::Data(data))
                );
            }
            Ok(Response::Cancel) => prop_assert_eq!(&line[..], b"*"),
            Err(error) => {
                let expected = matches!(error, SaslError::InvalidBase64 | SaslError::TooLong { .. });
                prop_assert!(expected, "unexpected error {:?}", error);
            }
        }
    }

    #[test]
    fn base64_round_trips(data in prop::collection::vec(any::<u8>(), 0..600)) {
        let max = 600;
        prop_assert_eq!(
            decode_response(encode_response(&data).as_bytes(), max),
            Ok(Response::Data(data.clone()))
        );
        prop_assert_eq!(
            decode_response(encode_initial_response(&data).as_bytes(), max),
            Ok(Response::Data(data.clone()))
        );
        prop_assert_eq!(decode_challenge(encode_challenge(&data).as_bytes(), max), Ok(data.clone()));
        // Padding stripped by a sloppy peer is tolerated.
        let unpadded = encode_response(&data);
        prop_assert_eq!(
            decode_response(unpadded.trim_end_matches('=').as_bytes(), max),
            Ok(Response::Data(data))
        );
    }

    #[test]
    fn password_mechanisms_agree(
        mechanism in prop::sample::select(vec![Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5]),
        user in "\\PC{1,40}",
        password in "\\PC{1,40}",
        authzid in prop::option::of("\\PC{1,20}"),
        ir in any::<bool>(),
    ) {
        let mut credentials = ClientCredentials::password(user.clone(), password.clone());
        if let Some(authzid) = &authzid {
            credentials = credentials.with_authzid(authzid.clone());
        }
        let client = ClientExchange::new(mechanism.clone(), credentials).expect("printable, no NUL");
        match exchange(client, ir, 4096) {
            Ok(Credentials::Password(claim)) => {
                prop_assert_eq!(&claim.authcid, &user);
                prop_assert_eq!(claim.password.expose(), &password);
                let expected = if mechanism == Mechanism::Plain { authzid } else { None };
                prop_assert_eq!(claim.authzid, expected);
            }
            Ok(Credentials::CramMd5(claim)) => {
                prop_assert_eq!(&claim.username, &user);
                prop_assert!(claim.verify(&password));
                let wrong = format!("{password}x");
                prop_assert!(!claim.verify(&wrong));
            }
            other => prop_assert!(false, "{mechanism}: {other:?}"),
        }
    }

    #[test]
    fn oauth_mechanisms_agree(
        mechanism in prop::sample::select(vec![Mechanism::XOAuth2, Mechanism::OAuthBearer]),
        user in "\\PC{1,40}",
        token in "[!-~]{1,200}",
        host in prop::option::of(("[a-z0-9.-]{1,30}", 1u16..)),
        ir in any::<bool>(),
    ) {
        let mut credentials = ClientCredentials::oauth(user.clone(), token.clone());
        if let Some((host, port)) = &host {
            credentials = credentials.with_host(host.clone(), *port);
        }
        let client = ClientExchange::new(mechanism.clone(), credentials).expect("valid");
        match exchange(client, ir, 4096) {
            Ok(Credentials::OAuth(claim)) => {
                prop_assert_eq!(claim.user.as_deref(), Some(user.as_str()));
                prop_assert_eq!(claim.token.expose(), &token);
                if mechanism == Mechanism::OAuthBearer {
                    prop_assert_eq!(claim.host, host.clone().map(|(h, _)| h));
                    prop_assert_eq!(claim.port, host.map(|(_, p)| p));
                }
            }
            other => prop_assert!(false, "{mechanism}: {other:?}"),
        }
    }
}
