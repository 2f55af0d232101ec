#!/usr/bin/env bash
# Starts/stops a throwaway PostgreSQL cluster on 127.0.0.1 for the cross-process refresh test.
# Usage: scripts/reliability-pg.sh start   -> prints the connection string on stdout
#        scripts/reliability-pg.sh stop
# Needs the Debian server binaries (installed with apt-get when missing and running as root); as
# root it runs the server as the `postgres` user. Port: $SFCRM_PG_PORT (default 55432). Data: /tmp/sfcrm-reliability-pg.
set -euo pipefail
port=${SFCRM_PG_PORT:-55432}
dir=/tmp/sfcrm-reliability-pg
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] && [ "${1:-}" = start ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # Debian's server package (a few minutes at most); skipped when it cannot be installed.
  { apt-get install -y -qq postgresql || { apt-get update -qq && apt-get install -y -qq postgresql; }; } >/dev/null 2>&1 || true
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-}" in
  start)
    if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      rm -rf "$dir"; mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
      as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null
    fi
    echo "host=127.0.0.1 port=$port user=postgres dbname=postgres"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
