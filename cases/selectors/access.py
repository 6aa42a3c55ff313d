"""Access beyond the user's scope waiting for someone: emergency accesses to review, access
requests to decide."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.models import AccessRequest, EmergencyAccess
from cases.selectors.scope import child_scope_q
from institutions.models import User
from institutions.selectors import scope_for


def emergency_accesses_to_review(*, user: User) -> QuerySet[EmergencyAccess]:
    """Unreviewed emergency accesses to children in the reviewer's regions (for the auditor:
    all of them), oldest first."""
    if user.has_perm("core.view_accessevent"):
        q = Q()
    elif user.has_perm("cases.review_emergency_access"):
        q = Q(pk__in=[])
        for prefix in scope_for(user).region_prefixes:
            q |= Q(child__residence_region__code__startswith=prefix)
            q |= Q(child__household_region__code__startswith=prefix)
    else:
        return EmergencyAccess.objects.none()
    return (
        EmergencyAccess.objects.filter(q, reviewed_at__isnull=True)
        .select_related("user", "child")
        .order_by("created_at", "id")
    )


def pending_access_requests(*, user: User) -> QuerySet[AccessRequest]:
    """Requests the user can decide: for children in their scope, when they may edit children."""
    if not user.has_perm("cases.change_child"):
        return AccessRequest.objects.none()
    return (
        AccessRequest.objects.filter(
            child_scope_q(user, via="child__"), status=AccessRequest.Status.PENDING
        )
        .select_related("child", "requested_by")
        .order_by("created_at")
    )
