#!/usr/bin/env bash
# The contract files (the seed's paginator vectors, the field cases) are vendored in tests/contract/,
# where every language's tests read them. This check keeps that copy byte-identical to the shared
# contract, ../shared/contract beside the repository (as in CI) or $SFCRM_SHARED_DIR/contract:
# every file of one must be in the other with the same bytes; the message names each that is not.
# Without a shared directory (a user's clone) there is nothing to compare: it says so and passes.
#
# Usage: scripts/check-contract.sh        (scripts/test-all.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
vendored=tests/contract
if [ -n "${SFCRM_SHARED_DIR:-}" ]; then
  shared=$SFCRM_SHARED_DIR/contract
  [ -d "$shared" ] || { echo "contract: SFCRM_SHARED_DIR is set but $shared is not a directory"; exit 1; }
else
  shared=../shared/contract
  if [ ! -d "$shared" ]; then
    echo "contract: no ../shared/contract beside the repository; the vendored $vendored/ is used as is"
    exit 0
  fi
fi
[ -d "$vendored" ] || { echo "contract: $vendored/ is missing"; exit 1; }

status=0
count=0
for path in "$shared"/*; do
  [ -e "$path" ] || continue # an empty directory's unmatched glob
  name=$(basename "$path")
  count=$((count + 1))
  if [ ! -e "$vendored/$name" ]; then
    echo "contract: $shared/$name is not vendored: copy it to $vendored/$name"
    status=1
  elif ! cmp -s "$shared/$name" "$vendored/$name"; then
    echo "contract: $vendored/$name differs from $shared/$name: copy the shared file over it"
    status=1
  fi
done
for path in "$vendored"/*; do
  [ -e "$path" ] || continue
  name=$(basename "$path")
  [ -e "$shared/$name" ] || { echo "contract: $vendored/$name is not in $shared/"; status=1; }
done
[ "$status" = 0 ] && echo "contract: $vendored/ equals $shared/ ($count files)"
exit $status
