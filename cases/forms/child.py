"""Forms for the child's file itself: register, edit, close, hand over. Every rule a user can
break is checked here, on its field."""

from __future__ import annotations

from datetime import date
from functools import cache, partial
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator
from django.utils.translation import gettext_lazy as _

from cases.forms.places import (
    RegionCodeField,
    institutions_for,
    region_label,
    region_picker_choices,
)
from cases.identity import InvalidNationalId, national_id_hash, parse_national_id
from cases.models import Category, Child
from cases.models.child import age_on
from core.inputs import is_ascii_digits, person_name
from core.widgets import LongSelect
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.masking import FieldKind, may_see
from institutions.models import LEVEL_LENGTHS, Institution, Region, User
from institutions.selectors import scope_for

MAX_AGE = 18
VILLAGE_CODE_LENGTH = LEVEL_LENGTHS[-1]


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
        label=_("Current residence"),
        help_text=_("The village or township where the child lives now."),
        widget=forms.Select,
    )
    household_region = RegionCodeField(
        label=_("Household registration"),
        required=False,
        help_text=_(
            "Where the child's household is registered. If it is elsewhere, search for it by "
            "name below."
        ),
        widget=forms.Select,
    )
    categories = forms.MultipleChoiceField(
        label=_("Categories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    school = forms.ModelChoiceField(
        label=_("School"), queryset=Institution.objects.none(), required=False, widget=LongSelect
    )
    grade = forms.IntegerField(label=_("Grade"), min_value=1, max_value=12, required=False)
    class_name = forms.CharField(label=_("Class"), max_length=32, required=False)
    residential_institution = forms.ModelChoiceField(
        label=_("Residential institution"),
        queryset=Institution.objects.none(),
        required=False,
        widget=LongSelect,
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes_confidential = forms.BooleanField(label=_("The notes are confidential"), required=False)

    def __init__(self, *args: Any, user: User, child: Child | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.child = child
        self._offer_regions(extra=())
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

    def _offer_regions(self, *, extra: tuple[Region, ...]) -> None:
        """The region pickers: the townships and villages of the user's area by name, the
        file's current regions and the value sent (which the field and the scope rule of
        `clean` judge), and for the household `extra` regions found by name elsewhere."""
        keep = (
            [self.child.residence_region_id, self.child.household_region_id] if self.child else []
        )
        for name in ("residence_region", "household_region"):
            sent = self.data.get(self.add_prefix(name)) if self.is_bound else None
            if isinstance(sent, str) and is_ascii_digits(sent) and len(sent) <= VILLAGE_CODE_LENGTH:
                keep.append(sent)
        # Read when a picker is drawn, once for both: an import's rows never draw one.
        choices = cache(partial(region_picker_choices, self.user, keep=tuple(keep)))
        found: list[tuple[Any, Any]] = []
        if extra:
            found = [(_("Found by name"), [(r.code, region_label(r)) for r in extra])]
        residence = self.fields["residence_region"].widget
        household = self.fields["household_region"].widget
        assert isinstance(residence, forms.Select) and isinstance(household, forms.Select)  # noqa: S101 (declared above)
        residence.choices = CallableChoiceIterator(
            lambda: [("", _("Choose a village or township")), *choices()]
        )
        household.choices = CallableChoiceIterator(
            lambda: [("", _("Same as the residence")), *found, *choices()]
        )
        prefixes = scope_for(self.user).region_prefixes
        if self.child is None and len(prefixes) == 1 and len(prefixes[0]) == VILLAGE_CODE_LENGTH:
            # A village's director registers the children of their own village.
            self.fields["residence_region"].initial = prefixes[0]

    def offer_found_regions(self, found: list[Region]) -> None:
        """Offer regions found by name for the household registration, the first one chosen."""
        self._offer_regions(extra=tuple(found))
        if found:
            self.fields["household_region"].initial = found[0].code

    def clean_name(self) -> str:
        if not self.cleaned_data["name"].strip():
            raise forms.ValidationError(_("Enter the child's name."))
        return person_name(self.cleaned_data["name"])

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
        if self.child is not None:
            # Editing a file to another file's ID number: the field says so (the database's
            # unique key would otherwise refuse the save with a server error). A new file's
            # number is checked by the registration's duplicate search instead.
            taken = Child.objects.filter(national_id_hash=national_id_hash(value))
            if taken.exclude(pk=self.child.pk).exists():
                raise forms.ValidationError(_("A child with this ID number is already registered."))
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

    @staticmethod
    def values_of(child: Child) -> dict[str, Any]:
        """The file as the form starts from it: the edit page's initial values, and what an
        API change that names only some fields is completed with."""
        return {
            "name": child.name,
            "sex": child.sex,
            "birth_date": child.birth_date,
            "residence_region": child.residence_region_id,
            "household_region": child.household_region_id,
            "categories": child.categories,
            "school": child.school_id,
            "grade": child.grade,
            "class_name": child.class_name,
            "residential_institution": child.residential_institution_id,
            "notes": child.notes,
            "notes_confidential": child.notes_confidential,
            "version": child.version,
        }


class CloseForm(BootstrapFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason for closing"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A file can only be closed with a reason.")},
    )


class HandoverForm(BootstrapFormMixin, forms.Form):
    to_region = RegionCodeField(
        label=_("New residence"),
        help_text=_("The village or township the child has moved to: search it by name below."),
        widget=forms.Select,
    )
    to_school = forms.ModelChoiceField(
        label=_("New school"),
        queryset=Institution.objects.filter(kind=Institution.Kind.SCHOOL, is_active=True),
        required=False,
        widget=LongSelect,
    )
    to_institution = forms.ModelChoiceField(
        label=_("New residential institution"),
        queryset=Institution.objects.filter(kind__in=Institution.RESIDENTIAL_KINDS, is_active=True),
        required=False,
        widget=LongSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
    # The file's version when the form was opened: a second hand-over of a moved child is refused.
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, child: Child, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.child = child
        self.fields["version"].initial = child.version
        self.offer_found_regions([])

    def offer_found_regions(self, found: list[Region]) -> None:
        """The new residence is picked among regions found by name anywhere (a move may cross
        counties), the first one chosen; a code already sent stays offered for the field to
        judge."""
        regions = list(found)
        sent = self.data.get(self.add_prefix("to_region")) if self.is_bound else None
        if isinstance(sent, str) and sent and not any(r.code == sent for r in regions):
            regions += list(
                Region.objects.filter(code=sent[:VILLAGE_CODE_LENGTH]).select_related(
                    "parent__parent"
                )
            )
        widget = self.fields["to_region"].widget
        assert isinstance(widget, forms.Select)  # noqa: S101 (declared above)
        widget.choices = [
            ("", _("Search the village or township by name")),
            *[(r.code, region_label(r)) for r in regions],
        ]
        if found:
            self.fields["to_region"].initial = found[0].code

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
