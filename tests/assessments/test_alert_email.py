"""Alert e-mails: the alert's notification is e-mailed to everyone responsible by the delivery
job (`followups.deliver_notifications`), run by a real Celery worker on the real Redis broker,
to a real SMTP server on loopback."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from assessments.models import Instrument
from assessments.services import assessment_submit
from cases.models import Child, Consent
from cases.services.care import care_team_add
from cases.services.family import consent_record, guardian_add
from config.celery import app
from core.models import Delivery
from followups.tasks import deliver_notifications_job
from tests.conftest import user
from tests.smtp import smtp_server


@pytest.fixture
def smtp(settings):
    with smtp_server(settings) as inbox:
        yield inbox


@pytest.mark.django_db(transaction=True)
def test_a_critical_answer_is_e_mailed_to_everyone_responsible(demo_world, smtp):
    # Only this alert's e-mails wait to be sent (the demo world's own were sent long ago).
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(status=Delivery.Status.SENT)
    child = Child.objects.filter(
        school__name="青石镇中学（演示）", residence_region_id="990101001001"
    ).order_by("id")[0]
    counselor = user("counselor")
    guardian = guardian_add(
        child=child, data={"name": "测试家长", "relation": "mother"}, by=counselor
    )
    consent_record(
        child=child,
        purpose=Consent.Purpose.ASSESSMENT,
        given_on=timezone.localdate(),
        by=counselor,
        guardian=guardian,
    )
    care_team_add(child=child, team_role="mentor", user=user("mentor"), by=counselor)
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(status=Delivery.Status.SENT)
    phq9 = Instrument.objects.get(code="PHQ-9", version=1)
    answers = dict.fromkeys(range(1, 10), 0) | {9: 2}
    assessment_submit(
        child=child,
        instrument=phq9,
        answers=answers,
        result=phq9.parsed.score(answers),
        setting="school_screening",
        administered_on=timezone.localdate(),
        by=counselor,
    )
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        result = deliver_notifications_job.delay().get(timeout=60)
    assert result["sent"] >= 3 and result["failed"] == 0
    recipients = {address for rcpt, _body in smtp.messages for address in rcpt}
    assert {
        "mentor@demo.invalid",
        "supervisor_town@demo.invalid",
        "director_a@demo.invalid",
    } <= recipients
    assert "counselor@demo.invalid" not in recipients  # who entered it is not told of it
    assert all(len(rcpt) == 1 for rcpt, _body in smtp.messages)  # nobody sees the others
    body = smtp.to("mentor@demo.invalid")[0]
    assert "https://xinqiao.example/assessments/alerts/" in body
    assert child.record_number in body
    assert "预警" in body or "Alert" in body  # decoded text, in the reader's language
    assert child.name not in body  # no personal details in an e-mail: the name only masked
    assert child.name[0] + "*" in body
    # Every send is in the delivery log, with its time and result.
    sent = Delivery.objects.filter(
        notification__kind="alert", notification__child=child, channel=Delivery.Channel.EMAIL
    )
    assert sent.count() == sum("/assessments/alerts/" in text for _r, text in smtp.messages)
    assert all(d.status == Delivery.Status.SENT and d.sent_at and d.attempts == 1 for d in sent)
