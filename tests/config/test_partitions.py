"""The largest append-only tables are partitioned by month (issue 13, item 4): the access log,
notifications and the history tables; rows land in their month, the months ahead are made by a
scheduled job, and everything that used these tables still works."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Child, ChildEvent
from core.models import AccessEvent, Delivery, Notification
from core.notifications import notifications_mark_read, notify
from core.partitions import PARTITIONED, ensure_monthly_partitions, registered
from institutions.roles import Role
from tests.conftest import user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def this_month() -> date:
    return timezone.now().date().replace(day=1)  # UTC, as the partitions' bounds


def months_after(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_of(table: str, pk: int) -> str:
    """The partition holding row `pk` of `table`."""
    entry = registered(table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {entry.table} WHERE {entry.key} = %s",  # noqa: S608
            [pk],
        )
        return cursor.fetchone()[0]


def partitions(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
            [table],
        )
        return {name for (name,) in cursor.fetchall()}


def a_row_of_access_log_at(at: datetime) -> int:
    """An access event at a chosen time (the model stamps `at` itself on create)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_accessevent (at, action, path, detail, user_id)"
            " VALUES (%s, 'view', '/t', '{}', %s) RETURNING id",
            [at, user("director_a").pk],
        )
        return cursor.fetchone()[0]


def test_the_tables_are_partitioned_by_month_with_a_default_and_the_time_in_the_key():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relkind, pt.partstrat, a.attname, pt.partdefid <> 0,
                   (SELECT array_agg(k.attname ORDER BY k.attnum)
                      FROM pg_constraint pk
                      JOIN pg_attribute k ON k.attrelid = c.oid AND k.attnum = ANY(pk.conkey)
                     WHERE pk.conrelid = c.oid AND pk.contype = 'p')
              FROM pg_class c
              JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
             WHERE c.relname = ANY(%s)
            """,
            [[entry.table for entry in PARTITIONED]],
        )
        found = {row[0]: row[1:] for row in cursor.fetchall()}
    assert {e.table for e in PARTITIONED} >= {
        "cases_accessevent",
        "followups_notification",
        "cases_childevent",
        "cases_guardianevent",
        "cases_careteammemberevent",
        "cases_careplanevent",
    }
    for entry in PARTITIONED:
        kind, strategy, column, has_default, key = found[entry.table]
        assert (kind, strategy, column, has_default) == ("p", "r", entry.column, True)
        assert sorted(key) == sorted([entry.key, entry.column])  # the time is in the primary key
        # The models keep their one-column primary key.
    assert AccessEvent._meta.pk.name == "id" and Notification._meta.pk.name == "id"
    assert ChildEvent._meta.pk.name == "pgh_id"


def test_rows_written_now_land_in_this_months_partition(login, child_in_scope_of):
    month = this_month()
    suffix = f"_p{month:%Y_%m}"
    client = login("director_a")
    child = child_in_scope_of("director_a")  # its history row too
    assert client.get(reverse("cases:child_detail", args=[child.pk])).status_code == 200
    event = AccessEvent.objects.filter(child=child).latest("id")
    assert partition_of("cases_accessevent", event.pk) == "cases_accessevent" + suffix
    [note] = notify(recipients=[user("director_a")], kind="handover", params={"region": "x"})
    assert partition_of("followups_notification", note.pk) == "followups_notification" + suffix
    history = ChildEvent.objects.filter(pgh_obj=child).latest("pgh_id")
    assert partition_of("cases_childevent", history.pk) == "cases_childevent" + suffix


def test_a_row_months_ahead_is_accepted_then_moved_into_its_month():
    month = months_after(this_month(), 5)  # beyond the 3 months the migrations made
    row = a_row_of_access_log_at(datetime(month.year, month.month, 15, tzinfo=UTC))
    assert partition_of("cases_accessevent", row) == "cases_accessevent_default"

    made = ensure_monthly_partitions(6)

    name = f"cases_accessevent_p{month:%Y_%m}"
    assert name in made
    assert partition_of("cases_accessevent", row) == name  # moved out of DEFAULT
    assert AccessEvent.objects.get(pk=row).path == "/t"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_accessevent_default")
        assert cursor.fetchone()[0] == 0
    # Still append-only where it now sits.
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=row).update(path="/changed")


def test_making_the_partitions_is_idempotent_and_a_fixed_number_of_queries():
    ensure_monthly_partitions(6)
    before = {entry.table: partitions(entry.table) for entry in PARTITIONED}
    for entry in PARTITIONED:
        for ahead in range(7):
            assert (
                f"{entry.table}_p{months_after(this_month(), ahead):%Y_%m}" in before[entry.table]
            )
    with CaptureQueriesContext(connection) as queries:
        assert ensure_monthly_partitions(6) == []
    assert {entry.table: partitions(entry.table) for entry in PARTITIONED} == before
    # Lock, tables, missing months (plus the savepoint): whatever the rows and months.
    assert len(queries) == 5


def test_the_scheduled_job_makes_the_months_ahead_of_the_day_it_runs_as():
    by_task = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "core.ensure_partitions" in by_task
    later = months_after(this_month(), 8)
    call_command(
        "run_scheduled_jobs", only=["core.ensure_partitions"], today=later.isoformat(), verbosity=0
    )
    for entry in PARTITIONED:
        names = partitions(entry.table)
        for ahead in range(4):
            assert f"{entry.table}_p{months_after(later, ahead):%Y_%m}" in names


def test_every_index_of_a_table_is_on_every_partition():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT parent_index.relname, count(i.inhrelid),
                   (SELECT count(*) FROM pg_inherits p WHERE p.inhparent = x.indrelid)
              FROM pg_index x
              JOIN pg_class parent_index ON parent_index.oid = x.indexrelid
              LEFT JOIN pg_inherits i ON i.inhparent = x.indexrelid
             WHERE x.indrelid = ANY(%s::regclass[])
             GROUP BY parent_index.relname, x.indrelid
            """,
            [[entry.table for entry in PARTITIONED]],
        )
        counts = {name: (on, of) for name, on, of in cursor.fetchall()}
    for name in ("access_child_time", "access_user_time", "notification_recipient"):
        assert name in counts
    assert "notification_unread" in counts
    assert all(on == of for on, of in counts.values()), counts


def test_listing_by_child_or_recipient_reads_the_indexes_of_the_partitions():
    child = Child.objects.order_by("id")[0]
    director = user("director_a")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the tables are tiny here
    plans = [
        AccessEvent.objects.filter(child=child).order_by("-at")[:25].explain(),
        AccessEvent.objects.filter(user=director).order_by("-at")[:25].explain(),
        Notification.objects.filter(recipient=director).order_by("-created_at")[:25].explain(),
        Notification.objects.filter(recipient=director, read_at__isnull=True)
        .order_by("-created_at")[:25]
        .explain(),
    ]
    for plan in plans:
        assert "Seq Scan" not in plan, plan
        assert "Index" in plan, plan
    assert "child_id_at_idx" in plans[0]
    assert "user_id_at_idx" in plans[1]


def test_the_access_log_and_the_history_still_refuse_update_and_delete(login):
    client = login("director_a")
    child = Child.objects.filter(residence_region_id="990101001001")[0]
    client.get(reverse("cases:child_detail", args=[child.pk]))
    event = AccessEvent.objects.filter(child=child).latest("id")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(action="export")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()
    history = ChildEvent.objects.filter(pgh_obj=child).latest("pgh_id")
    with pytest.raises(DatabaseError), transaction.atomic():
        ChildEvent.objects.filter(pk=history.pk).update(name="x")
    assert AccessEvent.objects.filter(pk=event.pk, action="view").exists()


def test_a_delivery_still_points_to_its_notification_which_is_never_deleted():
    person = UserFactory(role=Role.VOLUNTEER)
    [note] = notify(recipients=[person], kind="handover", params={"region": "x"})
    deliveries = list(note.deliveries.all())
    assert {d.channel for d in deliveries} >= {Delivery.Channel.IN_APP}
    for delivery in Delivery.objects.filter(recipient=person).select_related("notification"):
        assert delivery.notification == note
    # No foreign key in the database (none can point at a partitioned table's id alone) ...
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE confrelid = %s::regclass",
            ["followups_notification"],
        )
        assert cursor.fetchone()[0] == 0
    # ... and none is needed: a notification cannot be deleted, only read.
    with pytest.raises(DatabaseError), transaction.atomic():
        Notification.objects.filter(pk=note.pk).delete()
    assert notifications_mark_read(user=person, ids=[note.pk]) == 1
    note.refresh_from_db()
    assert note.read_at is not None


def test_the_notification_list_and_the_child_file_still_work(login):
    director = user("director_a")
    [note] = notify(recipients=[director], kind="handover", params={"region": "x"})
    client = login("director_a")
    response = client.get(reverse("followups:notifications"))
    assert response.status_code == 200
    assert note in [row[0] for row in response.context["rows"]]
    child = Child.objects.filter(residence_region_id="990101001001")[0]
    before = AccessEvent.objects.filter(child=child).count()
    assert client.get(reverse("cases:child_detail", args=[child.pk])).status_code == 200
    assert AccessEvent.objects.filter(child=child).count() == before + 1
