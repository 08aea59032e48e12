//! The checks behind the fuzz targets, kept in the crate so that the tests replaying the
//! seed corpora run exactly what the fuzzer runs. Not a stable API.
//!
//! Each `check` function panics when an invariant does not hold; it never panics otherwise.

pub mod dot;
pub mod line;

/// Chunk lengths (1 to 16) from a small linear congruential generator: a cheap, repeatable
/// way to split an input at many different points from one seed byte.
pub fn chunk_lengths(seed: u8) -> impl Iterator<Item = usize> {
    let mut state = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
    std::iter::repeat_with(move || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        ((state >> 16) % 16) as usize + 1
    })
}

/// Splits `input` into consecutive chunks whose lengths come from `lengths` (the last chunk
/// may be shorter). An endless `lengths` is expected.
pub fn split(input: &[u8], mut lengths: impl Iterator<Item = usize>) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = lengths.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(n);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}
