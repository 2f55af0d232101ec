//! `sfcrm demo`: the main job against the bundled org emulator.
//!
//! 1. Starts `sf-org-emulator` on loopback (a login host and a separate instance host).
//! 2. Connects: `login` builds the authorize URL (signed state + PKCE S256); the "browser" follows it
//!    (the emulator consents and redirects to the callback URL with `code` and `state`); `callback`
//!    verifies the state, exchanges the code with its `code_verifier` and stores the connection,
//!    sealed, in a file store.
//! 3. Walks every type page by page with the seed's Quick Start loop (`limit=200`), checking each
//!    record arrives once — including pages past Salesforce's OFFSET 2000 cap (seed defect D1).
//! 4. Streams every type in full to CSV/NDJSON files; the session is expired in the middle of the
//!    contacts stream to show the SDK refreshing once and resuming from its checkpoint.
//! 5. Disconnects (revoke at the org, then delete) and prints a summary: records, API calls, time.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use sf_org_emulator::{Emulator, EmulatorConfig};
use sfcrm_core::client::{CallbackOutcome, CallbackParams};
use sfcrm_core::export::{ExportFormat, ExportRequest, ExportSpec, PageRequest, RecordWriter};
use sfcrm_core::store::{FileStore, SealedStore, SealingKey, SealingKeyring};
use sfcrm_core::{ApiCallCounts, Client, Config, ConnectionKey, Error, ErrorKind, Result};

/// Options of `sfcrm demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Contacts in the emulated org (10,000 is the seed-defects D1 example: deep pages past OFFSET 2000).
    #[arg(long, default_value_t = 10_000)]
    contacts: usize,
    /// Opportunities (deals) in the emulated org (the seed's 850).
    #[arg(long, default_value_t = 850)]
    deals: usize,
    /// Notes in the emulated org (the seed's 320).
    #[arg(long, default_value_t = 320)]
    notes: usize,
    /// Records per page in the page walk (the seed's Quick Start uses 200).
    #[arg(long, default_value_t = 200)]
    page_size: u64,
    /// Directory for the exported files (default: a new temporary directory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Turn on refresh token rotation in the emulated org.
    #[arg(long)]
    rotation: bool,
}

struct TypeSummary {
    name: &'static str,
    total: u64,
    walk_pages: u64,
    walk_records: u64,
    walk_calls: u64,
    stream_records: u64,
    stream_calls: u64,
    file: PathBuf,
}

pub async fn run(args: DemoArgs) -> Result<()> {
    let started = Instant::now();
    let emulator = Emulator::start(EmulatorConfig {
        contacts: args.contacts,
        deals: args.deals,
        notes: args.notes,
        rotation: args.rotation,
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Network, format!("cannot start the org emulator: {e}")))?;
    let control = emulator.control();
    println!("org emulator   login host {}  instance {}", emulator.login_url(), emulator.instance_url());

    let out_dir = match &args.out {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| Error::new(ErrorKind::Io, format!("cannot create {}: {e}", d.display())))?;
            d.clone()
        }
        None => std::env::temp_dir().join(format!("sfcrm-demo-{}", std::process::id())),
    };
    std::fs::create_dir_all(&out_dir).map_err(|e| Error::new(ErrorKind::Io, format!("cannot create {}: {e}", out_dir.display())))?;

    // A sealed file store, as a host would use: tokens never reach the disk in plaintext.
    let key_bytes: [u8; 32] = rand::random();
    let keyring = SealingKeyring::new(SealingKey::new("demo-1", &key_bytes)?, Vec::new())?;
    let store = Arc::new(SealedStore::new(Arc::new(FileStore::new(out_dir.join("connections"))?), keyring));
    let state_secret: [u8; 32] = rand::random();
    let config = Config::builder()
        .client_id("sfcrm-demo-client")
        .client_secret("sfcrm-demo-secret")
        .redirect_uri("http://127.0.0.1:8788/v1/integrations/salesforce/auth/callback")
        .login_url(emulator.login_url())
        .state_secret(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, state_secret))
        .forward_origins(["http://127.0.0.1:3000"])
        .build()?;
    let client = Client::new(config, store)?;
    let key = ConnectionKey::new("acct-demo", "user-demo");

    // ---- connect ---------------------------------------------------------------------------
    let t = Instant::now();
    let login = client.login(&key, Some("http://127.0.0.1:3000/integrations?tab=crm")).await?;
    let authorize = url::Url::parse(&login.url).map_err(|e| Error::internal(format!("authorize URL: {e}")))?;
    println!("login          302 -> {}{} (state signed, PKCE S256)", authorize.origin().ascii_serialization(), authorize.path());
    let params = follow_consent(&login.url).await?;
    let callback = client.callback(&params).await?;
    if let CallbackOutcome::Error { reason } = &callback.outcome {
        return Err(Error::new(ErrorKind::OAuth, format!("the callback failed: {reason}")));
    }
    let info = client
        .connection_info(&key)
        .await?
        .ok_or_else(|| Error::internal("the callback stored no connection"))?;
    println!("callback       302 -> {}", callback.url);
    println!(
        "connected      instance_url {}  scope {:?}  ({} ms)",
        info.instance_url,
        info.scope.as_deref().unwrap_or(""),
        t.elapsed().as_millis()
    );

    // ---- page walk and stream per type -----------------------------------------------------
    let mut summaries = Vec::new();
    for name in ["contacts", "deals", "notes"] {
        let spec = ExportSpec::builtin(name)?;
        let (walk_pages, walk_records, walk_calls, total) = page_walk(&client, &key, &spec, args.page_size).await?;
        let expire_midway = name == "contacts";
        let (stream_records, stream_calls, file) =
            stream_to_file(&client, &key, &spec, name, &out_dir, expire_midway.then_some(&control)).await?;
        if stream_records != total || walk_records != total {
            return Err(Error::internal(format!(
                "{name}: the org has {total} records but the page walk returned {walk_records} and the stream {stream_records}"
            )));
        }
        summaries.push(TypeSummary { name, total, walk_pages, walk_records, walk_calls, stream_records, stream_calls, file });
    }

    // ---- disconnect ------------------------------------------------------------------------
    let calls_before_disconnect = client.api_calls();
    let disconnected = client.disconnect(&key).await?;
    println!(
        "disconnect     revoked at the org: {}{}",
        disconnected.revoked,
        disconnected.revoke_error.map(|e| format!(" ({e})")).unwrap_or_default()
    );

    print_summary(&summaries, calls_before_disconnect, client.api_calls(), client.api_usage(), started);
    let counters = control.counters();
    tracing::debug!(?counters, "emulator counters");
    emulator.shutdown().await;
    Ok(())
}

/// Plays the user's browser: GETs the authorize URL without following redirects and reads the
/// callback parameters from the `Location` the org answers with.
async fn follow_consent(authorize_url: &str) -> Result<CallbackParams> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::new(ErrorKind::Network, format!("HTTP client: {e}")))?;
    let resp = http
        .get(authorize_url)
        .send()
        .await
        .map_err(|e| Error::new(ErrorKind::Network, format!("authorize request failed: {e}")))?;
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::new(ErrorKind::OAuth, format!("the authorize page answered {} without a redirect", resp.status())))?;
    let callback = url::Url::parse(location).map_err(|e| Error::new(ErrorKind::OAuth, format!("bad redirect: {e}")))?;
    let mut params = CallbackParams::default();
    for (k, v) in callback.query_pairs() {
        match k.as_ref() {
            "code" => params.code = Some(v.into_owned()),
            "state" => params.state = Some(v.into_owned()),
            "error" => params.error = Some(v.into_owned()),
            "error_description" => params.error_description = Some(v.into_owned()),
            _ => {}
        }
    }
    println!("authorize      302 -> {}{}?code=…&state=… (user consented)", callback.origin().ascii_serialization(), callback.path());
    Ok(params)
}

/// The seed's Quick Start loop: pages of `limit` records until `next_page` is null. Checks that
/// no record repeats. Returns (pages, records, API calls, total).
async fn page_walk(client: &Client, key: &ConnectionKey, spec: &ExportSpec, limit: u64) -> Result<(u64, u64, u64, u64)> {
    let t = Instant::now();
    let before = client.api_calls();
    let mut seen = HashSet::new();
    let mut page = 1i64;
    let mut pages = 0u64;
    let total;
    loop {
        let result = client.export_page(key, spec, PageRequest { page, limit: Some(limit) }).await?;
        pages += 1;
        for record in &result.data {
            let id = record_id(record).ok_or_else(|| Error::internal("a record without an Id"))?;
            if !seen.insert(id.to_owned()) {
                return Err(Error::internal(format!("record {id} was returned twice by the page walk")));
            }
        }
        match result.pagination.next_page {
            Some(next) => page = next,
            None => {
                total = result.pagination.total;
                break;
            }
        }
    }
    let calls = (client.api_calls() - before).api_requests;
    println!(
        "page walk      {:<9} {:>6} records in {:>3} pages of {limit}: {:>4} API calls ({} ms)",
        spec.type_name().unwrap_or("?"),
        seen.len(),
        pages,
        calls,
        t.elapsed().as_millis()
    );
    Ok((pages, seen.len() as u64, calls, total))
}

/// The Id of a record: its `Id` field, else the last segment of `attributes.url`.
fn record_id(record: &sfcrm_core::export::Record) -> Option<&str> {
    if let Some(id) = record.get("Id").and_then(|v| v.as_str()) {
        return Some(id);
    }
    record.get("attributes")?.get("url")?.as_str()?.rsplit('/').next()
}

/// Streams every record of `spec` into a file; when `expire_midway` is given, expires every session
/// at the org after the first batch. Returns (records, API calls, file).
async fn stream_to_file(
    client: &Client,
    key: &ConnectionKey,
    spec: &ExportSpec,
    name: &str,
    out_dir: &std::path::Path,
    expire_midway: Option<&sf_org_emulator::Control>,
) -> Result<(u64, u64, PathBuf)> {
    let t = Instant::now();
    let before = client.api_calls();
    let format = if name == "notes" { ExportFormat::Ndjson } else { ExportFormat::Csv };
    let path = out_dir.join(format!("{name}.{}", if format == ExportFormat::Csv { "csv" } else { "ndjson" }));
    let file = std::fs::File::create(&path).map_err(|e| Error::new(ErrorKind::Io, format!("cannot create {}: {e}", path.display())))?;
    let mut stream = client.export_stream(key, ExportRequest::new(spec.clone()));
    let mut writer = RecordWriter::new(format, std::io::BufWriter::new(file), stream.fields())?;
    let mut seen = HashSet::new();
    let mut expired = false;
    while let Some(batch) = stream.next_batch().await? {
        for record in &batch.records {
            let id = record.id()?;
            if !seen.insert(id.as_str().to_owned()) {
                return Err(Error::internal(format!("record {id} was streamed twice")));
            }
            writer.write_raw(record)?;
        }
        if let (Some(control), false) = (expire_midway, expired) {
            let n = control.expire_sessions();
            expired = true;
            println!(
                "               mid-stream, the org expired {n} session(s) after {} of {} {name}: the SDK refreshes once and resumes from its checkpoint",
                stream.progress().records,
                stream.progress().total_size.unwrap_or(0)
            );
        }
    }
    writer.finish()?;
    let calls = client.api_calls() - before;
    println!(
        "stream         {:<9} {:>6} records, each once: {:>4} API calls, {} refresh(es) -> {} ({} ms)",
        name,
        seen.len(),
        calls.api_requests,
        calls.refreshes,
        path.display(),
        t.elapsed().as_millis()
    );
    Ok((seen.len() as u64, calls.api_requests, path))
}

fn print_summary(
    rows: &[TypeSummary],
    before_disconnect: ApiCallCounts,
    end: ApiCallCounts,
    usage: Option<sfcrm_core::ApiUsage>,
    started: Instant,
) {
    println!();
    println!("{:<9} {:>8} {:>12} {:>10} {:>10} {:>14} {:>12}  file", "type", "records", "walk pages", "walk calls", "streamed", "stream calls", "calls/2000");
    for r in rows {
        println!(
            "{:<9} {:>8} {:>12} {:>10} {:>10} {:>14} {:>12}  {}",
            r.name,
            r.total,
            r.walk_pages,
            r.walk_calls,
            r.stream_records,
            r.stream_calls,
            r.total.div_ceil(2000),
            r.file.display()
        );
        debug_assert_eq!(r.walk_records, r.total);
    }
    println!("walk: the seed's page loop (export_page until next_page is null); streamed: export_stream into the file;");
    println!("calls/2000: the fewest query calls possible, at Salesforce's largest page of 2000 records");
    println!(
        "checked: every record Id arrived exactly once in the page walk and in the stream, and both counts \
         equal the org's totalSize (the run stops with an error otherwise)"
    );
    println!();
    println!(
        "API calls to the org: {} (query {}, nextRecordsUrl {}, other {}, retries {}); token requests {} (refreshes {}); revoke {}",
        end.api_requests,
        end.query,
        end.query_more,
        end.other_api,
        end.retries,
        end.token_requests,
        end.refreshes,
        end.revoke_requests
    );
    let _ = before_disconnect;
    if let Some(u) = usage {
        println!("org's daily API usage (Sforce-Limit-Info): {}/{}", u.used, u.limit);
    }
    println!("total time: {:.2} s", started.elapsed().as_secs_f64());
}
