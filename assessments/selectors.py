"""Scoped reads of assessments, alerts and sessions, and the reassessment due date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from assessments.models import (
    Alert,
    Assessment,
    Instrument,
    ReassessmentPolicy,
    ScreeningAbsence,
    ScreeningSession,
)
from cases.models import CarePlan, Child
from cases.selectors.scope import (
    access_level,
    care_plans_visible_to,
    child_scope_q,
    register_child_related,
)
from core.access import register
from core.cache import now_and_at_commit, read_ahead
from institutions.models import User
from institutions.roles import Level
from institutions.selectors import scope_for


def assessments_visible_to(user: User | AnonymousUser) -> QuerySet[Assessment]:
    """Assessments of the children `user` may see."""
    return Assessment.objects.filter(child_scope_q(user, via="child__")).select_related(
        "child", "instrument", "administered_by"
    )


def alerts_visible_to(user: User | AnonymousUser) -> QuerySet[Alert]:
    """Alerts about the children `user` may see."""
    return Alert.objects.filter(child_scope_q(user, via="child__")).select_related(
        "child", "assessment__instrument", "acknowledged_by"
    )


def session_scope_q(user: User | AnonymousUser, level: Level = Level.READ) -> Q:
    """Screening sessions of the user's schools and institutions where their scope reaches
    `level`, those they opened, and, for an agency, those of the institutions in its region
    that an agency of its kind supervises (an education bureau's schools)."""
    scope = scope_for(user)
    if scope.user_id is None:
        return Q(pk__in=[])
    q = Q(opened_by_id=scope.user_id)
    if schools := scope.school_ids_at(level):
        q |= Q(school_id__in=schools)
    if residences := scope.residence_ids_at(level):
        q |= Q(institution_id__in=residences)
    for kind, code in scope.agency_regions_at(level):
        q |= Q(school__region__code__startswith=code, school__supervising_agency__kind=kind)
        q |= Q(
            institution__region__code__startswith=code,
            institution__supervising_agency__kind=kind,
        )
    return q


def sessions_visible_to(user: User | AnonymousUser) -> QuerySet[ScreeningSession]:
    """Screening sessions of the user's schools and institutions, and those they opened."""
    return ScreeningSession.objects.filter(session_scope_q(user)).select_related(
        "instrument", "school", "institution"
    )


def instrument_scope_q(user: User | AnonymousUser, level: Level = Level.READ) -> Q:
    """Instruments hold no personal information: anyone signed in reaches them, and the
    action permission decides (403) who may see or change them."""
    return Q() if user.is_authenticated and user.is_active else Q(pk__in=[])


def register_scopes() -> None:
    """The scoping of this app's models for the one fetch (called from ready())."""
    for model in (Assessment, Alert, ScreeningAbsence):
        register_child_related(model)
    register(ScreeningSession, q=session_scope_q, child_id=None)
    register(Instrument, q=instrument_scope_q, child_id=None)


def may_see_item_answers(user: User, assessment: Assessment) -> bool:
    """Item-level answers: counsellors and clinicians, and whoever took the assessment."""
    return (
        user.has_perm("assessments.view_item_answers") or assessment.administered_by_id == user.pk
    )


def current_instruments() -> QuerySet[Instrument]:
    """The newest active version of every instrument code."""
    return Instrument.objects.filter(is_active=True).order_by("code", "-version").distinct("code")


def instruments_for_child(child: Child) -> list[Instrument]:
    age = child.age()
    return [i for i in current_instruments() if i.fits_age(age)]


def instrument_age_ranges() -> list[tuple[int, int]]:
    """The age ranges of the instruments in use (one query, for many children at once)."""
    return list(current_instruments().values_list("min_age", "max_age"))


@dataclass(frozen=True)
class DueRules:
    """What a child's next due date is computed from: the age ranges of the instruments in
    use, and the reassessment policies in force as (risk level or None, category or "",
    setting, interval in days)."""

    age_ranges: tuple[tuple[int, int], ...]
    policies: tuple[tuple[int | None, str, str, int], ...]


# Every file page applies them, and an administrator changes them rarely: kept in the cache,
# read in the round trip of the user's principal (core.cache.read_with_principal), forgotten
# whenever an instrument or a policy is saved or deleted (now and when that commits). What a
# migration or a bulk load changes, which sends no signal, shows within DUE_RULES_SECONDS.
DUE_RULES_KEY = "assessments:due-rules:v1"
DUE_RULES_SECONDS = 300


def due_rules(user: User | AnonymousUser | None = None) -> DueRules:
    kept = read_ahead(user, DUE_RULES_KEY)
    if isinstance(kept, DueRules):
        return kept
    rules = DueRules(
        age_ranges=tuple(instrument_age_ranges()),
        policies=tuple(
            ReassessmentPolicy.objects.filter(is_active=True)
            .order_by("id")
            .values_list("risk_level", "category", "setting", "interval_days")
        ),
    )
    # Read inside a transaction, they may hold a change that may yet roll back.
    if not connection.in_atomic_block:
        cache.set(DUE_RULES_KEY, rules, DUE_RULES_SECONDS)
    return rules


def forget_due_rules(*args: Any, **kwargs: Any) -> None:
    now_and_at_commit(lambda: cache.delete(DUE_RULES_KEY))


def no_instrument_for_age(
    child: Child,
    *,
    ranges: Iterable[tuple[int, int]],
    on: date | None = None,
) -> bool:
    """The rule for "no instrument for this age": no instrument in use fits the child's age,
    so the child cannot be screened and no reassessment is due (shown instead of a date).
    `ranges` are `due_rules().age_ranges`, read once for many children."""
    age = child.age(on)
    return not any(low <= age <= high for low, high in ranges)


def latest_results(*, child: Child) -> list[Assessment]:
    """The latest current result per instrument code, for the file."""
    rows = (
        Assessment.objects.filter(child=child, amendments__isnull=True)
        .select_related("instrument")
        .order_by("instrument__code", "-administered_on", "-id")
        .distinct("instrument__code")
    )
    return sorted(rows, key=lambda a: a.administered_on, reverse=True)


def trend_series(*, results: list[Assessment]) -> list[dict[str, Any]]:
    """Per instrument code, totals over time (oldest first) and the band boundaries (ECharts)."""
    rows = results
    series: dict[str, dict[str, Any]] = {}
    for a in rows:
        entry = series.setdefault(
            a.instrument.code,
            {
                "code": a.instrument.code,
                "name": a.instrument.name,
                "bands": [
                    {"min": b.min, "max": b.max, "label": b.label, "risk": b.risk}
                    for b in a.instrument.parsed.bands
                    if b.scale == "total"
                ],
                "points": [],
            },
        )
        entry["points"].append([a.administered_on.isoformat(), a.total])
    return list(series.values())


def policy_interval(*, child: Child, rules: DueRules | None = None) -> int | None:
    """The shortest interval (days) among the policies in force that match the child: of its
    risk level or any, of one of its categories or any, and of any setting or the child's (a
    school, an institution). The scheduled planner applies the same rule in SQL
    (followups.scheduling)."""
    settings_ = {ReassessmentPolicy.Setting.ANY.value}
    if child.residential_institution_id:
        settings_.add(ReassessmentPolicy.Setting.INSTITUTION.value)
    if child.school_id:
        settings_.add(ReassessmentPolicy.Setting.SCHOOL.value)
    categories = set(child.categories or ())
    policies = (rules or due_rules()).policies
    return min(
        (
            interval
            for risk_level, category, setting, interval in policies
            if (risk_level is None or risk_level == child.risk_level)
            and (category == "" or category in categories)
            and setting in settings_
        ),
        default=None,
    )


def next_reassessment_due(
    *, child: Child, last: date | None, rules: DueRules | None = None
) -> date | None:
    """When the child is next due: the last assessment plus the policy's interval; today if
    never assessed; None if no policy applies."""
    interval = policy_interval(child=child, rules=rules)
    if interval is None:
        return None
    if last is None:
        return timezone.localdate()
    return last + timedelta(days=interval)


# Telling a guardian about an alert is a contact with the family: whoever records visits and
# contributes to the child may record it (every role that closes alerts records visits too).
GUARDIAN_INFORMED_PERMISSION = "followups.add_visit"


def actions_on_child(*, user: User, child: Child) -> dict[str, Any]:
    """What `user` may start about `child` from an alert or a result: a referral (contribute
    and the permission), a care plan or the review of the active one (manage and the
    permission), a record that a guardian was told (contribute and the permission). Two
    queries at most."""
    level = access_level(user, child) or 0
    contribute = level >= Level.CONTRIBUTE
    may_plan = level >= Level.MANAGE and user.has_perm("cases.manage_care")
    active_plan = (
        care_plans_visible_to(user)
        .filter(child=child, status=CarePlan.Status.ACTIVE)
        .select_related(None)
        .only("pk")
        .first()
        if may_plan
        else None
    )
    return {
        "may_refer": contribute and user.has_perm("referrals.add_referral"),
        "may_plan": may_plan,
        "active_plan": active_plan,
        "may_inform": contribute and user.has_perm(GUARDIAN_INFORMED_PERMISSION),
    }
