"""The hand-over form finds the new residence by name (issue 16: no typed codes): a search
offers the villages and townships of that name anywhere, the first one chosen, and the form
hands the child over to the one picked."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Child
from tests.demo import VILLAGE_A, VILLAGE_B, user
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db


def test_the_new_residence_is_found_by_name_and_the_child_handed_over(login):
    child = ChildFactory(region=VILLAGE_A, by=user("director_a"))
    client = login("director_a")
    form = client.get(reverse("cases:child_handover", args=[child.pk])).content.decode()
    assert 'data-testid="handover-search"' in form and 'name="to_region"' in form
    found = client.get(
        reverse("cases:handover_region_search", args=[child.pk]), {"region_search": "河口"}
    )
    html = found.content.decode()
    assert found.status_code == 200
    assert f'value="{VILLAGE_B}" selected' in html and "河口村" in html
    done = client.post(
        reverse("cases:child_handover", args=[child.pk]),
        {"to_region": VILLAGE_B, "reason": "测试：随父母迁居", "version": child.version},
    )
    assert done.status_code == 302
    assert Child.objects.get(pk=child.pk).residence_region_id == VILLAGE_B


def test_the_search_is_the_hand_over_permissions_own(login, child_out_of_scope_of):
    child = child_out_of_scope_of("director_a")
    url = reverse("cases:handover_region_search", args=[child.pk])
    assert login("director_a").get(url, {"region_search": "河口"}).status_code == 404
