//! Checkpoints: where a stream stands, as an opaque token that resumes it in another process.
//!
//! The token is base64url (no padding) of a small JSON document, `{"v":1,"sobject":…,
//! "since":…,"last_id":…,"last_modstamp":…,"records":…}` (absent parts omitted). Its bytes are a
//! stored format: hosts keep tokens across releases, so fields are only ever added, optional.
//!
//! A SOQL query's checkpoint (`Client::query_stream`) adds `"query"` (SHA-256 hex of the bound
//! SOQL and the queryAll flag: it resumes only the same query with the same values) and either
//! `last_id` (keyset queries) or the query-locator point: `"locator"` (the `nextRecordsUrl` of the
//! page to read; absent for the query's first page) and `"page_index"` (records of that page
//! already delivered), or `"done":true` (nothing left).
//!
//! A Bulk API 2.0 download's checkpoint (export or query, `ExportMode::Bulk`) adds `"bulk_job"`
//! (the job's id) with `"locator"` (the page's `Sforce-Locator`, opaque text; absent for the
//! first page) and `"page_index"`, or `"done":true`; it resumes only with mode Bulk, while the
//! job exists (Salesforce deletes jobs 7 days after they end; this SDK after the last page).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::query::Position;
use crate::query::bulk_cursor::BulkStart;
use crate::query::soql_cursor::SoqlStart;
use crate::soql::{SObjectName, SalesforceId, SoqlDateTime};

const CHECKPOINT_VERSION: u32 = 1;

/// Where a stream stands: enough to resume it in another process.
///
/// Serialised by [`Checkpoint::to_token`] as an opaque, versioned token (base64url of a small
/// JSON document); it binds the sObject and the mode (full or incremental) so it cannot resume a
/// different export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    v: u32,
    sobject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modstamp: Option<String>,
    records: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page_index: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bulk_job: Option<String>,
}

impl Checkpoint {
    /// A checkpoint of `sobject` in `since`'s mode, after `pos` (none: at the start), with
    /// `records` delivered up to it.
    pub(crate) fn new(
        sobject: &SObjectName,
        since: Option<SoqlDateTime>,
        pos: Option<&Position>,
        records: u64,
    ) -> Self {
        Checkpoint {
            v: CHECKPOINT_VERSION,
            sobject: sobject.as_str().to_string(),
            since: since.map(|t| t.to_salesforce()),
            last_id: pos.map(|p| p.id.as_str().to_string()),
            last_modstamp: pos.and_then(|p| p.modstamp).map(|t| t.to_salesforce()),
            records,
            query: None,
            locator: None,
            page_index: None,
            done: false,
            bulk_job: None,
        }
    }

    /// A checkpoint of the SOQL query whose plan hash is `hash` (of `sobject`, as read from its
    /// FROM), at `point`, with `records` delivered up to it.
    pub(crate) fn for_query(sobject: &SObjectName, hash: &str, point: &SoqlStart, records: u64) -> Self {
        let mut cp = Checkpoint::new(sobject, None, None, records);
        cp.query = Some(hash.to_string());
        match point {
            SoqlStart::Beginning => {}
            SoqlStart::After(p) => cp.last_id = Some(p.id.as_str().to_string()),
            SoqlStart::Page { url, skip, .. } => {
                cp.locator = url.clone();
                cp.page_index = Some(*skip);
            }
            SoqlStart::End => cp.done = true,
        }
        cp
    }

    /// A checkpoint of a Bulk API 2.0 download (an export's, or a query's with plan hash
    /// `hash`): the job and where its pages stand (`point`: `Page` or `End`).
    pub(crate) fn for_bulk(sobject: &SObjectName, hash: Option<&str>, job: &str, point: &BulkStart, records: u64) -> Self {
        let mut cp = Checkpoint::new(sobject, None, None, records);
        cp.query = hash.map(str::to_owned);
        cp.bulk_job = Some(job.to_owned());
        match point {
            BulkStart::Page { locator, skip, .. } => {
                cp.locator = locator.clone();
                cp.page_index = Some(*skip);
            }
            BulkStart::End | BulkStart::Beginning => cp.done = true,
        }
        cp
    }

    /// Where a Bulk download resumes (`None`: not a Bulk checkpoint). `InvalidArgument` when it
    /// belongs to another query (`hash`: the request's plan hash, `None` for an export).
    pub(crate) fn resume_bulk(&self, hash: Option<&str>) -> Result<Option<BulkStart>> {
        let Some(job) = &self.bulk_job else { return Ok(None) };
        if self.query.as_deref() != hash {
            return Err(Error::invalid_argument(
                "the checkpoint belongs to another export or query (sObject, SOQL text, bind values or all_rows differ)",
            ));
        }
        if self.done {
            return Ok(Some(BulkStart::End));
        }
        Ok(Some(BulkStart::Page {
            job: job.clone(),
            locator: self.locator.clone(),
            skip: self.page_index.unwrap_or(0),
            total_before: self.records,
        }))
    }

    /// The Bulk API 2.0 job a Bulk checkpoint reads (`750…`), if it is one.
    pub fn bulk_job_id(&self) -> Option<&str> {
        self.bulk_job.as_deref()
    }

    fn refuse_bulk(&self) -> Result<()> {
        match &self.bulk_job {
            Some(_) => Err(Error::invalid_argument(
                "the checkpoint is of a Bulk API 2.0 download: resume it with mode Bulk (ExportMode::Bulk)",
            )),
            None => Ok(()),
        }
    }

    /// The opaque token (URL-safe base64 without padding).
    pub fn to_token(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Parses a token from [`Checkpoint::to_token`]; `InvalidArgument` for anything else
    /// (garbage, another version, malformed Id or datetime, inconsistent mode).
    pub fn from_token(token: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid_argument(format!("invalid checkpoint token: {why}"));
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad("not base64url"))?;
        let cp: Checkpoint = serde_json::from_slice(&bytes).map_err(|_| bad("not a checkpoint document"))?;
        if cp.v != CHECKPOINT_VERSION {
            return Err(bad(&format!("version {} is not supported", cp.v)));
        }
        SObjectName::new(&cp.sobject).map_err(|_| bad("bad sObject name"))?;
        if let Some(id) = &cp.last_id {
            SalesforceId::new(id).map_err(|_| bad("bad record Id"))?;
        }
        for t in [&cp.since, &cp.last_modstamp].into_iter().flatten() {
            SoqlDateTime::parse(t).map_err(|_| bad("bad datetime"))?;
        }
        // Full mode has no SystemModstamp; incremental mode has both parts of the position or neither.
        let consistent = matches!(
            (&cp.since, &cp.last_id, &cp.last_modstamp),
            (None, _, None) | (Some(_), Some(_), Some(_)) | (Some(_), None, None)
        );
        if !consistent {
            return Err(bad("inconsistent mode"));
        }
        if let Some(job) = &cp.bulk_job {
            let alnum = |t: &str| t.bytes().all(|b| b.is_ascii_alphanumeric());
            if !(15..=18).contains(&job.len()) || !alnum(job) {
                return Err(bad("bad Bulk job id"));
            }
            // A Bulk locator is opaque text ("MTAwMDA" [bulk-and-parallel.md §1.4]), never a path.
            let locator_ok = |l: &str| {
                !l.is_empty() && l.len() <= 512 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=_-.".contains(&b))
            };
            if cp.since.is_some() || cp.last_id.is_some() || cp.locator.as_deref().is_some_and(|l| !locator_ok(l))
                || cp.done && (cp.locator.is_some() || cp.page_index.is_some())
                || cp.query.as_deref().is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(bad("inconsistent Bulk position"));
            }
            return Ok(cp);
        }
        match &cp.query {
            Some(hash) => {
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad("bad query hash"));
                }
                let locator_point = cp.locator.is_some() || cp.page_index.is_some();
                if cp.since.is_some() || (cp.last_id.is_some() as u8 + locator_point as u8 + cp.done as u8) > 1 {
                    return Err(bad("inconsistent query position"));
                }
                if let Some(l) = &cp.locator
                    && (!l.starts_with('/') || l.starts_with("//") || l.len() > 2048 || !l.bytes().all(|b| b.is_ascii_graphic()))
                {
                    return Err(bad("bad query locator"));
                }
            }
            None if cp.locator.is_some() || cp.page_index.is_some() || cp.done => {
                return Err(bad("query fields without a query"));
            }
            None => {}
        }
        Ok(cp)
    }

    /// The sObject this checkpoint belongs to.
    pub fn sobject(&self) -> &str {
        &self.sobject
    }
    /// Records delivered up to this checkpoint.
    pub fn records(&self) -> u64 {
        self.records
    }
    /// The last record Id delivered, if any.
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }
    /// Incremental mode: the last SystemModstamp delivered (`…+0000` form). After a complete
    /// incremental export, this is the `since` for the next one.
    pub fn last_modstamp(&self) -> Option<&str> {
        self.last_modstamp.as_deref()
    }
    /// Incremental mode: the export's lower bound (`…+0000` form).
    pub fn since(&self) -> Option<&str> {
        self.since.as_deref()
    }

    /// Where a stream of `sobject` in `since`'s mode resumes: after this checkpoint's position.
    /// `InvalidArgument` when the checkpoint is for another sObject or mode.
    pub(crate) fn resume_position(
        &self,
        sobject: &SObjectName,
        since: Option<SoqlDateTime>,
    ) -> Result<Option<Position>> {
        self.refuse_bulk()?;
        if self.query.is_some() {
            return Err(Error::invalid_argument(
                "the checkpoint is of a SOQL query (query_stream), not of an export",
            ));
        }
        if !self.sobject.eq_ignore_ascii_case(sobject.as_str()) {
            return Err(Error::invalid_argument(format!(
                "the checkpoint is for sObject {}, not {}",
                self.sobject, sobject
            )));
        }
        let cp_since = self.since.as_deref().map(SoqlDateTime::parse).transpose()?;
        if cp_since != since {
            return Err(Error::invalid_argument(
                "the checkpoint was taken with a different `since` (or mode) than this request",
            ));
        }
        self.position()
    }

    /// True for a SOQL query's checkpoint (from `Client::query_stream`).
    pub fn is_query(&self) -> bool {
        self.query.is_some()
    }

    /// Where the query with plan hash `hash` resumes. `InvalidArgument` when the checkpoint is
    /// an export's, or another query's (other SOQL text, bind values or queryAll flag).
    pub(crate) fn resume_query(&self, hash: &str) -> Result<SoqlStart> {
        self.refuse_bulk()?;
        match &self.query {
            None => Err(Error::invalid_argument(
                "the checkpoint is of an export, not of a SOQL query: resume it with export_stream",
            )),
            Some(h) if h != hash => Err(Error::invalid_argument(
                "the checkpoint belongs to another query: the SOQL text, a bind value or all_rows differs",
            )),
            Some(_) if self.done => Ok(SoqlStart::End),
            Some(_) => Ok(match (self.position()?, &self.locator, self.page_index) {
                (Some(p), _, _) => SoqlStart::After(p),
                (None, url, Some(skip)) => SoqlStart::Page { url: url.clone(), skip, total_before: self.records },
                (None, Some(url), None) => SoqlStart::Page { url: Some(url.clone()), skip: 0, total_before: self.records },
                (None, None, None) => SoqlStart::Beginning,
            }),
        }
    }

    fn position(&self) -> Result<Option<Position>> {
        match &self.last_id {
            None => Ok(None),
            Some(id) => Ok(Some(Position {
                id: SalesforceId::new(id)?,
                modstamp: self.last_modstamp.as_deref().map(SoqlDateTime::parse).transpose()?,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens from before the query layer (the same bytes) still parse, and new ones are equal.
    #[test]
    fn the_token_format_is_stable() {
        let contact = SObjectName::new("Contact").unwrap();
        let pos = Position { id: SalesforceId::new("003000000000001AAA").unwrap(), modstamp: None };
        let full = Checkpoint::new(&contact, None, Some(&pos), 5);
        let doc = r#"{"v":1,"sobject":"Contact","last_id":"003000000000001AAA","records":5}"#;
        assert_eq!(full.to_token(), URL_SAFE_NO_PAD.encode(doc));
        assert_eq!(Checkpoint::from_token(&full.to_token()).unwrap(), full);

        let t = SoqlDateTime::parse("2024-01-02T03:04:05.678Z").unwrap();
        let since = SoqlDateTime::parse("2024-01-01T00:00:00Z").unwrap();
        let pos = Position { modstamp: Some(t), ..pos };
        let inc = Checkpoint::new(&contact, Some(since), Some(&pos), 7);
        let doc = concat!(
            r#"{"v":1,"sobject":"Contact","since":"2024-01-01T00:00:00.000+0000","#,
            r#""last_id":"003000000000001AAA","last_modstamp":"2024-01-02T03:04:05.678+0000","records":7}"#
        );
        assert_eq!(inc.to_token(), URL_SAFE_NO_PAD.encode(doc));
        assert_eq!(inc.resume_position(&contact, Some(since)).unwrap(), Some(pos));
        let start = URL_SAFE_NO_PAD.encode(r#"{"v":1,"sobject":"Contact","records":0}"#);
        assert_eq!(Checkpoint::new(&contact, None, None, 0).to_token(), start);
    }

    #[test]
    fn query_checkpoints_round_trip_and_bind_their_query() {
        let contact = SObjectName::new("Contact").unwrap();
        let hash = "ab".repeat(32);
        let page = SoqlStart::Page { url: Some("/services/data/v59.0/query/01gX-200".into()), skip: 3, total_before: 0 };
        let pos = Position { id: SalesforceId::new("003000000000001AAA").unwrap(), modstamp: None };
        for point in [SoqlStart::Beginning, SoqlStart::After(pos), page, SoqlStart::End,
                      SoqlStart::Page { url: None, skip: 2, total_before: 0 }] {
            let cp = Checkpoint::for_query(&contact, &hash, &point, 9);
            let back = Checkpoint::from_token(&cp.to_token()).unwrap();
            assert_eq!(back, cp);
            let want = match point {
                SoqlStart::Page { url, skip, .. } => SoqlStart::Page { url, skip, total_before: 9 },
                other => other,
            };
            assert_eq!(back.resume_query(&hash).unwrap(), want);
            assert!(back.is_query());
            assert_eq!(back.resume_query(&"cd".repeat(32)).unwrap_err().kind(), crate::ErrorKind::InvalidArgument);
            assert_eq!(back.resume_position(&contact, None).unwrap_err().kind(), crate::ErrorKind::InvalidArgument);
        }
        let export = Checkpoint::new(&contact, None, None, 0);
        assert_eq!(export.resume_query(&hash).unwrap_err().kind(), crate::ErrorKind::InvalidArgument);
        for doc in [
            r#"{"v":1,"sobject":"Contact","records":0,"query":"xyz"}"#.to_string(),
            format!(r#"{{"v":1,"sobject":"Contact","records":0,"query":"{hash}","locator":"https://evil/x","page_index":1}}"#),
            format!(r#"{{"v":1,"sobject":"Contact","last_id":"003000000000001AAA","records":0,"query":"{hash}","done":true}}"#),
            r#"{"v":1,"sobject":"Contact","records":0,"locator":"/x"}"#.to_string(),
        ] {
            assert!(Checkpoint::from_token(&URL_SAFE_NO_PAD.encode(doc.as_bytes())).is_err(), "{doc}");
        }
    }

    #[test]
    fn bulk_checkpoints_round_trip_and_resume_only_with_bulk() {
        let contact = SObjectName::new("Contact").unwrap();
        let job = "750R0000000zxr8IAA";
        let point = BulkStart::Page { job: job.into(), locator: Some("MTAwMDA".into()), skip: 3, total_before: 0 };
        let cp = Checkpoint::for_bulk(&contact, None, job, &point, 10_003);
        let doc = r#"{"v":1,"sobject":"Contact","records":10003,"locator":"MTAwMDA","page_index":3,"bulk_job":"750R0000000zxr8IAA"}"#;
        assert_eq!(cp.to_token(), URL_SAFE_NO_PAD.encode(doc));
        let back = Checkpoint::from_token(&cp.to_token()).unwrap();
        assert_eq!(back.bulk_job_id(), Some(job));
        let want = BulkStart::Page { job: job.into(), locator: Some("MTAwMDA".into()), skip: 3, total_before: 10_003 };
        assert_eq!(back.resume_bulk(None).unwrap(), Some(want));
        assert_eq!(back.resume_position(&contact, None).unwrap_err().kind(), crate::ErrorKind::InvalidArgument);
        assert_eq!(back.resume_bulk(Some(&"ab".repeat(32))).unwrap_err().kind(), crate::ErrorKind::InvalidArgument);
        let end = Checkpoint::for_bulk(&contact, Some(&"ab".repeat(32)), job, &BulkStart::End, 5);
        assert_eq!(Checkpoint::from_token(&end.to_token()).unwrap().resume_bulk(Some(&"ab".repeat(32))).unwrap(), Some(BulkStart::End));
        assert_eq!(end.resume_query(&"ab".repeat(32)).unwrap_err().kind(), crate::ErrorKind::InvalidArgument);
        assert_eq!(Checkpoint::new(&contact, None, None, 0).resume_bulk(None).unwrap(), None);
        for doc in [
            r#"{"v":1,"sobject":"Contact","records":0,"bulk_job":"750/../../x"}"#,
            r#"{"v":1,"sobject":"Contact","records":0,"bulk_job":"750R0000000zxr8IAA","locator":"/services/x?y"}"#,
            r#"{"v":1,"sobject":"Contact","records":0,"bulk_job":"750R0000000zxr8IAA","last_id":"003000000000001AAA"}"#,
            r#"{"v":1,"sobject":"Contact","records":0,"bulk_job":"750R0000000zxr8IAA","done":true,"page_index":1}"#,
        ] {
            assert!(Checkpoint::from_token(&URL_SAFE_NO_PAD.encode(doc.as_bytes())).is_err(), "{doc}");
        }
    }

    #[test]
    fn a_checkpoint_resumes_only_its_own_export() {
        let contact = SObjectName::new("Contact").unwrap();
        let cp = Checkpoint::new(&contact, None, None, 0);
        assert_eq!(cp.resume_position(&SObjectName::new("contact").unwrap(), None).unwrap(), None);
        let lead = SObjectName::new("Lead").unwrap();
        assert_eq!(cp.resume_position(&lead, None).unwrap_err().kind(), crate::ErrorKind::InvalidArgument);
        let since = SoqlDateTime::parse("2024-01-01T00:00:00Z").ok();
        assert_eq!(cp.resume_position(&contact, since).unwrap_err().kind(), crate::ErrorKind::InvalidArgument);
    }
}
