"""Check that PostgreSQL and Redis answer before anything starts; one clear line if not."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.utils import OperationalError


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class Command(BaseCommand):
    help = "Checks that the database and Redis are reachable (used before start-up)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise CommandError(f"PostgreSQL (DATABASE_URL) is unreachable: {first_line}") from None
        try:
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=3, socket_timeout=3
            )
            client.ping()
        except redis.RedisError as exc:
            raise CommandError(
                f"Redis (REDIS_URL={_without_password(settings.REDIS_URL)}) is unreachable: {exc}"
            ) from None
        if options["verbosity"] > 1:
            self.stdout.write("PostgreSQL and Redis answer.")
