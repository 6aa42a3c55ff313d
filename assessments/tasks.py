"""Background jobs of assessments: alert e-mails."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from assessments.models import Alert
from assessments.services import alert_recipients

logger = logging.getLogger(__name__)


@shared_task(
    name="assessments.send_alert_emails",
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_alert_emails(alert_id: int) -> int:
    """E-mail everyone responsible for the child of an alert; recipients are resolved now."""
    alert = Alert.objects.select_related("child").filter(pk=alert_id).first()
    if alert is None or alert.acknowledged_at is not None:
        return 0
    addresses = sorted(
        {
            u.email
            for u in alert_recipients(child=alert.child)
            if u.email and u.pk != alert.raised_by_id
        }
    )
    if not addresses:
        return 0
    link = settings.SITE_URL.rstrip("/") + reverse("assessments:alert_detail", args=[alert.pk])
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[Xinqiao] Alert for %(record)s") % {"record": alert.child.record_number}
        body = _(
            "A result for the child %(record)s needs your attention (%(reason)s, risk: "
            "%(risk)s).\n\nOpen and acknowledge it here:\n%(link)s\n\nThis message contains no "
            "personal details; sign in to read them."
        ) % {
            "record": alert.child.record_number,
            "reason": alert.get_reason_display(),
            "risk": alert.get_risk_level_display(),
            "link": link,
        }
    # One message per recipient: nobody learns who else was told.
    sent = 0
    for address in addresses:
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    logger.info("alert %s e-mailed to %s recipients", alert_id, sent)
    return sent
