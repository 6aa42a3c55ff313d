"""Background jobs of followups: the scheduler (tasks planned, reminded, escalated). Each takes
an optional `today` (ISO date) so that `manage.py run_scheduled_jobs --today` runs the same code
for a chosen day."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from followups.services.schedule import (
    tasks_escalate,
    tasks_mark_overdue,
    tasks_plan,
    tasks_remind,
)

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 3,
}


def _day(today: str | None) -> date:
    return date.fromisoformat(today) if today else timezone.localdate()


@shared_task(name="followups.plan_tasks", time_limit=600, soft_time_limit=570, **RETRY)
def plan_tasks_job(today: str | None = None) -> dict[str, int]:
    """Make the tasks that fall due soon, move those whose due date changed, cancel those no
    longer due: set-based, idempotent, catching up after a pause."""
    results = tasks_plan(today=_day(today))
    summary = {
        kind: r.created for kind, r in results.items()
    } | {f"{kind}_moved": r.moved for kind, r in results.items()} | {
        f"{kind}_cancelled": r.cancelled for kind, r in results.items()
    }
    logger.info("tasks planned: %s", summary)
    return summary


@shared_task(name="followups.remind_and_escalate", time_limit=600, soft_time_limit=570, **RETRY)
def remind_and_escalate_job(today: str | None = None) -> dict[str, int]:
    """Mark open tasks past due as overdue, escalate those overdue past their threshold, and send
    each assignee one reminder message for what is coming due and overdue."""
    day = _day(today)
    overdue = tasks_mark_overdue(today=day)
    escalated = tasks_escalate(today=day)
    reminded = tasks_remind(today=day)
    summary = {
        "overdue": overdue,
        "escalated": sum(escalated.values()),
        "reminded_people": len(reminded),
    }
    logger.info("tasks reminded and escalated: %s", summary)
    return summary
