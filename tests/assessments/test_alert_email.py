"""Alert e-mails go through a real Celery worker to a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from assessments.models import Instrument
from assessments.services import assessment_submit
from cases.models import Child, Consent
from cases.services.care import care_team_add
from cases.services.family import consent_record, guardian_add
from config.celery import app
from tests.conftest import user


class Inbox:
    """An SMTP handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message["Subject"] + "\n" + message.get_body(("plain",)).get_content()
        self.messages.append((list(envelope.rcpt_tos), text))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.SITE_URL = "https://xinqiao.example"
    yield inbox
    controller.stop()


@pytest.mark.django_db(transaction=True)
def test_a_critical_answer_is_e_mailed_to_everyone_responsible(demo_world, smtp):
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
    phq9 = Instrument.objects.get(code="PHQ-9", version=1)
    answers = dict.fromkeys(range(1, 10), 0) | {9: 2}
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        assessment_submit(
            child=child,
            instrument=phq9,
            answers=answers,
            result=phq9.parsed.score(answers),
            setting="school_screening",
            administered_on=timezone.localdate(),
            by=counselor,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(smtp.messages) < 3:
            time.sleep(0.2)
    recipients = {address for rcpt, _body in smtp.messages for address in rcpt}
    assert {
        "mentor@demo.invalid",
        "supervisor_town@demo.invalid",
        "director_a@demo.invalid",
    } <= recipients
    assert "counselor@demo.invalid" not in recipients  # who entered it is not told of it
    assert all(len(rcpt) == 1 for rcpt, _body in smtp.messages)  # nobody sees the others
    body = smtp.messages[0][1]
    assert "https://xinqiao.example/assessments/alerts/" in body
    assert child.record_number in body
    assert "预警" in body or "Alert" in body  # decoded text, in the site's language
    assert child.name not in body  # no personal details in an e-mail
