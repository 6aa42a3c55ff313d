"""Issue 10, finding 3: from an alert, and from a result that has one, there is a way to act:
start a referral pre-filled from the result, start or review a care plan, and record that the
guardian was told (与监护人沟通), which leaves the alert open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Alert, GuardianInformed
from core.models import AccessEvent
from tests.assessments.test_assessments import pupil
from tests.factories import AssessmentFactory, CarePlanFactory, GuardianFactory
from tests.factories.scope import child_out_of_scope_of

pytestmark = pytest.mark.django_db


def severe_result(child):
    """A severe PHQ-9 with a critical answer: it raises an open alert."""
    return AssessmentFactory(child=child, value=3)


def informed_url(alert: Alert) -> str:
    return reverse("assessments:alert_guardian_informed", args=[alert.pk])


def a_moment_ago() -> str:
    return f"{timezone.localtime() - timedelta(hours=1):%Y-%m-%dT%H:%M}"


class TestActingFromTheResult:
    def test_the_counsellor_sees_referral_care_plan_and_alert_links_on_a_severe_result(self, login):
        child = pupil()
        result = severe_result(child)
        alert = result.attached_alerts.get()
        page = login("counselor").get(reverse("assessments:assessment_detail", args=[result.pk]))
        html = page.content.decode()
        assert page.status_code == 200
        referral = reverse("referrals:referral_create", args=[child.pk])
        assert f'href="{referral}?assessment={result.pk}"' in html
        assert reverse("cases:care_plan_add", args=[child.pk]) in html
        assert reverse("assessments:alert_detail", args=[alert.pk]) in html

    def test_with_an_active_care_plan_the_result_offers_its_review(self, login):
        child = pupil()
        result = severe_result(child)
        plan = CarePlanFactory(child=child)
        html = (
            login("counselor")
            .get(reverse("assessments:assessment_detail", args=[result.pk]))
            .content.decode()
        )
        assert reverse("cases:care_plan_review", args=[plan.pk]) in html
        assert reverse("cases:care_plan_add", args=[child.pk]) not in html

    def test_a_read_only_user_sees_the_result_without_the_actions(self, login):
        child = pupil()
        result = severe_result(child)
        page = login("county_civil").get(reverse("assessments:assessment_detail", args=[result.pk]))
        html = page.content.decode()
        assert page.status_code == 200
        assert 'data-testid="open-alert-note"' in html
        assert reverse("referrals:referral_create", args=[child.pk]) not in html
        assert reverse("cases:care_plan_add", args=[child.pk]) not in html
        assert 'data-testid="open-alert"' not in html

    def test_a_result_without_an_open_alert_offers_no_alert_actions(self, login):
        child = pupil()
        result = AssessmentFactory(child=child, value=0)
        html = (
            login("counselor")
            .get(reverse("assessments:assessment_detail", args=[result.pk]))
            .content.decode()
        )
        assert 'data-testid="alert-actions"' not in html


class TestGuardianInformed:
    def test_recording_that_the_guardian_was_told_leaves_the_alert_open_and_shows_who_and_when(
        self, login
    ):
        child = pupil()
        guardian = GuardianFactory(child=child, name="王秀英")
        alert = severe_result(child).attached_alerts.get()
        director = login("director_a")
        when = a_moment_ago()
        response = director.post(
            informed_url(alert),
            {"guardian": guardian.pk, "informed_at": when, "note": "电话告知母亲，明天家访"},
        )
        assert response.status_code == 302
        alert.refresh_from_db()
        assert alert.is_open
        record = GuardianInformed.objects.get(alert=alert)
        assert record.recorded_by.username == "director_a"
        assert record.guardian == guardian
        assert AccessEvent.objects.filter(
            child=child, action=AccessEvent.Action.CHANGE, detail__alert_guardian_informed=alert.pk
        ).exists()

        html = director.get(reverse("assessments:alert_detail", args=[alert.pk])).content.decode()
        entry = html.split('data-testid="informed-entry"')[1].split("</li>")[0]
        assert "王秀英" in entry
        assert when.replace("T", " ") in entry
        assert "电话告知母亲，明天家访" in entry
        assert str(record.recorded_by) in entry
        # Still open: the counsellor can still close it with an outcome.
        counsellor_page = login("counselor").get(
            reverse("assessments:alert_detail", args=[alert.pk])
        )
        assert 'data-testid="acknowledge-form"' in counsellor_page.content.decode()

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"guardian": "", "note": "已告知"}, "guardian"),
            ({"note": "长" * 501}, "note"),
            ({"note": ""}, "note"),
        ],
    )
    def test_bad_input_is_refused_on_its_field_and_nothing_saved(self, login, data, field):
        child = pupil()
        guardian = GuardianFactory(child=child)
        alert = severe_result(child).attached_alerts.get()
        posted = {"guardian": guardian.pk, "informed_at": a_moment_ago(), **data}
        response = login("counselor").post(informed_url(alert), posted)
        assert response.status_code == 400
        assert field in response.context["informed_form"].errors
        assert f'id="id_{field}_error"' in response.content.decode()
        assert not GuardianInformed.objects.filter(alert=alert).exists()

    def test_a_guardian_of_another_child_or_a_future_time_is_refused(self, login):
        child = pupil()
        GuardianFactory(child=child)
        other = GuardianFactory(child=child_out_of_scope_of("counselor"))
        alert = severe_result(child).attached_alerts.get()
        counsellor = login("counselor")
        wrong = counsellor.post(
            informed_url(alert),
            {"guardian": other.pk, "informed_at": a_moment_ago(), "note": "已告知"},
        )
        assert wrong.status_code == 400
        assert "guardian" in wrong.context["informed_form"].errors
        future = f"{timezone.localtime() + timedelta(days=1):%Y-%m-%dT%H:%M}"
        later = counsellor.post(
            informed_url(alert),
            {"guardian": child.guardians.first().pk, "informed_at": future, "note": "已告知"},
        )
        assert later.status_code == 400
        assert "informed_at" in later.context["informed_form"].errors
        assert not GuardianInformed.objects.exists()

    def test_an_out_of_scope_user_gets_404(self, login):
        child = child_out_of_scope_of("counselor")
        guardian = GuardianFactory(child=child)
        alert = severe_result(child).attached_alerts.get()
        response = login("counselor").post(
            informed_url(alert),
            {"guardian": guardian.pk, "informed_at": a_moment_ago(), "note": "已告知"},
        )
        assert response.status_code == 404
        assert not GuardianInformed.objects.exists()

    def test_a_read_only_user_may_not_record_it(self, login):
        child = pupil()
        guardian = GuardianFactory(child=child)
        alert = severe_result(child).attached_alerts.get()
        client = login("county_civil")
        page = client.get(reverse("assessments:alert_detail", args=[alert.pk])).content.decode()
        assert 'data-testid="informed-form"' not in page
        response = client.post(
            informed_url(alert),
            {"guardian": guardian.pk, "informed_at": a_moment_ago(), "note": "已告知"},
        )
        assert response.status_code == 403
        assert not GuardianInformed.objects.exists()
