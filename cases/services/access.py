"""Explicit grants, requests for access from outside a child's scope, and break the glass."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from cases.models import AccessRequest, Child, ChildAccessGrant, EmergencyAccess
from cases.selectors.staff import responsible_staff
from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from institutions.models import Agency, Membership, User
from institutions.roles import Level, Role


@transaction.atomic
def grant_open(
    *,
    child: Child,
    user: User,
    level: Level,
    source: str,
    source_id: int | None = None,
    by: User | None = None,
    expires_at: datetime | None = None,
) -> ChildAccessGrant:
    """Give one user a tie to one child from one source (care team, referral, request, share).

    A second grant from the same source is the same grant (its expiry updated); grants from
    other sources are independent, so ending one never removes another.
    """
    grant, created = ChildAccessGrant.objects.get_or_create(
        child=child,
        user=user,
        source=source,
        source_id=source_id,
        ended_at__isnull=True,
        defaults={"level": level, "granted_by": by, "expires_at": expires_at},
    )
    if not created and (grant.expires_at != expires_at or grant.level != level):
        grant.expires_at, grant.level = expires_at, level
        grant.save(update_fields=["expires_at", "level"])
    if created and by is not None:
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=child,
            detail={"grant": source, "level": int(level), "to_user": user.pk},
        )
    return grant


def grants_end(
    *,
    source: str,
    source_id: int | None,
    user: User | None = None,
    by: User | None = None,
    child: Child | None = None,
) -> list[int]:
    """End the live grants of one source (optionally of one user); returns the users whose grant
    ended. Other sources' grants stay."""
    qs = ChildAccessGrant.objects.filter(source=source, source_id=source_id, ended_at__isnull=True)
    if user is not None:
        qs = qs.filter(user=user)
    ended = sorted(qs.values_list("user_id", flat=True))
    if ended:
        qs.update(ended_at=timezone.now())
        if by is not None and child is not None:
            access_record(
                user=by,
                action=AccessEvent.Action.CHANGE,
                child=child,
                detail={"grant_ended": source, "source_id": source_id, "from_users": ended},
            )
    return ended


def grants_expire_source(*, source: str, source_id: int, expires_at: datetime) -> int:
    """Let the live grants of one source run until `expires_at` (a closed referral's period)."""
    return ChildAccessGrant.objects.filter(
        source=source, source_id=source_id, ended_at__isnull=True
    ).update(expires_at=expires_at)


def grants_end_expired(*, now: datetime) -> int:
    """Mark grants whose expiry has passed as ended (set-based, idempotent). Expired grants give
    no access anyway; this keeps the table's live rows few."""
    return ChildAccessGrant.objects.filter(ended_at__isnull=True, expires_at__lte=now).update(
        ended_at=now
    )


@transaction.atomic
def access_request_create(*, child: Child, by: User, reason: str) -> AccessRequest:
    """Ask the region that holds a child's file for access; its director and supervisor are told."""

    request, _created = AccessRequest.objects.get_or_create(
        child=child,
        requested_by=by,
        status=AccessRequest.Status.PENDING,
        defaults={"reason": reason},
    )
    notify(
        recipients=responsible_staff(region_code=child.residence_region_id),
        kind="access_request",
        link=reverse("cases:access_requests"),
        child=child,
        params={"user": str(by), "request": request.pk},
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
        grant_open(
            child=child,
            user=locked.requested_by,
            level=Level.READ,
            source=ChildAccessGrant.Source.ACCESS_REQUEST,
            source_id=locked.pk,
            by=by,
        )
        kind = "access_request_approved"
        link = reverse("cases:child_detail", args=[child.pk])
    else:
        kind = "access_request_declined"
        link = ""
    # The child is named as the asker may see them: masked when the request was declined.
    notify(
        recipients=[locked.requested_by],
        kind=kind,
        link=link,
        child=child,
        params={"request": locked.pk},
    )
    return locked


class EmergencyTokenUsed(Exception):
    """The duplicate-search token was already used to break the glass."""


def emergency_access_until() -> datetime:
    return timezone.now() + timedelta(hours=settings.EMERGENCY_ACCESS_HOURS)


def emergency_reviewers(*, child: Child) -> QuerySet[User]:
    """Who is told of, and reviews, an emergency access: the child supervisors of the child's
    township; where it has none, those of the next region up, and at the county (which always
    has one) its civil-affairs supervisors as well."""
    region = child.residence_region_id
    for length in (9, 6, 4, 2):
        if len(region) < length:
            continue
        code = region[:length]
        supervisors = Membership.objects.filter(
            is_active=True, role=Role.CHILD_SUPERVISOR, jurisdiction__contains=[code]
        )
        if length <= 6:
            supervisors = supervisors | Membership.objects.filter(
                is_active=True,
                role=Role.AGENCY_SUPERVISOR,
                agency__kind=Agency.Kind.CIVIL_AFFAIRS,
                jurisdiction__contains=[code],
            )
        users = User.objects.filter(pk__in=supervisors.values("user_id"), is_active=True)
        if users.exists():
            return users
    return User.objects.none()


@transaction.atomic
def emergency_access_open(
    *, child: Child, by: User, reason_code: str, reason: str, token_nonce: str
) -> EmergencyAccess:
    """Break the glass: one file, read only, for EMERGENCY_ACCESS_HOURS, once per token.

    The access is logged and the child's supervisors are told at once; they review it.
    """
    try:
        with transaction.atomic():
            access = EmergencyAccess.objects.create(
                user=by,
                child=child,
                reason_code=reason_code,
                reason=reason,
                token_nonce=token_nonce,
                expires_at=emergency_access_until(),
            )
    except IntegrityError:
        raise EmergencyTokenUsed from None
    access_record(
        user=by,
        action=AccessEvent.Action.EMERGENCY,
        child=child,
        detail={"emergency_access": access.pk, "reason_code": reason_code},
    )
    notify(
        recipients=emergency_reviewers(child=child),
        kind="emergency_access",
        link=reverse("cases:emergency_reviews"),
        child=child,
        params={"user": str(by), "emergency_access": access.pk},
    )
    return access


@transaction.atomic
def emergency_access_review(*, access: Any, by: User, note: str) -> Any:
    """The supervisor's review of an emergency access; the first review stands."""

    EmergencyAccess.objects.filter(pk=access.pk, reviewed_at__isnull=True).update(
        reviewed_by=by, reviewed_at=timezone.now(), review_note=note
    )
    access.refresh_from_db()
    return access
