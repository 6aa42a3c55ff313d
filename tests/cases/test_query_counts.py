"""The children list and the file page run a fixed number of queries at 10 and at 100 children."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Child, ChildAccessGrant
from cases.services.access import grant_open
from institutions.models import User
from institutions.roles import Level, Role
from tests.demo import user
from tests.factories import (
    CarePlanFactory,
    CareTeamMemberFactory,
    ConsentFactory,
    GuardianFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def volunteer_seeing(n: int) -> User:
    """A volunteer who sees exactly n children, through explicit grants."""
    volunteer = UserFactory(role=Role.VOLUNTEER)
    for child in Child.objects.order_by("id")[:n]:
        grant_open(
            child=child, user=volunteer, level=Level.READ, source=ChildAccessGrant.Source.SHARE
        )
    return volunteer


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def enrich(child: Child, count: int) -> None:
    """Give a child `count` guardians, consents, team members and plans (each new plan
    completes the one before, so one is active)."""
    author = user("director_a")
    for _i in range(count):
        guardian = GuardianFactory(child=child, relation="relative", by=author)
        ConsentFactory(child=child, guardian=guardian, by=author)
        CareTeamMemberFactory(child=child, peer=True, by=author)
        CarePlanFactory(child=child, by=author)


def test_list_query_count_is_the_same_for_10_and_100_children(client):
    few, many = volunteer_seeing(10), volunteer_seeing(100)
    counts = []
    for who in (few, many):
        client.force_login(who)
        counts.append(queries(client, "/children/?page_size=100"))
        counts.append(queries(client, "/children/?sort=name&status=active"))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_file_page_query_count_is_the_same_at_10_and_100_children_and_with_more_records(client):
    few, many = volunteer_seeing(10), volunteer_seeing(100)
    small, rich = Child.objects.order_by("id")[:2]
    enrich(small, 1)
    enrich(rich, 5)
    counts = []
    for who in (few, many):
        client.force_login(who)
        counts.append(queries(client, reverse("cases:child_detail", args=[small.pk])))
        counts.append(queries(client, reverse("cases:child_detail", args=[rich.pk])))
    assert len(set(counts)) == 1, counts


@pytest.mark.parametrize(
    "username,url",
    [
        ("county_civil", "/children/"),
        ("director_a", "/children/?risk=3&risk=4"),
        ("supervisor_town", "/tasks/"),
        ("county_civil", "/referrals/"),
    ],
)
def test_a_lists_count_neither_sorts_nor_computes_its_columns(username, url, login):
    """A list's count asks for the number of rows only: no ORDER BY and no column subqueries
    (at a million children the sort alone cost 250 ms)."""
    with CaptureQueriesContext(connection) as captured:
        assert login(username).get(url).status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert counts, "the list counts its rows"
    for sql in counts:
        assert "ORDER BY" not in sql
        assert "EXISTS" not in sql.split("WHERE")[0]
