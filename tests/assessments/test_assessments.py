"""Taking an assessment, immutability and amendments, alerts, who sees answers, the file
section, the reassessment policy and the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from assessments.models import Alert, Assessment, Instrument
from assessments.selectors import next_reassessment_due
from cases.models import Child, Consent, RiskLevel
from cases.services.care import care_team_add
from cases.services.family import guardian_add
from core.models import Notification
from tests.conftest import user
from tests.demo import MIDDLE_SCHOOL, TOWNSHIP_A, VILLAGE_A
from tests.factories import ConsentFactory

pytestmark = pytest.mark.django_db


def pupil(*, village_a: bool = True) -> Child:
    """A middle-school pupil (12+); in village 990101001001 unless asked otherwise."""
    qs = Child.objects.filter(school__name=MIDDLE_SCHOOL)
    qs = qs.filter(residence_region_id=VILLAGE_A) if village_a else qs
    return qs.order_by("id")[0]


def with_consent(child: Child) -> Child:
    """The child with a guardian's consent to assessment (the first guardian, or a new one)."""
    ConsentFactory(child=child, purpose=Consent.Purpose.ASSESSMENT, by=user("counselor"))
    return child


def phq9() -> Instrument:
    return Instrument.objects.get(code="PHQ-9", version=1)


def answers(*values: int) -> dict[str, str]:
    return {f"q{n}": str(v) for n, v in enumerate(values, start=1)}


def post_assessment(client, child: Child, instrument: Instrument, data: dict[str, str], **extra):
    payload = {
        "instrument": instrument.pk,
        "setting": "school_screening",
        "administered_on": timezone.localdate().isoformat(),
        **data,
        **extra,
    }
    return client.post(reverse("assessments:assessment_create", args=[child.pk]), payload)


class TestTaking:
    def test_scores_band_and_risk_are_computed_on_the_server(self, login):
        child = with_consent(pupil())
        client = login("counselor")
        response = post_assessment(client, child, phq9(), answers(1, 1, 2, 1, 1, 1, 1, 2, 0))
        assessment = Assessment.objects.get(child=child)
        assert response.status_code == 302
        assert assessment.total == 10
        assert assessment.band_text == "中度抑郁"
        assert assessment.risk_level == RiskLevel.MODERATE
        assert assessment.answers == {
            str(n): v for n, v in enumerate([1, 1, 2, 1, 1, 1, 1, 2, 0], 1)
        }
        child.refresh_from_db()
        assert child.risk_level == RiskLevel.MODERATE
        page = client.get(response["Location"]).content.decode()
        assert 'data-testid="answers"' in page  # the counsellor sees the answers

    def test_the_choice_of_instruments_fits_the_childs_age(self, login):
        child = pupil()
        html = (
            login("counselor")
            .get(reverse("assessments:assessment_create", args=[child.pk]))
            .content.decode()
        )
        for code in ("PHQ-9", "GAD-7", "K6", "K10"):
            assert code in html

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            (answers(1, 1, 2, 1, 1, 1, 1, 2), "q9"),  # a missing required answer
            (answers(1, 1, 7, 1, 1, 1, 1, 2, 0), "q3"),  # a value the item does not have
        ],
    )
    def test_bad_answers_are_refused_on_the_item_and_nothing_saved(self, login, data, field):
        child = with_consent(pupil())
        response = post_assessment(login("counselor"), child, phq9(), data)
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert not Assessment.objects.filter(child=child).exists()

    def test_an_instrument_outside_the_childs_age_is_refused(self, login):
        young = Child.objects.filter(
            school__isnull=False, residence_region__code__startswith=TOWNSHIP_A
        ).order_by("-birth_date")[0]
        assert young.age() < 12
        with_consent(young)
        response = post_assessment(
            login("supervisor_town"), young, phq9(), answers(0, 0, 0, 0, 0, 0, 0, 0, 0)
        )
        errors = response.context["form"].non_field_errors()
        assert any("12" in e and str(young.age()) in e for e in errors)
        assert not Assessment.objects.filter(child=young).exists()

    def test_consent_must_be_on_file_or_given_at_this_step(self, login):
        child = pupil()
        assert not child.consents.exists()
        client = login("counselor")
        response = post_assessment(client, child, phq9(), answers(0, 0, 0, 0, 0, 0, 0, 0, 0))
        assert "consent_by" in response.context["form"].errors
        assert not Assessment.objects.filter(child=child).exists()
        guardian = guardian_add(
            child=child, data={"name": "测试妈妈", "relation": "mother"}, by=user("counselor")
        )
        response = post_assessment(
            client, child, phq9(), answers(0, 0, 0, 0, 0, 0, 0, 0, 0), consent_by=str(guardian.pk)
        )
        assert response.status_code == 302
        consent = Consent.objects.get(child=child, purpose="assessment")
        assert consent.guardian == guardian and consent.recorded_by.username == "counselor"

    def test_a_future_date_is_refused(self, login):
        child = with_consent(pupil())
        response = post_assessment(
            login("counselor"),
            child,
            phq9(),
            answers(0, 0, 0, 0, 0, 0, 0, 0, 0),
            administered_on=(timezone.localdate() + timedelta(days=1)).isoformat(),
        )
        assert "administered_on" in response.context["form"].errors


class TestImmutability:
    def test_a_result_cannot_be_changed_and_a_correction_keeps_the_original(self, login):
        child = with_consent(pupil())
        client = login("counselor")
        post_assessment(client, child, phq9(), answers(2, 2, 2, 2, 2, 2, 2, 2, 0))
        original = Assessment.objects.get(child=child)
        with pytest.raises(DatabaseError), transaction.atomic():
            Assessment.objects.filter(pk=original.pk).update(total=0)
        url = reverse("assessments:assessment_amend", args=[original.pk])
        no_reason = client.post(
            url,
            {
                **answers(1, 1, 1, 1, 1, 1, 1, 1, 0),
                "setting": "school_screening",
                "administered_on": original.administered_on.isoformat(),
            },
        )
        assert "amendment_reason" in no_reason.context["form"].errors
        client.post(
            url,
            {
                **answers(1, 1, 1, 1, 1, 1, 1, 1, 0),
                "setting": "school_screening",
                "administered_on": original.administered_on.isoformat(),
                "amendment_reason": "录入错误",
            },
        )
        amendment = Assessment.objects.get(amends=original)
        original.refresh_from_db()
        assert original.total == 16 and amendment.total == 8
        child.refresh_from_db()
        assert child.risk_level == amendment.risk_level == RiskLevel.LOW
        assert (
            "录入错误"
            in client.get(
                reverse("assessments:assessment_detail", args=[amendment.pk])
            ).content.decode()
        )


class TestAlerts:
    def test_a_critical_answer_alerts_the_care_team_and_the_supervisor(self, login):
        child = with_consent(pupil())
        care_team_add(child=child, team_role="mentor", user=user("mentor"), by=user("counselor"))
        post_assessment(login("director_a"), child, phq9(), answers(0, 0, 0, 0, 0, 0, 0, 0, 2))
        alert = Alert.objects.get(child=child)
        assert alert.reason == Alert.Reason.CRITICAL_ANSWER
        assert alert.risk_level == RiskLevel.CRISIS
        child.refresh_from_db()
        assert child.risk_level == RiskLevel.CRISIS
        told = set(
            Notification.objects.filter(kind="alert", child=child).values_list(
                "recipient__username", flat=True
            )
        )
        assert {"mentor", "supervisor_town", "counselor"} <= told
        assert "director_a" not in told  # who entered the result is not told of it
        # The link leads the mentor to the alert; a responsible person (the counsellor) closes
        # it with an outcome and a note, and the first closing stands.
        mentor = login("mentor")
        url = reverse("assessments:alert_detail", args=[alert.pk])
        assert mentor.get(url).status_code == 200
        assert mentor.post(url, {"note": "x", "outcome": "referred"}).status_code == 403
        counsellor = login("counselor")
        assert counsellor.post(url, {"note": "", "outcome": "referred"}).status_code == 400
        counsellor.post(url, {"note": "已联系家长，明天家访", "outcome": "guardian_informed"})
        alert.refresh_from_db()
        assert alert.acknowledged_by.username == "counselor"
        assert alert.note == "已联系家长，明天家访"
        login("supervisor_town").post(url, {"note": "第二次确认", "outcome": "referred"})
        alert.refresh_from_db()
        assert alert.acknowledged_by.username == "counselor"

    def test_a_severe_band_alerts_and_a_mild_one_does_not(self, login):
        child = with_consent(pupil())
        client = login("counselor")
        post_assessment(client, child, phq9(), answers(1, 1, 1, 1, 1, 0, 0, 0, 0))
        assert not Alert.objects.filter(child=child).exists()
        post_assessment(client, child, phq9(), answers(3, 3, 3, 3, 3, 3, 1, 1, 0))
        alert = Alert.objects.get(child=child)
        assert alert.reason == Alert.Reason.SEVERE_RESULT and alert.risk_level == RiskLevel.HIGH

    def test_an_alert_is_out_of_reach_outside_the_childs_scope(self, login):
        child = with_consent(pupil())
        post_assessment(login("counselor"), child, phq9(), answers(0, 0, 0, 0, 0, 0, 0, 0, 1))
        alert = Alert.objects.get(child=child)
        assert (
            login("director_b")
            .get(reverse("assessments:alert_detail", args=[alert.pk]))
            .status_code
            == 404
        )


class TestWhoSeesWhat:
    def test_answers_are_shown_to_counsellors_and_the_taker_only(self, login):
        child = with_consent(pupil())
        post_assessment(login("director_a"), child, phq9(), answers(1, 0, 0, 0, 0, 0, 0, 0, 0))
        assessment = Assessment.objects.get(child=child)
        url = reverse("assessments:assessment_detail", args=[assessment.pk])
        assert 'data-testid="answers"' in login("director_a").get(url).content.decode()  # the taker
        assert 'data-testid="answers"' in login("counselor").get(url).content.decode()
        supervisor = login("supervisor_town").get(url).content.decode()
        assert 'data-testid="answers-hidden"' in supervisor
        assert 'data-testid="total"' in supervisor  # the score and band stay visible
        assert login("director_b").get(url).status_code == 404


class TestFileAndPolicy:
    def test_results_appear_on_the_file_with_a_trend_and_the_next_due_date(self, login):
        child = with_consent(pupil())
        client = login("counselor")
        today = timezone.localdate()
        post_assessment(
            client,
            child,
            phq9(),
            answers(1, 1, 1, 1, 1, 0, 0, 0, 0),
            administered_on=(today - timedelta(days=40)).isoformat(),
        )
        post_assessment(
            client,
            child,
            phq9(),
            answers(2, 2, 2, 2, 2, 2, 0, 0, 0),
            administered_on=today.isoformat(),
        )
        html = client.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
        assert 'data-chart="trend"' in html and 'id="trend-1"' in html
        earlier = (today - timedelta(days=40)).isoformat()
        assert f'"points": [["{earlier}", 5], ["{today.isoformat()}", 12]]' in html
        assert 'data-testid="next-due"' in html
        child.refresh_from_db()
        assert child.risk_level == RiskLevel.MODERATE
        due = (today + timedelta(days=91)).isoformat()
        assert due in html
        assert "PHQ-9：总分 12" in html  # on the timeline

    def test_the_policy_gives_the_shortest_matching_interval(self):
        child = pupil()
        last = date(2026, 1, 10)
        child.risk_level = RiskLevel.NONE
        assert next_reassessment_due(child=child, last=last) == last + timedelta(days=365)
        child.risk_level = RiskLevel.HIGH
        assert next_reassessment_due(child=child, last=last) == last + timedelta(days=30)
        resident = Child.objects.filter(residential_institution__isnull=False)[0]
        resident.risk_level = RiskLevel.NONE
        assert next_reassessment_due(child=resident, last=last) == last + timedelta(days=182)
        assert next_reassessment_due(child=resident, last=None) == timezone.localdate()


class TestApi:
    def test_post_returns_scores_band_and_risk(self, login):
        child = with_consent(pupil())
        response = login("counselor").post(
            "/api/v1/assessments/",
            {
                "child": child.pk,
                "instrument": "GAD-7",
                "answers": {"1": 3, "2": 3, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2},
            },
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["total"] == 16 and body["risk_level"] == RiskLevel.HIGH
        assert body["band"] and body["instrument"] == "GAD-7"
        assert Alert.objects.filter(child=child).exists()

    def test_bad_answers_out_of_scope_and_no_consent_are_refused(self, login):
        child = with_consent(pupil())
        client = login("counselor")
        bad = client.post(
            "/api/v1/assessments/",
            {"child": child.pk, "instrument": "GAD-7", "answers": {"1": 9, "2": 0}},
            content_type="application/json",
        )
        assert bad.status_code == 400
        assert set(bad.json()["fields"]) >= {"answers.1", "answers.3"}
        outside = Child.objects.exclude(school__name=MIDDLE_SCHOOL).filter(
            residence_region_id="990101003001"
        )[0]
        assert (
            client.post(
                "/api/v1/assessments/",
                {"child": outside.pk, "instrument": "GAD-7", "answers": {}},
                content_type="application/json",
            ).status_code
            == 404
        )
        other = (
            Child.objects.filter(school__name=MIDDLE_SCHOOL)
            .exclude(consents__purpose="assessment")
            .exclude(pk=child.pk)[0]
        )
        no_consent = client.post(
            "/api/v1/assessments/",
            {"child": other.pk, "instrument": "GAD-7", "answers": {str(n): 0 for n in range(1, 8)}},
            content_type="application/json",
        )
        assert no_consent.status_code == 400 and "child" in no_consent.json()["fields"]
        assert not Assessment.objects.exists()

    def test_roles_without_the_permission_cannot_submit(self, login):
        child = with_consent(pupil())
        response = login("county_civil").post(
            "/api/v1/assessments/",
            {"child": child.pk, "instrument": "GAD-7", "answers": {}},
            content_type="application/json",
        )
        assert response.status_code == 403


def test_administrators_edit_the_reassessment_policy_in_the_admin(login):
    from assessments.models import ReassessmentPolicy

    client = login("admin")
    assert client.get("/admin/assessments/reassessmentpolicy/").status_code == 200
    policy = ReassessmentPolicy.objects.get(setting="any", risk_level=RiskLevel.HIGH)
    response = client.post(
        f"/admin/assessments/reassessmentpolicy/{policy.pk}/change/",
        {
            "setting": "any",
            "risk_level": RiskLevel.HIGH,
            "category": "",
            "interval_days": 21,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.interval_days == 21
    assert login("counselor").get("/admin/assessments/reassessmentpolicy/").status_code == 302
