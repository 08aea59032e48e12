//! Property tests for the SMTP reply codec: decode(encode(x)) == x for replies and EHLO
//! replies, any chunking of the input gives the same result, and no input panics.

use mailwire_core::sasl::Mechanism;
use mailwire_smtp::fuzzing;
use mailwire_smtp::parse::{ReplyLimits, parse_reply};
use mailwire_smtp::types::{
    Capabilities, Capability, EhloDomain, EhloReply, EnhancedCode, Reply, ReplyCode, ReplyText,
};
use proptest::prelude::*;

fn reply_code() -> impl Strategy<Value = ReplyCode> {
    (2u16..=5, 0u16..=5, 0u16..=9)
        .prop_map(|(a, b, c)| ReplyCode::new(a * 100 + b * 10 + c).unwrap())
}

/// Line text, including the troublesome cases: empty, leading and trailing spaces, text
/// that itself begins with an enhanced code, tabs, controls and non-ASCII.
fn line_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ -~]{0,40}",
        "[245]\\.[0-9]{1,3}\\.[0-9]{1,3}( [ -~]{0,10})?",
        "[ \t]{0,3}[a-zA-Z0-9 .:<>@\\[\\]-]{0,20}[ \t]{0,3}",
        "\\PC{0,20}",
        "[\u{0}-\u{9}\u{b}\u{c}\u{e}-\u{1f}\u{7f}a-z]{0,10}",
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    (
        reply_code(),
        any::<bool>(),
        0u16..=999,
        0u16..=999,
        prop::collection::vec(line_text(), 1..6),
    )
        .prop_map(|(code, with_enhanced, subject, detail, lines)| {
            let enhanced = (with_enhanced && code.class() != 3)
                .then(|| EnhancedCode::new(code.class(), subject, detail).unwrap());
            Reply::from_parts(code, enhanced, &lines).unwrap()
        })
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9][A-Za-z0-9-]{0,12}",
        "[!-~]{1,12}",
        "[0-9]{1,21}",
        Just("AUTH".to_owned()),
        Just("SIZE".to_owned()),
        Just("auth=".to_owned()),
        Just("PIPELINING".to_owned()),
    ]
}

fn mechanism() -> impl Strategy<Value = Mechanism> {
    "[A-Za-z0-9_-]{1,20}".prop_map(|name| Mechanism::from_name(&name).unwrap())
}

fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        prop::option::of(any::<u64>()).prop_map(Capability::Size),
        Just(Capability::Pipelining),
        Just(Capability::Chunking),
        Just(Capability::BinaryMime),
        Just(Capability::EightBitMime),
        Just(Capability::SmtpUtf8),
        Just(Capability::Dsn),
        Just(Capability::EnhancedStatusCodes),
        Just(Capability::StartTls),
        Just(Capability::RequireTls),
        Just(Capability::Vrfy),
        prop::collection::vec(mechanism(), 0..4).prop_map(Capability::Auth),
        prop::collection::vec(mechanism(), 0..4).prop_map(Capability::AuthLegacy),
        (token(), prop::collection::vec(token(), 0..4))
            .prop_map(|(keyword, params)| Capability::new(&keyword, &params).unwrap()),
    ]
}

fn ehlo_reply() -> impl Strategy<Value = EhloReply> {
    (
        "[a-zA-Z0-9.\\[\\]:-]{1,30}",
        "[ -~]{0,30}",
        prop::collection::vec(capability(), 0..12),
    )
        .prop_filter_map(
            "domain reads as an enhanced code",
            |(domain, greeting, caps)| {
                Some(EhloReply {
                    domain: EhloDomain::new(&domain).ok()?,
                    greeting: ReplyText::try_from(greeting).ok()?,
                    capabilities: caps.into_iter().collect::<Capabilities>(),
                })
            },
        )
}

fn relaxed() -> ReplyLimits {
    ReplyLimits {
        max_line_len: usize::MAX,
        max_lines: usize::MAX,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn reply_round_trip(reply in reply()) {
        let wire = reply.to_bytes();
        prop_assert_eq!(parse_reply(&wire, &relaxed()), Ok(Some((reply.clone(), wire.len()))));
        // Encoding is stable: the parsed value encodes to the same bytes.
        prop_assert_eq!(parse_reply(&wire, &relaxed()).unwrap().unwrap().0.to_bytes(), wire);
    }

    #[test]
    fn reply_chunk_split_invariance(replies in prop::collection::vec(reply(), 1..4), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        // The stream of replies, fed in arbitrary pieces to a reader that buffers and calls
        // parse_reply after each piece, gives the same replies as the whole.
        let mut wire = Vec::new();
        for reply in &replies {
            reply.encode(&mut wire);
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.push(wire.len());
        points.sort_unstable();
        let mut buffer = Vec::new();
        let mut got = Vec::new();
        let mut fed = 0;
        for point in points {
            buffer.extend_from_slice(&wire[fed..point]);
            fed = point;
            while let Some((reply, used)) = parse_reply(&buffer, &relaxed()).unwrap() {
                got.push(reply);
                buffer.drain(..used);
            }
        }
        prop_assert!(buffer.is_empty());
        prop_assert_eq!(got, replies);
    }

    #[test]
    fn every_prefix_is_incomplete(reply in reply()) {
        let wire = reply.to_bytes();
        for cut in 0..wire.len() {
            prop_assert_eq!(parse_reply(&wire[..cut], &relaxed()), Ok(None), "cut {}", cut);
        }
    }

    #[test]
    fn ehlo_round_trip(ehlo in ehlo_reply()) {
        let wire = ehlo.to_reply().to_bytes();
        let (reply, used) = parse_reply(&wire, &ReplyLimits::default()).unwrap().unwrap();
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(EhloReply::from_reply(&reply), Ok(ehlo));
    }

    #[test]
    fn capability_lines_round_trip(cap in capability()) {
        prop_assert_eq!(Capability::parse(&cap.to_string()), Ok(Some(cap)));
    }

    #[test]
    fn arbitrary_bytes_pass_the_fuzz_checks(data in prop::collection::vec(any::<u8>(), 0..300)) {
        fuzzing::reply::reply(&data);
    }

    #[test]
    fn reply_like_bytes_pass_the_fuzz_checks(
        lines in prop::collection::vec(
            ("[2-5][0-5][0-9]|[0-9]{1,4}", "[ -]?", "([245]\\.[0-9]{1,3}\\.[0-9]{1,3} )?[ -~]{0,12}", prop_oneof![Just("\r\n"), Just("\n"), Just("\r"), Just("")]),
            1..8,
        )
    ) {
        let mut data = Vec::new();
        for (code, sep, text, end) in &lines {
            data.extend_from_slice(code.as_bytes());
            data.extend_from_slice(sep.as_bytes());
            data.extend_from_slice(text.as_bytes());
            data.extend_from_slice(end.as_bytes());
        }
        fuzzing::reply::reply(&data);
    }
}

/// Errors do not depend on the split either: every prefix of a bad input is incomplete or
/// gives the error of the whole.
#[test]
fn errors_are_chunk_split_invariant() {
    let limits = ReplyLimits {
        max_line_len: 20,
        max_lines: 3,
    };
    for wire in [
        &b"250-a\r\n251 b\r\n"[..],
        b"250-a\r\n250 b\n",
        b"250-a\r\n250-b\r\n250-c\r\n250 d\r\n",
        b"250-a\r\n250 0123456789abcdefghij\r\n",
        b"250 a\rb\r\n",
        b"2x0 a\r\n",
    ] {
        let whole = parse_reply(wire, &limits);
        assert!(whole.is_err(), "{wire:?}");
        for cut in 0..wire.len() {
            let part = parse_reply(&wire[..cut], &limits);
            assert!(
                part == Ok(None) || part == whole,
                "{wire:?} cut {cut}: {part:?} vs {whole:?}"
            );
        }
    }
}
