#!/usr/bin/env bash
# The main job: starts the bundled Salesforce org emulator, connects through login -> authorize ->
# callback, exports contacts, deals and notes (a page walk and a full stream each) and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs)"; exit 1; }
echo "building the sfcrm command (cargo build --release -p sfcrm-cli; a first build takes several minutes)..." >&2
cargo build --release --locked -q -p sfcrm-cli
exec target/release/sfcrm demo "$@"
