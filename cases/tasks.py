"""Background jobs of the children's app."""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import translation

from cases.imports.job import TIME_LIMIT, child_import_fail, child_import_run
from cases.retention import closed_files_deidentify


@shared_task(
    bind=True,
    name="cases.child_import_run",
    acks_late=True,
    max_retries=3,
    time_limit=TIME_LIMIT,
    soft_time_limit=TIME_LIMIT - 60,
)
def child_import_run_task(self: Any, job_id: int) -> None:
    """Check and import one uploaded file of children (idempotent: a finished job is left alone)."""
    # The job has no language of its own: its messages are in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        try:
            child_import_run(job_id=job_id)
        except (OperationalError, InterfaceError) as exc:
            # The database went away mid-run; nothing was saved, so the job can start again.
            if self.request.retries >= self.max_retries:
                child_import_fail(job_id=job_id)
                raise
            raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc


@shared_task(name="cases.deidentify_closed_files", time_limit=3600, soft_time_limit=3540)
def deidentify_closed_files_task(today: str | None = None) -> dict[str, Any]:
    """De-identify the files closed longer than RETENTION_YEARS_AFTER_CLOSE; returns what was
    done (children, and rows changed per table), which the job's result keeps."""
    done = closed_files_deidentify(today=date.fromisoformat(today) if today else None)
    return {"children": done.children, "rows": done.rows}
