#!/usr/bin/env bash
# Smoke check of the benchmark harness (not a benchmark: debug builds, 4,500 contacts, one run).
# Every client (raw, Rust, Rust CLI, C, Python, Node, jsforce x2, simple-salesforce) must export every record
# with ceil(N/2000) query calls; the seed replica must fail at page 12 (OFFSET 2200) after 24 calls;
# the SDK's page walk must cost pages + 1 calls; deep pages must return full pages. Times are not
# asserted. About 20 s once the debug builds exist (test-c/test-python/test-node build them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/target/bench-smoke
mkdir -p "$OUT"

cargo build -q -p sf-org-emulator --bin sf-org-emulator
cargo build -q -p sfcrm-bench
cargo build -q -p sfcrm-cli --bin sfcrm
cargo build -q -p sfcrm-ffi
gcc -O1 -Wall -Wextra -Werror -Iinclude tests/bench/c/export.c -L target/debug -lsfcrm \
    -Wl,-rpath,"$ROOT/target/debug" -o "$OUT/export_c"

# The Node addon: the package's own build (scripts/test-node.sh makes it); build it if missing.
if ! ls bindings/node/sfcrm.*.node >/dev/null 2>&1; then
  (cd bindings/node && npm ci --no-audit --no-fund --loglevel=error && npx napi build --platform 2>&1 | tail -n 2)
fi

VENV=$ROOT/tests/bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r tests/bench/python/requirements.txt
(cd bindings/python && VIRTUAL_ENV=$VENV "$VENV/bin/maturin" develop -q 2>&1 | tail -n 2)
(cd tests/bench/node && npm ci --no-audit --no-fund --loglevel=error)

"$VENV/bin/python" tests/bench/run.py --smoke --sizes 4500 --runs 1 --warmup 0 \
  --deep-size 4500 --deep-pages 1,20,30 --deep-runs 1 --latency-size 4500 --latency-ms 20 \
  --emulator-bin target/debug/sf-org-emulator --bench-bin target/debug/sfcrm-bench --cli-bin target/debug/sfcrm \
  --c-bin "$OUT/export_c" --node-addon "" --python-sfcrm "$VENV/bin/python" --python-peers "$VENV/bin/python"
