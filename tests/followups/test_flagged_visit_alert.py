"""Issue 10, item 2 (flagged visit): a flagged visit raises the child's "flagged visit" alert
through the same mechanism as results: one open alert per child and cause, later flagged visits
attach to it, it holds the child's risk until a responsible person closes it with an outcome,
and the visitor is not told of their own visit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Alert
from cases.models import Child, RiskLevel
from cases.services.care import care_team_add
from cases.services.risk import child_refresh_risk
from core.models import Notification
from followups.models import Visit
from followups.selectors import alert_visits
from followups.services import visit_record
from tests.conftest import user
from tests.demo import VILLAGE_A

pytestmark = pytest.mark.django_db

LONG_AGO = 200  # days: longer than any time-limited risk from a visit ever was


def village_a_child() -> Child:
    return Child.objects.filter(residence_region_id=VILLAGE_A, risk_level=RiskLevel.NONE).order_by(
        "id"
    )[0]


def flag(child: Child, *, days_ago: int = 0, concern: str = "self_harm_talk") -> Visit:
    return visit_record(
        child=child,
        data={
            "kind": "home_visit",
            "visited_on": timezone.localdate() - timedelta(days=days_ago),
            "concerns": [concern],
        },
        by=user("director_a"),
    )


def risk_of(child: Child) -> int:
    child.refresh_from_db()
    return child.risk_level


def test_a_flagged_visit_raises_one_alert_of_cause_flagged_visit(login):
    child = village_a_child()
    visit = flag(child)
    alert = Alert.objects.get(child=child)
    assert alert.reason == Alert.Reason.FLAGGED_VISIT
    assert alert.risk_level == RiskLevel.HIGH and alert.acknowledged_at is None
    assert list(alert_visits(alert=alert)) == [visit]
    page = login("supervisor_town").get(reverse("assessments:alert_detail", args=[alert.pk]))
    assert reverse("followups:visit_detail", args=[visit.pk]) in page.content.decode()


def test_a_second_flagged_visit_attaches_to_the_open_alert(login):
    child = village_a_child()
    first = flag(child)
    second = flag(child, concern="rights_violated")
    alert = Alert.objects.get(child=child)
    assert list(alert_visits(alert=alert)) == [first, second]
    page = login("supervisor_town").get(reverse("assessments:alert_detail", args=[alert.pk]))
    html = page.content.decode()
    for visit in (first, second):
        assert reverse("followups:visit_detail", args=[visit.pk]) in html
    # The supervisor still reviews each visit; the alert is closed separately.
    assert login("supervisor_town").post(
        reverse("followups:visit_detail", args=[second.pk]), {"note": "已家访核实"}
    ).status_code in (200, 302)
    second.refresh_from_db()
    assert second.reviewed_by.username == "supervisor_town"
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None


def test_the_risk_stays_high_until_the_alert_is_closed_with_an_outcome(login):
    child = village_a_child()
    flag(child, days_ago=LONG_AGO)
    assert risk_of(child) == RiskLevel.HIGH
    child_refresh_risk(child=child)  # as any later change of the child's risk does
    assert risk_of(child) == RiskLevel.HIGH
    alert = Alert.objects.get(child=child)
    url = reverse("assessments:alert_detail", args=[alert.pk])
    supervisor = login("supervisor_town")
    refused = supervisor.post(url, {"note": "", "outcome": ""})
    assert refused.status_code == 400 and risk_of(child) == RiskLevel.HIGH
    supervisor.post(url, {"note": "已与监护人沟通", "outcome": Alert.Outcome.GUARDIAN_INFORMED})
    alert.refresh_from_db()
    assert alert.acknowledged_by.username == "supervisor_town"
    assert risk_of(child) == RiskLevel.NONE
    # A new flagged visit after the closing raises a new alert.
    flag(child)
    assert Alert.objects.filter(child=child, acknowledged_at__isnull=True).count() == 1
    assert risk_of(child) == RiskLevel.HIGH


def test_the_visitor_is_not_notified_of_their_own_visit():
    child = village_a_child()
    care_team_add(child=child, team_role="mentor", user=user("mentor"), by=user("director_a"))
    flag(child)
    flag(child, concern="abnormal_behaviour")
    told = list(Notification.objects.filter(child=child).values_list("recipient__username", "kind"))
    assert ("supervisor_town", "alert") in told and ("mentor", "alert") in told
    assert "director_a" not in {who for who, _ in told}
    # The second visit tells the reviewers of visits once more, not everyone again.
    assert ("supervisor_town", "flagged_visit") in told
    assert sum(1 for who, kind in told if who == "supervisor_town" and kind == "alert") == 1
