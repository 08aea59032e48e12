//! Dot-stuffing: round trips, chunk-split invariance against reference models, every split
//! point of the terminator, and the SMTP smuggling variants.

use mailwire_core::dot::{BareLineEndings, DecodeStatus, DotDecoder, DotEncoder};
use mailwire_core::fuzzing::dot::{
    Decoded, decode_chunks, encode_chunks, normalise, reference_decode, reference_encode,
};
use mailwire_core::fuzzing::split;
use proptest::prelude::*;

const POLICIES: [BareLineEndings; 2] = [BareLineEndings::Reject, BareLineEndings::Normalize];

/// Bytes rich in dots and line endings, so that stuffing, terminators and smuggling
/// variants are common.
fn wire_bytes(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => Just(b'\r'),
            4 => Just(b'\n'),
            4 => Just(b'.'),
            4 => Just(b'a'),
            1 => Just(0u8),
            1 => any::<u8>(),
        ],
        0..max_len,
    )
}

/// Mostly well-formed text (long CRLF lines, some starting with dots), with the occasional
/// bare CR, bare LF or NUL: long clean stretches with a few anomalies, the input the fast
/// path sees.
fn text_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        20 => Just(&b"Lorem ipsum dolor sit amet, consectetur "[..]),
        10 => Just(&b"\r\n"[..]),
        4 => Just(&b"."[..]),
        1 => Just(&b"\r"[..]),
        1 => Just(&b"\n"[..]),
        1 => Just(&b"\0"[..]),
    ];
    prop::collection::vec(token, 0..120).prop_map(|tokens| tokens.concat())
}

fn policy() -> impl Strategy<Value = BareLineEndings> {
    prop_oneof![
        Just(BareLineEndings::Reject),
        Just(BareLineEndings::Normalize)
    ]
}

fn lengths() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..50, 1..20)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn decode_of_encode_is_the_normalised_content(
        content in prop::collection::vec(any::<u8>(), 0..300),
        policy in policy(),
    ) {
        let wire = encode_chunks([&content[..]]);
        let decoded = decode_chunks(policy, [&wire[..]]);
        prop_assert_eq!(&decoded.content, &normalise(&content));
        prop_assert_eq!(decoded.consumed, wire.len());
        prop_assert!(decoded.done);
        prop_assert!(!decoded.bare_cr && !decoded.bare_lf);
    }

    #[test]
    fn decode_of_encode_with_dense_wire_bytes(
        content in wire_bytes(300),
        policy in policy(),
        enc_lengths in lengths(),
        dec_lengths in lengths(),
    ) {
        let wire = encode_chunks(split(&content, enc_lengths.iter().copied().cycle()));
        prop_assert_eq!(&wire, &reference_encode(&content));
        let mut pipelined = wire.clone();
        pipelined.extend_from_slice(b"RSET\r\n");
        let decoded = decode_chunks(policy, split(&pipelined, dec_lengths.iter().copied().cycle()));
        prop_assert_eq!(&decoded.content, &normalise(&content));
        prop_assert_eq!(decoded.consumed, wire.len());
        prop_assert!(decoded.done);
    }

    /// Content with only CRLF line ends, ending with CRLF (or empty), comes back exactly.
    #[test]
    fn round_trip_is_identity_for_crlf_content(
        lines in prop::collection::vec(
            prop::collection::vec(prop_oneof![Just(b'.'), Just(b'a'), Just(b' ')], 0..8),
            0..20,
        ),
    ) {
        let content: Vec<u8> =
            lines.iter().flat_map(|l| l.iter().copied().chain(*b"\r\n")).collect();
        let wire = encode_chunks([&content[..]]);
        prop_assert_eq!(decode_chunks(BareLineEndings::Reject, [&wire[..]]).content, content);
    }

    #[test]
    fn encoder_chunk_split_invariance(content in wire_bytes(300), lengths in lengths()) {
        let whole = encode_chunks([&content[..]]);
        prop_assert_eq!(&encode_chunks(split(&content, lengths.iter().copied().cycle())), &whole);
        prop_assert_eq!(&encode_chunks(content.chunks(1)), &whole);
    }

    #[test]
    fn decoder_chunk_split_invariance_and_reference(
        input in wire_bytes(300),
        policy in policy(),
        lengths in lengths(),
    ) {
        let expected = reference_decode(policy, &input);
        prop_assert!(expected.consumed <= input.len());
        prop_assert_eq!(&decode_chunks(policy, [&input[..]]), &expected);
        prop_assert_eq!(
            &decode_chunks(policy, split(&input, lengths.iter().copied().cycle())),
            &expected
        );
        prop_assert_eq!(&decode_chunks(policy, input.chunks(1)), &expected);
    }

    #[test]
    fn text_with_anomalies_matches_the_reference(
        input in text_bytes(),
        policy in policy(),
        lengths in prop::collection::vec(1usize..2000, 1..10),
    ) {
        let expected = reference_decode(policy, &input);
        prop_assert_eq!(&decode_chunks(policy, [&input[..]]), &expected);
        prop_assert_eq!(
            &decode_chunks(policy, split(&input, lengths.iter().copied().cycle())),
            &expected
        );
        let wire = encode_chunks(split(&input, lengths.iter().copied().cycle()));
        prop_assert_eq!(&wire, &reference_encode(&input));
        let decoded = decode_chunks(policy, [&wire[..]]);
        prop_assert_eq!(&decoded.content, &normalise(&input));
        prop_assert_eq!(decoded.consumed, wire.len());
    }

    /// Under `Reject` the content is the input up to the terminator, minus the dot at the
    /// start of each CRLF line that has one: nothing else is changed.
    #[test]
    fn reject_only_removes_leading_dots(input in wire_bytes(300), lengths in lengths()) {
        let decoded =
            decode_chunks(BareLineEndings::Reject, split(&input, lengths.iter().copied().cycle()));
        let end = if decoded.done { decoded.consumed - 3 } else { input.len() };
        let line_start = |k: usize| k == 0 || (k >= 2 && &input[k - 2..k] == b"\r\n");
        // Without a terminator, a final "." or ". CR" at a line start is held back.
        let held = if decoded.done {
            0
        } else if end >= 1 && input[end - 1] == b'.' && line_start(end - 1) {
            1
        } else if end >= 2 && &input[end - 2..end] == b".\r" && line_start(end - 2) {
            2
        } else {
            0
        };
        let expected: Vec<u8> = input[..end - held]
            .iter()
            .enumerate()
            .filter(|&(i, &byte)| !(byte == b'.' && line_start(i)))
            .map(|(_, &byte)| byte)
            .collect();
        prop_assert_eq!(decoded.content, expected);
    }
}

fn decode_all(policy: BareLineEndings, input: &[u8]) -> Decoded {
    decode_chunks(policy, [input])
}

#[test]
fn terminator_split_into_two_and_three_pieces() {
    for policy in POLICIES {
        let input = b"a\r\n..b\r\n.\r\nQUIT\r\n";
        let end = 11;
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let pieces = [&input[..i], &input[i..j], &input[j..]];
                let decoded = decode_chunks(policy, pieces);
                assert_eq!(decoded.content, b"a\r\n.b\r\n", "{policy:?} {i} {j}");
                assert_eq!(decoded.consumed, end, "{policy:?} {i} {j}");
                assert!(decoded.done);
            }
        }
    }
}

#[test]
fn empty_body_at_every_split() {
    for policy in POLICIES {
        let input = b".\r\nQUIT\r\n";
        for i in 0..=input.len() {
            let decoded = decode_chunks(policy, [&input[..i], &input[i..]]);
            assert_eq!(decoded.content, b"");
            assert_eq!(decoded.consumed, 3);
            assert!(decoded.done);
        }
    }
}

/// Every smuggling variant, placed after content, at every split point, under both
/// policies: never the end of the data, and always recorded as a bare line ending.
#[test]
fn smuggling_variants_never_terminate_at_any_split() {
    let variants: [&[u8]; 6] = [
        b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r.\r\n", b"\r\n.\r", b"\r\n.\n",
    ];
    for policy in POLICIES {
        for variant in variants {
            let mut input = b"Subject: x\r\n\r\nbody".to_vec();
            input.extend_from_slice(variant);
            input.extend_from_slice(b"MAIL FROM:<attacker@example.org>\r\n");
            for i in 0..=input.len() {
                let decoded = decode_chunks(policy, [&input[..i], &input[i..]]);
                assert!(!decoded.done, "{policy:?} {variant:?} split {i}");
                assert_eq!(decoded.consumed, input.len());
                assert!(decoded.bare_cr || decoded.bare_lf, "{policy:?} {variant:?}");
            }
        }
    }
}

#[test]
fn normalize_output_for_each_smuggling_variant() {
    let n = BareLineEndings::Normalize;
    let cases: [(&[u8], &[u8]); 6] = [
        (b"a\n.\nb", b"a\r\n.\r\nb"),
        (b"a\n.\r\nb", b"a\r\n.\r\nb"),
        (b"a\r.\rb", b"a\r\n.\r\nb"),
        (b"a\r.\r\nb", b"a\r\n.\r\nb"),
        (b"a\r\n.\rb", b"a\r\n.\r\nb"),
        (b"a\r\n.\nb", b"a\r\n.\r\nb"),
    ];
    for (input, content) in cases {
        let decoded = decode_all(n, input);
        assert_eq!(decoded.content, content, "{input:?}");
        assert!(!decoded.done);
    }
}

#[test]
fn reject_output_for_each_smuggling_variant() {
    let r = BareLineEndings::Reject;
    let cases: [(&[u8], &[u8]); 6] = [
        (b"a\n.\nb", b"a\n.\nb"),
        (b"a\n.\r\nb", b"a\n.\r\nb"),
        (b"a\r.\rb", b"a\r.\rb"),
        (b"a\r.\r\nb", b"a\r.\r\nb"),
        // The CRLF line ". CR b" loses its first dot, as any dot-led line does.
        (b"a\r\n.\rb", b"a\r\n\rb"),
        (b"a\r\n.\nb", b"a\r\n\nb"),
    ];
    for (input, content) in cases {
        let decoded = decode_all(r, input);
        assert_eq!(decoded.content, content, "{input:?}");
        assert!(!decoded.done);
    }
}

#[test]
fn body_without_final_crlf_never_terminates() {
    for policy in POLICIES {
        let decoded = decode_all(policy, b"no line end.");
        assert!(!decoded.done);
        assert_eq!(decoded.content, b"no line end.");
        // ". CR LF" not at the start of a line is content.
        let decoded = decode_all(policy, b"x.\r\n");
        assert!(!decoded.done);
        assert_eq!(decoded.content, b"x.\r\n");
    }
}

#[test]
fn pop3_multiline_example() {
    // RFC 1939 RETR: the client un-stuffs what follows the +OK line.
    let wire = b"Subject: t\r\n\r\n..leading dot\r\n...\r\n.\r\n+OK next\r\n";
    let mut decoder = DotDecoder::new();
    let mut content = Vec::new();
    let status = decoder.decode(wire, &mut content);
    assert_eq!(
        status,
        DecodeStatus {
            consumed: wire.len() - 10,
            done: true
        }
    );
    assert_eq!(content, b"Subject: t\r\n\r\n.leading dot\r\n..\r\n");
    let mut again = Vec::new();
    let mut encoder = DotEncoder::new();
    encoder.encode(&content, &mut again);
    encoder.finish(&mut again);
    assert_eq!(again, &wire[..wire.len() - 10]);
}

#[test]
fn large_body_in_one_call_and_in_chunks() {
    let mut content = Vec::new();
    for i in 0..20_000 {
        if i % 7 == 0 {
            content.extend_from_slice(b".");
        }
        content.extend_from_slice(b"The quick brown fox jumps over the lazy dog, line ");
        content.extend_from_slice(i.to_string().as_bytes());
        content.extend_from_slice(b"\r\n");
    }
    let wire = encode_chunks([&content[..]]);
    for policy in POLICIES {
        assert_eq!(decode_all(policy, &wire).content, content);
        let chunked = decode_chunks(policy, wire.chunks(64 * 1024));
        assert_eq!(chunked.content, content);
        assert_eq!(chunked.consumed, wire.len());
    }
}

/// Each anomaly (a line-leading dot, a bare CR or LF, a NUL, the terminator's pieces) at
/// every offset of a clean stretch long enough for the fast path's blocks: the outcome is
/// the reference model's, in one call and byte by byte, so that no block boundary hides
/// one (the block test finds a line-leading dot from the CR two bytes before it).
#[test]
fn anomalies_at_every_offset_of_the_fast_path() {
    let base: Vec<u8> = (0..400)
        .map(|i| {
            if i % 97 == 95 {
                b'\r'
            } else if i % 97 == 96 {
                b'\n'
            } else {
                b'a'
            }
        })
        .collect();
    let anomalies: [&[u8]; 8] = [
        b"\r\n.",
        b"\r\n..",
        b"\n.",
        b"\r",
        b"\n",
        b"\0",
        b"\r\n.\r\n",
        b"\r\n.\n",
    ];
    for k in 0..base.len() {
        for anomaly in anomalies {
            let mut input = base[..k].to_vec();
            input.extend_from_slice(anomaly);
            input.extend_from_slice(&base[k..]);
            input.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
            for policy in POLICIES {
                let expected = reference_decode(policy, &input);
                assert_eq!(
                    decode_all(policy, &input),
                    expected,
                    "{anomaly:?} at {k}, {policy:?}"
                );
                assert_eq!(decode_chunks(policy, input.chunks(1)), expected);
            }
        }
    }
}
