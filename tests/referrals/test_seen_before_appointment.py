"""Recording "seen" before the booked appointment's day: the page warns and asks for a
confirmation and a reason, refuses without them (on the fields, nothing saved), and keeps the
reason as the step's note; the API applies the same rule.

Clients read the English interface, so that messages are checked whatever the translations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from referrals.models import Referral
from referrals.services.lifecycle import referral_book
from tests.conftest import client_for, user
from tests.referrals import S, advance, sent

pytestmark = pytest.mark.django_db

REASON = "The family could come earlier; the clinic had a free slot."


def english(username: str):
    client = client_for(username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def booked(*, days_ahead: int, sent_days_ago: int = 0) -> Referral:
    """A referral whose appointment is `days_ahead` days from now (0: later today)."""
    referral = advance(sent(), S.ACCEPTED)
    if sent_days_ago:
        earlier = timezone.now() - timedelta(days=sent_days_ago)
        Referral.objects.filter(pk=referral.pk).update(sent_at=earlier, accepted_at=earlier)
        referral.refresh_from_db()
    at = timezone.now() + timedelta(days=days_ahead)
    if days_ahead == 0:
        at = timezone.localtime().replace(hour=23, minute=30)
    return referral_book(referral=referral, by=user("clinician"), appointment_at=at)


def form_time(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def seen_events(referral: Referral):
    return referral.events.filter(to_status=S.SEEN)


class TestPage:
    def test_the_form_warns_before_the_appointment_day(self):
        referral = booked(days_ahead=3)
        html = (
            english("clinician")
            .get(reverse("referrals:step", args=[referral.pk, "seen"]))
            .content.decode()
        )
        warning = html.split('data-testid="early-warning"')[1].split("</div>\n")[0]
        day = timezone.localtime(referral.appointment_at)
        assert f"The appointment is booked for {day:%Y-%m-%d}" in warning
        assert 'name="confirm_early"' in html and 'name="early_reason"' in html

    def test_seen_early_without_confirmation_and_reason_is_refused_on_the_fields(self):
        referral = booked(days_ahead=3)
        client = english("clinician")
        url = reverse("referrals:step", args=[referral.pk, "seen"])
        response = client.post(url, {"seen_at": form_time(timezone.now())})
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert errors["confirm_early"] == [
            "The child was seen before the booked appointment: confirm it to go on."
        ]
        assert errors["early_reason"] == [
            "Say why the child was seen before the booked appointment."
        ]
        assert 'data-testid="early-warning"' in response.content.decode()

        response = client.post(
            url, {"seen_at": form_time(timezone.now()), "confirm_early": "on", "early_reason": ""}
        )
        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["early_reason"]
        referral.refresh_from_db()
        assert referral.status == S.APPOINTMENT and referral.first_seen_at is None
        assert not seen_events(referral).exists()

    def test_seen_early_with_confirmation_keeps_the_reason_as_the_steps_note(self):
        referral = booked(days_ahead=3)
        client = english("clinician")
        response = client.post(
            reverse("referrals:step", args=[referral.pk, "seen"]),
            {"seen_at": form_time(timezone.now()), "confirm_early": "on", "early_reason": REASON},
        )
        assert response.status_code == 302
        referral.refresh_from_db()
        assert referral.status == S.SEEN
        assert seen_events(referral).get().note == REASON
        detail = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
        assert f"Seen before the booked appointment, because: {REASON}" in detail

    def test_seen_on_the_appointment_day_needs_no_reason(self):
        referral = booked(days_ahead=0)
        client = english("clinician")
        url = reverse("referrals:step", args=[referral.pk, "seen"])
        assert 'data-testid="early-warning"' not in client.get(url).content.decode()
        response = client.post(url, {"seen_at": form_time(timezone.now())})
        assert response.status_code == 302
        referral.refresh_from_db()
        assert referral.status == S.SEEN and seen_events(referral).get().note == ""

    def test_an_earlier_day_typed_in_brings_up_the_warning_on_a_second_submit(self):
        referral = booked(days_ahead=0, sent_days_ago=5)
        client = english("clinician")
        url = reverse("referrals:step", args=[referral.pk, "seen"])
        two_days_ago = form_time(timezone.now() - timedelta(days=2))
        response = client.post(url, {"seen_at": two_days_ago})
        assert response.status_code == 400
        assert 'data-testid="early-warning"' in response.content.decode()
        assert set(response.context["form"].errors) == {"confirm_early", "early_reason"}
        response = client.post(
            url, {"seen_at": two_days_ago, "confirm_early": "on", "early_reason": REASON}
        )
        assert response.status_code == 302
        assert seen_events(referral).get().note == REASON


class TestApi:
    def post(self, referral: Referral, body: dict) -> object:
        # The API speaks the language of Accept-Language (Simplified Chinese by default).
        return client_for("clinician").post(
            f"/api/v1/referrals/{referral.pk}/seen/",
            body,
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="en",
        )

    def test_seen_early_without_confirmation_and_reason_is_a_400_on_the_fields(self):
        referral = booked(days_ahead=3)
        response = self.post(referral, {"seen_at": timezone.now().isoformat()})
        assert response.status_code == 400
        fields = response.json()["fields"]
        assert set(fields) == {"confirm_early", "early_reason"}
        assert fields["early_reason"] == [
            "Say why the child was seen before the booked appointment."
        ]
        response = self.post(
            referral, {"seen_at": timezone.now().isoformat(), "confirm_early": True}
        )
        assert response.status_code == 400 and set(response.json()["fields"]) == {"early_reason"}
        referral.refresh_from_db()
        assert referral.status == S.APPOINTMENT and not seen_events(referral).exists()

    def test_seen_early_with_confirmation_and_reason_is_recorded(self):
        referral = booked(days_ahead=3)
        response = self.post(
            referral,
            {"seen_at": timezone.now().isoformat(), "confirm_early": True, "early_reason": REASON},
        )
        assert response.status_code == 200 and response.json()["status"] == S.SEEN
        assert seen_events(referral).get().note == REASON

    def test_seen_on_the_appointment_day_needs_no_reason(self):
        referral = booked(days_ahead=0)
        response = self.post(referral, {"seen_at": timezone.now().isoformat()})
        assert response.status_code == 200
        assert seen_events(referral).get().note == ""
