#!/usr/bin/env bash
# C ABI tests: header freshness, the C test suite (plain, Valgrind, AddressSanitizer, static link),
# the C / C++ examples (Makefile, CMake, pkg-config) against the org emulator.
#
# Usage: scripts/test-c.sh                 run everything
#        scripts/test-c.sh --regen-header  rewrite include/sfcrm.h from ffi/src, then exit
# Needs: gcc, g++, make, cmake, valgrind, pkg-config, libsqlite3-dev (scripts/setup.sh installs them),
#        cbindgen 0.29.4 (installed here with `cargo install` when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CBINDGEN_VERSION=0.29.4
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
LIBDIR=$TARGET_DIR/debug

step() { echo "--- c: $*"; }

# -- header -------------------------------------------------------------------------------------
ensure_cbindgen() {
  if ! command -v cbindgen >/dev/null || [ "$(cbindgen --version)" != "cbindgen $CBINDGEN_VERSION" ]; then
    step "installing cbindgen $CBINDGEN_VERSION"
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
  fi
}
gen_header() {
  # Single-file mode (follows `mod` items from lib.rs; parse_deps = false): needs no cargo
  # metadata, so the check does not depend on the rest of the workspace.
  cbindgen --quiet --config ffi/cbindgen.toml --output "$1" ffi/src/lib.rs
}
ensure_cbindgen
if [ "${1:-}" = "--regen-header" ]; then
  gen_header include/sfcrm.h
  echo "include/sfcrm.h regenerated"
  exit 0
fi

WORK=$(mktemp -d /tmp/sfcrm-test-c.XXXXXX)
EMU_PID=""
cleanup() {
  exec 9>&- 2>/dev/null || true
  if [ -n "$EMU_PID" ] && kill -0 "$EMU_PID" 2>/dev/null; then
    kill "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

step "header is up to date (cbindgen $CBINDGEN_VERSION)"
gen_header "$WORK/sfcrm.h"
if ! diff -u include/sfcrm.h "$WORK/sfcrm.h"; then
  echo "include/sfcrm.h is stale: run scripts/test-c.sh --regen-header and commit it"
  exit 1
fi

step "every function of the header is called by tests/c"
untested=0
for fn in $(grep -v '^ *//' include/sfcrm.h | grep -oE '\bsfcrm_[a-z0-9_]+\(' | tr -d '(' | sort -u); do
  # test_sfcrm.c and the files it includes (test_query.c, test_incremental.c)
  grep -q "\b$fn(" tests/c/*.c || { echo "  not called by tests/c: $fn"; untested=1; }
done
[ "$untested" = 0 ] || exit 1
echo "  $(grep -v '^ *//' include/sfcrm.h | grep -oE '\bsfcrm_[a-z0-9_]+\(' | sort -u | wc -l) functions, all called"

step "header compiles as C99/C11/C17/C23 and C++11/17/20 (-pedantic -Werror)"
printf '#include "sfcrm.h"\nint main(void) { return (int)SFCRM_RESULT_OK; }\n' >"$WORK/hdr.c"
cp "$WORK/hdr.c" "$WORK/hdr.cpp"
for std in c99 c11 c17 c2x; do gcc -std=$std -pedantic -Wall -Wextra -Werror -Iinclude -fsyntax-only "$WORK/hdr.c"; done
for std in c++11 c++17 c++20; do g++ -std=$std -pedantic -Wall -Wextra -Werror -Iinclude -fsyntax-only "$WORK/hdr.cpp"; done

# -- build --------------------------------------------------------------------------------------
# Two builds, not one: one `cargo build -p a -p b` would unify features (the emulator's tokio
# "signal") into the library under test.
step "cargo build -p sfcrm-ffi; cargo build -p sf-org-emulator"
cargo build --quiet -p sfcrm-ffi
cargo build --quiet -p sf-org-emulator
test -f "$LIBDIR/libsfcrm.so" && test -f "$LIBDIR/libsfcrm.a"
EXPECTED_VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/p' Cargo.toml | sed -n 's/^version *= *"\(.*\)"/\1/p')
test -n "$EXPECTED_VERSION"
# the system libraries a static link needs: one list, in the pkg-config file
NATIVE_STATIC_LIBS=$(sed -n 's/^Libs.private: //p' examples/c/sfcrm.pc.in)
test -n "$NATIVE_STATIC_LIBS"

# -- emulator -----------------------------------------------------------------------------------
step "starting sf-org-emulator"
mkfifo "$WORK/emu-stdin"
"$TARGET_DIR/debug/sf-org-emulator" --exit-on-stdin-close <"$WORK/emu-stdin" >"$WORK/emu.out" 2>"$WORK/emu.err" &
EMU_PID=$!
exec 9>"$WORK/emu-stdin" # keeps the emulator's stdin open; closing it (cleanup) stops the emulator
for _ in $(seq 1 100); do
  grep -q '^SF_ORG_EMULATOR_INSTANCE_URL=' "$WORK/emu.out" 2>/dev/null && break
  kill -0 "$EMU_PID" 2>/dev/null || { cat "$WORK/emu.err"; exit 1; }
  sleep 0.1
done
export SF_ORG_EMULATOR_LOGIN_URL SF_ORG_EMULATOR_INSTANCE_URL
SF_ORG_EMULATOR_LOGIN_URL=$(sed -n 's/^SF_ORG_EMULATOR_LOGIN_URL=//p' "$WORK/emu.out")
SF_ORG_EMULATOR_INSTANCE_URL=$(sed -n 's/^SF_ORG_EMULATOR_INSTANCE_URL=//p' "$WORK/emu.out")
test -n "$SF_ORG_EMULATOR_LOGIN_URL" && test -n "$SF_ORG_EMULATOR_INSTANCE_URL"
echo "emulator: $SF_ORG_EMULATOR_LOGIN_URL (instance $SF_ORG_EMULATOR_INSTANCE_URL)"

# -- C tests ------------------------------------------------------------------------------------
# SFCRM_REPO_ROOT: where the tests read repository files (tests/contract/, bindings/*.json) from.
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -Iinclude -Iexamples/c "-DSFCRM_EXPECTED_VERSION=\"$EXPECTED_VERSION\""
        "-DSFCRM_REPO_ROOT=\"$ROOT\"")
SRCS=(tests/c/test_sfcrm.c examples/c/mini_http.c)

run_suite() { # name, command...; requires the closing "N passed, 0 failed" line
  local name=$1; shift
  step "$name"
  if ! "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
    cat "$WORK/$name.out" "$WORK/$name.err"; echo "c tests ($name) FAILED"; return 1
  fi
  echo "  $(grep -c '^ok ' "$WORK/$name.out") test groups ok"
  local last
  last=$(tail -n 1 "$WORK/$name.out")
  echo "$last"
  [[ "$last" =~ ^[0-9]+\ passed,\ 0\ failed$ ]]
}

step "compile (shared library)"
gcc "${CFLAGS[@]}" "${SRCS[@]}" -L"$LIBDIR" -lsfcrm -Wl,-rpath,"$LIBDIR" -lpthread -o "$WORK/test_dyn"
run_suite "tests" "$WORK/test_dyn"

step "compile (static library)"
gcc "${CFLAGS[@]}" "${SRCS[@]}" "$LIBDIR/libsfcrm.a" $NATIVE_STATIC_LIBS -o "$WORK/test_static"
run_suite "tests-static" "$WORK/test_static"

valgrind_ok() {
  valgrind --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible "$@"
}
run_suite "tests-valgrind" valgrind_ok --log-file="$WORK/valgrind.log" "$WORK/test_dyn" ||
  { cat "$WORK/valgrind.log"; exit 1; }
grep -q "ERROR SUMMARY: 0 errors" "$WORK/valgrind.log" || { cat "$WORK/valgrind.log"; exit 1; }
echo "  valgrind: $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$WORK/valgrind.log" | tail -1);" \
  "$(grep -o 'in use at exit: .*' "$WORK/valgrind.log" | tail -1)"

step "compile (AddressSanitizer + UBSan)"
gcc "${CFLAGS[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer "${SRCS[@]}" \
  -L"$LIBDIR" -lsfcrm -Wl,-rpath,"$LIBDIR" -lpthread -o "$WORK/test_asan"
# (into files first: `nm | grep -q` can fail under pipefail when grep exits early)
nm "$WORK/test_asan" >"$WORK/asan.nm"
ldd "$WORK/test_asan" >"$WORK/asan.ldd"
grep -q '__asan_init' "$WORK/asan.nm" || { echo "ASan runtime is not linked"; exit 1; }
grep -q 'libasan' "$WORK/asan.ldd" || { echo "libasan is not a dependency"; exit 1; }
# ASan really is active: a deliberate heap overflow must be reported.
if ASAN_OPTIONS=abort_on_error=0 "$WORK/test_asan" --asan-selftest 2>"$WORK/asan-selftest.err"; then
  echo "ASan self-test did not fail"; exit 1
fi
grep -q 'AddressSanitizer: heap-buffer-overflow' "$WORK/asan-selftest.err" ||
  { cat "$WORK/asan-selftest.err"; echo "ASan did not report the self-test overflow"; exit 1; }
echo "  ASan linked and active (self-test overflow reported)"
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_suite "tests-asan" "$WORK/test_asan"

# -- examples -----------------------------------------------------------------------------------
step "examples/c: make"
make -s -C examples/c clean all SFCRM_LIBDIR="$LIBDIR" SFCRM_INCLUDE="$ROOT/include" BUILD="$WORK/make"
"$WORK/make/sfcrm_demo" --out "$WORK/make-contacts.csv" --db "$WORK/make-tokens.db" | tee "$WORK/demo.out"
grep -q '^exported 1500 contacts' "$WORK/demo.out"
test "$(head -c 9 "$WORK/make-contacts.csv")" = "Id,Name,A"
test "$(sqlite3 "$WORK/make-tokens.db" 'select count(*) from connections')" = "0" # disconnected at the end
"$WORK/make/sfcrm_demo_cpp" | tee "$WORK/demo-cpp.out"
grep -q '^cpp: ' "$WORK/demo-cpp.out"
valgrind_ok --log-file="$WORK/valgrind-demo.log" "$WORK/make/sfcrm_demo" --out "$WORK/vg.csv" --db "$WORK/vg.db" >/dev/null ||
  { cat "$WORK/valgrind-demo.log"; exit 1; }
echo "  demo under valgrind: $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$WORK/valgrind-demo.log" | tail -1);$(grep -o 'in use at exit: .*' "$WORK/valgrind-demo.log" | tail -1)"

step "examples/c: cmake (imported target sfcrm::sfcrm)"
cmake -S examples/c -B "$WORK/cmake" -DSFCRM_ROOT="$ROOT" -DSFCRM_LIBDIR="$LIBDIR" >/dev/null
cmake --build "$WORK/cmake" >/dev/null
"$WORK/cmake/sfcrm_demo" --out "$WORK/cmake-contacts.csv" --db "$WORK/cmake-tokens.db" >/dev/null
cmp -s "$WORK/make-contacts.csv" "$WORK/cmake-contacts.csv" || { echo "the two demo builds exported different CSV"; exit 1; }
echo "  cmake build ran; same CSV as the make build"
cmake -S examples/c -B "$WORK/cmake-static" -DSFCRM_ROOT="$ROOT" -DSFCRM_LIBDIR="$LIBDIR" -DSFCRM_STATIC=ON >/dev/null
cmake --build "$WORK/cmake-static" >/dev/null
ldd "$WORK/cmake-static/sfcrm_demo_cpp" >"$WORK/static.ldd"
if grep -q libsfcrm "$WORK/static.ldd"; then echo "SFCRM_STATIC=ON still links libsfcrm.so"; exit 1; fi
"$WORK/cmake-static/sfcrm_demo_cpp" >/dev/null
echo "  cmake SFCRM_STATIC=ON build (libsfcrm.a) ran"

step "pkg-config (examples/c/sfcrm.pc.in)"
mkdir -p "$WORK/pc"
sed -e "s|@PREFIX@|$ROOT|" -e "s|@LIBDIR@|$LIBDIR|" -e "s|@INCLUDEDIR@|$ROOT/include|" \
  -e "s|@VERSION@|$EXPECTED_VERSION|" examples/c/sfcrm.pc.in >"$WORK/pc/sfcrm.pc"
test "$(PKG_CONFIG_PATH=$WORK/pc pkg-config --modversion sfcrm)" = "$EXPECTED_VERSION"
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Werror examples/c/version_check.c $(PKG_CONFIG_PATH=$WORK/pc pkg-config --cflags --libs sfcrm) \
  -Wl,-rpath,"$LIBDIR" -o "$WORK/version_check"
"$WORK/version_check"
# static: libsfcrm.a plus the system libraries listed in Libs.private
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Werror examples/c/version_check.c $(PKG_CONFIG_PATH=$WORK/pc pkg-config --cflags sfcrm) \
  "$LIBDIR/libsfcrm.a" $(PKG_CONFIG_PATH=$WORK/pc pkg-config --static --libs-only-l sfcrm | sed 's/-lsfcrm\b//') \
  -o "$WORK/version_check_static"
"$WORK/version_check_static"

echo "c: all passed"
