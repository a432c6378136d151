#!/usr/bin/env bash
# Quality gates and the whole test suite, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
echo "== ruff check";  "$VENV/bin/ruff" check .
echo "== ruff format"; "$VENV/bin/ruff" format --check .
echo "== mypy";        "$VENV/bin/mypy"
echo "== pytest";      "$VENV/bin/python" -m pytest "$@"
