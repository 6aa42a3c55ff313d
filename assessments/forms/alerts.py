"""The forms on an alert: closing it with a note and an outcome, and recording that a guardian
was told."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import Alert
from assessments.services import CLOSING_OUTCOMES, guardian_informed_problems
from cases.models import Guardian
from institutions.forms import BootstrapFormMixin


class AlertCloseForm(BootstrapFormMixin, forms.Form):
    """What the responsible person did (the outcome) and a note; both are needed."""

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(o.value, o.label) for o in CLOSING_OUTCOMES],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what was done.")},
    )
    note = forms.CharField(
        label=_("What you did or will do"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write what you did or will do.")},
    )

    def clean_note(self) -> str:
        return str(self.cleaned_data["note"]).strip()


class DateTimeInput(forms.DateTimeInput):
    """A browser date-and-time picker; its value is ISO (YYYY-MM-DDTHH:MM) in any language."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, object] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class GuardianInformedForm(BootstrapFormMixin, forms.Form):
    """Which of the child's current guardians was told, when, and a short note; the alert
    stays open."""

    guardian = forms.ModelChoiceField(
        label=_("Guardian told"),
        queryset=Guardian.objects.none(),
        empty_label=_("Choose a guardian"),
        error_messages={
            "required": _("Choose the guardian who was told."),
            "invalid_choice": _("Choose a current guardian of this child."),
        },
    )
    informed_at = forms.DateTimeField(
        label=_("When"),
        widget=DateTimeInput(),
        error_messages={"required": _("Give the time the guardian was told.")},
    )
    note = forms.CharField(
        label=_("What the guardian was told"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Write in a few words what the guardian was told."),
            "max_length": _("Keep the note to %(limit_value)d characters (it has %(show_value)d)."),
        },
    )

    def __init__(self, *args: Any, alert: Alert, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"informed_at": timezone.localtime().replace(second=0)})
        # Beside the closing form on one page: its own element ids (the field names may match).
        kwargs.setdefault("auto_id", "informed_%s")
        super().__init__(*args, **kwargs)
        self.alert = alert
        self.fields["guardian"].queryset = Guardian.objects.filter(  # type: ignore[attr-defined]
            child_id=alert.child_id, is_active=True
        ).select_related("institution")

    def clean_note(self) -> str:
        return str(self.cleaned_data["note"]).strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "guardian" in data and "informed_at" in data:
            problems = guardian_informed_problems(
                alert=self.alert, guardian=data["guardian"], informed_at=data["informed_at"]
            )
            for field, message in problems.items():
                self.add_error(field, message)
        return data
