"""What falls due for a child, kind by kind: the generators of the scheduler (see
`followups.scheduling`). Each is one queryset over the children it concerns; the intervals come
from the policy tables administrators edit (`VisitPolicy`, `ReassessmentPolicy`, the plan's own
schedule)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import (
    Case,
    DateField,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from assessments.models import Alert, Assessment, ReassessmentPolicy
from cases.models import CarePlan, CareTeamMember, Child
from core.access import any_of
from followups.models import FollowupPlan, Task, Visit, VisitPolicy
from followups.scheduling import (
    IsIn,
    IsSet,
    created_on,
    plus_days,
    register_task_kind,
    responsible_person,
    rows,
    supervisor_of,
)

# Used when no policy row matches a child (an administrator deactivated them all).
FALLBACK_VISIT_DAYS = 90

TeamRole = CareTeamMember.TeamRole


def _active_children(child_ids: list[int] | None) -> QuerySet[Child]:
    qs = Child.objects.filter(status=Child.Status.ACTIVE).order_by()
    return qs if child_ids is None else qs.filter(any_of("pk", child_ids))


def _last(model: Any, field: str, **filters: Any) -> Subquery:
    return Subquery(
        model.objects.filter(child_id=OuterRef("pk"), **filters)
        .order_by()
        .values("child_id")
        .annotate(last=Max(field))
        .values("last"),
        output_field=DateField(),
    )


def home_visits_due(today: date, child_ids: list[int] | None) -> QuerySet[Any]:
    """Every active child: the last home visit plus the home-visit policy's interval for the
    child's risk and categories (the shortest that matches); never visited: due from the day
    the file was opened. Falls to the care team's child director, else the region's."""
    interval = Subquery(
        VisitPolicy.objects.filter(
            Q(risk_level__isnull=True) | Q(risk_level=OuterRef("risk_level")),
            Q(category="") | Q(IsIn(F("category"), OuterRef("categories"))),
            is_active=True,
        )
        .order_by("interval_days")
        .values("interval_days")[:1],
        output_field=IntegerField(),
    )
    last = _last(Visit, "visited_on", kind=Visit.Kind.HOME_VISIT)
    due = Coalesce(plus_days(last, Coalesce(interval, Value(FALLBACK_VISIT_DAYS))), created_on())
    return rows(
        _active_children(child_ids),
        child=F("pk"),
        due=due,
        assignee=responsible_person(TeamRole.CHILD_DIRECTOR),
        source=None,
    )


def reassessments_due(today: date, child_ids: list[int] | None) -> QuerySet[Any]:
    """Every active child a reassessment policy covers: the last current assessment plus the
    shortest matching interval (residents of institutions and pupils have rows of their own);
    never assessed: due from the day the file was opened. Falls to the care team's
    mental-health teacher, else its child director, else the region's."""
    last = _last(Assessment, "administered_on", amendments__isnull=True)
    qs = (
        _active_children(child_ids)
        .annotate(_interval=reassessment_interval())
        .filter(_interval__isnull=False)
    )
    due = Coalesce(plus_days(last, F("_interval")), created_on())
    return rows(
        qs,
        child=F("pk"),
        due=due,
        assignee=responsible_person(TeamRole.COUNSELLOR, TeamRole.CHILD_DIRECTOR),
        source=None,
    )


def reassessment_interval() -> Subquery:
    """For the outer child: the shortest interval (days) of the reassessment policies in force
    that match it, or NULL. The file page applies the same rule in Python
    (`assessments.selectors.policy_interval`)."""
    setting_matches = (
        Q(setting=ReassessmentPolicy.Setting.ANY)
        | Q(setting=ReassessmentPolicy.Setting.INSTITUTION)
        & Q(IsSet(OuterRef("residential_institution_id")))
        | Q(setting=ReassessmentPolicy.Setting.SCHOOL) & Q(IsSet(OuterRef("school_id")))
    )
    return Subquery(
        ReassessmentPolicy.objects.filter(
            setting_matches,
            Q(risk_level__isnull=True) | Q(risk_level=OuterRef("risk_level")),
            Q(category="") | Q(IsIn(F("category"), OuterRef("categories"))),
            is_active=True,
        )
        .order_by("interval_days")
        .values("interval_days")[:1],
        output_field=IntegerField(),
    )


def followup_visits_due(today: date, child_ids: list[int] | None) -> QuerySet[Any]:
    """Each active follow-up plan of an active child: the last follow-up visit since the plan
    started (or the start) plus the plan's interval at that point, until the plan's end. Falls
    to the first person paired with the child."""
    last = Subquery(
        Visit.objects.filter(
            child_id=OuterRef("child_id"),
            kind=Visit.Kind.FOLLOWUP_VISIT,
            visited_on__gte=OuterRef("start_on"),
        )
        .order_by()
        .values("child_id")
        .annotate(last=Max("visited_on"))
        .values("last"),
        output_field=DateField(),
    )
    partner = Subquery(
        FollowupPlan.partners.through.objects.filter(
            followupplan_id=OuterRef("pk"), user__is_active=True
        )
        .order_by("id")
        .values("user_id")[:1],
        output_field=IntegerField(),
    )
    qs = FollowupPlan.objects.filter(
        status=FollowupPlan.Status.ACTIVE, child__status=Child.Status.ACTIVE
    )
    if child_ids is not None:
        qs = qs.filter(any_of("child_id", child_ids))
    qs = qs.annotate(_anchor=Coalesce(last, F("start_on")))
    interval = Case(
        When(
            Q(first_period_days__gt=0)
            & Q(_anchor__lt=plus_days(F("start_on"), F("first_period_days"))),
            then=F("first_interval_days"),
        ),
        default=F("interval_days"),
        output_field=IntegerField(),
    )
    qs = qs.annotate(_due=plus_days(F("_anchor"), interval)).filter(_due__lte=F("end_on"))
    return rows(qs, child=F("child_id"), due=F("_due"), assignee=partner, source=F("pk"))


def care_plan_reviews_due(today: date, child_ids: list[int] | None) -> QuerySet[Any]:
    """Each active care plan of an active child, on its review date, for its owner."""
    qs = CarePlan.objects.filter(status=CarePlan.Status.ACTIVE, child__status=Child.Status.ACTIVE)
    if child_ids is not None:
        qs = qs.filter(any_of("child_id", child_ids))
    return rows(
        qs, child=F("child_id"), due=F("review_date"), assignee=F("owner_id"), source=F("pk")
    )


# How long an alert may stay open before someone is told to review it.
ALERT_REVIEW_DAYS = 1


def alerts_unreviewed(today: date, child_ids: list[int] | None) -> QuerySet[Any]:
    """Each open alert (the oldest per child): due a day after it was raised, for the child's
    township supervisor, who may close it."""
    qs = Alert.objects.filter(acknowledged_at__isnull=True, child__status=Child.Status.ACTIVE)
    if child_ids is not None:
        qs = qs.filter(any_of("child_id", child_ids))
    return rows(
        qs.order_by("child_id", "created_at"),
        child=F("child_id"),
        due=plus_days(created_on(), Value(ALERT_REVIEW_DAYS)),
        assignee=supervisor_of("child__residence_region_id"),
        source=F("pk"),
    )


def register() -> None:
    register_task_kind(Task.Kind.HOME_VISIT, home_visits_due)
    register_task_kind(Task.Kind.REASSESSMENT, reassessments_due)
    register_task_kind(Task.Kind.FOLLOWUP_VISIT, followup_visits_due)
    register_task_kind(Task.Kind.CARE_PLAN_REVIEW, care_plan_reviews_due)
    register_task_kind(Task.Kind.ALERT_UNREVIEWED, alerts_unreviewed)
