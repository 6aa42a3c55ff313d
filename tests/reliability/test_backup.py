"""Backup and restore (issue 15): `manage.py backup` (what `make backup` runs) and `manage.py
restore` into an empty database give back every table with the same rows (a count and a
checksum per table) and the access log's append-only protection."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql

from core.backups import database_conninfo, public_tables
from core.models import AccessEvent
from tests.conftest import user

pytestmark = pytest.mark.django_db(transaction=True)


def fingerprints(dbname: str) -> dict[str, tuple[int, str]]:
    """Per table of the public schema: its row count and a checksum of its rows."""
    with psycopg.connect(database_conninfo(dbname)) as conn:
        found = {}
        for name in public_tables(conn):
            query = sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text)))"
                ", '') FROM {} t"
            ).format(sql.Identifier(name))
            count, checksum = conn.execute(query).fetchone()
            found[name] = (count, checksum)
        return found


@pytest.fixture
def empty_database():
    name = f"{connection.settings_dict['NAME']}_restored"
    with psycopg.connect(database_conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(database_conninfo(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_a_backup_restores_into_an_empty_database_identical(demo_world, tmp_path, empty_database):
    AccessEvent.objects.create(user=user("auditor"), action=AccessEvent.Action.VIEW)
    out = StringIO()
    call_command("backup", "--into", str(tmp_path), stdout=out)
    (made,) = list(Path(tmp_path).iterdir())
    assert "backup written to" in out.getvalue()
    assert {p.name for p in made.iterdir()} >= {"database.dump", "manifest.json"}
    assert oct(made.stat().st_mode & 0o777) == "0o700"
    call_command("restore", str(made), "--dbname", empty_database, stdout=StringIO())
    original, restored = (
        fingerprints(connection.settings_dict["NAME"]),
        fingerprints(empty_database),
    )
    assert len(original) > 50 and original == restored
    # The access log stays append-only in the restored database.
    with psycopg.connect(database_conninfo(empty_database)) as conn:
        with pytest.raises(psycopg.Error):
            conn.execute("UPDATE core_accessevent SET action = 'view'")
        conn.rollback()
        with pytest.raises(psycopg.Error):
            conn.execute("DELETE FROM core_accessevent")


def test_a_restore_refuses_a_database_that_is_not_empty(demo_world, tmp_path):
    call_command("backup", "--into", str(tmp_path), stdout=StringIO())
    (made,) = list(Path(tmp_path).iterdir())
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(made), stdout=StringIO())
