//! Checkpoints of an [`ExportStream`]: after the last batch, or after one record of it (for
//! iterators that stop mid-batch), for every source (keyset positions, a query's locator page,
//! a Bulk job's page).

use crate::error::{Error, Result};
use crate::export::Checkpoint;
use crate::query::soql_cursor::SoqlStart;
use crate::query::{Position, RawRecord};

use super::ExportStream;

impl ExportStream {
    /// A checkpoint after the last delivered batch (or the one resumed from, before any batch).
    pub fn checkpoint(&self) -> Checkpoint {
        if let Some(cp) = self.bulk.as_ref().and_then(|b| b.checkpoint(&self.sobject, self.progress.records)) {
            return cp;
        }
        match &self.query {
            Some(q) => {
                let point = if q.keyset {
                    self.position.clone().map_or(SoqlStart::Beginning, SoqlStart::After)
                } else {
                    q.point.clone()
                };
                Checkpoint::for_query(&self.sobject, &q.hash, &point, self.progress.records)
            }
            None => Checkpoint::new(&self.sobject, self.since, self.position.as_ref(), self.progress.records),
        }
    }

    /// A checkpoint right after `record` (record-granular, for callers that stop mid-batch).
    /// `InvalidArgument` when the record has no usable Id (or no SystemModstamp in incremental
    /// mode); for a query that resumes by locator, when the record is not in the last batch.
    pub fn checkpoint_after(&self, record: &RawRecord) -> Result<Checkpoint> {
        let found = self.last_batch.iter().position(|r| r.same_as(record));
        if self.bulk.as_ref().is_some_and(|b| b.fallback().is_none() && b.job_id().is_some()) {
            let index = found.ok_or_else(|| {
                Error::invalid_argument("cannot checkpoint after this record: it is not in the last batch")
            })?;
            return self.checkpoint_at(index);
        }
        if let Some(q) = &self.query
            && !q.keyset
        {
            let index = found.ok_or_else(|| {
                Error::invalid_argument("cannot checkpoint after this record: it is not in the last batch")
            })?;
            return self.checkpoint_at(index);
        }
        let pos = Position::after(record, self.since.is_some())
            .map_err(|e| Error::invalid_argument(format!("cannot checkpoint after this record: {}", e.message())))?;
        let n = self.last_batch.len() as u64;
        let index = found.or_else(|| {
            self.last_batch.iter().position(|r| r.id().is_ok_and(|id| id == pos.id))
        });
        let records = match index {
            Some(i) => self.progress.records.saturating_sub(n).saturating_add(i as u64 + 1),
            None => self.progress.records,
        };
        Ok(self.checkpoint_for(pos, records))
    }

    fn checkpoint_for(&self, pos: Position, records: u64) -> Checkpoint {
        match &self.query {
            Some(q) => Checkpoint::for_query(&self.sobject, &q.hash, &SoqlStart::After(pos), records),
            None => Checkpoint::new(&self.sobject, self.since, Some(&pos), records),
        }
    }

    /// A checkpoint right after the record at `index` of the last delivered batch (0-based):
    /// what an iterator that stops mid-batch hands out, without passing records back.
    /// `InvalidArgument` when `index` is outside the last batch, or the record has no usable Id
    /// (or no SystemModstamp in incremental mode).
    pub fn checkpoint_at(&self, index: usize) -> Result<Checkpoint> {
        let record = self.last_batch.get(index).ok_or_else(|| {
            Error::invalid_argument(format!(
                "cannot checkpoint at record {index}: the last batch has {} records",
                self.last_batch.len()
            ))
        })?;
        let records = self.progress.records.saturating_sub(self.last_batch.len() as u64).saturating_add(index as u64 + 1);
        if let Some(cp) = self.bulk.as_ref().and_then(|b| b.checkpoint_at(&self.sobject, index, self.last_batch.len(), records)) {
            return Ok(cp);
        }
        if let Some(q) = &self.query
            && !q.keyset
        {
            let point = match &q.page {
                Some(page) if index + 1 < self.last_batch.len() => SoqlStart::Page {
                    url: page.url.clone(),
                    skip: page.skipped + index as u64 + 1,
                    total_before: 0,
                },
                _ => q.point.clone(),
            };
            return Ok(Checkpoint::for_query(&self.sobject, &q.hash, &point, records));
        }
        let pos = Position::after(record, self.since.is_some())
            .map_err(|e| Error::invalid_argument(format!("cannot checkpoint after this record: {}", e.message())))?;
        Ok(self.checkpoint_for(pos, records))
    }
}
