#!/bin/sh
# Runs once, when the primary's data directory is first created (docker-entrypoint-initdb.d):
# a role that may stream the write-ahead log, and a pg_hba line letting the replica use it.
# An existing primary gets the same two changes by hand (README "Scale").
set -eu
if [ -z "${POSTGRES_REPLICATION_PASSWORD:-}" ]; then
  echo "no POSTGRES_REPLICATION_PASSWORD: no replicator role (needed only by --profile scale)"
  exit 0
fi
# The password goes in as a psql variable, quoted by psql (:'pw'), never pasted into the SQL.
psql -v ON_ERROR_STOP=1 -v pw="$POSTGRES_REPLICATION_PASSWORD" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
