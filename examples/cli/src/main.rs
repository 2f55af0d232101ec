//! `sfcrm`: the SDK from the command line.
//!
//! - `sfcrm demo`: the main job, with no set-up: starts the bundled org emulator, connects through
//!   login → authorize → callback, exports every type (a page walk and a full stream) and prints a
//!   summary of records, API calls and time.
//! - `sfcrm login | export | query | describe | status | disconnect`: the same SDK against a real
//!   org, configured from the environment (`SALESFORCE_CLIENT_ID`, `SALESFORCE_SECRET_ID`, `SALESFORCE_REDIRECT_URL`, …;
//!   see `sfcrm login --help`). Tokens live in a file store, sealed with XChaCha20-Poly1305.
//!
//! Text from outside (the org's messages, stored fields, paths) is printed with its control
//! characters escaped ([`term`]). Exit status: 0 on success, 1 on an error, 3 from `sfcrm status`
//! when the connection is missing or needs a new login. `export`, `query` and `describe` report an error
//! on one line (Salesforce's SOQL errors included: the detail and its row and column, and the hint).

#![warn(missing_docs)]

mod bulk;
mod demo;
mod describe;
mod export;
mod query;
mod real;
mod state;
mod term;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "sfcrm", version, about = "Connect a Salesforce org over OAuth 2.0 and export its CRM data")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole job against the bundled org emulator and print a summary.
    Demo(demo::DemoArgs),
    /// Connect an org: print the authorize URL and receive the callback on the redirect URL's port.
    Login(ConnectionArgs),
    /// Export one type (contacts, deals, notes) or any sObject to a file.
    Export(export::ExportArgs),
    /// Run a SOQL query (with :name bind values) and write its records as CSV, NDJSON or JSON.
    Query(query::QueryArgs),
    /// Show an sObject's fields as a table (or, without a name, the org's sObjects).
    Describe(describe::DescribeArgs),
    /// Show the stored connection (no secrets); exits 3 when not connected (or a new login is needed).
    Status(ConnectionArgs),
    /// Revoke the connection at Salesforce and delete it locally.
    Disconnect(ConnectionArgs),
}

/// Where the connection is stored and whose it is.
#[derive(Args, Clone)]
pub struct ConnectionArgs {
    /// Directory of the token store (default: $SFCRM_STORE_DIR, else ~/.config/sfcrm).
    #[arg(long, env = "SFCRM_STORE_DIR")]
    store: Option<PathBuf>,
    /// Account id the connection belongs to.
    #[arg(long, default_value = "cli")]
    account: String,
    /// Owner (user id) the connection belongs to (default: $USER).
    #[arg(long)]
    owner: Option<String>,
}

/// A command's error, with what to do next when the command knows better than the error's kind.
pub struct Failure {
    error: sfcrm_core::Error,
    hint: Option<String>,
}

impl Failure {
    /// `error` with its own `hint` (printed instead of the kind's).
    pub fn with_hint(error: sfcrm_core::Error, hint: impl Into<String>) -> Self {
        Failure { error, hint: Some(hint.into()) }
    }
}

impl From<sfcrm_core::Error> for Failure {
    fn from(error: sfcrm_core::Error) -> Self {
        Failure { error, hint: None }
    }
}

/// Exit status of `sfcrm status` when the connection is missing or needs a new login.
const NOT_CONNECTED: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("SFCRM_LOG"))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let one_line = matches!(cli.command, Command::Export(_) | Command::Query(_) | Command::Describe(_));
    let result = runtime.block_on(async {
        let done = ExitCode::SUCCESS;
        match cli.command {
            Command::Demo(args) => demo::run(args).await.map(|()| done).map_err(Failure::from),
            Command::Login(args) => real::login(args).await.map(|()| done),
            Command::Export(args) => export::run(args).await.map(|()| done),
            Command::Query(args) => query::run(args).await.map(|()| done),
            Command::Describe(args) => describe::run(args).await.map(|()| done),
            Command::Status(args) => real::status(args).await.map(|ok| if ok { done } else { ExitCode::from(NOT_CONNECTED) }),
            Command::Disconnect(args) => real::disconnect(args).await.map(|()| done),
        }
    });
    match result {
        Ok(code) => code,
        Err(Failure { error, hint }) if one_line => {
            let hint = hint.as_deref().or(hint_for(&error)).map(|h| format!(" (hint: {h})")).unwrap_or_default();
            eprintln!("error: {}{}", term::line(&one_line_message(&error)), term::line(&hint));
            ExitCode::FAILURE
        }
        Err(Failure { error, hint }) => {
            // Salesforce's SOQL errors start with a newline so that the query excerpt and its `^`
            // line up: keep them at the start of a line (and keep their newlines).
            let message = error.to_string();
            let message = term::lines(&message);
            eprintln!("error:{}{message}", if message.starts_with('\n') { "" } else { " " });
            if let Some(hint) = hint.as_deref().or(hint_for(&error)) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The error on one line. Salesforce's SOQL errors span lines (`\n<query>\n<caret>\nERROR at
/// Row:R:Column:C\n<detail>` [salesforce-api.md §4]): they become `<detail> (at Row:R:Column:C;
/// HTTP 400, MALFORMED_QUERY)`; other line breaks become spaces.
fn one_line_message(error: &sfcrm_core::Error) -> String {
    let text = error.to_string();
    let Some(at) = text.find("ERROR at ") else {
        return text.split_whitespace().collect::<Vec<_>>().join(" ");
    };
    let rest = &text[at + "ERROR at ".len()..];
    let (position, detail) = rest.split_once('\n').unwrap_or((rest, ""));
    // Display appends " (HTTP 400, MALFORMED_QUERY)" after the message: keep it with the position.
    let (detail, extra) = match detail.rfind(" (") {
        Some(i) if detail.ends_with(')') => (&detail[..i], Some(&detail[i + 2..detail.len() - 1])),
        _ => (detail, None),
    };
    let detail = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    match extra {
        Some(extra) => format!("{detail} (at {}; {extra})", position.trim()),
        None => format!("{detail} (at {})", position.trim()),
    }
}

/// What to do next, per error kind.
fn hint_for(e: &sfcrm_core::Error) -> Option<&'static str> {
    use sfcrm_core::ErrorKind as K;
    Some(match e.kind() {
        K::Config => "set the variable named above: SALESFORCE_CLIENT_ID, SALESFORCE_SECRET_ID and SALESFORCE_REDIRECT_URL are required (README.md, \"Configuration\")",
        K::OAuth => "the org refused the connection: check that SALESFORCE_CLIENT_ID, SALESFORCE_SECRET_ID and SALESFORCE_REDIRECT_URL match the connected app (and SALESFORCE_LOGIN_URL for sandboxes or My Domains)",
        K::NotConnected => "run `sfcrm login` first",
        K::ReconnectRequired => "the org revoked or expired this connection: run `sfcrm login` again",
        K::RateLimited => "the org's daily API quota is used up; try again later",
        K::InvalidIdentifier => "sObject and field names must be Salesforce API names, e.g. Account.Name or Custom__c",
        K::UnknownExportType => "use contacts, deals or notes, or --sobject NAME --fields A,B",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn soql_errors_are_reported_on_one_line() {
        let e = sfcrm_core::Error::new(
            sfcrm_core::ErrorKind::Api,
            "\nSELECT Id FORM Contact\n          ^\nERROR at Row:1:Column:11\nunexpected token: FORM",
        );
        assert_eq!(super::one_line_message(&e), "unexpected token: FORM (at Row:1:Column:11)");
        let e = sfcrm_core::Error::invalid_argument("no value for :name\n(pass --param name=...)");
        assert_eq!(super::one_line_message(&e), "no value for :name (pass --param name=...)");
    }
}
