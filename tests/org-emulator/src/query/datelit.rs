//! SOQL date literals as day ranges [SOQL and SOSL Reference, "Date Formats and Date Literals in
//! WHERE": <https://developer.salesforce.com/docs/platform/salesforce-soql-sosl/guide/sforce-api-calls-soql-select-dateformats.html>].
//!
//! The emulated user is in UTC with the `en_US` locale, so weeks start on Sunday, and the org's
//! fiscal year is the calendar year (Salesforce's default), so `*_FISCAL_*` literals equal their
//! calendar counterparts. `LAST_N_DAYS:n` and `LAST_90_DAYS` include today (`LAST_N_DAYS:1` is
//! yesterday and today); `NEXT_N_DAYS:n` starts tomorrow; `LAST_N_WEEKS:n` / `_MONTHS` / `_QUARTERS`
//! / `_YEARS` are the `n` whole units before the current one, `NEXT_N_…` the `n` after it.

use crate::time::{civil_from_days, days_from_civil};

/// First day of the month `k` months after the month of day `today` (negative: before).
fn month_start(today: i64, k: i64) -> i64 {
    let (y, m, _) = civil_from_days(today);
    let total = y * 12 + (m as i64 - 1) + k;
    days_from_civil(total.div_euclid(12), (total.rem_euclid(12) + 1) as u32, 1)
}

/// `[first day, last day + 1)` of the unit (`months` long) containing today shifted by `from`
/// units, spanning `len` units.
fn months(today: i64, unit: i64, from: i64, len: i64) -> (i64, i64) {
    let (_, m, _) = civil_from_days(today);
    let back = (m as i64 - 1) % unit; // months since the start of the current quarter/year
    (month_start(today, -back + from * unit), month_start(today, -back + (from + len) * unit))
}

/// The half-open day range `[start, end)` of date literal `name` (upper case) with `n`, at
/// `now_ms`; `None` for an unknown literal.
pub fn range(name: &str, n: Option<i64>, now_ms: i64) -> Option<(i64, i64)> {
    let t = now_ms.div_euclid(86_400_000);
    let week = t - (t + 4).rem_euclid(7); // 1970-01-01 was a Thursday: Sunday-based week start
    let n = n.unwrap_or(1);
    let name = name.replace("_FISCAL", "");
    Some(match name.as_str() {
        "YESTERDAY" => (t - 1, t),
        "TODAY" => (t, t + 1),
        "TOMORROW" => (t + 1, t + 2),
        "LAST_WEEK" => (week - 7, week),
        "THIS_WEEK" => (week, week + 7),
        "NEXT_WEEK" => (week + 7, week + 14),
        "LAST_MONTH" => months(t, 1, -1, 1),
        "THIS_MONTH" => months(t, 1, 0, 1),
        "NEXT_MONTH" => months(t, 1, 1, 1),
        "LAST_90_DAYS" => (t - 90, t + 1),
        "NEXT_90_DAYS" => (t + 1, t + 91),
        "LAST_N_DAYS" => (t - n, t + 1),
        "NEXT_N_DAYS" => (t + 1, t + 1 + n),
        "N_DAYS_AGO" => (t - n, t - n + 1),
        "LAST_N_WEEKS" => (week - 7 * n, week),
        "NEXT_N_WEEKS" => (week + 7, week + 7 + 7 * n),
        "N_WEEKS_AGO" => (week - 7 * n, week - 7 * n + 7),
        "LAST_N_MONTHS" => months(t, 1, -n, n),
        "NEXT_N_MONTHS" => months(t, 1, 1, n),
        "N_MONTHS_AGO" => months(t, 1, -n, 1),
        "LAST_QUARTER" => months(t, 3, -1, 1),
        "THIS_QUARTER" => months(t, 3, 0, 1),
        "NEXT_QUARTER" => months(t, 3, 1, 1),
        "LAST_N_QUARTERS" => months(t, 3, -n, n),
        "NEXT_N_QUARTERS" => months(t, 3, 1, n),
        "N_QUARTERS_AGO" => months(t, 3, -n, 1),
        "LAST_YEAR" => months(t, 12, -1, 1),
        "THIS_YEAR" => months(t, 12, 0, 1),
        "NEXT_YEAR" => months(t, 12, 1, 1),
        "LAST_N_YEARS" => months(t, 12, -n, n),
        "NEXT_N_YEARS" => months(t, 12, 1, n),
        "N_YEARS_AGO" => months(t, 12, -n, 1),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i64 {
        crate::time::parse_date(s).unwrap()
    }

    #[test]
    fn ranges_around_a_wednesday_in_may() {
        let now = day("2024-05-15") * 86_400_000 + 13 * 3_600_000; // Wed 2024-05-15 13:00Z
        let r = |name: &str, n: Option<i64>| range(name, n, now).unwrap();
        assert_eq!(r("TODAY", None), (day("2024-05-15"), day("2024-05-16")));
        assert_eq!(r("YESTERDAY", None), (day("2024-05-14"), day("2024-05-15")));
        assert_eq!(r("THIS_WEEK", None), (day("2024-05-12"), day("2024-05-19")));
        assert_eq!(r("LAST_WEEK", None), (day("2024-05-05"), day("2024-05-12")));
        assert_eq!(r("THIS_MONTH", None), (day("2024-05-01"), day("2024-06-01")));
        assert_eq!(r("LAST_MONTH", None), (day("2024-04-01"), day("2024-05-01")));
        assert_eq!(r("NEXT_MONTH", None), (day("2024-06-01"), day("2024-07-01")));
        assert_eq!(r("LAST_N_DAYS", Some(1)), (day("2024-05-14"), day("2024-05-16")));
        assert_eq!(r("NEXT_N_DAYS", Some(2)), (day("2024-05-16"), day("2024-05-18")));
        assert_eq!(r("N_DAYS_AGO", Some(3)), (day("2024-05-12"), day("2024-05-13")));
        assert_eq!(r("LAST_N_MONTHS", Some(2)), (day("2024-03-01"), day("2024-05-01")));
        assert_eq!(r("THIS_QUARTER", None), (day("2024-04-01"), day("2024-07-01")));
        assert_eq!(r("LAST_QUARTER", None), (day("2024-01-01"), day("2024-04-01")));
        assert_eq!(r("THIS_YEAR", None), (day("2024-01-01"), day("2025-01-01")));
        assert_eq!(r("LAST_N_YEARS", Some(2)), (day("2022-01-01"), day("2024-01-01")));
        assert_eq!(r("THIS_FISCAL_YEAR", None), r("THIS_YEAR", None));
        assert_eq!(r("NEXT_N_WEEKS", Some(1)), (day("2024-05-19"), day("2024-05-26")));
        assert_eq!(range("SOMEDAY", None, now), None);
        let jan = day("2024-01-10") * 86_400_000;
        assert_eq!(range("LAST_MONTH", None, jan).unwrap(), (day("2023-12-01"), day("2024-01-01")));
    }
}
