#!/usr/bin/env bash
# A Redis server for the fleet tests and benchmarks: on 127.0.0.1 only, its data in a temporary
# folder, with the append-only file on (queued messages survive a restart). Idempotent: if it
# already answers, nothing changes. Installs Debian's redis-server first if it is missing (root).
# Usage: scripts/start-redis.sh [start|stop|status]   (prints the URL on start)
# Port and folder: GRADER_TEST_REDIS_PORT (6390), GRADER_TEST_SERVICES_DIR (/tmp/grader-test-services)
set -euo pipefail
PORT="${GRADER_TEST_REDIS_PORT:-6390}"
DIR="${GRADER_TEST_SERVICES_DIR:-${TMPDIR:-/tmp}/grader-test-services}/redis-$PORT"
URL="redis://127.0.0.1:$PORT/0"

answers() { redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; }

install() {
  command -v redis-server >/dev/null && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "redis-server is not installed; run as root or: sudo apt-get install redis-server" >&2
    exit 1
  fi
  echo "installing redis-server (Debian package)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
}

case "${1:-start}" in
  start)
    install
    if ! answers; then
      mkdir -p "$DIR"
      redis-server --bind 127.0.0.1 --port "$PORT" --protected-mode yes --dir "$DIR" \
        --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
        --appendonly yes --appendfsync everysec --save "" >/dev/null
      for _ in $(seq 100); do answers && break; sleep 0.1; done
      answers || { echo "redis did not start; see $DIR/redis.log" >&2; exit 1; }
    fi
    echo "$URL"
    ;;
  stop)
    if answers; then redis-cli -h 127.0.0.1 -p "$PORT" shutdown >/dev/null 2>&1 || true; fi
    for _ in $(seq 100); do answers || break; sleep 0.1; done
    ;;
  status)
    answers && echo "$URL" || { echo "not running" >&2; exit 1; }
    ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
