//! Word-at-a-time helpers for the command parser's fast paths: eight octets are loaded as
//! one `u64` and tested together, so that a loop branches once per eight octets instead
//! of once or twice per octet.

/// `0x80` in every octet of `x` that is zero, `0` in every other (exact: no carry from
/// one octet into the next).
#[inline(always)]
fn zero_octets(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

const HIGH: u64 = 0x8080_8080_8080_8080;

/// `c` in every octet.
const fn rep(c: u8) -> u64 {
    u64::from_ne_bytes([c; 8])
}

/// The run from offset `i` of `b` of octets that are not stops: `stops(w)` gives `0x80`
/// in each octet of the word `w` that is a stop (and `0` in every other bit), `is_stop`
/// says the same of one octet. Returns the offset of the first stop, or `b.len()`.
#[inline(always)]
fn span_words(
    b: &[u8],
    mut i: usize,
    stops: impl Fn(u64) -> u64,
    is_stop: impl Fn(u8) -> bool,
) -> usize {
    while let Some(chunk) = b.get(i..).and_then(|t| t.first_chunk::<8>()) {
        let z = stops(u64::from_le_bytes(*chunk));
        if z != 0 {
            return i + (z.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    if i >= b.len() {
        return b.len();
    }
    match b.last_chunk::<8>() {
        // Fewer than eight octets are left: test the last eight of `b`, the first `skip`
        // of which (before `i`, already seen) are shifted out.
        Some(chunk) => {
            let skip = i + 8 - b.len();
            let z = stops(u64::from_le_bytes(*chunk)) >> (8 * skip);
            if z != 0 {
                i + (z.trailing_zeros() / 8) as usize
            } else {
                b.len()
            }
        }
        None => {
            let tail = b.get(i..).unwrap_or_default();
            i + tail.iter().position(|&c| is_stop(c)).unwrap_or(tail.len())
        }
    }
}

/// The offset of the first `byte` at or after `i` in `b`, or `b.len()` if there is none
/// (also when `i` is past the end).
#[inline(always)]
pub(crate) fn find_byte(b: &[u8], i: usize, byte: u8) -> usize {
    span_words(b, i, |w| zero_octets(w ^ rep(byte)), |c| c == byte)
}

/// The offset of the first octet at or after `i` in `b` that is not an RFC 3461 `xchar`
/// standing for itself (`%d33-42 / %d44-60 / %d62-126`: printable ASCII but `+` and
/// `=`), or `b.len()`.
#[inline(always)]
pub(crate) fn span_xchar(b: &[u8], i: usize) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    span_words(
        b,
        i,
        |w| {
            // Below 0x80, at least 0x21, and none of 0x7f, `+`, `=`.
            let ok = !w
                & ((w & LOW7) + rep(0x80 - 0x21))
                & !zero_octets(w ^ rep(0x7f))
                & !zero_octets(w ^ rep(b'+'))
                & !zero_octets(w ^ rep(b'='));
            !ok & HIGH
        },
        |c| !matches!(c, 33..=42 | 44..=60 | 62..=126),
    )
}

/// `window[start..end]` as text, checked as UTF-8 on a wider slice when that is cheaper:
/// `None` when that slice is not all UTF-8 (or `start..end` is out of range), and then
/// the caller checks `window[start..end]` alone, so that the outcome does not depend on
/// what lies around it. `start` and `end` must be at ASCII octets or at the end of
/// `window` (character boundaries in any UTF-8 text around them).
///
/// `str::from_utf8` checks whole words only from an 8-aligned address and while 16
/// octets remain, and one octet at a time elsewhere (about 5 instructions each, most of
/// its cost on a short line). So the check runs from the last aligned address at or
/// before `start` (`window` starts earlier when the caller has ASCII octets before the
/// text, such as a command verb) to a multiple of 16 octets after it (past `end`, over
/// what follows in the buffer, when there is that much).
#[inline(always)]
pub(crate) fn str_within(window: &[u8], start: usize, end: usize) -> Option<&str> {
    let lead = window.as_ptr().align_offset(8);
    let from = if lead <= start {
        start - (start - lead) % 8
    } else {
        start
    };
    let to = (from + end.checked_sub(from)?.div_ceil(16) * 16).min(window.len());
    let wide = std::str::from_utf8(window.get(from..to)?).ok()?;
    let (head, _) = wide.split_at_checked(end.checked_sub(from)?)?;
    let (_, text) = head.split_at_checked(start - from)?;
    Some(text)
}

/// The octets `0x20` at the positions of `canon` that hold ASCII letters: OR-ing it into a
/// word folds the case of those letters only.
const fn case_bits(canon: &[u8; 8]) -> u64 {
    let mut m = [0u8; 8];
    let mut k = 0;
    while k < 8 {
        if canon[k].is_ascii_alphabetic() {
            m[k] = 0x20;
        }
        k += 1;
    }
    u64::from_le_bytes(m)
}

/// A word pattern: the first `len` octets of `canon`, letters in any case.
#[derive(Clone, Copy)]
pub(crate) struct Pattern {
    canon: u64,
    case: u64,
    keep: u64,
}

impl Pattern {
    /// The pattern for `text` (at most eight octets), letters in any case.
    pub(crate) const fn new(text: &[u8]) -> Pattern {
        let mut canon = [0u8; 8];
        let mut k = 0;
        while k < text.len() && k < 8 {
            canon[k] = text[k];
            k += 1;
        }
        let case = case_bits(&canon);
        let keep = if text.len() >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * text.len())) - 1
        };
        Pattern {
            canon: u64::from_le_bytes(canon) | case,
            case,
            keep,
        }
    }

    /// Whether the word `w` (eight octets of input, little-endian) starts with the
    /// pattern.
    #[inline(always)]
    pub(crate) fn matches(self, w: u64) -> bool {
        ((w | self.case) ^ self.canon) & self.keep == 0
    }
}

/// The eight octets at `i` of `b` as a little-endian word, if there are eight.
#[inline(always)]
pub(crate) fn word_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(*b.get(i..)?.first_chunk::<8>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_agrees_with_position_at_every_offset_and_length() {
        let text: &[u8] = b"abc defghij klmnopqrstu vwxyz0123456789 end  x";
        for len in 0..=text.len() {
            let b = &text[..len];
            for i in 0..=len + 2 {
                let want = b
                    .get(i..)
                    .and_then(|t| t.iter().position(|&c| c == b' '))
                    .map_or(len, |p| i + p);
                assert_eq!(find_byte(b, i, b' '), want, "len {len} i {i}");
            }
        }
    }

    #[test]
    fn str_within_gives_the_text_or_leaves_the_check_to_the_caller() {
        // Every start, end and surrounding (ASCII, UTF-8, invalid), at every alignment.
        let pieces: [&[u8]; 4] = [b"ab cd", "é ü".as_bytes(), b"x\xffy", b" z "];
        for pad in 0..8 {
            for before in pieces {
                for middle in pieces {
                    for after in pieces {
                        let mut buf = vec![b'v'; pad];
                        buf.extend_from_slice(b"VERB ");
                        buf.extend_from_slice(before);
                        let start = buf.len();
                        buf.push(b' ');
                        buf.extend_from_slice(middle);
                        buf.push(b' ');
                        let end = buf.len();
                        buf.extend_from_slice(b"\r\n");
                        buf.extend_from_slice(after);
                        let window = &buf[pad..];
                        let (s, e) = (start - pad, end - pad);
                        let exact = std::str::from_utf8(&window[s..e]).ok();
                        match str_within(window, s, e) {
                            Some(text) => assert_eq!(Some(text), exact),
                            // Only when something around the text is not UTF-8 (or a
                            // character is cut where the wider slice ends).
                            None => assert!(!window.is_ascii()),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn patterns_fold_the_case_of_letters_only() {
        let p = Pattern::new(b"NOTIFY=");
        let w = |s: &[u8; 8]| u64::from_le_bytes(*s);
        assert!(p.matches(w(b"NOTIFY=x")));
        assert!(p.matches(w(b"notify=S")));
        assert!(p.matches(w(b"NoTiFy=\0")));
        assert!(!p.matches(w(b"NOTIFY\x1dx"))); // '=' | 0x20 is not a letter fold
        assert!(!p.matches(w(b"NOTIFX=x")));
        assert!(!p.matches(w(b"NOTIF Y=")));
        let p = Pattern::new(b"RFC822;");
        assert!(p.matches(w(b"rfc822;b")));
        assert!(!p.matches(w(b"rfc\x12\x1822;")));
        assert!(!p.matches(w(b"rfc822\x1bb")));
        let p = Pattern::new(b"SMTPUTF8");
        assert!(p.matches(w(b"smtputf8")));
        assert!(!p.matches(w(b"smtputf\x18")));
    }

    #[test]
    fn span_xchar_agrees_with_the_definition_for_every_octet() {
        for c in 0..=255u8 {
            for len in 1..20 {
                for at in 0..len {
                    let mut b = vec![b'a'; len];
                    b[at] = c;
                    let xchar = matches!(c, 33..=42 | 44..=60 | 62..=126);
                    let want = if xchar { len } else { at };
                    assert_eq!(span_xchar(&b, 0), want, "octet {c:#x} at {at} of {len}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn span_xchar_agrees_with_position(
            b in proptest::collection::vec(proptest::sample::select(b"a+= ~\x7f\x80!\x00;".to_vec()), 0..40),
            i in 0usize..45,
        ) {
            let want = b.get(i..)
                .and_then(|t| t.iter().position(|&c| !matches!(c, 33..=42 | 44..=60 | 62..=126)))
                .map_or(b.len(), |p| i + p);
            proptest::prop_assert_eq!(span_xchar(&b, i), want);
        }

        #[test]
        fn find_byte_agrees_with_position(
            b in proptest::collection::vec(proptest::sample::select(b"a =;\x80".to_vec()), 0..80),
            i in 0usize..90,
        ) {
            let want = b.get(i..).and_then(|t| t.iter().position(|&c| c == b' ')).map_or(b.len(), |p| i + p);
            proptest::prop_assert_eq!(find_byte(&b, i, b' '), want);
        }

        #[test]
        fn patterns_agree_with_eq_ignore_ascii_case(
            w in proptest::array::uniform8(proptest::sample::select(b"nNoOtTiIfFyY=\x0e\x1d-.aA".to_vec())),
        ) {
            for text in [&b"NOTIFY="[..], b"ORCPT=", b"SIZE=", b"SMTPUTF8", b"RET="] {
                let want = w[..text.len()].eq_ignore_ascii_case(text);
                proptest::prop_assert_eq!(Pattern::new(text).matches(u64::from_le_bytes(w)), want);
            }
        }
    }
}
