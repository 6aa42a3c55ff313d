"""Writes to the access log (DESIGN.md §5): every read, export and change of a child's data, and
every administrator's step, with who, what, when and from where. Append-only: the database
refuses UPDATE and DELETE on the table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from core.models import AccessEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _where(request: HttpRequest | None) -> dict[str, Any]:
    return {
        "path": request.get_full_path()[:300] if request is not None else "",
        "ip_address": client_ip(request),
    }


def access_record(
    *,
    user: Any,
    action: str,
    child: Any = None,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AccessEvent:
    """Record one read, export or change of a child's data, or an administrator's step."""
    return AccessEvent.objects.create(
        user=user, child=child, action=action, detail=detail or {}, **_where(request)
    )


def access_record_many(
    *,
    user: Any,
    action: str,
    child_ids: Iterable[int],
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
    path: str = "",
    ip_address: str | None = None,
) -> list[AccessEvent]:
    """One event per child a list, search or export contained, in one query. An export that
    holds no child's data (a blank template) is still one event, without a child. A background
    job, which has no request, names where it was asked from by `path` and `ip_address`."""
    where = (
        _where(request) if request is not None else {"path": path[:300], "ip_address": ip_address}
    )
    common = {"user": user, "action": action, "detail": detail or {}, **where}
    ids = list(dict.fromkeys(child_ids))
    events = [AccessEvent(child_id=pk, **common) for pk in ids]
    if not events and action == AccessEvent.Action.EXPORT:
        events = [AccessEvent(**common)]
    return AccessEvent.objects.bulk_create(events)


def log_child_read(
    *,
    user: Any,
    child_id: int,
    request: HttpRequest | None,
    api: bool = False,
    detail: dict[str, Any] | None = None,
) -> None:
    """One read of a child's data through the one fetch (a page, or the API)."""
    AccessEvent.objects.create(
        user=user,
        child_id=child_id,
        action=AccessEvent.Action.API_VIEW if api else AccessEvent.Action.VIEW,
        detail=detail or {},
        **_where(request),
    )
