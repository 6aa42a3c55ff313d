"""Who sees which referral, the clinic's inbox, overdue answers with explicit times, who reads
clinical details, and the durations for the indicators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.services.care import care_team_add
from referrals.models import Referral
from referrals.selectors import (
    inbox_counts,
    inbox_tab,
    may_see_clinical_details,
    overdue_referrals,
    referral_durations,
    referral_inbox,
    referrals_visible_to,
)
from referrals.services.lifecycle import referral_accept, referral_decline
from referrals.services.sending import referral_send
from tests.conftest import user
from tests.referrals import S, advance, draft, give_consent, pupil, sent

pytestmark = pytest.mark.django_db


def visible(username: str, referral: Referral) -> bool:
    return referrals_visible_to(user(username)).filter(pk=referral.pk).exists()


def test_the_sending_side_sees_referrals_of_children_in_scope_only():
    referral = sent()
    assert visible("counselor", referral)
    assert visible("supervisor_town", referral)
    assert not visible("director_b", referral)  # another village
    assert not visible("welfare_staff", referral)


def test_the_clinic_sees_a_referral_from_sending_not_as_a_draft():
    child = pupil()
    give_consent(child)
    referral = draft(child)
    assert not visible("clinician", referral)
    assert not referral_inbox(user("clinician")).filter(pk=referral.pk).exists()
    referral_send(referral=referral, by=user("counselor"))
    assert visible("clinician", referral)
    assert referral_inbox(user("clinician")).filter(pk=referral.pk).exists()


def test_the_inbox_holds_only_the_users_institutions():
    referral = sent()
    assert not referral_inbox(user("counselor")).filter(pk=referral.pk).exists()
    assert not referral_inbox(user("county_health")).filter(pk=referral.pk).exists()


def test_a_declined_referral_leaves_the_inbox_and_a_closed_one_after_its_period():
    declined = sent()
    referral_decline(referral=declined, by=user("clinician"), reason="满员")
    closed = advance(sent(), S.CLOSED)
    inbox = referral_inbox(user("clinician"))
    assert not inbox.filter(pk=declined.pk).exists()
    assert inbox.filter(pk=closed.pk).exists()
    later = closed.access_until + timedelta(seconds=1)
    assert not referral_inbox(user("clinician"), now=later).filter(pk=closed.pk).exists()


def set_sent_at(referral: Referral, at) -> None:
    Referral.objects.filter(pk=referral.pk).update(sent_at=at)


def test_overdue_follows_the_limit_for_each_urgency(settings):
    settings.REFERRAL_ANSWER_LIMITS = {
        "routine": timedelta(days=7),
        "urgent": timedelta(days=2),
        "emergency": timedelta(hours=4),
    }
    now = timezone.now()
    routine_late = sent()
    routine_fresh = sent()
    urgent_late = sent(urgency=Referral.Urgency.URGENT)
    emergency_late = sent(urgency=Referral.Urgency.EMERGENCY)
    emergency_fresh = sent(urgency=Referral.Urgency.EMERGENCY)
    answered = sent()
    set_sent_at(routine_late, now - timedelta(days=7, minutes=1))
    set_sent_at(routine_fresh, now - timedelta(days=6))
    set_sent_at(urgent_late, now - timedelta(days=2, minutes=1))
    set_sent_at(emergency_late, now - timedelta(hours=4, minutes=1))
    set_sent_at(emergency_fresh, now - timedelta(hours=3))
    set_sent_at(answered, now - timedelta(days=30))
    referral_accept(referral=answered, by=user("clinician"))
    overdue = set(overdue_referrals(now=now).values_list("pk", flat=True))
    assert overdue >= {routine_late.pk, urgent_late.pk, emergency_late.pk}
    assert not overdue & {routine_fresh.pk, emergency_fresh.pk, answered.pk}
    inbox = referral_inbox(user("clinician"), now=now)
    flags = dict(inbox.values_list("pk", "is_overdue"))
    assert flags[routine_late.pk] and not flags[routine_fresh.pk]
    due = inbox.get(pk=emergency_fresh.pk).answer_due_at
    assert due == now - timedelta(hours=3) + timedelta(hours=4)
    # The new tab puts the overdue first, and the overdue tab holds only them.
    new_tab = list(inbox_tab(inbox, tab="new", now=now).values_list("pk", flat=True))
    assert new_tab.index(emergency_late.pk) < new_tab.index(emergency_fresh.pk)
    overdue_tab = set(inbox_tab(inbox, tab="overdue", now=now).values_list("pk", flat=True))
    assert overdue_tab == overdue & set(inbox.values_list("pk", flat=True))
    assert inbox_counts(inbox, now=now)["overdue"] == len(overdue_tab)


def test_durations_are_averaged_in_sql():
    base = timezone.now() - timedelta(days=40)
    first = advance(sent(), S.CLOSED)
    second = advance(sent(), S.CLOSED)
    Referral.objects.filter(pk=first.pk).update(
        sent_at=base,
        accepted_at=base + timedelta(days=1),
        first_seen_at=base + timedelta(days=4),
        closed_at=base + timedelta(days=20),
    )
    Referral.objects.filter(pk=second.pk).update(
        sent_at=base,
        accepted_at=base + timedelta(days=3),
        first_seen_at=base + timedelta(days=10),
        closed_at=base + timedelta(days=30),
    )
    unanswered = sent()
    result = referral_durations(
        Referral.objects.filter(pk__in=[first.pk, second.pk, unanswered.pk])
    )
    assert result["sent_to_accepted"] == timedelta(days=2)
    assert result["accepted_to_first_appointment"] == timedelta(days=5)
    assert result["sent_to_closed"] == timedelta(days=25)
    assert result["sent_to_accepted_count"] == 2
    assert result["sent_to_closed_count"] == 2


def test_clinical_details_only_for_the_clinic_the_childs_counsellor_and_health_roles():
    referral = sent()
    assert may_see_clinical_details(user("clinician"), referral)
    # The counsellor who referred has the permission but is not the child's counsellor.
    assert not may_see_clinical_details(user("counselor"), referral)
    assert not may_see_clinical_details(user("director_a"), referral)
    assert not may_see_clinical_details(user("supervisor_town"), referral)
    assert not may_see_clinical_details(user("county_health"), referral)
    care_team_add(
        child=referral.child, team_role="counsellor", user=user("counselor"), by=user("director_a")
    )
    assert may_see_clinical_details(user("counselor"), referral)
    # On the team in another role (a mentor) is not enough.
    care_team_add(
        child=referral.child, team_role="mentor", user=user("mentor"), by=user("director_a")
    )
    assert not may_see_clinical_details(user("mentor"), referral)
