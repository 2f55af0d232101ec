//! `sf-org-emulator` binary: serves the emulator until SIGTERM/SIGINT (or stdin closing with
//! `--exit-on-stdin-close`). Prints `SF_ORG_EMULATOR_LOGIN_URL=…` and `SF_ORG_EMULATOR_INSTANCE_URL=…`
//! on stdout at start.

use std::io::Write;

use clap::Parser;
use sf_org_emulator::{Emulator, EmulatorConfig};

#[derive(Parser, Debug)]
#[command(name = "sf-org-emulator", about = "A Salesforce org (OAuth + REST query) on loopback, for tests")]
struct Args {
    /// Login port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    login_port: u16,
    /// Instance port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    instance_port: u16,
    /// Number of Contacts.
    #[arg(long, default_value_t = 1500)]
    contacts: usize,
    /// Number of Opportunities.
    #[arg(long, default_value_t = 850)]
    deals: usize,
    /// Number of Notes.
    #[arg(long, default_value_t = 320)]
    notes: usize,
    /// Number of Leads.
    #[arg(long, default_value_t = 200)]
    leads: usize,
    /// Number of Tasks.
    #[arg(long, default_value_t = 600)]
    tasks: usize,
    /// Number of Events.
    #[arg(long, default_value_t = 300)]
    events: usize,
    /// Number of Wide_Object__c rows.
    #[arg(long, default_value_t = 250)]
    wide_rows: usize,
    /// Child rows returned inline per parent and subquery (the rest behind the child's nextRecordsUrl).
    #[arg(long, default_value_t = 200)]
    child_batch_size: usize,
    /// Longest request URI in bytes (longer: 414 URI Too Long).
    #[arg(long, default_value_t = 16_384)]
    max_uri_bytes: usize,
    /// Data/token seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Turn refresh token rotation on.
    #[arg(long)]
    rotation: bool,
    /// Connected app consumer key.
    #[arg(long, default_value = "sfcrm-demo-client")]
    client_id: String,
    /// Consumer secret.
    #[arg(long, default_value = "sfcrm-demo-secret")]
    client_secret: String,
    /// Allowed callback URL (repeatable; none = any http loopback URL).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Largest page size served.
    #[arg(long, default_value_t = 2000)]
    batch_size: usize,
    /// Daily API request limit.
    #[arg(long, default_value_t = 100_000)]
    daily_api_limit: u64,
    /// Access token (session) lifetime in seconds.
    #[arg(long, default_value_t = 7200)]
    session_lifetime_s: u64,
    /// Scope granted when an authorize request names none.
    #[arg(long, default_value = "api refresh_token")]
    default_scope: String,
    /// Bulk API 2.0 query jobs: rows processed per second (default: the documented example's rate).
    #[arg(long)]
    bulk_rows_per_s: Option<f64>,
    /// Bulk API 2.0 query jobs: fixed processing time per job in ms (default 320).
    #[arg(long)]
    bulk_overhead_ms: Option<u64>,
    /// Bulk API 2.0 query jobs: time a job stays queued (UploadComplete) in ms (default 500).
    #[arg(long)]
    bulk_queue_delay_ms: Option<u64>,
    /// Bulk API 2.0 query jobs: rows per results page without maxRecords (default 50000).
    #[arg(long)]
    bulk_default_max_records: Option<u64>,
    /// Exit when stdin reaches EOF (so a parent test harness never leaks the process).
    #[arg(long)]
    exit_on_stdin_close: bool,
    /// Serve HTTPS on every port with a CA generated at start; the URLs become `https://`, and a
    /// third line `SF_ORG_EMULATOR_TLS_CA_FILE=<path>` names the CA certificate (PEM) to trust.
    #[arg(long)]
    tls: bool,
    /// Where `--tls` writes the CA certificate (default: `sf-org-emulator-<pid>-ca.pem` in the
    /// temporary directory).
    #[arg(long, requires = "tls")]
    tls_ca_file: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let a = Args::parse();
    let d = EmulatorConfig::default();
    let mut bulk = d.bulk.clone();
    bulk.rows_per_s = a.bulk_rows_per_s.filter(|r| *r > 0.0).unwrap_or(bulk.rows_per_s);
    bulk.overhead_ms = a.bulk_overhead_ms.unwrap_or(bulk.overhead_ms);
    bulk.queue_delay_ms = a.bulk_queue_delay_ms.unwrap_or(bulk.queue_delay_ms);
    bulk.default_max_records = a.bulk_default_max_records.filter(|n| *n > 0).unwrap_or(bulk.default_max_records);
    let cfg = EmulatorConfig {
        client_id: a.client_id,
        client_secret: a.client_secret,
        redirect_uris: a.redirect_uris,
        contacts: a.contacts,
        deals: a.deals,
        notes: a.notes,
        leads: a.leads,
        tasks: a.tasks,
        events: a.events,
        wide_rows: a.wide_rows,
        child_batch_size: a.child_batch_size,
        max_uri_bytes: a.max_uri_bytes,
        seed: a.seed.unwrap_or(d.seed),
        rotation: a.rotation,
        batch_size: a.batch_size,
        daily_api_limit: a.daily_api_limit,
        session_lifetime_s: a.session_lifetime_s,
        default_scope: a.default_scope,
        login_port: a.login_port,
        instance_port: a.instance_port,
        tls: a.tls,
        bulk,
        ..d
    };
    let emu = Emulator::start(cfg).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "SF_ORG_EMULATOR_LOGIN_URL={}", emu.login_url())?;
        writeln!(out, "SF_ORG_EMULATOR_INSTANCE_URL={}", emu.instance_url())?;
        if let Some(pem) = emu.tls_ca_pem() {
            let path = a
                .tls_ca_file
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join(format!("sf-org-emulator-{}-ca.pem", std::process::id())));
            std::fs::write(&path, pem)?;
            writeln!(out, "SF_ORG_EMULATOR_TLS_CA_FILE={}", path.display())?;
        }
        out.flush()?;
    }
    let stdin_closed = async {
        if a.exit_on_stdin_close {
            let mut buf = [0u8; 1024];
            let mut stdin = tokio::io::stdin();
            use tokio::io::AsyncReadExt;
            while let Ok(n) = stdin.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        } else {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        #[cfg(unix)]
        {
            let mut t = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
            t.recv().await;
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
        _ = stdin_closed => {}
    }
    emu.shutdown().await;
    Ok(())
}
