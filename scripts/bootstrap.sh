#!/usr/bin/env bash
# Create (or reuse) .venv with a Python >= 3.12 and install geodistrict in it.
# Idempotent: reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.geodistrict-install"

version_ok() {  # is "$1" a Python >= 3.12?
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  local c
  for c in "${PYTHON:-}" python3.12 python3.13 python3.14 python3 python; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && version_ok "$(command -v "$c")"; then
      command -v "$c"; return 0
    fi
  done
  local roots=()
  command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root)")
  roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
  for root in "${roots[@]}"; do
    for c in $(ls -d "$root"/versions/3.1[2-9]* 2>/dev/null | sort -V); do
      if [ -x "$c/bin/python3" ] && version_ok "$c/bin/python3"; then
        echo "$c/bin/python3"; return 0
      fi
    done
  done
  return 1
}

if [ -x "$VENV/bin/python" ] && version_ok "$VENV/bin/python"; then
  :
else
  rm -rf "$VENV"
  if ! PY=$(find_python); then
    cat >&2 <<'MSG'
error: geodistrict needs Python 3.12 or newer, and none was found on PATH or under pyenv.
Install one, then run this command again, for example:
  pyenv install 3.12 && pyenv local 3.12        (with pyenv)
  sudo apt-get install python3.12 python3.12-venv  (Debian/Ubuntu with 3.12 packages)
or point PYTHON at it:  PYTHON=/path/to/python3.12 make demo
MSG
    exit 1
  fi
  echo "creating $VENV with $PY ($("$PY" --version))"
  "$PY" -m venv "$VENV"
fi

want=$(sha256sum pyproject.toml | cut -d' ' -f1)
# The report's PDF (WeasyPrint) needs Pango from the system; Debian minimal images lack it.
if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }; then
    as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    echo "installing Pango for the PDF report (apt-get) ..."
    as_root apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null || \
      echo "warning: could not install Pango; reports will be written as HTML only" >&2
  else
    echo "warning: Pango is missing (libpangoft2-1.0); reports will be written as HTML only" >&2
  fi
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$VENV/bin/python" -c 'import geodistrict' 2>/dev/null; then
  exit 0
fi
echo "installing geodistrict and its dependencies into $VENV ..."
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[dev,maps,batch]"
echo "$want" > "$STAMP"
