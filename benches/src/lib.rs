//! Benchmarks only: see the `benches/` targets of this package. The library holds what
//! several of them share.

pub mod parse;
pub mod transaction;

/// A message body for the benches: a few header lines, then prose lines of 60 to 78
/// characters of `words` (picked by a fixed xorshift sequence, so the same every run),
/// one line in about `dot_every` starting with a dot (so that dot-stuffing has work),
/// CRLF line ends, until the body is at least `min_len` octets.
pub fn prose(words: &[&str], min_len: usize, dot_every: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(min_len + 100);
    out.extend_from_slice(b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\n");
    out.extend_from_slice(b"Subject: benchmark\r\nMessage-ID: <1@example.org>\r\n\r\n");
    let mut seed: u32 = 0x2545_f491;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    while out.len() < min_len {
        let target = 60 + (next() % 19) as usize;
        let start = out.len();
        if next() % dot_every == 0 {
            out.push(b'.');
        }
        while out.len() - start < target {
            let word = words[(next() as usize) % words.len()];
            out.extend_from_slice(word.as_bytes());
            out.push(b' ');
        }
        out.pop();
        out.extend_from_slice(b"\r\n");
    }
    out
}
