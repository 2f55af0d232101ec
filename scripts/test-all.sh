#!/usr/bin/env bash
# Runs every test of the project on a fresh machine (installs what it needs first).
# Usage: scripts/test-all.sh            (CI: .ci/run calls exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
status=0
# A full run needs about 4.5 GB of disk (target/, the venvs, node_modules); say so up front rather
# than failing with ENOSPC in whichever step happens to run out.
free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
echo "::: disk: $(( free_kb / 1024 / 1024 )) GB free where the build writes"
if [ "${free_kb:-0}" -lt $(( 8 * 1024 * 1024 )) ]; then
  echo "::: warning: less than 8 GB free; the build may fail with 'No space left on device'" >&2
fi
run() {
  local name=$1; shift
  echo "::: $name"
  local t0=$(date +%s)
  if "$@"; then echo "::: $name ok ($(( $(date +%s) - t0 )) s)"; else echo "::: $name FAILED"; status=1; fi
}
run "setup" scripts/setup.sh
run "contract" scripts/check-contract.sh   # tests/contract/ equals ../shared/contract (when present)
run "rust" scripts/test-rust.sh
for lang in c python node; do
  [ -x "scripts/test-$lang.sh" ] && run "$lang" "scripts/test-$lang.sh"
done
run "reliability" scripts/test-reliability.sh
run "bench-smoke" scripts/test-bench-smoke.sh   # harness smoke check (counts, not times); figures: scripts/bench.sh
echo "::: all tests finished in $(( $(date +%s) - start )) s, status $status"
exit $status
