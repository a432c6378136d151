#!/usr/bin/env bash
# Install Debian's PyQGIS (headless use by the tests: QGIS itself opens the
# GeoPackage styles and reads the OGC API service). Idempotent.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if /usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1; then exit 0; fi
echo "installing python3-qgis ..." >&2
as_root apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
  python3-qgis qgis-providers >&2
