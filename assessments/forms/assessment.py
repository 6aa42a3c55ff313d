"""Forms for taking an assessment and acknowledging an alert."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment, Instrument
from assessments.scoring import Result, text_in
from assessments.services import instrument_fit_problem
from cases.models import Child, Consent
from cases.services.family import consent_giver_choices, consent_giver_from, has_consent
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import User


class AssessmentForm(BootstrapFormMixin, forms.Form):
    """One radio group per item (phone-friendly), the date, the setting and, when no consent
    for assessment is on file, the consent given now."""

    administered_on = forms.DateField(label=_("Date"), widget=DateInput())
    setting = forms.ChoiceField(label=_("Setting"), choices=Assessment.Setting.choices)
    consent_by = forms.ChoiceField(label=_("Consent for this assessment given by"), required=False)
    amendment_reason = forms.CharField(
        label=_("Why the result is corrected"), max_length=300, required=False
    )

    def __init__(
        self,
        *args: Any,
        instrument: Instrument,
        child: Child,
        user: User,
        amends: Assessment | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.child = child
        self.user = user  # who records the consent given now
        self.amends = amends
        self.result: Result | None = None
        self.answers: dict[int, int] = {}
        definition = instrument.parsed
        self.item_fields = []
        for item in definition.items:
            name = f"q{item['number']}"
            self.fields[name] = forms.TypedChoiceField(
                label=f"{item['number']}. {text_in(item['text'])}",
                choices=[
                    (str(o["value"]), text_in(o["label"])) for o in definition.options_of(item)
                ],
                coerce=int,
                empty_value=None,
                widget=forms.RadioSelect,
                required=False,  # the definition decides; the message says which is missing
            )
            if not item.get("scored", True):
                self.fields[name].help_text = _("Not counted in the score.")
            self.fields[name].widget.attrs["class"] = "form-check-input"
            self.item_fields.append(name)
        self.fields["administered_on"].initial = timezone.localdate()
        self.needs_consent = amends is None and not has_consent(
            child=child, purpose=Consent.Purpose.ASSESSMENT
        )
        if self.needs_consent:
            self.fields["consent_by"].choices = [("", "---------"), *consent_giver_choices(child)]  # type: ignore[attr-defined]
            self.fields["consent_by"].required = True
            self.fields["consent_by"].help_text = _(
                "No consent for assessment is on file: record who gave it today."
            )
        else:
            del self.fields["consent_by"]
        if amends is None:
            del self.fields["amendment_reason"]
        else:
            self.fields["amendment_reason"].required = True

    def item_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.item_fields]

    def clean_administered_on(self) -> Any:
        day = self.cleaned_data["administered_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("An assessment cannot be dated in the future."))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("consent_by"):
            try:
                data["consent_guardian"] = consent_giver_from(
                    self.child, data["consent_by"], data.get("administered_on"), by=self.user
                )
            except forms.ValidationError as error:
                self.add_error("consent_by", error)
        problem = instrument_fit_problem(
            instrument=self.instrument, child=self.child, on=data.get("administered_on")
        )
        if problem and self.amends is None:
            raise forms.ValidationError(problem)
        # The radio buttons give whole numbers of the item's options (or nothing); the same
        # rule as the API then checks them.
        raw = {name[1:]: data.get(name) for name in self.item_fields}
        definition = self.instrument.parsed
        self.answers, errors = definition.read_answers(raw)
        for key, message in errors.items():
            name = f"q{key}"
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
        if not self.errors:
            self.result = definition.score(self.answers)
        return data
