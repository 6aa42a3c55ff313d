"""The database cursor (core/dbcursor.py): values bound by PostgreSQL, repeated statements
prepared per connection and still planned for their own values, and the history context
that django-pghistory puts in front of a write still reaching the write's history row."""

from __future__ import annotations

import pghistory
import pytest
from django.db import connection, transaction

from cases.models import Child, ChildEvent


def _prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_a_statement_run_again_is_prepared_on_its_connection_and_planned_for_its_values():
    assert connection.features.uses_server_side_binding
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"
    names = list(Child.objects.order_by("pk").values_list("name", flat=True)[:3])
    for name in names:
        assert Child.objects.filter(name=name).exists()
    statements = [s for s in _prepared() if '"cases_child"."name" = $' in s]
    assert len(statements) == 1  # one text for every name: the value is bound apart


def _set_and_read(value: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('xq.test', %s, true); SELECT current_setting('xq.test') || %s",
            [value, "!"],
        )
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_a_setting_in_front_of_a_statement_reaches_it_in_a_transaction():
    with transaction.atomic():
        assert _set_and_read("in a transaction") == "in a transaction!"


@pytest.mark.django_db(transaction=True)
def test_a_setting_in_front_of_a_statement_reaches_it_outside_a_transaction():
    # Autocommit: both statements run in one transaction of their own, and the setting,
    # local to it, is gone after it.
    assert connection.get_autocommit()
    assert _set_and_read("alone") == "alone!"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('xq.test', true)")
        assert cursor.fetchone()[0] in (None, "")


@pytest.mark.django_db(transaction=True)
def test_a_write_outside_a_transaction_keeps_its_history_context(demo_world):
    child = Child.objects.order_by("pk").first()
    assert connection.get_autocommit()
    with pghistory.context(job="test-bound-cursor"):
        Child.objects.filter(pk=child.pk).update(notes="changed without a transaction")
    event = ChildEvent.objects.filter(pgh_obj_id=child.pk).order_by("-pgh_id").first()
    assert event.notes == "changed without a transaction"
    assert event.pgh_context is not None
    assert event.pgh_context.metadata["job"] == "test-bound-cursor"


@pytest.mark.django_db
def test_a_connection_keeps_the_statements_of_every_page_prepared():
    # More distinct statements than psycopg keeps by default (100): the first is still kept.
    with connection.cursor() as cursor:
        for n in range(150):
            for _ in range(3):  # prepared at the third run (prepare_threshold = 2)
                cursor.execute(f"SELECT %s::int + {n} AS xq_prepared_{n}", [1])
    kept = {s for s in _prepared() if "xq_prepared_" in s}
    assert any(s.endswith("xq_prepared_0") for s in kept)
    assert len(kept) == 150


CONTEXT = (
    "SELECT set_config('pghistory.context_id', %s, true), "
    "set_config('pghistory.context_metadata', %s, true); "
)
IGNORE = "SELECT set_config('pgtrigger.ignore', %s, true); "


@pytest.mark.parametrize(
    ("write", "kept"),
    [
        # The tables pghistory tracks keep the context in front of their writes.
        ('UPDATE "cases_child" SET "notes" = %s WHERE "cases_child"."id" = %s', True),
        ('INSERT INTO "cases_guardian" ("name") VALUES (%s) RETURNING "id"', True),
        ('DELETE FROM "cases_careteammember" WHERE "id" = %s', True),
        # Any other table's write is one statement again.
        ('INSERT INTO "cases_accessevent" ("path") VALUES (%s) RETURNING "id"', False),
        ('UPDATE "followups_task" SET "status" = %s WHERE "id" = %s', False),
        # What is not a plain write of Django's keeps it (it may write anywhere).
        ("WITH moved AS (UPDATE cases_child SET notes = %s RETURNING id) SELECT %s", True),
        ("UPDATE followups_task t SET status = %s WHERE t.id = %s", True),
    ],
)
def test_the_history_context_goes_only_in_front_of_writes_that_record_history(write, kept):
    from core.dbcursor import split_settings

    values = ["x", 7][: write.count("%s")]
    statements = split_settings(CONTEXT + write, ["context-id", "{}", *values])
    assert statements[-1] == (write, values)
    assert len(statements) == (2 if kept else 1)
    if kept:
        assert statements[0] == (CONTEXT.removesuffix("; "), ["context-id", "{}"])


def test_the_triggers_to_ignore_stay_in_front_of_any_write():
    from core.dbcursor import split_settings

    write = 'INSERT INTO "cases_accessevent" ("path") VALUES (%s)'
    statements = split_settings(IGNORE + CONTEXT + write, ["{t}", "id", "{}", "/"])
    assert statements == [(IGNORE.removesuffix("; "), ["{t}"]), (write, ["/"])]
