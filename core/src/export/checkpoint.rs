//! Checkpoints: where a stream stands, as an opaque token that resumes it in another process.
//!
//! The token is base64url (no padding) of a small JSON document, `{"v":1,"sobject":…,
//! "since":…,"last_id":…,"last_modstamp":…,"records":…}` (absent parts omitted). Its bytes are a
//! stored format: hosts keep tokens across releases, so fields are only ever added, optional.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::query::Position;
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
