"""Queueing background jobs by name, after the current transaction commits.

A service queues its app's job without importing the app's `tasks` module (which imports the
service: a cycle), and a job is never sent for a write that was rolled back.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction


def enqueue(task_name: str, *args: Any) -> None:
    """Send the Celery task `task_name` with `args` once the transaction commits."""
    transaction.on_commit(lambda: current_app.send_task(task_name, args=list(args)))
