#!/usr/bin/env bash
# Rust: formatting is not enforced here; every workspace test (core, emulator, CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked 2>&1
