"""Scoped reads of referrals: the sending side (through the child), the clinic's inbox, overdue
answers, who may read clinical details, and the durations the indicators need."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from cases import sections
from cases.models import CareTeamMember, Child
from cases.selectors.scope import child_scope_q
from core.access import register
from institutions.models import Membership, User
from institutions.roles import Level, Role
from institutions.selectors import scope_for
from referrals.models import Referral, ReferralAttachment

S = Referral.Status

# Accepted and not yet closed: the clinic's active work.
CLINIC_ACTIVE_STATUSES = frozenset(
    {S.ACCEPTED, S.APPOINTMENT, S.SEEN, S.IN_TREATMENT, S.DISCHARGED}
)
ENDED_STATUSES = frozenset({S.DECLINED, S.CLOSED, S.WITHDRAWN})


DEFAULT_ANSWER_LIMITS: dict[str, timedelta] = {
    Referral.Urgency.ROUTINE: timedelta(days=7),
    Referral.Urgency.URGENT: timedelta(days=2),
    Referral.Urgency.EMERGENCY: timedelta(hours=4),
}
DEFAULT_ACCESS_DAYS_AFTER_CLOSE = 30

# Roles whose work is health care: they read diagnosis and treatment of any referral they see.
HEALTH_ROLES = frozenset({Role.CLINICIAN})

REFERRAL_RELATED = ("child", "to_institution", "from_user", "from_institution", "from_agency")


def answer_limits() -> dict[str, timedelta]:
    """How long a sent referral may wait for an answer, by urgency (settings override)."""
    configured = getattr(settings, "REFERRAL_ANSWER_LIMITS", None) or {}
    return {**DEFAULT_ANSWER_LIMITS, **configured}


def access_days_after_close() -> int:
    return int(
        getattr(settings, "REFERRAL_ACCESS_DAYS_AFTER_CLOSE", DEFAULT_ACCESS_DAYS_AFTER_CLOSE)
    )


def member_institution_ids(user: User | AnonymousUser) -> QuerySet[Membership, Any]:
    """A subquery of the institutions where `user` holds an active membership."""
    return Membership.objects.filter(
        user_id=user.pk or 0, is_active=True, institution__isnull=False
    ).values("institution_id")


def inbox_q(user: User | AnonymousUser, *, now: datetime) -> Q:
    """Referrals sent to the user's institutions that the clinic may still see."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    return Q(to_institution_id__in=member_institution_ids(user), sent_at__isnull=False) & (
        Q(access_until__isnull=True) | Q(access_until__gt=now)
    )


def overdue_q(*, now: datetime) -> Q:
    """Sent and still unanswered past the limit for its urgency (uses the status/sent_at index)."""
    q = Q(pk__in=[])
    for urgency, limit in answer_limits().items():
        q |= Q(urgency=urgency, sent_at__lt=now - limit)
    return Q(status=S.SENT) & q


def answer_due_expression() -> Case:
    return Case(
        *[
            When(
                urgency=urgency,
                then=ExpressionWrapper(
                    F("sent_at") + Value(limit, output_field=DurationField()),
                    output_field=DateTimeField(),
                ),
            )
            for urgency, limit in answer_limits().items()
        ],
        default=None,
        output_field=DateTimeField(),
    )


def with_deadlines(qs: QuerySet[Referral], *, now: datetime) -> QuerySet[Referral]:
    """Annotate when an answer is due and whether the referral is overdue now."""
    return qs.annotate(
        answer_due_at=answer_due_expression(),
        is_overdue=ExpressionWrapper(overdue_q(now=now), output_field=BooleanField()),
    )


def referral_scope_q(user: User | AnonymousUser, level: Level = Level.READ) -> Q:
    """Referrals of the children `user` reaches at `level`, and, to read, those sent to the
    user's institutions while the clinic has access (the clinic's steps are authorised by the
    referral and the clinic's permission, not by a level on the child)."""
    q = child_scope_q(user, level=level, via="child__")
    if level == Level.READ:
        q |= inbox_q(user, now=timezone.now())
    return q


def attachment_scope_q(user: User | AnonymousUser, level: Level = Level.READ) -> Q:
    """Attachments of the referrals `user` reaches at `level`."""
    return Q(referral__in=Referral.objects.filter(referral_scope_q(user, level)).values("pk"))


def referrals_visible_to(user: User | AnonymousUser) -> QuerySet[Referral]:
    """Referrals of the children `user` may see, and those sent to the user's institutions
    while the clinic has access. Anything else is indistinguishable from missing."""
    return Referral.objects.filter(referral_scope_q(user)).select_related(*REFERRAL_RELATED)


def referrals_of_children_visible_to(
    user: User | AnonymousUser, level: Level = Level.READ
) -> QuerySet[Referral]:
    """Referrals the user reaches through the child at `level` (the sending side), whatever
    their clinic."""
    return Referral.objects.filter(child_scope_q(user, level=level, via="child__")).select_related(
        "child", "to_institution"
    )


def attachments_visible_to(user: User | AnonymousUser) -> QuerySet[ReferralAttachment]:
    """Attachments of the referrals `user` may see."""
    return ReferralAttachment.objects.filter(attachment_scope_q(user)).select_related(
        "referral__child"
    )


def register_scopes() -> None:
    """The scoping of this app's models for the one fetch (called from ready())."""
    register(Referral, q=referral_scope_q, child_id=lambda referral: referral.child_id)
    register(
        ReferralAttachment,
        q=attachment_scope_q,
        child_id=lambda attachment: attachment.referral.child_id,
    )


def referral_list(*, user: User, status: str = "") -> QuerySet[Referral]:
    """The referrals page: what the user may see, newest first, with deadlines."""
    qs = referrals_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    return with_deadlines(qs, now=timezone.now()).order_by("-created_at", "-id")


INBOX_TABS = ("new", "overdue", "active", "ended")


def referral_inbox(
    user: User | AnonymousUser, *, now: datetime | None = None
) -> QuerySet[Referral]:
    """Referrals sent to the institutions where the user works (the clinic side)."""
    now = now or timezone.now()
    return with_deadlines(
        Referral.objects.filter(inbox_q(user, now=now)).select_related(*REFERRAL_RELATED),
        now=now,
    )


def inbox_tab(qs: QuerySet[Referral], *, tab: str, now: datetime) -> QuerySet[Referral]:
    """One tab of the inbox: new (overdue and most urgent first), overdue, active or ended."""
    urgency_rank = Case(
        When(urgency=Referral.Urgency.EMERGENCY, then=Value(0)),
        When(urgency=Referral.Urgency.URGENT, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    if tab == "overdue":
        return qs.filter(overdue_q(now=now)).annotate(rank=urgency_rank).order_by("rank", "sent_at")
    if tab == "active":
        return qs.filter(status__in=CLINIC_ACTIVE_STATUSES).order_by(
            F("appointment_at").asc(nulls_last=True), "accepted_at", "id"
        )
    if tab == "ended":
        return qs.filter(status__in=ENDED_STATUSES).order_by("-access_until", "-id")
    return (
        qs.filter(status=S.SENT)
        .annotate(rank=urgency_rank)
        .order_by("-is_overdue", "rank", "sent_at", "id")
    )


def inbox_counts(qs: QuerySet[Referral], *, now: datetime) -> dict[str, int]:
    """How many referrals each inbox tab holds: one aggregate query."""
    return qs.aggregate(
        new=Count("pk", filter=Q(status=S.SENT)),
        overdue=Count("pk", filter=overdue_q(now=now)),
        active=Count("pk", filter=Q(status__in=CLINIC_ACTIVE_STATUSES)),
        ended=Count("pk", filter=Q(status__in=ENDED_STATUSES)),
    )


def overdue_referrals(*, now: datetime) -> QuerySet[Referral]:
    """Every referral past its answer limit, for the scheduler (not scoped: a system read)."""
    return Referral.objects.filter(overdue_q(now=now)).select_related("child", "to_institution")


def _interval(end: str, start: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def referral_durations(queryset: QuerySet[Referral]) -> dict[str, Any]:
    """Average sent→accepted, accepted→first appointment kept (first seen) and sent→closed,
    with how many referrals each average covers; one aggregate query."""
    return queryset.aggregate(
        sent_to_accepted=Avg(_interval("accepted_at", "sent_at")),
        sent_to_accepted_count=Count(
            "pk", filter=Q(accepted_at__isnull=False, sent_at__isnull=False)
        ),
        accepted_to_first_appointment=Avg(_interval("first_seen_at", "accepted_at")),
        accepted_to_first_appointment_count=Count(
            "pk", filter=Q(first_seen_at__isnull=False, accepted_at__isnull=False)
        ),
        sent_to_closed=Avg(_interval("closed_at", "sent_at")),
        sent_to_closed_count=Count("pk", filter=Q(closed_at__isnull=False, sent_at__isnull=False)),
    )


def child_referrals(child: Child) -> list[Referral]:
    """A child's referrals for the file page: one query, shared by the section and timeline."""
    return sections.read_once(
        child,
        "referrals",
        lambda: list(
            Referral.objects.filter(child=child)
            .select_related("to_institution")
            .order_by("-created_at", "-id")[:100]
        ),
    )


def clinical_access(user: User) -> Callable[[Referral], bool]:
    """Who reads diagnosis and treatment: staff of the receiving clinic, the child's counsellor
    (on the care team) and health roles, each also holding `referrals.view_clinical_details`.

    Returns a test for one referral; at most two queries, whatever the number of referrals."""
    if not user.has_perm("referrals.view_clinical_details"):
        return lambda referral: False
    if scope_for(user).roles & HEALTH_ROLES:
        return lambda referral: True
    clinics = set(member_institution_ids(user).values_list("institution_id", flat=True))
    counselled = set(
        CareTeamMember.objects.filter(
            user_id=user.pk, is_active=True, team_role=CareTeamMember.TeamRole.COUNSELLOR
        ).values_list("child_id", flat=True)
    )
    return lambda referral: referral.to_institution_id in clinics or referral.child_id in counselled


def may_see_clinical_details(user: User, referral: Referral) -> bool:
    """Whether `user` may read this referral's diagnosis and treatment."""
    return clinical_access(user)(referral)


def user_organisations(user: User) -> list[Membership]:
    """The user's active memberships, for choosing which organisation a referral comes from."""
    return list(
        Membership.objects.filter(user_id=user.pk, is_active=True)
        .select_related("agency", "institution")
        .order_by("id")
    )
