//! Dates and datetimes: parsing Salesforce's and RFC 3339 forms, rendering SOQL literals (UTC),
//! and the calendar arithmetic behind them [salesforce-api.md §4].

use std::fmt;

use crate::error::{Error, Result};

// ---- calendar arithmetic (proleptic Gregorian, UTC), after H. Hinnant's days_from_civil ------

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}
fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parse_digits(s: &str, what: &str, input: &str) -> Result<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_temporal(what, input));
    }
    s.parse::<u32>().map_err(|_| bad_temporal(what, input))
}

fn bad_temporal(what: &str, input: &str) -> Error {
    Error::invalid_argument(format!(
        "invalid {what} {:?}: expected YYYY-MM-DD{}",
        input,
        if what == "datetime" {
            "THH:MM:SS[.sss] followed by Z, +HHMM or +HH:MM"
        } else {
            ""
        }
    ))
}

/// A calendar date (`YYYY-MM-DD`), rendered unquoted in SOQL (`CloseDate = 2024-01-31`)
/// [salesforce-api.md §4 "Types in JSON"].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SoqlDate {
    year: i64,
    month: u32,
    day: u32,
}

impl SoqlDate {
    /// Parses `YYYY-MM-DD` (a real calendar date, years 0001–9999); `InvalidArgument` otherwise.
    pub fn parse(s: &str) -> Result<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad_temporal("date", s));
        }
        let year = parse_digits(&s[0..4], "date", s)? as i64;
        let month = parse_digits(&s[5..7], "date", s)?;
        let day = parse_digits(&s[8..10], "date", s)?;
        if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(bad_temporal("date", s));
        }
        Ok(SoqlDate { year, month, day })
    }
}

impl fmt::Display for SoqlDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An instant with millisecond precision (Salesforce's datetime precision), in UTC.
///
/// Parses what Salesforce sends (`2013-05-20T20:49:32.000+0000`: offset without colon
/// [salesforce-api.md §4]) and RFC 3339 (`2024-01-01T00:00:00Z`, `…+05:30`); other offsets are
/// converted to UTC. Fractions longer than milliseconds are truncated to milliseconds.
/// Rendered in SOQL unquoted in UTC: `2024-01-01T00:00:00Z`, or `2024-01-01T00:00:00.123Z` when
/// the milliseconds are not zero [salesforce-api.md §4, D37].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SoqlDateTime {
    epoch_ms: i64,
}

impl SoqlDateTime {
    /// Parses a datetime (see the type docs); `InvalidArgument` naming the input otherwise.
    pub fn parse(input: &str) -> Result<Self> {
        let s = input.trim();
        let err = || bad_temporal("datetime", input);
        if s.len() < 20 || !s.is_ascii() {
            return Err(err());
        }
        let date = SoqlDate::parse(&s[0..10]).map_err(|_| err())?;
        let b = s.as_bytes();
        if !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') || b[13] != b':' || b[16] != b':' {
            return Err(err());
        }
        let hour = parse_digits(&s[11..13], "datetime", input)?;
        let minute = parse_digits(&s[14..16], "datetime", input)?;
        let second = parse_digits(&s[17..19], "datetime", input)?;
        if hour > 23 || minute > 59 || second > 59 {
            return Err(err());
        }
        let mut rest = &s[19..];
        let mut millis = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return Err(err());
            }
            let digits = &frac[..n.min(3)];
            millis = digits.parse::<u32>().map_err(|_| err())? * 10u32.pow(3 - digits.len() as u32);
            rest = &frac[n..];
        }
        let offset_minutes: i64 = match rest {
            "Z" | "z" => 0,
            _ => {
                let (sign, off) = match rest.as_bytes().first() {
                    Some(b'+') => (1i64, &rest[1..]),
                    Some(b'-') => (-1i64, &rest[1..]),
                    _ => return Err(err()),
                };
                let (h, m) = match off.len() {
                    4 => (&off[0..2], &off[2..4]),
                    5 if off.as_bytes()[2] == b':' => (&off[0..2], &off[3..5]),
                    _ => return Err(err()),
                };
                let h = parse_digits(h, "datetime", input)? as i64;
                let m = parse_digits(m, "datetime", input)? as i64;
                if h > 23 || m > 59 {
                    return Err(err());
                }
                sign * (h * 60 + m)
            }
        };
        let days = days_from_civil(date.year, date.month, date.day);
        let local_ms = ((days * 24 + hour as i64) * 60 + minute as i64) * 60_000
            + second as i64 * 1000
            + millis as i64;
        Ok(SoqlDateTime { epoch_ms: local_ms - offset_minutes * 60_000 })
    }

    /// The instant from milliseconds since the Unix epoch.
    pub fn from_epoch_ms(epoch_ms: i64) -> Self {
        SoqlDateTime { epoch_ms }
    }

    /// Milliseconds since the Unix epoch.
    pub fn epoch_ms(&self) -> i64 {
        self.epoch_ms
    }

    fn parts(&self) -> (i64, u32, u32, i64, i64, i64, i64) {
        let days = self.epoch_ms.div_euclid(86_400_000);
        let ms_of_day = self.epoch_ms.rem_euclid(86_400_000);
        let (y, mo, d) = civil_from_days(days);
        (
            y,
            mo,
            d,
            ms_of_day / 3_600_000,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000,
        )
    }

    /// The SOQL literal: `2024-01-01T00:00:00Z` or `2024-01-01T00:00:00.123Z`.
    pub fn to_soql(&self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        if ms == 0 {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
        } else {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
        }
    }

    /// Salesforce's own JSON form: `2024-01-01T00:00:00.000+0000`.
    pub fn to_salesforce(&self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}+0000")
    }
}

impl fmt::Display for SoqlDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_soql())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
