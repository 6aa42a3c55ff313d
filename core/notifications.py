"""Notifications: what users are told. Each is stored as a kind plus parameters (ids, counts,
codes) and rendered in the reader's language when it is shown or sent (`followups.notifications`
renders, `followups.delivery` sends). Every app writes them and registers how its kinds read
(`register_messages`, from its `AppConfig.ready()`); none owns them.

Each notification is logged on every channel it goes out on (`Delivery`): in the app at once,
and by e-mail or text message as the recipient chose, at once or in the daily digest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from core.cache import forget_read_ahead, now_and_at_commit, read_ahead
from core.models import Delivery, Notification, NotificationPreference


@dataclass(frozen=True)
class Message:
    """How one kind of notification reads: a translatable text over its parameters
    (`%(child)s` names the child as the reader may see them), and for each parameter that holds
    a code (a role, a reason), the choices whose label names it in the reader's language."""

    text: Any  # a lazy translation
    labels: Mapping[str, Any] = field(default_factory=dict)  # name -> choices (class or pairs)

    def label(self, name: str, value: Any) -> Any:
        """The parameter `name` as words: a code's label, anything else as stored."""
        choices = self.labels.get(name)
        if choices is None:
            return value
        return dict(getattr(choices, "choices", choices)).get(value, value)


_MESSAGES: dict[str, Message] = {}


def register_messages(messages: Mapping[str, Any]) -> None:
    """Say how kinds of notification read: {kind: gettext_lazy("…") or Message(…)}."""
    for kind, message in messages.items():
        _MESSAGES[kind] = message if isinstance(message, Message) else Message(message)


def message_for(kind: str) -> Message | None:
    """How `kind` reads; None for a kind nobody registered (an old row keeps its own text)."""
    return _MESSAGES.get(kind)


def registered_kinds() -> frozenset[str]:
    return frozenset(_MESSAGES)


def notification_preference(user: Any) -> NotificationPreference:
    """The user's choices, or the defaults (unsaved) for a user who never chose."""
    found = NotificationPreference.objects.filter(user_id=user.pk).first()
    return found if found is not None else NotificationPreference(user_id=user.pk)


@transaction.atomic
def notification_preference_set(
    *,
    user: Any,
    language: str | None = None,
    by_email: bool | None = None,
    by_sms: bool | None = None,
    daily_digest: bool | None = None,
) -> NotificationPreference:
    """Save the user's choices (those given; the others keep their value or default)."""
    given = {
        "language": language,
        "by_email": by_email,
        "by_sms": by_sms,
        "daily_digest": daily_digest,
    }
    values = {name: value for name, value in given.items() if value is not None}
    preference, _created = NotificationPreference.objects.update_or_create(
        user_id=user.pk, defaults=values
    )
    return preference


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    link: str = "",
    child: Any = None,
    params: dict[str, Any] | None = None,
    in_app_only: bool = False,
) -> list[Notification]:
    """Tell each active recipient (once, however often they are listed): in the app at once,
    and, unless `in_app_only`, by e-mail (if they have an address) and text message (if they
    have a phone) as each chose, at once or in the daily digest. The message is stored as
    `kind` and `params` (JSON values only: ids, counts, codes, names), never as rendered text,
    so that it reads in each reader's language. Three queries, however many recipients."""
    return notify_each(
        messages=[(user, params or {}) for user in recipients],
        kind=kind,
        link=link,
        child=child,
        in_app_only=in_app_only,
    )


def notify_each(
    *,
    messages: Iterable[tuple[Any, dict[str, Any]]],
    kind: str,
    link: str = "",
    child: Any = None,
    in_app_only: bool = False,
) -> list[Notification]:
    """`notify`, with parameters of each recipient's own (a digest of their counts): still
    three queries however many people are told."""
    unique: dict[int, tuple[Any, dict[str, Any]]] = {}
    for user, params in messages:
        if user is not None and user.is_active and user.pk not in unique:
            unique[user.pk] = (user, params)
    if not unique:
        return []
    rows = Notification.objects.bulk_create(
        [
            Notification(recipient=user, kind=kind, text="", link=link, child=child, params=params)
            for user, params in unique.values()
        ]
    )
    _forget_badges(unique)
    now = timezone.now()
    chosen = (
        {}
        if in_app_only
        else {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=unique)}
    )
    deliveries: list[Delivery] = []
    for row in rows:
        user = unique[row.recipient_id][0]
        deliveries.append(
            Delivery(
                notification=row,
                recipient=user,
                channel=Delivery.Channel.IN_APP,
                status=Delivery.Status.SENT,
                attempts=1,
                sent_at=now,
            )
        )
        if in_app_only:
            continue
        preference = chosen.get(user.pk) or NotificationPreference(user_id=user.pk)
        digest = preference.daily_digest
        for channel, wanted, address in (
            (Delivery.Channel.EMAIL, preference.by_email, getattr(user, "email", "")),
            (Delivery.Channel.SMS, preference.by_sms, getattr(user, "phone", "")),
        ):
            if wanted and address:
                deliveries.append(
                    Delivery(
                        notification=row,
                        recipient=user,
                        channel=channel,
                        status=Delivery.Status.DIGEST if digest else Delivery.Status.PENDING,
                        next_attempt_at=None if digest else now,
                    )
                )
    Delivery.objects.bulk_create(deliveries)
    return rows


def badge_key(user_id: int) -> str:
    return f"unread:{user_id}"


def unread_badge_count(user: Any) -> int:
    """The bell's number: the user's unread notifications of the last NOTIFICATION_BADGE_DAYS.

    Every page shows it, so it is kept in the cache (`NOTIFICATION_BADGE_SECONDS`) when counted
    outside a transaction, and forgotten whenever the user is told something new or
    reads (`_forget_badges`): at once, and again when that change commits.

    Notifications are partitioned by month: counted without a lower bound on `created_at`,
    PostgreSQL plans the count over every month the table ever had (53 partitions of a
    generated province: 0.76 ms a page, growing every month); with the bound it prunes to the
    last few months when planning. Older unread notifications stay on the notifications
    page."""
    key = badge_key(user.pk)
    kept = read_ahead(user, key)  # read with the user's principal (core.cache)
    if kept is not None:
        return int(kept)
    since = timezone.now() - timedelta(days=settings.NOTIFICATION_BADGE_DAYS)
    count = Notification.objects.filter(
        recipient=user, read_at__isnull=True, created_at__gte=since
    ).count()
    if not connection.in_atomic_block:  # (inside one, it may count what may yet roll back)
        cache.set(key, count, settings.NOTIFICATION_BADGE_SECONDS)
    return count


def _forget_badges(user_ids: Iterable[int]) -> None:
    keys = [badge_key(pk) for pk in user_ids]
    now_and_at_commit(lambda: cache.delete_many(keys))


@transaction.atomic
def notifications_mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications (all, or the given ones) read; returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    changed = qs.update(read_at=timezone.now())
    _forget_badges([user.pk])
    forget_read_ahead(user, [badge_key(user.pk)])
    return changed
