"""No index of ours is made useless by another: an index whose columns begin another index on
the same table (same operator classes, neither partial nor on expressions) serves no search the
longer one does not, and costs a write on every insert (the access log takes a row for every
child a list page shows). Django makes one for every foreign key unless told otherwise."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

OUR_APPS = ("core", "institutions", "cases", "assessments", "referrals", "followups", "dashboards")

# Each index as its columns and operator classes, with whether it may stand in for a shorter
# one (a full, plain index) and whether it may be left out (neither unique nor partial).
INDEXES_SQL = """
SELECT c.relname, i.relname,
       string_to_array(x.indkey::text, ' ')::int[],
       string_to_array(x.indclass::text, ' ')::oid[],
       x.indpred IS NULL AND x.indexprs IS NULL,
       NOT x.indisunique
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
WHERE c.relname = ANY(%s) AND NOT c.relispartition
"""


def our_tables() -> list[str]:
    return [
        model._meta.db_table
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
        # Django's own tables for a many-to-many field are not ours to shape.
        if not model._meta.auto_created
    ]


def duplicate_indexes() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(INDEXES_SQL, [our_tables()])
        indexes = cursor.fetchall()
    found = []
    for table, name, columns, classes, plain, optional in indexes:
        for other_table, other, other_columns, other_classes, other_plain, _ in indexes:
            if (
                other_table == table
                and other != name
                and plain
                and other_plain
                and optional
                and len(columns) < len(other_columns)
                and other_columns[: len(columns)] == columns
                and other_classes[: len(classes)] == classes
            ):
                found.append((table, name, other))
    return sorted(found)


def test_the_check_finds_an_index_that_another_begins_with():
    with connection.cursor() as cursor:
        cursor.execute('CREATE INDEX "test_duplicate" ON "followups_visit" ("child_id")')
    assert duplicate_indexes() == [("followups_visit", "test_duplicate", "visit_child_latest")]


def test_no_index_of_ours_is_the_beginning_of_another():
    assert duplicate_indexes() == []


def test_every_table_of_ours_was_looked_at():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname = ANY(%s)", [our_tables()])
        (found,) = cursor.fetchone()
    assert found == len(our_tables()) > 40
