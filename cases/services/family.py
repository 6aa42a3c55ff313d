"""Guardians and consent."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.models import AccessEvent, Child, Consent, Guardian
from cases.services.access import access_record
from institutions.models import Agency, User

GUARDIAN_FIELDS = (
    "name",
    "relation",
    "phone",
    "lives_with_child",
    "works_away",
    "work_location",
    "is_primary_contact",
)


@transaction.atomic
def guardian_add(*, child: Child, data: dict[str, Any], by: User) -> Guardian:
    """Add a guardian; a new primary contact replaces the previous one."""
    values = {k: v for k, v in data.items() if k in GUARDIAN_FIELDS}
    if values.get("is_primary_contact"):
        Guardian.objects.filter(child=child, is_primary_contact=True).update(
            is_primary_contact=False
        )
    elif not Guardian.objects.filter(child=child, is_active=True).exists():
        values["is_primary_contact"] = True  # the first guardian is the contact by default
    guardian = Guardian.objects.create(child=child, created_by=by, **values)
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=child,
        detail={"guardian_added": guardian.pk},
    )
    return guardian


@transaction.atomic
def guardian_update(*, guardian: Guardian, data: dict[str, Any], by: User) -> Guardian:
    values = {k: v for k, v in data.items() if k in GUARDIAN_FIELDS}
    if values.get("is_primary_contact"):
        Guardian.objects.filter(child_id=guardian.child_id, is_primary_contact=True).exclude(
            pk=guardian.pk
        ).update(is_primary_contact=False)
    for field, value in values.items():
        setattr(guardian, field, value)
    guardian.save()
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=guardian.child,
        detail={"guardian_changed": guardian.pk},
    )
    return guardian


@transaction.atomic
def guardian_deactivate(*, guardian: Guardian, by: User) -> Guardian:
    """A guardian who no longer is one stays on file, marked as former."""
    guardian.is_active = False
    guardian.is_primary_contact = False
    guardian.save(update_fields=["is_active", "is_primary_contact"])
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=guardian.child,
        detail={"guardian_removed": guardian.pk},
    )
    return guardian


@transaction.atomic
def consent_record(
    *,
    child: Child,
    purpose: str,
    given_on: date,
    by: User,
    guardian: Guardian | None = None,
    shared_with: Agency | None = None,
    note: str = "",
) -> Consent:
    """Record consent for one purpose; the form has checked who may give it (age 14 rule)."""
    consent = Consent.objects.create(
        child=child,
        purpose=purpose,
        guardian=guardian,
        given_by_child=guardian is None,
        shared_with=shared_with,
        given_on=given_on,
        note=note,
        recorded_by=by,
    )
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=child,
        detail={"consent": consent.pk, "purpose": purpose},
    )
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, reason: str, by: User) -> Consent:
    """Withdrawal is honoured from now on; the record of the consent stays."""
    if consent.withdrawn_at is None:
        consent.withdrawn_at = timezone.now()
        consent.withdrawn_by = by
        consent.withdrawal_reason = reason
        consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=consent.child,
            detail={"consent_withdrawn": consent.pk},
        )
    return consent


def has_consent(*, child: Child, purpose: str, agency: Agency | None = None) -> bool:
    """Whether an unwithdrawn consent for the purpose (and agency, for sharing) is on file."""
    qs = Consent.objects.filter(child=child, purpose=purpose, withdrawn_at__isnull=True)
    if agency is not None:
        qs = qs.filter(shared_with=agency)
    return qs.exists()
