"""Forms about the child's care: the care team, care plans and their reviews."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import CarePlan, CarePlanReview, CareTeamMember, Child
from cases.selectors.staff import care_team_candidates
from core.inputs import DateBounds, person_name
from core.widgets import SearchSelect
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import User


class ColleagueChoiceField(forms.ModelChoiceField):
    """A colleague chosen by name; the value sent is the user name (as the API sends it)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class CareTeamForm(BootstrapFormMixin, forms.Form):
    team_role = forms.ChoiceField(
        label=_("Role in the team"), choices=CareTeamMember.TeamRole.choices
    )
    username = ColleagueChoiceField(
        label=_("Staff member"),
        queryset=User.objects.none(),
        to_field_name="username",
        required=False,
        empty_label=_("Choose a colleague by name"),
        help_text=_(
            "Staff who work with children in this child's area; they will see this child's "
            "file while on the team."
        ),
        error_messages={
            "invalid_choice": _("Choose a colleague who works with children in this child's area.")
        },
    )
    peer_name = forms.CharField(
        label=_("Peer partner's name"),
        required=False,
        max_length=64,
        help_text=_("For peer partners (another child): the name only."),
    )

    def __init__(self, *args: Any, child: Child, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 (declared above)
        field.queryset = care_team_candidates(child=child)
        # A county's schools, homes and agencies can hold hundreds of colleagues: past thirty
        # they are found by name (core.widgets.SearchSelect), not all listed.
        field.widget = SearchSelect(
            attrs=field.widget.attrs,
            search_url=reverse("cases:care_team_colleagues", args=[child.pk]),
            search_label=_("Find a colleague by name"),
            search_fields=("display_name", "username"),
        )
        field.widget.choices = field.choices
        field.widget.is_required = field.required

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("team_role")
        if role == CareTeamMember.TeamRole.PEER_PARTNER:
            if not data.get("peer_name", "").strip():
                self.add_error("peer_name", _("Enter the peer partner's name."))
            else:
                try:
                    data["peer_name"] = person_name(data["peer_name"])
                except forms.ValidationError as error:
                    self.add_error("peer_name", error)
            data["user"] = None
        elif role:
            if data.get("username") is None and "username" not in self.errors:
                self.add_error("username", _("Choose the colleague to add."))
            data["user"] = data.get("username")
        return data


# A care plan is reviewed within a season by default, and planned no more than 5 years ahead.
REVIEW_AFTER = timedelta(days=90)
PLAN_YEARS_AHEAD = 5


def _bound_plan_dates(form: forms.BaseForm, *names: str) -> None:
    for name in names:
        form.fields[name].validators.append(DateBounds(future_years=PLAN_YEARS_AHEAD))


class CarePlanForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = CarePlan
        fields = [
            "classification",
            "goals",
            "interventions",
            "other_intervention",
            "owner",
            "start_date",
            "review_date",
        ]
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 3}),
            "start_date": DateInput(),
            "review_date": DateInput(),
        }

    interventions = forms.MultipleChoiceField(
        label=_("Interventions"),
        choices=CarePlan.Intervention.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    # The active plan the author saw (0: none); a plan started or ended meanwhile is a conflict.
    replaces = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, child: Child, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active = child.care_plans.filter(status=CarePlan.Status.ACTIVE).values_list("pk", flat=True)
        self.fields["replaces"].initial = next(iter(active), 0)
        team = child.care_team.filter(is_active=True, user__isnull=False).values("user_id")
        self.fields["owner"].queryset = User.objects.filter(Q(pk__in=team) | Q(pk=user.pk))  # type: ignore[attr-defined]
        self.fields["owner"].initial = user.pk
        self.fields["start_date"].initial = timezone.localdate()
        self.fields["review_date"].initial = timezone.localdate() + REVIEW_AFTER
        _bound_plan_dates(self, "start_date", "review_date")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, review = data.get("start_date"), data.get("review_date")
        if start and review and review < start:
            self.add_error("review_date", _("The review date must be on or after the start date."))
        if CarePlan.Intervention.OTHER in (data.get("interventions") or []) and not data.get(
            "other_intervention"
        ):
            self.add_error("other_intervention", _("Describe the other intervention."))
        return data


class CarePlanReviewForm(BootstrapFormMixin, forms.ModelForm):
    new_status = forms.ChoiceField(
        label=_("Plan status after this review"), choices=CarePlan.Status.choices
    )
    # The plan's status and review date when the form was opened: a review based on a plan
    # someone else has reviewed since is refused rather than undoing their change.
    plan_state = forms.CharField(widget=forms.HiddenInput, max_length=40)

    class Meta:
        model = CarePlanReview
        fields = ["reviewed_on", "note", "next_review_date"]
        widgets = {
            "reviewed_on": DateInput(),
            "next_review_date": DateInput(),
            "note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewed_on"].initial = timezone.localdate()
        self.fields["next_review_date"].initial = timezone.localdate() + REVIEW_AFTER
        _bound_plan_dates(self, "next_review_date")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reviewed, following = data.get("reviewed_on"), data.get("next_review_date")
        if reviewed and reviewed > timezone.localdate():
            self.add_error("reviewed_on", _("A review cannot be dated in the future."))
        if reviewed and following and following <= reviewed:
            self.add_error("next_review_date", _("The next review must come after this one."))
        if data.get("new_status") == CarePlan.Status.ACTIVE and not following:
            self.add_error("next_review_date", _("An active plan needs a next review date."))
        return data
