"""Creating, editing, closing and handing over a child's file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.identity import name_key, protect_national_id
from cases.models import CareTeamMember, Child, ChildAccessGrant, Handover
from cases.selectors.staff import responsible_staff, staff_of
from cases.services.access import grants_end
from cases.snapshots import file_snapshot
from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from core.signals import child_record_saved
from core.versioning import EditConflict as EditConflict  # the views' name for it
from core.versioning import update_if_version
from institutions.models import Institution, Region, User

V = TypeVar("V", bound=Model)


class DuplicateChild(Exception):
    """A child with the same national ID is already registered (anywhere)."""

    def __init__(self, existing: Child) -> None:
        super().__init__("duplicate national ID")
        self.existing = existing


# Fields an edit may change; identity numbers go through protect_national_id.
EDITABLE_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "residence_region",
    "household_region",
    "categories",
    "school",
    "grade",
    "class_name",
    "residential_institution",
    "notes",
    "notes_confidential",
)


def _next_child_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('cases_child', 'id'))")
        (value,) = cursor.fetchone()
    return int(value)


def _record_number(pk: int, region: Region) -> str:
    """Readable and unique: the county code, then the file's number (990101-00001234)."""
    return f"{region.code[:6]}-{pk:08d}"


def build_child(*, data: dict[str, Any], national_id: str = "", by: User | None) -> Child:
    """An unsaved child from validated data (shared by the form and the import)."""
    child = Child(**{k: v for k, v in data.items() if k in EDITABLE_FIELDS}, created_by=by)
    child.name_pinyin = name_key(child.name)
    for field, value in protect_national_id(national_id).items():
        setattr(child, field, value)
    return child


@transaction.atomic
def child_create(
    *, data: dict[str, Any], national_id: str = "", by: User, request: Any = None
) -> Child:
    """Register a child from validated data; refuses a national ID already on file."""
    child = build_child(data=data, national_id=national_id, by=by)
    if child.national_id_hash:
        existing = Child.objects.filter(national_id_hash=child.national_id_hash).first()
        if existing is not None:
            raise DuplicateChild(existing)
    child.pk = _next_child_id()
    child.record_number = _record_number(child.pk, child.residence_region)
    child.save(force_insert=True)
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=child,
        request=request,
        detail={"created": True},
    )
    return child


def save_if_unchanged(
    *,
    instance: V,
    expected_version: int,
    values: dict[str, Any],
    by: User,
    detail: dict,
    request: Any = None,
) -> V:
    """Write `values` to a versioned record of a child's file (the child itself, a guardian…)
    only if it is still at `expected_version`, and log the change; otherwise EditConflict.

    The version check and the write are one conditional UPDATE, so of two people saving at once
    exactly one succeeds and the other's change is refused, never silently overwritten.
    """
    if isinstance(instance, Child):
        values = {**values, "updated_at": timezone.now()}
    current = update_if_version(instance=instance, expected_version=expected_version, values=values)
    child = current if isinstance(current, Child) else current.child  # type: ignore[attr-defined]
    access_record(
        user=by, action=AccessEvent.Action.CHANGE, child=child, request=request, detail=detail
    )
    return current


@transaction.atomic
def child_update(
    *,
    child: Child,
    changes: dict[str, Any],
    expected_version: int,
    by: User,
    national_id: str | None = None,
    request: Any = None,
) -> Child:
    """Save validated changes if nobody saved in between; otherwise raise EditConflict."""
    values = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    if "name" in values:
        values["name_pinyin"] = name_key(values["name"])
    if national_id is not None:
        values.update(protect_national_id(national_id))
    saved = save_if_unchanged(
        instance=child,
        expected_version=expected_version,
        values=values,
        by=by,
        request=request,
        detail={"fields": sorted(set(values) - {"name_pinyin"})},
    )
    child_record_saved.send(sender=Child, child_id=child.pk, by=by)
    return saved


@transaction.atomic
def child_close(*, child: Child, reason: str, expected_version: int, by: User) -> Child:
    """Close a file with a reason; it stays, with its history, and can be found and reopened."""
    closed = save_if_unchanged(
        instance=child,
        expected_version=expected_version,
        values={
            "status": Child.Status.CLOSED,
            "status_reason": reason,
            "closed_at": timezone.now(),
        },
        by=by,
        detail={"closed": reason},
    )
    child_record_saved.send(sender=Child, child_id=child.pk, by=by)
    return closed


@transaction.atomic
def child_reopen(*, child: Child, expected_version: int, by: User) -> Child:
    """Reopen a closed file (not one already de-identified: a returning child is registered
    again, since what identified them is gone)."""
    if child.deidentified_at is not None:
        raise ValidationError(
            _("This file was de-identified and cannot be reopened; register the child again.")
        )
    reopened = save_if_unchanged(
        instance=child,
        expected_version=expected_version,
        values={"status": Child.Status.ACTIVE, "status_reason": "", "closed_at": None},
        by=by,
        detail={"reopened": True},
    )
    child_record_saved.send(sender=Child, child_id=child.pk, by=by)
    return reopened


@dataclass(frozen=True)
class HandoverTarget:
    region: Region
    school: Institution | None
    institution: Institution | None


@transaction.atomic
def child_handover(
    *,
    child: Child,
    target: HandoverTarget,
    reason: str,
    by: User,
    expected_version: int | None = None,
) -> Handover:
    """Move a child to another region (and school or institution), history intact.

    The receiving child directors and supervisors (and the new school's or institution's staff)
    are told. The sending side's care-team members leave the team; what the sending side wrote
    stays readable to it through the hand-over record, frozen as it was then (`snapshot`).
    A hand-over based on an outdated version of the file is refused (EditConflict).
    """

    locked = Child.objects.select_for_update().get(pk=child.pk)
    if expected_version is not None and locked.version != expected_version:
        raise EditConflict(locked)
    handover = Handover.objects.create(
        child=locked,
        from_region_id=locked.residence_region_id,
        to_region=target.region,
        from_school_id=locked.school_id,
        to_school=target.school,
        from_institution_id=locked.residential_institution_id,
        to_institution=target.institution,
        reason=reason,
        child_version=locked.version,
        handed_over_by=by,
        snapshot=file_snapshot(locked),
    )
    Child.objects.filter(pk=locked.pk).update(
        residence_region=target.region,
        school=target.school,
        residential_institution=target.institution,
        status=Child.Status.ACTIVE,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    leaving_roles = [CareTeamMember.TeamRole.CHILD_DIRECTOR, CareTeamMember.TeamRole.SOCIAL_WORKER]
    if target.school is None or target.school.pk != locked.school_id:
        leaving_roles += [CareTeamMember.TeamRole.MENTOR, CareTeamMember.TeamRole.COUNSELLOR]
    for member in CareTeamMember.objects.filter(
        child=locked, is_active=True, team_role__in=leaving_roles
    ).select_related("user"):
        end_team_membership(member=member, by=by)
    recipients = list(responsible_staff(region_code=target.region.code))
    for organisation in (target.school, target.institution):
        if organisation is not None:
            recipients += list(staff_of(institution=organisation))
    notify(
        recipients=[user for user in recipients if user.pk != by.pk],
        kind="handover",
        link=reverse("cases:child_detail", args=[locked.pk]),
        child=locked,
        params={"region": target.region.name, "handover": handover.pk},
    )
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=locked,
        detail={"handover": handover.pk, "to_region": target.region.code},
    )
    # The child's open tasks move to the receiving side's people.
    child_record_saved.send(sender=Child, child_id=locked.pk, by=by)
    return handover


def end_team_membership(*, member: CareTeamMember, by: User) -> None:
    """End a care-team place and the grant it gave (other sources' grants stay)."""
    member.is_active = False
    member.ended_on = timezone.localdate()
    member.save(update_fields=["is_active", "ended_on"])
    if member.user is not None:
        grants_end(
            source=ChildAccessGrant.Source.CARE_TEAM,
            source_id=member.pk,
            by=by,
            child=member.child,
        )
