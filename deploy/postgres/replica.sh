#!/bin/sh
# The streaming replica: on first start, copy the primary with pg_basebackup (-R writes
# standby.signal and primary_conninfo, using the replication slot replica_1, made if missing),
# then run as a hot standby that answers reads. A replica retired for good gives its slot back
# on the primary: SELECT pg_drop_replication_slot('replica_1');
set -eu
if [ -z "${POSTGRES_REPLICATION_PASSWORD:-}" ]; then
  echo "replica: set POSTGRES_REPLICATION_PASSWORD in .env (the primary's replicator role)" >&2
  exit 2
fi
export PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres -U replicator; do sleep 2; done
  slot_exists=$(psql -h postgres -U replicator -d postgres -tAc \
    "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'replica_1'")
  create=""
  [ "$slot_exists" = "1" ] || create="-C"
  pg_basebackup -h postgres -U replicator -D "$PGDATA" -R -X stream $create -S replica_1 --progress
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hot_standby_feedback=on
