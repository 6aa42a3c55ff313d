"""Consent to a referral: the consent given now or found on file, and the supervisor's review
of a referral sent without consent in an emergency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Child, Consent, Guardian
from core.access_log import access_record
from core.models import AccessEvent
from institutions.models import User
from referrals.models import Referral
from referrals.services.transitions import ReferralError, _require


@dataclass(frozen=True)
class ConsentGiven:
    """Consent to the referral given now: by a guardian, or (guardian None) by the child."""

    guardian: Guardian | None
    given_on: date


def _usable_consent(*, child: Child, consent: Consent | None) -> Consent | None:
    """The consent the referral links: the one given, else the newest on file, if unwithdrawn."""
    qs = Consent.objects.filter(
        child=child, purpose=Consent.Purpose.REFERRAL, withdrawn_at__isnull=True
    )
    if consent is not None:
        return qs.filter(pk=consent.pk).first()
    return qs.order_by("-given_on", "-id").first()


@transaction.atomic
def referral_review_override(*, referral: Referral, by: User, note: str) -> Referral:
    """A supervisor's review of a referral sent without consent; the first review stands."""
    note = _require(note, _("Write what you found."), "no_note")
    if not referral.emergency_override:
        raise ReferralError(_("This referral was not sent without consent."), code="no_override")
    updated = Referral.objects.filter(
        pk=referral.pk, emergency_override=True, override_reviewed_at__isnull=True
    ).update(
        override_reviewed_by=by, override_reviewed_at=timezone.now(), override_review_note=note
    )
    if not updated:
        raise ReferralError(_("This override was already reviewed."), code="already_reviewed")
    referral.refresh_from_db()
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=referral.child,
        detail={"referral": referral.pk, "override_reviewed": True},
    )
    return referral
