"""The visit form, designed for a phone on a village road: everything chosen, little typed; the
activity form and the activity list's filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext  # the activity form's messages, when raised
from django.utils.translation import gettext_lazy as _

from core.models import NotificationPreference
from followups.activities import (
    MAX_ATTENDEES,
    activity_agencies_for,
    activity_regions_for,
    activity_venues_for,
    merge_attendees,
    parse_record_numbers,
)
from followups.models import Activity, Visit
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import Agency, Institution, Region, User

# A select lists at most this many regions; a code typed by hand is still checked in full.
REGION_CHOICES_SHOWN = 300


class VisitForm(BootstrapFormMixin, forms.ModelForm):
    """Defaults: a home visit, today, by me, with the child and the guardian present."""

    present = forms.MultipleChoiceField(
        label=_("Present"),
        choices=Visit.Present.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    concerns = forms.MultipleChoiceField(
        label=_("Concerns noticed"),
        choices=Visit.Concern.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Visit
        fields = [
            "kind",
            "visited_on",
            "present",
            "concerns",
            "mood",
            "guardian_informed",
            "guardian_informed_note",
            "next_step",
            "note",
            "note_confidential",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "mood": forms.RadioSelect,
            "visited_on": DateInput(),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, kind: str = "", **kwargs: Any) -> None:
        # `kind` preselects the kind a task asks for (the work list's one tap); anything else
        # keeps the home visit.
        kwargs.setdefault(
            "initial",
            {
                "kind": kind if kind in Visit.Kind.values else Visit.Kind.HOME_VISIT,
                "visited_on": timezone.localdate(),
                "present": [Visit.Present.CHILD, Visit.Present.GUARDIAN],
                "mood": Visit.Mood.CALM,
                "next_step": Visit.NextStep.ROUTINE,
            },
        )
        super().__init__(*args, **kwargs)

    def clean_visited_on(self) -> Any:
        day = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A visit cannot be dated in the future."))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("guardian_informed") and not data.get("guardian_informed_note", "").strip():
            self.add_error("guardian_informed_note", _("Say what the guardian was told."))
        return data


class VisitReviewForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Review note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write what you found and decided.")},
    )


class ActivityFilterForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(label=_("Topic or place"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *Activity.Kind.choices],
    )


# What `activity_record` takes from a checked activity (the form's or the API's), text trimmed.
ACTIVITY_FIELDS = (
    "kind",
    "topic",
    "held_on",
    "region",
    "venue",
    "venue_text",
    "agency",
    "attendees",
    "guardians_attending",
    "note",
)


def activity_values(data: dict[str, Any]) -> dict[str, Any]:
    """The checked input of an activity as `activity_record`'s arguments."""
    return {
        name: data[name].strip() if isinstance(data[name], str) else data[name]
        for name in ACTIVITY_FIELDS
    }


class ActivityForm(BootstrapFormMixin, forms.Form):
    """An activity and its attendance; attendees by record number, checked by the service."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices)
    topic = forms.CharField(label=_("Topic"), max_length=200)
    held_on = forms.DateField(label=_("Date"), widget=DateInput())
    region = forms.ChoiceField(label=_("Region"))
    venue = forms.ModelChoiceField(
        label=_("Registered venue"), queryset=Institution.objects.none(), required=False
    )
    venue_text = forms.CharField(
        label=_("Other place"),
        max_length=200,
        required=False,
        help_text=_("If the activity was not held at a registered venue."),
    )
    agency = forms.ModelChoiceField(
        label=_("Agency"), queryset=Agency.objects.none(), required=False
    )
    children = forms.CharField(
        label=_("Children who attended"),
        required=False,
        max_length=MAX_ATTENDEES * 20,  # a list of record numbers, longer than a note
        widget=forms.Textarea(attrs={"rows": 3, "autocapitalize": "characters"}),
        help_text=_("Record numbers, separated by spaces, commas or new lines."),
    )
    guardian_children = forms.CharField(
        label=_("Children whose guardian attended"),
        required=False,
        max_length=MAX_ATTENDEES * 20,
        widget=forms.Textarea(attrs={"rows": 2, "autocapitalize": "characters"}),
        help_text=_(
            "Record numbers of the children whose guardian came (with or without the child)."
        ),
    )
    guardians_attending = forms.IntegerField(
        label=_("Guardians attending in all"),
        required=False,
        min_value=0,
        max_value=10_000,
        help_text=_("Empty: the number of guardians named above."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regions = activity_regions_for(user=user)
        shown = list(self.regions.order_by("level", "code")[:REGION_CHOICES_SHOWN])
        shown.sort(key=lambda r: r.code)
        region_field = self.fields["region"]
        region_field.choices = [(r.code, str(r)) for r in shown]  # type: ignore[attr-defined]
        venue = self.fields["venue"]
        venue.queryset = activity_venues_for(user=user)  # type: ignore[attr-defined]
        venue.label_from_instance = lambda i: f"{i.name} · {i.region.name}"  # type: ignore[attr-defined]
        agency = self.fields["agency"]
        agency.queryset = activity_agencies_for(user=user)  # type: ignore[attr-defined]
        if not self.is_bound:
            self.fields["held_on"].initial = timezone.localdate()
            if len(shown) >= 1:
                region_field.initial = shown[0].code
            agencies = list(agency.queryset[:2])  # type: ignore[attr-defined]
            if len(agencies) == 1:
                agency.initial = agencies[0].pk

    def clean_held_on(self) -> Any:
        day = self.cleaned_data["held_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(gettext("An activity cannot be dated in the future."))
        return day

    def clean_region(self) -> Region:
        region = self.regions.filter(code=self.cleaned_data["region"]).first()
        if region is None:
            raise forms.ValidationError(gettext("Choose a region you work in."))
        return region

    def clean_children(self) -> list[str]:
        return parse_record_numbers(self.cleaned_data["children"])

    def clean_guardian_children(self) -> list[str]:
        return parse_record_numbers(self.cleaned_data["guardian_children"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("venue") and not (data.get("venue_text") or "").strip():
            self.add_error("venue_text", gettext("Choose a registered venue or name the place."))
        children = data.get("children") or []
        guardians_of = data.get("guardian_children") or []
        if "children" in data and "guardian_children" in data:
            attendees = merge_attendees(children=children, guardians_of=guardians_of)
            if not attendees and not data.get("guardians_attending"):
                self.add_error(
                    "children", gettext("List at least one child or guardian who attended.")
                )
            elif len(attendees) > MAX_ATTENDEES:
                self.add_error(
                    "children",
                    gettext("An activity lists at most %(max)s children.") % {"max": MAX_ATTENDEES},
                )
            data["attendees"] = attendees
        return data


class NotificationPreferenceForm(BootstrapFormMixin, forms.ModelForm):
    """How a user is told: the language of messages, and the channels besides the app."""

    class Meta:
        model = NotificationPreference
        fields = ["language", "by_email", "by_sms", "daily_digest"]
        widgets = {"language": forms.RadioSelect}
