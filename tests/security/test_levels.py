"""Levels in the apps that record work on a child (issue 9, "What to build" 1 and 2): a
read-only tie (an approved access request) opens a child's results, visits and referrals but
records nothing; a care-team place (contribute) records a visit but manages nothing. The
activity page logs the children it names (reproduction 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Alert, Assessment, Instrument
from cases.models import Child, ChildAccessGrant, Consent
from cases.services.access import grant_open
from core.models import AccessEvent
from followups.activities import Attendee, activity_record
from followups.models import Visit
from institutions.roles import Level
from referrals.models import Referral
from tests.conftest import user
from tests.demo import VILLAGE_A
from tests.factories import ConsentFactory, region
from tests.referrals import pupil, sent

pytestmark = pytest.mark.django_db

# director_b works in another township: a pupil of 青石镇 is hers only through the share.
READER = "director_b"

MANAGE_PAGES = [
    "cases:child_edit",
    "cases:child_close",
    "cases:child_handover",
    "cases:guardian_add",
    "cases:care_team_add",
]


def shared(child: Child, username: str = READER) -> Child:
    """`username` reads `child` through an approved access request, and nothing more."""
    grant_open(
        child=child,
        user=user(username),
        level=Level.READ,
        source=ChildAccessGrant.Source.ACCESS_REQUEST,
    )
    return child


def assessment_consent(child: Child) -> None:
    ConsentFactory(child=child, purpose=Consent.Purpose.ASSESSMENT, by=user("counselor"))


def assessment_data(instrument: Instrument, value: int) -> dict[str, str]:
    items = instrument.parsed.items
    return {
        "instrument": str(instrument.pk),
        "setting": "school_screening",
        "administered_on": timezone.localdate().isoformat(),
        **{f"q{item['number']}": str(value) for item in items},
    }


def visit_data(client, child: Child) -> dict[str, str]:
    """The visit form's own defaults, as a user who taps "save" at once sends them."""
    form = client.get(reverse("followups:visit_create", args=[child.pk])).context["form"]
    return {
        "kind": form.initial["kind"],
        "visited_on": form.initial["visited_on"].isoformat(),
        "present": form.initial["present"],
        "mood": form.initial["mood"],
        "next_step": form.initial["next_step"],
    }


def referral_data(child: Child) -> dict[str, str]:
    referral = Referral.objects.filter(child=child).first()
    assert referral is not None
    return {
        "service": referral.service,
        "area": child.residence_region_id[:6],
        "to_institution": str(referral.to_institution_id),
        "urgency": Referral.Urgency.ROUTINE,
        "reason": "再次转介",
        "send": "1",
    }


class TestAReadOnlyTie:
    """director_b reads a pupil through an approved access request: every page opens, every
    write answers 403 and saves nothing."""

    def test_assessments_open_but_none_can_be_taken_amended_or_acknowledged(self, login):
        child = pupil(5)
        assessment_consent(child)
        phq9 = Instrument.objects.get(code="PHQ-9", version=1)
        counselor = login("counselor")
        create = reverse("assessments:assessment_create", args=[child.pk])
        assert counselor.post(create, assessment_data(phq9, 3)).status_code == 302
        result = Assessment.objects.get(child=child)
        alert = Alert.objects.filter(child=child).first()
        assert alert is not None  # a severe result with a critical answer
        shared(child)
        client = login(READER)

        assert client.get(reverse("cases:child_detail", args=[child.pk])).status_code == 200
        detail = reverse("assessments:assessment_detail", args=[result.pk])
        assert client.get(detail).status_code == 200
        alert_url = reverse("assessments:alert_detail", args=[alert.pk])
        assert client.get(alert_url).status_code == 200

        assert client.get(create).status_code == 403
        assert client.post(create, assessment_data(phq9, 0)).status_code == 403
        amend = reverse("assessments:assessment_amend", args=[result.pk])
        assert client.get(amend).status_code == 403
        assert client.post(amend, assessment_data(phq9, 0)).status_code == 403
        assert client.post(alert_url, {"note": "已联系家长"}).status_code == 403
        # The API the same way: the result reads, a new one is refused.
        assert client.get(f"/api/v1/assessments/{result.pk}/").status_code == 200
        api = client.post(
            "/api/v1/assessments/",
            {
                "child": child.pk,
                "instrument": "PHQ-9",
                "answers": {str(n): 0 for n in range(1, 10)},
            },
            content_type="application/json",
        )
        assert api.status_code == 403
        assert Assessment.objects.filter(child=child).count() == 1
        alert.refresh_from_db()
        assert alert.acknowledged_at is None

    def test_visits_open_but_none_can_be_logged(self, login):
        child = pupil(6)
        counselor = login("counselor")
        create = reverse("followups:visit_create", args=[child.pk])
        assert counselor.post(create, visit_data(counselor, child)).status_code == 302
        visit = Visit.objects.get(child=child)
        shared(child)
        client = login(READER)

        detail = reverse("followups:visit_detail", args=[visit.pk])
        assert client.get(detail).status_code == 200
        logged = AccessEvent.objects.filter(child=child, user__username=READER)
        assert logged.filter(detail__visit=visit.pk).count() == 1  # the read is logged

        assert client.get(create).status_code == 403
        assert client.post(create, visit_data(counselor, child)).status_code == 403
        assert Visit.objects.filter(child=child).count() == 1

    def test_referrals_open_but_none_can_be_made_or_moved(self, login):
        referral = sent(pupil(7))
        child = shared(referral.child)
        client = login(READER)

        assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 200

        create = reverse("referrals:referral_create", args=[child.pk])
        assert client.get(create).status_code == 403
        assert client.post(create, referral_data(child)).status_code == 403
        options = reverse("referrals:institution_options", args=[child.pk])
        assert client.get(options).status_code == 403
        withdraw = reverse("referrals:step", args=[referral.pk, "withdraw"])
        assert client.get(withdraw).status_code == 403
        assert client.post(withdraw, {"reason": "不需要了"}).status_code == 403
        assert Referral.objects.filter(child=child).count() == 1
        referral.refresh_from_db()
        assert referral.status == Referral.Status.SENT

    def test_the_referral_page_offers_the_reader_no_step(self, login):
        referral = sent(pupil(8))
        shared(referral.child)
        page = login(READER).get(reverse("referrals:detail", args=[referral.pk]))
        assert page.status_code == 200
        assert page.context["actions"] == []


def mentors_child() -> Child:
    """One of the pupils the demo mentor has a care-team place for (contribute)."""
    return Child.objects.filter(care_team__user__username="mentor", care_team__is_active=True)[0]


class TestACareTeamPlace:
    def test_the_mentor_logs_a_visit(self, login):
        child = mentors_child()
        client = login("mentor")
        create = reverse("followups:visit_create", args=[child.pk])
        response = client.post(create, visit_data(client, child))
        assert response.status_code == 302
        assert Visit.objects.filter(child=child, visitor__username="mentor").count() == 1

    @pytest.mark.parametrize("name", MANAGE_PAGES)
    def test_the_mentor_cannot_manage_the_file(self, login, name):
        child = mentors_child()
        client = login("mentor")
        url = reverse(name, args=[child.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
        child.refresh_from_db()
        assert child.status == Child.Status.ACTIVE

    def test_a_place_on_the_team_contributes_where_the_role_may_manage(self, login):
        # director_b holds the permissions to edit a file; a care-team place still gives
        # contribute only: she logs a visit but cannot edit or close the child's file.
        child = pupil(9)
        grant_open(
            child=child,
            user=user(READER),
            level=Level.CONTRIBUTE,
            source=ChildAccessGrant.Source.CARE_TEAM,
        )
        client = login(READER)
        create = reverse("followups:visit_create", args=[child.pk])
        assert client.post(create, visit_data(client, child)).status_code == 302
        for name in MANAGE_PAGES:
            url = reverse(name, args=[child.pk])
            assert client.get(url).status_code == 403, url


def test_the_activity_page_logs_each_child_it_names(login):
    children = list(
        Child.objects.filter(residence_region_id=VILLAGE_A, household_region_id=VILLAGE_A).order_by(
            "id"
        )[:2]
    )
    activity = activity_record(
        by=user("director_a"),
        kind="peer_support",
        topic="团体辅导",
        held_on=timezone.localdate(),
        region=region(VILLAGE_A),
        attendees=[Attendee(c.record_number) for c in children],
        venue_text="村委会",
    )
    client = login("director_a")
    assert client.get(reverse("activities:activity_detail", args=[activity.pk])).status_code == 200
    logged = AccessEvent.objects.filter(
        user__username="director_a", path=reverse("activities:activity_detail", args=[activity.pk])
    )
    assert set(logged.values_list("child_id", flat=True)) == {c.pk for c in children}
