//! The `Received:` trace header (RFC 5321 4.4) and RFC 5322 dates, without a date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// `Received: from HELO (IP) by HOST with PROTO id ID [for <RCPT>]; DATE` with CRLF, folded.
pub(crate) fn received_header(
    helo: &str,
    peer_ip: &str,
    hostname: &str,
    protocol: &str,
    id: &str,
    single_recipient: Option<&str>,
    now: SystemTime,
) -> String {
    let mut header =
        format!("Received: from {helo} ([{peer_ip}])\r\n\tby {hostname} with {protocol} id {id}");
    if let Some(rcpt) = single_recipient {
        header.push_str(&format!("\r\n\tfor <{rcpt}>"));
    }
    header.push_str(&format!(";\r\n\t{}\r\n", rfc5322_date(now)));
    header
}

/// `Mon, 23 Nov 2026 12:46:47 +0000`.
pub(crate) fn rfc5322_date(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {day} {} {year} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31): Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(UNIX_EPOCH), "Thu, 1 Jan 1970 00:00:00 +0000");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_437_207);
        assert_eq!(rfc5322_date(t), "Mon, 23 Nov 2026 12:33:27 +0000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc5322_date(leap), "Tue, 29 Feb 2000 00:00:00 +0000");
    }
}
