//! Header fields: raw bytes and decoded values.

use std::fmt;
use std::ops::Range;

use mail_parser::HeaderValue;
use mail_parser::parsers::MessageStream;

use crate::syntax::{self, FieldPos, RawAddr};

/// One header field of a parsed message, borrowing the message bytes.
#[derive(Clone, Copy)]
pub struct Header<'m> {
    raw: &'m [u8],
    pos: &'m FieldPos,
}

impl fmt::Debug for Header<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header")
            .field("name", &self.name())
            .field("value", &String::from_utf8_lossy(self.raw_value()))
            .finish()
    }
}

impl<'m> Header<'m> {
    pub(crate) fn new(raw: &'m [u8], pos: &'m FieldPos) -> Self {
        Header { raw, pos }
    }

    /// The field name as written (its bytes are checked to be printable ASCII).
    pub fn name(&self) -> &'m str {
        std::str::from_utf8(
            self.raw
                .get(self.pos.start..self.pos.name_end)
                .unwrap_or_default(),
        )
        .unwrap_or_default()
    }

    /// The field name as raw bytes.
    pub(crate) fn name_bytes(&self) -> &'m [u8] {
        self.raw
            .get(self.pos.start..self.pos.name_end)
            .unwrap_or_default()
    }

    /// The value as written: from after the colon to before the final line break,
    /// folding kept.
    pub fn raw_value(&self) -> &'m [u8] {
        self.raw
            .get(self.pos.value_start..self.pos.value_end)
            .unwrap_or_default()
    }

    /// Byte range of the value in the message (see [`Header::raw_value`]).
    pub(crate) fn value_range(&self) -> Range<usize> {
        self.pos.value_start..self.pos.value_end
    }

    /// The whole field, name to final line break inclusive.
    pub fn raw(&self) -> &'m [u8] {
        self.raw.get(self.range()).unwrap_or_default()
    }

    /// Byte range of the whole field in the message.
    pub fn range(&self) -> Range<usize> {
        self.pos.start..self.pos.end
    }

    /// The value unfolded (CR and LF removed) and trimmed, still encoded: the form
    /// IMAP puts into ENVELOPE strings.
    pub fn unfolded(&self) -> Vec<u8> {
        syntax::unfold(self.raw_value())
    }

    /// Value bytes for mail-parser's field parsers: from after the colon up to and
    /// including the final line break.
    fn stream_bytes(&self) -> &'m [u8] {
        self.raw
            .get(self.pos.value_start..self.pos.end)
            .unwrap_or_default()
    }

    /// The value as unstructured text: unfolded, RFC 2047 encoded words decoded.
    pub fn text(&self) -> String {
        decode_text(self.stream_bytes())
    }

    /// The value as an address list (From, To, Cc, ...), groups kept, display
    /// names decoded.
    pub fn addresses(&self) -> Vec<Address> {
        decode_addresses(self.raw_value())
    }

    /// The value as a date (RFC 5322 date-time, leniently).
    pub fn date(&self) -> Option<DateTime> {
        match MessageStream::new(self.stream_bytes()).parse_date() {
            HeaderValue::DateTime(d) if d.is_valid() => Some(DateTime {
                year: d.year,
                month: d.month,
                day: d.day,
                hour: d.hour,
                minute: d.minute,
                second: d.second,
                offset_minutes: {
                    let m = i16::from(d.tz_hour) * 60 + i16::from(d.tz_minute);
                    if d.tz_before_gmt { -m } else { m }
                },
            }),
            _ => None,
        }
    }

    /// The value as a list of message ids (Message-ID, In-Reply-To, References),
    /// without angle brackets.
    pub fn message_ids(&self) -> Vec<String> {
        match MessageStream::new(self.stream_bytes()).parse_id() {
            HeaderValue::Text(t) => vec![t.into_owned()],
            HeaderValue::TextList(l) => l.into_iter().map(|t| t.into_owned()).collect(),
            _ => Vec::new(),
        }
    }

    /// The value as a Content-Type or Content-Disposition, parameters decoded
    /// (RFC 2231 continuations and charsets, RFC 2047 words).
    pub fn content_type(&self) -> Option<ContentType> {
        match MessageStream::new(self.stream_bytes()).parse_content_type() {
            HeaderValue::ContentType(ct) => Some(ContentType {
                kind: ct.c_type.to_ascii_lowercase(),
                subtype: ct.c_subtype.map(|s| s.to_ascii_lowercase()),
                params: ct
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| (a.name.to_ascii_lowercase(), a.value.into_owned()))
                    .collect(),
            }),
            _ => None,
        }
    }
}

/// Decodes unstructured header text (unfold, RFC 2047). `bytes` may end with a line break.
pub(crate) fn decode_text(bytes: &[u8]) -> String {
    let owned;
    let b = if bytes.ends_with(b"\n") {
        bytes
    } else {
        owned = [bytes, b"\n"].concat();
        &owned[..]
    };
    match MessageStream::new(b).parse_unstructured() {
        HeaderValue::Text(t) => t.into_owned(),
        HeaderValue::TextList(l) => l.join(", "),
        _ => String::new(),
    }
}

/// Decodes a raw address list into [`Address`] values.
pub(crate) fn decode_addresses(raw: &[u8]) -> Vec<Address> {
    let mut out = Vec::new();
    let mut group: Option<(String, Vec<Mailbox>)> = None;
    for a in syntax::parse_address_list(raw) {
        match a {
            RawAddr::GroupStart(name) => {
                if let Some((n, m)) = group.take() {
                    out.push(Address::Group(Group {
                        name: n,
                        members: m,
                    }));
                }
                group = Some((decode_text(&name), Vec::new()));
            }
            RawAddr::GroupEnd => {
                if let Some((n, m)) = group.take() {
                    out.push(Address::Group(Group {
                        name: n,
                        members: m,
                    }));
                }
            }
            RawAddr::Mailbox {
                name,
                local,
                domain,
                ..
            } => {
                let mut address = String::from_utf8_lossy(&local).into_owned();
                if let Some(d) = domain {
                    address.push('@');
                    address.push_str(&String::from_utf8_lossy(&d));
                }
                let mb = Mailbox {
                    name: name.map(|n| decode_text(&n)).filter(|n| !n.is_empty()),
                    address,
                };
                match &mut group {
                    Some((_, m)) => m.push(mb),
                    None => out.push(Address::Mailbox(mb)),
                }
            }
        }
    }
    if let Some((n, m)) = group.take() {
        out.push(Address::Group(Group {
            name: n,
            members: m,
        }));
    }
    out
}

/// A mailbox: an optional display name and an address (`local@domain`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    /// The display name, decoded.
    pub name: Option<String>,
    /// The address, `local-part@domain`.
    pub address: String,
}

impl Mailbox {
    /// A mailbox with a display name.
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Self {
        Mailbox {
            name: Some(name.into()),
            address: address.into(),
        }
    }
    /// A mailbox without a display name.
    pub fn addr(address: impl Into<String>) -> Self {
        Mailbox {
            name: None,
            address: address.into(),
        }
    }
}

impl From<&str> for Mailbox {
    fn from(address: &str) -> Self {
        Mailbox::addr(address)
    }
}

/// A group of mailboxes (`name: a@x, b@y;`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Group {
    /// The group's display name, decoded.
    pub name: String,
    /// Its members (possibly none).
    pub members: Vec<Mailbox>,
}

/// One entry of an address list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A single mailbox.
    Mailbox(Mailbox),
    /// A group.
    Group(Group),
}

impl From<Mailbox> for Address {
    fn from(m: Mailbox) -> Self {
        Address::Mailbox(m)
    }
}

impl From<Group> for Address {
    fn from(g: Group) -> Self {
        Address::Group(g)
    }
}

impl From<&str> for Address {
    fn from(a: &str) -> Self {
        Address::Mailbox(Mailbox::addr(a))
    }
}

/// A date and time with its UTC offset, as in RFC 5322.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    /// Year (four digits).
    pub year: u16,
    /// Month 1-12.
    pub month: u8,
    /// Day 1-31.
    pub day: u8,
    /// Hour 0-23.
    pub hour: u8,
    /// Minute 0-59.
    pub minute: u8,
    /// Second 0-60.
    pub second: u8,
    /// Offset from UTC in minutes (`+0100` is 60).
    pub offset_minutes: i16,
}

impl DateTime {
    /// The time `secs` seconds after the Unix epoch, in UTC. The crate never reads a
    /// clock: pass e.g. `SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs()`.
    pub fn from_unix(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = if m <= 2 { y + 1 } else { y };
        DateTime {
            year: y.clamp(0, 9999) as u16,
            month: m as u8,
            day: d as u8,
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
            offset_minutes: 0,
        }
    }

    /// Day of the week, 0 = Sunday.
    fn weekday(&self) -> usize {
        // Sakamoto's method.
        const T: [i64; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let mut y = i64::from(self.year);
        let m = usize::from(self.month.clamp(1, 12));
        if m < 3 {
            y -= 1;
        }
        let t = T.get(m - 1).copied().unwrap_or(0);
        (y + y / 4 - y / 100 + y / 400 + t + i64::from(self.day)).rem_euclid(7) as usize
    }
}

impl fmt::Display for DateTime {
    /// RFC 5322 form: `Tue, 1 Jul 2003 10:52:37 +0200`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let off = self.offset_minutes;
        let sign = if off < 0 { '-' } else { '+' };
        let off = off.unsigned_abs();
        write!(
            f,
            "{}, {} {} {:04} {:02}:{:02}:{:02} {}{:02}{:02}",
            DAYS.get(self.weekday()).copied().unwrap_or("Mon"),
            self.day,
            MONTHS
                .get(usize::from(self.month.clamp(1, 12)) - 1)
                .copied()
                .unwrap_or("Jan"),
            self.year,
            self.hour,
            self.minute,
            self.second,
            sign,
            off / 60,
            off % 60
        )
    }
}

/// A decoded Content-Type or Content-Disposition value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// Lowercase main value: the media type (`text`) or the disposition (`attachment`).
    pub kind: String,
    /// Lowercase media subtype (`plain`); `None` for a disposition.
    pub subtype: Option<String>,
    /// Parameters: lowercase names, decoded values, in order.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    /// A parameter value by name (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_display_and_unix() {
        let d = DateTime::from_unix(1_057_049_557);
        assert_eq!(d.to_string(), "Tue, 1 Jul 2003 08:52:37 +0000");
        let d = DateTime {
            offset_minutes: -330,
            ..DateTime::from_unix(0)
        };
        assert_eq!(d.to_string(), "Thu, 1 Jan 1970 00:00:00 -0530");
    }

    #[test]
    fn decode_names() {
        let a = decode_addresses(b" =?utf-8?q?J=C3=B6rg?= <j@x>, g: ;");
        assert_eq!(a[0], Address::Mailbox(Mailbox::new("Jörg", "j@x")));
        assert_eq!(
            a[1],
            Address::Group(Group {
                name: "g".into(),
                members: vec![]
            })
        );
    }
}
