"""core.lists: the plumbing of the list pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.lists import choice_label, url_for_each


@pytest.mark.parametrize("name", ["cases:child_detail", "cases:child_history"])
def test_a_rows_url_is_the_one_reverse_gives(name):
    url = url_for_each(name)
    for pk in (1, 7, 42, 2147483647, 10**12):
        assert url(pk) == reverse(name, args=[pk])


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_rows_choice_label_is_the_one_django_shows(language):
    from django.utils.translation import override

    from cases.models import Child

    with override(language):
        for sex in Child.Sex.values:
            child = Child(sex=sex)
            assert choice_label(child, "sex") == child.get_sex_display()
        for level in (0, 1, 2, 3, 4):
            child = Child(risk_level=level)
            assert choice_label(child, "risk_level") == child.get_risk_level_display()
        unknown = Child(risk_level=99)
        assert choice_label(unknown, "risk_level") == unknown.get_risk_level_display() == 99


def test_a_kept_reverse_follows_the_script_prefix():
    from django.urls import set_script_prefix

    from core.lists import kept_reverse

    assert kept_reverse("cases:child_list") == reverse("cases:child_list")
    set_script_prefix("/county/")
    try:
        assert kept_reverse("cases:child_list") == reverse("cases:child_list")
        assert kept_reverse("cases:child_list").startswith("/county/")
        assert url_for_each("cases:child_detail")(5).startswith("/county/")
    finally:
        set_script_prefix("/")
    assert not kept_reverse("cases:child_list").startswith("/county/")
