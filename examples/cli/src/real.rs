//! `sfcrm login | export | status | disconnect` against a real org.
//!
//! Configuration comes from the environment through [`Config::from_lookup`] (the seed's
//! `SALESFORCE_CLIENT_ID`, `SALESFORCE_SECRET_ID`, `SALESFORCE_REDIRECT_URL`,
//! `SALESFORCE_AUTH_SCOPES`, plus `SALESFORCE_LOGIN_URL` for sandboxes and My Domains). Two values
//! a one-shot command line does not need to share with anyone get defaults here: the state signing
//! secret (random per run: the state only has to verify inside this process) and the forward-URL
//! allow-list. The redirect URL's own origin, where this command serves a "done" page, is always
//! allowed: added to `SFCRM_FORWARD_ORIGINS` when that is set (as in the README's emulator shell).
//!
//! Tokens are kept in a [`FileStore`] under `--store` (default `~/.config/sfcrm`), sealed with the
//! keys in `SFCRM_SEALING_KEYS` (`kid:base64key,...`), else with a key generated on first use into
//! `<store>/sealing.key` (mode 0600).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sfcrm_core::client::{CallbackOutcome, CallbackParams};
use sfcrm_core::store::{FileStore, SealedStore, SealingKey, SealingKeyring, TokenStore};
use sfcrm_core::{Client, Config, ConnectionKey, Error, ErrorKind, Result};

use crate::{ConnectionArgs, Failure, term};

pub(crate) fn store_dir(args: &ConnectionArgs) -> Result<PathBuf> {
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
    let own_origin = std::env::var("SALESFORCE_REDIRECT_URL")
        .ok()
        .and_then(|r| url::Url::parse(&r).ok())
        .map(|u| u.origin().ascii_serialization());
    Config::from_lookup(|name| match (name, std::env::var(name)) {
        ("SFCRM_FORWARD_ORIGINS", set) => forward_origins(set.ok(), own_origin.as_deref()),
        (_, Ok(v)) => Some(v),
        ("SFCRM_STATE_SECRET", Err(_)) => Some(state_secret.clone()),
        _ => None,
    })
}

/// `SFCRM_FORWARD_ORIGINS` (`set`) with the redirect URL's own origin added: `login` forwards the
/// browser there, so it is always allowed.
fn forward_origins(set: Option<String>, own: Option<&str>) -> Option<String> {
    match (set, own) {
        (Some(list), _) if list.trim() == "*" => Some(list),
        (Some(list), Some(own)) => Some(format!("{list},{own}")),
        (list, own) => list.or_else(|| own.map(str::to_owned)),
    }
}

pub(crate) fn client_for(args: &ConnectionArgs) -> Result<(Client, ConnectionKey)> {
    Ok((Client::new(config_from_env()?, open_store(args)?)?, connection_key(args)))
}

/// `sfcrm login`: serves the redirect URL's port, prints the authorize URL, finishes the callback.
/// Callbacks whose state does not verify (not from this login: a forged or stale request from
/// anything that can reach the port) are answered 400, reported on stderr and ignored; the
/// command keeps waiting for the browser's.
pub async fn login(args: ConnectionArgs) -> std::result::Result<(), Failure> {
    let (client, key) = client_for(&args)?;
    let redirect = url::Url::parse(client.config().redirect_uri())
        .map_err(|e| Error::config(format!("SALESFORCE_REDIRECT_URL: {e}")))?;
    let host = redirect.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = redirect.port_or_known_default().unwrap_or(80);
    let forward = format!("{}/sfcrm-done", redirect.origin().ascii_serialization());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await.map_err(|e| {
        let error = Error::new(ErrorKind::Io, format!("cannot listen on {host}:{port} (the port of SALESFORCE_REDIRECT_URL): {e}"));
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            "another process listens on this port (an earlier `sfcrm login` still waiting?): stop it, or set \
             SALESFORCE_REDIRECT_URL to a free loopback port that is also registered as a callback URL on the connected app"
        } else {
            "SALESFORCE_REDIRECT_URL must be a loopback URL (e.g. http://127.0.0.1:8799/callback) on a port this user may listen on"
        };
        Failure::with_hint(error, hint)
    })?;
    let started = client.login(&key, Some(&forward)).await?;
    if started.already_connected {
        println!("already connected ({}); run `sfcrm disconnect` first to connect again", term::line(&key.to_string()));
        return Ok(());
    }
    println!("Open this URL in a browser and approve access:\n\n  {}\n", term::line(&started.url));
    println!("Waiting for the callback on {} ...", term::line(redirect.as_str()));

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<String>>(1);
    let app = axum::Router::new().route(
        redirect.path(),
        axum::routing::get(move |axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>| {
            let (client, tx) = (client.clone(), tx.clone());
            async move {
                let (outcome, status, page) = receive_callback(&client, &q).await;
                if let Some(outcome) = outcome {
                    let _ = tx.send(outcome).await;
                }
                (status, page)
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
    let store = store_dir(&args)?;
    println!("connected: {} (tokens sealed in {})", term::line(&key.to_string()), term::line(&store.display().to_string()));
    Ok(())
}

/// One request to the callback path: the login's outcome (`None` when the request is ignored
/// because its state does not verify), and the status and text of the page for the browser.
async fn receive_callback(client: &Client, q: &HashMap<String, String>) -> (Option<Result<String>>, axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    let params = CallbackParams {
        code: q.get("code").cloned(),
        state: q.get("state").cloned(),
        error: q.get("error").cloned(),
        error_description: q.get("error_description").cloned(),
    };
    match client.callback(&params).await {
        Err(e) if e.kind() == ErrorKind::InvalidState => {
            eprintln!("ignored a callback whose state does not verify (not from this login); still waiting for the browser's");
            let page = "Ignored: this request's state does not verify, so it is not the answer to this login. sfcrm login is still waiting.";
            (None, StatusCode::BAD_REQUEST, page.to_owned())
        }
        Ok(r) => match r.outcome {
            CallbackOutcome::Success => (Some(Ok(r.url)), StatusCode::OK, "Connected. You can close this tab.".to_owned()),
            CallbackOutcome::Error { reason } => {
                let page = format!("Not connected: {reason}. See the terminal for what to do.");
                (Some(Err(Error::new(ErrorKind::OAuth, reason))), StatusCode::OK, page)
            }
        },
        Err(e) => {
            let page = format!("Not connected: {e}. See the terminal for what to do.");
            (Some(Err(e)), StatusCode::OK, page)
        }
    }
}

/// `sfcrm status`: the stored connection; `Ok(false)` when there is none or it needs a new login
/// (the command then exits 3).
pub async fn status(args: ConnectionArgs) -> std::result::Result<bool, Failure> {
    let (client, key) = client_for(&args)?;
    let key_text = key.to_string();
    match client.connection_info(&key).await? {
        None => {
            println!("not connected ({})", term::line(&key_text));
            eprintln!("hint: run `sfcrm login` to connect");
            Ok(false)
        }
        Some(info) => {
            println!(
                "{}: instance_url {}  scope {}  issued_at {}  invalidated {}",
                term::line(&key_text),
                term::line(&info.instance_url),
                term::line(info.scope.as_deref().unwrap_or_default()),
                term::line(&issued_at_text(&info.issued_at)),
                info.token_invalidated
            );
            if info.token_invalidated {
                eprintln!("hint: the org revoked or expired this connection: run `sfcrm login` again");
            }
            Ok(!info.token_invalidated)
        }
    }
}

/// `sfcrm disconnect`.
pub async fn disconnect(args: ConnectionArgs) -> std::result::Result<(), Failure> {
    let (client, key) = client_for(&args)?;
    let key_text = key.to_string();
    let d = client.disconnect(&key).await?;
    if d.revoked {
        println!("disconnected {}: revoked at Salesforce and deleted locally", term::line(&key_text));
    } else {
        println!(
            "deleted {} locally; the revoke at Salesforce failed: {}",
            term::line(&key_text),
            term::line(d.revoke_error.as_deref().unwrap_or("unknown reason"))
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

    #[test]
    fn the_redirect_origin_is_always_a_forward_origin() {
        let own = Some("http://127.0.0.1:8799");
        let f = |set: Option<&str>, own| super::forward_origins(set.map(str::to_owned), own);
        assert_eq!(f(None, own).as_deref(), own);
        assert_eq!(f(Some("https://app.example.com"), own).as_deref(), Some("https://app.example.com,http://127.0.0.1:8799"));
        assert_eq!(f(Some(" * "), own).as_deref(), Some(" * "));
        assert_eq!(f(Some("https://app.example.com"), None).as_deref(), Some("https://app.example.com"));
        assert_eq!(f(None, None), None);
    }
}
