"""core.widgets.LongSelect: the same <select> as Django's, written in one template loop (the
lists of schools and institutions that grow with a province)."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.test.html import parse_html

from cases.filters import ChildFilter
from core.widgets import LongSelect
from institutions.models import Institution
from tests.demo import user
from tests.factories.institutions import InstitutionFactory, neighbouring_village

CHOICES = [
    ("", "---------"),
    ("Township A", [("1", "School <one> & two"), ("2", "第二小学")]),
    ("3", "Welfare home"),
]


@pytest.mark.parametrize("value", [None, "2", "3"])
def test_a_long_select_is_the_same_markup_as_djangos(value):
    attrs = {"class": "form-select", "id": "id_school", "aria-describedby": "help"}
    django_select = forms.Select(attrs=attrs, choices=CHOICES).render("school", value)
    long_select = LongSelect(attrs=attrs, choices=CHOICES)
    assert parse_html(long_select.render("school", value)) == parse_html(django_select)
    assert "School &lt;one&gt; &amp; two" in long_select.render("school", value)


@pytest.mark.django_db
def test_the_child_lists_school_filter_offers_the_schools_in_scope(login):
    """The filter's options as a user sees them: the schools of the user's area, the chosen one
    selected."""
    someone = user("county_civil")
    schools = list(ChildFilter(user=someone).filters["school"].queryset)
    assert schools
    page = login("county_civil").get("/children/", {"school": schools[0].pk})
    html = page.content.decode()
    for school in schools:
        assert f'<option value="{school.pk}"' in html
    assert f'<option value="{schools[0].pk}" selected>' in html


def _schools(n: int, prefix: str, **kwargs: object) -> list[Institution]:
    return [
        InstitutionFactory(
            name=f"{prefix}{i:02d}小学（演示）", kind=Institution.Kind.SCHOOL, **kwargs
        )
        for i in range(n)
    ]


def _options(html: str) -> list[str]:
    return re.findall(r'<option value="(\d*)"', html)


@pytest.mark.django_db
def test_past_thirty_schools_the_filter_is_searched_by_name_instead_of_listed(login):
    """A province's hundreds of schools are not written into every list page: the select holds
    the chosen one, and its search box finds the others by name, in the user's scope only."""
    many = _schools(31, "检索")
    far = _schools(1, "检索", region=neighbouring_village())[0]  # not county_civil's county
    client = login("county_civil")
    page = client.get("/children/", {"school": many[3].pk}).content.decode()
    assert "data-option-search" in page
    select = page[page.index('<select name="school"') :].split("</select>")[0]
    assert _options(select) == ["", str(many[3].pk)]  # the empty choice and the chosen one

    found = client.get(
        "/children/filter-options/school/", {"school_search": "检索1", "school": many[3].pk}
    )
    html = found.content.decode()
    assert html.startswith('<select name="school"') and "data-option-search" not in html
    expected = {str(s.pk) for s in many if "检索1" in s.name}
    assert set(_options(html)) == {"", str(many[3].pk)} | expected
    assert f'<option value="{many[3].pk}" selected>' in html
    everything = client.get("/children/filter-options/school/", {"school_search": "检索"})
    assert str(far.pk) not in _options(everything.content.decode())
    assert len(_options(everything.content.decode())) == 1 + 31
    assert client.get("/children/filter-options/nonsense/").status_code == 404
    assert client.get("/children/filter-options/school/", {"school": "x"}).status_code == 200


@pytest.mark.django_db
def test_a_short_list_of_schools_is_a_plain_select_and_the_page_costs_the_same_with_many(login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login("county_civil")
    with CaptureQueriesContext(connection) as few:
        page = client.get("/children/").content.decode()
    assert "data-option-search" not in page
    _schools(60, "满")
    with CaptureQueriesContext(connection) as lots:
        crowded = client.get("/children/").content.decode()
    assert "data-option-search" in crowded
    assert len(lots) == len(few)
    assert len(crowded) < len(page) + 1000  # not 60 more options


def test_the_filter_search_needs_a_signed_in_user(client):
    response = client.get("/children/filter-options/school/", {"school_search": "小学"})
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
