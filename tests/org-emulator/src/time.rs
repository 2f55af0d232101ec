//! Salesforce date/time text: `dateTime` values are rendered in UTC as `2013-05-20T20:49:32.000+0000`
//! (offset without a colon, with milliseconds) and `date` values as `YYYY-MM-DD` [salesforce-api.md §4
//! "Types in JSON"]. SOQL dateTime literals are unquoted: `2024-01-01T00:00:00Z`, with optional
//! fraction and `+HH:MM` / `+HHMM` offsets [salesforce-api.md §4, §8].

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Render epoch milliseconds as Salesforce's `dateTime` JSON text: `YYYY-MM-DDTHH:MM:SS.sss+0000`.
/// (Hot path: written byte by byte, years 0000–9999.)
pub fn format_datetime(ms: i64, out: &mut String) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let mut b = *b"0000-00-00T00:00:00.000+0000";
    let put = |b: &mut [u8; 28], at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut b, 0, y.clamp(0, 9999) as u32, 4);
    put(&mut b, 5, m, 2);
    put(&mut b, 8, d, 2);
    put(&mut b, 11, (rem / 3_600_000) as u32, 2);
    put(&mut b, 14, (rem / 60_000 % 60) as u32, 2);
    put(&mut b, 17, (rem / 1000 % 60) as u32, 2);
    put(&mut b, 20, (rem % 1000) as u32, 3);
    out.push_str(std::str::from_utf8(&b).expect("ASCII"));
}

/// Render epoch days as a Salesforce `date` (`YYYY-MM-DD`).
pub fn format_date(days: i64, out: &mut String) {
    use std::fmt::Write;
    let (y, m, d) = civil_from_days(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parse a SOQL `date` literal `YYYY-MM-DD` into epoch days.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(&s[..4])?, num(&s[5..7])?, num(&s[8..10])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y as i64, m, d))
}

/// Parse a SOQL `dateTime` literal (`YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM|±HHMM)`) into epoch ms.
/// Also accepts the `+0000` form Salesforce itself emits, so a value read back from a record can be
/// used as a filter.
pub fn parse_datetime(s: &str) -> Option<i64> {
    if s.len() < 20 || s.as_bytes()[10] != b'T' {
        return None;
    }
    let days = parse_date(&s[..10])?;
    let t = &s[11..];
    let tb = t.as_bytes();
    if tb.len() < 9 || tb[2] != b':' || tb[5] != b':' {
        return None;
    }
    let (h, mi, se) = (num(&t[..2])?, num(&t[3..5])?, num(&t[6..8])?);
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &t[8..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let digits = &frac[..n];
        let mut ms_txt: String = digits.chars().take(3).collect();
        while ms_txt.len() < 3 {
            ms_txt.push('0');
        }
        millis = num(&ms_txt)? as i64;
        rest = &frac[n..];
    }
    let offset_min: i64 = if rest == "Z" {
        0
    } else {
        let sign = match rest.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let o = &rest[1..];
        let (oh, om) = match o.len() {
            5 if o.as_bytes()[2] == b':' => (num(&o[..2])?, num(&o[3..])?),
            4 => (num(&o[..2])?, num(&o[2..])?),
            _ => return None,
        };
        if oh > 23 || om > 59 {
            return None;
        }
        sign * (oh as i64 * 60 + om as i64)
    };
    Some(
        days * 86_400_000 + (h as i64 * 3600 + mi as i64 * 60 + se as i64) * 1000 + millis
            - offset_min * 60_000,
    )
}

/// Current wall-clock time in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let ms = parse_datetime("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(ms, 1_704_067_200_000);
        let mut s = String::new();
        format_datetime(ms + 1234, &mut s);
        assert_eq!(s, "2024-01-01T00:00:01.234+0000");
        assert_eq!(parse_datetime(&s), Some(ms + 1234));
        assert_eq!(parse_datetime("2024-01-01T02:00:00+02:00"), Some(ms));
        assert_eq!(parse_datetime("2024-01-01T02:00:00+0200"), Some(ms));
        assert_eq!(parse_datetime("2023-12-31T19:00:00.000-05:00"), Some(ms));
        assert_eq!(parse_datetime("2024-01-01"), None);
        assert_eq!(parse_datetime("2024-13-01T00:00:00Z"), None);
        let mut d = String::new();
        format_date(parse_date("2024-02-29").unwrap(), &mut d);
        assert_eq!(d, "2024-02-29");
    }
}
