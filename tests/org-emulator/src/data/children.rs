//! Parent-to-child lookups: which children point at a parent through a lookup field, built once by
//! scanning the child sObject (the data generator only knows child → parent).

use std::collections::HashMap;

use super::{Dataset, Overlay, SObject};

/// Children of every parent through one lookup field, in child index (= Id, creation) order.
#[derive(Debug, Default)]
pub struct ChildIndex {
    map: HashMap<(SObject, u64), Vec<u32>>,
}

impl ChildIndex {
    /// Scan every `child` record and group it under the record its `field` points at.
    pub fn build(ds: &Dataset, child: SObject, field: &'static str) -> ChildIndex {
        let ov = Overlay::default();
        let mut map: HashMap<(SObject, u64), Vec<u32>> = HashMap::new();
        for idx in 0..ds.count(child) {
            let rec = ds.record(&ov, child, idx);
            if let Some(p) = ds.lookup(&rec, field) {
                map.entry(p).or_default().push(idx as u32);
            }
        }
        ChildIndex { map }
    }

    /// The children of `parent` (empty when none).
    pub fn of(&self, parent: (SObject, u64)) -> &[u32] {
        self.map.get(&parent).map_or(&[], Vec::as_slice)
    }
}
