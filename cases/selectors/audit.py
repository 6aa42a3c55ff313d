"""Reads of the access log for auditors: who viewed, exported or changed which file, when, where.

Auditors have no child scope: they see a child's record number and masked name, never the file.
The rows a page shows are plain dataclasses built here, so a template never holds a child's
unmasked name and cannot reach it by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet, Subquery

from cases.models import Child
from core.models import AccessEvent
from institutions.masking import FieldKind, masked
from institutions.models import User

AUDIT_PERMISSION = "core.view_accessevent"
PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditEntry:
    """One line of the access log as an auditor sees it."""

    pk: int
    at: datetime
    user_id: int | None  # None: a failed sign-in as no account, or the system's own step
    username: str
    user_display_name: str
    action: str
    action_label: str
    child_id: int | None
    child_record_number: str
    child_masked_name: str
    path: str
    ip_address: str | None


@dataclass(frozen=True)
class AuditPage:
    """A page of entries, newest first, with the keyset cursors to the pages around it."""

    entries: list[AuditEntry]
    older_cursor: int | None  # pass as ?before=: the next, older page
    newer_cursor: int | None  # pass as ?after=: the previous, newer page
    is_newest: bool  # the first page (no cursor was given, or none was needed)


@dataclass(frozen=True)
class AuditedChild:
    """What an auditor may know of a child: the record number and the masked name."""

    pk: int
    record_number: str
    masked_name: str


def may_audit(user: User | AnonymousUser) -> bool:
    """Whether `user` may read the access log (an action permission, not a row scope)."""
    return bool(user.is_authenticated and user.has_perm(AUDIT_PERMISSION))


def access_events_visible_to(user: User | AnonymousUser) -> QuerySet[AccessEvent]:
    """The whole log for auditors, nothing for anyone else."""
    if not may_audit(user):
        return AccessEvent.objects.none()
    return AccessEvent.objects.all()


def access_events(
    *, user: User, child_id: int | None = None, actor_id: int | None = None
) -> QuerySet[AccessEvent]:
    """The log `user` may read, optionally only for one child or only by one user (the actor)."""
    qs = access_events_visible_to(user)
    if child_id is not None:
        qs = qs.filter(child_id=child_id)
    if actor_id is not None:
        qs = qs.filter(user_id=actor_id)
    return qs


def audited_child(*, user: User, pk: int) -> AuditedChild | None:
    """The child whose log an auditor opens, masked; None when missing or not allowed."""
    if not may_audit(user):
        return None
    row = Child.objects.filter(pk=pk).values("pk", "record_number", "name").first()
    if row is None:
        return None
    return AuditedChild(
        pk=row["pk"],
        record_number=row["record_number"],
        masked_name=masked(FieldKind.NAME, row["name"]),
    )


def audited_user(*, user: User, pk: int) -> User | None:
    """The user whose actions an auditor lists; None when missing or not allowed."""
    if not may_audit(user):
        return None
    return User.objects.filter(pk=pk).only("pk", "username", "display_name").first()


_ENTRY_FIELDS = (
    "pk",
    "at",
    "action",
    "path",
    "ip_address",
    "user_id",
    "user__username",
    "user__display_name",
    "child_id",
    "child__record_number",
    "child__name",
    "detail__username",
)


def _entry(row: dict[str, Any]) -> AuditEntry:
    """One row of `_ENTRY_FIELDS` as the page shows it: the child's name masked, no query string."""
    try:
        label = str(AccessEvent.Action(row["action"]).label)
    except ValueError:
        label = row["action"]
    return AuditEntry(
        pk=row["pk"],
        at=row["at"],
        user_id=row["user_id"],
        # A sign-in that failed or was locked out names the account typed, even of no one.
        username=row["user__username"] or str(row["detail__username"] or ""),
        user_display_name=row["user__display_name"] or row["user__username"] or "",
        action=row["action"],
        action_label=label,
        child_id=row["child_id"],
        child_record_number=row["child__record_number"] or "",
        child_masked_name=masked(FieldKind.NAME, row["child__name"]),
        # A query string may hold a search term (a child's name): the page shows the path only.
        path=(row["path"] or "").partition("?")[0],
        ip_address=row["ip_address"],
    )


def access_event_page(
    *,
    events: QuerySet[AccessEvent],
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One page of `events`, newest first, by keyset on (at, id): one query, never a count.

    `before` is the id of the last entry of the newer page (go older); `after` the id of the first
    entry of the older page (go newer). The cursor event itself need not match the filters.
    """
    rows = events.values(*_ENTRY_FIELDS)
    if before is not None:
        anchor = Subquery(AccessEvent.objects.filter(pk=before).values("at")[:1])
        older = rows.filter(Q(at__lt=anchor) | Q(at=anchor, pk__lt=before))
        found = list(older.order_by("-at", "-pk")[: size + 1])
        entries = found[:size]
        return AuditPage(
            entries=[_entry(r) for r in entries],
            older_cursor=entries[-1]["pk"] if len(found) > size else None,
            newer_cursor=entries[0]["pk"] if entries else None,
            is_newest=False,
        )
    if after is not None:
        anchor = Subquery(AccessEvent.objects.filter(pk=after).values("at")[:1])
        newer = rows.filter(Q(at__gt=anchor) | Q(at=anchor, pk__gt=after))
        found = list(newer.order_by("at", "pk")[: size + 1])
        if len(found) > size:
            entries = list(reversed(found[:size]))
            return AuditPage(
                entries=[_entry(r) for r in entries],
                older_cursor=entries[-1]["pk"],
                newer_cursor=entries[0]["pk"],
                is_newest=False,
            )
        # Nothing newer than a full page: show the newest page rather than a short one.
    found = list(rows.order_by("-at", "-pk")[: size + 1])
    entries = found[:size]
    return AuditPage(
        entries=[_entry(r) for r in entries],
        older_cursor=entries[-1]["pk"] if len(found) > size else None,
        newer_cursor=None,
        is_newest=True,
    )
