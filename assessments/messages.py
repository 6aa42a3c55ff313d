"""How the assessments app's notifications read (registered in AssessmentsConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from assessments.models import Alert
from core.notifications import Message, register_messages


def register() -> None:
    register_messages(
        {
            # params: alert (id), reason (an Alert.Reason code)
            "alert": Message(
                _("Alert for %(child)s: %(reason)s. Please acknowledge."),
                labels={"reason": Alert.Reason},
            ),
        }
    )
