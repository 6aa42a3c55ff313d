"""Reads that can go to a PostgreSQL streaming replica (DESIGN.md §7; issue 13, past one machine).

With `DATABASE_REPLICA_URL` set, the heavy reads (dashboards, exports, API lists) run on the
replica, inside `replica_reads(request)`; every write, and every read elsewhere, stays on the
primary. A user who has just written something keeps reading from the primary for
`REPLICA_STICKY_SECONDS`, so that they see their own write whatever the replica's lag.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
_WROTE_AT = "wrote_at"
_on_replica: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return bool(getattr(settings, "REPLICA_READS", False)) and REPLICA in settings.DATABASES


def _recently_wrote(request: HttpRequest | None) -> bool:
    session = getattr(request, "session", None)
    if session is None:
        return False
    wrote_at = session.get(_WROTE_AT)
    return wrote_at is not None and time.time() - float(wrote_at) < settings.REPLICA_STICKY_SECONDS


@contextmanager
def replica_reads(request: HttpRequest | None = None) -> Iterator[bool]:
    """Within the block, reads go to the replica when one is configured, the primary is not in
    a transaction, and the user has not just written; yields whether they do."""
    use = (
        replica_configured()
        and not connections["default"].in_atomic_block
        and not _recently_wrote(request)
    )
    token = _on_replica.set(use)
    try:
        yield use
    finally:
        _on_replica.reset(token)


def reads_from_replica(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view decorator: its GET requests read from the replica (see `replica_reads`)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        with replica_reads(request):
            return view(request, *args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Django's database router: the replica for reads inside `replica_reads`, the primary for
    everything else; migrations run on the primary only (the replica follows it)."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return REPLICA if _on_replica.get() else None

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"


class StickToPrimaryAfterWriteMiddleware:
    """Notes in the session when a user's request wrote (any successful non-GET), so that their
    next reads stay on the primary while the replica catches up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            replica_configured()
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and response.status_code < 400
            and getattr(request, "session", None) is not None
        ):
            request.session[_WROTE_AT] = time.time()
        return response
