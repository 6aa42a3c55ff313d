"""Visits: logging with defaults, validation, scope, flags that raise risk and notify,
the supervisor's review and the timeline (the work list: test_worklist.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Child, RiskLevel
from cases.services.care import care_team_add
from core.models import Notification
from followups.models import Visit
from followups.services import visit_record
from tests.conftest import user
from tests.demo import FAR_VILLAGE, MIDDLE_SCHOOL, VILLAGE_A, VILLAGE_B
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db


def village_a_child() -> Child:
    return Child.objects.filter(residence_region_id=VILLAGE_A, risk_level=RiskLevel.NONE).order_by(
        "id"
    )[0]


def visit_url(child: Child) -> str:
    return reverse("followups:visit_create", args=[child.pk])


def test_a_routine_visit_saves_with_the_defaults_alone(login):
    child = village_a_child()
    client = login("director_a")
    form = client.get(visit_url(child)).context["form"]
    data = {
        "kind": form.initial["kind"],
        "visited_on": form.initial["visited_on"].isoformat(),
        "present": form.initial["present"],
        "mood": form.initial["mood"],
        "next_step": form.initial["next_step"],
    }
    response = client.post(visit_url(child), data)
    assert response.status_code == 302
    visit = Visit.objects.get(child=child)
    assert visit.kind == "home_visit" and visit.visitor.username == "director_a"
    assert visit.visited_on == timezone.localdate() and not visit.flagged
    assert set(visit.present) == {"child", "guardian"}
    page = client.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
    assert reverse("followups:visit_detail", args=[visit.pk]) in page  # on the timeline


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"visited_on": (timezone.localdate() + timedelta(days=1)).isoformat()}, "visited_on"),
        ({"guardian_informed": "on", "guardian_informed_note": ""}, "guardian_informed_note"),
        ({"concerns": ["not_a_concern"]}, "concerns"),
    ],
)
def test_bad_visits_are_refused_on_the_field_and_nothing_saved(login, data, field):
    child = village_a_child()
    payload = {
        "kind": "home_visit",
        "visited_on": timezone.localdate().isoformat(),
        "mood": "calm",
        "next_step": "routine",
        **data,
    }
    response = login("director_a").post(visit_url(child), payload)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Visit.objects.filter(child=child).exists()


def test_a_visit_for_a_child_out_of_scope_is_404(login):
    outside = Child.objects.filter(residence_region_id=FAR_VILLAGE).order_by("id")[0]
    client = login("director_a")
    assert client.get(visit_url(outside)).status_code == 404
    response = client.post(
        visit_url(outside),
        {
            "kind": "home_visit",
            "mood": "calm",
            "visited_on": timezone.localdate().isoformat(),
            "next_step": "routine",
        },
    )
    assert response.status_code == 404
    assert not Visit.objects.filter(child=outside).exists()


def test_roles_without_the_permission_cannot_log_visits(login):
    child = village_a_child()
    assert login("county_civil").get(visit_url(child)).status_code == 403


def test_a_flagged_visit_raises_risk_notifies_and_asks_about_a_referral(login):
    child = village_a_child()
    care_team_add(child=child, team_role="mentor", user=user("mentor"), by=user("director_a"))
    client = login("director_a")
    response = client.post(
        visit_url(child),
        {
            "kind": "talk",
            "visited_on": timezone.localdate().isoformat(),
            "present": ["child"],
            "concerns": ["self_harm_talk", "academic_pressure"],
            "mood": "distressed",
            "next_step": "refer",
            "note": "孩子说不想活了",
        },
    )
    visit = Visit.objects.get(child=child)
    assert visit.flagged
    assert response["Location"] == reverse("followups:visit_detail", args=[visit.pk])
    child.refresh_from_db()
    assert child.risk_level == RiskLevel.HIGH
    told = set(
        Notification.objects.filter(kind="alert", child=child).values_list(
            "recipient__username", flat=True
        )
    )
    assert {"supervisor_town", "mentor"} <= told
    assert "director_a" not in told
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="flagged"' in page and 'data-testid="refer-prompt"' in page


def test_the_supervisor_reviews_a_flagged_visit_with_a_note(login):
    child = village_a_child()
    visit = visit_record(
        child=child,
        data={
            "kind": "home_visit",
            "visited_on": timezone.localdate(),
            "concerns": ["rights_violated"],
        },
        by=user("director_a"),
    )
    supervisor = login("supervisor_town")
    home = supervisor.get("/").content.decode()
    assert 'data-testid="flagged-visits"' in home and child.name in home
    url = reverse("followups:visit_detail", args=[visit.pk])
    empty = supervisor.post(url, {"note": ""})
    assert "note" in empty.context["form"].errors
    assert login("director_a").post(url, {"note": "x"}).status_code == 403
    supervisor.post(url, {"note": "已联系派出所和学校"})
    visit.refresh_from_db()
    assert (
        visit.reviewed_by.username == "supervisor_town"
        and visit.review_note == "已联系派出所和学校"
    )
    home = supervisor.get("/").content.decode()
    flagged = home.split('data-testid="flagged-visits"')[1:]
    assert not flagged or child.name not in flagged[0].split("</section>")[0]


def test_the_home_page_query_count_does_not_grow_with_the_work_list(login):
    client = login("director_b")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured.captured_queries)

    before = count()
    ChildFactory.create_batch(30, region=VILLAGE_B, birth_date=date(2014, 1, 1))
    assert count() == before


def test_a_confidential_note_is_hidden_from_roles_without_the_right(login):
    child = Child.objects.filter(school__name=MIDDLE_SCHOOL, residence_region_id=VILLAGE_A)[0]
    visit = visit_record(
        child=child,
        data={
            "kind": "home_visit",
            "visited_on": timezone.localdate(),
            "note": "家庭暴力线索",
            "note_confidential": True,
        },
        by=user("counselor"),
    )
    url = reverse("followups:visit_detail", args=[visit.pk])
    assert "家庭暴力线索" in login("counselor").get(url).content.decode()
    assert "家庭暴力线索" not in login("director_a").get(url).content.decode()
