//! Positions in a keyset order: where a source stands, read from the last record it returned.
//!
//! Every source orders records by a key Salesforce indexes: `Id` (full mode) or
//! `(SystemModstamp, Id)` (incremental mode, `since`). The position after a record is that key,
//! so a query restarted with `WHERE key > position` continues exactly after it, in any process.

use crate::error::{Error, ErrorKind, Result};
use crate::query::{RawRecord, record_id};
use crate::soql::{SalesforceId, SoqlDateTime};

/// Just after the record with this Id (and, in incremental order, this SystemModstamp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    /// The record's Id.
    pub(crate) id: SalesforceId,
    /// The record's SystemModstamp; `Some` exactly in incremental order.
    pub(crate) modstamp: Option<SoqlDateTime>,
}

impl Position {
    /// The position after `record`: its Id (the `Id` field, else `attributes.url`) and, when
    /// `incremental`, its `SystemModstamp` (any case). `Protocol` when one is missing or malformed.
    pub(crate) fn after(record: &RawRecord, incremental: bool) -> Result<Position> {
        let record = &record.to_record()?;
        let id = record_id(record)?;
        let modstamp = if incremental {
            let text = record
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("SystemModstamp"))
                .and_then(|(_, v)| v.as_str())
                .ok_or_else(|| Error::new(ErrorKind::Protocol, format!("record {id} has no SystemModstamp")))?;
            Some(SoqlDateTime::parse(text).map_err(|_| {
                Error::new(ErrorKind::Protocol, format!("record {id} has a malformed SystemModstamp {text:?}"))
            })?)
        } else {
            None
        };
        Ok(Position { id, modstamp })
    }

    /// The keyset order of positions: `(SystemModstamp, Id)` in incremental order, `Id` in full
    /// order (where `modstamp` is `None` for every position).
    pub(crate) fn is_after(&self, other: &Position) -> bool {
        (self.modstamp, &self.id) > (other.modstamp, &other.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> RawRecord {
        RawRecord::from_json(json).unwrap()
    }

    #[test]
    fn position_after_a_record() {
        let r = raw(r#"{"attributes":{"type":"Contact","url":"/services/data/v59.0/sobjects/Contact/003000000000001AAA"},"systemmodstamp":"2024-01-01T00:00:00.000+0000"}"#);
        let full = Position::after(&r, false).unwrap();
        assert_eq!((full.id.as_str(), full.modstamp), ("003000000000001AAA", None));
        let inc = Position::after(&r, true).unwrap();
        assert_eq!(inc.modstamp.unwrap().to_salesforce(), "2024-01-01T00:00:00.000+0000");
        let no_stamp = raw(r#"{"Id":"003000000000001AAA"}"#);
        assert_eq!(Position::after(&no_stamp, true).unwrap_err().kind(), ErrorKind::Protocol);
        let bad_stamp = raw(r#"{"Id":"003000000000001AAA","SystemModstamp":"yesterday"}"#);
        assert_eq!(Position::after(&bad_stamp, true).unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(Position::after(&raw(r#"{"Name":"x"}"#), false).unwrap_err().kind(), ErrorKind::Protocol);
    }
}
