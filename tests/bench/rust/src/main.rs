//! `sfcrm-bench`: the Rust-side clients of the benchmark harness (`tests/bench/run.py`).
//!
//! Every subcommand prints one JSON object on stdout; times are seconds (f64) measured inside the
//! process around the measured work only (client construction and OAuth are outside).
//!
//! - `connect`: runs the OAuth web-server flow (PKCE) against the org emulator through sfcrm-core,
//!   stores the connection in a plain `FileStore` that every SDK client of the benchmark opens, and
//!   writes `{"access_token","instance_url"}` for the peer clients (jsforce, simple-salesforce, raw).
//! - `stream`: a full `export_stream` of a built-in type (the "Rust core" rows): `--decode none`
//!   counts the records as delivered (validated JSON text), `--decode typed` also decodes each into
//!   a struct of the seed's Contact fields (what a Rust consumer does), `--decode map` into a
//!   `Record` map (dynamic access; the representation every record had before RawRecord).
//! - `raw`: the raw limit: the same chain of query pages (`query`, then each `nextRecordsUrl`),
//!   fetched with the same HTTP stack (reqwest + rustls) and not parsed: the next URL is found by
//!   a byte search, records are counted by their `"attributes"` prefix.
//! - `walk`: the seed's Quick Start loop done the SDK's way (`export_page` 1, 2, … until `next_page`
//!   is null).
//! - `deep`: `export_page` at chosen pages, cold (a new client per page, empty caches) and during one
//!   sequential walk.

#![warn(missing_docs)]

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use sfcrm_core::export::{ExportRequest, ExportSpec, PageRequest};
use sfcrm_core::{ApiCallCounts, CallbackOutcome, CallbackParams, Client, Config, ConnectionKey, FileStore, TokenStore};

#[derive(Parser)]
#[command(name = "sfcrm-bench", about = "sfcrm benchmark clients (see tests/bench/README.md)")]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct Conn {
    /// The org emulator's login URL (SF_ORG_EMULATOR_LOGIN_URL).
    #[arg(long)]
    login_url: String,
    /// FileStore directory holding the benchmark connection.
    #[arg(long)]
    store: std::path::PathBuf,
    /// Connection key: account id.
    #[arg(long, default_value = "bench")]
    account: String,
    /// Connection key: owner.
    #[arg(long, default_value = "bench")]
    owner: String,
}

#[derive(Subcommand)]
enum Cmd {
    /// OAuth connect; writes the FileStore connection and a session file for peer clients.
    Connect {
        #[command(flatten)]
        conn: Conn,
        /// Where to write `{"access_token","instance_url"}`.
        #[arg(long)]
        session_out: std::path::PathBuf,
    },
    /// Full export through `Client::export_stream`.
    Stream {
        #[command(flatten)]
        conn: Conn,
        /// Built-in export type.
        #[arg(long, default_value = "contacts")]
        r#type: String,
        /// `Sforce-Query-Options: batchSize`.
        #[arg(long, default_value_t = 2000)]
        batch_size: u32,
        /// What to do with each record: `none`, `typed` (a Contact struct) or `map` (a `Record`).
        #[arg(long, default_value = "none", value_parser = ["none", "typed", "map"])]
        decode: String,
    },
    /// Raw limit: fetch the chain of query pages without parsing them.
    Raw {
        /// Session file written by `connect`.
        #[arg(long)]
        session: std::path::PathBuf,
        /// SOQL to run.
        #[arg(long)]
        soql: String,
        #[arg(long, default_value = "v48.0")]
        api_version: String,
        #[arg(long, default_value_t = 2000)]
        batch_size: u32,
    },
    /// Profile aid: fetches the first query page once, then times parsing it into records
    /// (`QueryPage::from_json(serde_json::from_str(..))`, what the core does per page) `repeat` times.
    Parse {
        #[arg(long)]
        session: std::path::PathBuf,
        #[arg(long)]
        soql: String,
        #[arg(long, default_value = "v48.0")]
        api_version: String,
        #[arg(long, default_value_t = 20)]
        repeat: u32,
    },
    /// Design experiment (not the SDK): the same page chain with the parse moved. `fetcher`:
    /// the fetch task parses each page into records and sends them (the SDK stream's shape);
    /// `consumer`: the fetch task only finds `nextRecordsUrl` and sends the body, the consuming
    /// thread parses (fetch overlaps parse; records are freed on the thread that built them).
    Pipeline {
        #[arg(long)]
        session: std::path::PathBuf,
        #[arg(long)]
        soql: String,
        #[arg(long, default_value = "v48.0")]
        api_version: String,
        #[arg(long, value_parser = ["fetcher", "consumer"])]
        parse_in: String,
    },
    /// The SDK's page walk: `export_page` 1, 2, … until `next_page` is null.
    Walk {
        #[command(flatten)]
        conn: Conn,
        #[arg(long, default_value = "contacts")]
        r#type: String,
        /// Records per page (the seed's Quick Start uses 200).
        #[arg(long, default_value_t = 200)]
        limit: u64,
    },
    /// `export_page` at the given pages, cold and during a sequential walk.
    Deep {
        #[command(flatten)]
        conn: Conn,
        #[arg(long, default_value = "contacts")]
        r#type: String,
        #[arg(long, default_value_t = 100)]
        limit: u64,
        /// Comma-separated 1-based pages.
        #[arg(long, default_value = "1,20,100,1000")]
        pages: String,
    },
}

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type BoxResult<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn config(login_url: &str) -> sfcrm_core::Result<Config> {
    let secret: [u8; 32] = rand::random();
    Config::builder()
        .client_id("sfcrm-demo-client")
        .client_secret("sfcrm-demo-secret")
        .redirect_uri("http://127.0.0.1:8788/callback")
        .login_url(login_url)
        .state_secret(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, secret))
        .forward_origins(["http://127.0.0.1:3000"])
        .build()
}

fn client(conn: &Conn) -> BoxResult<(Client, ConnectionKey, Arc<FileStore>)> {
    let store = Arc::new(FileStore::new(&conn.store)?);
    let client = Client::new(config(&conn.login_url)?, store.clone())?;
    Ok((client, ConnectionKey::new(conn.account.clone(), conn.owner.clone()), store))
}

fn calls_json(c: ApiCallCounts) -> Value {
    json!({"api_requests": c.api_requests, "query": c.query, "query_more": c.query_more,
           "token_requests": c.token_requests, "retries": c.retries})
}

async fn connect(conn: &Conn, session_out: &std::path::Path) -> BoxResult<Value> {
    let (client, key, store) = client(conn)?;
    let login = client.login(&key, Some("http://127.0.0.1:3000/bench")).await?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let resp = http.get(&login.url).send().await?;
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("the authorize endpoint did not redirect")?;
    let mut params = CallbackParams::default();
    for (k, v) in url::Url::parse(location)?.query_pairs() {
        match k.as_ref() {
            "code" => params.code = Some(v.into_owned()),
            "state" => params.state = Some(v.into_owned()),
            "error" => params.error = Some(v.into_owned()),
            _ => {}
        }
    }
    let cb = client.callback(&params).await?;
    if let CallbackOutcome::Error { reason } = cb.outcome {
        return Err(format!("callback failed: {reason}").into());
    }
    let doc = store.load(&key).await?.ok_or("no connection stored")?;
    let session = json!({"access_token": doc.token.access_token.expose(), "instance_url": doc.instance_url});
    std::fs::write(session_out, serde_json::to_vec(&session)?)?;
    Ok(json!({"connected": true, "instance_url": doc.instance_url}))
}

/// The seed's Contact fields (`contacts` export), borrowed from the page where unescaped.
#[derive(serde::Deserialize)]
#[allow(dead_code)] // read by the decode, not by the benchmark
struct Contact<'a> {
    #[serde(rename = "Id", borrow)]
    id: Cow<'a, str>,
    #[serde(rename = "Name", borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(rename = "Account", borrow)]
    account: Option<Named<'a>>,
    #[serde(rename = "Title", borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(rename = "Phone", borrow)]
    phone: Option<Cow<'a, str>>,
    #[serde(rename = "Email", borrow)]
    email: Option<Cow<'a, str>>,
    #[serde(rename = "Owner", borrow)]
    owner: Option<Alias<'a>>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Named<'a> {
    #[serde(rename = "Name", borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Alias<'a> {
    #[serde(rename = "Alias", borrow)]
    alias: Option<Cow<'a, str>>,
}

async fn stream(conn: &Conn, type_name: &str, batch_size: u32, decode: &str) -> BoxResult<Value> {
    let (client, key, _) = client(conn)?;
    let spec = ExportSpec::builtin(type_name)?;
    let before = client.api_calls();
    let t = Instant::now();
    let mut s = client.export_stream(&key, ExportRequest::new(spec).batch_size(batch_size));
    let (mut records, mut batches, mut first, mut chars) = (0u64, 0u64, None, 0usize);
    while let Some(b) = s.next_batch().await? {
        records += b.records.len() as u64;
        batches += 1;
        first.get_or_insert_with(|| t.elapsed().as_secs_f64());
        for r in &b.records {
            chars += match decode {
                "typed" => r.deserialize_borrowed::<Contact<'_>>()?.id.len(),
                "map" => r.to_record()?.len(),
                _ => 0,
            };
        }
    }
    let secs = t.elapsed().as_secs_f64();
    Ok(json!({"records": records, "batches": batches, "seconds": secs, "first_batch_s": first,
              "decode": decode, "decoded_check": chars,
              "client_calls": calls_json(client.api_calls() - before)}))
}

/// Finds `"key":"value"` in `body` and returns `value` (no escapes expected: URLs and numbers).
fn find_value<'a>(body: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = memchr::memmem::find(body, key)? + key.len();
    let rest = &body[at..];
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let end = rest.iter().position(|&c| c == b'"' || c == b',' || c == b'}')?;
    Some(&rest[..end])
}

async fn raw(session: &std::path::Path, soql: &str, api_version: &str, batch_size: u32) -> BoxResult<Value> {
    let s: Value = serde_json::from_slice(&std::fs::read(session)?)?;
    let token = s["access_token"].as_str().ok_or("session: access_token")?.to_owned();
    let instance = s["instance_url"].as_str().ok_or("session: instance_url")?.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder().build()?;
    let auth = format!("Bearer {token}");
    let opts = format!("batchSize={batch_size}");
    let finder = memchr::memmem::Finder::new(b"{\"attributes\":{\"type\":\"Contact\"");
    let t = Instant::now();
    let mut url = url::Url::parse(&format!("{instance}/services/data/{api_version}/query"))?;
    url.query_pairs_mut().append_pair("q", soql);
    let mut next = Some(url.to_string());
    let (mut pages, mut bytes, mut records, mut total, mut first) = (0u64, 0u64, 0u64, None, None);
    while let Some(u) = next.take() {
        let resp = http.get(&u).header("Authorization", &auth).header("Sforce-Query-Options", &opts).send().await?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {} for {u}", resp.status()).into());
        }
        let body = resp.bytes().await?;
        first.get_or_insert_with(|| t.elapsed().as_secs_f64());
        pages += 1;
        bytes += body.len() as u64;
        records += finder.find_iter(&body).count() as u64;
        if total.is_none() {
            total = find_value(&body, b"\"totalSize\":").and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok());
        }
        if let Some(path) = find_value(&body, b"\"nextRecordsUrl\":") {
            next = Some(format!("{instance}{}", std::str::from_utf8(path)?));
        }
    }
    let secs = t.elapsed().as_secs_f64();
    Ok(json!({"records": records, "total_size": total, "pages": pages, "bytes": bytes, "seconds": secs, "first_page_s": first}))
}

async fn parse(session: &std::path::Path, soql: &str, api_version: &str, repeat: u32) -> BoxResult<Value> {
    let s: Value = serde_json::from_slice(&std::fs::read(session)?)?;
    let token = s["access_token"].as_str().ok_or("session: access_token")?;
    let instance = s["instance_url"].as_str().ok_or("session: instance_url")?.trim_end_matches('/');
    let mut url = url::Url::parse(&format!("{instance}/services/data/{api_version}/query"))?;
    url.query_pairs_mut().append_pair("q", soql);
    let body = reqwest::Client::new().get(url).bearer_auth(token).send().await?.text().await?;
    let t = Instant::now();
    let mut records = 0usize;
    for _ in 0..repeat {
        let page = sfcrm_core::QueryPage::from_text(body.clone())?;
        records += page.records.len();
    }
    let secs = t.elapsed().as_secs_f64();
    Ok(json!({"bytes": body.len(), "records": records, "seconds": secs, "us_per_record": secs * 1e6 / records as f64}))
}

enum Piece {
    Body(bytes::Bytes),
    Records(Vec<sfcrm_core::export::RawRecord>),
}

async fn pipeline(session: &std::path::Path, soql: &str, api_version: &str, parse_in: &str) -> BoxResult<Value> {
    let s: Value = serde_json::from_slice(&std::fs::read(session)?)?;
    let token = s["access_token"].as_str().ok_or("session: access_token")?.to_owned();
    let instance = s["instance_url"].as_str().ok_or("session: instance_url")?.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder().build()?;
    let mut url = url::Url::parse(&format!("{instance}/services/data/{api_version}/query"))?;
    url.query_pairs_mut().append_pair("q", soql);
    let parse_in_fetcher = parse_in == "fetcher";
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Piece>(1);
    let t = Instant::now();
    let fetcher = tokio::spawn(async move {
        let mut next = Some(url.to_string());
        while let Some(u) = next.take() {
            let body = http.get(&u).bearer_auth(&token).header("Sforce-Query-Options", "batchSize=2000").send().await?.bytes().await?;
            if parse_in_fetcher {
                let page = sfcrm_core::QueryPage::from_text(String::from_utf8(body.to_vec())?)?;
                next = page.next_records_url.map(|p| format!("{instance}{p}"));
                if tx.send(Piece::Records(page.records)).await.is_err() {
                    break;
                }
            } else {
                next = find_value(&body, b"\"nextRecordsUrl\":").map(|p| format!("{instance}{}", String::from_utf8_lossy(p)));
                if tx.send(Piece::Body(body)).await.is_err() {
                    break;
                }
            }
        }
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    });
    let mut records = 0u64;
    while let Some(piece) = rx.recv().await {
        records += match piece {
            Piece::Records(r) => r.len() as u64,
            Piece::Body(b) => sfcrm_core::QueryPage::from_text(String::from_utf8(b.to_vec())?)?.records.len() as u64,
        };
    }
    fetcher.await??;
    Ok(json!({"records": records, "seconds": t.elapsed().as_secs_f64(), "parse_in": parse_in}))
}

async fn walk(conn: &Conn, type_name: &str, limit: u64) -> BoxResult<Value> {
    let (client, key, _) = client(conn)?;
    let spec = ExportSpec::builtin(type_name)?;
    let before = client.api_calls();
    let t = Instant::now();
    let (mut page, mut pages, mut records, mut page_calls) = (1i64, 0u64, 0u64, 0u64);
    loop {
        let p = client.export_page(&key, &spec, PageRequest { page, limit: Some(limit) }).await?;
        pages += 1;
        records += p.data.len() as u64;
        page_calls += u64::from(p.api_calls);
        match p.pagination.next_page {
            Some(n) => page = n,
            None => break,
        }
    }
    let secs = t.elapsed().as_secs_f64();
    Ok(json!({"records": records, "pages": pages, "page_api_calls": page_calls, "seconds": secs,
              "client_calls": calls_json(client.api_calls() - before)}))
}

async fn deep(conn: &Conn, type_name: &str, limit: u64, pages: &str) -> BoxResult<Value> {
    let targets: Vec<i64> = pages.split(',').map(|p| p.trim().parse()).collect::<Result<_, _>>()?;
    let spec = ExportSpec::builtin(type_name)?;
    let mut cold = Vec::new();
    {
        // Process warm-up (TLS library and entropy initialisation), so that "cold" means a new
        // client with a new connection and empty caches, not a new process.
        let (client, key, _) = client(conn)?;
        client.api_get_json(&key, "/services/data/").await?;
    }
    for &p in &targets {
        let (client, key, _) = client(conn)?;
        client.invalidate_export_cache(&key); // cold: no COUNT, no anchors (the cache is per process)
        let before = client.api_calls();
        let t = Instant::now();
        let page = client.export_page(&key, &spec, PageRequest { page: p, limit: Some(limit) }).await?;
        let secs = t.elapsed().as_secs_f64();
        cold.push(json!({"page": p, "seconds": secs, "records": page.data.len(), "page_api_calls": page.api_calls,
                         "api_requests": (client.api_calls() - before).api_requests}));
    }
    let (client, key, _) = client(conn)?;
    client.invalidate_export_cache(&key);
    let last = *targets.iter().max().ok_or("no pages")?;
    let mut walk = Vec::new();
    let t_walk = Instant::now();
    let mut walk_calls = 0u64;
    for p in 1..=last {
        let before = client.api_calls();
        let t = Instant::now();
        let page = client.export_page(&key, &spec, PageRequest { page: p, limit: Some(limit) }).await?;
        let secs = t.elapsed().as_secs_f64();
        walk_calls += u64::from(page.api_calls);
        if targets.contains(&p) {
            walk.push(json!({"page": p, "seconds": secs, "records": page.data.len(), "page_api_calls": page.api_calls,
                             "api_requests": (client.api_calls() - before).api_requests}));
        }
    }
    Ok(json!({"limit": limit, "cold": cold, "walk": walk, "walk_pages": last,
              "walk_seconds": t_walk.elapsed().as_secs_f64(), "walk_page_api_calls": walk_calls}))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let out = match &args.cmd {
        Cmd::Connect { conn, session_out } => connect(conn, session_out).await,
        Cmd::Stream { conn, r#type, batch_size, decode } => stream(conn, r#type, *batch_size, decode).await,
        Cmd::Raw { session, soql, api_version, batch_size } => raw(session, soql, api_version, *batch_size).await,
        Cmd::Parse { session, soql, api_version, repeat } => parse(session, soql, api_version, *repeat).await,
        Cmd::Pipeline { session, soql, api_version, parse_in } => pipeline(session, soql, api_version, parse_in).await,
        Cmd::Walk { conn, r#type, limit } => walk(conn, r#type, *limit).await,
        Cmd::Deep { conn, r#type, limit, pages } => deep(conn, r#type, *limit, pages).await,
    };
    match out {
        Ok(v) => println!("{v}"),
        Err(e) => {
            eprintln!("sfcrm-bench: {e}");
            std::process::exit(1);
        }
    }
}
