//! Sequence sets (RFC 3501 `sequence-set`), with `*`.

use std::num::NonZeroU32;

use super::core::ValueError;

/// One end of a range: a message number / UID, or `*` (the largest in use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeqNum {
    /// A number (never zero).
    Value(NonZeroU32),
    /// `*`.
    Largest,
}

impl SeqNum {
    /// The number this stands for when `largest` is the largest in use.
    pub fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqNum::Value(n) => n.get(),
            SeqNum::Largest => largest,
        }
    }
}

impl TryFrom<u32> for SeqNum {
    type Error = ValueError;
    fn try_from(n: u32) -> Result<SeqNum, ValueError> {
        NonZeroU32::new(n)
            .map(SeqNum::Value)
            .ok_or(ValueError::Range("a sequence number"))
    }
}

/// One element of a sequence set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeqRange {
    /// One number.
    One(SeqNum),
    /// `a:b` (either order on the wire means the same range).
    Range(SeqNum, SeqNum),
}

impl SeqRange {
    /// Whether `n` is in the range when `largest` is the largest number in use.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        match *self {
            SeqRange::One(a) => a.resolve(largest) == n,
            SeqRange::Range(a, b) => {
                let (a, b) = (a.resolve(largest), b.resolve(largest));
                (a.min(b)..=a.max(b)).contains(&n)
            }
        }
    }
}

/// A non-empty list of numbers and ranges, like `1:4,7,9:*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SequenceSet(Vec<SeqRange>);

impl SequenceSet {
    /// A set of these ranges (at least one).
    pub fn new(ranges: Vec<SeqRange>) -> Result<SequenceSet, ValueError> {
        if ranges.is_empty() {
            return Err(ValueError::Empty);
        }
        Ok(SequenceSet(ranges))
    }
    pub(crate) fn unchecked(ranges: Vec<SeqRange>) -> SequenceSet {
        debug_assert!(!ranges.is_empty());
        SequenceSet(ranges)
    }
    /// `n` alone; fails for 0.
    pub fn single(n: u32) -> Result<SequenceSet, ValueError> {
        Ok(SequenceSet(vec![SeqRange::One(SeqNum::try_from(n)?)]))
    }
    /// `a:b`; fails for 0.
    pub fn range(a: u32, b: u32) -> Result<SequenceSet, ValueError> {
        Ok(SequenceSet(vec![SeqRange::Range(
            SeqNum::try_from(a)?,
            SeqNum::try_from(b)?,
        )]))
    }
    /// `1:*`.
    pub fn all() -> SequenceSet {
        SequenceSet(vec![SeqRange::Range(
            SeqNum::Value(NonZeroU32::MIN),
            SeqNum::Largest,
        )])
    }
    /// The smallest set holding `numbers` (which must not hold 0), as sorted ranges.
    pub fn from_numbers(numbers: &[u32]) -> Result<SequenceSet, ValueError> {
        let mut sorted: Vec<u32> = numbers.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = Vec::new();
        let mut iter = sorted.into_iter().peekable();
        while let Some(start) = iter.next() {
            let mut end = start;
            while iter.peek() == Some(&(end.wrapping_add(1))) && end != u32::MAX {
                end += 1;
                iter.next();
            }
            out.push(if start == end {
                SeqRange::One(SeqNum::try_from(start)?)
            } else {
                SeqRange::Range(SeqNum::try_from(start)?, SeqNum::try_from(end)?)
            });
        }
        SequenceSet::new(out)
    }
    /// The ranges.
    pub fn ranges(&self) -> &[SeqRange] {
        &self.0
    }
    /// Whether `n` is in the set when `largest` is the largest number in use.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        self.0.iter().any(|r| r.contains(n, largest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets() {
        assert!(SequenceSet::new(vec![]).is_err());
        assert!(SequenceSet::single(0).is_err());
        let s = SequenceSet::from_numbers(&[5, 1, 2, 3, 9]).unwrap();
        assert_eq!(s.ranges().len(), 3);
        assert!(s.contains(2, 10) && s.contains(9, 10) && !s.contains(4, 10));
        assert!(SequenceSet::all().contains(77, 77));
        assert!(SequenceSet::range(5, 2).unwrap().contains(3, 10));
    }
}
