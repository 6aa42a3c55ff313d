"""The access log, explicit grants, and requests for access from outside a child's scope."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from cases.models import AccessEvent, AccessRequest, Child
from followups.services import notify
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


@transaction.atomic
def access_request_create(*, child: Child, by: User, reason: str) -> AccessRequest:
    """Ask the region that holds a child's file for access; its director and supervisor are told."""
    from cases.selectors import responsible_staff

    request, _created = AccessRequest.objects.get_or_create(
        child=child,
        requested_by=by,
        status=AccessRequest.Status.PENDING,
        defaults={"reason": reason},
    )
    notify(
        recipients=responsible_staff(region_code=child.residence_region_id),
        kind="access_request",
        text=_("%(user)s asks for access to the file %(record)s.")
        % {"user": by, "record": child.record_number},
        link=reverse("cases:access_requests"),
        child=child,
    )
    return request


@transaction.atomic
def access_request_decide(
    *, access_request: AccessRequest, by: User, approve: bool, note: str = ""
) -> AccessRequest:
    """Approve (grant access to the one child) or decline a pending request; the asker is told."""
    locked = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if locked.status != AccessRequest.Status.PENDING:
        return locked
    locked.status = AccessRequest.Status.APPROVED if approve else AccessRequest.Status.DECLINED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decision_note = note
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    child = locked.child
    if approve:
        child_grant_access(child=child, user=locked.requested_by, by=by)
        text = _("Your request for access to %(record)s was approved.")
        link = reverse("cases:child_detail", args=[child.pk])
    else:
        text = _("Your request for access to %(record)s was declined.")
        link = ""
    notify(
        recipients=[locked.requested_by],
        kind="access_request_decided",
        text=text % {"record": child.record_number},
        link=link,
    )
    return locked
