"""The access matrix on the demo world: each role sees its children, and 404 for the others."""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.urls import reverse

from cases.models import Child, ChildAccessGrant
from cases.selectors.scope import children_visible_to
from cases.services.access import grant_open, grants_end
from core.models import AccessEvent
from institutions.roles import Level, Role
from institutions.services import membership_end
from tests.conftest import user
from tests.demo import (
    COUNTY,
    FAR_VILLAGE,
    MIDDLE_SCHOOL,
    ROLES_WITH_CHILDREN,
    ROLES_WITHOUT_CHILDREN,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A,
    VILLAGE_B,
    WELFARE,
)
from tests.factories import (
    ChildFactory,
    InstitutionFactory,
    UserFactory,
    neighbouring_village,
    region,
)

pytestmark = pytest.mark.django_db


def in_region(prefix: str) -> Q:
    return Q(residence_region__code__startswith=prefix) | Q(
        household_region__code__startswith=prefix
    )


def expected_ids(username: str) -> set[int]:
    """What each demo user should see, written from the demo data independently of the selector."""
    rows = Child.objects.all()
    if username == "director_a":
        rows = rows.filter(in_region(VILLAGE_A))
    elif username == "director_b":
        rows = rows.filter(in_region(VILLAGE_B))
    elif username == "supervisor_town":
        rows = rows.filter(in_region(TOWNSHIP_A))
    elif username == "social_worker":
        rows = rows.filter(in_region(TOWNSHIP_B))
    elif username == "counselor":
        rows = rows.filter(school__name=MIDDLE_SCHOOL)
    elif username == "welfare_staff":
        rows = rows.filter(residential_institution__name=WELFARE)
    elif username.startswith("county_"):
        rows = rows.filter(in_region(COUNTY))
    elif username in {"mentor", "volunteer"}:
        rows = rows.filter(care_team__user__username=username, care_team__is_active=True)
    else:
        rows = rows.none()
    return set(rows.values_list("id", flat=True))


@pytest.mark.parametrize("username", ROLES_WITH_CHILDREN + ROLES_WITHOUT_CHILDREN)
def test_each_role_sees_exactly_its_children(username):
    visible = set(children_visible_to(user(username)).values_list("id", flat=True))
    assert visible == expected_ids(username)
    if username in ROLES_WITH_CHILDREN:
        assert visible, f"{username} should see some demo children"


def test_director_a_sees_only_children_of_their_village():
    visible = children_visible_to(user("director_a"))
    assert visible.count() >= 20
    for child in visible:
        assert VILLAGE_A in (child.residence_region_id, child.household_region_id)


def test_county_civil_sees_every_child_of_the_county(neighbouring_county_child):
    visible = children_visible_to(user("county_civil"))
    assert visible.count() == Child.objects.filter(in_region(COUNTY)).count() == 200
    assert not visible.filter(pk=neighbouring_county_child.pk).exists()


@pytest.fixture
def neighbouring_county_child() -> Child:
    """A child in another county, outside every demo user's scope."""
    return ChildFactory(region=neighbouring_village().code, name="邻县孩子")


@pytest.mark.parametrize("username", ROLES_WITH_CHILDREN)
def test_in_scope_file_opens_and_out_of_scope_is_404_in_page_and_api(
    username, login, neighbouring_county_child
):
    client = login(username)
    inside = Child.objects.filter(id__in=expected_ids(username)).order_by("id").first()
    outside = Child.objects.exclude(id__in=expected_ids(username)).order_by("id").first()
    assert inside is not None and outside is not None

    assert client.get(reverse("cases:child_detail", args=[inside.pk])).status_code == 200
    assert client.get(f"/api/v1/children/{inside.pk}/").status_code == 200
    page = client.get(reverse("cases:child_detail", args=[outside.pk]))
    api = client.get(f"/api/v1/children/{outside.pk}/")
    assert page.status_code == 404
    assert api.status_code == 404
    # Out of scope and missing are indistinguishable.
    missing = client.get(f"/api/v1/children/{Child.objects.order_by('-id')[0].pk + 1000}/")
    assert missing.status_code == 404
    assert api.json() == missing.json()


@pytest.mark.parametrize("username", ROLES_WITHOUT_CHILDREN)
def test_roles_without_children_get_404_for_any_file(username, login):
    client = login(username)
    child = Child.objects.order_by("id").first()
    assert client.get(reverse("cases:child_detail", args=[child.pk])).status_code in (403, 404)
    assert client.get(f"/api/v1/children/{child.pk}/").status_code in (403, 404)


def test_list_page_and_api_show_only_scope(login):
    client = login("director_a")
    ids = expected_ids("director_a")
    api = client.get("/api/v1/children/?page_size=100").json()
    assert {row["id"] for row in api["results"]} == ids
    assert api["next"] is None  # all of them on one page of 100
    page = client.get(reverse("cases:child_list") + "?page=1")
    for child in Child.objects.exclude(id__in=ids)[:20]:
        assert reverse("cases:child_detail", args=[child.pk]).encode() not in page.content


def test_explicit_grant_widens_one_users_scope_to_one_child(login):
    director = user("director_a")
    far_child = Child.objects.filter(residence_region_id=FAR_VILLAGE).order_by("id")[0]
    other_far_child = Child.objects.filter(residence_region_id=FAR_VILLAGE).order_by("id")[1]
    client = login("director_a")
    url = f"/api/v1/children/{far_child.pk}/"
    assert client.get(url).status_code == 404

    grant_open(
        child=far_child,
        user=director,
        level=Level.READ,
        source=ChildAccessGrant.Source.SHARE,
        by=user("supervisor_town"),
    )
    assert client.get(url).status_code == 200
    assert client.get(reverse("cases:child_detail", args=[far_child.pk])).status_code == 200
    assert client.get(f"/api/v1/children/{other_far_child.pk}/").status_code == 404
    # Only that user: director_b still cannot see the child.
    assert login("director_b").get(url).status_code == 404

    grants_end(source=ChildAccessGrant.Source.SHARE, source_id=None, user=director)
    assert client.get(url).status_code == 404


def test_ended_membership_takes_the_scope_away(login):
    counselor = user("counselor")
    pupil = Child.objects.filter(school__name=MIDDLE_SCHOOL).order_by("id")[0]
    client = login("counselor")
    assert client.get(f"/api/v1/children/{pupil.pk}/").status_code == 200
    membership_end(membership=counselor.memberships.get(is_active=True))
    assert client.get(f"/api/v1/children/{pupil.pk}/").status_code in (403, 404)


def test_a_counsellor_of_another_school_does_not_see_these_pupils():
    other_school = InstitutionFactory(name="另一所演示中学", region=region(TOWNSHIP_B))
    outsider = UserFactory(role=Role.SCHOOL_COUNSELLOR, institution=other_school)
    assert children_visible_to(outsider).count() == 0


def test_file_views_are_logged_with_who_what_and_where(login):
    client = login("director_a")
    child = Child.objects.filter(id__in=expected_ids("director_a")).order_by("id")[0]
    before = AccessEvent.objects.count()
    client.get(reverse("cases:child_detail", args=[child.pk]), REMOTE_ADDR="10.1.2.3")
    client.get(f"/api/v1/children/{child.pk}/")
    events = list(AccessEvent.objects.order_by("-id")[:2])
    assert AccessEvent.objects.count() == before + 2
    assert {e.action for e in events} == {AccessEvent.Action.VIEW, AccessEvent.Action.API_VIEW}
    assert all(e.user.username == "director_a" and e.child_id == child.pk for e in events)
    assert "10.1.2.3" in {e.ip_address for e in events}


def test_out_of_scope_attempts_are_not_logged_as_reads(login):
    client = login("director_a")
    outside = Child.objects.exclude(id__in=expected_ids("director_a")).order_by("id")[0]
    client.get(reverse("cases:child_detail", args=[outside.pk]))
    assert not AccessEvent.objects.filter(child=outside, user__username="director_a").exists()
