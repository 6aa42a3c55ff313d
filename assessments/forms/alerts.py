"""The form for closing an alert with a note and an outcome."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.services import CLOSING_OUTCOMES
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
