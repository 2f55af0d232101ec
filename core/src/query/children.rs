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
//! - Nested subqueries (a child subquery inside a child subquery: Salesforce's SOQL docs allow up
//!   to five parent-child levels from API v58.0; not in salesforce-api.md, so UNCONFIRMED here,
//!   and whether a nested result can be open likewise) are completed at every level: each child
//!   record, inline or fetched, has its own open results completed the same way (at most
//!   [`MAX_DEPTH`] levels are walked).
//! - Children are drained before the parent's next page is requested (SOAP invalidates child
//!   cursors on the parent's queryMore [salesforce-api.md §4]; REST is UNCONFIRMED).
//! - Only records whose text mentions `nextRecordsUrl` are decoded, so pages without open child
//!   cursors cost nothing here.

use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::query::source::QueryApi;
use crate::query::{QueryOptions, RawRecord, Record};

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

/// How many levels of child results are walked (Salesforce allows five parent-child levels).
pub(crate) const MAX_DEPTH: usize = 8;

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
    if !complete_in(api, options, &mut rec, calls, 1).await? {
        return Ok(None);
    }
    let text = serde_json::to_string(&rec).map_err(|e| ChildFailure::Other(Error::internal(format!("re-encoding a record: {e}"))))?;
    RawRecord::from_json(text).map(Some).map_err(ChildFailure::Other)
}

/// Completes every child result among `rec`'s values, then (down to [`MAX_DEPTH`]) those of each
/// of their records; true when anything changed.
fn complete_in<'a>(
    api: &'a dyn QueryApi,
    options: &'a QueryOptions,
    rec: &'a mut Record,
    calls: &'a std::sync::atomic::AtomicU64,
    depth: usize,
) -> BoxFuture<'a, std::result::Result<bool, ChildFailure>> {
    Box::pin(async move {
        let mut changed = false;
        for (_, value) in rec.iter_mut() {
            let Value::Object(child) = value else { continue };
            if !child.get("records").is_some_and(Value::is_array) || !child.get("done").is_some_and(Value::is_boolean) {
                continue;
            }
            if child.get("done") == Some(&Value::Bool(false)) {
                complete_one(api, options, child, calls).await?;
                changed = true;
            }
            if depth < MAX_DEPTH {
                if let Some(Value::Array(records)) = child.get_mut("records") {
                    for r in records.iter_mut() {
                        if let Value::Object(r) = r {
                            changed |= complete_in(api, options, r, calls, depth + 1).await?;
                        }
                    }
                }
            }
        }
        Ok(changed)
    })
}

/// Fetches the rest of one open child result (`done: false`) and appends it: `done: true`, no
/// `nextRecordsUrl`, key order and `totalSize` kept.
async fn complete_one(
    api: &dyn QueryApi,
    options: &QueryOptions,
    child: &mut Record,
    calls: &std::sync::atomic::AtomicU64,
) -> std::result::Result<(), ChildFailure> {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

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
    async fn nested_child_cursors_are_completed_at_every_level() {
        // API v58.0+: Account -> Contacts -> Cases. The inline contact's cases and those of a
        // contact on the fetched page are open; the top-level Contacts result is open too.
        let script = Script::default();
        script.replies.lock().unwrap().extend([
            // Contacts, page 2: one more contact whose own Cases cursor is open
            QueryPage::from_text(r#"{"totalSize":2,"done":true,"records":[{"Id":"c2","Cases":{"totalSize":2,"done":false,"nextRecordsUrl":"/k2-1","records":[{"Id":"k21"}]}}]}"#),
            // c1's Cases, page 2
            QueryPage::from_text(r#"{"totalSize":2,"done":true,"records":[{"Id":"k12"}]}"#),
            // c2's Cases, page 2
            QueryPage::from_text(r#"{"totalSize":2,"done":true,"records":[{"Id":"k22"}]}"#),
        ]);
        let parent = RawRecord::from_json(
            r#"{"Id":"a","Contacts":{"totalSize":2,"done":false,"nextRecordsUrl":"/c-1","records":[{"Id":"c1","Cases":{"totalSize":2,"done":false,"nextRecordsUrl":"/k1-1","records":[{"Id":"k11"}]}}]}}"#,
        )
        .unwrap();
        let calls = AtomicU64::new(0);
        let done = complete_children(&script, &QueryOptions::default(), &parent, &calls).await.ok().unwrap().unwrap();
        assert_eq!(
            done.json(),
            r#"{"Id":"a","Contacts":{"totalSize":2,"done":true,"records":[{"Id":"c1","Cases":{"totalSize":2,"done":true,"records":[{"Id":"k11"},{"Id":"k12"}]}},{"Id":"c2","Cases":{"totalSize":2,"done":true,"records":[{"Id":"k21"},{"Id":"k22"}]}}]}}"#
        );
        assert_eq!(*script.asked.lock().unwrap(), ["/c-1", "/k1-1", "/k2-1"]);
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        // A done child whose grandchild is open is completed too.
        script.replies.lock().unwrap().push_back(QueryPage::from_text(r#"{"totalSize":2,"done":true,"records":[{"Id":"k2"}]}"#));
        let parent = RawRecord::from_json(
            r#"{"Id":"a","Contacts":{"totalSize":1,"done":true,"records":[{"Id":"c1","Cases":{"totalSize":2,"done":false,"nextRecordsUrl":"/k-1","records":[{"Id":"k1"}]}}]}}"#,
        )
        .unwrap();
        let done = complete_children(&script, &QueryOptions::default(), &parent, &calls).await.ok().unwrap().unwrap();
        assert!(done.json().contains(r#""Cases":{"totalSize":2,"done":true,"records":[{"Id":"k1"},{"Id":"k2"}]}"#), "{}", done.json());
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
