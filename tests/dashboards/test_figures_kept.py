"""A dashboard's figures (every group's tables, the trends, the charts' data) drawn from a
snapshot once and kept: the next supervisor of the region gets the same tables without their
being drawn again, and anything the figures show that is not in the snapshot (the language, the
agency's order of the groups, the subregions' names, the people's names, a new snapshot) draws
them again."""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client

from institutions.models import Agency, Region
from institutions.roles import Role
from tests.dashboards.test_snapshots import doctor, registered_total, url
from tests.demo import DEMO_PASSWORD, TOWNSHIP_A, VILLAGE_A
from tests.factories import UserFactory, agency

pytestmark = pytest.mark.django_db

FIGURES = "dashboards/partials/figures.html"
TABLES = re.compile(r"<table.*?</table>", re.S)


@pytest.fixture(autouse=True)
def snapshots_on(live_dashboards, settings):
    """Snapshots as in production, under a version of this test's own."""
    settings.DASHBOARD_FRESH_SECONDS = 900
    settings.DASHBOARD_SNAPSHOT_VERSION = f"test-{uuid.uuid4().hex}"


def supervisor(kind: str = Agency.Kind.CIVIL_AFFAIRS, language: str = "en") -> Client:
    user = UserFactory(
        role=Role.AGENCY_SUPERVISOR, agency=agency(kind), jurisdiction=[TOWNSHIP_A], is_demo=True
    )
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    return client


def open_dashboard(client: Client) -> tuple[str, bool]:
    """The page, and whether its figures were drawn for it (not taken from the cache)."""
    response = client.get(url(TOWNSHIP_A))
    assert response.status_code == 200
    return response.content.decode(), FIGURES in [t.name for t in response.templates]


def test_the_next_supervisor_gets_the_same_figures_without_their_being_drawn_again():
    first, drawn = open_dashboard(supervisor())
    assert drawn
    second, drawn = open_dashboard(supervisor())
    assert not drawn
    assert TABLES.findall(second) == TABLES.findall(first) != []
    assert second.count('id="chart-data"') == 1 and second.count('id="trend-data"') == 1


def test_another_language_or_another_agency_gets_figures_of_its_own():
    english, _ = open_dashboard(supervisor())
    chinese, drawn = open_dashboard(supervisor(language="zh-hans"))
    assert drawn
    assert "Children registered" in english and "Children registered" not in chinese
    assert "已登记儿童" in chinese and "已登记儿童" not in english
    schools, drawn = open_dashboard(supervisor(Agency.Kind.EDUCATION))
    assert drawn

    def first_group(page: str) -> str:
        return re.search(r'<section class="mb-4" id="group-(\w+)"', page).group(1)

    assert first_group(english) == "children"
    assert first_group(schools) == "screening"
    assert open_dashboard(supervisor(Agency.Kind.EDUCATION))[1] is False


def test_a_renamed_village_or_a_new_snapshot_draws_the_figures_again():
    client = supervisor()
    open_dashboard(client)
    Region.objects.filter(code=VILLAGE_A).update(name="演示新村名")
    page, drawn = open_dashboard(client)
    assert drawn and "演示新村名" in page
    assert not open_dashboard(client)[1]
    doctor(TOWNSHIP_A, registered=4242)
    page, drawn = open_dashboard(client)
    assert drawn and registered_total(page) == 4242


def test_with_snapshots_off_the_figures_are_drawn_for_every_request(settings):
    settings.DASHBOARD_FRESH_SECONDS = 0
    client = supervisor()
    assert open_dashboard(client)[1]
    assert open_dashboard(client)[1]
