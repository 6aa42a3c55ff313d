"""Dashboard snapshots (issue 13): a county's figures computed on a miss and then served from the
cache; a province's prepared by a background job while the page says so; a stale snapshot served
while one refresh is queued; additive totals summed from their rows; and 404 outside the
jurisdiction with nothing cached. Figures are compared with the demo world's, computed live."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Child
from config.celery import app
from dashboards.indicators import Context, indicators
from dashboards.selectors import indicator_figures
from dashboards.snapshots import build_snapshot, refresh_lock_key, snapshot_key
from dashboards.tasks import refresh_snapshot
from institutions.models import Agency
from institutions.roles import Role
from tests.demo import CITY, COUNTY, DEMO_PASSWORD, PROVINCE, TOWNSHIP_A
from tests.factories import UserFactory, agency

pytestmark = pytest.mark.django_db

POLL = {"HX-Request": "true", "HX-Target": "dashboard-preparing"}
FIGURE_TABLES = ('"cases_child"', '"followups_task"', '"referrals_referral"')


@pytest.fixture(autouse=True)
def snapshots_on(live_dashboards, settings):
    """Snapshots as in production, under a version of their own: nothing this test keeps is
    seen by another, nor anything another kept."""
    settings.DASHBOARD_FRESH_SECONDS = 900
    settings.DASHBOARD_SNAPSHOT_VERSION = f"test-{uuid.uuid4().hex}"


def supervisor_of(code: str) -> Client:
    user = UserFactory(
        role=Role.AGENCY_SUPERVISOR,
        agency=agency(Agency.Kind.CIVIL_AFFAIRS),
        jurisdiction=[code],
        is_demo=True,
    )
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    return client


def url(code: str) -> str:
    return f"/dashboards/?region={code}&months=12"


def active_children(code: str) -> int:
    return Child.objects.filter(
        status=Child.Status.ACTIVE, residence_region__pk__startswith=code
    ).count()


def registered_total(page: str) -> int:
    found = re.search(r'data-testid="total-registered">.*?<td[^>]*>(?:<a[^>]*>)?(\d+)', page, re.S)
    assert found, "no registered total on the page"
    return int(found.group(1))


def as_of(page: str) -> str:
    found = re.search(r'data-testid="as-of-time">([^<]+)<', page)
    assert found, "no time of the figures on the page"
    return found.group(1)


def figure_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in FIGURE_TABLES)]


def doctor(code: str, **changes) -> None:
    """Replace the kept snapshot of `code` (12 months, today) by one with a marker figure, or
    of another age. Like every snapshot the job builds, it has a time of its own (the page's
    figures drawn from a snapshot are kept under that time)."""
    key = snapshot_key(code, 12, timezone.localdate())
    data = cache.get(key)
    assert data is not None, "no snapshot kept"
    if "registered" in changes:
        data["indicators"]["registered"]["total"]["children"] = changes["registered"]
    data["computed_at"] = (timezone.now() - changes.get("age", timedelta())).isoformat()
    cache.set(key, data, 600)


def test_a_county_is_computed_on_a_miss_and_then_served_from_its_snapshot(
    django_capture_on_commit_callbacks,
):
    client = supervisor_of(COUNTY)
    client.get("/")  # the session and the permissions, out of the counts
    with (
        django_capture_on_commit_callbacks() as queued,
        CaptureQueriesContext(connection) as missed,
    ):
        first = client.get(url(COUNTY)).content.decode()
    assert not queued  # computed in the request: no job
    assert registered_total(first) == active_children(COUNTY) > 0
    assert figure_queries(missed)

    # Kept under a key naming the region, the period and the day only, as plain figures: no
    # names, no labels (the whole snapshot survives a JSON round trip).
    data = cache.get(snapshot_key(COUNTY, 12, timezone.localdate()))
    assert data["region"] == COUNTY and data["months"] == 12
    assert json.loads(json.dumps(data)) == data
    text = json.dumps(data, ensure_ascii=False)
    names = Child.objects.filter(residence_region__pk__startswith=COUNTY).values_list(
        "name", flat=True
    )
    assert not [name for name in names if name and name in text]
    assert all(set(row) == {"assignee_id", "open", "overdue"} for row in data["tasks"]["by_person"])

    with (
        django_capture_on_commit_callbacks() as queued,
        CaptureQueriesContext(connection) as hit,
    ):
        second = client.get(url(COUNTY)).content.decode()
    assert not queued
    assert not figure_queries(hit)
    assert len(hit) < len(missed) - len(indicators())
    assert as_of(second) == as_of(first)
    tables = re.compile(r"<table.*?</table>", re.S)
    assert tables.findall(second) == tables.findall(first)
    assert 'data-testid="refreshing"' not in second

    # The export is drawn from the same snapshot as the page.
    doctor(COUNTY, registered=4242)
    assert registered_total(client.get(url(COUNTY)).content.decode()) == 4242
    csv = client.get(f"/dashboards/export/?region={COUNTY}&months=12&fmt=csv").content.decode(
        "utf-8-sig"
    )
    assert f"{COUNTY},演示县,儿童,4242" in csv.replace("\r", "")


def test_a_province_is_prepared_by_one_background_job_while_the_page_polls(
    django_capture_on_commit_callbacks,
):
    client = supervisor_of(PROVINCE)
    with (
        django_capture_on_commit_callbacks() as queued,
        CaptureQueriesContext(connection) as queries,
    ):
        response = client.get(url(PROVINCE))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="dashboard-preparing"' in page and 'hx-trigger="every 3s"' in page
    assert 'data-testid="dashboard-region"' in page  # the region and its period picker
    assert not figure_queries(queries)  # answered at once: nothing computed
    assert len(queued) == 1
    assert cache.get(refresh_lock_key(PROVINCE, 12)) is not None

    # Polling, or opening the page again, queues nothing more while the job is pending.
    with django_capture_on_commit_callbacks() as again:
        poll = client.get(url(PROVINCE), headers=POLL)
        client.get(url(PROVINCE))
    assert not again
    assert poll.status_code == 200 and "HX-Refresh" not in poll
    assert 'id="dashboard-preparing"' in poll.content.decode()
    assert "<html" not in poll.content.decode()

    # The job (run here; test_the_job_goes_through_the_broker_to_a_worker sends it) keeps the
    # snapshot and lets another be queued.
    refresh_snapshot(PROVINCE, 12)
    assert cache.get(snapshot_key(PROVINCE, 12, timezone.localdate())) is not None
    assert cache.get(refresh_lock_key(PROVINCE, 12)) is None

    # The next poll reloads the page, which shows the figures.
    poll = client.get(url(PROVINCE), headers=POLL)
    assert poll["HX-Refresh"] == "true"
    with django_capture_on_commit_callbacks() as again:
        page = client.get(url(PROVINCE)).content.decode()
    assert not again
    assert 'data-testid="dashboard-preparing"' not in page
    assert registered_total(page) == active_children(PROVINCE) > 0
    assert 'data-testid="as-of-time"' in page


def queued_jobs() -> int:
    with app.connection_for_write() as conn:
        queue = conn.default_channel.queue_declare(app.conf.task_default_queue)
    return queue.message_count


@pytest.mark.django_db(transaction=True)
def test_the_job_goes_through_the_broker_to_a_worker(demo_world):
    app.control.purge()
    client = supervisor_of(PROVINCE)
    assert 'data-testid="dashboard-preparing"' in client.get(url(PROVINCE)).content.decode()
    client.get(url(PROVINCE), headers=POLL)
    client.get(url(PROVINCE))
    assert queued_jobs() == 1

    key = snapshot_key(PROVINCE, 12, timezone.localdate())
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        deadline = time.monotonic() + 60
        while cache.get(key) is None and time.monotonic() < deadline:
            time.sleep(0.2)
    assert cache.get(key) is not None, "the worker kept no snapshot"
    assert queued_jobs() == 0
    page = client.get(url(PROVINCE)).content.decode()
    assert registered_total(page) == active_children(PROVINCE) > 0


def test_a_city_on_a_miss_is_prepared_in_the_background_too(django_capture_on_commit_callbacks):
    client = supervisor_of(CITY)
    with django_capture_on_commit_callbacks() as queued:
        page = client.get(url(CITY)).content.decode()
    assert 'data-testid="dashboard-preparing"' in page and len(queued) == 1
    # The export of figures still being prepared leads to the page saying so.
    with django_capture_on_commit_callbacks() as again:
        export = client.get(f"/dashboards/export/?region={CITY}&months=12&fmt=csv")
    assert export.status_code == 302 and export["Location"] == url(CITY)
    assert not again

    refresh_snapshot(CITY, 12)  # the job, run in this process
    page = client.get(url(CITY)).content.decode()
    assert registered_total(page) == active_children(CITY)


def test_a_stale_snapshot_is_served_while_one_refresh_is_queued(
    django_capture_on_commit_callbacks,
):
    client = supervisor_of(PROVINCE)
    build_snapshot(PROVINCE, 12)
    doctor(PROVINCE, registered=4242, age=timedelta(hours=1))

    with django_capture_on_commit_callbacks() as queued:
        page = client.get(url(PROVINCE)).content.decode()
    assert registered_total(page) == 4242  # the kept figures, at once
    assert 'data-testid="refreshing"' in page
    assert len(queued) == 1
    with django_capture_on_commit_callbacks() as again:
        client.get(url(PROVINCE))
    assert not again  # one refresh for many requests

    refresh_snapshot(PROVINCE, 12)
    with django_capture_on_commit_callbacks() as after:
        page = client.get(url(PROVINCE)).content.decode()
    assert not after
    assert registered_total(page) == active_children(PROVINCE)
    assert 'data-testid="refreshing"' not in page


@pytest.mark.parametrize("code", [PROVINCE, CITY, COUNTY, TOWNSHIP_A])
def test_additive_totals_are_the_sums_of_their_rows_and_the_live_totals(code):
    ctx = Context(region=code, months=12, today=timezone.localdate())
    with CaptureQueriesContext(connection) as queries:
        figures = indicator_figures(ctx)
    assert len(queries) < 2 * len(indicators())  # one query, not two, for additive ones
    assert figures["registered"]["total"]["children"] == active_children(code) > 0
    for indicator in indicators():
        if not indicator.additive:
            continue
        rows = figures[indicator.key]["rows"]
        total = figures[indicator.key]["total"]
        live = indicator.compute(ctx, None).get("", {})
        for column in indicator.columns:
            summed = sum(row.get(column.key) or 0 for row in rows.values())
            assert total[column.key] == pytest.approx(summed), (indicator.key, column.key)
            assert total[column.key] == (live.get(column.key) or 0), (indicator.key, column.key)


def test_a_region_outside_the_jurisdiction_is_404_with_nothing_cached(
    django_capture_on_commit_callbacks,
):
    client = supervisor_of(COUNTY)
    today = timezone.localdate()
    with django_capture_on_commit_callbacks() as queued:
        for code in (PROVINCE, CITY, "990102"):
            assert client.get(url(code)).status_code == 404
            assert client.get(url(code), headers=POLL).status_code == 404
            export = client.get(f"/dashboards/export/?region={code}&months=12&fmt=xlsx")
            assert export.status_code == 404
    assert not queued
    for code in (PROVINCE, CITY, "990102"):
        assert cache.get(snapshot_key(code, 12, today)) is None
        assert cache.get(refresh_lock_key(code, 12)) is None
    assert client.get(url(COUNTY)).status_code == 200
