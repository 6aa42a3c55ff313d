"""Guardians and consent."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Child, ChildAccessGrant, Consent, Guardian
from cases.services.child import EditConflict, save_if_unchanged
from core.access_log import access_record
from core.inputs import whole_number
from core.models import AccessEvent
from institutions.models import Agency, Membership, User
from institutions.selectors import scope_for

GUARDIAN_FIELDS = (
    "name",
    "relation",
    "phone",
    "lives_with_child",
    "works_away",
    "work_location",
    "is_primary_contact",
    "institution",
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
def guardian_update(
    *, guardian: Guardian, data: dict[str, Any], expected_version: int, by: User
) -> Guardian:
    """Save validated changes if nobody saved the guardian in between; otherwise EditConflict
    (and nothing is written, not even the change of primary contact)."""
    values = {k: v for k, v in data.items() if k in GUARDIAN_FIELDS}
    if values.get("is_primary_contact"):
        Guardian.objects.filter(child_id=guardian.child_id, is_primary_contact=True).exclude(
            pk=guardian.pk
        ).update(is_primary_contact=False)
    return save_if_unchanged(
        instance=guardian,
        expected_version=expected_version,
        values=values,
        by=by,
        detail={"guardian_changed": guardian.pk},
    )


@transaction.atomic
def guardian_deactivate(
    *, guardian: Guardian, by: User, expected_version: int | None = None
) -> Guardian:
    """A guardian who no longer is one stays on file, marked as former. With the version the
    form was opened at, a guardian someone changed meanwhile is not removed (EditConflict)."""
    return save_if_unchanged(
        instance=guardian,
        expected_version=guardian.version if expected_version is None else expected_version,
        values={"is_active": False, "is_primary_contact": False},
        by=by,
        detail={"guardian_removed": guardian.pk},
    )


CHILD_GIVES_CONSENT = "child"  # what a form sends for "the child themself"


def may_consent_for_self(child: Child, on: date | None = None) -> bool:
    """PIPL art. 31: from 14 a child consents for themself; below, only a guardian."""
    return child.age(on) >= Consent.SELF_CONSENT_AGE


def consent_giver_check(
    *, child: Child, guardian: Guardian | None, by: User, on: date | None = None
) -> None:
    """The rule for who gives consent: a current guardian of the child, or the child from 14.
    An institution that is the guardian (国家监护) consents through its responsible person:
    `by` must work there in a role that records consent. `consent_record` enforces it; forms
    use `consent_giver_from` to show it on their field."""
    if guardian is None:
        if not may_consent_for_self(child, on):
            raise ValidationError(
                _("The child is under 14: only a guardian can give consent."),
                code="child_under_14",
            )
    elif guardian.child_id != child.pk or not guardian.is_active:
        raise ValidationError(_("Choose a current guardian of this child."), code="not_a_guardian")
    elif guardian.is_institution:
        if guardian.institution_id is None:
            raise ValidationError(
                _(
                    "This guardian does not name its institution: edit the guardian and "
                    "choose the institution first."
                ),
                code="institution_not_named",
            )
        if guardian.institution_id not in scope_for(by).consent_institution_ids:
            raise ValidationError(
                _(
                    "%(institution)s is the guardian: only its responsible person, a staff "
                    "member of %(institution)s, can record its consent."
                )
                % {"institution": guardian.institution},
                code="not_responsible_person",
            )


def consent_giver_choices(child: Child) -> list[tuple[str, str]]:
    """Who may give consent for the child, as form choices: the current guardians (an
    institution through its responsible person), and the child themself from 14."""
    choices = [
        (str(g.pk), str(g))
        for g in child.guardians.filter(is_active=True).select_related("institution")
    ]
    if may_consent_for_self(child):
        choices.append((CHILD_GIVES_CONSENT, str(_("The child themself"))))
    return choices


def consent_giver_from(
    child: Child, value: str, on: date | None = None, *, by: User
) -> Guardian | None:
    """The guardian a form's choice names (None: the child themself), checked by the rule for
    the user who records the consent."""
    guardian = None
    if value != CHILD_GIVES_CONSENT:
        guardian = (
            child.guardians.select_related("institution")
            .filter(pk=whole_number(value) or 0)
            .first()
        )
        if guardian is None:
            raise ValidationError(
                _("Choose a current guardian of this child."), code="not_a_guardian"
            )
    consent_giver_check(child=child, guardian=guardian, by=by, on=on)
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
    """Record consent for one purpose, given by a guardian or (from 14) the child."""
    consent_giver_check(child=child, guardian=guardian, by=by, on=given_on)
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
    """Withdrawal is honoured from now on; the record of the consent stays.

    The first withdrawal stands: one already recorded (perhaps a moment ago, by someone else)
    raises EditConflict with the consent as it is, and the later reason is not written over it.
    """
    updated = Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), withdrawn_by=by, withdrawal_reason=reason
    )
    current = Consent.objects.select_related("withdrawn_by").get(pk=consent.pk)
    if not updated:
        raise EditConflict(current)
    ended = _end_sharing_covered_by(current)
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=current.child,
        detail={"consent_withdrawn": consent.pk, "shares_ended": ended},
    )
    return current


def _end_sharing_covered_by(consent: Consent) -> int:
    """A withdrawn consent to share with an agency stops the sharing it covered: the child's
    one-off shares and granted access requests of that agency's staff end now (unless another
    consent to share with the agency is still on file). Returns how many ended."""
    if consent.purpose != Consent.Purpose.SHARING or consent.shared_with_id is None:
        return 0
    if has_consent(
        child=consent.child, purpose=Consent.Purpose.SHARING, agency=consent.shared_with
    ):
        return 0
    staff = Membership.objects.filter(agency_id=consent.shared_with_id, is_active=True)
    return ChildAccessGrant.objects.filter(
        child_id=consent.child_id,
        ended_at__isnull=True,
        source__in=[ChildAccessGrant.Source.SHARE, ChildAccessGrant.Source.ACCESS_REQUEST],
        user_id__in=staff.values("user_id"),
    ).update(ended_at=timezone.now())


def has_consent(*, child: Child, purpose: str, agency: Agency | None = None) -> bool:
    """Whether an unwithdrawn consent for the purpose (and agency, for sharing) is on file."""
    qs = Consent.objects.filter(child=child, purpose=purpose, withdrawn_at__isnull=True)
    if agency is not None:
        qs = qs.filter(shared_with=agency)
    return qs.exists()
