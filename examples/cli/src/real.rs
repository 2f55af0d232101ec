//! `sfcrm login | export | status | disconnect` against a real org.
//!
//! Configuration comes from the environment through [`Config::from_lookup`] (the seed's
//! `SALESFORCE_CLIENT_ID`, `SALESFORCE_SECRET_ID`, `SALESFORCE_REDIRECT_URL`,
//! `SALESFORCE_AUTH_SCOPES`, plus `SALESFORCE_LOGIN_URL` for sandboxes and My Domains). Two values
//! a one-shot command line does not need to share with anyone get defaults here: the state signing
//! secret (random per run: the state only has to verify inside this process) and the forward-URL
//! allow-list (the redirect URL's own origin, where this command serves a "done" page).
//!
//! Tokens are kept in a [`FileStore`] under `--store` (default `~/.config/sfcrm`), sealed with the
//! keys in `SFCRM_SEALING_KEYS` (`kid:base64key,...`), else with a key generated on first use into
//! `<store>/sealing.key` (mode 0600).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sfcrm_core::client::{CallbackOutcome, CallbackParams};
use sfcrm_core::export::{Checkpoint, ExportFormat, ExportRequest, ExportSpec, RecordWriter};
use sfcrm_core::store::{FileStore, SealedStore, SealingKey, SealingKeyring, TokenStore};
use sfcrm_core::{Client, Config, ConnectionKey, Error, ErrorKind, Result};

use crate::ConnectionArgs;

/// Options of `sfcrm export`.
#[derive(Args)]
pub struct ExportArgs {
    /// contacts, deals or notes (the seed's types); omit with --sobject.
    #[arg(required_unless_present = "sobject")]
    r#type: Option<String>,
    /// Export any sObject instead of a built-in type (with --fields).
    #[arg(long, requires = "fields", conflicts_with = "type")]
    sobject: Option<String>,
    /// Comma-separated field API names, relationship paths allowed (Account.Name).
    #[arg(long, value_delimiter = ',')]
    fields: Vec<String>,
    /// csv, ndjson or json.
    #[arg(long, default_value = "ndjson")]
    format: String,
    /// Output file (written to a temporary file beside it and renamed on success).
    #[arg(long)]
    out: PathBuf,
    /// Incremental: only records whose SystemModstamp is at or after this instant (inclusive, e.g. 2024-01-01T00:00:00Z).
    #[arg(long)]
    since: Option<String>,
    /// Resume after this checkpoint token (printed by an export that stopped on an error or Ctrl-C;
    /// the records before it are in that run's `<out>.partial`).
    #[arg(long)]
    checkpoint: Option<String>,
    /// Include deleted and archived records (queryAll).
    #[arg(long)]
    include_deleted: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

fn store_dir(args: &ConnectionArgs) -> Result<PathBuf> {
    if let Some(dir) = &args.store {
        return Ok(dir.clone());
    }
    let home = std::env::var_os("HOME").ok_or_else(|| Error::config("HOME is not set: pass --store DIR or set SFCRM_STORE_DIR"))?;
    Ok(PathBuf::from(home).join(".config").join("sfcrm"))
}

fn connection_key(args: &ConnectionArgs) -> ConnectionKey {
    let owner = args.owner.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "local".into());
    ConnectionKey::new(args.account.clone(), owner)
}

/// The sealing keyring: `SFCRM_SEALING_KEYS`, else a key file created on first use (0600).
fn keyring(dir: &Path) -> Result<SealingKeyring> {
    if let Ok(value) = std::env::var("SFCRM_SEALING_KEYS") {
        return SealingKeyring::from_env_value(&value)
            .map_err(|e| Error::config(format!("SFCRM_SEALING_KEYS: {}", e.message())));
    }
    let path = dir.join("sealing.key");
    let io = |e: std::io::Error| Error::store(format!("sealing key file {}: {e}", path.display()));
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io)?;
            let key: [u8; 32] = rand::random();
            write_private(&path, &key).map_err(io)?;
            key.to_vec()
        }
        Err(e) => return Err(io(e)),
    };
    SealingKeyring::new(SealingKey::new("local-1", &bytes)?, Vec::new())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn open_store(args: &ConnectionArgs) -> Result<Arc<dyn TokenStore>> {
    let dir = store_dir(args)?;
    let files = FileStore::new(dir.join("connections"))?;
    Ok(Arc::new(SealedStore::new(Arc::new(files), keyring(&dir)?)))
}

/// Environment configuration with this command's two defaults (see the module docs).
fn config_from_env() -> Result<Config> {
    let state_secret: [u8; 32] = rand::random();
    let state_secret = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, state_secret);
    let redirect = std::env::var("SALESFORCE_REDIRECT_URL").ok();
    Config::from_lookup(|name| match std::env::var(name) {
        Ok(v) => Some(v),
        Err(_) => match name {
            "SFCRM_STATE_SECRET" => Some(state_secret.clone()),
            "SFCRM_FORWARD_ORIGINS" => redirect.as_deref().and_then(|r| url::Url::parse(r).ok()).map(|u| u.origin().ascii_serialization()),
            _ => None,
        },
    })
}

fn client_for(args: &ConnectionArgs) -> Result<(Client, ConnectionKey)> {
    Ok((Client::new(config_from_env()?, open_store(args)?)?, connection_key(args)))
}

/// `sfcrm login`: serves the redirect URL's port, prints the authorize URL, finishes the callback.
pub async fn login(args: ConnectionArgs) -> Result<()> {
    let (client, key) = client_for(&args)?;
    let redirect = url::Url::parse(client.config().redirect_uri())
        .map_err(|e| Error::config(format!("SALESFORCE_REDIRECT_URL: {e}")))?;
    let host = redirect.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = redirect.port_or_known_default().unwrap_or(80);
    let forward = format!("{}/sfcrm-done", redirect.origin().ascii_serialization());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await.map_err(|e| {
        Error::config(format!("cannot listen on {host}:{port} (the port of SALESFORCE_REDIRECT_URL): {e}"))
    })?;
    let started = client.login(&key, Some(&forward)).await?;
    if started.already_connected {
        println!("already connected ({key}); run `sfcrm disconnect` first to connect again");
        return Ok(());
    }
    println!("Open this URL in a browser and approve access:\n\n  {}\n", started.url);
    println!("Waiting for the callback on {} ...", redirect);

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<String>>(1);
    let callback_path = redirect.path().to_owned();
    let app = axum::Router::new().route(
        &callback_path,
        axum::routing::get(move |axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>| {
            let client = client.clone();
            let tx = tx.clone();
            async move {
                let params = CallbackParams {
                    code: q.get("code").cloned(),
                    state: q.get("state").cloned(),
                    error: q.get("error").cloned(),
                    error_description: q.get("error_description").cloned(),
                };
                let result = client.callback(&params).await;
                let page = match &result {
                    Ok(r) if r.outcome == CallbackOutcome::Success => "Connected. You can close this tab.".to_owned(),
                    Ok(r) => match &r.outcome {
                        CallbackOutcome::Error { reason } => format!("Not connected: {reason}. See the terminal for what to do."),
                        CallbackOutcome::Success => "Connected. You can close this tab.".to_owned(),
                    },
                    Err(e) => format!("Not connected: {e}. See the terminal for what to do."),
                };
                let _ = tx
                    .send(result.and_then(|r| match r.outcome {
                        CallbackOutcome::Success => Ok(r.url),
                        CallbackOutcome::Error { reason } => Err(Error::new(ErrorKind::OAuth, reason)),
                    }))
                    .await;
                page
            }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let outcome = tokio::select! {
        r = rx.recv() => r.unwrap_or_else(|| Err(Error::internal("the callback server stopped"))),
        _ = tokio::time::sleep(Duration::from_secs(600)) => Err(Error::new(ErrorKind::Timeout, "no callback within 10 minutes")),
        _ = tokio::signal::ctrl_c() => Err(Error::new(ErrorKind::Cancelled, "interrupted")),
    };
    server.abort();
    outcome?;
    println!("connected: {key} (tokens sealed in {})", store_dir(&args)?.display());
    Ok(())
}

/// `sfcrm export`: streams to a file with a progress bar on stderr.
pub async fn export(args: ExportArgs) -> Result<()> {
    let (client, key) = client_for(&args.connection)?;
    let spec = match (&args.r#type, &args.sobject) {
        (_, Some(sobject)) => ExportSpec::custom(sobject, &args.fields)?,
        (Some(t), None) if !args.fields.is_empty() => {
            let builtin = ExportSpec::builtin(t)?;
            ExportSpec::custom(builtin.sobject().as_str(), &args.fields)?
        }
        (Some(t), None) => ExportSpec::builtin(t)?,
        (None, None) => return Err(Error::invalid_argument("name a type or --sobject")),
    };
    let format = ExportFormat::parse(&args.format)?;
    let mut request = ExportRequest::new(spec).include_deleted(args.include_deleted);
    if let Some(since) = &args.since {
        request = request.since(since.clone());
    }
    if let Some(token) = &args.checkpoint {
        request = request.resume_from(Checkpoint::from_token(token)?);
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} records {per_sec} [{elapsed_precise}] {wide_bar}")
            .expect("static template"),
    );
    let resumed_from = request.resume_from.as_ref().map(Checkpoint::records).unwrap_or(0);
    // Written to `<out>.partial`, renamed over `--out` only when complete. On an error or Ctrl-C
    // the partial file keeps every record delivered so far and the checkpoint after them is
    // printed, so `--checkpoint TOKEN --out NEXT` continues without losing or repeating a record.
    let partial = partial_path(&args.out);
    let file = std::fs::File::create(&partial)
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot create {}: {e}", partial.display())))?;
    let mut stream = client.export_stream(&key, request);
    let mut writer = RecordWriter::new(format, std::io::BufWriter::new(file), stream.fields())?;
    let mut failure: Option<Error> = None;
    loop {
        let next = tokio::select! {
            r = stream.next_batch() => r,
            _ = tokio::signal::ctrl_c() => Err(Error::new(ErrorKind::Cancelled, "interrupted")),
        };
        match next {
            Ok(Some(batch)) => {
                if let Err(e) = batch.records.iter().try_for_each(|r| writer.write_raw(r)) {
                    failure = Some(e);
                    break;
                }
                let p = stream.progress();
                if let Some(total) = p.total_size {
                    bar.set_length(total);
                }
                bar.set_position(p.records);
            }
            Ok(None) => break,
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    bar.finish_and_clear();
    let records = writer.records();
    let finished = writer.finish().and_then(|w| {
        let file = w.into_inner().map_err(|e| Error::new(ErrorKind::Io, format!("writing the export failed: {}", e.error())))?;
        file.sync_all().map_err(|e| Error::new(ErrorKind::Io, format!("writing the export failed: {e}")))
    });
    if let Some(e) = failure.or(finished.err()) {
        let checkpoint = stream.checkpoint();
        if records == 0 {
            // Nothing was delivered: there is nothing to keep or resume, only the error to fix.
            let _ = std::fs::remove_file(&partial);
        } else {
            eprintln!(
                "stopped after {} records ({} in {}); continue with: --checkpoint {} --out <another file>",
                checkpoint.records(),
                records,
                partial.display(),
                checkpoint.to_token()
            );
        }
        return Err(e);
    }
    std::fs::rename(&partial, &args.out)
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot rename {} to {}: {e}", partial.display(), args.out.display())))?;
    let checkpoint = stream.checkpoint();
    let mut summary = format!("{} records -> {} ({} API calls", records, args.out.display(), stream.api_calls());
    if resumed_from > 0 {
        summary.push_str(&format!("; {} records in all with the runs before --checkpoint", resumed_from + records));
    }
    summary.push(')');
    // The newest SystemModstamp is tracked only by incremental (--since) exports, which read in
    // SystemModstamp order; with no new record, the same --since still applies.
    match (checkpoint.last_modstamp(), &args.since) {
        (Some(modstamp), _) => summary.push_str(&format!("; next incremental run: --since {modstamp}")),
        (None, Some(since)) => summary.push_str(&format!("; no record changed: the next incremental run uses --since {since} again")),
        (None, None) => summary.push_str("; for incremental runs, export once with --since 1970-01-01T00:00:00Z and reuse the instant it prints"),
    }
    eprintln!("{summary}");
    Ok(())
}

/// `<out>.partial`, beside `out`.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "export".into());
    name.push(".partial");
    out.with_file_name(name)
}

/// `sfcrm status`.
pub async fn status(args: ConnectionArgs) -> Result<()> {
    let (client, key) = client_for(&args)?;
    match client.connection_info(&key).await? {
        None => println!("not connected ({key})"),
        Some(info) => println!(
            "{key}: instance_url {}  scope {}  issued_at {}  invalidated {}",
            info.instance_url,
            info.scope.unwrap_or_default(),
            issued_at_text(&info.issued_at),
            info.token_invalidated
        ),
    }
    Ok(())
}

/// `sfcrm disconnect`.
pub async fn disconnect(args: ConnectionArgs) -> Result<()> {
    let (client, key) = client_for(&args)?;
    let d = client.disconnect(&key).await?;
    if d.revoked {
        println!("disconnected {key}: revoked at Salesforce and deleted locally");
    } else {
        println!(
            "deleted {key} locally; the revoke at Salesforce failed: {}",
            d.revoke_error.unwrap_or_else(|| "unknown reason".into())
        );
    }
    Ok(())
}

/// Salesforce's `issued_at` (milliseconds since the epoch, as a string) as an HTTP date, e.g.
/// `Mon, 30 Nov 2026 05:32:10 GMT`; anything else is shown as it is.
fn issued_at_text(issued_at: &str) -> String {
    match issued_at.parse::<u64>() {
        Ok(ms) => httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms)),
        Err(_) => issued_at.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn issued_at_is_shown_as_a_date() {
        assert_eq!(super::issued_at_text("1732950000000"), "Sat, 30 Nov 2024 07:00:00 GMT");
        assert_eq!(super::issued_at_text(""), "");
    }
}
