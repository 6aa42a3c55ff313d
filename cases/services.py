"""Writes about children: grants and the access log (the child's file itself grows in issue 3)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from guardian.shortcuts import assign_perm, remove_perm

from cases.models import AccessEvent, Child
from institutions.models import User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def access_record(
    *,
    user: User,
    action: str,
    child: Child | None = None,
    request: HttpRequest | None = None,
    detail: dict | None = None,
) -> AccessEvent:
    """Record one read, export or change of a child's data (who, what, when, from where)."""
    return AccessEvent.objects.create(
        user=user,
        child=child,
        action=action,
        path=(request.get_full_path()[:300] if request is not None else ""),
        ip_address=client_ip(request),
        detail=detail or {},
    )


@transaction.atomic
def child_grant_access(*, child: Child, user: User, by: User | None = None) -> None:
    """Let one user see one child outside their scope (an explicit, revocable grant)."""
    assign_perm("cases.view_child", user, child)
    if by is not None:
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=child,
            detail={"grant": "view_child", "to_user": user.pk},
        )


@transaction.atomic
def child_revoke_access(*, child: Child, user: User, by: User | None = None) -> None:
    """Take back an explicit grant; the user's scope no longer includes the child."""
    remove_perm("cases.view_child", user, child)
    if by is not None:
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=child,
            detail={"revoke": "view_child", "from_user": user.pk},
        )
