"""The indicators of the dashboards (issue 12): each is one aggregate query grouped by the next
level of regions (the drill-down) and, unless its rows add up to the region's figure (`additive`:
then the total is their sum, see dashboards/selectors.py), one for the region as a whole,
whatever the size of the region, so a dashboard page runs a fixed number of queries.

Children are counted where they live (their residence region); a child registered at a region
that has lower regions (a resident of a county institution) is counted in a row of its own,
"directly in" the region, so that the rows always add up to the region's figure. Every count of
children links to the children list with the filters that select exactly those children.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Left, TruncDate
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assessments.child_filters import screened_within_q
from assessments.models import Alert, Instrument
from cases.models import CareTeamMember, Category, Child, RiskLevel
from cases.selectors.children import needs_care_plan_q
from followups.child_filters import overdue_task_q
from followups.models import Activity, ActivityAttendance, Task, Visit
from institutions.models import Agency, Membership, TrainingAttendance, User
from institutions.roles import Role
from referrals.models import Referral

# Groups of indicators, in the order of the page, and which agency's view shows each first.
GROUPS: dict[str, Any] = {
    "children": _("Children registered"),
    "screening": _("Screening coverage"),
    "risk": _("Risk"),
    "visits": _("Home visits and child directors' work"),
    "referrals": _("Referrals and clinics"),
    "followup": _("Follow-up after treatment"),
    "tasks": _("Tasks"),
    "activities": _("Education activities and training"),
}
AGENCY_GROUPS: dict[str, tuple[str, ...]] = {
    Agency.Kind.EDUCATION: ("screening", "risk"),
    Agency.Kind.HEALTH: ("referrals", "followup", "risk"),
    Agency.Kind.CIVIL_AFFAIRS: ("children", "visits", "risk"),
    Agency.Kind.YOUTH_LEAGUE: ("activities", "children"),
    Agency.Kind.WOMENS_FEDERATION: ("activities", "children"),
}

AGE_BANDS = (("0-5", 0, 5), ("6-11", 6, 11), ("12-14", 12, 14), ("15-17", 15, 17))


@dataclass(frozen=True)
class Context:
    """What every indicator is computed for: the region, the period and today."""

    region: str
    months: int
    today: date

    @property
    def start(self) -> date:
        return self.today - timedelta(days=round(self.months * 30.4375))


@dataclass(frozen=True)
class Column:
    """One figure of an indicator. `children` are the children-list filters that select the
    children behind a count (None: the figure is not a count of children). `share_of` names the
    column that is its denominator (the figure shows "n of N, p%")."""

    key: str
    label: Any
    children: Mapping[str, str] | None = None
    share_of: str | None = None
    unit: str = ""  # "days", "hours", "per month": shown after the number


@dataclass(frozen=True)
class Indicator:
    key: str
    group: str
    label: Any
    definition: Any
    columns: tuple[Column, ...]
    # compute(ctx, group_len) -> {row key: {column key: value}}; group_len None: one row "".
    compute: Callable[[Context, int | None], dict[str, dict[str, Any]]]
    chart: str = ""  # "bar", "stacked": drawn by region
    additive: bool = True  # the rows add up to the region's figure


_INDICATORS: list[Indicator] = []


def indicators() -> tuple[Indicator, ...]:
    return tuple(_INDICATORS)


def indicator(**kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(compute: Callable[..., Any]) -> Callable[..., Any]:
        _INDICATORS.append(Indicator(compute=compute, **kwargs))
        return compute

    return register


def grouped(
    qs: QuerySet[Any], region_field: str, ctx: Context, group_len: int | None, **aggregates: Any
) -> dict[str, dict[str, Any]]:
    """`aggregates` of `qs` (already limited to the region) by the first `group_len` digits of
    `region_field`, or over the whole region ("" row) when `group_len` is None. One query."""
    if group_len is None:
        return {"": qs.aggregate(**aggregates)}
    rows = (
        qs.annotate(_g=Left(region_field, group_len))
        .values("_g")
        .annotate(**aggregates)
        .order_by("_g")
    )
    return {row.pop("_g"): row for row in rows}


def in_region(field: str, ctx: Context) -> Q:
    """Rows whose region (`field`, a region key such as "child__residence_region_id") lies in
    the context's region: a prefix match on the indexed code."""
    path = field.removesuffix("_id") + "__pk"
    return Q(**{f"{path}__startswith": ctx.region})


def children_link(code: str, filters: Mapping[str, str]) -> str:
    """The children list selecting the children behind a figure: living in `code`'s subtree
    (the `residence` filter) with `filters`."""
    query = urlencode({"residence": code, "status": Child.Status.ACTIVE, **filters})
    return f"{_children_list_url(get_script_prefix())}?{query}"


@lru_cache(maxsize=8)
def _children_list_url(script_prefix: str) -> str:
    # A dashboard links every figure (some 700 for a county of a province): reversed once.
    return reverse("cases:child_list")


def _active_children(ctx: Context) -> QuerySet[Child]:
    return Child.objects.filter(in_region("residence_region_id", ctx), status=Child.Status.ACTIVE)


def _assessed_within(days: int, ctx: Context) -> Exists:
    # The children list's own condition (its `screened` filter), so a figure and its list agree.
    return screened_within_q(days=days, today=ctx.today)


# --- Children -----------------------------------------------------------------------------------


@indicator(
    key="registered",
    group="children",
    label=_("Children registered"),
    definition=_("Active children whose current residence is in the region (files not closed)."),
    columns=(Column("children", _("Children"), children={}),),
    chart="bar",
)
def _registered(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    return grouped(_active_children(ctx), "residence_region_id", ctx, n, children=Count("pk"))


def breakdown_counts(ctx: Context) -> dict[str, int]:
    """The region's active children by category, sex and age band (`cat_<code>`, `sex_<code>`,
    `age_<band>`): one query, plain numbers (a dashboard snapshot keeps them)."""
    aggregates: dict[str, Any] = {}
    for code, _label in Category.choices:
        aggregates[f"cat_{code}"] = Count("pk", filter=Q(categories__contains=[code]))
    for code, _label in Child.Sex.choices:
        aggregates[f"sex_{code}"] = Count("pk", filter=Q(sex=code))
    for band, low, high in AGE_BANDS:
        youngest = _birthday_years_ago(ctx.today, high + 1)
        oldest = _birthday_years_ago(ctx.today, low)
        aggregates[f"age_{band}"] = Count(
            "pk", filter=Q(birth_date__gt=youngest, birth_date__lte=oldest)
        )
    return _active_children(ctx).aggregate(**aggregates)


def breakdown_sections(
    region: str, counts: Mapping[str, int]
) -> dict[str, list[tuple[Any, int, str]]]:
    """The counts of `breakdown_counts` with their labels and the link to the children behind
    each."""

    def count(key: str) -> int:
        return counts.get(key) or 0

    return {
        "category": [
            (label, count(f"cat_{code}"), children_link(region, {"category": code}))
            for code, label in Category.choices
        ],
        "sex": [
            (label, count(f"sex_{code}"), children_link(region, {"sex": code}))
            for code, label in Child.Sex.choices
        ],
        "age": [
            (band, count(f"age_{band}"), children_link(region, {"age": band}))
            for band, _low, _high in AGE_BANDS
        ],
    }


def _birthday_years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


# --- Screening ----------------------------------------------------------------------------------


@indicator(
    key="screened",
    group="screening",
    label=_("Screened in the last 12 months"),
    definition=_(
        "Active children with a current result of any questionnaire administered in the last "
        "365 days, of all active children."
    ),
    columns=(
        Column("screened", _("Screened"), children={"screened": "yes"}, share_of="children"),
        Column("unscreened", _("Not screened"), children={"screened": "no"}),
        Column("children", _("Children"), children={}),
    ),
    chart="bar",
)
def _screened(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = _active_children(ctx).annotate(_done=_assessed_within(365, ctx))
    return grouped(
        qs,
        "residence_region_id",
        ctx,
        n,
        screened=Count("pk", filter=Q(_done=True)),
        unscreened=Count("pk", filter=Q(_done=False)),
        children=Count("pk"),
    )


@indicator(
    key="residents_screened",
    group="screening",
    label=_("Institution residents screened in the last 6 months"),
    definition=_(
        "Active children living in a residential institution with a current result in the last "
        "183 days (the guidance asks for at least two a year), of all such residents."
    ),
    columns=(
        Column(
            "screened",
            _("Screened"),
            children={"resident": "on", "screened": "yes", "screened_within": "183"},
            share_of="residents",
        ),
        Column(
            "unscreened",
            _("Not screened"),
            children={"resident": "on", "screened": "no", "screened_within": "183"},
        ),
        Column("residents", _("Residents"), children={"resident": "on"}),
    ),
)
def _residents_screened(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = _active_children(ctx).filter(residential_institution__isnull=False)
    qs = qs.annotate(_done=_assessed_within(183, ctx))
    return grouped(
        qs,
        "residence_region_id",
        ctx,
        n,
        screened=Count("pk", filter=Q(_done=True)),
        unscreened=Count("pk", filter=Q(_done=False)),
        residents=Count("pk"),
    )


@indicator(
    key="no_instrument",
    group="screening",
    label=_("Children no questionnaire fits"),
    definition=_(
        "Active children whose age today is outside the age range of every active questionnaire: "
        "they cannot be screened with the instruments installed."
    ),
    columns=(Column("children", _("Children")),),
)
def _no_instrument(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    fits = Instrument.objects.filter(
        is_active=True,
        min_age__lte=age_on(OuterRef("birth_date"), ctx.today),
        max_age__gte=age_on(OuterRef("birth_date"), ctx.today),
    )
    qs = _active_children(ctx).filter(~Exists(fits))
    return grouped(qs, "residence_region_id", ctx, n, children=Count("pk"))


def age_on(birth: Any, day: date) -> Func:
    """Completed years between a birth date and a day."""
    return Func(
        Cast(Value(day), DateField()),
        birth,
        function="age",
        template="date_part('year', %(function)s(%(expressions)s))::integer",
        output_field=IntegerField(),
    )


# --- Risk -----------------------------------------------------------------------------------


@indicator(
    key="risk",
    group="risk",
    label=_("Risk distribution"),
    definition=_(
        "Active children by their current risk level, derived from results, open alerts and "
        "flagged visits."
    ),
    columns=tuple(
        Column(f"risk_{level}", label, children={"risk": str(level)})
        for level, label in RiskLevel.choices
    ),
    chart="stacked",
)
def _risk(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    return grouped(
        _active_children(ctx),
        "residence_region_id",
        ctx,
        n,
        **{f"risk_{level}": Count("pk", filter=Q(risk_level=level)) for level in RiskLevel.values},
    )


@indicator(
    key="risk_change",
    group="risk",
    label=_("Risk changed in the period"),
    definition=_(
        "Active children whose risk level was last changed within the period, by whether it is "
        "now high or crisis (rose to concern) or lower."
    ),
    columns=(
        Column("high_now", _("Now high or crisis")),
        Column("lower_now", _("Now lower")),
    ),
)
def _risk_change(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = _active_children(ctx).filter(risk_updated_at__date__gte=ctx.start)
    return grouped(
        qs,
        "residence_region_id",
        ctx,
        n,
        high_now=Count("pk", filter=Q(risk_level__gte=RiskLevel.HIGH)),
        lower_now=Count("pk", filter=Q(risk_level__lt=RiskLevel.HIGH)),
    )


@indicator(
    key="needs_plan",
    group="risk",
    label=_("High risk without an active care plan"),
    definition=_("Active children at high or crisis risk who have no active care plan."),
    columns=(Column("children", _("Children"), children={"needs_plan": "on"}),),
    chart="bar",
)
def _needs_plan(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = _active_children(ctx).filter(needs_care_plan_q())
    return grouped(qs, "residence_region_id", ctx, n, children=Count("pk"))


@indicator(
    key="open_alerts",
    group="risk",
    label=_("Open alerts"),
    definition=_(
        "Alerts not yet closed with an outcome, the children they concern, and the average and "
        "oldest age of the alerts in days."
    ),
    columns=(
        Column("alerts", _("Alerts")),
        Column("children", _("Children"), children={"open_alert": "on"}),
        Column("average_days", _("Average age"), unit="days"),
        Column("oldest_days", _("Oldest"), unit="days"),
    ),
    additive=False,
)
def _open_alerts(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = Alert.objects.filter(
        in_region("child__residence_region_id", ctx),
        acknowledged_at__isnull=True,
        child__status=Child.Status.ACTIVE,
    ).annotate(_age=days_since(TruncDate("created_at"), ctx.today))
    return grouped(
        qs,
        "child__residence_region_id",
        ctx,
        n,
        alerts=Count("pk"),
        children=Count("child_id", distinct=True),
        average_days=Avg("_age"),
        oldest_days=Max("_age"),
    )


def days_since(start: Any, day: date) -> Func:
    """Whole days from a date to `day`."""
    return Func(
        Cast(Value(day), DateField()),
        start,
        template="(%(expressions)s)",
        arg_joiner=" - ",
        output_field=IntegerField(),
    )


# --- Visits -------------------------------------------------------------------------------------


@indicator(
    key="home_visits",
    group="visits",
    label=_("Home visits per child director per month"),
    definition=_(
        "Home visits to children of the region in the period, the child directors serving it "
        "(active memberships whose jurisdiction lies in it), and visits per director per month."
    ),
    columns=(
        Column("visits", _("Home visits")),
        Column("directors", _("Child directors")),
        Column("per_director", _("Per director per month"), unit="per month"),
    ),
    additive=False,
)
def _home_visits(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    visits = grouped(
        Visit.objects.filter(
            in_region("child__residence_region_id", ctx),
            kind=Visit.Kind.HOME_VISIT,
            visited_on__gte=ctx.start,
            visited_on__lte=ctx.today,
        ),
        "child__residence_region_id",
        ctx,
        n,
        visits=Count("pk"),
    )
    directors = _directors(ctx, n)
    rows: dict[str, dict[str, Any]] = {}
    for key in set(visits) | set(directors):
        count = (visits.get(key) or {}).get("visits") or 0
        people = directors.get(key, 0)
        rows[key] = {
            "visits": count,
            "directors": people,
            "per_director": round(count / people / ctx.months, 1) if people else None,
        }
    return rows


def _directors(ctx: Context, n: int | None) -> dict[str, int]:
    """Active child directors by the region their jurisdiction codes fall in (one query)."""
    qs = (
        Membership.objects.filter(is_active=True, role=Role.CHILD_DIRECTOR)
        .annotate(code=Func(F("jurisdiction"), function="unnest"))
        .values("code", "user_id")
    )
    seen: dict[str, set[int]] = {}
    for row in qs:
        code = row["code"]
        if not code.startswith(ctx.region):
            continue
        key = code[:n] if n is not None else ""
        seen.setdefault(key, set()).add(row["user_id"])
    return {key: len(users) for key, users in seen.items()}


@indicator(
    key="visit_overdue",
    group="visits",
    label=_("Children not visited within their interval"),
    definition=_(
        "Active children whose routine home visit is overdue: the home-visit policy's interval "
        "for their risk and categories has passed since the last visit."
    ),
    columns=(Column("children", _("Children"), children={"visit_overdue": "on"}),),
    chart="bar",
)
def _visit_overdue(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = _active_children(ctx).filter(overdue_task_q(kind=Task.Kind.HOME_VISIT, today=ctx.today))
    return grouped(qs, "residence_region_id", ctx, n, children=Count("pk"))


# --- Referrals ----------------------------------------------------------------------------------

_STEPS = ("sent", "accepted", "appointment", "seen", "in_treatment", "discharged", "closed")


@indicator(
    key="referrals",
    group="referrals",
    label=_("Referrals by step"),
    definition=_(
        "Referrals sent in the period, by the step they are at now; declined; and overdue "
        "(sent and unanswered past the time limit for their urgency)."
    ),
    columns=(
        *(Column(step, Referral.Status(step).label) for step in _STEPS),
        Column("declined", _("Declined")),
        Column("overdue", _("Overdue")),
    ),
)
def _referrals(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = Referral.objects.filter(
        in_region("child__residence_region_id", ctx), sent_at__date__gte=ctx.start
    )
    overdue = Exists(
        Task.objects.filter(
            kind=Task.Kind.REFERRAL_UNANSWERED,
            source_id=OuterRef("pk"),
            status__in=Task.PENDING,
            due_on__lt=ctx.today,
        )
    )
    return grouped(
        qs.annotate(_overdue=overdue),
        "child__residence_region_id",
        ctx,
        n,
        **{step: Count("pk", filter=Q(status=step)) for step in _STEPS},
        declined=Count("pk", filter=Q(status=Referral.Status.DECLINED)),
        overdue=Count("pk", filter=Q(_overdue=True)),
    )


class Median(Aggregate):
    """The median of an expression (PostgreSQL's percentile_cont)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _days(later: str, earlier: str) -> Any:
    return Func(
        F(later) - F(earlier),
        function="EXTRACT",
        template="EXTRACT(EPOCH FROM %(expressions)s) / 86400.0",
        output_field=FloatField(),
    )


@indicator(
    key="referral_times",
    group="referrals",
    label=_("Clinic response times"),
    definition=_(
        "For referrals sent in the period: the median days from sent to accepted, and from "
        "accepted to the child first seen."
    ),
    columns=(
        Column("to_accept", _("Sent → accepted"), unit="days"),
        Column("to_seen", _("Accepted → first seen"), unit="days"),
    ),
    additive=False,
)
def _referral_times(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = Referral.objects.filter(
        in_region("child__residence_region_id", ctx), sent_at__date__gte=ctx.start
    )
    rows = grouped(
        qs,
        "child__residence_region_id",
        ctx,
        n,
        to_accept=Median(_days("accepted_at", "sent_at")),
        to_seen=Median(_days("first_seen_at", "accepted_at")),
    )
    for row in rows.values():
        for key in ("to_accept", "to_seen"):
            row[key] = round(row[key], 1) if row[key] is not None else None
    return rows


# --- Follow-up after treatment ------------------------------------------------------------------


@indicator(
    key="followup",
    group="followup",
    label=_("Follow-up visits on time and late"),
    definition=_(
        "Follow-up visits due in the period: done by their due date, done after it; and the "
        "children whose follow-up visit is overdue now."
    ),
    columns=(
        Column("on_time", _("On time")),
        Column("late", _("Late")),
        Column("overdue", _("Overdue now"), children={"followup_due": "on"}),
    ),
)
def _followup(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    in_period = Q(due_on__gte=ctx.start, due_on__lte=ctx.today)
    # Overdue now: what the children list's `followup_due` filter selects, whenever it fell due.
    overdue = Q(status__in=Task.PENDING, due_on__lt=ctx.today)
    qs = (
        Task.objects.filter(
            in_region("child__residence_region_id", ctx), kind=Task.Kind.FOLLOWUP_VISIT
        )
        .filter(in_period | overdue)
        .annotate(_closed_on=Cast(TruncDate("closed_at"), DateField()))
    )
    done = Q(status=Task.Status.DONE) & in_period
    return grouped(
        qs,
        "child__residence_region_id",
        ctx,
        n,
        on_time=Count("pk", filter=done & Q(_closed_on__lte=F("due_on"))),
        late=Count("pk", filter=done & Q(_closed_on__gt=F("due_on"))),
        overdue=Count("child_id", filter=overdue, distinct=True),
    )


# --- Tasks --------------------------------------------------------------------------------------


@indicator(
    key="tasks",
    group="tasks",
    label=_("Open and overdue tasks"),
    definition=_(
        "Tasks still to do for children of the region, and of them those past their due date."
    ),
    columns=(Column("open", pgettext_lazy("tasks", "Open")), Column("overdue", _("Overdue"))),
)
def _tasks(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = Task.objects.filter(in_region("child__residence_region_id", ctx), status__in=Task.PENDING)
    return grouped(
        qs,
        "child__residence_region_id",
        ctx,
        n,
        open=Count("pk"),
        overdue=Count("pk", filter=Q(due_on__lt=ctx.today)),
    )


def task_counts(ctx: Context) -> dict[str, list[dict[str, Any]]]:
    """The region's pending tasks by kind (its code), and by the person they fall to (their id;
    the 20 with most overdue): two queries, plain numbers and codes (a dashboard snapshot keeps
    them; names and labels are added when shown, by `task_tables`)."""
    qs = Task.objects.filter(in_region("child__residence_region_id", ctx), status__in=Task.PENDING)
    overdue = Count("pk", filter=Q(due_on__lt=ctx.today))
    by_kind = list(qs.values("kind").annotate(open=Count("pk"), overdue=overdue).order_by("kind"))
    by_person = list(
        qs.values("assignee_id")
        .annotate(open=Count("pk"), overdue=overdue)
        .order_by("-overdue", "-open", "assignee_id")[:20]
    )
    return {"by_kind": by_kind, "by_person": by_person}


def task_tables(counts: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """`task_counts` as shown: each kind's label, each person's name (one query)."""
    ids = [row["assignee_id"] for row in counts["by_person"] if row["assignee_id"] is not None]
    names: dict[int, tuple[str, str]] = {}
    if ids:
        users = User.objects.filter(pk__in=ids).values_list("pk", "display_name", "username")
        names = {pk: (display_name, username) for pk, display_name, username in users}
    by_kind = [
        {"kind": Task.Kind(row["kind"]).label, "open": row["open"], "overdue": row["overdue"]}
        for row in counts["by_kind"]
    ]
    by_person = []
    for row in counts["by_person"]:
        display_name, username = names.get(row["assignee_id"], ("", ""))
        by_person.append(
            {
                "assignee_id": row["assignee_id"],
                "assignee__display_name": display_name,
                "assignee__username": username,
                "open": row["open"],
                "overdue": row["overdue"],
            }
        )
    return {"by_kind": by_kind, "by_person": by_person}


# --- Activities and training --------------------------------------------------------------------


@indicator(
    key="activities",
    group="activities",
    label=_("Education activities and attendance"),
    definition=_(
        "Psycho-education activities held in the region in the period, the children attending "
        "them, the guardians attending, and of the activities those of family guidance (guardian "
        "training, parent school, home guidance)."
    ),
    columns=(
        Column("activities", _("Activities")),
        Column("family", _("Family guidance")),
        Column("children", _("Children attending")),
        Column("guardians", _("Guardians attending")),
    ),
)
def _activities(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    attending = (
        ActivityAttendance.objects.filter(activity_id=OuterRef("pk"))
        .order_by()
        .values("activity_id")
        .annotate(c=Count("pk"))
        .values("c")
    )
    qs = Activity.objects.filter(
        in_region("region_id", ctx), held_on__gte=ctx.start, held_on__lte=ctx.today
    ).annotate(_children=Coalesce(Subquery(attending, output_field=IntegerField()), 0))
    family = (
        Activity.Kind.GUARDIAN_TRAINING,
        Activity.Kind.PARENT_SCHOOL,
        Activity.Kind.HOME_GUIDANCE,
    )
    rows = grouped(
        qs,
        "region_id",
        ctx,
        n,
        activities=Count("pk"),
        family=Count("pk", filter=Q(kind__in=family)),
        children=Sum("_children"),
        guardians=Sum("guardians_attending"),
    )
    for row in rows.values():
        row["children"] = row["children"] or 0
        row["guardians"] = row["guardians"] or 0
    return rows


@indicator(
    key="volunteers",
    group="activities",
    label=_("Volunteers paired with children"),
    definition=_(
        "Active children of the region with a volunteer on their care team, and the volunteers "
        "serving them (each counted once per region)."
    ),
    columns=(Column("children", _("Children")), Column("volunteers", _("Volunteers"))),
    additive=False,
)
def _volunteers(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = CareTeamMember.objects.filter(
        in_region("child__residence_region_id", ctx),
        child__status=Child.Status.ACTIVE,
        team_role=CareTeamMember.TeamRole.VOLUNTEER,
        is_active=True,
    )
    return grouped(
        qs,
        "child__residence_region_id",
        ctx,
        n,
        children=Count("child_id", distinct=True),
        volunteers=Count("user_id", distinct=True),
    )


@indicator(
    key="training",
    group="activities",
    label=_("Staff training hours"),
    definition=_(
        "Trainings held in the region in the period, the staff attending (person-times), and "
        "the hours of training received (each training's hours times its attendance)."
    ),
    columns=(
        Column("trainings", _("Trainings")),
        Column("attendance", _("Attendance")),
        Column("hours", _("Hours received"), unit="hours"),
    ),
)
def _training(ctx: Context, n: int | None) -> dict[str, dict[str, Any]]:
    qs = TrainingAttendance.objects.filter(
        in_region("training__region_id", ctx),
        training__held_on__gte=ctx.start,
        training__held_on__lte=ctx.today,
    )
    rows = grouped(
        qs,
        "training__region_id",
        ctx,
        n,
        trainings=Count("training_id", distinct=True),
        attendance=Count("pk"),
        hours=Sum("training__hours"),
    )
    for row in rows.values():
        row["hours"] = float(row["hours"] or 0)
    return rows
