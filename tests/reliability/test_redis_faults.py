"""Redis stopped, hung or refusing writes (issue 15): the test runs its own Redis as the cache
and the job broker, and fails it. A signed-in child director stays signed in; a flagged visit
and an assessment with a critical answer are saved at once, with their alerts; their e-mails
go out exactly once when the delivery job runs; a job queued meanwhile waits in the outbox and
runs exactly once when Redis is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse
from django.utils import timezone

from assessments.models import Instrument
from cases.models import Child, Consent, RiskLevel
from cases.services.care import care_team_add
from config.celery import app
from core.jobs import enqueue, outbox_relay, outbox_waiting
from core.models import Delivery, OutboxMessage
from followups.delivery import deliveries_send
from followups.models import Visit
from tests.conftest import client_for, user
from tests.demo import MIDDLE_SCHOOL, VILLAGE_A
from tests.factories import ConsentFactory
from tests.reliability.servers import OwnRedis, own_redis, served_by
from tests.smtp import smtp_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp(settings):
    with smtp_server(settings) as inbox:
        yield inbox


@contextmanager
def stopped(redis: OwnRedis) -> Iterator[None]:
    redis.stop()
    try:
        yield
    finally:
        redis.start()


@contextmanager
def refusing_writes(redis: OwnRedis) -> Iterator[None]:
    assert redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction") == b"+OK"
    assert redis.command("CONFIG", "SET", "maxmemory", "1") == b"+OK"
    try:
        yield
    finally:
        redis.command("CONFIG", "SET", "maxmemory", "0")


FAULTS = {
    "stopped": stopped,
    "hung": lambda redis: redis.hung(),
    "refusing writes": refusing_writes,
}


def fault(name: str, redis: OwnRedis) -> AbstractContextManager[None]:
    return FAULTS[name](redis)  # type: ignore[no-any-return]


def a_pupil_of_village_a() -> Child:
    child = Child.objects.filter(
        school__name=MIDDLE_SCHOOL, residence_region_id=VILLAGE_A
    ).order_by("id")[0]
    ConsentFactory(child=child, purpose=Consent.Purpose.ASSESSMENT, by=user("counselor"))
    care_team_add(child=child, team_role="mentor", user=user("mentor"), by=user("counselor"))
    return child


def timed(call):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_work_goes_on_while_redis_fails_and_e_mails_go_out_once(demo_world, smtp, name):
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(status=Delivery.Status.SENT)
    child = a_pupil_of_village_a()
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(status=Delivery.Status.SENT)
    with own_redis() as redis, served_by(redis):
        director = client_for("director_a")  # signed in while Redis works
        with fault(name, redis):
            home, _ = timed(lambda: director.get(reverse("home")))
            assert home.status_code == 200, "the user must stay signed in"
            visit, seconds = timed(
                lambda: director.post(
                    reverse("followups:visit_create", args=[child.pk]),
                    {
                        "kind": "talk",
                        "visited_on": timezone.localdate().isoformat(),
                        "present": ["child"],
                        "concerns": ["self_harm_talk"],
                        "mood": "distressed",
                        "next_step": "refer",
                        "note": "测试：孩子说不想活了",
                    },
                )
            )
            assert visit.status_code == 302 and seconds < 1, (visit.status_code, seconds)
            answers = {f"q{n}": "0" for n in range(1, 9)} | {"q9": "2"}
            assessment, seconds = timed(
                lambda: director.post(
                    reverse("assessments:assessment_create", args=[child.pk]),
                    {
                        "instrument": Instrument.objects.get(code="PHQ-9", version=1).pk,
                        "setting": "school_screening",
                        "administered_on": timezone.localdate().isoformat(),
                        **answers,
                    },
                )
            )
            assert assessment.status_code == 302 and seconds < 1, (assessment.status_code, seconds)
            # A job queued now waits in the outbox; the page that queued it answered.
            job = enqueue("institutions.ping")
            assert OutboxMessage.objects.get(pk=job.pk).sent_at is None
        assert Visit.objects.filter(child=child, flagged=True).count() == 1
        assert child.assessments.count() == 1
        child.refresh_from_db()
        assert child.risk_level == RiskLevel.CRISIS
        # Redis is back: the delivery job e-mails each person once, and a second run nothing.
        first = deliveries_send()
        emails = Delivery.objects.filter(channel=Delivery.Channel.EMAIL, notification__child=child)
        assert first.failed == 0 and emails.count() >= 2
        assert set(emails.values_list("status", flat=True)) == {Delivery.Status.SENT}
        # Each person is told of each alert once (a run may gather one person's into one mail).
        links = {f"/assessments/alerts/{pk}/" for pk in child.alerts.values_list("pk", flat=True)}
        for address in ("mentor@demo.invalid", "supervisor_town@demo.invalid"):
            text = "".join(smtp.to(address))
            assert all(text.count(link) == 1 for link in links), address
        received = len(smtp.messages)
        assert deliveries_send().sent == 0 and len(smtp.messages) == received
        # ...and the queued job is sent once, and runs once even if delivered twice.
        assert outbox_relay() >= 1 and outbox_waiting() == 0
        assert outbox_relay() == 0
        app.send_task("institutions.ping", task_id=str(job.key))  # a duplicate delivery
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                job.refresh_from_db()
                if job.finished_at is not None:
                    break
                time.sleep(0.2)
        assert job.finished_at is not None


@pytest.mark.parametrize("name", ["stopped", "hung"])
def test_signing_in_works_while_redis_fails(demo_world, name):
    with own_redis() as redis, served_by(redis), fault(name, redis):
        client, seconds = timed(lambda: client_for("counselor"))
        assert seconds < 2
        assert client.get(reverse("home")).status_code == 200
