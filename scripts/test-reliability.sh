#!/usr/bin/env bash
# Reliability and security suite (issue 7, RELIABILITY.md): fault matrix, cross-process refresh on
# SQLite (and PostgreSQL when its server binaries are installed), fuzz corpus replay, hostile
# servers, hostile output paths and control characters, secrets in TRACE logs, forward-URL and state
# attacks, C API entry points fed arbitrary bytes. Prints the figures.
# Long fuzzing is separate: scripts/fuzz-long.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
pg_started=""
if [ -z "${SFCRM_PG_URL:-}" ] && [ -x scripts/reliability-pg.sh ]; then
  if url=$(scripts/reliability-pg.sh start 2>/dev/null); then
    export SFCRM_PG_URL="$url"; pg_started=1
  else
    echo "PostgreSQL server not available here: the cross-process test runs on SQLite only"
  fi
fi
trap '[ -n "$pg_started" ] && scripts/reliability-pg.sh stop >/dev/null 2>&1 || true' EXIT
cargo build -p sfcrm-ffi --locked 2>&1 | tail -1   # libsfcrm.so for tests/ffi_fuzz.rs
cargo build -p sfcrm-cli --locked 2>&1 | tail -1   # target/debug/sfcrm for tests/hostile_input.rs
cargo test -p sfcrm-reliability --locked -- --nocapture 2>&1
