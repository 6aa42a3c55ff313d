"""Writes to the access log (DESIGN.md §5): every read, export and change of a child's data, and
every administrator's step, with who, what, when and from where. Append-only: the database
refuses UPDATE and DELETE on the table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.db import connections, models, router
from django.http import HttpRequest
from django.utils import timezone

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
) -> int:
    """One event per child a list, search or export contained, in one statement, and the
    number written. An export that holds no child's data (a blank template) is still one
    event, without a child. A background job, which has no request, names where it was asked
    from by `path` and `ip_address`.

    Every list page writes one of these, so it is one INSERT … SELECT over the array of ids:
    no model instances, no transaction around a single statement, nothing returned."""
    where = (
        _where(request) if request is not None else {"path": path[:300], "ip_address": ip_address}
    )
    ids: list[int | None] = list(dict.fromkeys(child_ids))
    if not ids:
        if action != AccessEvent.Action.EXPORT:
            return 0
        ids = [None]
    meta = AccessEvent._meta
    # The same value in every row, and the child's id from the array.
    same = {
        "at": timezone.now(),
        "user": getattr(user, "pk", user),
        "action": action,
        "path": where["path"],
        "ip_address": where["ip_address"],
        "detail": detail or {},
    }
    fields = [cast("models.Field[Any, Any]", meta.get_field(name)) for name in [*same, "child"]]
    connection = connections[router.db_for_write(AccessEvent)]
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, same.values(), strict=False)  # (the child's is last)
    ]
    placeholders = ", ".join(["%s"] * len(params))
    names = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({names}) "  # noqa: S608
            f"SELECT {placeholders}, child_id FROM unnest(%s::bigint[]) AS ids(child_id)",
            [*params, ids],
        )
    return len(ids)


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
