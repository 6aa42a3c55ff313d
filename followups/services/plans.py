"""Follow-up plans after treatment (guidance item 5: 结对关爱, 定期随访): made from a
discharge or by hand, with the people paired with the child (who join the care team and so
see the child), a schedule, a period and a goal; ended only with a reason. The scheduler
turns a plan into follow-up visits due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import CareTeamMember, Child
from cases.selectors.staff import care_team_users, responsible_staff
from cases.services.care import care_team_add
from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from followups.models import FollowupPlan, Visit
from followups.services.schedule import tasks_plan
from institutions.models import User
from institutions.roles import Role

# The bounds of a plan: how often (days) and for how long (weeks).
INTERVAL_DAYS = (1, 365)
PLAN_WEEKS = (1, 104)

# Who may be paired with a child (the care-team roles of staff; a peer partner has no account).
PARTNER_ROLES = [
    (value, label)
    for value, label in CareTeamMember.TeamRole.choices
    if value != CareTeamMember.TeamRole.PEER_PARTNER
]


@dataclass(frozen=True)
class Schedule:
    """Every `first_interval_days` for the first `first_period_days` (0: no first phase), then
    every `interval_days`."""

    first_interval_days: int
    first_period_days: int
    interval_days: int

    @classmethod
    def every(cls, days: int) -> Schedule:
        return cls(days, 0, days)


def plan_problems(
    *, schedule: Schedule, start_on: date, end_on: date, goal: str, partner_role: str
) -> dict[str, str]:
    """What is wrong with a plan, by field (empty: nothing). The form shows each on its field;
    the service refuses the whole plan on any."""
    problems: dict[str, str] = {}
    low, high = INTERVAL_DAYS
    for name in ("first_interval_days", "interval_days"):
        if not (low <= getattr(schedule, name) <= high):
            problems[name] = _("Choose between 1 and 365 days.")
    if schedule.first_period_days < 0 or schedule.first_period_days > 365:
        problems["first_period_days"] = _("Choose between 0 and 365 days.")
    if end_on < start_on:
        problems["end_on"] = _("The end cannot be before the start.")
    elif end_on > start_on + timedelta(weeks=PLAN_WEEKS[1]):
        problems["end_on"] = _("A plan lasts at most two years; make a new one after.")
    if not (goal or "").strip():
        problems["goal"] = _("Say what the follow-up should achieve.")
    if partner_role not in dict(PARTNER_ROLES):
        problems["partner_role"] = _("Choose the paired person's role.")
    return problems


def _pair(*, plan: FollowupPlan, partners: Sequence[User], by: User) -> list[User]:
    """Put each partner on the plan and, in the plan's role, on the child's care team (which
    gives them the child's file); tell the newly paired. Returns the newly paired."""
    current = set(plan.partners.values_list("pk", flat=True))
    added = [user for user in partners if user.pk not in current]
    on_team = set(
        CareTeamMember.objects.filter(
            child=plan.child, team_role=plan.partner_role, is_active=True, user__in=added
        ).values_list("user_id", flat=True)
    )
    for user in added:
        if user.pk not in on_team:
            care_team_add(child=plan.child, team_role=plan.partner_role, user=user, by=by)
        plan.partners.add(user)
    notify(
        recipients=[user for user in added if user.pk != by.pk],
        kind="followup_partner_named",
        link=reverse("followups:plan_detail", args=[plan.pk]),
        child=plan.child,
        params={"plan": plan.pk},
    )
    return added


@transaction.atomic
def plan_create(
    *,
    child: Child,
    by: User,
    partners: Sequence[User],
    partner_role: str,
    schedule: Schedule,
    start_on: date,
    end_on: date,
    goal: str,
    referral: Any = None,
) -> FollowupPlan:
    """Make a follow-up plan; a child has one active plan at a time."""
    problems = plan_problems(
        schedule=schedule, start_on=start_on, end_on=end_on, goal=goal, partner_role=partner_role
    )
    Child.objects.select_for_update().filter(pk=child.pk).first()
    if FollowupPlan.objects.filter(child=child, status=FollowupPlan.Status.ACTIVE).exists():
        problems["__all__"] = _(
            "This child already has an active follow-up plan: change or end it instead."
        )
    if problems:
        raise ValidationError({k: [v] for k, v in problems.items()})
    plan = FollowupPlan.objects.create(
        child=child,
        referral=referral,
        partner_role=partner_role,
        first_interval_days=schedule.first_interval_days,
        first_period_days=schedule.first_period_days,
        interval_days=schedule.interval_days,
        start_on=start_on,
        end_on=end_on,
        goal=goal.strip(),
        created_by=by,
    )
    _pair(plan=plan, partners=partners, by=by)
    access_record(
        user=by, action=AccessEvent.Action.CHANGE, child=child, detail={"followup_plan": plan.pk}
    )
    tasks_plan(today=timezone.localdate(), child_ids=[child.pk])
    return plan


@transaction.atomic
def plan_from_discharge(*, referral: Any, by: User) -> FollowupPlan | None:
    """The plan a discharge makes from the clinic's recommendation ("every N days by the
    mentor for W weeks"): the care team's holders of that role are paired with the child. The
    care team, the child's supervisors and the role's holders are told; when nobody holds the
    role, the child's supervisors are asked to name someone. A child who already has an active
    plan keeps it (the supervisors are told of the new recommendation)."""
    child = referral.child
    role = referral.followup_by
    holders = list(
        User.objects.filter(
            care_teams__child=child,
            care_teams__team_role=role,
            care_teams__is_active=True,
            is_active=True,
        ).distinct()
    )
    supervisors = list(
        responsible_staff(region_code=child.residence_region_id, roles=(Role.CHILD_SUPERVISOR,))
    )
    plan = None
    if not FollowupPlan.objects.filter(child=child, status=FollowupPlan.Status.ACTIVE).exists():
        start = timezone.localdate(referral.discharged_at)
        plan = plan_create(
            child=child,
            by=by,
            partners=holders,
            partner_role=role,
            schedule=Schedule.every(referral.followup_interval_days),
            start_on=start,
            end_on=start + timedelta(weeks=referral.followup_weeks),
            goal=_("Regular follow-up after discharge from %(institution)s.")
            % {"institution": referral.to_institution.name},
            referral=referral,
        )
    link = (
        reverse("followups:plan_detail", args=[plan.pk])
        if plan
        else reverse("referrals:detail", args=[referral.pk])
    )
    notify(
        recipients=[
            u
            for u in [*care_team_users(child=child), *supervisors]
            if u.pk not in {by.pk, referral.from_user_id} and u not in holders
        ],
        kind="followup_plan_made",
        link=link,
        child=child,
        params={"institution": referral.to_institution.name, "referral": referral.pk},
    )
    if not holders:
        notify(
            recipients=supervisors,
            kind="followup_partner_needed",
            link=link,
            child=child,
            params={"role": role, "referral": referral.pk},
        )
    return plan


@transaction.atomic
def plan_set_partners(*, plan: FollowupPlan, partners: Sequence[User], by: User) -> list[User]:
    """Pair more people with the child (the supervisor naming someone the discharge lacked);
    the plan is locked, so a plan ended meanwhile pairs nobody."""
    plan = FollowupPlan.objects.select_for_update().select_related("child").get(pk=plan.pk)
    if plan.status != FollowupPlan.Status.ACTIVE:
        raise ValidationError(_("This follow-up plan has ended."), code="ended")
    added = _pair(plan=plan, partners=partners, by=by)
    if added:
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=plan.child,
            detail={"followup_plan": plan.pk, "paired": [u.pk for u in added]},
        )
        tasks_plan(today=timezone.localdate(), child_ids=[plan.child_id])
    return added


@transaction.atomic
def plan_end(*, plan: FollowupPlan, by: User, reason: str) -> FollowupPlan:
    """End a plan before (or at) its end date, saying why; its open visits due are cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the follow-up plan ends.")]})
    updated = FollowupPlan.objects.filter(pk=plan.pk, status=FollowupPlan.Status.ACTIVE).update(
        status=FollowupPlan.Status.ENDED, end_reason=reason, ended_at=timezone.now(), ended_by=by
    )
    plan.refresh_from_db()
    if updated:
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=plan.child,
            detail={"followup_plan_ended": plan.pk},
        )
        tasks_plan(today=timezone.localdate(), child_ids=[plan.child_id])
    return plan


def plan_visits_count(*, plan: FollowupPlan, today: date | None = None) -> tuple[int, int]:
    """(follow-up visits logged within the plan, visits the schedule expected by `today`)."""
    today = min(today or timezone.localdate(), plan.end_on)
    done = Visit.objects.filter(
        child_id=plan.child_id,
        kind=Visit.Kind.FOLLOWUP_VISIT,
        visited_on__gte=plan.start_on,
        visited_on__lte=plan.end_on,
    ).count()
    expected, day = 0, plan.start_on
    while True:
        day = day + timedelta(days=plan.interval_on(day))
        if day > today:
            break
        expected += 1
    return done, expected
