//! Dates (`SEARCH SINCE 1-Feb-1994`) and date-times (`INTERNALDATE`, `APPEND`).

use super::core::ValueError;

pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A calendar date (RFC 3501 `date`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// The date `day`-`month`-`year`: year 0–9999, month 1–12, a day that exists.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Date, ValueError> {
        if year > 9999 || !(1..=12).contains(&month) {
            return Err(ValueError::Range("a date"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(ValueError::Range("a date"));
        }
        Ok(Date { year, month, day })
    }
    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }
    /// The month, 1 to 12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// The day of the month.
    pub fn day(&self) -> u8 {
        self.day
    }
}

/// A date and time with a zone (RFC 3501 `date-time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
    zone: i16,
}

impl DateTime {
    /// The time `hour:minute:second` on `date`, `zone_minutes` east of UTC (−5999 to +5999
    /// minutes as `±hhmm` can write; `second` may be 60 for a leap second).
    pub fn new(
        date: Date,
        hour: u8,
        minute: u8,
        second: u8,
        zone_minutes: i16,
    ) -> Result<DateTime, ValueError> {
        if hour > 23 || minute > 59 || second > 60 {
            return Err(ValueError::Range("a time"));
        }
        if !(-5999..=5999).contains(&zone_minutes) {
            return Err(ValueError::Range("a zone"));
        }
        Ok(DateTime {
            date,
            hour,
            minute,
            second,
            zone: zone_minutes,
        })
    }
    /// The date.
    pub fn date(&self) -> Date {
        self.date
    }
    /// The hour, 0 to 23.
    pub fn hour(&self) -> u8 {
        self.hour
    }
    /// The minute.
    pub fn minute(&self) -> u8 {
        self.minute
    }
    /// The second (60 for a leap second).
    pub fn second(&self) -> u8 {
        self.second
    }
    /// The zone, in minutes east of UTC.
    pub fn zone_minutes(&self) -> i16 {
        self.zone
    }
}
