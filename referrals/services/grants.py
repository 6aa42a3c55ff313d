"""The clinic's access that follows a referral: its staff read the child's file while the
referral lasts, and the grants end when it is declined, withdrawn, or closed and its period is
over (other sources' grants stay)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from cases.models import ChildAccessGrant
from cases.selectors.staff import staff_of
from cases.services.access import grant_open, grants_end, grants_end_expired
from institutions.models import User
from institutions.roles import Level
from referrals.models import Referral


def _grant_clinic(referral: Referral, *, by: User) -> None:
    """Every active member of the receiving institution reads the child's file while the
    referral lasts (its clinical steps are allowed by the referral itself, not by the grant)."""
    for member in staff_of(institution=referral.to_institution):
        grant_open(
            child=referral.child,
            user=member,
            level=Level.READ,
            source=ChildAccessGrant.Source.REFERRAL,
            source_id=referral.pk,
            by=by,
        )


def _end_access_now(locked: Referral, *, by: User) -> None:
    """Declined or withdrawn: this referral's grants end at once (other sources' stay)."""
    grants_end(
        source=ChildAccessGrant.Source.REFERRAL, source_id=locked.pk, by=by, child=locked.child
    )


@transaction.atomic
def referral_expire_access(*, now: datetime) -> int:
    """Mark the grants whose access period has passed as ended (set-based and idempotent: a
    second run finds nothing). Returns how many grants ended."""
    return grants_end_expired(now=now)
