//! Test-driven mutations: touched `SystemModstamp`s and soft deletes, kept in the [`Overlay`].

use std::collections::HashSet;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::{Dataset, Overlay, SObject, mix};

impl Dataset {
    /// Mark up to `n` live records of `obj` as modified now: their `SystemModstamp`/`LastModifiedDate`
    /// become `now_ms` (+1 ms per record so they stay distinct and increasing). Picks records spread
    /// over the id range, deterministically. Returns their Ids.
    pub fn touch(&self, ov: &mut Overlay, obj: SObject, n: u64, now_ms: i64) -> Vec<String> {
        let picks = self.pick(ov, obj, n, 0x70C4);
        let mut out = Vec::with_capacity(picks.len());
        for idx in picks {
            ov.touch_seq += 1;
            ov.touched[obj.slot()].insert(idx, now_ms + ov.touch_seq);
            out.push(self.id(obj, idx));
        }
        out
    }

    /// Touch specific records by Id. Unknown Ids are returned in the error.
    pub fn touch_ids(&self, ov: &mut Overlay, obj: SObject, ids: &[String], now_ms: i64) -> Result<Vec<String>, String> {
        let idxs = self.resolve_ids(obj, ids)?;
        Ok(idxs
            .into_iter()
            .map(|idx| {
                ov.touch_seq += 1;
                ov.touched[obj.slot()].insert(idx, now_ms + ov.touch_seq);
                self.id(obj, idx)
            })
            .collect())
    }

    /// Soft-delete up to `n` live records of `obj` (also bumps their `SystemModstamp`, as a real
    /// delete does). Returns their Ids.
    pub fn delete(&self, ov: &mut Overlay, obj: SObject, n: u64, now_ms: i64) -> Vec<String> {
        let picks = self.pick(ov, obj, n, 0xDE1E);
        self.delete_idxs(ov, obj, picks, now_ms)
    }

    /// Soft-delete specific records by Id.
    pub fn delete_ids(&self, ov: &mut Overlay, obj: SObject, ids: &[String], now_ms: i64) -> Result<Vec<String>, String> {
        let idxs = self.resolve_ids(obj, ids)?;
        Ok(self.delete_idxs(ov, obj, idxs, now_ms))
    }

    fn delete_idxs(&self, ov: &mut Overlay, obj: SObject, idxs: Vec<u64>, now_ms: i64) -> Vec<String> {
        idxs.into_iter()
            .map(|idx| {
                ov.deleted[obj.slot()].insert(idx);
                ov.touch_seq += 1;
                ov.touched[obj.slot()].insert(idx, now_ms + ov.touch_seq);
                self.id(obj, idx)
            })
            .collect()
    }

    fn resolve_ids(&self, obj: SObject, ids: &[String]) -> Result<Vec<u64>, String> {
        ids.iter()
            .map(|id| self.index_of(obj, id).ok_or_else(|| format!("not a {} Id of this org: {id}", obj.name())))
            .collect()
    }

    fn pick(&self, ov: &Overlay, obj: SObject, n: u64, salt: u64) -> Vec<u64> {
        let count = self.count(obj);
        let mut out = Vec::new();
        if count == 0 || n == 0 {
            return out;
        }
        let mut rng = SmallRng::seed_from_u64(mix(self.seed ^ salt ^ ov.touch_seq as u64));
        let mut chosen = HashSet::new();
        let mut attempts = 0u64;
        while (out.len() as u64) < n && attempts < n.saturating_mul(20).max(1000) {
            attempts += 1;
            let idx = rng.random_range(0..count);
            if ov.is_deleted(obj, idx) || !chosen.insert(idx) {
                continue;
            }
            out.push(idx);
        }
        if (out.len() as u64) < n {
            for idx in 0..count {
                if (out.len() as u64) >= n {
                    break;
                }
                if !ov.is_deleted(obj, idx) && chosen.insert(idx) {
                    out.push(idx);
                }
            }
        }
        out.sort_unstable();
        out
    }
}
