"""Background jobs of the ground floor: long exports, dropping their expired files, and the
month partitions of the largest tables."""

from __future__ import annotations

from datetime import date
from importlib import import_module
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from core.exports import export_job_fail, export_job_run, export_jobs_purge
from core.jobs import outbox_relay
from core.partitions import MONTHS_AHEAD, ensure_monthly_partitions
from core.retention import access_log_archive


@shared_task(
    bind=True,
    name="core.export_run",
    acks_late=True,
    max_retries=3,
    time_limit=1800,
    soft_time_limit=1740,
)
def export_run_task(self: Any, job_id: int) -> None:
    """Write one queued export (idempotent: a finished job is left alone)."""
    try:
        export_job_run(job_id=job_id)
    except (OperationalError, InterfaceError) as exc:
        # The database went away mid-run; nothing was stored, so the job can start again.
        if self.request.retries >= self.max_retries:
            export_job_fail(job_id=job_id)
            raise
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc
    except Exception:  # a time limit, or a bug: the page says it failed, the log says why
        export_job_fail(job_id=job_id)
        raise


@shared_task(name="core.purge_exports", time_limit=300, soft_time_limit=270)
def purge_exports_task() -> int:
    """Drop the files of exports past their expiry; returns how many were dropped."""
    return export_jobs_purge()


@shared_task(name="core.ensure_partitions", time_limit=600, soft_time_limit=570)
def ensure_partitions_task(today: str | None = None) -> int:
    """Make the month partitions of the coming months (and of any row in a DEFAULT partition);
    returns how many were made. Daily, so that a run that gave up waiting for a lock (held by a
    long read) is made up the next day, months before the partition is needed."""
    made = ensure_monthly_partitions(
        MONTHS_AHEAD,
        today=date.fromisoformat(today) if today else None,
        lock_timeout="5s",
    )
    return len(made)


@shared_task(name="core.relay_outbox", time_limit=120, soft_time_limit=110)
def relay_outbox_task() -> int:
    """Hand the jobs that wait in the outbox to the broker (they were queued while it was down);
    returns how many were sent."""
    return outbox_relay()


@shared_task(name="core.archive_access_log", time_limit=3600, soft_time_limit=3540)
def archive_access_log_task() -> list[str]:
    """Archive the months of the access log past its retention to files and move them out;
    returns the partitions archived."""
    return [done.partition for done in access_log_archive()]


@shared_task(name="core.clear_sessions", time_limit=600, soft_time_limit=570)
def clear_sessions_task() -> None:
    """Drop expired sessions from the database (they are kept there so that a user stays signed
    in while Redis is down)."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
