"""Forms about the child's family: guardians and consent."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Child, Consent, Guardian
from cases.services.family import GUARDIAN_FIELDS, consent_giver_choices, consent_giver_from
from core.inputs import is_ascii_digits, person_name
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import Agency, Institution, User


class GuardianForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Guardian
        fields = list(GUARDIAN_FIELDS)  # what the service writes
        widgets = {"phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"})}
        help_texts = {
            "institution": _(
                "When the guardian is an institution (state guardianship): which one. Its staff "
                "record its consent; the name above is its responsible person."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = Institution.objects.filter(  # type: ignore[attr-defined]
            is_active=True, kind__in=Institution.RESIDENTIAL_KINDS
        ).order_by("name")

    def clean_name(self) -> str:
        return person_name(self.cleaned_data["name"])

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").replace(" ", "").replace("-", "")
        if phone and not (is_ascii_digits(phone) and 7 <= len(phone) <= 15):
            raise forms.ValidationError(_("Enter a phone number of 7 to 15 digits."))
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("works_away") and not data.get("work_location"):
            self.add_error("work_location", _("Say where the guardian works."))
        if data.get("relation") == Guardian.Relation.INSTITUTION:
            if not data.get("institution"):
                self.add_error("institution", _("Choose the institution that is the guardian."))
        elif data.get("institution"):
            self.add_error(
                "institution", _("Only a guardian that is an institution names an institution.")
            )
        return data


class GuardianEditForm(GuardianForm):
    """Editing a guardian carries the version the editor started from (a stale save is 409)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version


class ConsentForm(BootstrapFormMixin, forms.Form):
    """Consent for one purpose, by a guardian or (from 14) the child."""

    purpose = forms.ChoiceField(label=_("Purpose"), choices=Consent.Purpose.choices)
    given_by = forms.ChoiceField(label=_("Given by"))
    shared_with = forms.ModelChoiceField(
        label=_("Agency the file is shared with"),
        queryset=Agency.objects.filter(is_active=True),
        required=False,
    )
    given_on = forms.DateField(label=_("Date given"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, child: Child, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.child = child
        self.user = user
        self.fields["given_by"].choices = consent_giver_choices(child)  # type: ignore[attr-defined]
        self.fields["given_on"].initial = timezone.localdate()

    def clean_given_on(self) -> date:
        given_on: date = self.cleaned_data["given_on"]
        if given_on > timezone.localdate():
            raise forms.ValidationError(_("Consent cannot be dated in the future."))
        return given_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given_by = data.get("given_by")
        if given_by:
            try:
                data["guardian"] = consent_giver_from(
                    self.child, given_by, data.get("given_on"), by=self.user
                )
            except forms.ValidationError as error:
                self.add_error("given_by", error)
        if data.get("purpose") == Consent.Purpose.SHARING and not data.get("shared_with"):
            self.add_error("shared_with", _("Choose the agency the file is shared with."))
        if data.get("purpose") != Consent.Purpose.SHARING:
            data["shared_with"] = None
        return data


class WithdrawConsentForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawal"), max_length=300)
