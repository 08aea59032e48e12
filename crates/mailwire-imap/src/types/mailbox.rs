//! Mailbox names, with the modified UTF-7 of RFC 3501 section 5.1.3.

use std::borrow::Cow;

use base64::Engine as _;
use bytes::Bytes;

use super::core::{AString, AtomExt, IString, QUOTED_MAX, Quoted, ValueError};

/// A mailbox name as it travels on the wire: an astring, in modified UTF-7 (or in UTF-8 once
/// `UTF8=ACCEPT` is enabled, RFC 6855).
///
/// `INBOX` is case-insensitive: [`Mailbox::is_inbox`] says whether a name means it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mailbox(AString);

/// A mailbox name that is not valid modified UTF-7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Utf7Error {
    /// A shifted sequence (`&…-`) is not valid modified base64 of UTF-16.
    #[error("invalid modified UTF-7 at byte {0}")]
    Invalid(usize),
}

const MUTF7: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::IMAP_MUTF7,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
);

/// Encodes `name` in modified UTF-7.
pub fn encode_utf7(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if !pending.is_empty() {
            let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
            out.push('&');
            out.push_str(&MUTF7.encode(bytes));
            out.push('-');
            pending.clear();
        }
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decodes a modified UTF-7 name.
pub fn decode_utf7(name: &[u8]) -> Result<String, Utf7Error> {
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        let b = name[i];
        if b == b'&' {
            let end = memchr::memchr(b'-', &name[i + 1..]).ok_or(Utf7Error::Invalid(i))? + i + 1;
            let shifted = &name[i + 1..end];
            if shifted.is_empty() {
                out.push('&');
            } else {
                let raw = MUTF7.decode(shifted).map_err(|_| Utf7Error::Invalid(i))?;
                if raw.len() % 2 != 0 {
                    return Err(Utf7Error::Invalid(i));
                }
                let units: Vec<u16> = raw
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                let s = String::from_utf16(&units).map_err(|_| Utf7Error::Invalid(i))?;
                // A shifted run must not encode what could be written directly.
                if s.chars().any(|c| (' '..='~').contains(&c)) {
                    return Err(Utf7Error::Invalid(i));
                }
                out.push_str(&s);
            }
            i = end + 1;
        } else if (0x20..=0x7e).contains(&b) {
            out.push(b as char);
            i += 1;
        } else {
            return Err(Utf7Error::Invalid(i));
        }
    }
    Ok(out)
}

impl Mailbox {
    /// A mailbox from its wire form.
    pub fn new(name: AString) -> Mailbox {
        Mailbox(name)
    }
    /// `INBOX`.
    pub fn inbox() -> Mailbox {
        Mailbox(AString::Atom(AtomExt::unchecked(Bytes::from_static(
            b"INBOX",
        ))))
    }
    /// A mailbox named `name` (Unicode), encoded in modified UTF-7. A name equal to `INBOX`
    /// in any case becomes `INBOX`. Fails only if `name` holds a NUL.
    pub fn from_utf8(name: &str) -> Result<Mailbox, ValueError> {
        if name.eq_ignore_ascii_case("INBOX") {
            return Ok(Mailbox::inbox());
        }
        AString::new(encode_utf7(name)).map(Mailbox)
    }
    /// A mailbox named `name` sent as UTF-8, for a session where `UTF8=ACCEPT` is enabled
    /// (RFC 6855): a quoted string when it fits, an atom when it is one, a literal otherwise.
    pub fn from_utf8_accept(name: &str) -> Result<Mailbox, ValueError> {
        if name.eq_ignore_ascii_case("INBOX") {
            return Ok(Mailbox::inbox());
        }
        if !name.is_ascii()
            && name.len() <= QUOTED_MAX
            && let Ok(q) = Quoted::try_from(name)
        {
            return Ok(Mailbox(AString::String(IString::Quoted(q))));
        }
        AString::try_from(name).map(Mailbox)
    }
    /// The wire form.
    pub fn as_astring(&self) -> &AString {
        &self.0
    }
    /// The raw bytes of the name as on the wire (modified UTF-7 or UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
    /// Whether this is `INBOX` (case-insensitive).
    pub fn is_inbox(&self) -> bool {
        self.0.as_bytes().eq_ignore_ascii_case(b"INBOX")
    }
    /// The Unicode name: decoded from modified UTF-7, or taken as UTF-8 when the name holds
    /// 8-bit bytes that are valid UTF-8 (`UTF8=ACCEPT`).
    pub fn to_utf8(&self) -> Result<Cow<'_, str>, Utf7Error> {
        let raw = self.0.as_bytes();
        if self.is_inbox() {
            return Ok(Cow::Borrowed("INBOX"));
        }
        if !raw.is_ascii() {
            return std::str::from_utf8(raw)
                .map(Cow::Borrowed)
                .map_err(|e| Utf7Error::Invalid(e.valid_up_to()));
        }
        if memchr::memchr(b'&', raw).is_none() {
            // Invariant: ASCII checked just above.
            return Ok(Cow::Borrowed(std::str::from_utf8(raw).unwrap_or_default()));
        }
        decode_utf7(raw).map(Cow::Owned)
    }
}

impl From<AString> for Mailbox {
    fn from(a: AString) -> Mailbox {
        Mailbox(a)
    }
}

impl TryFrom<&str> for Mailbox {
    type Error = ValueError;
    fn try_from(name: &str) -> Result<Mailbox, ValueError> {
        Mailbox::from_utf8(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3501_example() {
        // RFC 3501 section 5.1.3.
        let name = "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}";
        assert_eq!(encode_utf7(name), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assert_eq!(
            decode_utf7(b"~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(),
            name
        );
        assert_eq!(encode_utf7("a&b"), "a&-b");
        assert_eq!(decode_utf7(b"a&-b").unwrap(), "a&b");
        assert!(decode_utf7(b"&Jjo!").is_err());
        assert!(
            decode_utf7(b"&AGE-").is_err(),
            "shifted ASCII is not allowed"
        );
        assert_eq!(encode_utf7("Entwürfe"), "Entw&APw-rfe");
    }

    #[test]
    fn mailbox_forms() {
        assert!(Mailbox::try_from("inbox").unwrap().is_inbox());
        let m = Mailbox::from_utf8("Entwürfe").unwrap();
        assert_eq!(m.as_bytes(), b"Entw&APw-rfe");
        assert_eq!(m.to_utf8().unwrap(), "Entwürfe");
        let u = Mailbox::from_utf8_accept("Entwürfe").unwrap();
        assert!(matches!(
            u.as_astring(),
            AString::String(IString::Quoted(_))
        ));
        assert_eq!(u.to_utf8().unwrap(), "Entwürfe");
    }
}
