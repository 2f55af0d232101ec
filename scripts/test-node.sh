#!/usr/bin/env bash
# Node: the `sfcrm` addon (bindings/node) and the drop-in Express service (examples/express-service).
#
# 1. builds the org emulator the tests spawn (target/debug/sf-org-emulator);
# 2. `npm ci` + `napi build` (debug; a cold build compiles the workspace again into
#    target/x86_64-unknown-linux-gnu, about a minute on 2 cores) and regenerates the typings:
#    index.js / index.d.ts (napi) and lib/*.d.ts (tsc from the JSDoc); fails when they differ from
#    the committed ones;
# 3. type-checks a TypeScript usage file against the typings;
# 4. builds the FerretDB test server (Go module proxy) for the MongoDB store tests, if Go exists;
# 5. runs both node:test suites;
# 6. runs the READMEs' js and sh snippets against the emulator (scripts/snippets/run.py).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

command -v node >/dev/null || { echo "node not found: Node.js >= 20 is needed"; exit 1; }
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || { echo "Node.js >= 20 is needed"; exit 1; }

echo "--- org emulator"
cargo build -p sf-org-emulator 2>&1 | tail -n 2

echo "--- addon: npm ci + napi build"
cd "$root/bindings/node"
npm ci --no-audit --no-fund --loglevel=error
npx napi build --platform 2>&1 | tail -n 2
npm run --silent types
npm run --silent typecheck

echo "--- generated files are committed and current"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$root" diff --exit-code --stat -- bindings/node/index.js bindings/node/index.d.ts bindings/node/lib \
    || { echo "generated typings/loader differ from the committed ones: commit the regenerated files"; exit 1; }
fi

echo "--- FerretDB (MongoDB wire protocol) for the MongoDB store tests"
ferret="$root/target/sfcrm-tools/sfcrm-ferretdb"
if [ ! -x "$ferret" ]; then
  if command -v go >/dev/null; then
    mkdir -p "$(dirname "$ferret")"
    (cd "$root/examples/express-service/tools/ferretdb" && go build -o "$ferret" .) \
      || echo "WARNING: could not build FerretDB; the MongoDB store tests will be skipped"
  else
    echo "WARNING: no Go toolchain; the MongoDB store tests will be skipped"
  fi
fi

status=0
echo "--- node:test: addon"
node --test --test-concurrency=1 test/ || status=1

echo "--- node:test: express service"
cd "$root/examples/express-service"
npm ci --no-audit --no-fund --loglevel=error
SFCRM_FERRETDB_BIN="$ferret" node --test --test-concurrency=1 test/ || status=1

echo "--- the READMEs' JavaScript and sh snippets (scripts/snippets/run.py)"
cd "$root"
python3 scripts/snippets/run.py --lang js --lang sh || status=1
exit $status
