"""The child list's filter form is kept per user, principal, language and filters
(cases.views.children._filters_key): a repeat visit does not build its pickers again, and
anything that changes them (a new school in the area) shows on the very next request.

These tests commit (transactional database): inside a transaction nothing is kept."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from institutions.models import Institution
from tests.conftest import client_for
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.usefixtures("demo_world")


def page(client, url: str = "/children/") -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in captured.captured_queries]


def form_of(html: str) -> str:
    return re.search(r'<form method="get" role="search".*?</form>', html, re.S).group(0)


def picks_institutions(sql: list[str]) -> bool:
    return any('FROM "institutions_institution"' in q for q in sql)


def test_a_repeat_visit_shows_the_same_form_without_building_its_pickers():
    client = client_for("county_civil")
    first, first_sql = page(client)
    second, second_sql = page(client)
    assert picks_institutions(first_sql) and not picks_institutions(second_sql)
    assert form_of(second) == form_of(first)
    # Other filters, another form: what was asked for is shown.
    chosen, _sql = page(client, "/children/?sex=F")
    assert 'value="F" checked' in form_of(chosen)
    assert 'value="F" checked' not in form_of(second)


def test_a_new_school_in_the_area_is_offered_on_the_next_request():
    client = client_for("county_civil")
    page(client)
    kept, _sql = page(client)
    county = Institution.objects.filter(kind=Institution.Kind.SCHOOL).first().region_id
    school = InstitutionFactory(
        name="新开的样例学校", kind=Institution.Kind.SCHOOL, region_id=county
    )
    html, sql = page(client)
    assert "新开的样例学校" not in kept
    assert picks_institutions(sql)
    assert f'<option value="{school.pk}"' in form_of(html)


def test_each_user_and_language_has_its_own_form():
    county, counsellor = client_for("county_civil"), client_for("counselor")
    for client in (county, counsellor):
        page(client)
    county_form, counsellor_form = form_of(page(county)[0]), form_of(page(counsellor)[0])
    assert county_form != counsellor_form
    county.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = form_of(page(county)[0])
    assert "Filters and sorting" in english and "Filters and sorting" not in county_form
