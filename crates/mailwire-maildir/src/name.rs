//! Maildir file names: making unique ones, and reading the fields of existing ones.
//!
//! A name made here looks like `1700000000.M123456P4242Q17.mailhost,S=1024,W=1050`:
//! the seconds and microseconds of the delivery time, the process id, a process-wide
//! counter (Dovecot's variant of the convention at <http://cr.yp.to/proto/maildir.html>)
//! and the host name; then the size in bytes (`S=`) and the size with every line ending
//! as CRLF (`W=`, what IMAP's `RFC822.SIZE` and POP3's `LIST` report), as Dovecot writes
//! them. After a `:` comes the info suffix (`:2,FLAGS`) of messages in `cur/`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// The process-wide delivery counter (`Q<n>` in file names): two deliveries of one process
/// in the same microsecond still get different names.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The host name of this machine, as the kernel reports it.
///
/// Reads `/proc/sys/kernel/hostname`, then `/etc/hostname`, and falls back to
/// `"localhost"`. The result is not yet made safe for file names; [`Maildir`] and
/// [`MailStore`] do that (`/` becomes `\057`, `:` becomes `\072`).
///
/// [`Maildir`]: crate::Maildir
/// [`MailStore`]: crate::MailStore
pub fn system_hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|text| text.trim().to_owned())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The sanitised system host name, read once per process.
pub(crate) fn default_hostname() -> Arc<str> {
    static HOST: OnceLock<Arc<str>> = OnceLock::new();
    HOST.get_or_init(|| sanitize_hostname(&system_hostname()))
        .clone()
}

/// Makes a host name safe for the last part of a unique name.
///
/// `/` and `:` are written as `\057` and `\072` as the Maildir convention says. So that the
/// name stays unambiguous for readers that look for `,S=` fields, `,` and `\` are escaped
/// the same way (`\054`, `\134`), and so is every byte that is not printable ASCII. An
/// empty name becomes `localhost`.
pub(crate) fn sanitize_hostname(raw: &str) -> Arc<str> {
    if raw.is_empty() {
        return Arc::from("localhost");
    }
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'/' | b':' | b',' | b'\\' => out.push_str(&format!("\\{byte:03o}")),
            0x21..=0x7e => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\{byte:03o}")),
        }
    }
    Arc::from(out)
}

/// A fresh unique base name: `<secs>.M<usecs>P<pid>Q<counter>.<hostname>`.
pub(crate) fn unique_base(hostname: &str) -> String {
    // A clock before 1970 is a broken clock; the counter still keeps names apart.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}.M{}P{}Q{}.{}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        counter,
        hostname
    )
}

/// Splits a file name into its unique part and its info (what follows the first `:`).
pub(crate) fn split_info(file_name: &str) -> (&str, Option<&str>) {
    match file_name.split_once(':') {
        Some((unique, info)) => (unique, Some(info)),
        None => (file_name, None),
    }
}

/// The value of a `,K=<digits>` field in the unique part of a name (Dovecot's `S=` and
/// `W=`). The digits must end at a `,` or at the end of the unique part.
pub(crate) fn size_field(unique: &str, key: u8) -> Option<u64> {
    let bytes = unique.as_bytes();
    let mut rest = bytes;
    while let Some(pos) = rest.iter().position(|&b| b == b',') {
        let after = rest.get(pos + 1..).unwrap_or_default();
        if let [k, b'=', tail @ ..] = after
            && *k == key
        {
            let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
            let ends_well = matches!(tail.get(digits), None | Some(b','));
            if digits > 0 && ends_well {
                // At most 20 digits fit a u64; longer runs fail to parse and are ignored.
                let text = std::str::from_utf8(tail.get(..digits)?).ok()?;
                if let Ok(value) = text.parse() {
                    return Some(value);
                }
            }
        }
        rest = after;
    }
    None
}

/// The delivery time in a unique name (`<secs>.M<usecs>...`), for ordering messages.
/// Names from other programs may lack the microseconds (`<secs>.<anything>`): they count
/// as microsecond 0.
pub(crate) fn delivery_time(unique: &str) -> Option<(u64, u32)> {
    let (secs, rest) = unique.split_once('.')?;
    let secs = secs.parse().ok()?;
    let usecs = rest
        .strip_prefix('M')
        .map(|r| {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            r.get(..end).and_then(|d| d.parse().ok()).unwrap_or(0)
        })
        .unwrap_or(0);
    Some((secs, usecs))
}

/// Counts what a chunk adds to the size with CRLF line endings: one byte per LF that does
/// not follow a CR. `last_was_cr` carries the state across chunks.
pub(crate) fn count_bare_lf(chunk: &[u8], last_was_cr: &mut bool) -> u64 {
    let mut extra = 0;
    let mut prev_cr = *last_was_cr;
    for &byte in chunk {
        if byte == b'\n' && !prev_cr {
            extra += 1;
        }
        prev_cr = byte == b'\r';
    }
    *last_was_cr = prev_cr;
    extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_escaped() {
        assert_eq!(&*sanitize_hostname("mail.example.org"), "mail.example.org");
        assert_eq!(&*sanitize_hostname("a/b:c"), "a\\057b\\072c");
        assert_eq!(&*sanitize_hostname("a,b\\c"), "a\\054b\\134c");
        assert_eq!(&*sanitize_hostname("a b\n"), "a\\040b\\012");
        assert_eq!(&*sanitize_hostname("hé"), "h\\303\\251");
        assert_eq!(&*sanitize_hostname(""), "localhost");
    }

    #[test]
    fn unique_bases_differ_and_have_the_shape() {
        let a = unique_base("host");
        let b = unique_base("host");
        assert_ne!(a, b);
        let (secs, rest) = a.split_once(".M").unwrap();
        assert!(secs.chars().all(|c| c.is_ascii_digit()));
        assert!(rest.contains(&format!("P{}Q", std::process::id())));
        assert!(rest.ends_with(".host"));
        assert!(delivery_time(&a).is_some());
    }

    #[test]
    fn size_fields() {
        let name = "1700000000.M5P1Q2.host,S=1024,W=1050";
        assert_eq!(size_field(name, b'S'), Some(1024));
        assert_eq!(size_field(name, b'W'), Some(1050));
        assert_eq!(size_field(name, b'X'), None);
        assert_eq!(size_field("1.M1P1.host,S=12x", b'S'), None);
        assert_eq!(size_field("1.M1P1.host,S=", b'S'), None);
        assert_eq!(size_field("1.M1P1.host", b'S'), None);
        assert_eq!(
            size_field("1.M1P1.host,S=99999999999999999999999", b'S'),
            None
        );
        assert_eq!(size_field("1.M1P1.host,,S=7", b'S'), Some(7));
        assert_eq!(size_field(",", b'S'), None);
    }

    #[test]
    fn info_split() {
        assert_eq!(split_info("abc:2,S"), ("abc", Some("2,S")));
        assert_eq!(split_info("abc"), ("abc", None));
        assert_eq!(split_info("abc:"), ("abc", Some("")));
    }

    #[test]
    fn delivery_times() {
        assert_eq!(
            delivery_time("1700000000.M123P4Q5.h"),
            Some((1700000000, 123))
        );
        assert_eq!(delivery_time("1700000000.12345_1.h"), Some((1700000000, 0)));
        assert_eq!(delivery_time("garbage"), None);
    }

    #[test]
    fn bare_lf_counting_spans_chunks() {
        let mut cr = false;
        assert_eq!(count_bare_lf(b"a\r\nb\nc\r", &mut cr), 1);
        assert!(cr);
        assert_eq!(count_bare_lf(b"\n\n", &mut cr), 1);
        assert!(!cr);
        let mut cr = false;
        assert_eq!(count_bare_lf(b"\n", &mut cr), 1);
    }
}
