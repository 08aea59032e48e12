//! Message flags as Maildir stores them: letters after `:2,` in a file name in `cur/`.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// A set of Maildir flags: the ASCII letters after `:2,` in a message's file name.
///
/// The six standard flags have constants; the lowercase letters `a`..=`z` are the keyword
/// slots Dovecot maps to IMAP keywords through its `dovecot-keywords` file, and they are
/// kept as they are. Formatting ([`Display`](fmt::Display)) writes the letters in ASCII
/// order, as the Maildir convention requires.
///
/// ```
/// use mailwire_maildir::Flags;
///
/// let flags = Flags::parse_info("2,FS");
/// assert!(flags.contains(Flags::SEEN) && flags.contains(Flags::FLAGGED));
/// assert_eq!((flags | Flags::REPLIED).to_string(), "FRS");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(u64);

impl Flags {
    /// `D`: the user considers this a draft (IMAP `\Draft`).
    pub const DRAFT: Flags = Flags::letter(b'D');
    /// `F`: flagged for urgent or special attention (IMAP `\Flagged`).
    pub const FLAGGED: Flags = Flags::letter(b'F');
    /// `P`: passed, resent or forwarded.
    pub const PASSED: Flags = Flags::letter(b'P');
    /// `R`: replied to (IMAP `\Answered`).
    pub const REPLIED: Flags = Flags::letter(b'R');
    /// `S`: seen (IMAP `\Seen`).
    pub const SEEN: Flags = Flags::letter(b'S');
    /// `T`: trashed, marked for deletion (IMAP `\Deleted`).
    pub const TRASHED: Flags = Flags::letter(b'T');

    /// The empty set.
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// The bit of one ASCII letter; bits 0..26 are `A`..`Z`, bits 26..52 are `a`..`z`.
    const fn letter(byte: u8) -> Flags {
        match byte {
            b'A'..=b'Z' => Flags(1 << (byte - b'A')),
            b'a'..=b'z' => Flags(1 << (26 + byte - b'a')),
            _ => Flags(0),
        }
    }

    /// The flag for one letter, or `None` when `c` is not an ASCII letter.
    pub fn from_char(c: char) -> Option<Flags> {
        c.is_ascii_alphabetic().then(|| Flags::letter(c as u8))
    }

    /// The flags of an info suffix (what follows `:` in a file name, e.g. `2,FS`).
    ///
    /// Only the `2,` form carries flags; `1,` (reserved for experimental semantics) and
    /// any other info give the empty set. Letters are read up to the first character that is not an
    /// ASCII letter (Dovecot may append `,`-separated extensions there).
    pub fn parse_info(info: &str) -> Flags {
        let Some(letters) = info.strip_prefix("2,") else {
            return Flags::empty();
        };
        letters
            .chars()
            .map_while(Flags::from_char)
            .fold(Flags::empty(), |acc, f| acc | f)
    }

    /// Whether every flag of `other` is in `self`.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Adds the flags of `other`.
    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }

    /// Removes the flags of `other`.
    pub fn remove(&mut self, other: Flags) {
        self.0 &= !other.0;
    }

    /// The letters of the set, in ASCII order (uppercase first).
    pub fn chars(self) -> impl Iterator<Item = char> {
        (b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .filter(move |&b| self.contains(Flags::letter(b)))
            .map(char::from)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chars().try_for_each(|c| fmt::Write::write_char(f, c))
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flags({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        assert_eq!(Flags::parse_info("2,").to_string(), "");
        assert_eq!(Flags::parse_info("2,SRF").to_string(), "FRS");
        assert_eq!(Flags::parse_info("2,DFPRSTab").to_string(), "DFPRSTab");
        assert_eq!(Flags::parse_info("2,S,extra").to_string(), "S");
        assert_eq!(Flags::parse_info("1,S"), Flags::empty());
        assert_eq!(Flags::parse_info(""), Flags::empty());
        assert_eq!(Flags::parse_info("2,z").to_string(), "z");
    }

    #[test]
    fn set_operations() {
        let mut f = Flags::SEEN | Flags::TRASHED;
        assert!(f.contains(Flags::SEEN));
        assert!(!f.contains(Flags::DRAFT));
        f.remove(Flags::SEEN);
        assert_eq!(f, Flags::TRASHED);
        f.insert(Flags::from_char('a').unwrap());
        assert_eq!(f.to_string(), "Ta");
        assert_eq!(Flags::from_char('1'), None);
        assert!(Flags::empty().is_empty());
        assert_eq!(format!("{:?}", Flags::SEEN), "Flags(S)");
    }
}
