"""The access log is complete and kept (issue 15): signing in and out, failed sign-ins (of an
unknown name too), lock-outs and two-factor resets are in it beside the reads; it is kept 180
days at least and only then moved out, a month at a time, into an archive file, never deleted
in place."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AccessEvent
from core.partitions import ensure_monthly_partitions
from core.retention import access_log_archive
from tests.conftest import client_for, user
from tests.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def events(action: str, **filters: object):
    return AccessEvent.objects.filter(action=action, **filters)


def test_signing_in_out_and_failing_are_logged(settings):
    client = Client()
    client.post(LOGIN, {"username": "director_a", "password": DEMO_PASSWORD})
    assert events("sign_in", user=user("director_a")).count() == 1
    client.post("/accounts/logout/")
    assert events("sign_out", user=user("director_a")).count() == 1
    Client().post(LOGIN, {"username": "director_b", "password": "not-the-password"})
    failed = events("sign_in_failed", user=user("director_b")).get()
    assert failed.detail["username"] == "director_b" and failed.ip_address
    Client().post(LOGIN, {"username": "nobody-here", "password": "x"})
    unknown = events("sign_in_failed", user=None).get()
    assert unknown.detail["username"] == "nobody-here"


def test_a_lock_out_is_logged(settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(LOGIN, {"username": "mentor", "password": "wrong-password-1"})
    assert events("locked_out", user=user("mentor")).exists()


def test_a_two_factor_reset_by_the_security_administrator_is_logged():
    TOTPDevice.objects.create(user=user("counselor"), name="phone", confirmed=True)
    security = client_for("security")
    response = security.post(
        "/admin/institutions/user/",
        {"action": "reset_two_factor", "_selected_action": [user("counselor").pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user("counselor")).exists()
    reset = events("two_factor", user=user("security")).get()
    assert reset.detail == {"event": "reset", "member": user("counselor").pk, "devices": 1}
    # The system administrator may not reset anyone's.
    TOTPDevice.objects.create(user=user("mentor"), name="phone", confirmed=True)
    client_for("admin").post(
        "/admin/institutions/user/",
        {"action": "reset_two_factor", "_selected_action": [user("mentor").pk]},
    )
    assert TOTPDevice.objects.filter(user=user("mentor")).exists()


def _log_at(moment: datetime, note: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_accessevent (at, user_id, action, path, detail) "
            "VALUES (%s, %s, 'view', '', %s)",
            [moment, user("auditor").pk, f'{{"note": "{note}"}}'],
        )


def test_a_month_past_the_retention_is_archived_and_a_younger_one_kept(settings, tmp_path):
    settings.ARCHIVE_ROOT = tmp_path
    old, young = date(2024, 1, 1), date(2024, 2, 1)
    ensure_monthly_partitions(0, today=young, since=old)
    _log_at(datetime(2024, 1, 15, tzinfo=UTC), "january")
    _log_at(datetime(2024, 1, 31, 23, 0, tzinfo=UTC), "january, last day")
    _log_at(datetime(2024, 2, 10, tzinfo=UTC), "february")
    # 179 days after February ends: January's newest row is 208 days old, February's 179.
    done = access_log_archive(today=date(2024, 3, 1) + timedelta(days=179))
    assert [d.partition for d in done] == ["cases_accessevent_p2024_01"]
    archived = done[0]
    assert archived.rows == 2
    with gzip.open(archived.path, "rt", encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert sorted(r["detail"] for r in rows) == [
        '{"note": "january"}',
        '{"note": "january, last day"}',
    ]
    assert archived.path.with_name(archived.path.name + ".sha256").exists()
    # Moved out of the database, the younger month kept, the archive itself logged.
    assert not AccessEvent.objects.filter(detail__note__startswith="january").exists()
    assert AccessEvent.objects.filter(detail__note="february").exists()
    assert events("archived", detail__partition="cases_accessevent_p2024_01").exists()
    # February is archived only once all its rows are past the retention.
    assert access_log_archive(today=date(2024, 3, 1) + timedelta(days=179)) == []
    later = access_log_archive(today=date(2024, 3, 1) + timedelta(days=181))
    assert [d.partition for d in later] == ["cases_accessevent_p2024_02"]


def test_the_auditor_searches_and_exports_the_log_and_the_export_is_logged():
    Client().post(LOGIN, {"username": "nobody-here", "password": "x"})
    auditor = client_for("auditor")
    listed = auditor.get("/children/audit/", {"action": "sign_in_failed"})
    assert "nobody-here" in listed.content.decode()
    response = auditor.get("/children/audit/export/", {"action": "sign_in_failed", "fmt": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and "nobody-here" in str(rows[1])
    assert events("export", user=user("auditor")).exists()
    assert (
        client_for("director_a").get("/children/audit/export/", {"fmt": "xlsx"}).status_code == 403
    )


def test_a_change_of_a_roles_permissions_is_logged():
    from django.contrib.auth.models import Group, Permission

    from institutions.roles import Role, group_name
    from institutions.services import roles_sync

    group = Group.objects.get(name=group_name(Role.AUDITOR))
    extra = Permission.objects.get(codename="add_child", content_type__app_label="cases")
    group.permissions.add(extra)  # a change made outside the role table
    last = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    roles_sync()
    changed = events("admin", detail__event="role_permissions_changed", id__gt=last).get()
    assert changed.user is None and changed.detail["removed"] == ["cases.add_child"]
    assert changed.detail["role"] == "auditor" and changed.detail["added"] == []
    assert not group.permissions.filter(pk=extra.pk).exists()
    roles_sync()  # nothing to change: nothing logged
    assert events("admin", detail__event="role_permissions_changed", id__gt=last).count() == 1


def test_removing_an_authenticator_in_the_admin_site_is_logged_as_a_reset():
    device = TOTPDevice.objects.create(user=user("mentor"), name="phone", confirmed=True)
    security = client_for("security")
    url = f"/admin/otp_totp/totpdevice/{device.pk}/delete/"
    assert security.post(url, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    reset = events("two_factor", user=user("security")).get()
    assert reset.detail["event"] == "reset" and reset.detail["member"] == user("mentor").pk


def test_a_logged_read_costs_the_database_no_check_and_still_protects_the_child():
    """The log takes a row for every child a list shows: no foreign key makes the database look
    the user and the child up again for each (tests/config/test_partitions.py checks the rest
    of its shape). A child or user the log names still cannot be deleted."""
    from django.db.models import ProtectedError

    from cases.models import Child

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'cases_accessevent'::regclass"
            " AND contype = 'f'"
        )
        assert cursor.fetchone() == (0,)
    client = client_for("director_a")
    assert client.get("/children/").status_code == 200
    read = AccessEvent.objects.filter(user=user("director_a"), action=AccessEvent.Action.LIST)
    child = Child.objects.get(pk=read.latest("id").child_id)
    with pytest.raises(ProtectedError):
        child.delete()
    with pytest.raises(ProtectedError):
        user("director_a").delete()
