"""The base class of every Celery task of the project (config.celery): a job queued through the
outbox (core.jobs) runs once per outbox row. Only the standard library and Celery are imported
at module level: Celery loads this class before Django is set up."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import Task

logger = logging.getLogger(__name__)


def _outbox_key(task_id: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(task_id))
    except ValueError:
        return None


class OnceTask(Task):
    """A Celery task that runs once per outbox row: a message whose row is finished is
    skipped, and the row is marked finished when the job returns. Messages that come from no
    outbox row (beat's schedule, a direct call) run as usual."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from django.utils import timezone

        from core.models import OutboxMessage

        key = _outbox_key(getattr(self.request, "id", None))
        row = OutboxMessage.objects.filter(key=key) if key is not None else None
        if row is not None and row.filter(finished_at__isnull=False).exists():
            logger.info("%s %s ran already; this delivery is skipped", self.name, key)
            return None
        result = super().__call__(*args, **kwargs)
        if row is not None:
            row.update(finished_at=timezone.now())
        return result
