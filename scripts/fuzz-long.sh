#!/usr/bin/env bash
# Long fuzzing of sfcrm-core with cargo-fuzz (libFuzzer; needs the nightly toolchain and
# `cargo install cargo-fuzz`). Usage: scripts/fuzz-long.sh [SECONDS_PER_TARGET=600] [TARGET...]
# Crashes land in core/fuzz/artifacts/<target>/; copy each into core/fuzz/regressions/<target>/
# (replayed by `cargo test -p sfcrm-reliability --test fuzz_replay`) once fixed.
set -euo pipefail
cd "$(dirname "$0")/../core/fuzz"
secs=${1:-600}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(error_body record_writer soql state connection_document query_page bulk_csv)
rustup toolchain list | grep -q nightly || { echo "needs the nightly toolchain: rustup toolchain install nightly"; exit 1; }
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo +nightly fuzz build -O
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "::: fuzzing $t for $secs s"
  if ! cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=4096 -print_final_stats=1 2>&1 \
      | tee "/tmp/sfcrm-fuzz-$t.log" | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)"; then
    :
  fi
  if grep -q "ERROR\|panicked" "/tmp/sfcrm-fuzz-$t.log"; then echo "::: $t: CRASH (see core/fuzz/artifacts/$t)"; status=1; fi
  cargo +nightly fuzz cmin -O "$t" "corpus/$t" >/dev/null 2>&1 || true
done
exit $status
