"""core.lists: the plumbing of the list pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.lists import url_for_each


@pytest.mark.parametrize("name", ["cases:child_detail", "cases:child_history"])
def test_a_rows_url_is_the_one_reverse_gives(name):
    url = url_for_each(name)
    for pk in (1, 7, 42, 2147483647, 10**12):
        assert url(pk) == reverse(name, args=[pk])
