"""The instrument builder's form: the details of a version and its definition, one part a text
area in the line format of `assessments.builder.parsing`."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.builder.parsing import SECTIONS
from assessments.builder.services import InstrumentDetails, content_changed, details_of, fingerprint
from assessments.builder.text import definition_from_text, definition_to_text
from assessments.models import Instrument
from institutions.forms import BootstrapFormMixin

MAX_AGE = 25
# A long questionnaire's definition is longer than the usual cap on free text.
DEFINITION_MAX_LENGTH = 50_000
INSTRUMENT_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


def _lines(rows: int, example: str) -> forms.Textarea:
    return forms.Textarea(
        attrs={
            "rows": rows,
            # One entry per line, and problems name the line: do not wrap long entries.
            "wrap": "off",
            "spellcheck": "false",
            "autocapitalize": "none",
            "placeholder": example,
            "class": "font-monospace",
        }
    )


class InstrumentForm(BootstrapFormMixin, forms.Form):
    """A new instrument, or an edit of one version (whose code cannot change)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("Short and unique, for example SDQ or MHT; Latin letters, digits, - and _."),
    )
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    description = forms.CharField(
        label=_("Instructions shown above the questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    source = forms.CharField(
        label=_("Source"),
        help_text=_("The published source of the items and the scoring."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    licence_note = forms.CharField(
        label=_("Licence"),
        help_text=_("Under which licence the agency uses the instrument."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    min_age = forms.IntegerField(label=_("Youngest age"), min_value=0, max_value=MAX_AGE)
    max_age = forms.IntegerField(label=_("Oldest age"), min_value=0, max_value=MAX_AGE)
    respondent = forms.ChoiceField(
        label=_("Answered by"),
        choices=Instrument.Respondent.choices,
        initial=Instrument.Respondent.CHILD,
        required=False,  # empty: the child answers
    )
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)
    options = forms.CharField(
        max_length=DEFINITION_MAX_LENGTH,
        label=_("Answer options"),
        help_text=_("One per line: value = Chinese | English."),
        widget=_lines(4, "0 = 从未 | Never\n1 = 有时 | Sometimes\n2 = 总是 | Always"),
    )
    items = forms.CharField(
        max_length=DEFINITION_MAX_LENGTH,
        label=_("Questions"),
        help_text=_(
            "One per line: number. Chinese | English, then [R] if reverse-scored, [optional] if "
            "it may be left unanswered, and [code] for each subscale it belongs to."
        ),
        widget=_lines(10, "1. 我能理解别人的感受 | I understand how others feel [R] [emotional]"),
    )
    subscales = forms.CharField(
        max_length=DEFINITION_MAX_LENGTH,
        label=_("Subscales"),
        required=False,
        help_text=_(
            "One per line: code = Chinese | English. A validity scale (such as a lie scale) adds "
            "[validity >= 7]: from that score the result is marked doubtful. Items only in "
            "validity scales do not count in the total."
        ),
        widget=_lines(
            4, "emotional = 情绪症状 | Emotional symptoms\nlie = 掩饰 | Lie [validity >= 7]"
        ),
    )
    bands = forms.CharField(
        max_length=DEFINITION_MAX_LENGTH,
        label=_("Bands"),
        help_text=_(
            "One per line: scale min-max = Chinese | English : risk. The scale is total or a "
            "subscale code; the risk is none, low, moderate, high or crisis. For each scale the "
            "bands must cover every possible score once."
        ),
        widget=_lines(
            5, "total 0-13 = 正常 | Normal : none\ntotal 14-16 = 临界 | Borderline : low"
        ),
    )
    critical = forms.CharField(
        max_length=DEFINITION_MAX_LENGTH,
        label=_("Critical answers"),
        required=False,
        help_text=_(
            "One per line: question >= value : risk = Chinese | English. Such an answer raises "
            "an alert whatever the total."
        ),
        widget=_lines(2, "9 >= 1 : crisis = 自伤念头 | Self-harm thoughts"),
    )
    seen = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, instrument: Instrument | None = None, **kwargs: Any) -> None:
        self.instrument = instrument
        super().__init__(*args, **kwargs)
        self.definition: dict[str, Any] = {}
        if instrument is not None:
            self.fields["code"].disabled = True
            self.fields["code"].initial = instrument.code
            self.fields["code"].help_text = ""
            if not self.is_bound:
                self.initial = {**initial_from(instrument), **self.initial}

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if self.instrument is not None:
            return self.instrument.code
        if not INSTRUMENT_CODE_RE.match(code):
            raise forms.ValidationError(_("Use up to 32 Latin letters, digits, - or _."))
        if Instrument.objects.filter(code__iexact=code).exists():
            raise forms.ValidationError(
                _("An instrument with this code exists: open it to make a new version.")
            )
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("min_age"), data.get("max_age")
        if low is not None and high is not None and low > high:
            self.add_error("max_age", _("The oldest age cannot be below the youngest."))
        parsed = definition_from_text({name: self.data.get(name, "") for name in SECTIONS})
        self.definition = parsed.data
        for name, problems in parsed.errors.items():
            if name in self.errors:
                continue  # empty and required: that message says it
            for problem in problems:
                self.add_error(None if name == "__all__" else name, problem)
        if (
            self.instrument is not None
            and self.instrument.is_builtin
            and not self.errors
            and not content_changed(
                self.instrument, details=self.details(), definition=self.definition
            )
        ):
            raise forms.ValidationError(
                _(
                    "A built-in instrument is never changed. Change its questions, "
                    "scoring or details to make a new version."
                )
            )
        return data

    def details(self) -> InstrumentDetails:
        data = self.cleaned_data
        return InstrumentDetails(
            name_zh=data["name_zh"].strip(),
            name_en=data["name_en"].strip(),
            description=data.get("description", "").strip(),
            source=data["source"].strip(),
            licence_note=data["licence_note"].strip(),
            min_age=data["min_age"],
            max_age=data["max_age"],
            is_active=data["is_active"],
            respondent=data.get("respondent") or Instrument.Respondent.CHILD,
        )


def initial_from(instrument: Instrument, *, with_code: bool = True) -> dict[str, Any]:
    """The form's values for an existing version (also the start of a copy)."""
    details = details_of(instrument)
    initial: dict[str, Any] = {
        "name_zh": details.name_zh,
        "name_en": details.name_en,
        "description": details.description,
        "source": details.source,
        "licence_note": details.licence_note,
        "min_age": details.min_age,
        "max_age": details.max_age,
        "is_active": details.is_active,
        "respondent": details.respondent,
        **definition_to_text(instrument.definition),
    }
    if with_code:
        initial["code"] = instrument.code
        initial["seen"] = fingerprint(instrument)
    return initial
