"""Notifications as their readers see them: rendered from kind and parameters in the active
language, naming the child as the reader may see them (DESIGN.md §5, layer 3).

In the app, the child's name goes through the masking table for the reader, and is masked for a
child the reader no longer reaches (a declined access request, a clinic whose access ended). On
a channel that leaves the app (e-mail, text message) the name is always masked: "张** (R-0001)".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser

from cases.selectors.scope import children_visible_to
from core.models import Notification
from core.notifications import message_for
from institutions.masking import mask
from institutions.models import User


class _Lenient(dict[str, Any]):
    """Parameters where a missing one reads as an ellipsis rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return "…"


def child_named(child: Any, *, reader: User | AnonymousUser | None, in_scope: bool) -> str:
    """The child as the reader may see them, with the record number: "张** (R-0001)". Nobody
    (`reader` None: an e-mail, a text message) sees the name masked."""
    return f"{mask(reader, 'name', child.name, in_scope=in_scope)} ({child.record_number})"


def render(notification: Notification, *, reader: User | None, in_scope: bool) -> str:
    """One notification in the active language (an unregistered kind keeps its stored text)."""
    message = message_for(notification.kind)
    if message is None:
        return notification.text or notification.kind
    params = notification.params if isinstance(notification.params, dict) else {}
    values = {name: message.label(name, value) for name, value in params.items()}
    if notification.child_id is not None:
        values["child"] = child_named(notification.child, reader=reader, in_scope=in_scope)
    try:
        return str(message.text) % values
    except KeyError:
        # A row written before its kind took these parameters: its own text, if it has one.
        return notification.text or str(message.text) % _Lenient(values)


def render_all(
    notifications: Sequence[Notification], *, reader: User, outside: bool = False
) -> list[str]:
    """The notifications of one reader (their `child` selected with them), in the active
    language. `outside`: for a channel that leaves the app, where names are always masked.
    One query, for which of the children the reader still reaches."""
    child_ids = {n.child_id for n in notifications if n.child_id is not None}
    reached: set[int] = set()
    if child_ids and not outside:
        reached = set(
            children_visible_to(reader).filter(pk__in=child_ids).values_list("pk", flat=True)
        )
    return [
        render(n, reader=None if outside else reader, in_scope=n.child_id in reached)
        for n in notifications
    ]
