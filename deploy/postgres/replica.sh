#!/bin/sh
# The streaming replica: on first start, copy the primary with pg_basebackup (-R writes
# standby.signal and primary_conninfo), then run as a hot standby that answers reads.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres -U "$POSTGRES_USER"; do sleep 2; done
  export PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD"
  pg_basebackup -h postgres -U replicator -D "$PGDATA" -R -X stream -C -S replica_1 --progress
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hot_standby_feedback=on
