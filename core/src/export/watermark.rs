//! Incremental state: the [`Watermark`] an incremental export returns and the next run passes
//! back, so that every change arrives exactly once (issue 16, "Incremental exports that cannot
//! silently miss changes").
//!
//! A resume [`crate::export::Checkpoint`] continues *one* export that stopped; a watermark starts
//! the *next* one. Reusing a checkpoint as incremental state misses changes (a full export's
//! checkpoint is a last Id: new changes to older Ids never come), so the two are different
//! tokens, and one is refused where the other is expected.
//!
//! How a run uses a watermark `(M, seen)` with lookback `L` (default [`DEFAULT_LOOKBACK`]):
//! - it queries `SystemModstamp >= M - L` (ordered by `SystemModstamp, Id`, as every incremental
//!   export). The lookback re-reads the last `L` of the previous run's window, because a row's
//!   SystemModstamp is set when its transaction starts writing, not when it commits: a row
//!   committed "late" can carry a SystemModstamp earlier than rows the previous run already
//!   read, and a plain `>= M` would miss it for ever (Airbyte's Salesforce source re-reads a
//!   600 s window for the same reason: `LOOKBACK_SECONDS=600` [bulk-and-parallel.md §3,
//!   "Incremental"], motivated by airbyte#27146, rows missed because SystemModstamp commits lag
//!   [bulk-and-parallel.md §4 item 6]);
//! - `seen` holds `(Id, SystemModstamp)` of every record the previous runs delivered with a
//!   SystemModstamp in `[M - L, M]`: a record read again with the same pair is the same change,
//!   already delivered, and is skipped; a record changed again has a new SystemModstamp and is
//!   delivered. So each change arrives once, also the late one, provided it commits within `L`
//!   of its SystemModstamp.
//!
//! The returned watermark is `(max SystemModstamp delivered so far, the pairs delivered within L
//! of it)`, or the input one when nothing new arrived. Its token is base64url of
//! `{"v":1,"kind":"watermark","sobject":…,"modstamp":…,"lookback_ms":…,"seen":[[Id,modstamp],…]}`;
//! its size grows with the records changed within `L` of the end (about 45 bytes each).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::query::{Position, RawRecord};
use crate::soql::{SObjectName, SoqlDateTime};

const WATERMARK_VERSION: u32 = 1;
const KIND: &str = "watermark";

/// The default lookback: 600 s, Airbyte's for the same problem (see the module docs).
pub const DEFAULT_LOOKBACK: Duration = Duration::from_secs(600);

/// The longest lookback accepted (7 days): a longer one re-reads more than it protects.
pub const MAX_LOOKBACK: Duration = Duration::from_secs(7 * 86_400);

/// Incremental state between runs of one export (see the module docs). Opaque to hosts: store
/// [`Watermark::to_token`] and give it back with [`crate::export::ExportRequest::after_watermark`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    v: u32,
    kind: String,
    sobject: String,
    /// The highest SystemModstamp delivered (Salesforce's form).
    modstamp: String,
    /// The lookback the pairs in `seen` were kept for (ms).
    lookback_ms: u64,
    /// `(Id, SystemModstamp)` delivered within `lookback_ms` of `modstamp`.
    seen: Vec<(String, String)>,
}

impl Watermark {
    /// The token to store (base64url, no padding).
    pub fn to_token(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a watermark serialises"))
    }

    /// Parses a token from [`Watermark::to_token`]. A resume checkpoint's token is refused with
    /// `InvalidArgument` saying so (it continues one stopped export; it is not incremental state),
    /// as is anything else that is not a watermark.
    pub fn from_token(token: &str) -> Result<Watermark> {
        let bad = |why: &str| Error::invalid_argument(format!("not a watermark token: {why}"));
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad("not base64url"))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad("not JSON"))?;
        if value.get("kind").and_then(|k| k.as_str()) != Some(KIND) {
            if value.get("records").is_some() && value.get("sobject").is_some() {
                return Err(Error::invalid_argument(
                    "this token is a resume checkpoint, not a watermark: a checkpoint continues one export that \
                     stopped (pass it as the checkpoint); the next incremental run starts from the watermark the \
                     previous run returned (or from a `since` time)",
                ));
            }
            return Err(bad("no watermark kind"));
        }
        let w: Watermark = serde_json::from_value(value).map_err(|e| bad(&e.to_string()))?;
        if w.v != WATERMARK_VERSION {
            return Err(bad(&format!("version {} (this SDK reads {WATERMARK_VERSION})", w.v)));
        }
        SObjectName::new(&w.sobject)?;
        SoqlDateTime::parse(&w.modstamp)?;
        for (_, stamp) in &w.seen {
            SoqlDateTime::parse(stamp)?;
        }
        Ok(w)
    }

    /// The sObject it belongs to.
    pub fn sobject(&self) -> &str {
        &self.sobject
    }

    /// The highest SystemModstamp delivered up to this watermark.
    pub fn modstamp(&self) -> Result<SoqlDateTime> {
        SoqlDateTime::parse(&self.modstamp)
    }

    /// Records remembered at the boundary (delivered within the lookback of [`Watermark::modstamp`]).
    pub fn boundary_len(&self) -> usize {
        self.seen.len()
    }
}

/// Checks a lookback: at most [`MAX_LOOKBACK`]; `InvalidArgument` otherwise.
pub(crate) fn check_lookback(lookback: Duration) -> Result<Duration> {
    if lookback > MAX_LOOKBACK {
        return Err(Error::invalid_argument(format!(
            "lookback must be at most {} s, not {} s",
            MAX_LOOKBACK.as_secs(),
            lookback.as_secs()
        )));
    }
    Ok(lookback)
}

/// Tracks a run's watermark and skips the changes earlier runs delivered (see the module docs).
#[derive(Debug)]
pub(crate) struct WatermarkTracker {
    sobject: String,
    lookback_ms: i64,
    /// The highest SystemModstamp delivered (input watermark's, then this run's).
    max: Option<SoqlDateTime>,
    /// Pairs delivered by earlier runs (from the input watermark): skipped when read again.
    before: HashMap<String, i64>,
    /// Pairs delivered within the lookback of `max` (earlier runs' and this run's).
    window: Vec<(String, SoqlDateTime)>,
    /// Records skipped as already delivered.
    skipped: u64,
}

impl WatermarkTracker {
    /// A tracker for a run of `sobject` starting from `input` (none: a plain `since` run).
    /// Errors: `InvalidArgument` when `input` is another sObject's.
    pub(crate) fn new(sobject: &SObjectName, input: Option<&Watermark>, lookback: Duration) -> Result<Self> {
        let lookback_ms = i64::try_from(check_lookback(lookback)?.as_millis()).unwrap_or(i64::MAX);
        let mut t = WatermarkTracker {
            sobject: sobject.as_str().to_string(),
            lookback_ms,
            max: None,
            before: HashMap::new(),
            window: Vec::new(),
            skipped: 0,
        };
        if let Some(w) = input {
            if !w.sobject.eq_ignore_ascii_case(sobject.as_str()) {
                return Err(Error::invalid_argument(format!(
                    "the watermark is for sObject {}, not {}",
                    w.sobject, sobject
                )));
            }
            t.max = Some(w.modstamp()?);
            for (id, stamp) in &w.seen {
                let stamp = SoqlDateTime::parse(stamp)?;
                t.before.insert(id.clone(), stamp.epoch_ms());
                t.window.push((id.clone(), stamp));
            }
        }
        Ok(t)
    }

    /// The `since` a run from `input` queries from: its modstamp minus the lookback.
    pub(crate) fn since_for(input: &Watermark, lookback: Duration) -> Result<SoqlDateTime> {
        let ms = i64::try_from(check_lookback(lookback)?.as_millis()).unwrap_or(i64::MAX);
        Ok(SoqlDateTime::from_epoch_ms(input.modstamp()?.epoch_ms().saturating_sub(ms)))
    }

    /// Keeps the records of a batch that are new changes (drops those earlier runs delivered) and
    /// records them in the window.
    pub(crate) fn admit(&mut self, records: Vec<RawRecord>) -> Result<Vec<RawRecord>> {
        let mut kept = Vec::with_capacity(records.len());
        for r in records {
            let pos = Position::after(&r, true)?;
            let stamp = pos.modstamp.ok_or_else(|| Error::internal("incremental record without SystemModstamp"))?;
            let id = pos.id.as_str();
            if self.before.get(id) == Some(&stamp.epoch_ms()) {
                self.skipped += 1;
                continue;
            }
            if self.max.is_none_or(|m| stamp.epoch_ms() > m.epoch_ms()) {
                self.max = Some(stamp);
            }
            self.window.push((id.to_string(), stamp));
            kept.push(r);
        }
        if let Some(max) = self.max {
            let floor = max.epoch_ms().saturating_sub(self.lookback_ms);
            self.window.retain(|(_, s)| s.epoch_ms() >= floor);
        }
        Ok(kept)
    }

    /// Records skipped as delivered by an earlier run.
    pub(crate) fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The watermark after what was delivered; `None` before any record when the run had no input
    /// watermark (the next run then starts from the same `since`).
    pub(crate) fn watermark(&self, since: Option<SoqlDateTime>) -> Option<Watermark> {
        let max = self.max.or(since)?;
        let mut seen: Vec<(String, String)> =
            self.window.iter().map(|(id, s)| (id.clone(), s.to_salesforce())).collect();
        seen.sort();
        seen.dedup();
        Some(Watermark {
            v: WATERMARK_VERSION,
            kind: KIND.to_string(),
            sobject: self.sobject.clone(),
            modstamp: max.to_salesforce(),
            lookback_ms: u64::try_from(self.lookback_ms).unwrap_or(0),
            seen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u32, stamp: &str) -> RawRecord {
        RawRecord::from_json(&format!(r#"{{"Id":"006{id:015}","SystemModstamp":"{stamp}"}}"#)).unwrap()
    }
    fn ids(v: &[RawRecord]) -> Vec<String> {
        v.iter().map(|r| r.id().unwrap().to_string()).collect()
    }

    #[test]
    fn the_boundary_is_skipped_and_a_late_change_is_not() {
        let opp = SObjectName::new("Opportunity").unwrap();
        let mut run1 = WatermarkTracker::new(&opp, None, DEFAULT_LOOKBACK).unwrap();
        let got = run1
            .admit(vec![rec(1, "2024-01-01T00:00:00.000+0000"), rec(2, "2024-01-01T01:00:00.000+0000"), rec(3, "2024-01-01T01:05:00.000+0000")])
            .unwrap();
        assert_eq!(got.len(), 3);
        let w = run1.watermark(None).unwrap();
        assert_eq!(w.modstamp, "2024-01-01T01:05:00.000+0000");
        assert_eq!(w.boundary_len(), 2, "1 is more than 600 s before the end");
        let w = Watermark::from_token(&w.to_token()).unwrap();
        assert_eq!(WatermarkTracker::since_for(&w, DEFAULT_LOOKBACK).unwrap().to_salesforce(), "2024-01-01T00:55:00.000+0000");
        // Run 2 re-reads the window: 2 and 3 unchanged are skipped, 3 changed again and the late
        // 4 (earlier than run 1's end) are delivered.
        let mut run2 = WatermarkTracker::new(&opp, Some(&w), DEFAULT_LOOKBACK).unwrap();
        let got = run2
            .admit(vec![
                rec(2, "2024-01-01T01:00:00.000+0000"),
                rec(4, "2024-01-01T01:02:00.000+0000"),
                rec(3, "2024-01-01T01:05:00.000+0000"),
                rec(3, "2024-01-01T02:00:00.000+0000"),
            ])
            .unwrap();
        assert_eq!(ids(&got), vec![format!("006{:015}", 4), format!("006{:015}", 3)]);
        assert_eq!(run2.skipped(), 2);
        let w2 = run2.watermark(None).unwrap();
        assert_eq!((w2.modstamp.as_str(), w2.boundary_len()), ("2024-01-01T02:00:00.000+0000", 1));
        // Nothing new: the watermark stays.
        let run3 = WatermarkTracker::new(&opp, Some(&w2), DEFAULT_LOOKBACK).unwrap();
        assert_eq!(run3.watermark(None).unwrap(), w2);
    }

    #[test]
    fn a_checkpoint_or_another_sobject_is_refused() {
        let opp = SObjectName::new("Opportunity").unwrap();
        let cp = crate::export::Checkpoint::new(&opp, None, None, 5).to_token();
        let e = Watermark::from_token(&cp).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
        assert!(e.message().contains("resume checkpoint, not a watermark"), "{e}");
        assert!(Watermark::from_token("not a token").is_err());
        let mut t = WatermarkTracker::new(&opp, None, DEFAULT_LOOKBACK).unwrap();
        t.admit(vec![rec(1, "2024-01-01T00:00:00.000+0000")]).unwrap();
        let w = t.watermark(None).unwrap();
        let contact = SObjectName::new("Contact").unwrap();
        assert!(WatermarkTracker::new(&contact, Some(&w), DEFAULT_LOOKBACK).is_err());
        assert!(check_lookback(Duration::from_secs(8 * 86_400)).is_err());
    }
}
