//! The seed's pagination object (`Controllers/pagination.js`), reproduced exactly.
//!
//! The seed computes, in JavaScript:
//! ```text
//! var page = (page && parseInt(page)) || 1;
//! var per_page = per_page || items;              // no limit = all items
//! var offset = (page - 1) * per_page;
//! var total_pages = Math.ceil(items / per_page);
//! return { page, per_page, total: items, total_pages,
//!          next_page: page < total_pages ? page + 1 : null,
//!          prev_page: page > 1 ? page - 1 : null,
//!          offsetValue: offset < items ? offset : 0 };
//! ```
//! [`paginate`] gives the same object for every valid input (checked against
//! `tests/contract/paginator-seed-vectors.json`), with the two documented divergences of seed
//! defect D14:
//! - zero records with no per-page value gives `total_pages: 0` (the seed's `0/0` is `NaN`,
//!   serialised as `null`);
//! - a page below 1 is treated as page 1 (the seed keeps it and computes a negative OFFSET).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The pagination object of the seed's export body. Serialises with exactly the seed's keys, in
/// the seed's order: `page, per_page, total, total_pages, next_page, prev_page, offsetValue`
/// (`next_page`/`prev_page` are `null` when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    /// The page served (1-based; pages below 1 become 1, D14).
    pub page: i64,
    /// Records per page; the total count when the caller gave no limit (or 0).
    pub per_page: u64,
    /// Total records (the `SELECT COUNT()` result).
    pub total: u64,
    /// `ceil(total / per_page)`; 0 when there are no records (D14).
    pub total_pages: u64,
    /// `page + 1` while `page < total_pages`, else `null`.
    pub next_page: Option<i64>,
    /// `page - 1` when `page > 1`, else `null` (also for pages past the end, as in the seed).
    pub prev_page: Option<i64>,
    /// The seed's SOQL OFFSET value: `(page - 1) * per_page` when that is below `total`, else 0.
    /// Informational: the SDK pages by keyset past OFFSET 2000 (D1).
    #[serde(rename = "offsetValue")]
    pub offset_value: u64,
}

/// A page argument as the seed received it: missing, a JSON number, or a query-string text.
#[derive(Debug, Clone, PartialEq)]
pub enum PageArg {
    /// No page given (page 1).
    Missing,
    /// A number (JavaScript `parseInt(String(n))`: `2.7` → 2).
    Number(f64),
    /// A string as from a query string (`"3"`, `"abc"`, `" 4px"`).
    Text(String),
}

/// The largest page number accepted: JavaScript numbers stop being exact integers at 2^53.
pub const MAX_PAGE: i64 = (1i64 << 53) - 1;

/// JavaScript `parseInt(s)` (radix omitted) for the integer range the SDK accepts.
///
/// Skips leading whitespace, reads an optional sign, a `0x`/`0X` prefix switches to hexadecimal,
/// then as many digits as follow. `Ok(None)` means JavaScript's `NaN` (no digits).
/// `InvalidArgument` when the value exceeds ±[`MAX_PAGE`] (JavaScript would lose precision).
pub fn parse_int_js(s: &str) -> Result<Option<i64>> {
    // JS whitespace: ASCII whitespace plus Unicode spaces; `char::is_whitespace` covers them
    // (and U+FEFF, which JS also trims).
    let t = s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, t) = if t.len() >= 2 && (t.starts_with("0x") || t.starts_with("0X")) {
        (16, &t[2..])
    } else {
        (10, t)
    };
    let digits: String = t.chars().take_while(|c| c.is_digit(radix)).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    let too_big = || Error::invalid_argument(format!("page {s:?} is too large"));
    let mut value: i64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix).unwrap_or(0) as i64;
        value = value.checked_mul(radix as i64).and_then(|v| v.checked_add(d)).ok_or_else(too_big)?;
        if value > MAX_PAGE {
            return Err(too_big());
        }
    }
    Ok(Some(if neg { -value } else { value }))
}

impl PageArg {
    /// The seed's `(page && parseInt(page)) || 1`, before the D14 clamp. `InvalidArgument` for
    /// pages beyond ±[`MAX_PAGE`] or a non-finite number.
    pub fn seed_value(&self) -> Result<i64> {
        let parsed = match self {
            PageArg::Missing => None,
            PageArg::Number(n) if *n == 0.0 || n.is_nan() => None,
            PageArg::Number(n) => {
                if !n.is_finite() || n.abs() > MAX_PAGE as f64 {
                    return Err(Error::invalid_argument(format!("page {n} is out of range")));
                }
                if n.abs() < 1e-6 {
                    // String(n) is exponential below 1e-6 ("5e-7"), and parseInt reads its
                    // leading digits: 5e-7 → 5. Rust's `{:e}` is the same shortest form.
                    parse_int_js(&format!("{n:e}"))?
                } else {
                    // parseInt(String(n)) truncates toward zero for ordinary decimals.
                    Some(n.trunc() as i64)
                }
            }
            PageArg::Text(s) if s.is_empty() => None,
            PageArg::Text(s) => parse_int_js(s)?,
        };
        // `parseInt(..) || 1`: NaN and 0 both fall back to 1.
        Ok(match parsed {
            None | Some(0) => 1,
            Some(p) => p,
        })
    }

    /// The page the SDK serves: [`PageArg::seed_value`] with pages below 1 treated as 1 (D14).
    pub fn page(&self) -> Result<i64> {
        Ok(self.seed_value()?.max(1))
    }

    /// The argument as a page size (the seed's `limit` / `per_page`, used as `per_page || items`):
    /// `None` (every record) when missing, 0, empty text or text without digits (`NaN`); text is
    /// read as `parseInt` reads it. `InvalidArgument` for a negative value, a number that is not an
    /// integer, or one beyond [`MAX_PAGE`]. The one rule behind every binding's `limit`.
    pub fn limit(&self) -> Result<Option<u64>> {
        let n = match self {
            PageArg::Missing => return Ok(None),
            PageArg::Number(n) if n.is_nan() || *n == 0.0 => return Ok(None),
            PageArg::Number(n) => {
                if !n.is_finite() || n.fract() != 0.0 || !(0.0..=MAX_PAGE as f64).contains(n) {
                    return Err(Error::invalid_argument(format!("limit {n} is not a positive integer")));
                }
                *n as i64
            }
            PageArg::Text(s) => match parse_int_js(s)? {
                None | Some(0) => return Ok(None),
                Some(n) => n,
            },
        };
        if n < 0 {
            return Err(Error::invalid_argument(format!("limit {n} is negative")));
        }
        Ok(Some(n as u64))
    }
}

/// Computes the seed's pagination object (module docs) for `items` records, page `page`
/// (pages below 1 are treated as 1, D14) and `per_page` records per page (`None` or 0 = all).
pub fn paginate(items: u64, page: i64, per_page: Option<u64>) -> Pagination {
    let page = page.max(1);
    let per_page = match per_page {
        Some(n) if n > 0 => n,
        _ => items,
    };
    let total_pages = if per_page == 0 { 0 } else { items.div_ceil(per_page) };
    let offset = (page as u128 - 1) * per_page as u128;
    Pagination {
        page,
        per_page,
        total: items,
        total_pages,
        next_page: if (page as u128) < total_pages as u128 { Some(page + 1) } else { None },
        prev_page: if page > 1 { Some(page - 1) } else { None },
        offset_value: if offset < items as u128 { offset as u64 } else { 0 },
    }
}

impl Pagination {
    /// True when the page lies within `1..=total_pages` (the seed only queries data then).
    pub fn has_data(&self) -> bool {
        self.page >= 1 && (self.page as u64) <= self.total_pages
    }

    /// Zero-based index of the page's first record (`(page - 1) * per_page`), without the seed's
    /// "0 when past the end" rule. `None` on overflow.
    pub fn start_index(&self) -> Option<u64> {
        (self.page as u64).checked_sub(1)?.checked_mul(self.per_page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_matches_javascript() {
        assert_eq!(parse_int_js("3").unwrap(), Some(3));
        assert_eq!(parse_int_js("  -4px").unwrap(), Some(-4));
        assert_eq!(parse_int_js("abc").unwrap(), None);
        assert_eq!(parse_int_js("0x1A").unwrap(), Some(26));
        assert_eq!(parse_int_js("2.9").unwrap(), Some(2));
        assert_eq!(parse_int_js("+7").unwrap(), Some(7));
        assert_eq!(parse_int_js("-").unwrap(), None);
        assert!(parse_int_js("99999999999999999999").is_err());
    }

    #[test]
    fn tiny_numbers_parse_like_javascript_exponent_strings() {
        // JavaScript: parseInt(String(5e-7)) === parseInt("5e-7") === 5.
        assert_eq!(PageArg::Number(5e-7).seed_value().unwrap(), 5);
        assert_eq!(PageArg::Number(1.5e-7).seed_value().unwrap(), 1);
        assert_eq!(PageArg::Number(-2.5e-8).seed_value().unwrap(), -2);
        assert_eq!(PageArg::Number(-2.5e-8).page().unwrap(), 1);
        // String(0.000001) is "0.000001": parseInt gives 0, so page 1.
        assert_eq!(PageArg::Number(0.000001).seed_value().unwrap(), 1);
        assert_eq!(PageArg::Number(3.9).seed_value().unwrap(), 3);
    }

    #[test]
    fn limit_rule() {
        assert_eq!(PageArg::Missing.limit().unwrap(), None);
        assert_eq!(PageArg::Text("0".into()).limit().unwrap(), None);
        assert_eq!(PageArg::Text("".into()).limit().unwrap(), None);
        assert_eq!(PageArg::Text("abc".into()).limit().unwrap(), None);
        assert_eq!(PageArg::Text("100".into()).limit().unwrap(), Some(100));
        assert_eq!(PageArg::Text(" 25px".into()).limit().unwrap(), Some(25));
        assert_eq!(PageArg::Number(25.0).limit().unwrap(), Some(25));
        assert_eq!(PageArg::Number(0.0).limit().unwrap(), None);
        assert_eq!(PageArg::Number(f64::NAN).limit().unwrap(), None);
        for bad in [PageArg::Text("-5".into()), PageArg::Number(-5.0), PageArg::Number(2.5), PageArg::Number(f64::INFINITY), PageArg::Number(1e300)] {
            assert_eq!(bad.limit().unwrap_err().kind(), crate::ErrorKind::InvalidArgument, "{bad:?}");
        }
    }

    #[test]
    fn seed_example() {
        let p = paginate(1500, 1, Some(100));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"page":1,"per_page":100,"total":1500,"total_pages":15,"next_page":2,"prev_page":null,"offsetValue":0}"#
        );
    }
}
