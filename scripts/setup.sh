#!/usr/bin/env bash
# Installs the system packages and toolchains the tests need (idempotent; root on Debian).
set -euo pipefail
need=()
for pkg in valgrind pkg-config libsqlite3-dev sqlite3 gcc g++ make cmake; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing system packages: ${need[*]} (install them as root)"; exit 1
  fi
fi
command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup"; exit 1; }
