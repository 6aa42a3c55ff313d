"""The Celery wiring: a task goes through the real Redis broker to a real worker and back."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from institutions.tasks import ping


@pytest.mark.django_db(transaction=True)
def test_a_task_round_trips_through_redis_and_a_worker():
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        result = ping.delay().get(timeout=30)
    assert result["status"] == "pong"
    assert result["database"].startswith("test_")
