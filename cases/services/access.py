"""The access log, explicit grants, and requests for access from outside a child's scope."""

from __future__ import annotations

from typing import Any

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


@transaction.atomic
def emergency_access_open(*, child: Child, by: User, reason: str) -> Any:
    """Break the glass: open one file outside the user's scope for EMERGENCY_ACCESS_HOURS.

    The access is logged and the child supervisors responsible for the child are told at once;
    they review it with a note.
    """
    from datetime import timedelta

    from django.conf import settings

    from cases.models import EmergencyAccess
    from cases.selectors import responsible_staff
    from institutions.roles import Role

    access = EmergencyAccess.objects.create(
        user=by,
        child=child,
        reason=reason,
        expires_at=timezone.now() + timedelta(hours=settings.EMERGENCY_ACCESS_HOURS),
    )
    access_record(
        user=by, action=AccessEvent.Action.VIEW, child=child, detail={"emergency_access": access.pk}
    )
    notify(
        recipients=responsible_staff(
            region_code=child.residence_region_id, roles=(Role.CHILD_SUPERVISOR,)
        ),
        kind="emergency_access",
        text=_("%(user)s opened the file %(record)s in an emergency: please review it.")
        % {"user": by, "record": child.record_number},
        link=reverse("cases:emergency_reviews"),
        child=child,
    )
    return access


@transaction.atomic
def emergency_access_review(*, access: Any, by: User, note: str) -> Any:
    """The supervisor's review of an emergency access; the first review stands."""
    from cases.models import EmergencyAccess

    EmergencyAccess.objects.filter(pk=access.pk, reviewed_at__isnull=True).update(
        reviewed_by=by, reviewed_at=timezone.now(), review_note=note
    )
    access.refresh_from_db()
    return access
