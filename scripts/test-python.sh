#!/usr/bin/env bash
# Python package `sfcrm` (bindings/python): installs it into the repo's .venv and runs its tests,
# examples and the READMEs' Python snippets against the org emulator. Works on a fresh machine
# (needs python3 >= 3.10 and cargo).
#
#   scripts/test-python.sh            # venv + maturin develop + pytest + examples + snippets
#   scripts/test-python.sh -k export  # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv

# 1. The virtual environment and the Python tools (all from PyPI).
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || {
    echo "python3 -m venv failed; on Debian/Ubuntu install python3-venv"; exit 1; }
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "maturin>=1.16,<2" "pytest>=8" "tqdm>=4.66" "pandas>=2" "mypy>=1.10"

# 2. The org emulator the tests and examples talk to.
cargo build -q -p sf-org-emulator --bin sf-org-emulator

# 3. Build the native module and install `sfcrm` (editable) into the venv.
(cd bindings/python && VIRTUAL_ENV=$VENV "$VENV/bin/maturin" develop -q)

# 4. The stubs and the pure-Python layer type-check; then the test suite (which also checks the
#    stubs against the compiled module).
(cd bindings/python && "$VENV/bin/mypy" --strict python/sfcrm)
"$VENV/bin/mypy" --ignore-missing-imports examples/python
"$VENV/bin/python" -m pytest -q bindings/python/tests "$@"

# 5. The examples (each starts its own emulator), run from a scratch directory.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && "$VENV/bin/python" "$ROOT/examples/python/export_deals_csv.py" --out deals.csv)
# a second run reads deals.watermark: only what changed since (nothing, in a fresh emulator)
(cd "$work" && "$VENV/bin/python" "$ROOT/examples/python/export_deals_csv.py" --out deals-2.csv)
(cd "$work" && "$VENV/bin/python" "$ROOT/examples/python/contacts_dataframe.py" | tail -8)

# 6. The READMEs' Python snippets, against the emulator (scripts/snippets/run.py).
"$VENV/bin/python" scripts/snippets/run.py --lang python --python "$VENV/bin/python"
echo "python: ok"
