"""The visit form, designed for a phone on a village road: everything chosen, little typed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followups.models import Visit
from institutions.forms import BootstrapFormMixin, DateInput


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "kind": Visit.Kind.HOME_VISIT,
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
