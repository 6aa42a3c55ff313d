"""Text messages: one gateway interface, the implementation chosen by `settings.SMS_GATEWAY` (a
dotted path), so that a site plugs in its provider's contract without touching the senders."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from institutions.masking import mask_phone

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway refused the message or could not be reached (the send is retried)."""


class SmsGateway:
    """Sends one text message to one phone number; raises on failure, returns on success."""

    def send(self, phone: str, text: str) -> None:
        raise NotImplementedError


class LoggingSmsGateway(SmsGateway):
    """Writes each message to the log (the number masked) and succeeds: for development, and
    for a site that has no gateway contract yet."""

    def send(self, phone: str, text: str) -> None:
        logger.info("text message to %s: %s", mask_phone(phone), text)


def sms_gateway() -> SmsGateway:
    """The configured gateway (a new instance: a gateway may hold a connection)."""
    gateway = import_string(settings.SMS_GATEWAY)()
    if not isinstance(gateway, SmsGateway):
        raise TypeError(f"SMS_GATEWAY {settings.SMS_GATEWAY} is not an SmsGateway")
    return gateway
