"""The referral life cycle through its services: every allowed and refused step, consent and
the emergency override, the clinic's access that follows the referral, and notifications."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Child, ChildAccessGrant, Consent
from cases.selectors.scope import children_visible_to
from cases.services.care import care_team_add, care_team_remove
from cases.services.family import consent_withdraw
from core.models import AccessEvent, Notification
from followups.notifications import render_all
from institutions.models import Institution
from institutions.roles import Role
from referrals.models import Referral, ReferralEvent
from referrals.services.consent import ConsentGiven, referral_review_override
from referrals.services.grants import referral_expire_access
from referrals.services.lifecycle import (
    referral_accept,
    referral_book,
    referral_close,
    referral_decline,
    referral_discharge,
    referral_record_visit,
    referral_start_treatment,
    referral_withdraw,
)
from referrals.services.sending import referral_send
from referrals.services.transitions import TRANSITIONS, ReferralError
from tests.conftest import user
from tests.factories import UserFactory
from tests.referrals import (
    S,
    advance,
    draft,
    give_consent,
    hospital,
    pupil,
    sent,
    severe_assessment,
    social_psych,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The messages below are matched in English; the site's default language is Chinese."""
    from django.utils import translation

    with translation.override("en"):
        yield


def at(status: str, child: Child | None = None) -> Referral:
    """A referral brought to `status` through the services."""
    child = child or pupil()
    if status == S.DRAFT:
        give_consent(child)
        return draft(child)
    referral = sent(child)
    if status == S.SENT:
        return referral
    if status == S.DECLINED:
        return referral_decline(referral=referral, by=user("clinician"), reason="满员")
    if status == S.WITHDRAWN:
        return referral_withdraw(referral=referral, by=user("counselor"), reason="家长改变主意")
    return advance(referral, status)


def take_step(referral: Referral, to: str) -> Referral:
    clinician, counselor = user("clinician"), user("counselor")
    if to == S.SENT:
        return referral_send(referral=referral, by=counselor)
    if to == S.ACCEPTED:
        return referral_accept(referral=referral, by=clinician, note="请带既往病历")
    if to == S.DECLINED:
        return referral_decline(referral=referral, by=clinician, reason="本院无儿童病床")
    if to == S.APPOINTMENT:
        return referral_book(
            referral=referral, by=clinician, appointment_at=timezone.now() + timedelta(days=3)
        )
    if to == S.SEEN:
        return referral_record_visit(
            referral=referral,
            by=clinician,
            seen_at=timezone.now(),
            diagnosis="焦虑障碍",
            early_reason="测试：门诊有空位，提前就诊",  # before the day booked above
        )
    if to == S.IN_TREATMENT:
        return referral_start_treatment(
            referral=referral, by=clinician, treatment_type="inpatient", treatment="住院观察"
        )
    if to == S.DISCHARGED:
        return referral_discharge(
            referral=referral,
            by=clinician,
            outcome_summary="好转出院",
            followup_interval_days=14,
            followup_by="child_director",
            followup_weeks=12,
        )
    if to == S.CLOSED:
        return referral_close(referral=referral, by=counselor)
    if to == S.WITHDRAWN:
        return referral_withdraw(referral=referral, by=counselor, reason="不再需要")
    raise AssertionError(to)


STEP_TARGETS = [s for s in S.values if s != S.DRAFT]
ALLOWED = [(f, t) for f, t in itertools.product(S.values, STEP_TARGETS) if t in TRANSITIONS[f]]
REFUSED = [(f, t) for f, t in itertools.product(S.values, STEP_TARGETS) if t not in TRANSITIONS[f]]


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_every_allowed_step_moves_the_referral_and_records_actor_time_and_note(
    from_status, to_status
):
    referral = at(from_status)
    events_before = referral.events.count()
    before = timezone.now()
    result = take_step(referral, to_status)
    result.refresh_from_db()
    assert result.status == to_status
    event = result.events.order_by("-id").first()
    assert referral.events.count() == events_before + 1
    assert (event.from_status, event.to_status) == (from_status, to_status)
    assert event.actor is not None
    assert event.at >= before
    assert AccessEvent.objects.filter(
        child=result.child, detail__referral=result.pk, detail__step=to_status
    ).exists()


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_every_other_step_is_refused_and_nothing_changes(from_status, to_status):
    referral = at(from_status)
    snapshot = Referral.objects.filter(pk=referral.pk).values().get()
    events_before = referral.events.count()
    with pytest.raises(ReferralError) as refused:
        take_step(referral, to_status)
    assert refused.value.messages[0]
    assert Referral.objects.filter(pk=referral.pk).values().get() == snapshot
    assert referral.events.count() == events_before


def test_a_declined_referral_cannot_be_discharged():
    referral = at(S.DECLINED)
    with pytest.raises(ReferralError, match="cannot move"):
        take_step(referral, S.DISCHARGED)
    referral.refresh_from_db()
    assert referral.status == S.DECLINED


def test_the_main_path_records_the_times_the_indicators_need():
    referral = advance(sent(), S.CLOSED)
    referral.refresh_from_db()
    assert referral.sent_at <= referral.accepted_at <= referral.closed_at
    assert referral.first_seen_at is not None
    assert referral.discharged_at is not None
    assert referral.diagnosis == "抑郁发作（中度）"
    assert referral.treatment_type == Referral.TreatmentType.OUTPATIENT
    assert (referral.followup_interval_days, referral.followup_by, referral.followup_weeks) == (
        7,
        "counsellor",
        8,
    )
    steps = list(referral.events.values_list("to_status", flat=True))
    assert steps == [
        S.DRAFT,
        S.SENT,
        S.ACCEPTED,
        S.APPOINTMENT,
        S.SEEN,
        S.IN_TREATMENT,
        S.DISCHARGED,
        S.CLOSED,
    ]


def test_seen_once_may_be_discharged_without_treatment():
    referral = advance(sent(), S.SEEN)
    take_step(referral, S.DISCHARGED)
    referral.refresh_from_db()
    assert referral.status == S.DISCHARGED and referral.treatment_type == ""


def test_booking_again_moves_the_appointment_and_keeps_the_first_visit_time():
    referral = advance(sent(), S.APPOINTMENT)
    later = timezone.now() + timedelta(days=10)
    referral_book(referral=referral, by=user("clinician"), appointment_at=later)
    referral.refresh_from_db()
    assert referral.appointment_at == later
    assert referral.events.filter(to_status=S.APPOINTMENT).count() == 2


def test_a_second_accept_is_refused():
    referral = sent()
    referral_accept(referral=referral, by=user("clinician"))
    with pytest.raises(ReferralError, match="already"):
        referral_accept(referral=referral, by=user("clinician"))
    assert referral.events.filter(to_status=S.ACCEPTED).count() == 1


# Consent and the emergency override.


def test_sending_needs_consent():
    child = pupil(1)
    Consent.objects.filter(child=child, purpose=Consent.Purpose.REFERRAL).delete()
    referral = draft(child)
    with pytest.raises(ReferralError, match="consent"):
        referral_send(referral=referral, by=user("counselor"))
    referral.refresh_from_db()
    assert referral.status == S.DRAFT and referral.sent_at is None
    assert not children_visible_to(user("clinician")).filter(pk=child.pk).exists()


def test_sending_at_once_without_consent_saves_nothing():
    child = pupil(1)
    Consent.objects.filter(child=child, purpose=Consent.Purpose.REFERRAL).delete()
    count = Referral.objects.count()
    with pytest.raises(ReferralError):
        draft(child, send=True)
    assert Referral.objects.count() == count


def test_a_withdrawn_consent_does_not_count():
    child = pupil(1)
    consent = give_consent(child)
    consent_withdraw(consent=consent, reason="家长撤回", by=user("counselor"))
    with pytest.raises(ReferralError, match="consent"):
        draft(child, send=True)


def test_consent_given_now_is_recorded_and_linked():
    child = pupil(1)
    Consent.objects.filter(child=child, purpose=Consent.Purpose.REFERRAL).delete()
    guardian = child.guardians.filter(is_active=True).first()
    referral = draft(
        child,
        send=True,
        consent_given=ConsentGiven(guardian=guardian, given_on=timezone.localdate()),
    )
    assert referral.status == S.SENT
    assert referral.consent.guardian == guardian
    assert referral.consent.purpose == Consent.Purpose.REFERRAL
    assert not referral.emergency_override


def test_emergency_override_is_logged_and_the_supervisor_told():
    child = pupil(1)
    Consent.objects.filter(child=child, purpose=Consent.Purpose.REFERRAL).delete()
    referral = draft(
        child,
        urgency=Referral.Urgency.EMERGENCY,
        emergency_override=True,
        override_reason="孩子有自伤行为，监护人在外地联系不上",
        send=True,
    )
    assert referral.status == S.SENT
    assert referral.emergency_override and referral.consent is None
    logged = AccessEvent.objects.get(child=child, detail__referral=referral.pk, detail__step="sent")
    assert logged.detail["emergency_override"] is True
    assert "联系不上" in logged.detail["override_reason"]
    assert "联系不上" in referral.events.get(to_status=S.SENT).note
    told = Notification.objects.filter(kind="referral_override", params__referral=referral.pk)
    assert told.filter(recipient__username="supervisor_town").exists()
    assert not told.filter(recipient__username="director_b").exists()


def test_override_is_only_for_emergencies_and_needs_a_reason():
    child = pupil(1)
    Consent.objects.filter(child=child, purpose=Consent.Purpose.REFERRAL).delete()
    with pytest.raises(ReferralError, match="emergency"):
        draft(child, emergency_override=True, override_reason="来不及", send=True)
    with pytest.raises(ReferralError, match="consent"):
        draft(child, urgency=Referral.Urgency.EMERGENCY, emergency_override=True, send=True)


def test_the_supervisor_reviews_an_override_once():
    child = pupil(1)
    Consent.objects.filter(child=child, purpose=Consent.Purpose.REFERRAL).delete()
    referral = draft(
        child,
        urgency=Referral.Urgency.EMERGENCY,
        emergency_override=True,
        override_reason="紧急",
        send=True,
    )
    referral_review_override(referral=referral, by=user("supervisor_town"), note="合理")
    referral.refresh_from_db()
    assert referral.override_reviewed_by == user("supervisor_town")
    assert referral.override_review_note == "合理"
    with pytest.raises(ReferralError, match="already"):
        referral_review_override(referral=referral, by=user("county_civil"), note="再看")


# Destination.


def test_an_institution_that_does_not_offer_the_service_is_refused_and_nothing_saved():
    count = Referral.objects.count()
    with pytest.raises(ReferralError, match="does not offer"):
        draft(to_institution=social_psych(), service=Institution.Service.INPATIENT)
    assert Referral.objects.count() == count


def test_an_assessment_of_another_child_is_refused():
    other = severe_assessment(pupil(1))
    count = Referral.objects.count()
    with pytest.raises(ReferralError, match="not this child"):
        draft(pupil(0), assessment=other)
    assert Referral.objects.count() == count


# Access follows the referral.


def clinic_sees(child: Child) -> bool:
    return children_visible_to(user("clinician")).filter(pk=child.pk).exists()


def test_access_is_granted_on_send_not_before():
    child = pupil(2)
    give_consent(child)
    referral = draft(child)
    assert not clinic_sees(child)
    referral_send(referral=referral, by=user("counselor"))
    assert clinic_sees(child)


@pytest.mark.parametrize("ending", [S.DECLINED, S.WITHDRAWN])
def test_access_ends_at_once_on_decline_and_withdrawal(ending):
    child = pupil(2)
    referral = sent(child)
    assert clinic_sees(child)
    take_step(referral, ending)
    assert not clinic_sees(child)


def test_after_closing_access_lasts_the_configured_period_then_expires(settings):
    settings.REFERRAL_ACCESS_DAYS_AFTER_CLOSE = 30
    child = pupil(2)
    referral = advance(sent(child), S.CLOSED)
    referral.refresh_from_db()
    assert referral.access_until - referral.closed_at == timedelta(days=30)
    assert clinic_sees(child)
    assert referral_expire_access(now=referral.access_until - timedelta(minutes=1)) == 0
    assert clinic_sees(child)
    assert referral_expire_access(now=referral.access_until + timedelta(minutes=1)) == 1
    assert not clinic_sees(child)
    # Idempotent: nothing is left to do the second time.
    assert referral_expire_access(now=referral.access_until + timedelta(days=1)) == 0


def test_closing_with_no_access_period_ends_access_at_once(settings):
    settings.REFERRAL_ACCESS_DAYS_AFTER_CLOSE = 0
    child = pupil(2)
    advance(sent(child), S.CLOSED)
    assert not clinic_sees(child)


def test_a_grant_still_needed_for_another_open_referral_is_kept():
    child = pupil(2)
    first = sent(child)
    second = sent(child, service=Institution.Service.PSYCHOTHERAPY)
    referral_decline(referral=first, by=user("clinician"), reason="转心理治疗")
    assert clinic_sees(child)
    referral_withdraw(referral=second, by=user("counselor"), reason="不再需要")
    assert not clinic_sees(child)


def test_a_grant_needed_by_the_care_team_is_kept():
    child = pupil(2)
    referral = sent(child)
    care_team_add(child=child, team_role="counsellor", user=user("clinician"), by=user("counselor"))
    referral_decline(referral=referral, by=user("clinician"), reason="满员")
    assert clinic_sees(child)


def referral_grants(referral):
    return ChildAccessGrant.objects.filter(source="referral", source_id=referral.pk)


def test_expiry_is_set_based_over_many_referrals():
    children = [pupil(i) for i in range(3, 6)]
    referrals = [advance(sent(c), S.CLOSED) for c in children]
    # Closing gave each referral's grants the referral's access period as their expiry.
    for referral in referrals:
        assert {g.expires_at for g in referral_grants(referral)} == {referral.access_until}
    ChildAccessGrant.objects.filter(
        source="referral", source_id__in=[r.pk for r in referrals]
    ).update(expires_at=timezone.now() - timedelta(days=1))
    assert not any(clinic_sees(c) for c in children)
    assert referral_expire_access(now=timezone.now()) == 3
    assert referral_expire_access(now=timezone.now()) == 0


# Notifications.


def test_the_clinic_is_told_on_send_and_the_sender_on_accept_decline_and_discharge():
    referral = sent()
    assert Notification.objects.filter(
        recipient=user("clinician"), kind="referral_received", params__referral=referral.pk
    ).exists()
    advance(referral, S.DISCHARGED)
    kinds = set(
        Notification.objects.filter(
            recipient=user("counselor"), params__referral=referral.pk
        ).values_list("kind", flat=True)
    )
    assert {"referral_accepted", "referral_discharged"} <= kinds
    other = sent()
    referral_decline(referral=other, by=user("clinician"), reason="满员")
    assert Notification.objects.filter(
        recipient=user("counselor"), kind="referral_declined", params__referral=other.pk
    ).exists()


def test_notifications_carry_no_clinical_details():
    referral = advance(sent(), S.DISCHARGED)
    told = list(
        Notification.objects.filter(params__referral=referral.pk).select_related(
            "recipient", "child"
        )
    )
    assert told
    for notification in told:
        # In the app the child is named as the reader may see them...
        text = render_all([notification], reader=notification.recipient)[0]
        assert referral.child.record_number in text
        assert "抑郁" not in text and "舍曲林" not in text
        # ...and on a channel that leaves the app, only masked.
        e_mail = render_all([notification], reader=notification.recipient, outside=True)[0]
        assert referral.child.name not in e_mail
        assert "抑郁" not in e_mail and "舍曲林" not in e_mail


def test_a_clinic_member_who_joined_after_sending_gets_access_on_accept():
    child = pupil(2)
    referral = sent(child)
    newcomer = UserFactory(role=Role.CLINICIAN, institution=hospital())
    assert not children_visible_to(newcomer).filter(pk=child.pk).exists()
    referral_accept(referral=referral, by=user("clinician"))
    assert children_visible_to(newcomer).filter(pk=child.pk).exists()


def test_events_are_written_for_every_step():
    referral = advance(sent(), S.CLOSED)
    assert ReferralEvent.objects.filter(referral=referral).count() == 8


def test_leaving_the_care_team_keeps_the_access_an_open_referral_gives():
    referral = sent()
    child, clinician = referral.child, user("clinician")
    member = care_team_add(
        child=child, team_role="counsellor", user=clinician, by=user("counselor")
    )
    care_team_remove(member=member, by=user("counselor"))
    assert children_visible_to(clinician).filter(pk=child.pk).exists()
