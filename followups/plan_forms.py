"""The follow-up plan's forms (a plan by hand, pairing someone, ending it) and the words a
plan's schedule is shown in. The rules of a plan are the service's (`plan_problems`): the form
collects and pre-fills, the service's errors are shown on the fields they name."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import CareTeamMember, Child
from cases.selectors.staff import care_team_users, responsible_staff
from followups.models import FollowupPlan, FollowupSchedule
from followups.plan_sources import PlanSource
from followups.services.plans import PARTNER_ROLES, Schedule, plan_problems
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import Membership, User
from institutions.roles import Role

# The colleagues serving the child's region who may be paired with a child (结对关爱).
PAIRING_ROLES = (
    Role.CHILD_DIRECTOR,
    Role.MENTOR_TEACHER,
    Role.SCHOOL_COUNSELLOR,
    Role.SOCIAL_WORKER,
    Role.VOLUNTEER,
)


def schedule_in_words(first_interval_days: int, first_period_days: int, interval_days: int) -> str:
    """The schedule as it is said: "every 7 days for the first 28 days, then every 30 days",
    or "every 14 days"."""

    def every(days: int) -> str:
        return (
            gettext("every day") if days == 1 else gettext("every %(days)s days") % {"days": days}
        )

    if first_period_days and first_interval_days != interval_days:
        return gettext(
            "every %(first)s days for the first %(period)s days, then every %(then)s days"
        ) % {"first": first_interval_days, "period": first_period_days, "then": interval_days}
    return every(interval_days if first_period_days else first_interval_days)


def plan_schedule_in_words(plan: FollowupPlan) -> str:
    return schedule_in_words(plan.first_interval_days, plan.first_period_days, plan.interval_days)


def preset_label(preset: FollowupSchedule) -> str:
    """A schedule preset in the reader's language, from its numbers (its name is the
    administrator's, in one language)."""
    return gettext("%(schedule)s, for %(weeks)s weeks") % {
        "schedule": schedule_in_words(
            preset.first_interval_days, preset.first_period_days, preset.interval_days
        ),
        "weeks": preset.duration_weeks,
    }


def partner_candidates(child: Child) -> QuerySet[User]:
    """Who may be paired with the child: the care team's staff, and the colleagues in the
    pairing roles whose jurisdiction covers where the child lives."""
    team = care_team_users(child=child).values("pk")
    region = responsible_staff(region_code=child.residence_region_id, roles=PAIRING_ROLES).values(
        "pk"
    )
    return User.objects.filter(Q(pk__in=team) | Q(pk__in=region), is_active=True).order_by(
        "display_name", "username"
    )


def partner_labels(child: Child, users: list[User]) -> dict[int, str]:
    """Each candidate by display name with their role(s), the care team's first (two queries)."""
    ids = [u.pk for u in users]
    team: dict[int, list[str]] = {}
    for user_id, role in CareTeamMember.objects.filter(
        child=child, is_active=True, user_id__in=ids
    ).values_list("user_id", "team_role"):
        team.setdefault(user_id, []).append(
            gettext("%(role)s (care team)") % {"role": CareTeamMember.TeamRole(role).label}
        )
    roles: dict[int, list[str]] = {}
    for user_id, role in (
        Membership.objects.filter(user_id__in=ids, is_active=True, role__in=PAIRING_ROLES)
        .order_by("id")
        .values_list("user_id", "role")
    ):
        label = str(Role(role).label)
        if label not in roles.setdefault(user_id, []):
            roles[user_id].append(label)
    return {u.pk: " · ".join([str(u), *(team.get(u.pk) or roles.get(u.pk) or [])]) for u in users}


class PartnersField(forms.ModelMultipleChoiceField):
    """People to pair with the child, ticked by name (nobody types a user name)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", User.objects.none())
        kwargs.setdefault(
            "error_messages",
            {"required": _("Choose at least one person to pair with the child.")},
        )
        super().__init__(**kwargs)
        self.labels: dict[int, str] = {}

    def set_candidates(self, child: Child, exclude: list[int] | None = None) -> None:
        queryset = partner_candidates(child)
        if exclude:
            queryset = queryset.exclude(pk__in=exclude)
        self.queryset = queryset
        self.labels = partner_labels(child, list(queryset))

    def label_from_instance(self, obj: Any) -> str:
        return self.labels.get(obj.pk) or str(obj)


class PlanForm(BootstrapFormMixin, forms.Form):
    """A follow-up plan by hand: a schedule preset fills the numbers (in the browser, or here
    when they are left empty), the end defaults to the start plus the preset's weeks."""

    preset = forms.ChoiceField(label=_("Schedule"), required=False)
    first_interval_days = forms.IntegerField(label=_("At first, every (days)"), required=False)
    first_period_days = forms.IntegerField(
        label=_("For the first (days)"),
        required=False,
        help_text=_("0: the same interval throughout."),
    )
    interval_days = forms.IntegerField(label=_("Then every (days)"), required=False)
    partner_role = forms.ChoiceField(label=_("Paired person's role"), choices=PARTNER_ROLES)
    partners = PartnersField(
        label=_("Paired with"),
        help_text=_("They join the care team in this role and so see the child's file."),
    )
    start_on = forms.DateField(label=_("Start"), widget=DateInput())
    end_on = forms.DateField(
        label=_("End"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: the start plus the schedule's weeks."),
    )
    goal = forms.CharField(
        label=_("Goal"),
        max_length=2000,
        error_messages={"required": _("Say what the follow-up should achieve.")},
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the follow-up should achieve."),
    )

    def __init__(
        self, *args: Any, child: Child, source: PlanSource | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.child = child
        self.presets = {
            str(p.pk): p for p in FollowupSchedule.objects.filter(is_active=True).order_by("id")
        }
        self.fields["preset"].choices = [  # type: ignore[attr-defined]
            ("", gettext("Set the days by hand")),
            *[(pk, preset_label(p)) for pk, p in self.presets.items()],
        ]
        partners: PartnersField = self.fields["partners"]  # type: ignore[assignment]
        partners.set_candidates(child)
        if not self.is_bound:
            self.set_initial(source)

    def set_initial(self, source: PlanSource | None) -> None:
        today = timezone.localdate()
        initial: dict[str, Any] = {"start_on": today, "first_period_days": 0}
        if source is not None:
            initial.update(
                first_interval_days=source.interval_days,
                interval_days=source.interval_days,
                partner_role=source.partner_role,
                end_on=today + timedelta(weeks=source.weeks),
                goal=source.goal,
            )
            same = [
                pk
                for pk, p in self.presets.items()
                if (p.first_interval_days, p.interval_days, p.duration_weeks)
                == (source.interval_days, source.interval_days, source.weeks)
                and (p.first_period_days == 0 or p.first_interval_days == p.interval_days)
            ]
            initial["preset"] = same[0] if same else ""
            holders = self.child.care_team.filter(
                is_active=True, team_role=source.partner_role, user__isnull=False
            ).values_list("user_id", flat=True)
            initial["partners"] = list(holders)
        elif self.presets:
            pk, preset = next(iter(self.presets.items()))
            initial.update(
                preset=pk,
                first_interval_days=preset.first_interval_days,
                first_period_days=preset.first_period_days,
                interval_days=preset.interval_days,
                end_on=today + timedelta(weeks=preset.duration_weeks),
            )
        self.initial = initial

    def presets_data(self) -> dict[str, dict[str, int]]:
        """The presets' numbers, for the page's script that fills the fields."""
        return {
            pk: {
                "first_interval_days": p.first_interval_days,
                "first_period_days": p.first_period_days,
                "interval_days": p.interval_days,
                "weeks": p.duration_weeks,
            }
            for pk, p in self.presets.items()
        }

    def clean_preset(self) -> FollowupSchedule | None:
        value = self.cleaned_data.get("preset") or ""
        return self.presets.get(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        preset: FollowupSchedule | None = data.get("preset")
        for name in ("first_interval_days", "first_period_days", "interval_days"):
            if data.get(name) is None and name not in self.errors:
                if preset is not None:
                    data[name] = getattr(preset, name)
                elif name == "first_period_days":
                    data[name] = 0
                else:
                    self.add_error(name, gettext("Choose a schedule or give the days."))
        start: date | None = data.get("start_on")
        if start and data.get("end_on") is None and "end_on" not in self.errors:
            if preset is not None:
                data["end_on"] = start + timedelta(weeks=preset.duration_weeks)
            else:
                self.add_error("end_on", gettext("Give the end date, or choose a schedule."))
        self.add_plan_problems(data)
        return data

    def add_plan_problems(self, data: dict[str, Any]) -> None:
        """The plan's rules (the service's own check), each on its field, all at once."""
        first, period, then = (
            data.get(n) for n in ("first_interval_days", "first_period_days", "interval_days")
        )
        if first is None or period is None or then is None:
            return
        if not data.get("start_on") or not data.get("end_on"):
            return
        problems = plan_problems(
            schedule=Schedule(first, period, then),
            start_on=data["start_on"],
            end_on=data["end_on"],
            goal=data.get("goal") or "",
            partner_role=data.get("partner_role") or "",
        )
        for field, message in problems.items():
            if field not in self.errors:
                self.add_error(field, message)


class PairForm(BootstrapFormMixin, forms.Form):
    """Pair more people with the child, in the plan's role."""

    partners = PartnersField(
        label=_("Pair with"),
        help_text=_("They join the care team and so see the child's file."),
    )

    def __init__(self, *args: Any, plan: FollowupPlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partners: PartnersField = self.fields["partners"]  # type: ignore[assignment]
        partners.set_candidates(plan.child, exclude=[u.pk for u in plan.partners.all()])


class EndPlanForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why does the plan end?"),
        max_length=2000,
        error_messages={"required": _("Say why the follow-up plan ends.")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
