//! Bulk API 2.0 query job calls against the stored `instance_url` [bulk-and-parallel.md §1.1]:
//! each with one refresh and one retry on a 401 (a job belongs to the org, not to the session,
//! so its locators stay valid after a refresh), counted per kind (`ApiCallCounts::bulk_*`).
//! [`ConnectionBulk`] adapts them to the query layer's [`BulkApi`]; [`Client::bulk_limits`]
//! reads the org's Bulk allocations from `/limits`.

use futures_util::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use super::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{BulkReply, BulkRequest, encode_query_value};
use crate::query::bulk::{BulkApi, BulkLimits, JobInfo, ResultPage, ResultPageList};
use crate::query::bulk_csv::{ColumnTypes, ValueType};
use crate::store::ConnectionKey;
use crate::usage::CallKind;

impl Client {
    /// One Bulk request to `target` (a path under the instance or an allowed absolute URL), with
    /// one refresh and one retry on a 401.
    async fn bulk_send(
        &self,
        key: &ConnectionKey,
        method: Method,
        target: &str,
        accept: &'static str,
        body: Option<String>,
        kind: CallKind,
    ) -> Result<BulkReply> {
        let doc = self.load_usable(key).await?;
        let url = self.resolve(&doc, target)?;
        let req = BulkRequest { method, url: &url, accept, body, kind };
        match self.inner.transport.send_bulk(&req, &doc.token.access_token).await {
            Err(e) if e.kind() == ErrorKind::SessionExpired => {
                tracing::debug!(target: "sfcrm::client", key = %key, "401 from the instance on a Bulk call: refreshing");
            }
            other => return other,
        }
        let fresh = self.refresh_after_401(key, &doc.token.access_token).await?;
        let url = self.resolve(&fresh, target)?;
        let req = BulkRequest { url: &url, ..req };
        self.inner.transport.send_bulk(&req, &fresh.token.access_token).await.map_err(|e| {
            if e.kind() == ErrorKind::SessionExpired {
                e.with_message("Salesforce refused the freshly refreshed access token too (no further retry)")
            } else {
                e
            }
        })
    }

    async fn bulk_json(&self, key: &ConnectionKey, method: Method, target: &str, body: Option<Value>, kind: CallKind) -> Result<Value> {
        let reply = self.bulk_send(key, method, target, "application/json", body.map(|b| b.to_string()), kind).await?;
        if reply.text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&reply.text).map_err(|e| crate::http::unreadable_json(reply.status, e, reply.text))
    }

    /// The org's Bulk API 2.0 query allocations and daily API requests from
    /// `GET {data_path}/limits` (one call, counted as `other_api`) [bulk-and-parallel.md §1.8].
    pub async fn bulk_limits(&self, key: &ConnectionKey) -> Result<BulkLimits> {
        let path = format!("{}/limits", self.inner.config.data_path());
        let body = self.api_get_json(key, &path).await?;
        Ok(BulkLimits::from_limits(&body))
    }
}

/// The Bulk calls of one connection, as the query layer's sources make them.
pub(crate) struct ConnectionBulk {
    pub(crate) client: Client,
    pub(crate) key: ConnectionKey,
}

impl ConnectionBulk {
    fn jobs(&self) -> String {
        format!("{}/jobs/query", self.client.inner.config.data_path())
    }

    fn page(reply: BulkReply) -> ResultPage {
        ResultPage {
            csv: reply.text,
            next_locator: reply.locator.filter(|l| !l.is_empty() && l != "null"),
            records: reply.records,
        }
    }

    async fn column_types_of(&self, sobject: &str, columns: &[String]) -> Result<ColumnTypes> {
        let mut types = ColumnTypes::default();
        let base = self.client.describe(&self.key, sobject).await?;
        for column in columns {
            let segs: Vec<&str> = column.split('.').collect();
            let (last, relationships) = segs.split_last().expect("split yields a segment");
            let mut object = base.clone();
            let (mut rel_path, mut known) = (String::new(), true);
            for rel in relationships {
                let Some(f) = object.fields.iter().find(|f| f.relationship_name.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(rel)))
                else {
                    known = false;
                    break;
                };
                let prefix = if rel_path.is_empty() { String::new() } else { format!("{rel_path}.") };
                types.set_lookup(&format!("{prefix}{rel}"), &format!("{prefix}{}", f.name));
                rel_path = format!("{prefix}{rel}");
                // A polymorphic relationship (What, Who, Owner of some objects): the parent's
                // type varies by record; its fields read as text.
                let [target] = f.reference_to.as_slice() else {
                    known = false;
                    break;
                };
                match self.client.describe(&self.key, target).await {
                    Ok(d) => object = d,
                    Err(_) => {
                        known = false;
                        break;
                    }
                }
            }
            if known && let Some(f) = object.fields.iter().find(|f| f.name.eq_ignore_ascii_case(last)) {
                types.set(column, ValueType::from_describe(&f.field_type));
            }
        }
        Ok(types)
    }
}

fn info(v: Value) -> Result<JobInfo> {
    JobInfo::from_json(&v)
}

impl BulkApi for ConnectionBulk {
    fn create<'a>(&'a self, soql: &'a str, all_rows: bool) -> BoxFuture<'a, Result<JobInfo>> {
        Box::pin(async move {
            let body = json!({
                "operation": if all_rows { "queryAll" } else { "query" },
                "query": soql,
                "contentType": "CSV",
                "columnDelimiter": "COMMA",
                "lineEnding": "LF",
            });
            info(self.client.bulk_json(&self.key, Method::POST, &self.jobs(), Some(body), CallKind::BulkCreate).await?)
        })
    }

    fn job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<JobInfo>> {
        Box::pin(async move {
            let path = format!("{}/{id}", self.jobs());
            info(self.client.bulk_json(&self.key, Method::GET, &path, None, CallKind::BulkPoll).await?)
        })
    }

    fn results<'a>(&'a self, id: &'a str, locator: Option<&'a str>, max_records: u32) -> BoxFuture<'a, Result<ResultPage>> {
        Box::pin(async move {
            let mut path = format!("{}/{id}/results?maxRecords={max_records}", self.jobs());
            if let Some(l) = locator {
                path.push_str("&locator=");
                path.push_str(&encode_query_value(l));
            }
            let reply = self.client.bulk_send(&self.key, Method::GET, &path, "text/csv", None, CallKind::BulkResults).await?;
            // Every results answer names the next page (or `null`) [bulk-and-parallel.md §1.4]:
            // without the header the end cannot be told from a broken answer.
            if reply.status != 204 && reply.locator.is_none() {
                return Err(Error::new(ErrorKind::Protocol, "a Bulk result page came without its Sforce-Locator header")
                    .with_status(reply.status));
            }
            Ok(Self::page(reply))
        })
    }

    fn result_pages<'a>(&'a self, id: &'a str, next: Option<&'a str>, max_records: u32)
    -> BoxFuture<'a, Result<Option<ResultPageList>>> {
        Box::pin(async move {
            let path = match next {
                Some(n) => n.to_owned(),
                None => format!("{}/{id}/resultPages?maxRecords={max_records}", self.jobs()),
            };
            match self.client.bulk_json(&self.key, Method::GET, &path, None, CallKind::BulkResults).await {
                Ok(v) => ResultPageList::from_json(&v, &self.client.inner.config.data_path()).map(Some),
                // Before v58 there is no resultPages resource [bulk-and-parallel.md §1.5].
                Err(e) if next.is_none() && e.status() == Some(404) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn result_url<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<ResultPage>> {
        Box::pin(async move {
            let reply = self.client.bulk_send(&self.key, Method::GET, url, "text/csv", None, CallKind::BulkResults).await?;
            Ok(Self::page(reply))
        })
    }

    fn column_types<'a>(&'a self, sobject: &'a str, columns: &'a [String]) -> BoxFuture<'a, Result<ColumnTypes>> {
        Box::pin(self.column_types_of(sobject, columns))
    }

    fn abort<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let path = format!("{}/{id}", self.jobs());
            let body = json!({"state": "Aborted"});
            self.client.bulk_json(&self.key, Method::PATCH, &path, Some(body), CallKind::BulkAbort).await.map(drop)
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let path = format!("{}/{id}", self.jobs());
            self.client.bulk_send(&self.key, Method::DELETE, &path, "application/json", None, CallKind::BulkDelete).await.map(drop)
        })
    }
}
