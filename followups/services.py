"""Writes for notifications and visits (follow-up plans and tasks join in later issues)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from followups.models import Notification
from institutions.models import User


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    text: str,
    link: str = "",
    child: Any = None,
    params: dict[str, Any] | None = None,
) -> list[Notification]:
    """Tell each recipient (once, however often they are listed) in the app."""
    unique = {user.pk: user for user in recipients if user is not None and user.is_active}
    rows = [
        Notification(
            recipient=user,
            kind=kind,
            text=text[:300],
            link=link,
            child=child,
            params=params or {},
        )
        for user in unique.values()
    ]
    return Notification.objects.bulk_create(rows)


@transaction.atomic
def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications (all, or the given ones) read; returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


@transaction.atomic
def visit_record(*, child: Any, data: dict[str, Any], by: User) -> Any:
    """Log a visit; one with a serious concern is flagged: the child's risk rises and the
    township supervisors and the care team are told at once."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from assessments.services import child_refresh_risk
    from cases.models import AccessEvent
    from cases.selectors import care_team_users, responsible_staff
    from cases.services.access import access_record
    from followups.models import Visit
    from institutions.roles import Role

    fields = {
        "kind",
        "visited_on",
        "present",
        "concerns",
        "mood",
        "guardian_informed",
        "guardian_informed_note",
        "next_step",
        "note",
        "note_confidential",
    }
    values = {k: v for k, v in data.items() if k in fields}
    flagged = bool(set(values.get("concerns") or []) & Visit.SERIOUS_CONCERNS)
    visit = Visit.objects.create(child=child, visitor=by, flagged=flagged, **values)
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=child,
        detail={"visit": visit.pk, "flagged": flagged},
    )
    if flagged:
        child_refresh_risk(child=child)
        supervisors = responsible_staff(
            region_code=child.residence_region_id, roles=(Role.CHILD_SUPERVISOR,)
        )
        notify(
            recipients=[u for u in [*care_team_users(child=child), *supervisors] if u.pk != by.pk],
            kind="flagged_visit",
            text=_("A visit to %(record)s found a serious concern: please review it.")
            % {"record": child.record_number},
            link=reverse("followups:visit_detail", args=[visit.pk]),
            child=child,
        )
    return visit


@transaction.atomic
def visit_review(*, visit: Any, by: User, note: str) -> Any:
    """A supervisor's review of a flagged visit, with a note; the first review stands."""
    from cases.models import AccessEvent
    from cases.services.access import access_record
    from followups.models import Visit

    updated = Visit.objects.filter(pk=visit.pk, reviewed_at__isnull=True).update(
        reviewed_by=by, reviewed_at=timezone.now(), review_note=note
    )
    visit.refresh_from_db()
    if updated:
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=visit.child,
            detail={"visit_reviewed": visit.pk},
        )
    return visit
