"""Forms for the child's file: every rule a user can break is checked here, on its field."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.identity import InvalidNationalId, parse_national_id
from cases.models import (
    CarePlan,
    CarePlanReview,
    CareTeamMember,
    Category,
    Child,
    Consent,
    EmergencyAccess,
    Guardian,
)
from cases.models.child import age_on
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.masking import FieldKind, may_see
from institutions.models import Agency, Institution, Membership, Region, User
from institutions.selectors import scope_for

MAX_AGE = 18


class RegionCodeField(forms.CharField):
    """A region code typed or picked from a list; it must exist."""

    default_error_messages = {
        "unknown": _("There is no region with the code %(code)s."),
        "level": _("Choose a township or village (9 or 12 digits), not %(code)s."),
    }

    def __init__(self, *, min_level: int = Region.Level.TOWNSHIP, **kwargs: Any) -> None:
        self.min_level = min_level
        kwargs.setdefault("max_length", 12)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean(self, value: Any) -> Region | None:
        code = super().clean(value)
        if not code:
            return None
        region = Region.objects.filter(code=code.strip()).first()
        if region is None:
            raise forms.ValidationError(self.error_messages["unknown"], params={"code": code})
        if region.level < self.min_level:
            raise forms.ValidationError(self.error_messages["level"], params={"code": code})
        return region

    def prepare_value(self, value: Any) -> Any:
        return value.code if isinstance(value, Region) else value


def institutions_for(user: User, kinds: set[str]) -> Any:
    """Institutions of these kinds a user may put a child in: in their regions or their own.

    Administrators who import children for any region may name any active institution.
    """
    if user.has_perm("institutions.change_institution"):
        return Institution.objects.filter(kind__in=kinds, is_active=True).order_by("name")
    scope = scope_for(user)
    q = Q(pk__in=[])
    for prefix in scope.region_prefixes:
        q |= Q(region__code__startswith=prefix[:6])  # the whole county of their area
    own = Membership.objects.filter(user=user, is_active=True, institution__isnull=False)
    q |= Q(pk__in=own.values("institution_id"))
    return Institution.objects.filter(q, kind__in=kinds, is_active=True).order_by("name")


class ChildForm(BootstrapFormMixin, forms.Form):
    """Create or edit a child; also validates each row of an import."""

    name = forms.CharField(label=_("Name"), max_length=64)
    sex = forms.ChoiceField(label=_("Sex"), choices=Child.Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput())
    national_id = forms.CharField(
        label=_("National ID number"),
        required=False,
        max_length=18,
        help_text=_("18 characters; kept encrypted and shown masked."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    residence_region = RegionCodeField(
        label=_("Current residence (region code)"),
        help_text=_("The village or township where the child lives now."),
    )
    household_region = RegionCodeField(
        label=_("Household registration (region code)"),
        required=False,
        help_text=_("Leave empty if it is the same as the residence."),
    )
    categories = forms.MultipleChoiceField(
        label=_("Categories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    school = forms.ModelChoiceField(
        label=_("School"), queryset=Institution.objects.none(), required=False
    )
    grade = forms.IntegerField(label=_("Grade"), min_value=1, max_value=12, required=False)
    class_name = forms.CharField(label=_("Class"), max_length=32, required=False)
    residential_institution = forms.ModelChoiceField(
        label=_("Residential institution"), queryset=Institution.objects.none(), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes_confidential = forms.BooleanField(label=_("The notes are confidential"), required=False)

    def __init__(self, *args: Any, user: User, child: Child | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.child = child
        for name in ("residence_region", "household_region"):
            self.fields[name].widget.attrs["list"] = "my-regions"
        self.fields["school"].queryset = institutions_for(user, {Institution.Kind.SCHOOL})  # type: ignore[attr-defined]
        self.fields["residential_institution"].queryset = institutions_for(  # type: ignore[attr-defined]
            user, set(Institution.RESIDENTIAL_KINDS)
        )
        if (
            child is not None
            and child.notes_confidential
            and not may_see(user, FieldKind.CONFIDENTIAL_NOTE)
        ):
            # Confidential notes are neither shown to nor changeable by this role.
            del self.fields["notes"]
            del self.fields["notes_confidential"]
        if child is not None:
            # An existing child's school stays choosable even if outside the user's list.
            for name in ("school", "residential_institution"):
                current = getattr(child, f"{name}_id")
                if current:
                    field = self.fields[name]
                    assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 (declared above)
                    allowed = Q(pk__in=field.queryset.values("pk")) | Q(pk=current)  # type: ignore[union-attr]
                    field.queryset = Institution.objects.filter(allowed).order_by("name")

    @property
    def region_choices(self) -> list[Region]:
        """Townships and villages of the user's area, offered while typing a region code."""
        q = Q(pk__in=[])
        for prefix in scope_for(self.user).region_prefixes:
            q |= Q(code__startswith=prefix)
        return list(
            Region.objects.filter(q, level__gte=Region.Level.TOWNSHIP).order_by("code")[:500]
        )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter the child's name."))
        return name

    def clean_birth_date(self) -> date:
        born: date = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if age_on(born, today) >= MAX_AGE:
            raise forms.ValidationError(
                _("This child is %(age)d: the platform is for children under 18."),
                params={"age": age_on(born, today)},
            )
        return born

    def clean_national_id(self) -> str:
        raw = self.cleaned_data.get("national_id", "")
        if not raw:
            return ""
        try:
            value, _born = parse_national_id(raw)
        except InvalidNationalId as exc:
            raise forms.ValidationError(str(exc)) from None
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        national_id = data.get("national_id")
        born = data.get("birth_date")
        if national_id and born:
            _value, id_born = parse_national_id(national_id)
            if id_born != born:
                self.add_error(
                    "national_id",
                    _("The ID number says the child was born on %(date)s, not on the date above.")
                    % {"date": id_born.isoformat()},
                )
        if data.get("residence_region") and not data.get("household_region"):
            data["household_region"] = data["residence_region"]
        if not self.errors:
            self._check_creator_keeps_sight(data)
        return data

    def _check_creator_keeps_sight(self, data: dict[str, Any]) -> None:
        """Refuse a child the user could not see after saving (it would vanish from their list)."""
        scope = scope_for(self.user)
        residence: Region = data["residence_region"]
        household: Region = data["household_region"]
        in_region = any(
            r.code.startswith(p) for p in scope.region_prefixes for r in (residence, household)
        )
        school = data.get("school")
        institution = data.get("residential_institution")
        in_school = school is not None and school.pk in scope.school_ids
        in_institution = (
            institution is not None and institution.pk in scope.residential_institution_ids
        )
        if not (
            in_region or in_school or in_institution or self.user.has_perm("cases.import_children")
        ):
            self.add_error(
                "residence_region",
                _(
                    "This region is outside your area: you could not see the child after saving. "
                    "Ask the child director of that region to register the child."
                ),
            )

    def model_data(self) -> dict[str, Any]:
        """The cleaned values under the model's field names."""
        data = dict(self.cleaned_data)
        data.pop("national_id", None)
        data["categories"] = list(data.get("categories") or [])
        data["class_name"] = data.get("class_name") or ""
        if "notes" in self.fields:
            data["notes"] = data.get("notes") or ""
        return data


class ChildEditForm(ChildForm):
    """Editing carries the version the editor started from."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class CloseForm(BootstrapFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason for closing"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A file can only be closed with a reason.")},
    )


class GuardianForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Guardian
        fields = [
            "name",
            "relation",
            "phone",
            "lives_with_child",
            "works_away",
            "work_location",
            "is_primary_contact",
        ]
        widgets = {"phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"})}

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").replace(" ", "").replace("-", "")
        if phone and not (phone.isdigit() and 7 <= len(phone) <= 15):
            raise forms.ValidationError(_("Enter a phone number of 7 to 15 digits."))
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("works_away") and not data.get("work_location"):
            self.add_error("work_location", _("Say where the guardian works."))
        return data


class GuardianEditForm(GuardianForm):
    """Editing a guardian carries the version the editor started from (a stale save is 409)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version


class ConsentForm(BootstrapFormMixin, forms.Form):
    """Consent for one purpose, by a guardian or (from 14) the child."""

    CHILD = "child"

    purpose = forms.ChoiceField(label=_("Purpose"), choices=Consent.Purpose.choices)
    given_by = forms.ChoiceField(label=_("Given by"))
    shared_with = forms.ModelChoiceField(
        label=_("Agency the file is shared with"),
        queryset=Agency.objects.filter(is_active=True),
        required=False,
    )
    given_on = forms.DateField(label=_("Date given"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, child: Child, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.child = child
        guardians = [(str(g.pk), str(g)) for g in child.guardians.filter(is_active=True)]
        self.fields["given_by"].choices = [*guardians, (self.CHILD, _("The child themself"))]  # type: ignore[attr-defined]
        self.fields["given_on"].initial = timezone.localdate()

    def clean_given_on(self) -> date:
        given_on: date = self.cleaned_data["given_on"]
        if given_on > timezone.localdate():
            raise forms.ValidationError(_("Consent cannot be dated in the future."))
        return given_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given_by = data.get("given_by")
        if given_by == self.CHILD:
            if self.child.age() < Consent.SELF_CONSENT_AGE:
                self.add_error(
                    "given_by",
                    _("The child is under 14: only a guardian can give consent."),
                )
            data["guardian"] = None
        elif given_by:
            data["guardian"] = self.child.guardians.filter(pk=given_by, is_active=True).first()
        if data.get("purpose") == Consent.Purpose.SHARING and not data.get("shared_with"):
            self.add_error("shared_with", _("Choose the agency the file is shared with."))
        if data.get("purpose") != Consent.Purpose.SHARING:
            data["shared_with"] = None
        return data


class WithdrawConsentForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawal"), max_length=300)


class CareTeamForm(BootstrapFormMixin, forms.Form):
    team_role = forms.ChoiceField(
        label=_("Role in the team"), choices=CareTeamMember.TeamRole.choices
    )
    username = forms.CharField(
        label=_("Staff member's user name"),
        required=False,
        help_text=_("For staff members; they will see this child's file while on the team."),
    )
    peer_name = forms.CharField(
        label=_("Peer partner's name"),
        required=False,
        max_length=64,
        help_text=_("For peer partners (another child): the name only."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("team_role")
        if role == CareTeamMember.TeamRole.PEER_PARTNER:
            if not data.get("peer_name", "").strip():
                self.add_error("peer_name", _("Enter the peer partner's name."))
            data["user"] = None
        elif role:
            username = data.get("username", "").strip()
            user = (
                User.objects.filter(username=username, is_active=True).first() if username else None
            )
            if user is None or not Membership.objects.filter(user=user, is_active=True).exists():
                self.add_error(
                    "username", _("There is no active staff member with this user name.")
                )
            elif not user.has_perm("cases.view_child"):
                self.add_error(
                    "username", _("This staff member's role does not work with children's files.")
                )
            data["user"] = user
        return data


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


class HandoverForm(BootstrapFormMixin, forms.Form):
    to_region = RegionCodeField(
        label=_("New residence (region code)"),
        help_text=_("The village or township the child has moved to."),
    )
    to_school = forms.ModelChoiceField(
        label=_("New school"),
        queryset=Institution.objects.filter(kind=Institution.Kind.SCHOOL, is_active=True),
        required=False,
    )
    to_institution = forms.ModelChoiceField(
        label=_("New residential institution"),
        queryset=Institution.objects.filter(kind__in=Institution.RESIDENTIAL_KINDS, is_active=True),
        required=False,
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
    # The file's version when the form was opened: a second hand-over of a moved child is refused.
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, child: Child, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.child = child
        self.fields["version"].initial = child.version

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        region: Region | None = data.get("to_region")
        if region is None:
            return data
        if region.code == self.child.residence_region_id:
            self.add_error("to_region", _("The child already lives there."))
        county = region.code[:6]
        for name in ("to_school", "to_institution"):
            organisation = data.get(name)
            if organisation is not None and not organisation.region_id.startswith(county):
                self.add_error(name, _("Choose one in the county the child is moving to."))
        return data


class AccessRequestForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why you need this file"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EmergencyAccessForm(BootstrapFormMixin, forms.Form):
    """Break the glass: what kind of emergency, and in words what is happening."""

    MIN_REASON = 15  # letters or digits, not dots or spaces

    reason_code = forms.ChoiceField(
        label=_("Kind of emergency"), choices=[("", "---------"), *EmergencyAccess.Reason.choices]
    )
    reason = forms.CharField(
        label=_("The emergency"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Say what is happening and why the file cannot wait for an access request."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if sum(1 for ch in reason if ch.isalnum()) < self.MIN_REASON:
            raise forms.ValidationError(
                _("Describe the emergency in at least %(count)s letters or digits.")
                % {"count": self.MIN_REASON}
            )
        return reason


class AccessDecisionForm(BootstrapFormMixin, forms.Form):
    approve = forms.TypedChoiceField(
        coerce=lambda v: v == "yes", choices=[("yes", _("Approve")), ("no", _("Decline"))]
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
