"""Writes for visits (follow-up plans and tasks join in later issues)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Child, RiskLevel
from cases.selectors.staff import care_team_users, responsible_staff
from cases.services.risk import child_refresh_risk
from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from followups.models import Visit
from institutions.models import User
from institutions.roles import Role


def flagged_visit_risks(child: Child) -> list[int]:
    """A flagged visit in the last VISIT_RISK_DAYS raises the child's risk to high (a source of
    the child's risk)."""
    since = timezone.localdate() - timedelta(days=settings.VISIT_RISK_DAYS)
    recent = Visit.objects.filter(child=child, flagged=True, visited_on__gte=since).exists()
    return [RiskLevel.HIGH] if recent else []


@transaction.atomic
def visit_record(*, child: Any, data: dict[str, Any], by: User) -> Any:
    """Log a visit; one with a serious concern is flagged: the child's risk rises and the
    township supervisors and the care team are told at once."""
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
