#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds every client in release mode, installs the peers (jsforce and
# axios from npm, simple-salesforce from PyPI, pinned in tests/bench/), then runs the harness.
#
#   scripts/bench.sh                                  # N = 100,000 and 1,000,000 (about 15-25 min on 2 cores)
#   scripts/bench.sh --sizes 100000 --runs 5          # extra arguments go to tests/bench/run.py (--help)
#
# Results: tests/bench/results/results.{md,json}. Needs cargo, gcc, node >= 20, python3 >= 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/target/bench
mkdir -p "$OUT"

# 1. Release builds: emulator, Rust clients (and the sfcrm CLI), C API, Node addon, Python wheel.
cargo build --release -q -p sf-org-emulator --bin sf-org-emulator
cargo build --release -q -p sfcrm-bench
cargo build --release -q -p sfcrm-cli --bin sfcrm
cargo build --release -q -p sfcrm-ffi
gcc -O2 -Wall -Wextra -Iinclude tests/bench/c/export.c -L target/release -lsfcrm \
    -Wl,-rpath,"$ROOT/target/release" -o "$OUT/export_c"
cargo build --release -q -p sfcrm-node
cp target/release/libsfcrm_node.so "$OUT/sfcrm.linux-x64-gnu.node"

# 2. Peers and the Python package, in a venv of their own.
VENV=$ROOT/tests/bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r tests/bench/python/requirements.txt
(cd bindings/python && "$VENV/bin/maturin" build --release -q -o "$OUT/wheels")
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$OUT"/wheels/sfcrm-*.whl
(cd tests/bench/node && npm ci --no-audit --no-fund --loglevel=error)

# 3. The run.
exec "$VENV/bin/python" tests/bench/run.py "$@"
