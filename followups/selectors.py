"""Scoped reads of visits and the signed-in user's work list."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Case,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from assessments.models import Alert
from cases.models import Child
from cases.selectors.scope import child_scope_q, children_visible_to, register_child_related
from core.access import register
from core.models import AccessEvent
from followups.activities import activity_scope_q
from followups.models import Activity, ActivityAttendance, Visit
from institutions.models import User


def visits_visible_to(user: User | AnonymousUser) -> QuerySet[Visit]:
    """Visits to the children `user` may see."""
    return Visit.objects.filter(child_scope_q(user, via="child__")).select_related(
        "child", "visitor"
    )


def visits_due(*, user: User, limit: int = 20) -> QuerySet[Child]:
    """Active children in scope by when their next visit is due, soonest (most overdue) first.

    Due = last visit + the default interval for the child's risk level; a child never visited
    is due from the day the file was opened. One query, bounded by `limit`.
    """
    last_visit = (
        Visit.objects.filter(child=OuterRef("pk")).order_by("-visited_on").values("visited_on")[:1]
    )
    interval = Case(
        *[
            When(risk_level=level, then=Value(timedelta(days=days)))
            for level, days in settings.VISIT_INTERVAL_DAYS.items()
        ],
        default=Value(timedelta(days=90)),
    )
    return (
        children_visible_to(user)
        .filter(status=Child.Status.ACTIVE)
        .annotate(last_visit=Subquery(last_visit, output_field=DateField()))
        .annotate(
            due_on=Cast(
                Coalesce(
                    ExpressionWrapper(F("last_visit") + interval, output_field=DateTimeField()),
                    Cast(TruncDate("created_at"), DateTimeField()),
                ),
                DateField(),
            )
        )
        .filter(due_on__lte=timezone.localdate() + timedelta(days=7))
        .select_related("residence_region")
        .order_by("due_on", "id")[:limit]
    )


def flagged_visits_to_review(*, user: User, limit: int = 20) -> QuerySet[Visit]:
    """Flagged visits nobody has reviewed yet, oldest first, for users who review them."""
    if not user.has_perm("followups.review_visit"):
        return Visit.objects.none()
    return (
        visits_visible_to(user)
        .filter(flagged=True, reviewed_at__isnull=True)
        .order_by("created_at", "id")[:limit]
    )


def alert_visits(*, alert: Alert) -> QuerySet[Visit]:
    """The flagged visits that raised or joined the alert, oldest first: each visit's entry in
    the access log names its alert (`visit_flag_alert`), so no column links them."""
    visit_ids = (
        AccessEvent.objects.filter(
            child_id=alert.child_id, action=AccessEvent.Action.CHANGE, detail__alert=alert.pk
        )
        .annotate(visit_id=Cast(KT("detail__visit"), IntegerField()))
        .values("visit_id")
    )
    return (
        Visit.objects.filter(child_id=alert.child_id, flagged=True, pk__in=visit_ids)
        .select_related("visitor")
        .order_by("visited_on", "id")
    )


def register_scopes() -> None:
    """The scoping of this app's models for the one fetch (called from ready()). An activity
    is scoped by its organiser, region and attendees, and holds no one child's data."""
    register_child_related(Visit)
    register_child_related(ActivityAttendance)
    register(Activity, q=activity_scope_q, child_id=None)
