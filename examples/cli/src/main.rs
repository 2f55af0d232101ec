//! `sfcrm`: the SDK from the command line.
//!
//! - `sfcrm demo`: the main job, with no set-up: starts the bundled org emulator, connects through
//!   login → authorize → callback, exports every type (a page walk and a full stream) and prints a
//!   summary of records, API calls and time.
//! - `sfcrm login | export | status | disconnect`: the same SDK against a real org, configured from
//!   the environment (`SALESFORCE_CLIENT_ID`, `SALESFORCE_SECRET_ID`, `SALESFORCE_REDIRECT_URL`, …;
//!   see `sfcrm login --help`). Tokens live in a file store, sealed with XChaCha20-Poly1305.

mod demo;
mod real;

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
    Export(real::ExportArgs),
    /// Show the stored connection (no secrets).
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("SFCRM_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => demo::run(args).await,
            Command::Login(args) => real::login(args).await,
            Command::Export(args) => real::export(args).await,
            Command::Status(args) => real::status(args).await,
            Command::Disconnect(args) => real::disconnect(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Salesforce's SOQL errors start with a newline so that the query excerpt and its `^`
            // line up: keep them at the start of a line.
            let message = e.to_string();
            eprintln!("error:{}{message}", if message.starts_with('\n') { "" } else { " " });
            if let Some(hint) = hint_for(&e) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
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
