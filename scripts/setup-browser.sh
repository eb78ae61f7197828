#!/usr/bin/env bash
# Make this machine ready for the browser tests (tests/browser). Idempotent.
#   1. install Debian's chromium with apt-get (apt-get update first) if /usr/bin/chromium is
#      missing; root is needed only then
#   2. install the Playwright Python package into .venv (it drives the system chromium; the
#      tests never run `playwright install`, so no browser is downloaded from elsewhere)
# Env: CHROMIUM (default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-browser.sh: $CHROMIUM is missing; run as root (sudo) to install it" >&2
    exit 1
  fi
  echo "installing: chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
"$CHROMIUM" --version

if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import playwright' 2>/dev/null; then
  .venv/bin/python -m pip install -q 'playwright>=1.45'
fi
