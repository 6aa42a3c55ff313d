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


def parse_answers(raw: dict[str, Any]) -> tuple[dict[int, int], dict[str, str]]:
    """{"1": "2", ...} → ({1: 2, ...}, errors for keys or values that are not numbers)."""
    answers: dict[int, int] = {}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            errors[str(key)] = str(_("Question numbers are whole numbers."))
            continue
        if value is None or value == "":
            continue
        try:
            answers[number] = int(value)
        except (TypeError, ValueError):
            errors[str(key)] = str(_("Answers are whole numbers."))
    return answers, errors


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
        amends: Assessment | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.child = child
        self.amends = amends
        self.result: Result | None = None
        self.answers: dict[int, int] = {}
        definition = instrument.parsed
        choices = [(str(o["value"]), text_in(o["label"])) for o in definition.options]
        self.item_fields = []
        for item in definition.items:
            name = f"q{item['number']}"
            self.fields[name] = forms.ChoiceField(
                label=f"{item['number']}. {text_in(item['text'])}",
                choices=choices,
                widget=forms.RadioSelect,
                required=False,  # the definition decides; the message says which is missing
            )
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
                    self.child, data["consent_by"], data.get("administered_on")
                )
            except forms.ValidationError as error:
                self.add_error("consent_by", error)
        problem = instrument_fit_problem(
            instrument=self.instrument, child=self.child, on=data.get("administered_on")
        )
        if problem and self.amends is None:
            raise forms.ValidationError(problem)
        raw = {name[1:]: data.get(name) for name in self.item_fields}
        self.answers, _errors = parse_answers(raw)
        definition = self.instrument.parsed
        for number, message in definition.answer_errors(self.answers).items():
            name = f"q{number}"
            if name in self.fields:
                self.add_error(name, message)
        if not self.errors:
            self.result = definition.score(self.answers)
        return data
