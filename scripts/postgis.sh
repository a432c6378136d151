#!/usr/bin/env bash
# Install (if needed) and start a local PostgreSQL 15 + PostGIS 3 from Debian's
# packages, with a database and role "geodistrict" for the tests. Idempotent.
# Prints the connection string on its last line.
set -euo pipefail
DB=geodistrict
ROLE=geodistrict
PASSWORD=geodistrict
PORT=${GEODISTRICT_PGPORT:-5432}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1; then
  echo "installing postgresql-15-postgis-3 ..." >&2
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql-15 postgresql-15-postgis-3 >&2
fi
if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 \+main'; then
  as_root pg_createcluster 15 main --port "$PORT" >&2
fi
if ! pg_lsclusters -h | awk '$1==15 && $2=="main" {print $4}' | grep -q online; then
  as_root pg_ctlcluster 15 main start >&2
fi
psql_admin() { as_root runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt -p "$PORT" "$@"; }
for _ in $(seq 1 30); do psql_admin -c 'select 1' >/dev/null 2>&1 && break; sleep 1; done
if [ "$(psql_admin -c "select 1 from pg_roles where rolname='$ROLE'")" != 1 ]; then
  psql_admin -c "create role $ROLE login password '$PASSWORD'"
fi
# CREATEROLE: 'geodistrict publish --postgis' creates the read-only role the service
# connects as (<role>_reader); without it the service would connect as the owner.
psql_admin -c "alter role $ROLE createrole"
if [ "$(psql_admin -c "select 1 from pg_database where datname='$DB'")" != 1 ]; then
  psql_admin -c "create database $DB owner $ROLE"
fi
psql_admin -d "$DB" -c "create extension if not exists postgis"
echo "postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
