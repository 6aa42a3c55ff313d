"""Background jobs of followups: the scheduler (tasks planned, reminded, escalated), and the
delivery of notifications by e-mail and text message (at once, and the daily digest). The
scheduler's jobs take an optional `today` (ISO date) so that `manage.py run_scheduled_jobs
--today` runs the same code for a chosen day; delivery always works as of now."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from followups.delivery import deliveries_send, digests_send
from followups.services.schedule import (
    tasks_escalate,
    tasks_mark_overdue,
    tasks_plan,
    tasks_remind,
)

logger = logging.getLogger(__name__)


def _day(today: str | None) -> date:
    return date.fromisoformat(today) if today else timezone.localdate()


@shared_task(
    name="followups.plan_tasks",
    time_limit=600,
    soft_time_limit=570,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def plan_tasks_job(today: str | None = None) -> dict[str, int]:
    """Make the tasks that fall due soon, move those whose due date changed, cancel those no
    longer due: set-based, idempotent, catching up after a pause."""
    results = tasks_plan(today=_day(today))
    summary: dict[str, int] = {}
    for kind, result in results.items():
        summary[f"{kind}_created"] = result.created
        summary[f"{kind}_moved"] = result.moved
        summary[f"{kind}_cancelled"] = result.cancelled
    logger.info("tasks planned: %s", summary)
    return summary


@shared_task(
    name="followups.remind_and_escalate",
    time_limit=600,
    soft_time_limit=570,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
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


@shared_task(
    name="followups.deliver_notifications",
    time_limit=300,
    soft_time_limit=270,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def deliver_notifications_job() -> dict[str, int]:
    """Send the notifications' pending e-mails and text messages, retry failed ones whose wait
    is over, and tell the system administrators of those that failed for good."""
    run = deliveries_send()
    if run.sent or run.retried or run.failed:
        logger.info("notifications delivered: %s", asdict(run))
    return asdict(run)


@shared_task(
    name="followups.send_digests",
    time_limit=600,
    soft_time_limit=570,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def send_digests_job() -> dict[str, int]:
    """Send each person who chose the daily digest one message per channel gathering what
    waited for it."""
    made, run = digests_send()
    summary = {"digests": made, **asdict(run)}
    logger.info("digests sent: %s", summary)
    return summary
