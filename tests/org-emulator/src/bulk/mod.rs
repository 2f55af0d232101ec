//! Bulk API 2.0 query jobs [bulk-and-parallel.md §1; salesforce-api.md §6]: create (validated by
//! the SOQL engine, with Bulk's refusals), state over time, CSV result pages by locator,
//! `resultPages`, abort, delete, the job list, `/limits`, injected job faults and the control API
//! (README "Bulk API 2.0 query jobs").
//!
//! `model.rs`: knobs, job, states and job info; `validate.rs`: the create body, refusals, CSV
//! columns; `csv.rs`: writing a page; `routes.rs`: the HTTP handlers; `pages.rs`: locators,
//! `resultPages` and the results response.

pub mod csv;
pub mod model;
mod pages;
pub mod routes;
pub mod validate;

use std::collections::{HashMap, VecDeque};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

pub use model::{BulkSettings, CsvDateTime, CsvQuoting, Gzip, JobFault, JobFaultKind, JobState, NotComplete, ResultPagesShape};
use model::Job;
pub use pages::{decode_locator, encode_locator, result_pages, results};

use crate::control::{Control, ControlError};

/// Terminal jobs older than this are deleted [bulk-and-parallel.md §1.8 "lifespan"].
pub const RETENTION_MS: i64 = 7 * 86_400_000;
const DAY_MS: i64 = 86_400_000;

/// The org's query jobs, the knobs and pending job faults.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    pub map: HashMap<String, Job>,
    /// Job Ids in creation order (the list resource's order).
    pub order: Vec<String>,
    pub next: u64,
    /// Creation times within the last 24 h (the `DailyBulkV2QueryJobs` count).
    pub created: VecDeque<i64>,
    /// `(time, bytes)` of result pages served within the last 24 h.
    pub served: VecDeque<(i64, u64)>,
    pub settings: BulkSettings,
    pub faults: Vec<JobFault>,
}

impl Jobs {
    pub(crate) fn new(settings: BulkSettings) -> Jobs {
        Jobs { settings, ..Jobs::default() }
    }

    /// Forget what is older than the rolling windows: job creations and served bytes past 24 h,
    /// terminal jobs past [`RETENTION_MS`].
    pub(crate) fn expire(&mut self, now: i64) {
        while self.created.front().is_some_and(|t| *t <= now - DAY_MS) {
            self.created.pop_front();
        }
        while self.served.front().is_some_and(|(t, _)| *t <= now - DAY_MS) {
            self.served.pop_front();
        }
        let old: Vec<String> = self
            .map
            .values()
            .filter(|j| {
                let s = j.at(now);
                s.state.is_terminal() && s.modstamp <= now - RETENTION_MS
            })
            .map(|j| j.id.clone())
            .collect();
        for id in old {
            self.remove(&id);
        }
    }

    pub(crate) fn remove(&mut self, id: &str) -> bool {
        self.order.retain(|x| x != id);
        self.map.remove(id).is_some()
    }

    /// Apply pending job faults to a new job.
    pub(crate) fn apply_faults(&mut self, job: &mut Job) {
        for f in &mut self.faults {
            if f.count == 0 {
                continue;
            }
            f.count -= 1;
            match &f.kind {
                JobFaultKind::Failed { error_message } => job.fail = Some(error_message.clone()),
                JobFaultKind::StuckInProgress { polls } => job.stuck_polls = *polls,
                JobFaultKind::Retries { retries } => job.retries = *retries,
                JobFaultKind::PageFails { offset, times } => job.page_faults.push((*offset, *times)),
            }
        }
        self.faults.retain(|f| f.count > 0);
    }

    /// `(Max, Remaining)` of `DailyBulkV2QueryJobs`.
    pub(crate) fn job_allocation(&self) -> (u64, u64) {
        let max = self.settings.daily_job_limit;
        (max, max.saturating_sub(self.created.len() as u64))
    }

    /// `(Max, Remaining)` of `DailyBulkV2QueryFileStorageMB` (result bytes served in 24 h, rounded
    /// up to MB: the real accounting is UNCONFIRMED).
    pub(crate) fn storage_allocation(&self) -> (u64, u64) {
        let max = self.settings.daily_storage_mb;
        let bytes: u64 = self.served.iter().map(|(_, b)| b).sum();
        (max, max.saturating_sub(bytes.div_ceil(1 << 20)))
    }
}

impl Control {
    /// The Bulk API 2.0 knobs in effect.
    pub fn bulk_settings(&self) -> BulkSettings {
        self.org.bulk.lock().expect("lock").settings.clone()
    }

    /// Replace the Bulk API 2.0 knobs (jobs created from now on use the timing ones).
    pub fn set_bulk_settings(&self, s: BulkSettings) {
        self.org.bulk.lock().expect("lock").settings = s;
    }

    /// Change some knobs: `patch` is a JSON object of [`BulkSettings`] fields. Returns the knobs in
    /// effect; an unknown field or a bad value is an error and changes nothing.
    pub fn update_bulk_settings(&self, patch: &Value) -> Result<BulkSettings, ControlError> {
        let mut jobs = self.org.bulk.lock().expect("lock");
        let mut cur = serde_json::to_value(&jobs.settings).expect("json");
        let (Some(cur_map), Some(patch_map)) = (cur.as_object_mut(), patch.as_object()) else {
            return Err(ControlError("bulk settings: give a JSON object".into()));
        };
        for (k, v) in patch_map {
            if !cur_map.contains_key(k) {
                return Err(ControlError(format!("bulk settings: unknown field {k:?}")));
            }
            cur_map.insert(k.clone(), v.clone());
        }
        let s: BulkSettings = serde_json::from_value(cur).map_err(|e| ControlError(format!("bulk settings: {e}")))?;
        if s.rows_per_s.is_nan() || s.rows_per_s <= 0.0 || s.default_max_records == 0 {
            return Err(ControlError("bulk settings: rows_per_s and default_max_records must be positive".into()));
        }
        jobs.settings = s.clone();
        Ok(s)
    }

    /// Queue a job fault: the next `fault.count` jobs created get `fault.kind`.
    pub fn add_bulk_job_fault(&self, fault: JobFault) {
        self.org.bulk.lock().expect("lock").faults.push(fault);
    }

    /// Job faults still queued.
    pub fn pending_bulk_job_faults(&self) -> Vec<JobFault> {
        self.org.bulk.lock().expect("lock").faults.clone()
    }

    /// Drop all queued job faults.
    pub fn clear_bulk_job_faults(&self) {
        self.org.bulk.lock().expect("lock").faults.clear();
    }

    /// Job info of every query job that exists (not deleted), oldest first, as the job info
    /// resource would show it now (without consuming stuck polls).
    pub fn bulk_jobs(&self) -> Vec<Value> {
        let now = self.org.now_ms();
        let mut jobs = self.org.bulk.lock().expect("lock");
        jobs.expire(now);
        jobs.order.iter().filter_map(|id| jobs.map.get(id)).map(|j| j.info(&j.effective(now), true)).collect()
    }

    /// Job info of one query job, `None` when it does not exist (never created, or deleted).
    pub fn bulk_job(&self, id: &str) -> Option<Value> {
        let now = self.org.now_ms();
        let mut jobs = self.org.bulk.lock().expect("lock");
        jobs.expire(now);
        jobs.map.get(id).map(|j| j.info(&j.effective(now), true))
    }
}

fn ok(v: Value) -> axum::response::Response {
    crate::http::json(axum::http::StatusCode::OK, v.to_string())
}

fn bad(msg: &str) -> axum::response::Response {
    crate::http::json(axum::http::StatusCode::BAD_REQUEST, json!({"error": msg}).to_string())
}

/// The `/__emulator/bulk/…` control routes.
pub(crate) fn control_routes(c: Control) -> Router {
    Router::new()
        .route("/__emulator/bulk/settings", get(|State(c): State<Control>| async move { ok(serde_json::to_value(c.bulk_settings()).expect("json")) })
            .post(|State(c): State<Control>, b: String| async move {
                let v: Value = match serde_json::from_str(if b.trim().is_empty() { "{}" } else { &b }) {
                    Ok(v) => v,
                    Err(e) => return bad(&format!("bad JSON body: {e}")),
                };
                match c.update_bulk_settings(&v) {
                    Ok(s) => ok(serde_json::to_value(s).expect("json")),
                    Err(e) => bad(&e.0),
                }
            }))
        .route("/__emulator/bulk/job_faults", get(|State(c): State<Control>| async move { ok(serde_json::to_value(c.pending_bulk_job_faults()).expect("json")) })
            .post(|State(c): State<Control>, b: String| async move {
                match serde_json::from_str::<JobFault>(&b) {
                    Ok(f) => {
                        c.add_bulk_job_fault(f);
                        ok(serde_json::to_value(c.pending_bulk_job_faults()).expect("json"))
                    }
                    Err(e) => bad(&format!("bad JSON body: {e}")),
                }
            })
            .delete(|State(c): State<Control>| async move {
                c.clear_bulk_job_faults();
                ok(json!([]))
            }))
        .route("/__emulator/bulk/jobs", get(|State(c): State<Control>| async move { ok(Value::Array(c.bulk_jobs())) }))
        .with_state(c)
}
