"""A real SMTP server on loopback for the tests of e-mail (aiosmtpd), and a free port with no
server behind it for the tests of a failed send."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """An SMTP handler that keeps what it receives: (recipients, subject + plain body)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message["Subject"].strip() + "\n" + message.get_body(("plain",)).get_content()
        self.messages.append((list(envelope.rcpt_tos), text))
        return "250 Message accepted"

    def to(self, address: str) -> list[str]:
        """The texts of the messages sent to `address`."""
        return [text for rcpt, text in self.messages if address in rcpt]


def free_port() -> int:
    """A loopback port nothing listens on (a connection to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def use_smtp(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "https://xinqiao.example"


@contextmanager
def smtp_server(settings: Any) -> Iterator[Inbox]:
    """Point Django's mail at a real SMTP server on loopback for the duration."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    use_smtp(settings, port)
    try:
        yield inbox
    finally:
        controller.stop()
