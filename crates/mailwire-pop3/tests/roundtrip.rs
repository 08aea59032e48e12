//! decode(encode(x)) == x for every wire type, and chunk-split decoding of commands.

use mailwire_core::sasl::Mechanism;
use mailwire_pop3::parse::{
    CommandOptions, ServerLine, decode_command, parse_capability, parse_command, parse_response,
    parse_scan_listing, parse_server_line, parse_uid_listing,
};
use mailwire_pop3::types::{
    ApopDigest, Arg, Capability, Command, ExpirePolicy, Password, Response, ResponseCode,
    ScanListing, Status, Text, Uid, UidListing,
};
use proptest::prelude::*;

fn arg() -> impl Strategy<Value = Arg> {
    "[!-~\u{e9}\u{4e2d}]{1,40}".prop_map(|s| Arg::new(s).unwrap())
}

fn mechanism() -> impl Strategy<Value = Mechanism> {
    prop_oneof![
        proptest::sample::select(Mechanism::SUPPORTED.to_vec()),
        "[A-Z0-9_-]{1,20}".prop_map(|s| Mechanism::from_name(&s).unwrap()),
    ]
}

fn number() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..10, any::<u32>()]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        arg().prop_map(Command::User),
        "[ -~\u{e9}]{1,100}".prop_map(|p| Command::Pass(Password::new(p).unwrap())),
        (arg(), any::<[u8; 16]>()).prop_map(|(name, d)| Command::Apop {
            name,
            digest: ApopDigest(d)
        }),
        (
            mechanism(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..100))
        )
            .prop_map(|(mechanism, ir)| Command::Auth {
                mechanism,
                initial_response: ir.map(Into::into),
            }),
        Just(Command::Stat),
        proptest::option::of(number()).prop_map(Command::List),
        number().prop_map(Command::Retr),
        number().prop_map(Command::Dele),
        Just(Command::Noop),
        Just(Command::Rset),
        Just(Command::Quit),
        (number(), number()).prop_map(|(msg, lines)| Command::Top { msg, lines }),
        proptest::option::of(number()).prop_map(Command::Uidl),
        Just(Command::Capa),
        Just(Command::Stls),
        Just(Command::Utf8),
        proptest::option::of(arg()).prop_map(Command::Lang),
    ]
}

fn code() -> impl Strategy<Value = ResponseCode> {
    prop_oneof![
        Just(ResponseCode::InUse),
        Just(ResponseCode::LoginDelay),
        Just(ResponseCode::SysTemp),
        Just(ResponseCode::SysPerm),
        Just(ResponseCode::Auth),
        Just(ResponseCode::Utf8),
        "[A-Z!-.0-9]{1,8}(/[a-z0-9]{1,8}){0,2}".prop_map(|s| ResponseCode::new(&s).unwrap()),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    (
        prop_oneof![Just(Status::Ok), Just(Status::Err)],
        proptest::option::of(code()),
        "[ -~\u{e9}\t]{0,80}",
    )
        .prop_filter_map("text looks like a code", |(status, code, text)| {
            Response::new(status, code, &text).ok()
        })
}

fn capability() -> impl Strategy<Value = Capability> {
    let known = [
        "TOP",
        "USER",
        "SASL",
        "STLS",
        "UIDL",
        "PIPELINING",
        "RESP-CODES",
        "AUTH-RESP-CODE",
        "EXPIRE",
        "LOGIN-DELAY",
        "IMPLEMENTATION",
        "UTF8",
        "LANG",
    ];
    prop_oneof![
        Just(Capability::Top),
        Just(Capability::User),
        proptest::collection::vec(mechanism(), 0..4).prop_map(Capability::Sasl),
        Just(Capability::Stls),
        Just(Capability::Uidl),
        Just(Capability::Pipelining),
        Just(Capability::RespCodes),
        Just(Capability::AuthRespCode),
        Just(Capability::Lang),
        (
            prop_oneof![
                Just(ExpirePolicy::Never),
                any::<u32>().prop_map(ExpirePolicy::Days)
            ],
            any::<bool>()
        )
            .prop_map(|(policy, per_user)| Capability::Expire { policy, per_user }),
        (any::<u32>(), any::<bool>())
            .prop_map(|(seconds, per_user)| Capability::LoginDelay { seconds, per_user }),
        "[ -~]{0,60}".prop_map(|t| Capability::Implementation(Text::new(t).unwrap())),
        any::<bool>().prop_map(|user| Capability::Utf8 { user }),
        (
            "[A-Z][A-Z0-9-]{0,15}",
            proptest::collection::vec(arg(), 0..4)
        )
            .prop_filter("a known tag", move |(name, _)| !known
                .contains(&name.as_str()))
            .prop_map(|(name, params)| Capability::Other {
                name: Arg::new(name).unwrap(),
                params,
            }),
    ]
}

fn strip_crlf(wire: &[u8]) -> &[u8] {
    wire.strip_suffix(b"\r\n")
        .expect("every line ends with CRLF")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn command_roundtrip(command in command()) {
        let wire = command.to_bytes();
        prop_assert!(!strip_crlf(&wire).contains(&b'\n') && !strip_crlf(&wire).contains(&b'\r'));
        let options = CommandOptions::new(1000, 40);
        prop_assert_eq!(parse_command(strip_crlf(&wire), &options), Ok(command.clone()));
        // Any split: a prefix is "need more bytes", the whole line is the command.
        for cut in 0..wire.len() {
            prop_assert_eq!(decode_command(&wire[..cut], &options), Ok(None));
        }
        prop_assert_eq!(decode_command(&wire, &options), Ok(Some((command, wire.len()))));
    }

    #[test]
    fn response_roundtrip(response in response()) {
        let wire = response.to_bytes();
        prop_assert_eq!(parse_response(strip_crlf(&wire)), Ok(response.clone()));
        prop_assert_eq!(parse_server_line(strip_crlf(&wire)), Ok(ServerLine::Response(response)));
    }

    #[test]
    fn continuation_roundtrip(challenge in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut wire = Vec::new();
        mailwire_pop3::encode::encode_continuation(&challenge, &mut wire);
        let Ok(ServerLine::Continuation(text)) = parse_server_line(strip_crlf(&wire)) else {
            panic!("not a continuation");
        };
        let back = mailwire_core::sasl::decode_challenge(text.as_bytes(), 1000).unwrap();
        prop_assert_eq!(back, challenge);
    }

    #[test]
    fn capability_roundtrip(capability in capability()) {
        let mut wire = Vec::new();
        capability.encode(&mut wire);
        prop_assert!(!wire.starts_with(b"."));
        prop_assert_eq!(parse_capability(strip_crlf(&wire)), Ok(capability));
    }

    #[test]
    fn listing_roundtrip(msg in any::<u32>(), size in any::<u64>(), uid in "[!-~]{1,70}") {
        let scan = ScanListing { msg, size };
        let mut wire = Vec::new();
        scan.encode(&mut wire);
        prop_assert_eq!(parse_scan_listing(strip_crlf(&wire)), Ok(scan));
        let listing = UidListing { msg, uid: Uid::new(uid).unwrap() };
        let mut wire = Vec::new();
        listing.encode(&mut wire);
        prop_assert_eq!(parse_uid_listing(strip_crlf(&wire)), Ok(listing));
    }

    #[test]
    fn command_parser_never_panics(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_command(&line, &CommandOptions::default());
        let _ = parse_server_line(&line);
        let _ = parse_capability(&line);
    }
}

#[test]
fn values_refuse_line_breaks() {
    assert!(Arg::new("a\r\nQUIT").is_err());
    assert!(Arg::new("a b").is_err());
    assert!(Text::new("ok\r\n+OK").is_err());
    assert!(Password::new("x\nDELE 1").is_err());
    assert!(Uid::new("a b").is_err());
    assert!(Response::new(Status::Ok, None, "[IN-USE] sneaky").is_err());
    assert!(Response::new(Status::Ok, None, "[not a code").is_ok());
}

#[test]
fn limits_of_rfc_2449() {
    let options = CommandOptions::default();
    let long_arg = format!("USER {}", "a".repeat(41));
    assert_eq!(
        parse_command(long_arg.as_bytes(), &options),
        Err(mailwire_pop3::parse::CommandError::ArgumentTooLong)
    );
    let ok_arg = format!("USER {}", "a".repeat(40));
    assert!(parse_command(ok_arg.as_bytes(), &options).is_ok());
    let long_line = format!("PASS {}", "a".repeat(249)); // 254 + CRLF = 256 octets
    assert_eq!(
        parse_command(long_line.as_bytes(), &options),
        Err(mailwire_pop3::parse::CommandError::LineTooLong)
    );
    let mut wire = long_line.into_bytes();
    wire.truncate(253);
    assert_eq!(
        decode_command(&wire, &options),
        Ok(None),
        "253 octets may still end well"
    );
    wire.push(b'x');
    assert_eq!(
        decode_command(&wire, &options),
        Err(mailwire_pop3::parse::CommandError::LineTooLong)
    );
}
