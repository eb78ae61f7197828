#!/usr/bin/env bash
# A PostgreSQL 15 server for the fleet tests and benchmarks: on 127.0.0.1 only (trust auth on
# loopback, test data only), its cluster in a temporary folder, tuned for tests (no fsync).
# Idempotent: if it already answers, nothing changes. Installs Debian's postgresql-15 first if
# it is missing (root); run as root, the server itself runs as the postgres user.
# Usage: scripts/start-postgres.sh [start|stop|status]   (prints the SQLAlchemy URL on start)
# Port and folder: GRADER_TEST_PG_PORT (5439), GRADER_TEST_SERVICES_DIR (/tmp/grader-test-services)
set -euo pipefail
PORT="${GRADER_TEST_PG_PORT:-5439}"
DIR="${GRADER_TEST_SERVICES_DIR:-${TMPDIR:-/tmp}/grader-test-services}/postgres-$PORT"
BIN=/usr/lib/postgresql/15/bin
URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
answers() { [ -x "$BIN/pg_isready" ] && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; }

install() {
  [ -x "$BIN/postgres" ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL 15 is not installed; run as root or: sudo apt-get install postgresql-15" >&2
    exit 1
  fi
  echo "installing postgresql-15 (Debian package)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
}

case "${1:-start}" in
  start)
    install
    if ! answers; then
      mkdir -p "$DIR"
      [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
      if [ ! -f "$DIR/data/PG_VERSION" ]; then
        as_postgres "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 \
          --no-sync >/dev/null
      fi
      as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=400 \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    fi
    echo "$URL"
    ;;
  stop)
    if [ -f "$DIR/data/postmaster.pid" ]; then
      as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null || true
    fi
    ;;
  status)
    answers && echo "$URL" || { echo "not running" >&2; exit 1; }
    ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
