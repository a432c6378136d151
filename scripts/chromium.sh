#!/usr/bin/env bash
# Install Debian's chromium and chromedriver for the browser tests (tests/test_web.py):
# selenium drives them headless; no browser is downloaded at test time. Idempotent.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
echo "installing chromium and chromium-driver ..." >&2
as_root apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver >&2
