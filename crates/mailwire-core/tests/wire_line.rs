//! `LineBuffer`: chunk-split invariance against a reference model, the length limit and
//! recovery, and the memory bound.

use mailwire_core::fuzzing::line::{Outcome, feed, reference};
use mailwire_core::fuzzing::split;
use mailwire_core::line::{LineBuffer, LineError};
use proptest::prelude::*;

/// Bytes that are mostly line-ending material, so that lines and near-misses are common.
fn wire_bytes(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => Just(b'\r'),
            4 => Just(b'\n'),
            6 => Just(b'a'),
            1 => Just(b'.'),
            1 => any::<u8>(),
        ],
        0..max_len,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_chunking_gives_the_reference(
        input in wire_bytes(300),
        limit in 0usize..24,
        lengths in prop::collection::vec(1usize..40, 1..20),
    ) {
        let expected = reference(&input, limit);
        prop_assert_eq!(&feed([&input[..]], limit), &expected);
        prop_assert_eq!(&feed(split(&input, lengths.iter().copied().cycle()), limit), &expected);
        prop_assert_eq!(&feed(input.chunks(1), limit), &expected);
    }

    #[test]
    fn lines_never_hold_crlf_nor_exceed_the_limit(input in wire_bytes(300), limit in 0usize..24) {
        let mut buffer = LineBuffer::new(limit);
        buffer.push(&input);
        while let Some(line) = buffer.next_line() {
            if let Ok(line) = line {
                prop_assert!(line.len() <= limit);
                prop_assert!(!line.windows(2).any(|w| w == b"\r\n"));
            }
        }
    }

    /// Lines joined with CRLF come back as they were, whatever their bare CRs and LFs.
    #[test]
    fn framing_round_trip(
        lines in prop::collection::vec(wire_bytes(30).prop_filter("no CRLF", |l| {
            !l.windows(2).any(|w| w == b"\r\n") && l.last() != Some(&b'\r')
        }), 0..20),
        lengths in prop::collection::vec(1usize..40, 1..20),
    ) {
        let wire: Vec<u8> = lines.iter().flat_map(|l| l.iter().copied().chain(*b"\r\n")).collect();
        let outcome = feed(split(&wire, lengths.iter().copied().cycle()), 64);
        let expected: Vec<Result<Vec<u8>, LineError>> = lines.into_iter().map(Ok).collect();
        prop_assert_eq!(outcome, Outcome { lines: expected, buffered: Vec::new(), discarding: false });
    }
}

#[test]
fn ten_megabytes_without_crlf_stay_bounded() {
    const LIMIT: usize = 1000;
    let chunk = vec![b'x'; 64 * 1024];
    let mut buffer = LineBuffer::new(LIMIT);
    let mut errors = 0;
    let mut pushed = 0;
    while pushed < 10 * 1024 * 1024 {
        buffer.push(&chunk);
        pushed += chunk.len();
        while let Some(line) = buffer.next_line() {
            assert_eq!(line, Err(LineError::TooLong { limit: LIMIT }));
            errors += 1;
        }
        assert!(buffer.buffered_len() <= LIMIT + 1);
    }
    assert_eq!(errors, 1);
    assert!(buffer.is_discarding());
    buffer.push(b"xx\r\nNOOP\r\n");
    assert_eq!(buffer.next_line().unwrap().unwrap(), &b"NOOP"[..]);
    assert_eq!(buffer.next_line(), None);
    assert!(!buffer.is_discarding());
}

#[test]
fn discarding_drops_input_even_without_next_line_calls() {
    let mut buffer = LineBuffer::new(10);
    buffer.push(&[b'x'; 20]);
    assert!(buffer.next_line().unwrap().is_err());
    for _ in 0..100 {
        buffer.push(&[b'y'; 64 * 1024]);
        assert_eq!(buffer.buffered_len(), 0);
    }
    buffer.push(b"\r\nok\r\n");
    assert_eq!(buffer.buffered_len(), 4);
    assert_eq!(buffer.next_line().unwrap().unwrap(), &b"ok"[..]);
}

#[test]
fn one_big_push_is_dropped_at_the_first_next_line() {
    let mut buffer = LineBuffer::new(1000);
    buffer.push(&vec![b'x'; 10 * 1024 * 1024]);
    assert_eq!(
        buffer.next_line(),
        Some(Err(LineError::TooLong { limit: 1000 }))
    );
    assert_eq!(buffer.buffered_len(), 0);
    assert_eq!(buffer.next_line(), None);
}

#[test]
fn several_long_lines_each_reported_once() {
    let mut buffer = LineBuffer::new(3);
    buffer.push(b"abcd\r\nok\r\nefghij");
    buffer.push(b"kl\r\n\r\nmnop\r");
    buffer.push(b"\nend\r\n");
    let results: Vec<_> = std::iter::from_fn(|| buffer.next_line()).collect();
    let too_long = Err(LineError::TooLong { limit: 3 });
    assert_eq!(
        results,
        vec![
            too_long.clone(),
            Ok(bytes::Bytes::from_static(b"ok")),
            too_long.clone(),
            Ok(bytes::Bytes::new()),
            too_long,
            Ok(bytes::Bytes::from_static(b"end")),
        ]
    );
}
