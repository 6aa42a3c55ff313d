"""Scoped reads of visits and the signed-in user's work list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Window,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from assessments.models import Alert
from cases.selectors.scope import child_scope_q, register_child_related
from core.access import register
from core.models import AccessEvent
from followups.activities import activity_scope_q
from followups.models import Activity, ActivityAttendance, FollowupPlan, Task, Visit
from institutions.models import User


def visits_visible_to(user: User | AnonymousUser) -> QuerySet[Visit]:
    """Visits to the children `user` may see."""
    return Visit.objects.filter(child_scope_q(user, via="child__")).select_related(
        "child", "visitor"
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


# --- Work lists: the tasks the scheduler made, for the person they fall to and their supervisor

# How many of a person's tasks the home page shows; the rest are a tap away on /tasks/.
HOME_TASKS = 20


def followup_plans_visible_to(user: User | AnonymousUser) -> QuerySet[FollowupPlan]:
    """Follow-up plans of the children `user` may see."""
    return FollowupPlan.objects.filter(child_scope_q(user, via="child__"))


def tasks_visible_to(user: User | AnonymousUser) -> QuerySet[Task]:
    """Tasks about the children `user` may see (a task assigned to someone who has since lost
    the child, until the scheduler hands it on, is not shown to them)."""
    return Task.objects.filter(child_scope_q(user, via="child__"))


def _is_overdue(today: date) -> ExpressionWrapper:
    return ExpressionWrapper(Q(due_on__lt=today), output_field=BooleanField())


def my_tasks(user: User | AnonymousUser, *, today: date | None = None) -> QuerySet[Task]:
    """The user's tasks still to do, about children in their scope: overdue first, then by the
    child's risk (crisis first), then the soonest due; each row knows `is_overdue`."""
    if not user.is_authenticated:
        return Task.objects.none()
    today = today or timezone.localdate()
    return (
        tasks_visible_to(user)
        .filter(assignee_id=user.pk, status__in=Task.PENDING)
        .annotate(is_overdue=_is_overdue(today))
        .select_related("child")
        .order_by("-is_overdue", "-child__risk_level", "due_on", "id")
    )


def my_tasks_first(
    user: User | AnonymousUser, *, limit: int = HOME_TASKS, today: date | None = None
) -> tuple[Sequence[Task], int]:
    """The first `limit` of `my_tasks` and how many there are in all, in one query."""
    rows = list(my_tasks(user, today=today).annotate(total=Window(Count("pk")))[:limit])
    return rows, int(getattr(rows[0], "total", 0)) if rows else 0


@dataclass(frozen=True)
class TeamOverdue:
    """A supervisor's view of the overdue tasks of the children they oversee: one row per
    person they fall to (`by_person`: dicts of assignee_id, assignee__display_name,
    assignee__username, tasks, oldest, to_me; assignee_id None for tasks nobody holds) and the
    tasks escalated to the supervisor themself."""

    by_person: QuerySet[Any]
    escalated_to_me: QuerySet[Task]


SUPERVISE_TASKS = "followups.review_visit"


def team_overdue(user: User | AnonymousUser, *, today: date | None = None) -> QuerySet[Task]:
    """For supervisors: the overdue and escalated tasks of the children in their scope (what
    the team page counts by person, and its export lists). Nothing for anyone else."""
    if not user.is_authenticated or not user.has_perm(SUPERVISE_TASKS):
        return Task.objects.none()
    today = today or timezone.localdate()
    return tasks_visible_to(user).filter(
        Q(due_on__lt=today) | Q(status=Task.Status.ESCALATED), status__in=Task.PENDING
    )


def team_overdue_by_person(user: User, *, today: date | None = None) -> TeamOverdue:
    """For supervisors (who review flagged visits): the overdue and escalated tasks of children
    in their scope by person, most first; and those escalated to them, highest risk first.
    Nothing for anyone else. Each part is one query."""
    if not user.is_authenticated or not user.has_perm(SUPERVISE_TASKS):
        return TeamOverdue(Task.objects.none().values("assignee_id"), Task.objects.none())
    today = today or timezone.localdate()
    overdue = team_overdue(user, today=today)
    by_person = (
        overdue.order_by()
        .values("assignee_id", "assignee__display_name", "assignee__username")
        .annotate(
            tasks=Count("pk"),
            oldest=Min("due_on"),
            to_me=Count("pk", filter=Q(escalated_to_id=user.pk)),
        )
        .order_by("-tasks", "oldest", "assignee_id")
    )
    escalated = (
        overdue.filter(status=Task.Status.ESCALATED, escalated_to_id=user.pk)
        .annotate(is_overdue=_is_overdue(today))
        .select_related("child", "assignee")
        .order_by("-child__risk_level", "due_on", "id")
    )
    return TeamOverdue(by_person, escalated)


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
    register_child_related(FollowupPlan)
    register_child_related(Task)
    register(Activity, q=activity_scope_q, child_id=None)
