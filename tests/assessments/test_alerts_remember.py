"""Issue 10, findings 1, 2 and 8: an open alert keeps the child's risk until a responsible
person closes it with an outcome; one open alert per child and cause collects later results; a
correction closes its original's alerts; nobody is notified of their own entry; a result entered
late cannot hide a higher risk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Alert, Assessment
from assessments.selectors import next_reassessment_due
from cases.models import RiskLevel
from core.models import Notification
from tests.assessments.test_assessments import answers, phq9, post_assessment, pupil, with_consent

pytestmark = pytest.mark.django_db

CRISIS_ANSWER = answers(0, 0, 0, 0, 0, 0, 0, 0, 2)  # PHQ-9 item 9: thoughts of self-harm
NORMAL = answers(0, 0, 0, 0, 0, 0, 0, 0, 0)
SEVERE = answers(3, 3, 3, 3, 3, 3, 1, 1, 0)  # total 20: severe, no critical answer


def risk_of(child) -> int:
    child.refresh_from_db()
    return child.risk_level


def close(client, alert: Alert, **data):
    return client.post(reverse("assessments:alert_detail", args=[alert.pk]), data)


class TestRiskThatDoesNotForget:
    def test_a_crisis_stays_after_a_normal_score_until_its_alert_is_closed_with_an_outcome(
        self, login
    ):
        child = with_consent(pupil())
        director = login("director_a")
        post_assessment(director, child, phq9(), CRISIS_ANSWER)
        alert = Alert.objects.get(child=child)
        today = timezone.localdate()
        assert risk_of(child) == RiskLevel.CRISIS
        assert next_reassessment_due(child=child, last=today) == today + timedelta(days=14)

        post_assessment(director, child, phq9(), NORMAL)
        assert Assessment.objects.filter(child=child).count() == 2
        # The newer score of 0 does not lower the risk nor stretch the reassessment interval.
        assert risk_of(child) == RiskLevel.CRISIS
        assert next_reassessment_due(child=child, last=today) == today + timedelta(days=14)
        page = director.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
        assert 'data-testid="awaiting-review"' in page

        # The child director may not close it; the counsellor must give an outcome and a note.
        assert close(director, alert, note="看过了", outcome="false_positive").status_code == 403
        counsellor = login("counselor")
        no_outcome = close(counsellor, alert, note="已与家长沟通")
        assert no_outcome.status_code == 400
        assert "outcome" in no_outcome.context["form"].errors
        no_note = close(counsellor, alert, note="", outcome="guardian_informed")
        assert no_note.status_code == 400
        assert risk_of(child) == RiskLevel.CRISIS

        close(counsellor, alert, note="已与家长沟通，明天家访", outcome="guardian_informed")
        alert.refresh_from_db()
        assert alert.acknowledged_by.username == "counselor"
        assert alert.acknowledged_at is not None
        assert alert.outcome == Alert.Outcome.GUARDIAN_INFORMED
        assert alert.note == "已与家长沟通，明天家访"
        assert risk_of(child) == RiskLevel.NONE
        assert next_reassessment_due(child=child, last=today) == today + timedelta(days=365)

    def test_a_back_dated_severe_result_keeps_the_risk(self, login):
        child = with_consent(pupil())
        counsellor = login("counselor")
        post_assessment(counsellor, child, phq9(), NORMAL)
        last_week = (timezone.localdate() - timedelta(days=7)).isoformat()
        post_assessment(counsellor, child, phq9(), SEVERE, administered_on=last_week)
        late = Assessment.objects.get(child=child, total=20)
        assert late.administered_on.isoformat() == last_week
        # It raises its alert, and the newer normal score cannot hide it.
        alert = Alert.objects.get(child=child)
        assert list(alert.results.all()) == [late]
        assert risk_of(child) == RiskLevel.HIGH


class TestOneOpenAlertPerCause:
    def test_one_open_alert_collects_three_severe_results(self, login):
        child = with_consent(pupil())
        counsellor = login("counselor")
        for _ in range(3):
            post_assessment(counsellor, child, phq9(), SEVERE)
        alert = Alert.objects.get(child=child)
        assert alert.reason == Alert.Reason.SEVERE_RESULT
        assert alert.results.count() == 3
        html = counsellor.get(reverse("assessments:alert_detail", args=[alert.pk])).content.decode()
        listed = html.split('data-testid="alert-results"')[1].split("</ul>")[0]
        for result in Assessment.objects.filter(child=child):
            assert reverse("assessments:assessment_detail", args=[result.pk]) in listed
        assert listed.count("<li") == 3
        # A different cause (a critical answer) is its own alert.
        post_assessment(counsellor, child, phq9(), CRISIS_ANSWER)
        assert Alert.objects.filter(child=child, acknowledged_at__isnull=True).count() == 2

    def test_the_alert_page_leads_to_a_referral_and_a_care_plan(self, login):
        child = with_consent(pupil())
        counsellor = login("counselor")
        post_assessment(counsellor, child, phq9(), SEVERE)
        alert = Alert.objects.get(child=child)
        page = counsellor.get(reverse("assessments:alert_detail", args=[alert.pk]))
        html = page.content.decode()
        referral = reverse("referrals:referral_create", args=[child.pk])
        assert f"{referral}?assessment={alert.assessment_id}" in html
        assert reverse("cases:care_plan_add", args=[child.pk]) in html

    def test_a_correction_closes_the_alerts_its_original_raised(self, login):
        child = with_consent(pupil())
        counsellor = login("counselor")
        post_assessment(counsellor, child, phq9(), SEVERE)
        original = Assessment.objects.get(child=child)
        counsellor.post(
            reverse("assessments:assessment_amend", args=[original.pk]),
            {
                **answers(1, 1, 1, 1, 1, 1, 1, 1, 0),
                "setting": "school_screening",
                "administered_on": original.administered_on.isoformat(),
                "amendment_reason": "录入错误",
            },
        )
        assert Assessment.objects.filter(amends=original).exists()
        alert = Alert.objects.get(child=child)
        assert alert.acknowledged_at is not None
        assert alert.outcome == Alert.Outcome.RESULT_CORRECTED
        assert "录入错误" in alert.note
        assert risk_of(child) == RiskLevel.LOW

    def test_the_person_who_entered_the_result_is_not_notified_of_it(self, login):
        child = with_consent(pupil())
        post_assessment(login("counselor"), child, phq9(), CRISIS_ANSWER)
        told = set(
            Notification.objects.filter(kind="alert", child=child).values_list(
                "recipient__username", flat=True
            )
        )
        assert "counselor" not in told
        assert {"supervisor_town", "director_a"} <= told
