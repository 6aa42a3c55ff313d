"""Forms for access beyond the user's scope: asking for a file, deciding a request, breaking the
glass."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import EmergencyAccess
from institutions.forms import BootstrapFormMixin


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
