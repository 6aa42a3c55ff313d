"""Writes for visits (follow-up plans and tasks join in later issues)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Alert
from assessments.services import alert_raise
from cases.models import Child, RiskLevel
from cases.selectors.staff import care_team_users, responsible_staff
from cases.services.risk import child_refresh_risk
from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from followups.models import Visit
from followups.services.schedule import VISIT_FULFILS, tasks_fulfil
from institutions.models import User
from institutions.roles import Role


@transaction.atomic
def visit_record(*, child: Any, data: dict[str, Any], by: User) -> Any:
    """Log a visit; one with a serious concern is flagged and raises (or attaches to) the
    child's "flagged visit" alert, which keeps the child's risk high until it is closed."""
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
    if child.status == Child.Status.CLOSED:
        # A visit typed on a phone without a network may arrive after the file was closed.
        raise ValidationError(
            _("This child's file was closed, so the visit was not saved. Reopen the file first.")
        )
    values = {k: v for k, v in data.items() if k in fields}
    flagged = bool(set(values.get("concerns") or []) & Visit.SERIOUS_CONCERNS)
    visit = Visit.objects.create(child=child, visitor=by, flagged=flagged, **values)
    detail: dict[str, Any] = {"visit": visit.pk, "flagged": flagged}
    if flagged:
        detail["alert"] = visit_flag_alert(visit=visit, by=by).pk
    access_record(user=by, action=AccessEvent.Action.CHANGE, child=child, detail=detail)
    kind = VISIT_FULFILS.get(visit.kind)
    if kind is not None:
        tasks_fulfil(child_id=child.pk, kind=kind, record=f"visit:{visit.pk}", on=visit.visited_on)
    return visit


def visit_flag_alert(*, visit: Visit, by: User) -> Alert:
    """A flagged visit raises the child's open "flagged visit" alert, or attaches to it: the
    alert holds the child's risk at high until a responsible person closes it with an outcome.
    A new alert tells everyone responsible; a visit that attaches to an open one tells the
    township supervisors and the care team, who review each flagged visit. Never the visitor.
    The access log entry of the visit names the alert (`alert_visits` reads it back)."""
    child = visit.child
    already_open = Alert.objects.filter(
        child=child, reason=Alert.Reason.FLAGGED_VISIT, acknowledged_at__isnull=True
    ).exists()
    alert = alert_raise(
        child=child,
        assessment=None,
        reason=Alert.Reason.FLAGGED_VISIT,
        risk_level=RiskLevel.HIGH,
        by=by,
    )
    child_refresh_risk(child=child)
    if already_open:
        supervisors = responsible_staff(
            region_code=child.residence_region_id, roles=(Role.CHILD_SUPERVISOR,)
        )
        notify(
            recipients=[u for u in [*care_team_users(child=child), *supervisors] if u.pk != by.pk],
            kind="flagged_visit",
            link=reverse("followups:visit_detail", args=[visit.pk]),
            child=child,
            params={"visit": visit.pk},
        )
    return alert


@transaction.atomic
def visit_review(*, visit: Any, by: User, note: str) -> Any:
    """A supervisor's review of a flagged visit, with a note; the first review stands. The
    visitor is told (the note itself stays in the app, on the visit)."""
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
        notify(
            recipients=[visit.visitor] if visit.visitor_id != by.pk else [],
            kind="visit_reviewed",
            link=reverse("followups:visit_detail", args=[visit.pk]),
            child=visit.child,
            params={"visit": visit.pk, "user": str(by)},
        )
    return visit
