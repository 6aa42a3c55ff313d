"""Reads of the access log for auditors: who viewed, exported or changed which file, when, where.

Auditors have no child scope: they see a child's record number and masked name, never the file.
The rows a page shows are plain dataclasses built here, so a template never holds a child's
unmasked name and cannot reach it by accident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import (
    CharField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext_lazy as _

from cases.models import Child
from core.models import AccessEvent
from institutions.masking import FieldKind, masked
from institutions.models import User
from institutions.roles import Role

AUDIT_PERMISSION = "core.view_accessevent"
PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditEntry:
    """One line of the access log as an auditor sees it."""

    pk: int
    at: datetime
    user_id: int
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
        username=row["user__username"],
        user_display_name=row["user__display_name"] or row["user__username"],
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


# Administrators' actions: the admin site's own log (LogEntry) and the access-log rows of action
# "admin" (approvals, set-password links...), one list for the auditor.

ADMIN_EVENT_LABELS = {
    "membership_requested": _("Membership requested"),
    "membership_request_changed": _("Membership request changed"),
    "membership_approved": _("Membership approved"),
    "membership_refused": _("Membership refused"),
    "membership_ended": _("Membership ended"),
    "password_link_issued": _("Set-password link issued"),
    "password_set_by_link": _("Password set through a link"),
}
_SITE_FLAGS = {
    1: _("Added in the admin site"),
    2: _("Changed in the admin site"),
    3: _("Deleted in the admin site"),
}


@dataclass(frozen=True)
class AdminActionEntry:
    """One administrator's action as the auditor sees it."""

    at: datetime
    user_id: int | None
    username: str
    user_display_name: str
    from_access_log: bool
    label: str
    subject: str
    message: str
    ip_address: str | None


def _admin_action_rows(kind: str, qs: QuerySet[Any], **columns: Any) -> QuerySet[Any]:
    """One side of the union, its columns in one fixed order (both sides must match)."""
    order = ("a_at", "a_pk", "a_user", "a_kind", "a_flag", "a_subject", "a_model", "a_text", "a_ip")
    columns["a_kind"] = Value(kind, output_field=CharField())
    return qs.annotate(**{name: columns[name] for name in order}).values(*order)


def admin_actions_visible_to(user: User | AnonymousUser) -> QuerySet[Any]:
    """Every administrator's action, newest first: for auditors, nothing for anyone else."""
    if not may_audit(user):
        return LogEntry.objects.none().values("pk")
    site = _admin_action_rows(
        "site",
        LogEntry.objects.all(),
        a_at=F("action_time"),
        a_pk=F("pk"),
        a_user=F("user_id"),
        a_flag=F("action_flag"),
        a_subject=Cast("object_repr", TextField()),
        a_model=Concat(
            "content_type__app_label", Value("."), "content_type__model", output_field=TextField()
        ),
        a_text=F("change_message"),
        a_ip=Value(None, output_field=TextField()),
    )
    log = _admin_action_rows(
        "log",
        AccessEvent.objects.filter(action=AccessEvent.Action.ADMIN),
        a_at=F("at"),
        a_pk=F("pk"),
        a_user=F("user_id"),
        a_flag=Value(0, output_field=IntegerField()),
        a_subject=Value("", output_field=TextField()),
        a_model=Value("", output_field=TextField()),
        a_text=Cast("detail", TextField()),
        a_ip=Func("ip_address", function="host", output_field=TextField()),
    )
    return site.union(log, all=True).order_by("-a_at", "-a_pk")


def _describe_event(detail: dict[str, Any], usernames: dict[int, str]) -> tuple[str, str]:
    """The label and a short description of an access-log row of action "admin"."""
    event = str(detail.get("event", ""))
    label = str(ADMIN_EVENT_LABELS.get(event, AccessEvent.Action.ADMIN.label))
    parts: list[str] = []
    member = detail.get("member")
    if isinstance(member, int):
        parts.append(usernames.get(member, f"#{member}"))
    role = detail.get("role")
    if isinstance(role, str) and role in Role.values:
        parts.append(str(Role(role).label))
    if detail.get("jurisdiction"):
        parts.append(", ".join(str(code) for code in detail["jurisdiction"]))
    if "membership" in detail:
        parts.append(f"#{detail['membership']}")
    if detail.get("emailed"):
        parts.append(str(_("e-mailed")))
    return label, " · ".join(parts)


def admin_action_page(*, user: User, number: str | int | None, size: int = PAGE_SIZE) -> Page:
    """One page of administrators' actions (newest first) as `AdminActionEntry` rows."""
    page = Paginator(admin_actions_visible_to(user), size).get_page(number)
    rows = list(page.object_list)
    details: list[dict[str, Any]] = []
    for row in rows:
        detail: dict[str, Any] = {}
        if row["a_kind"] == "log":
            try:
                loaded = json.loads(row["a_text"] or "{}")
            except ValueError:
                loaded = {}
            detail = loaded if isinstance(loaded, dict) else {}
        details.append(detail)
    ids = {row["a_user"] for row in rows} | {
        d["member"] for d in details if isinstance(d.get("member"), int)
    }
    people = {u.pk: u for u in User.objects.filter(pk__in=ids).only("username", "display_name")}
    usernames = {pk: u.username for pk, u in people.items()}
    entries: list[AdminActionEntry] = []
    for row, detail in zip(rows, details, strict=True):
        actor = people.get(row["a_user"])
        if row["a_kind"] == "log":
            label, message = _describe_event(detail, usernames)
            subject = ""
        else:
            label = str(_SITE_FLAGS.get(row["a_flag"], _("Administration")))
            subject = f"{row['a_model']} · {row['a_subject']}"
            message = LogEntry(change_message=row["a_text"] or "").get_change_message()
        entries.append(
            AdminActionEntry(
                at=row["a_at"],
                user_id=row["a_user"],
                username=actor.username if actor else "",
                user_display_name=str(actor) if actor else "",
                from_access_log=row["a_kind"] == "log",
                label=label,
                subject=subject,
                message=message,
                ip_address=row["a_ip"],
            )
        )
    page.object_list = entries
    return page
