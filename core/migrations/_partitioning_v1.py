"""The SQL that rebuilt the largest append-only tables as partitioned by month (core migration
0005, cases migration 0010), frozen: migrations must do on a new database what they did on the
databases already migrated, so this file is never edited. A later change of shape is a new
module (`_partitioning_v2`) used by a new migration. Not a migration itself: the loader skips
modules whose names start with "_".

On a database that already holds many rows, the rebuild copies each table while holding its
lock (every page view writes to the access log and waits): plan the upgrade in a maintenance
window (README "Operations").
"""

from __future__ import annotations

# Rebuilds a table as partitioned by month (or back as a plain table) with its data, keeping its
# indexes, foreign keys, triggers (with pgtrigger's comments), check constraints, identity
# sequence position and the names of all of them. It reads them from the catalog, so it keeps
# whatever earlier migrations made. Does nothing when the table already has the wanted shape.
_REBUILD = r"""
DO $rebuild$
DECLARE
    t constant text := '{table}';
    col constant text := '{column}';
    k constant text := '{key}';
    partitioned constant boolean := {partitioned};
    old constant text := t || '__old';
    rel regclass := to_regclass(quote_ident(t));
    pk_name text;
    seq text;
    seq_last bigint;
    seq_called boolean;
    cols text;
    later text[];
    stmt text;
    m timestamp;
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION 'no table %', t;
    END IF;
    IF ((SELECT relkind FROM pg_class WHERE oid = rel) = 'p') = partitioned THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = rel AND contype = 'f') THEN
        RAISE EXCEPTION '% is referenced by a foreign key: declare it db_constraint=False first', t;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = rel AND contype IN ('u', 'x')) THEN
        RAISE EXCEPTION '% has a unique or exclusion constraint: not handled', t;
    END IF;

    -- What the new table gets back once the old one is gone (their names are then free).
    SELECT coalesce(array_agg(def ORDER BY ord, name), '{{}}') INTO later FROM (
        SELECT 1 AS ord, ic.relname AS name,
               replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') AS def
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = rel
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                            WHERE c.conrelid = rel AND c.conindid = i.indexrelid)
        UNION ALL
        SELECT 2, conname,
               format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, conname, pg_get_constraintdef(oid))
          FROM pg_constraint
         WHERE conrelid = rel AND contype = 'f' AND conparentid = 0
        UNION ALL
        SELECT 3, tgname, pg_get_triggerdef(oid)
          FROM pg_trigger
         WHERE tgrelid = rel AND NOT tgisinternal AND tgparentid = 0
        UNION ALL
        SELECT 4, tg.tgname,
               format('COMMENT ON TRIGGER %I ON %I IS %L', tg.tgname, t, d.description)
          FROM pg_trigger tg
          JOIN pg_description d ON d.objoid = tg.oid AND d.classoid = 'pg_trigger'::regclass
         WHERE tg.tgrelid = rel AND NOT tg.tgisinternal AND tg.tgparentid = 0
    ) AS defs;
    SELECT conname INTO pk_name FROM pg_constraint WHERE conrelid = rel AND contype = 'p';
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped;
    seq := pg_get_serial_sequence(quote_ident(t), k);

    EXECUTE format('ALTER TABLE %I RENAME TO %I', t, old);
    IF seq IS NOT NULL THEN
        EXECUTE format('SELECT last_value, is_called FROM %s', seq) INTO seq_last, seq_called;
        EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', seq, old || '_' || k || '_seq');
    END IF;
    stmt := format(
        'CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY '
        'INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)', t, old);
    IF partitioned THEN
        EXECUTE stmt || format(' PARTITION BY RANGE (%I)', col);
        FOR m IN EXECUTE format(
            'SELECT DISTINCT date_trunc(''month'', %I AT TIME ZONE ''UTC'') FROM %I', col, old)
        LOOP
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                t || '_p' || to_char(m, 'YYYY_MM'), t,
                m::text || '+00', (m + interval '1 month')::text || '+00');
        END LOOP;
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t || '_default', t);
    ELSE
        EXECUTE stmt;
    END IF;
    EXECUTE format(
        'INSERT INTO %I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %I', t, cols, cols, old);
    IF seq IS NOT NULL THEN
        PERFORM setval(pg_get_serial_sequence(quote_ident(t), k), seq_last, seq_called);
    END IF;
    EXECUTE format('DROP TABLE %I', old);
    IF partitioned THEN
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (%I, %I)', t, pk_name, k, col);
    ELSE
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (%I)', t, pk_name, k);
    END IF;
    FOREACH stmt IN ARRAY later LOOP
        EXECUTE stmt;
    END LOOP;
END
$rebuild$;
"""


def partition_sql(table: str, column: str, key: str = "id") -> str:
    """SQL turning `table` and its rows into a table partitioned by month on `column`: a
    partition per month its rows need plus DEFAULT; the primary key becomes (key, column)."""
    return _REBUILD.format(table=table, column=column, key=key, partitioned="true")


def unpartition_sql(table: str, column: str, key: str = "id") -> str:
    """The reverse of `partition_sql`: one plain table with every row, primary key (key)."""
    return _REBUILD.format(table=table, column=column, key=key, partitioned="false")
