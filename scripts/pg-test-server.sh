#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 server on loopback for the test suite.
# Usage: source scripts/pg-test-server.sh   (exports ABM_TEST_POSTGRES_URL; call abm_pg_stop to end it)
# As root, the server runs as the unprivileged user "postgres" (created if missing).
set -euo pipefail

abm_pg_bin() {
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null; then dirname "$(command -v initdb)"; return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "PostgreSQL not found; installing postgresql-15 with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15) >&2
    echo /usr/lib/postgresql/15/bin; return 0
  fi
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found" >&2; return 1
}

PGBIN=$(abm_pg_bin)
ABM_PG_DIR=$(mktemp -d /tmp/abm-pg.XXXXXX)
ABM_PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$ABM_PG_DIR"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$PGBIN/initdb" -D "$ABM_PG_DIR/data" -U abm -A trust --no-sync -E UTF8 >"$ABM_PG_DIR/initdb.log" 2>&1 \
  || { cat "$ABM_PG_DIR/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$ABM_PG_DIR/data" -l "$ABM_PG_DIR/server.log" -w -t 60 \
  -o "-p $ABM_PG_PORT -k $ABM_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$ABM_PG_DIR/server.log" >&2; exit 1; }
export ABM_TEST_POSTGRES_URL="postgres://abm@127.0.0.1:$ABM_PG_PORT/postgres"
export ABM_PG_DIR PGBIN

abm_pg_stop() {
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$ABM_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$ABM_PG_DIR"
}
echo "PostgreSQL test server on 127.0.0.1:$ABM_PG_PORT (data in $ABM_PG_DIR)" >&2
