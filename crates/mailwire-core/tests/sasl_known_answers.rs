//! Known-answer tests: the examples of RFC 2195, RFC 4616, RFC 4954 and RFC 7628, byte for
//! byte, through the same base64 helpers the protocol crates use.

use mailwire_core::sasl::{
    ClientCredentials, ClientExchange, Credentials, DEFAULT_MAX_RESPONSE_LEN, Mechanism,
    OAuthError, Response, SaslError, ServerExchange, ServerOptions, Step, decode_challenge,
    decode_response, encode_challenge, encode_initial_response, encode_response,
};

const MAX: usize = DEFAULT_MAX_RESPONSE_LEN;

fn data(line: &str) -> Vec<u8> {
    match decode_response(line.as_bytes(), MAX) {
        Ok(Response::Data(data)) => data,
        other => panic!("{line:?} is not a data line: {other:?}"),
    }
}

fn cram_options(challenge: &str) -> ServerOptions {
    ServerOptions {
        cram_md5_challenge: Some(challenge.to_string()),
        ..ServerOptions::default()
    }
}

/// RFC 2195 section 2: `S: + PDE4...` / `C: dGltIGI5...`, secret `tanstaaftanstaaf`.
#[test]
fn rfc2195_cram_md5_server() {
    let mut server = ServerExchange::new(
        Mechanism::CramMd5,
        cram_options("<1896.697170952@postoffice.reston.mci.net>"),
    )
    .expect("CRAM-MD5 with a challenge");
    let Step::Challenge(challenge) = server.start(None) else {
        panic!("CRAM-MD5 starts with the challenge");
    };
    assert_eq!(
        encode_challenge(&challenge),
        "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
    );
    let step = server.step(&data("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"));
    let Step::Done(Credentials::CramMd5(claim)) = step else {
        panic!("the RFC response is valid: {step:?}");
    };
    assert_eq!(claim.username, "tim");
    assert_eq!(
        claim.challenge(),
        "<1896.697170952@postoffice.reston.mci.net>"
    );
    assert!(claim.verify("tanstaaftanstaaf"));
    assert!(!claim.verify("tanstaaftanstaa"));
    assert!(!claim.verify(""));
    assert!(server.is_finished());
}

#[test]
fn rfc2195_cram_md5_client() {
    let mut client = ClientExchange::new(
        Mechanism::CramMd5,
        ClientCredentials::password("tim", "tanstaaftanstaaf".to_string()),
    )
    .expect("password credentials fit CRAM-MD5");
    assert_eq!(client.initial_response(), None);
    let challenge = decode_challenge(
        b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
        MAX,
    )
    .expect("valid base64");
    let answer = client.respond(&challenge).expect("first challenge");
    assert_eq!(answer, b"tim b913a602c7eda7a495b4e6e7334d3890");
    assert_eq!(
        encode_response(&answer),
        "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"
    );
    // One challenge only.
    assert_eq!(
        client.respond(b"<again@example>"),
        Err(SaslError::Unexpected {
            mechanism: Mechanism::CramMd5
        })
    );
}

/// RFC 4954 section 7: the CRAM-MD5 example (the secret is not given; the username and
/// the digest's binding to the challenge are checked).
#[test]
fn rfc4954_cram_md5_example_parses() {
    let challenge = decode_challenge(
        b"PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4=",
        MAX,
    )
    .expect("valid base64");
    let challenge = String::from_utf8(challenge).expect("ASCII challenge");
    assert_eq!(challenge, "<4192942341.12828472@sourcefour.andrew.cmu.edu>");
    let mut server =
        ServerExchange::new(Mechanism::CramMd5, cram_options(&challenge)).expect("valid");
    assert_eq!(server.start(None), Step::Challenge(challenge.into_bytes()));
    let step = server.step(&data(
        "cmpzMyBlYzNhNTlmZWQzOTVhYmExZWM2MzY3YzRmNGI0MWFjMA==",
    ));
    let Step::Done(Credentials::CramMd5(claim)) = step else {
        panic!("valid response: {step:?}");
    };
    assert_eq!(claim.username, "rjs3");
    assert!(!claim.verify("tanstaaftanstaaf"));
}

/// RFC 4954 section 7: `AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=` and the same without the initial
/// response after an empty `334`.
#[test]
fn rfc4954_plain_examples() {
    for with_initial_response in [true, false] {
        let mut server =
            ServerExchange::new(Mechanism::Plain, ServerOptions::default()).expect("PLAIN");
        let step = if with_initial_response {
            server.start(Some(&data("dGVzdAB0ZXN0ADEyMzQ=")))
        } else {
            let Step::Challenge(challenge) = server.start(None) else {
                panic!("empty challenge expected");
            };
            assert_eq!(encode_challenge(&challenge), "", "S: 334 with no text");
            server.step(&data("dGVzdAB0ZXN0ADEyMzQ="))
        };
        let Step::Done(Credentials::Password(claim)) = step else {
            panic!("valid PLAIN: {step:?}");
        };
        assert_eq!(claim.mechanism, Mechanism::Plain);
        assert_eq!(claim.authzid.as_deref(), Some("test"));
        assert_eq!(claim.authcid, "test");
        assert_eq!(claim.password.expose(), "1234");
    }
    let client = ClientExchange::new(
        Mechanism::Plain,
        ClientCredentials::password("test", "1234".to_string()).with_authzid("test"),
    )
    .expect("valid");
    let initial = client.initial_response().expect("PLAIN is client-first");
    assert_eq!(encode_initial_response(&initial), "dGVzdAB0ZXN0ADEyMzQ=");
}

/// RFC 4616 section 4, both examples.
#[test]
fn rfc4616_examples() {
    // `<NUL>tim<NUL>tanstaaftanstaaf` after an empty challenge.
    let mut server =
        ServerExchange::new(Mechanism::Plain, ServerOptions::default()).expect("PLAIN");
    assert_eq!(server.start(None), Step::Challenge(Vec::new()));
    let step = server.step(b"\0tim\0tanstaaftanstaaf");
    let Step::Done(Credentials::Password(claim)) = step else {
        panic!("valid PLAIN: {step:?}");
    };
    assert_eq!(claim.authzid, None);
    assert_eq!(claim.authcid, "tim");
    assert_eq!(claim.password.expose(), "tanstaaftanstaaf");
    // The application's verdict for the non-OAuth mechanisms needs no further step.
    assert!(server.is_finished());

    // `Ursel<NUL>Kurt<NUL>xipj3plmq` as initial response; the server refuses the authzid.
    let mut server =
        ServerExchange::new(Mechanism::Plain, ServerOptions::default()).expect("PLAIN");
    let step = server.start(Some(b"Ursel\0Kurt\0xipj3plmq"));
    let Step::Done(Credentials::Password(claim)) = step else {
        panic!("valid PLAIN: {step:?}");
    };
    assert_eq!(claim.authzid.as_deref(), Some("Ursel"));
    assert_eq!(claim.authcid, "Kurt");
    assert_eq!(claim.password.expose(), "xipj3plmq");
    assert_eq!(server.fail_with(b""), Step::Failed(SaslError::Rejected));

    // And the client makes exactly these messages.
    let client = ClientExchange::new(
        Mechanism::Plain,
        ClientCredentials::password("Kurt", "xipj3plmq".to_string()).with_authzid("Ursel"),
    )
    .expect("valid");
    assert_eq!(
        client.initial_response().as_deref(),
        Some(&b"Ursel\0Kurt\0xipj3plmq"[..])
    );
    let mut client = ClientExchange::new(
        Mechanism::Plain,
        ClientCredentials::password("tim", "tanstaaftanstaaf".to_string()),
    )
    .expect("valid");
    assert_eq!(
        client.respond(b"").expect("empty challenge"),
        b"\0tim\0tanstaaftanstaaf"
    );
}

const RFC7628_TOKEN: &str = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";

/// RFC 7628 section 4.1: the IMAP and SMTP initial responses, made and parsed.
#[test]
fn rfc7628_successful_bearer_exchange() {
    for (port, wire) in [
        (
            143,
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB",
        ),
        (
            587,
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9NTg3AWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB",
        ),
    ] {
        let client = ClientExchange::new(
            Mechanism::OAuthBearer,
            ClientCredentials::oauth("user@example.com", RFC7628_TOKEN.to_string())
                .with_host("server.example.com", port),
        )
        .expect("valid");
        let initial = client.initial_response().expect("client-first");
        assert_eq!(encode_initial_response(&initial), wire);

        let mut server =
            ServerExchange::new(Mechanism::OAuthBearer, ServerOptions::default()).expect("ok");
        let step = server.start(Some(&data(wire)));
        let Step::Done(Credentials::OAuth(claim)) = step else {
            panic!("valid OAUTHBEARER: {step:?}");
        };
        assert_eq!(claim.mechanism, Mechanism::OAuthBearer);
        assert_eq!(claim.user.as_deref(), Some("user@example.com"));
        assert_eq!(claim.host.as_deref(), Some("server.example.com"));
        assert_eq!(claim.port, Some(port));
        assert_eq!(claim.token.expose(), RFC7628_TOKEN);
    }
}

/// RFC 7628 section 4.3: an empty `auth=` (discovery), the server's JSON error, the `AQ==`
/// dummy response, then failure.
#[test]
fn rfc7628_failed_exchange() {
    let mut server =
        ServerExchange::new(Mechanism::OAuthBearer, ServerOptions::default()).expect("ok");
    let step = server.start(Some(&data(
        "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9AQE=",
    )));
    let Step::Done(Credentials::OAuth(claim)) = step else {
        panic!("the discovery form parses: {step:?}");
    };
    assert_eq!(claim.user.as_deref(), Some("user@example.com"));
    assert_eq!(
        claim.token.expose(),
        "",
        "empty auth= is the discovery form"
    );
    assert!(!server.is_finished(), "the application must decide");

    let rfc_challenge = "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=";
    let error = OAuthError::new("invalid_token")
        .with_scope("example_scope")
        .with_openid_configuration("https://example.com/.well-known/openid-configuration");
    let Step::Challenge(challenge) = server.fail_with(&error.to_json()) else {
        panic!("OAUTHBEARER fails through an error challenge");
    };
    assert_eq!(encode_challenge(&challenge), rfc_challenge);

    // The client answers with AQ== and keeps the error for the application.
    let mut client = ClientExchange::new(
        Mechanism::OAuthBearer,
        ClientCredentials::oauth("user@example.com", "expired".to_string()),
    )
    .expect("valid");
    let challenge = decode_challenge(rfc_challenge.as_bytes(), MAX).expect("valid base64");
    let answer = client.respond(&challenge).expect("error challenge");
    assert_eq!(encode_response(&answer), "AQ==");
    assert_eq!(client.server_error(), Some(&error.to_json()[..]));
    assert!(
        client.respond(b"").is_err(),
        "nothing after the dummy response"
    );

    assert_eq!(
        server.step(&data("AQ==")),
        Step::Failed(SaslError::Rejected)
    );
    assert!(server.is_finished());

    // The IMAP variant cancels with `*` instead of AQ==.
    assert_eq!(decode_response(b"*", MAX), Ok(Response::Cancel));
}

/// RFC 7628 section 4.4 sends `n,user=...,` where RFC 5801 requires `n,a=...,` (a known
/// erratum): it is refused as a malformed GS2 header, cleanly.
#[test]
fn rfc7628_smtp_failure_example_has_a_bad_gs2_header() {
    let mut server =
        ServerExchange::new(Mechanism::OAuthBearer, ServerOptions::default()).expect("ok");
    let step = server.start(Some(&data(
        "bix1c2VyPXNvbWV1c2VyQGV4YW1wbGUuY29tLAFhdXRoPUJlYXJlciB2RjlkZnQ0cW1UYzJOdmIzUmxja0JoZEhSaGRtbHpkR0V1WTI5dENnPT0BAQ==",
    )));
    assert_eq!(
        step,
        Step::Failed(SaslError::Malformed {
            mechanism: Mechanism::OAuthBearer,
            reason: mailwire_core::sasl::MalformedReason::Gs2Header,
        })
    );
}

/// Google's XOAUTH2 documentation example: `user=someuser@example.com^Aauth=Bearer
/// ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg^A^A`.
#[test]
fn xoauth2_google_example() {
    let wire = "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==";
    let client = ClientExchange::new(
        Mechanism::XOAuth2,
        ClientCredentials::oauth(
            "someuser@example.com",
            "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg".to_string(),
        ),
    )
    .expect("valid");
    let initial = client.initial_response().expect("client-first");
    assert_eq!(encode_initial_response(&initial), wire);

    let mut server = ServerExchange::new(Mechanism::XOAuth2, ServerOptions::default()).expect("ok");
    let Step::Done(Credentials::OAuth(claim)) = server.start(Some(&data(wire))) else {
        panic!("valid XOAUTH2");
    };
    assert_eq!(claim.user.as_deref(), Some("someuser@example.com"));
    assert_eq!(
        claim.token.expose(),
        "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
    );
    assert_eq!((claim.host, claim.port), (None, None));
}
