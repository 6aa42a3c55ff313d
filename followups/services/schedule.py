"""The scheduler's writes: tasks planned from the data, closed by the records that fulfil them,
marked overdue, reminded and escalated, each in a fixed number of statements (DESIGN.md §6).

Every function takes `today` so that the beat jobs and `manage.py run_scheduled_jobs --today`
run the same code; nothing here loops over children.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from core.notifications import notify_each
from followups.models import Task, TaskPolicy
from followups.scheduling import PENDING, KindResult, plan_tasks
from institutions.models import User
from institutions.services import region_holders_refresh

# Which record closes which kind of task (the sender of `child_record_saved`, as "app.Model").
# A task about one record (an alert) is closed only by that record.
FULFILS: dict[str, str] = {
    "assessments.Assessment": Task.Kind.REASSESSMENT,
    "cases.CarePlanReview": Task.Kind.CARE_PLAN_REVIEW,
    "assessments.Alert": Task.Kind.ALERT_UNREVIEWED,
}

# Kinds whose task is about one record (its `source_id`), closed when that record is.
SOURCE_KINDS = frozenset({Task.Kind.ALERT_UNREVIEWED, Task.Kind.REFERRAL_UNANSWERED})

# Visits close the task of their kind.
VISIT_FULFILS: dict[str, str] = {
    "home_visit": Task.Kind.HOME_VISIT,
    "followup_visit": Task.Kind.FOLLOWUP_VISIT,
}


def lookaheads() -> dict[str, int]:
    """Days ahead each kind of task is made (the task policy; one query)."""
    return dict(TaskPolicy.objects.values_list("kind", "lookahead_days"))


def tasks_plan(*, today: date, child_ids: Iterable[int] | None = None) -> dict[str, KindResult]:
    """Make, move and cancel tasks of every kind from the data: for all children (the periodic
    job) or for the children a write just touched."""
    with transaction.atomic():
        if child_ids is None:
            # A membership changed in bulk (no signal) is caught up before the full run.
            region_holders_refresh()
        return plan_tasks(today=today, child_ids=child_ids, lookaheads=lookaheads())


def tasks_fulfil(
    *,
    child_id: int,
    kind: str,
    record: str,
    on: date | None = None,
    today: date | None = None,
    source_id: int | None = None,
) -> int:
    """Close the child's pending task of `kind` as done by `record` ("visit:12", dated `on`),
    then plan the child's tasks again (the next one falls due from this record).

    A record dated before the task was due fulfils it early: the task moves to the record's
    date as it closes, so the next one (due from the record) has a date of its own. A second
    record of the same day leaves the next task open: that day's task is already done. For a
    task about one record (`source_id`: an alert, a referral), only that record's closing
    fulfils it: closing another alert of the child leaves the task about the first one open."""
    today = today or timezone.localdate()
    with transaction.atomic():
        pending = Task.objects.select_for_update().filter(
            child_id=child_id, kind=kind, status__in=PENDING
        )
        if source_id is not None:
            pending = pending.filter(source_id=source_id)
        task = pending.first()
        done = 0
        if task is not None:
            due = min(task.due_on, on) if on else task.due_on
            same_day = Task.objects.filter(child_id=child_id, kind=kind, due_on=due).exclude(
                pk=task.pk
            )
            if not same_day.exists():
                done = Task.objects.filter(pk=task.pk).update(
                    status=Task.Status.DONE,
                    due_on=due,
                    closed_at=timezone.now(),
                    closed_by_record=record[:60],
                )
        tasks_plan(today=today, child_ids=[child_id])
    return done


def tasks_mark_overdue(*, today: date) -> int:
    """Open tasks past their due date become overdue (one statement)."""
    return Task.objects.filter(status=Task.Status.OPEN, due_on__lt=today).update(
        status=Task.Status.OVERDUE
    )


def _holder_sql(digits: int) -> str:
    """The earliest holder of a role (a parameter) for the first `digits` digits of the child's
    region, other than the task's assignee (`institutions_region_holder`)."""
    return f"""(SELECT h.user_id FROM institutions_region_holder h
      WHERE h.code = left(c.residence_region_id, {digits}) AND h.role = %s
        AND h.user_id IS DISTINCT FROM t.assignee_id ORDER BY h.membership_id LIMIT 1)"""  # noqa: S608


# The supervisor a task escalates to: the child's township child supervisor, else the county's,
# else the county's agency supervisor; never the assignee themself.
_SUPERVISOR_SQL = f"COALESCE({_holder_sql(9)}, {_holder_sql(6)}, {_holder_sql(6)})"


def tasks_escalate(*, today: date) -> dict[int, int]:
    """Tasks overdue past their kind's threshold escalate to the assignee's supervisor, who is
    told once per run however many tasks reach them. Returns {supervisor id: tasks}."""
    region_holders_refresh()  # a membership changed in bulk (no signal) is caught up
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH e AS (
                UPDATE followups_task t SET status = 'escalated', escalated_at = now(),
                    escalated_to_id = {_SUPERVISOR_SQL}
                FROM followups_taskpolicy p, cases_child c
                WHERE p.kind = t.kind AND c.id = t.child_id
                  AND t.status IN ('open', 'overdue')
                  AND t.due_on + p.escalate_after_days <= %s
                RETURNING t.escalated_to_id)
            SELECT escalated_to_id, count(*) FROM e
            WHERE escalated_to_id IS NOT NULL GROUP BY escalated_to_id""",  # noqa: S608
            ["child_supervisor", "child_supervisor", "agency_supervisor", today],
        )
        counts = dict(cursor.fetchall())
    notify_each(
        messages=[
            (supervisor, {"count": counts[supervisor.pk]})
            for supervisor in User.objects.filter(pk__in=list(counts), is_active=True)
        ],
        kind="tasks_escalated",
        link=reverse("followups:team_tasks"),
    )
    return counts


def tasks_remind(*, today: date) -> dict[int, tuple[int, int, int]]:
    """Remind each assignee of tasks coming due (within the kind's reminder days) and of tasks
    due today or past: at most one reminder before and one on or after the due date per task,
    and one message per person per run (a digest), however many tasks and however long the
    scheduler was down. Returns {user id: (overdue, due today, due soon)}."""
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH r AS (
                UPDATE followups_task t SET reminded_on = %s
                FROM followups_taskpolicy p
                WHERE p.kind = t.kind AND t.status = ANY(%s) AND t.assignee_id IS NOT NULL
                  AND ((t.due_on > %s AND t.due_on - p.remind_days_before <= %s
                        AND t.reminded_on IS NULL)
                       OR (t.due_on <= %s
                           AND (t.reminded_on IS NULL OR t.reminded_on < t.due_on)))
                RETURNING t.assignee_id, t.due_on)
            SELECT assignee_id,
                   count(*) FILTER (WHERE due_on < %s),
                   count(*) FILTER (WHERE due_on = %s),
                   count(*) FILTER (WHERE due_on > %s)
            FROM r GROUP BY assignee_id""",
            [today, PENDING, today, today, today, today, today, today],
        )
        counts = {row[0]: (row[1], row[2], row[3]) for row in cursor.fetchall()}
    notify_each(
        messages=[
            (user, dict(zip(("overdue", "today", "soon"), counts[user.pk], strict=True)))
            for user in User.objects.filter(pk__in=list(counts), is_active=True)
        ],
        kind="tasks_due",
        link=reverse("followups:my_tasks"),
    )
    return counts


def on_child_record_saved(
    sender: Any,
    *,
    child_id: int,
    record_id: int | None = None,
    on: date | None = None,
    **_: Any,
) -> None:
    """The receiver of `core.signals.child_record_saved`: close what the record fulfils and
    move the child's other tasks."""
    label = f"{sender._meta.app_label}.{sender.__name__}"
    kind = FULFILS.get(label)
    if kind is not None and record_id is not None:
        about_record = kind in SOURCE_KINDS
        tasks_fulfil(
            child_id=child_id,
            kind=kind,
            record=f"{sender._meta.model_name}:{record_id}",
            on=on or (timezone.localdate() if about_record else None),
            source_id=record_id if about_record else None,
        )
    else:
        tasks_plan(today=timezone.localdate(), child_ids=[child_id])
