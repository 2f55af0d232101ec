//! Completing child-relationship subqueries: a parent record whose child result (`"Contacts":
//! {"totalSize":257,"done":false,"nextRecordsUrl":…,"records":[…]}`) has more rows gets them
//! fetched with the child cursor's `nextRecordsUrl` and appended [salesforce-api.md §4 "Child
//! subqueries"].
//!
//! - Every top-level value of the record that is a query result (`records` array and `done`) with
//!   `done: false` and a `nextRecordsUrl` is completed; the result keeps its key order and
//!   `totalSize`, gets `done: true`, and loses `nextRecordsUrl`. A child value `null` (no
//!   children) and an empty result are left as they are (which one Salesforce sends is
//!   UNCONFIRMED; both are handled).
//! - The top-level `done` can be true while a child is not: completion does not depend on it.
//! - Children are drained before the parent's next page is requested (SOAP invalidates child
//!   cursors on the parent's queryMore [salesforce-api.md §4]; REST is UNCONFIRMED).
//! - Only records whose text mentions `nextRecordsUrl` are decoded, so pages without open child
//!   cursors cost nothing here.

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::query::source::QueryApi;
use crate::query::{QueryOptions, RawRecord};

/// How child-relationship subqueries are handed out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ChildCursors {
    /// Fetch the rest of every child cursor so that each parent carries all its children
    /// (`done: true`) — the default. The extra "more" calls are counted as `query_more`.
    #[default]
    Complete,
    /// Leave child results as Salesforce sent them (`done: false` with a `nextRecordsUrl` that
    /// `Client::query_more` follows).
    AsSent,
}

/// Why completing a record's children failed.
pub(crate) enum ChildFailure {
    /// A child cursor's locator is dead (its session expired, or `INVALID_QUERY_LOCATOR`).
    DeadLocator(Error),
    /// Any other error.
    Other(Error),
}

/// Completes `record`'s open child cursors (see the module docs); `Ok(None)` when it has none.
/// `calls` is incremented per "more" request made.
pub(crate) async fn complete_children(
    api: &dyn QueryApi,
    options: &QueryOptions,
    record: &RawRecord,
    calls: &std::sync::atomic::AtomicU64,
) -> std::result::Result<Option<RawRecord>, ChildFailure> {
    if !record.json().contains("\"nextRecordsUrl\"") {
        return Ok(None);
    }
    let mut rec = record.to_record().map_err(ChildFailure::Other)?;
    let mut changed = false;
    for (_, value) in rec.iter_mut() {
        let Value::Object(child) = value else { continue };
        let open = child.get("done") == Some(&Value::Bool(false)) && child.get("records").is_some_and(Value::is_array);
        if !open {
            continue;
        }
        let mut next = child.get("nextRecordsUrl").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
            ChildFailure::Other(Error::new(ErrorKind::Protocol, "a child query result has done=false but no nextRecordsUrl"))
        })?;
        let mut extra: Vec<Value> = Vec::new();
        loop {
            let page = api.query_more(&next, options).await.map_err(|e| {
                if crate::query::rest::is_dead_locator(&e) {
                    calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    ChildFailure::DeadLocator(e)
                } else {
                    ChildFailure::Other(e)
                }
            })?;
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for r in &page.records {
                extra.push(Value::Object(r.to_record().map_err(ChildFailure::Other)?));
            }
            match (page.done, page.next_records_url) {
                (true, _) => break,
                (false, Some(url)) if url != next => next = url,
                (false, _) => {
                    return Err(ChildFailure::Other(Error::new(
                        ErrorKind::Protocol,
                        "a child query page has done=false but no new nextRecordsUrl",
                    )));
                }
            }
        }
        if let Some(Value::Array(records)) = child.get_mut("records") {
            records.extend(extra);
        }
        child.insert("done".into(), Value::Bool(true));
        child.shift_remove("nextRecordsUrl");
        changed = true;
    }
    if !changed {
        return Ok(None);
    }
    let text = serde_json::to_string(&rec).map_err(|e| ChildFailure::Other(Error::internal(format!("re-encoding a record: {e}"))))?;
    RawRecord::from_json(text).map(Some).map_err(ChildFailure::Other)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    use futures_util::future::BoxFuture;

    use super::*;
    use crate::error::Result;
    use crate::query::QueryPage;

    #[derive(Default)]
    struct Script {
        replies: Mutex<VecDeque<Result<QueryPage>>>,
        asked: Mutex<Vec<String>>,
    }
    impl QueryApi for Script {
        fn query<'a>(&'a self, _: &'a str, _: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>> {
            unreachable!()
        }
        fn query_more<'a>(&'a self, url: &'a str, _: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>> {
            self.asked.lock().unwrap().push(url.to_string());
            Box::pin(async { self.replies.lock().unwrap().pop_front().expect("a scripted reply") })
        }
    }

    #[tokio::test]
    async fn open_children_are_completed_in_place() {
        let script = Script::default();
        script.replies.lock().unwrap().extend([
            QueryPage::from_text(r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/c-2","records":[{"Id":"c2","Amount":1.10}]}"#),
            QueryPage::from_text(r#"{"totalSize":3,"done":true,"records":[{"Id":"c3"}]}"#),
        ]);
        let parent = RawRecord::from_json(
            r#"{"attributes":{"type":"Account"},"Id":"a","Contacts":{"totalSize":3,"done":false,"nextRecordsUrl":"/c-1","records":[{"Id":"c1"}]},"Notes":null,"Opps":{"totalSize":0,"done":true,"records":[]},"Name":"n"}"#,
        )
        .unwrap();
        let calls = AtomicU64::new(0);
        let done = complete_children(&script, &QueryOptions::default(), &parent, &calls).await.ok().unwrap().unwrap();
        assert_eq!(
            done.json(),
            r#"{"attributes":{"type":"Account"},"Id":"a","Contacts":{"totalSize":3,"done":true,"records":[{"Id":"c1"},{"Id":"c2","Amount":1.10},{"Id":"c3"}]},"Notes":null,"Opps":{"totalSize":0,"done":true,"records":[]},"Name":"n"}"#
        );
        assert_eq!(calls.load(Ordering::Relaxed), 2);
        assert_eq!(*script.asked.lock().unwrap(), ["/c-1", "/c-2"]);
        // Nothing open: untouched, no call.
        assert!(complete_children(&script, &QueryOptions::default(), &done, &calls).await.ok().unwrap().is_none());
    }

    #[tokio::test]
    async fn a_dead_child_locator_is_reported_as_such() {
        let script = Script::default();
        script.replies.lock().unwrap().push_back(Err(Error::new(ErrorKind::Api, "x").with_error_code("INVALID_QUERY_LOCATOR")));
        let parent = RawRecord::from_json(r#"{"Id":"a","C":{"totalSize":3,"done":false,"nextRecordsUrl":"/c-1","records":[]}}"#).unwrap();
        let calls = AtomicU64::new(0);
        let r = complete_children(&script, &QueryOptions::default(), &parent, &calls).await;
        assert!(matches!(r, Err(ChildFailure::DeadLocator(_))));
    }
}
