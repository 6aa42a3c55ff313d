"""Administrators' actions for auditors: the admin site's own log (LogEntry) and the access-log
rows of action "admin" (approvals, set-password links...), one list, newest first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import CharField, F, Func, IntegerField, QuerySet, TextField, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext_lazy as _

from cases.selectors.audit import PAGE_SIZE, may_audit
from core.models import AccessEvent
from institutions.models import User
from institutions.roles import Role

ADMIN_EVENT_LABELS = {
    "membership_requested": _("Membership requested"),
    "membership_request_changed": _("Membership request changed"),
    "membership_approved": _("Membership approved"),
    "membership_refused": _("Membership refused"),
    "membership_ended": _("Membership ended"),
    "password_link_issued": _("Set-password link issued"),
    "password_set_by_link": _("Password set through a link"),
    "role_permissions_changed": _("Role permissions changed"),
    "api_token_revoked": _("API token revoked"),
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
