"""core.widgets.LongSelect: the same <select> as Django's, written in one template loop (the
lists of schools and institutions that grow with a province)."""

from __future__ import annotations

import pytest
from django import forms
from django.test.html import parse_html

from cases.filters import ChildFilter
from core.widgets import LongSelect
from tests.demo import user

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
