"""The outbox of background jobs (issue 15): a job exists exactly when the change that queued
it was committed, waits while the broker is down, is sent once when it answers, and is shown
to the system administrator with what waits."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from core.jobs import enqueue, outbox_relay, outbox_waiting
from core.models import OutboxMessage
from tests.conftest import client_for
from tests.reliability.servers import own_redis, served_by

pytestmark = pytest.mark.django_db(transaction=True)


class Refused(Exception):
    pass


def test_a_rolled_back_change_queues_nothing(demo_world):
    with own_redis() as redis, served_by(redis):
        with pytest.raises(Refused), transaction.atomic():
            enqueue("institutions.ping")
            raise Refused
        assert not OutboxMessage.objects.exists()
        with transaction.atomic():
            message = enqueue("institutions.ping")
        message.refresh_from_db()
        assert message.sent_at is not None  # sent as the transaction committed


def test_a_job_waits_while_the_broker_is_down_and_is_sent_once_when_it_answers(demo_world):
    with own_redis() as redis, served_by(redis):
        redis.stop()
        with transaction.atomic():
            message = enqueue(
                "institutions.ping",
            )
        assert outbox_waiting() == 1
        out = StringIO()
        call_command("outbox", stdout=out)
        assert "waiting: 1" in out.getvalue() and "institutions.ping: 1" in out.getvalue()
        assert outbox_relay() == 0  # still down: nothing sent, nothing lost
        redis.start()
        assert outbox_relay() == 1 and outbox_relay() == 0
        message.refresh_from_db()
        assert message.sent_at is not None and message.attempts == 3  # at commit, then twice
        assert redis.command("LLEN", "celery") == b":1"  # one message in the queue, not two


def test_the_system_administrator_sees_what_waits(demo_world):
    waiting = OutboxMessage.objects.create(task="institutions.ping")
    admin = client_for("admin")
    page = admin.get("/admin/core/outboxmessage/?sent_at__isempty=1")
    assert page.status_code == 200 and "institutions.ping" in page.content.decode()
    detail = admin.get(f"/admin/core/outboxmessage/{waiting.pk}/change/")
    assert str(waiting.key) in detail.content.decode()
    assert client_for("director_a").get("/admin/core/outboxmessage/").status_code != 200
