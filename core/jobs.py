"""Queueing background jobs through an outbox: nothing a user saves waits on, or is lost to, the
broker.

`enqueue` writes the job into `OutboxMessage` inside the caller's transaction (a rolled-back
change queues nothing, a committed one always has its job) and, once the transaction commits,
tries to hand it to Celery at once. When the broker is down or hung, the row stays unsent and
the page answers all the same; `outbox_relay` (a scheduled job every half minute, and each
worker as it starts) sends whatever is waiting when the broker answers again.

Exactly once, by construction:

- a row is handed over by one relay at a time: it is claimed with a conditional update
  (`claimed_until`), and marked sent after the broker took it;
- the message carries the row's unique key as its task id; the job marks the row finished
  (`OnceTask`), and a message whose row is finished is not run again (a relay that died
  between sending and marking sent, or a redelivery after the job completed);
- the jobs themselves are idempotent (an import or an export checks its own state first), so a
  worker killed mid-job leaves the message to be delivered again and completed.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.breaker import Breaker
from core.models import OutboxMessage

logger = logging.getLogger(__name__)

# How long a relay holds a row it is handing over (a relay that died frees it after this).
CLAIM = timedelta(seconds=60)
# The broker, as the web and the relay see it: after a failure, leave it for a few seconds.
BROKER_BREAKER = Breaker("the job queue (Celery broker)")


def enqueue(task_name: str, *args: Any) -> OutboxMessage:
    """Queue the Celery task `task_name` with `args`: written now in the current transaction,
    sent once it commits (or later by the relay)."""
    message = OutboxMessage.objects.create(task=task_name, args=list(args))
    transaction.on_commit(lambda: relay_one(message.pk))
    return message


def _claim(pk: int) -> OutboxMessage | None:
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=pk, sent_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM, attempts=F("attempts") + 1)
    )
    return OutboxMessage.objects.get(pk=pk) if claimed else None


def relay_one(pk: int) -> bool:
    """Hand one waiting job to the broker; False when it is not waiting, taken by another
    relay, or the broker does not answer (the row then waits for the next relay)."""
    if BROKER_BREAKER.is_open:
        return False
    message = _claim(pk)
    if message is None:
        return False
    try:
        current_app.send_task(
            message.task, args=message.args, task_id=str(message.key), retry=False
        )
    except Exception as error:  # the broker is down, hung or refusing: keep the row waiting
        BROKER_BREAKER.trip(error)
        OutboxMessage.objects.filter(pk=pk).update(
            claimed_until=None, last_error=f"{type(error).__name__}: {error}"[:300]
        )
        return False
    OutboxMessage.objects.filter(pk=pk).update(sent_at=timezone.now(), claimed_until=None)
    return True


def outbox_waiting() -> int:
    """How many queued jobs wait for the broker."""
    return OutboxMessage.objects.filter(sent_at__isnull=True).count()


def outbox_relay(*, limit: int = 1000) -> int:
    """Send the waiting jobs, oldest first, until the broker stops answering; returns how many
    were sent."""
    BROKER_BREAKER.reset()  # the relay runs because the broker answered: try it again
    waiting = OutboxMessage.objects.filter(sent_at__isnull=True).order_by("id")
    sent = 0
    for pk in waiting.values_list("pk", flat=True)[:limit]:
        if relay_one(pk):
            sent += 1
        elif BROKER_BREAKER.is_open:
            break
    return sent
