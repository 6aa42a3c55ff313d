"""The dashboards' indicators in the API (issue 14): the figures the dashboard page shows, from
the same snapshot, for the caller's jurisdiction and the regions inside it; 404 outside it and
for users without a dashboard; a province being prepared answers 202; a fixed number of queries."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Child
from dashboards.snapshots import snapshot_key
from institutions.models import Agency
from institutions.roles import Role
from tests.demo import COUNTY, DEMO_PASSWORD, FAR_VILLAGE, PROVINCE, TOWNSHIP_A, TOWNSHIP_B
from tests.factories import ChildFactory, UserFactory, VisitFactory, agency

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def live_dashboards(settings):
    """Figures computed in each request and nothing kept, unless a test turns snapshots on."""
    settings.DASHBOARD_FRESH_SECONDS = 0


@pytest.fixture
def snapshots_on(settings):
    """Snapshots as in production, under a version of this test's own."""
    settings.DASHBOARD_FRESH_SECONDS = 900
    settings.DASHBOARD_SNAPSHOT_VERSION = f"test-{uuid.uuid4().hex}"


def supervisor_of(code: str) -> Client:
    who = UserFactory(
        role=Role.AGENCY_SUPERVISOR,
        agency=agency(Agency.Kind.CIVIL_AFFAIRS),
        jurisdiction=[code],
        is_demo=True,
    )
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": who.username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    return client


def region_url(code: str, months: int = 12) -> str:
    return f"/api/v1/dashboards/{code}/?months={months}"


def indicator(body: dict[str, Any], key: str) -> dict[str, Any]:
    return next(i for g in body["groups"] for i in g["indicators"] if i["key"] == key)


def value(row: dict[str, Any], column: str) -> Any:
    return next(cell["value"] for cell in row["cells"] if cell["column"] == column)


def active_children(code: str) -> int:
    return Child.objects.filter(
        status=Child.Status.ACTIVE, residence_region__pk__startswith=code
    ).count()


def page_registered_total(client: Client, code: str) -> int:
    page = client.get(f"/dashboards/?region={code}&months=12").content.decode()
    found = re.search(r'data-testid="total-registered">.*?<td[^>]*>(?:<a[^>]*>)?(\d+)', page, re.S)
    assert found, "no registered total on the page"
    return int(found.group(1))


def test_the_index_lists_the_jurisdiction_and_the_agencys_groups_first(login):
    body = login("county_edu").get("/api/v1/dashboards/").json()
    assert body["regions"] == [{"code": COUNTY, "name": "演示县"}]
    assert body["first_groups"] == ["screening", "risk"]
    assert [g["key"] for g in body["groups"]][:2] == ["screening", "risk"]
    assert body["periods"] == [1, 3, 6, 12]


def test_a_user_without_a_dashboard_gets_404(login):
    client = login("director_a")
    assert client.get("/api/v1/dashboards/").status_code == 404
    response = client.get(region_url(COUNTY))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_region_shows_the_figures_of_the_page(login):
    client = login("county_civil")
    response = client.get(region_url(COUNTY))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["region"] == {"code": COUNTY, "name": "演示县"} and body["months"] == 12
    assert [g["key"] for g in body["groups"] if g["first"]] == ["children", "visits", "risk"]

    registered = indicator(body, "registered")
    total = value(registered["total"], "children")
    assert total == active_children(COUNTY) == page_registered_total(client, COUNTY) > 0
    # The rows (each township, and the children registered at the county itself) add up.
    assert sum(value(row, "children") for row in registered["rows"]) == total
    assert {row["code"] for row in registered["rows"] if not row["direct"]} >= {
        TOWNSHIP_A,
        TOWNSHIP_B,
    }
    # The breakdown counts the same children; the tasks name their kinds.
    assert sum(item["count"] for item in body["breakdown"]["sex"]) == total
    assert len(body["trends"]["months"]) == 12
    assert all(row["label"] for row in body["tasks"]["by_kind"])


def test_a_figure_leads_to_the_children_behind_it_and_to_the_lower_region(login):
    client = login("county_civil")
    body = client.get(region_url(COUNTY)).json()
    row = next(r for r in indicator(body, "registered")["rows"] if r["code"] == TOWNSHIP_A)
    cell = row["cells"][0]
    children = client.get(f"{cell['children_url']}&page_size=100")
    assert children.status_code == 200
    listed = children.json()["results"]
    assert len(listed) == cell["value"]
    assert all(c["residence_region"].startswith(TOWNSHIP_A) for c in listed)

    lower = client.get(row["dashboard_url"])
    assert lower.status_code == 200
    lower_body = lower.json()
    assert lower_body["region"]["code"] == TOWNSHIP_A
    assert lower_body["trail"] == [{"code": COUNTY, "name": "演示县"}]
    assert value(indicator(lower_body, "registered")["total"], "children") == cell["value"]


def test_a_region_outside_the_jurisdiction_is_404_and_a_bad_period_400(login, snapshots_on):
    client = login("supervisor_town")
    for code in (TOWNSHIP_B, FAR_VILLAGE, COUNTY, "990101009", "nowhere"):
        response = client.get(region_url(code))
        assert response.status_code == 404, code
        assert cache.get(snapshot_key(code, 12, timezone.localdate())) is None
    response = client.get(region_url(TOWNSHIP_A, months=5))
    assert response.status_code == 400
    assert "months" in response.json()["fields"]
    assert client.get(region_url(TOWNSHIP_A, months=3)).status_code == 200


def test_the_api_and_the_page_are_drawn_from_the_same_snapshot(login, snapshots_on):
    client = login("county_civil")
    assert client.get(region_url(COUNTY)).status_code == 200  # computed and kept
    key = snapshot_key(COUNTY, 12, timezone.localdate())
    data = cache.get(key)
    data["indicators"]["registered"]["total"]["children"] = 4242
    cache.set(key, data, 600)
    body = client.get(region_url(COUNTY)).json()
    assert value(indicator(body, "registered")["total"], "children") == 4242
    assert page_registered_total(client, COUNTY) == 4242
    assert body["as_of"]


def test_a_province_being_prepared_answers_202_and_queues_one_job(
    snapshots_on, django_capture_on_commit_callbacks
):
    client = supervisor_of(PROVINCE)
    with django_capture_on_commit_callbacks() as queued:
        response = client.get(region_url(PROVINCE))
    assert response.status_code == 202
    assert response["Retry-After"]
    assert response.json()["status"] == "preparing"
    assert response.json()["region"]["code"] == PROVINCE
    assert len(queued) == 1
    with django_capture_on_commit_callbacks() as again:
        assert client.get(region_url(PROVINCE)).status_code == 202
    assert not again


def test_the_query_count_does_not_grow_with_the_children(login):
    client = login("county_civil")
    client.get(region_url(COUNTY))  # the session and the permissions, out of the counts

    def counted() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(region_url(COUNTY)).status_code == 200
        return len(captured.captured_queries)

    before = counted()
    for _ in range(5):
        VisitFactory(child=ChildFactory(region=FAR_VILLAGE))
    assert counted() == before
