"""Notifications: telling users in the app (the e-mail channel is a Celery job of the app whose
event it is). Every app writes them; none owns them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.models import Notification


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    text: str = "",
    link: str = "",
    child: Any = None,
    params: dict[str, Any] | None = None,
) -> list[Notification]:
    """Tell each recipient (once, however often they are listed) in the app."""
    unique = {user.pk: user for user in recipients if user is not None and user.is_active}
    rows = [
        Notification(
            recipient=user,
            kind=kind,
            text=text[:300],
            link=link,
            child=child,
            params=params or {},
        )
        for user in unique.values()
    ]
    return Notification.objects.bulk_create(rows)


@transaction.atomic
def notifications_mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications (all, or the given ones) read; returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
