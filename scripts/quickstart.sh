#!/usr/bin/env bash
# From a fresh clone to a graded submission: make .venv, install the grader, grade a solution.
# Usage: scripts/quickstart.sh [SLUG]   (default: lru-cache)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
slug="${1:-lru-cache}"
python3 -m venv .venv >/dev/null 2>&1 || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e . >/dev/null
module="$(.venv/bin/python -c "from grader.catalogue import Catalogue; print(Catalogue().get('$slug').meta.module)")"
echo "Grading the reference solution of '$slug' against its hidden suite:"
echo "  .venv/bin/grader grade $slug exercises/$slug/reference/$module"
status=0
.venv/bin/grader grade "$slug" "exercises/$slug/reference/$module" || status=$?
cat <<NEXT

Next: .venv/bin/grader start $slug my-$slug    # statement, stub and visible tests
      .venv/bin/grader test my-$slug           # the visible tests
      .venv/bin/grader grade $slug my-$slug    # graded against the hidden suite
NEXT
exit "$status"
