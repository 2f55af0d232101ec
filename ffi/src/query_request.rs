//! `sfcrm_query_request`: any SOQL SELECT with `:name` bind values, queryAll, batch size, a resume
//! checkpoint and the child-cursor mode, opened as an `sfcrm_export_cursor` by
//! `sfcrm_query_cursor_open` (the core's `Client::query_stream` returns the export's stream type,
//! so the cursor functions are the export cursor's, unchanged).
//!
//! Bind values come as JSON text and are read by the core's one rule (`Params::from_json_text`);
//! binding itself (`soql::bind`) runs when the cursor opens, so a missing or unused name is an error
//! of `sfcrm_query_cursor_open` and nothing is sent.

use std::ffi::c_char;
use std::sync::Mutex;

use sfcrm_core::export::{BulkOptions, Checkpoint, ChildCursors, ExportMode, QueryRequest};
use sfcrm_core::soql::{self, Params};

use crate::client::{key_arg, sfcrm_client};
use crate::error::{FfiError, sfcrm_error};
use crate::export_cursor::{new_cursor, sfcrm_export_cursor};
use crate::ptr::{self, Handle};
use crate::result::sfcrm_result;

/// A SOQL query to run (for `sfcrm_query_cursor_open`): the SOQL text, its bind values and options.
///
/// Thread safety: setters are serialized internally; a request may be reused for several cursors
/// (each takes a snapshot when it opens).
pub struct sfcrm_query_request {
    _private: [u8; 0],
}

/// The data behind an `sfcrm_query_request *`.
#[derive(Clone)]
pub(crate) struct QueryData {
    soql: String,
    params: Params,
    all_rows: bool,
    batch_size: Option<u32>,
    resume_from: Option<Checkpoint>,
    children: ChildCursors,
    /// REST or Bulk (`sfcrm_query_request_set_mode`).
    pub(crate) mode: ExportMode,
    /// How a Bulk job runs (`sfcrm_query_request_set_bulk_options`).
    pub(crate) bulk: BulkOptions,
}

impl Handle for sfcrm_query_request {
    type Inner = Mutex<QueryData>;
    const C_NAME: &'static str = "sfcrm_query_request";
}

impl QueryData {
    fn core(&self) -> QueryRequest {
        let mut r = QueryRequest::new(self.soql.clone())
            .params(self.params.clone())
            .all_rows(self.all_rows)
            .children(self.children)
            .mode(self.mode)
            .bulk_options(self.bulk.clone());
        if let Some(n) = self.batch_size {
            r = r.batch_size(n);
        }
        if let Some(cp) = &self.resume_from {
            r = r.resume_from(cp.clone());
        }
        r
    }
}

pub(crate) fn with_request(
    req: *mut sfcrm_query_request,
    f: impl FnOnce(&mut QueryData) -> Result<(), FfiError>,
) -> Result<(), FfiError> {
    let r = ptr::handle(req as *const sfcrm_query_request, "request")?;
    let mut g = r.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut g)
}

/// A request for the SOQL SELECT `soql`: any sObject, relationship fields (`Account.Name`), child
/// subqueries (`(SELECT Id FROM Contacts)`), `WHERE`, `ORDER BY`, `LIMIT`, `TYPEOF … END`.
/// Values belong in `:name` placeholders filled by `sfcrm_query_request_set_params_json`, never
/// concatenated into the text. The text is checked when the cursor opens and by Salesforce
/// (`SFCRM_RESULT_API` with its `errorCode`, such as `MALFORMED_QUERY` or `INVALID_FIELD`, from the
/// first `sfcrm_export_cursor_next`). An empty text is `SFCRM_RESULT_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_request_new(
    soql: *const c_char,
    out: *mut *mut sfcrm_query_request,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let soql = ptr::str_arg(soql, "soql")?;
        let out = ptr::out(out, "out")?;
        if soql.trim().is_empty() {
            return Err(FfiError::invalid_argument("`soql` must not be empty: pass a SOQL SELECT"));
        }
        out.write(ptr::new_handle::<sfcrm_query_request>(Mutex::new(QueryData {
            soql,
            params: Params::new(),
            all_rows: false,
            batch_size: None,
            resume_from: None,
            children: ChildCursors::Complete,
            mode: ExportMode::Rest,
            bulk: BulkOptions::default(),
        })));
        Ok(())
    })
}

/// Sets the bind values of the query's `:name` placeholders from a JSON object (NULL or `"{}"`
/// clears them). Each key is a placeholder name (`[A-Za-z_][A-Za-z0-9_]*`); each value is:
/// a string (a SOQL string literal, escaped: it can never change the query's structure), an
/// integer, another number (a decimal, its exact text), `true`/`false`, `null`, an array (a list
/// for `IN (…)`), or a one-key object naming the type: `{"date":"2024-01-31"}`,
/// `{"datetime":"2024-01-31T10:00:00Z"}`, `{"decimal":"12.50"}`, `{"id":"003…"}`,
/// `{"string":"…"}`. The rule lives in the core (`Params::from_json_text`), shared with the other
/// languages and the CLI. Malformed JSON or a bad name or value is `SFCRM_RESULT_INVALID_ARGUMENT`
/// now; a placeholder without a value, or a value without a placeholder, fails
/// `sfcrm_query_cursor_open` (nothing is sent).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_request_set_params_json(
    request: *mut sfcrm_query_request,
    params_json: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let params = match ptr::opt_str_arg(params_json, "params_json")? {
            Some(text) => Params::from_json_text(&text)?,
            None => Params::new(),
        };
        with_request(request, |r| {
            r.params = params;
            Ok(())
        })
    })
}

/// Include soft-deleted and archived rows (the `queryAll` resource) [salesforce-api.md §4].
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_request_set_all_rows(
    request: *mut sfcrm_query_request,
    all_rows: bool,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        with_request(request, |r| {
            r.all_rows = all_rows;
            Ok(())
        })
    })
}

/// Requested records per batch (`Sforce-Query-Options: batchSize`, 200..=2000; Salesforce may
/// return fewer, and child rows count toward it); 0 uses the client's default. Out of range is
/// `SFCRM_RESULT_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_request_set_batch_size(
    request: *mut sfcrm_query_request,
    batch_size: u32,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        if batch_size != 0 && !(200..=2000).contains(&batch_size) {
            return Err(FfiError::invalid_argument(format!(
                "batch_size must be 0 or 200..=2000, got {batch_size}"
            )));
        }
        with_request(request, |r| {
            r.batch_size = (batch_size != 0).then_some(batch_size);
            Ok(())
        })
    })
}

/// Resume after a checkpoint token taken from a cursor of the same query
/// (`sfcrm_export_cursor_checkpoint`), possibly in another process; NULL clears it. A malformed
/// token is `SFCRM_RESULT_INVALID_ARGUMENT` now; a token of another query (the checkpoint binds the
/// bound SOQL) fails when the cursor starts. A query that selects `Id` without ORDER BY, LIMIT,
/// OFFSET, GROUP BY or aggregates resumes anywhere, also after its session expired; others resume
/// only while Salesforce keeps their query locator (the error says what to change otherwise).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_request_set_checkpoint(
    request: *mut sfcrm_query_request,
    checkpoint: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cp = ptr::opt_str_arg(checkpoint, "checkpoint")?
            .map(|t| Checkpoint::from_token(&t))
            .transpose()?;
        with_request(request, |r| {
            r.resume_from = cp;
            Ok(())
        })
    })
}

/// Child-relationship subqueries: with `complete` true (the default) a parent whose child result
/// is not `done` (it carries its own `nextRecordsUrl`) is handed out only after the rest of its
/// children were fetched, with `"done":true` and every child record (those calls are counted as
/// query-more calls); with false, child results are left as Salesforce sent them. Note that the
/// top-level result can be done while a child's is not [salesforce-api.md §4].
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_request_set_children(
    request: *mut sfcrm_query_request,
    complete: bool,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        with_request(request, |r| {
            r.children = if complete { ChildCursors::Complete } else { ChildCursors::AsSent };
            Ok(())
        })
    })
}

/// Frees a query request. NULL or an already-freed request is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_request_free(request: *mut sfcrm_query_request) {
    ffi_boundary! { ptr::free_handle(request); }
}

/// Opens a cursor over the records of `request` for (`account_id`, `owner`): an
/// `sfcrm_export_cursor`, read and freed with the export cursor's functions
/// (`sfcrm_export_cursor_next`, `_checkpoint`, `_progress`, `_cancel`, `_free`). Each record is its
/// JSON object text as Salesforce sent it (`attributes` included; child results nested under their
/// relationship name; compound address and geolocation values as JSON objects).
///
/// The bind values are applied here: a placeholder without a value, a value without a
/// placeholder or an empty list is `SFCRM_RESULT_INVALID_ARGUMENT` and nothing is sent. Nothing is
/// requested until the first `sfcrm_export_cursor_next`, which reports Salesforce's errors (bad
/// SOQL: `SFCRM_RESULT_API` with `sfcrm_error_salesforce_code` such as `MALFORMED_QUERY`,
/// `INVALID_FIELD` or `INVALID_TYPE`, and its message). Non-blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_cursor_open(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    request: *const sfcrm_query_request,
    out: *mut *mut sfcrm_export_cursor,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let req = {
            let r = ptr::handle(request, "request")?;
            let g = r.lock().unwrap_or_else(|e| e.into_inner());
            g.clone()
        };
        let out = ptr::out(out, "out")?;
        // The core binds again when the stream starts; binding here reports the caller's mistakes
        // (missing or unused names) from this call, before any request.
        soql::bind(&req.soql, &req.params)?;
        let stream = c.client.query_stream(&key, req.core());
        out.write(new_cursor(stream, c.rt.clone()));
        Ok(())
    })
}
