"""Notifications beyond the app: each pending e-mail or text message (a `core.Delivery` row that
`notify()` queued) goes out in its recipient's language, and its row records the result: status,
attempts, time, last error. A failed send is retried with a growing wait, up to MAX_ATTEMPTS;
then it is marked failed, listed in the admin site, and the system administrators are told in
the app. The daily digest gathers, per person and channel, what waited for it into one message.

What leaves the app names the child only masked ("张** (R-0001)") and carries a link to sign in
for the rest: an e-mail or a text message may be read by anyone holding the phone.

Deliveries are claimed in batches with `SELECT … FOR UPDATE SKIP LOCKED` and a lease (the next
attempt pushed past the batch's time), so that two workers never send the same row and a
worker that dies leaves its batch to be picked up again."""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from core.models import Delivery, Notification, NotificationPreference
from core.notifications import notify
from followups.notifications import render
from followups.sms import SmsGateway, sms_gateway
from institutions.models import User
from institutions.roles import Role

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 200
MAX_BATCHES = 25  # per run; what is left waits for the next minute
CLAIM_FOR = timedelta(minutes=10)  # longer than a batch can take (EMAIL_TIMEOUT per send)
DIGEST_RECIPIENTS = 500  # people whose digests are made per transaction


class PermanentFailure(Exception):
    """A send no retry can mend: no address any more, or an account that was closed."""

    def __init__(self, message: str, *, report: bool = True) -> None:
        super().__init__(message)
        self.report = report


def retry_delay(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 2, 4, 8, 16 minutes."""
    return timedelta(minutes=2**attempts)


@dataclass
class DeliveryRun:
    """What one run did: sent, to be retried, and failed for good."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def system_administrators() -> QuerySet[User]:
    """Who is told of failed sends: holders of an active system-administrator membership."""
    return User.objects.filter(
        is_active=True,
        memberships__role=Role.SYSTEM_ADMIN,
        memberships__is_active=True,
    ).distinct()


def _site_link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + (path or reverse("followups:notifications"))


def _claim(*, now: datetime, limit: int) -> list[int]:
    """A batch of pending deliveries due by `now`, skipping rows another worker holds; the
    claim (the next attempt pushed past the lease) outlives this short transaction."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now + CLAIM_FOR)
    return ids


class _Sender:
    """Sends one batch: one SMTP connection and one gateway, opened when first needed."""

    def __init__(self) -> None:
        self._connection: Any = None
        self._gateway: SmsGateway | None = None

    def email(self, address: str, subject: str, body: str) -> None:
        if self._connection is None:
            self._connection = mail.get_connection()
            # On failure each send tries again, and its row records the error.
            with contextlib.suppress(OSError):
                self._connection.open()
        # One message per recipient: nobody learns who else was told.
        message = mail.EmailMessage(
            subject, body, settings.DEFAULT_FROM_EMAIL, [address], connection=self._connection
        )
        message.send(fail_silently=False)

    def sms(self, phone: str, text: str) -> None:
        if self._gateway is None:
            self._gateway = sms_gateway()
        self._gateway.send(phone, text)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def _footer() -> str:
    return _(
        "This message names the child only in part and holds no other personal details: "
        "sign in to read them."
    )


def _email_of(row: Delivery, carried: dict[int, Notification]) -> tuple[str, str]:
    """Subject and body of the e-mail of a delivery, in the active language."""
    if row.notification is not None:
        text = render(row.notification, reader=None, in_scope=False)
        subject = _("[Xinqiao] %(message)s") % {"message": Truncator(text).chars(80)}
        body = "\n\n".join(
            [text, _("Open it here:") + "\n" + _site_link(row.notification.link), _footer()]
        )
        return subject, body
    notes = [carried[pk] for pk in row.digest_of if pk in carried]
    subject = _("[Xinqiao] Your daily digest: %(count)s messages") % {"count": len(notes)}
    lines = [f"- {render(n, reader=None, in_scope=False)}\n  {_site_link(n.link)}" for n in notes]
    body = "\n\n".join([_("What you were told today:"), *lines, _footer()])
    return subject, body


def _sms_of(row: Delivery, carried: dict[int, Notification]) -> str:
    """The text message of a delivery, in the active language."""
    if row.notification is not None:
        return _("[Xinqiao] %(message)s %(link)s") % {
            "message": render(row.notification, reader=None, in_scope=False),
            "link": _site_link(row.notification.link),
        }
    count = sum(1 for pk in row.digest_of if pk in carried)
    return _("[Xinqiao] %(count)s new messages today: %(link)s") % {
        "count": count,
        "link": _site_link(""),
    }


def _send_one(row: Delivery, carried: dict[int, Notification], sender: _Sender) -> None:
    recipient = row.recipient
    if not recipient.is_active:
        raise PermanentFailure("the recipient's account is closed", report=False)
    if row.channel == Delivery.Channel.EMAIL:
        if not recipient.email:
            raise PermanentFailure("the recipient has no e-mail address")
        sender.email(recipient.email, *_email_of(row, carried))
    elif row.channel == Delivery.Channel.SMS:
        if not recipient.phone:
            raise PermanentFailure("the recipient has no phone number")
        sender.sms(recipient.phone, _sms_of(row, carried))
    else:
        raise PermanentFailure(f"nothing sends on the channel {row.channel!r}")


def _send_batch(ids: list[int], *, now: datetime, run: DeliveryRun) -> int:
    """Send the claimed deliveries; returns how many failed for good and are to be reported."""
    rows = list(
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING)
        .select_related("recipient", "notification__child")
        .order_by("id")
    )
    languages = dict(
        NotificationPreference.objects.filter(
            user_id__in={row.recipient_id for row in rows}
        ).values_list("user_id", "language")
    )
    digest_ids = {pk for row in rows if row.notification_id is None for pk in row.digest_of}
    carried = (
        Notification.objects.select_related("child").in_bulk(list(digest_ids)) if digest_ids else {}
    )
    to_report = 0
    sender = _Sender()
    try:
        for row in rows:
            language = languages.get(row.recipient_id, settings.LANGUAGE_CODE)
            try:
                with translation.override(language):
                    _send_one(row, carried, sender)
            except Exception as exc:  # any failure of a send is recorded and retried
                final = _record_failure(row, now=now, error=exc)
                if final:
                    run.failed += 1
                    to_report += int(getattr(exc, "report", True))
                else:
                    run.retried += 1
            else:
                _record_sent(row, now=now)
                run.sent += 1
    finally:
        sender.close()
    return to_report


def _record_sent(row: Delivery, *, now: datetime) -> None:
    Delivery.objects.filter(pk=row.pk).update(
        status=Delivery.Status.SENT,
        attempts=row.attempts + 1,
        sent_at=now,
        last_error="",
        next_attempt_at=None,
    )


def _record_failure(row: Delivery, *, now: datetime, error: Exception) -> bool:
    """Record a failed attempt: retried later, or failed for good (returns True)."""
    attempts = row.attempts + 1
    final = isinstance(error, PermanentFailure) or attempts >= MAX_ATTEMPTS
    text = f"{type(error).__name__}: {error}"[:300]
    Delivery.objects.filter(pk=row.pk).update(
        status=Delivery.Status.FAILED if final else Delivery.Status.PENDING,
        attempts=attempts,
        last_error=text,
        next_attempt_at=None if final else now + retry_delay(attempts),
    )
    logger.warning(
        "delivery %s (%s) attempt %s failed%s: %s",
        row.pk,
        row.channel,
        attempts,
        " for good" if final else "",
        text,
    )
    return final


def deliveries_send(*, now: datetime | None = None) -> DeliveryRun:
    """Send the e-mails and text messages that are due (new ones, and failed ones whose wait
    is over), batch by batch; tell the system administrators, in the app, of those that failed
    for good in this run."""
    now = now or timezone.now()
    run = DeliveryRun()
    to_report = 0
    for _batch in range(MAX_BATCHES):
        ids = _claim(now=now, limit=BATCH_SIZE)
        if not ids:
            break
        to_report += _send_batch(ids, now=now, run=run)
    if to_report:
        with transaction.atomic():
            notify(
                recipients=system_administrators(),
                kind="delivery_failed",
                link=reverse("admin:core_delivery_changelist") + "?status__exact=failed",
                params={"count": to_report},
                in_app_only=True,  # a report on the channels cannot go out on them
            )
    return run


def digests_make(*, now: datetime | None = None) -> int:
    """Gather, per person and channel, the deliveries that waited for the daily digest into one
    pending delivery listing their notifications (which are then marked sent: the digest's own
    row carries the send's result and its retries). Returns how many digests were made."""
    now = now or timezone.now()
    made = 0
    while True:
        with transaction.atomic():
            recipients = list(
                Delivery.objects.filter(status=Delivery.Status.DIGEST)
                .order_by("recipient_id")
                .values_list("recipient_id", flat=True)
                .distinct()[:DIGEST_RECIPIENTS]
            )
            rows = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(status=Delivery.Status.DIGEST, recipient_id__in=recipients)
                .order_by("id")
                .values_list("pk", "recipient_id", "channel", "notification_id")
            )
            if not rows:
                return made
            groups: dict[tuple[int, str], list[int]] = defaultdict(list)
            for _pk, recipient_id, channel, notification_id in rows:
                groups[(recipient_id, channel)].append(notification_id)
            Delivery.objects.bulk_create(
                [
                    Delivery(
                        recipient_id=recipient_id,
                        channel=channel,
                        status=Delivery.Status.PENDING,
                        digest_of=notification_ids,
                        next_attempt_at=now,
                    )
                    for (recipient_id, channel), notification_ids in groups.items()
                ]
            )
            Delivery.objects.filter(pk__in=[row[0] for row in rows]).update(
                status=Delivery.Status.SENT, sent_at=now
            )
            made += len(groups)


def digests_send(*, now: datetime | None = None) -> tuple[int, DeliveryRun]:
    """Make the day's digests and send them (with anything else due)."""
    now = now or timezone.now()
    made = digests_make(now=now)
    return made, deliveries_send(now=now)
