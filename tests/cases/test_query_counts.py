"""The children list and the file page run a fixed number of queries at 10 and at 100 children."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import CarePlan, CareTeamMember, Child, ChildAccessGrant, Consent, Guardian
from cases.services.access import grant_open
from institutions.models import Agency, User
from institutions.roles import Level, Role
from institutions.services import membership_grant
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def volunteer_seeing(n: int, name: str) -> User:
    """A volunteer who sees exactly n children, through explicit grants."""
    volunteer = User.objects.create_user(name, password=DEMO_PASSWORD)
    membership_grant(
        user=volunteer,
        role=Role.VOLUNTEER,
        agency=Agency.objects.get(kind=Agency.Kind.YOUTH_LEAGUE),
    )
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
    """Give a child `count` guardians, consents, team members and plans (one active)."""
    author = User.objects.get(username="director_a")
    for i in range(count):
        guardian = Guardian.objects.create(child=child, name=f"监护人{i}", relation="relative")
        Consent.objects.create(
            child=child,
            purpose="assessment",
            guardian=guardian,
            given_on="2026-01-01",
            recorded_by=author,
        )
        CareTeamMember.objects.create(child=child, team_role="peer_partner", peer_name=f"伙伴{i}")
        CarePlan.objects.create(
            child=child,
            classification="general",
            goals="g",
            interventions=["comfort"],
            owner=author,
            created_by=author,
            start_date="2026-01-01",
            review_date="2026-02-01",
            status="active" if i == 0 else "completed",
        )


def test_list_query_count_is_the_same_for_10_and_100_children(client):
    few, many = volunteer_seeing(10, "sees_ten"), volunteer_seeing(100, "sees_hundred")
    counts = []
    for who in (few, many):
        client.force_login(who)
        counts.append(queries(client, "/children/?page_size=100"))
        counts.append(queries(client, "/children/?sort=name&status=active"))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_file_page_query_count_is_the_same_at_10_and_100_children_and_with_more_records(client):
    few, many = volunteer_seeing(10, "sees_ten"), volunteer_seeing(100, "sees_hundred")
    small, rich = Child.objects.order_by("id")[:2]
    enrich(small, 1)
    enrich(rich, 5)
    counts = []
    for who in (few, many):
        client.force_login(who)
        counts.append(queries(client, reverse("cases:child_detail", args=[small.pk])))
        counts.append(queries(client, reverse("cases:child_detail", args=[rich.pk])))
    assert len(set(counts)) == 1, counts
