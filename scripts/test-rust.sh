#!/usr/bin/env bash
# Rust: every workspace test (core, emulator, CLI, C ABI unit tests, bindings' Rust units).
# The reliability crate runs in scripts/test-reliability.sh (it starts PostgreSQL first).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/check-module-cycles.py   # the core's top-level modules form no cycle (issue 10)
cargo test --workspace --locked --exclude sfcrm-reliability 2>&1
