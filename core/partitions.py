"""Monthly range partitions of the largest append-only tables (the access log, notifications and
the history tables of django-pghistory).

Each table in `PARTITIONED` is declaratively partitioned by month on its time column (PostgreSQL
15 or newer; the embedded server of `make test` is 18). Month bounds are UTC months, named
`<table>_pYYYY_MM`; rows outside every month land in `<table>_default`.

What partitioning changes, and how it is met:

- A partitioned table's primary key must contain the partition key: in the database it is
  `(id, time)`, while the Django models keep `id` as their primary key (Django needs no database
  constraint on `id` alone). Ids stay unique because they come from the table's one identity
  sequence, shared by every partition.
- No foreign key can point at `(id)` alone of a partitioned table: `core.Delivery.notification`
  is declared `db_constraint=False` (notifications are never deleted, so it cannot dangle).
- Row triggers, indexes and foreign keys made on the parent apply to every partition, present
  and future (the access log's append-only trigger and pgtrigger's on the history tables).
- `ensure_monthly_partitions` (migrations, and the daily `core.ensure_partitions` job) keeps the
  coming months made in advance, so the DEFAULT partition stays empty; should rows land there
  anyway (a date far ahead or far back), the next run gives their months a partition and moves
  them into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

# How many months after the current one are kept made in advance by the scheduled job.
MONTHS_AHEAD = 3


@dataclass(frozen=True)
class Partitioned:
    """One table partitioned by month: its name, its time column and its id column."""

    table: str
    column: str
    key: str = "id"

    def __post_init__(self) -> None:
        # They are written into SQL as identifiers: plain lower-case names only.
        for name in (self.table, self.column, self.key):
            if not re.fullmatch(r"[a-z_][a-z0-9_]{0,50}", name):
                raise ValueError(f"not a plain identifier: {name!r}")

    @property
    def default(self) -> str:
        return f"{self.table}_default"

    def month_partition(self, month: date) -> str:
        return f"{self.table}_p{month.year:04d}_{month.month:02d}"


# The registry: every table partitioned by month (each converted by a migration of its app).
PARTITIONED: tuple[Partitioned, ...] = (
    Partitioned("cases_accessevent", "at"),  # core.AccessEvent
    Partitioned("followups_notification", "created_at"),  # core.Notification
    # The history (event) tables django-pghistory made for the models cases tracks.
    Partitioned("cases_childevent", "pgh_created_at", "pgh_id"),
    Partitioned("cases_guardianevent", "pgh_created_at", "pgh_id"),
    Partitioned("cases_careteammemberevent", "pgh_created_at", "pgh_id"),
    Partitioned("cases_careplanevent", "pgh_created_at", "pgh_id"),
)


def registered(table: str) -> Partitioned:
    """The registry entry of `table`."""
    return next(entry for entry in PARTITIONED if entry.table == table)


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first of the month `count` months after `month` (a first of a month)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def ensure_monthly_partitions(
    months_ahead: int = MONTHS_AHEAD,
    *,
    today: date | None = None,
    since: date | None = None,
    lock_timeout: str | None = None,
    using: str = "default",
) -> list[str]:
    """Make the missing month partitions of every partitioned table of the registry, from this
    month (or the month of `since`) to `months_ahead` months after it, plus the month of any row
    sitting in a DEFAULT partition (its rows are then moved into it, so DEFAULT ends empty).
    Returns the names of the partitions made: a second run makes none.

    Three queries when nothing is missing, then one statement per partition made, whatever the
    number of rows. Registered tables not (yet) partitioned are skipped, so migrations can call
    it at any point.
    `lock_timeout` (e.g. "5s") makes a run give up rather than queue the table's writers
    behind it while a long read holds the table; the next run makes what is missing.
    """
    connection = connections[using]
    this_month = _first_of_month(today or timezone.now().date())  # now() is in UTC
    start = _first_of_month(since) if since else this_month
    end = add_months(this_month, months_ahead)
    quote = connection.ops.quote_name
    made: list[str] = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if lock_timeout:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
        # One run at a time (the job, a migration, a second worker).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('core.ensure_monthly_partitions'))")
        cursor.execute(
            """
            SELECT parent.relname, dflt.relname
              FROM pg_class parent
              JOIN pg_partitioned_table pt ON pt.partrelid = parent.oid
              LEFT JOIN pg_class dflt ON dflt.oid = pt.partdefid
             WHERE parent.relname = ANY(%s) AND pg_table_is_visible(parent.oid)
            """,
            [[entry.table for entry in PARTITIONED]],
        )
        defaults = dict(cursor.fetchall())
        tables = [entry for entry in PARTITIONED if entry.table in defaults]
        if not tables:
            return made
        # The months wanted: the window, and those of rows in DEFAULT (flagged: to be moved).
        # (Identifiers of the registry, quoted.)
        in_default = [
            f"SELECT %s, date_trunc('month', {quote(e.column)} AT TIME ZONE 'UTC')::date, true"  # noqa: S608
            f" FROM {quote(defaults[e.table])}"
            for e in tables
            if defaults[e.table]
        ]
        cursor.execute(
            f"""
            WITH wanted (tbl, month, moved) AS (
                SELECT tbl, month::date, false
                  FROM unnest(%s::text[]) AS tbl,
                       generate_series(%s::date, %s::date, interval '1 month') AS month
                {"".join(" UNION ALL " + part for part in in_default)}
            )
            SELECT tbl, month, bool_or(moved) FROM wanted
             WHERE NOT EXISTS (
                SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
                 WHERE i.inhparent = to_regclass(quote_ident(tbl))
                   AND p.relname = tbl || '_p' || to_char(month, 'YYYY_MM'))
             GROUP BY tbl, month
             ORDER BY tbl, month
            """,  # noqa: S608 (no value is interpolated: the parts above are fixed SQL)
            [
                [e.table for e in tables],
                start,
                end,
                *[e.table for e in tables if defaults[e.table]],
            ],
        )
        missing: dict[str, list[tuple[date, bool]]] = {}
        for table, month, moved in cursor.fetchall():
            missing.setdefault(table, []).append((month, moved))
        for entry in tables:
            months = missing.get(entry.table, [])
            if not months and defaults[entry.table]:
                continue
            made += _make_partitions(
                cursor,
                quote,
                entry,
                [month for month, _ in months],
                default=defaults[entry.table],
                move=any(moved for _, moved in months),
            )
    return made


def _make_partitions(
    cursor: Any,
    quote: Callable[[str], str],
    entry: Partitioned,
    months: list[date],
    *,
    default: str | None,
    move: bool,
) -> list[str]:
    """Make `months` of `entry` (and its DEFAULT partition if it has none). With `move`, rows of
    those months sit in DEFAULT, where PostgreSQL refuses to leave them: the DEFAULT partition is
    detached, a new empty one made, the months made, its rows inserted again through the parent
    (each into its month) and the old one dropped, all in the caller's transaction (no UPDATE or
    DELETE runs, so the append-only triggers are not involved)."""
    table = quote(entry.table)
    made: list[str] = []
    old = None
    if move and default:
        old = quote(f"{entry.table}__old_default")
        # Rows written in this same transaction still have their deferred foreign-key checks
        # pending, and PostgreSQL drops no table with pending checks: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {quote(default)}")
        cursor.execute(f"ALTER TABLE {quote(default)} RENAME TO {old}")
        default = None
    for month in months:
        name = entry.month_partition(month)
        following = add_months(month, 1)
        cursor.execute(
            f"CREATE TABLE {quote(name)} PARTITION OF {table}"
            f" FOR VALUES FROM ('{month.isoformat()} 00:00+00')"
            f" TO ('{following.isoformat()} 00:00+00')"
        )
        made.append(name)
    if default is None:
        cursor.execute(f"CREATE TABLE {quote(entry.default)} PARTITION OF {table} DEFAULT")
        if old is None:
            made.append(entry.default)
    if old is not None:
        cursor.execute(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
            " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            [entry.table],
        )
        (columns,) = cursor.fetchone()
        # Identifiers from the catalog, quoted.
        copy = f"INSERT INTO {table} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns}"
        cursor.execute(f"{copy} FROM {old}")
        cursor.execute(f"DROP TABLE {old}")
    return made
