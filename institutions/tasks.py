"""Background jobs of the organisations app."""

from __future__ import annotations

from celery import shared_task
from django.db import connection


@shared_task(name="institutions.ping", time_limit=30, soft_time_limit=20)
def ping() -> dict[str, str]:
    """Round trip through the broker and a worker, proving the worker reaches the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (database,) = cursor.fetchone()
    return {"status": "pong", "database": database}
