"""Notifications beyond the app (issue 11, item 5): e-mail to a real SMTP server on loopback, text
messages through the gateway interface, every send logged with channel, time and result, a
failed send retried and then shown to the system administrators, the daily digest."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import CareTeamMember, Child
from cases.services.care import care_team_add
from core.models import Delivery, Notification
from core.notifications import notification_preference_set, notify
from followups.delivery import MAX_ATTEMPTS, deliveries_send, retry_delay
from followups.sms import SmsError, SmsGateway
from followups.tasks import deliver_notifications_job, send_digests_job
from institutions.masking import mask_name, mask_phone
from institutions.roles import Role
from tests.conftest import user
from tests.demo import VILLAGE_A
from tests.factories import ChildFactory, UserFactory
from tests.smtp import free_port, smtp_server, use_smtp

pytestmark = pytest.mark.django_db


class RefusingGateway(SmsGateway):
    """A provider that refuses every message (as one does when its account is suspended)."""

    def send(self, phone: str, text: str) -> None:
        raise SmsError("account suspended")


@pytest.fixture(autouse=True)
def empty_queue():
    """Only what a test queues waits to be sent (the demo world's messages went long ago)."""
    Delivery.objects.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.DIGEST]).update(
        status=Delivery.Status.SENT
    )


@pytest.fixture
def smtp(settings):
    with smtp_server(settings) as inbox:
        yield inbox


def added_to_team(person, child: Child | None = None) -> Notification:
    """`person` joins a child's care team, and is told (a real notification of a service)."""
    child = child or ChildFactory(region=VILLAGE_A)
    care_team_add(child=child, team_role="volunteer", user=person, by=user("director_a"))
    return Notification.objects.select_related("child").get(recipient=person, child=child)


def deliveries(person, channel: str) -> list[Delivery]:
    return list(Delivery.objects.filter(recipient=person, channel=channel).order_by("id"))


def test_each_notification_is_queued_on_the_channels_its_recipient_chose():
    plain = UserFactory(role=Role.VOLUNTEER)
    texter = UserFactory(role=Role.VOLUNTEER)
    notification_preference_set(user=texter, by_email=False, by_sms=True)
    digester = UserFactory(role=Role.VOLUNTEER)
    notification_preference_set(user=digester, daily_digest=True, by_sms=True)
    no_address = UserFactory(role=Role.VOLUNTEER, email="", phone="")
    notification_preference_set(user=no_address, by_sms=True)
    for person in (plain, texter, digester, no_address):
        added_to_team(person)

    def channels(person) -> set[tuple[str, str]]:
        return {(d.channel, d.status) for d in Delivery.objects.filter(recipient=person)}

    in_app = ("in_app", "sent")
    assert channels(plain) == {in_app, ("email", "pending")}  # the defaults: app and e-mail
    assert channels(texter) == {in_app, ("sms", "pending")}
    assert channels(digester) == {in_app, ("email", "digest"), ("sms", "digest")}
    assert channels(no_address) == {in_app}  # nothing to send to


def test_an_e_mail_reaches_a_real_smtp_server_in_the_readers_language(smtp):
    chinese = UserFactory(role=Role.VOLUNTEER)
    english = UserFactory(role=Role.VOLUNTEER)
    notification_preference_set(user=english, language="en")
    child = ChildFactory(region=VILLAGE_A)
    added_to_team(chinese, child)
    added_to_team(english, child)

    run = deliver_notifications_job()
    assert run == {"sent": 2, "retried": 0, "failed": 0}
    assert all(len(rcpt) == 1 for rcpt, _text in smtp.messages)  # one message per recipient
    masked = f"{mask_name(child.name)} ({child.record_number})"
    link = f"https://xinqiao.example{reverse('cases:child_detail', args=[child.pk])}"
    with translation.override("zh-hans"):
        role_zh = str(CareTeamMember.TeamRole.VOLUNTEER.label)
    [to_chinese] = smtp.to(chinese.email)
    assert to_chinese.startswith(f"【心桥】您已作为{role_zh}加入 {masked} 的关爱团队。")
    assert link in to_chinese
    [to_english] = smtp.to(english.email)
    assert to_english.startswith(
        f"[Xinqiao] You were added to the care team of {masked} as Volunteer."
    )
    assert link in to_english and "sign in to read them" in to_english
    for text in (to_chinese, to_english):
        assert child.name not in text  # only masked outside the app
    # The log: channel, time, result.
    for person in (chinese, english):
        [sent] = deliveries(person, "email")
        assert sent.status == "sent" and sent.attempts == 1 and sent.sent_at is not None
        assert sent.last_error == "" and sent.next_attempt_at is None
    # Run again: nothing is sent twice.
    assert deliver_notifications_job()["sent"] == 0
    assert len(smtp.messages) == 2


def test_a_failed_e_mail_is_retried_then_shown_to_the_system_administrator(settings, login):
    use_smtp(settings, free_port())  # nothing listens there: every attempt is refused
    person = UserFactory(role=Role.VOLUNTEER)
    added_to_team(person)
    [row] = deliveries(person, "email")
    now = timezone.now()
    for attempt in range(1, MAX_ATTEMPTS):
        run = deliveries_send(now=now)
        assert (run.sent, run.retried, run.failed) == (0, 1, 0)
        row.refresh_from_db()
        assert row.status == "pending" and row.attempts == attempt
        assert row.next_attempt_at == now + retry_delay(attempt)
        assert row.last_error.startswith("ConnectionRefusedError")
        # Not before its time.
        assert deliveries_send(now=now + retry_delay(attempt) - timedelta(seconds=1)).retried == 0
        now = row.next_attempt_at
    assert not Notification.objects.filter(kind="delivery_failed").exists()
    run = deliveries_send(now=now)
    assert (run.sent, run.retried, run.failed) == (0, 0, 1)
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS and row.next_attempt_at is None
    assert deliveries_send(now=now + timedelta(days=1)).failed == 0  # given up for good

    # The system administrator is told, in the app only, and finds it in the admin site.
    [report] = Notification.objects.filter(kind="delivery_failed")
    assert report.recipient == user("admin") and report.params == {"count": 1}
    assert list(report.deliveries.values_list("channel", flat=True)) == ["in_app"]
    admin = login("admin")
    notes = admin.get(reverse("followups:notifications")).content.decode()
    assert "有 1 封邮件或短信多次重试后仍未发出，请查看发送记录。" in notes
    listing = admin.get(report.link)
    assert listing.status_code == 200
    assert str(person) in listing.content.decode()
    assert admin.get(reverse("admin:core_delivery_change", args=[row.pk])).status_code == 200
    # Read only: the log is written by the senders alone.
    assert admin.post(reverse("admin:core_delivery_change", args=[row.pk]), {}).status_code == 403
    # Nobody else reads the log.
    assert login("director_a").get(report.link).status_code in (302, 403)


def test_the_daily_digest_sends_one_message_per_person(smtp):
    person = UserFactory(role=Role.VOLUNTEER)
    notification_preference_set(user=person, daily_digest=True, language="en")
    other = UserFactory(role=Role.VOLUNTEER)
    notification_preference_set(user=other, daily_digest=True)
    children = [ChildFactory(region=VILLAGE_A) for _ in range(3)]
    for child in children:
        added_to_team(person, child)
    added_to_team(other, children[0])
    # Waiting for the digest: nothing goes out before it.
    assert deliver_notifications_job()["sent"] == 0 and smtp.messages == []

    result = send_digests_job()
    assert result["digests"] == 2 and result["sent"] == 2
    [digest] = smtp.to(person.email)
    assert digest.startswith("[Xinqiao] Your daily digest: 3 messages")
    for child in children:
        assert f"{mask_name(child.name)} ({child.record_number})" in digest
        assert child.name not in digest
    assert len(smtp.to(other.email)) == 1
    # Each notification's row is marked sent; the digest's own row logs the send.
    assert {d.status for d in deliveries(person, "email") if d.notification_id} == {"sent"}
    [log] = [d for d in deliveries(person, "email") if d.notification_id is None]
    assert log.status == "sent" and len(log.digest_of) == 3
    # Run again: nothing new, nothing sent twice.
    assert send_digests_job()["digests"] == 0
    assert len(smtp.messages) == 2


def test_text_messages_go_through_the_configured_gateway(caplog):
    person = UserFactory(role=Role.VOLUNTEER, phone="13812345678")
    notification_preference_set(user=person, by_email=False, by_sms=True)
    notification = added_to_team(person)
    assert settings.SMS_GATEWAY == "followups.sms.LoggingSmsGateway"
    with caplog.at_level(logging.INFO, logger="followups.sms"):
        assert deliver_notifications_job()["sent"] == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == "followups.sms"]
    assert mask_phone(person.phone) in line and person.phone not in line
    assert notification.child.record_number in line
    assert notification.child.name not in line
    [row] = deliveries(person, "sms")
    assert row.status == "sent" and row.sent_at is not None


def test_a_refused_text_message_is_retried(settings):
    settings.SMS_GATEWAY = f"{__name__}.RefusingGateway"
    person = UserFactory(role=Role.VOLUNTEER)
    notification_preference_set(user=person, by_email=False, by_sms=True)
    added_to_team(person)
    assert deliver_notifications_job() == {"sent": 0, "retried": 1, "failed": 0}
    [row] = deliveries(person, "sms")
    assert row.status == "pending" and row.attempts == 1
    assert row.last_error == "SmsError: account suspended"


def test_notify_also_says_nothing_to_inactive_or_missing_recipients():
    gone = UserFactory(role=Role.VOLUNTEER, is_active=False)
    assert notify(recipients=[gone, None], kind="handover", params={"region": "x"}) == []
    assert not Delivery.objects.filter(recipient=gone).exists()


def test_both_jobs_are_on_the_beat_schedule():
    by_task = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert by_task["followups.deliver_notifications"] == 60.0
    assert by_task["followups.send_digests"] == crontab(minute=0, hour=18)
