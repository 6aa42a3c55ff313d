"""Retention of the access log: it is kept at least `ACCESS_LOG_RETENTION_DAYS` (180 at least,
as MLPS level 3 asks) and only then moved out, a whole month at a time, into an archive file;
no row is ever deleted in place (the table refuses UPDATE and DELETE).

A month partition of `cases_accessevent` whose every row is older than the retention is
written to `ARCHIVE_ROOT/access_log/<partition>.csv.gz` (all its columns, by id) with a
`.sha256` beside it, the file is read back and its rows counted, and only then is the partition
detached from the log and dropped, in one transaction. The archive of each month is itself in
the access log (action "archived"). Files are the auditor's to keep, off the machine.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.access_log import access_record
from core.models import AccessEvent
from core.partitions import add_months, registered

LOG_TABLE = "cases_accessevent"
_MONTH = re.compile(rf"^{LOG_TABLE}_p(\d{{4}})_(\d{{2}})$")


@dataclass(frozen=True)
class Archived:
    partition: str
    rows: int
    path: Path


def _month_partitions() -> list[tuple[str, date]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [LOG_TABLE],
        )
        names = [name for (name,) in cursor.fetchall()]
    found = []
    for name in names:
        if match := _MONTH.match(name):
            found.append((name, date(int(match[1]), int(match[2]), 1)))
    return sorted(found, key=lambda item: item[1])


def _write_archive(partition: str, target: Path) -> int:
    """The partition's rows as gzipped CSV at `target`, fsynced; returns the rows written."""
    quoted = connection.ops.quote_name(partition)
    key = connection.ops.quote_name(registered(LOG_TABLE).key)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as zipped:
        with connection.cursor() as cursor:
            copy_sql = f"COPY (SELECT * FROM {quoted} ORDER BY {key}) TO STDOUT WITH CSV HEADER"  # noqa: S608
            with cursor.cursor.copy(copy_sql) as copy:
                for block in copy:
                    data = bytes(block)
                    zipped.write(data)
        zipped.close()
        raw.flush()
        os.fsync(raw.fileno())
    with partial.open("rb") as written:
        for chunk in iter(lambda: written.read(1 << 20), b""):
            digest.update(chunk)
    with gzip.open(partial, "rt", encoding="utf-8", newline="") as check:
        lines = sum(1 for _ in csv.reader(check))
    partial.rename(target)
    target.with_name(target.name + ".sha256").write_text(f"{digest.hexdigest()}  {target.name}\n")
    return lines - 1  # the header


def access_log_archive(*, today: date | None = None) -> list[Archived]:
    """Archive and move out every month of the access log older than the retention."""
    today = today or timezone.now().date()
    keep_days = max(180, int(settings.ACCESS_LOG_RETENTION_DAYS))
    cutoff = today - timedelta(days=keep_days)
    folder = Path(settings.ARCHIVE_ROOT) / "access_log"
    done: list[Archived] = []
    for partition, month in _month_partitions():
        if add_months(month, 1) > cutoff:
            continue  # some of its rows are younger than the retention
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        target = folder / f"{partition}.csv.gz"
        with transaction.atomic(), connection.cursor() as cursor:
            # Nobody writes into the month while it is archived (and it is past, anyway).
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(partition)} IN SHARE MODE")
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(partition)}")  # noqa: S608
            (expected,) = cursor.fetchone()
            written = _write_archive(partition, target)
            if written != expected:
                raise RuntimeError(
                    f"{partition}: {written} rows archived, {expected} in the table; kept"
                )
            # Foreign-key checks still pending on its rows (written in this same transaction,
            # as in a test) would keep PostgreSQL from dropping it: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                f"ALTER TABLE {connection.ops.quote_name(LOG_TABLE)} "
                f"DETACH PARTITION {connection.ops.quote_name(partition)}"
            )
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(partition)}")
            access_record(
                user=None,
                action=AccessEvent.Action.ARCHIVED,
                detail={"partition": partition, "rows": written, "file": str(target)},
            )
        done.append(Archived(partition, written, target))
    return done
