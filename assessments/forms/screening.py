"""Forms of screenings: opening a session, one child's answers in full, a sheet to import."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.forms.assessment import AssessmentForm
from assessments.models import Instrument
from assessments.screening.roster import Group
from assessments.selectors import current_instruments
from institutions.forms import BootstrapFormMixin, DateInput

SHEET_EXTENSIONS = (".xlsx", ".csv")


class ScreeningOpenForm(BootstrapFormMixin, forms.Form):
    """The instrument, the class or institution, the date and an optional title."""

    instrument = forms.ModelChoiceField(
        label=gettext_lazy("Instrument"), queryset=Instrument.objects.none()
    )
    group = forms.ChoiceField(label=gettext_lazy("Class or institution"))
    administered_on = forms.DateField(
        label=gettext_lazy("Date"),
        widget=DateInput(),
    )
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Empty: the instrument, the class and the date."),
    )

    def __init__(self, *args: Any, groups: list[Group], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = {g.key: g for g in groups}
        instrument = self.fields["instrument"]
        instrument.queryset = current_instruments()  # type: ignore[attr-defined]
        instrument.label_from_instance = lambda i: f"{i.code} · {i.name}"  # type: ignore[attr-defined]
        self.fields["group"].choices = [("", "---------")] + [  # type: ignore[attr-defined]
            (g.key, g.label) for g in groups
        ]
        self.fields["administered_on"].initial = timezone.localdate()

    def clean_group(self) -> Group:
        group = self.groups.get(self.cleaned_data["group"])
        if group is None:
            raise forms.ValidationError(_("Choose one of the classes or institutions listed."))
        return group

    def clean_administered_on(self) -> Any:
        day = self.cleaned_data["administered_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A screening cannot be dated in the future."))
        return day


class ScreeningChildForm(AssessmentForm):
    """One child's answers as radio groups; the session gives the date and the setting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["administered_on"]
        del self.fields["setting"]


class SheetForm(BootstrapFormMixin, forms.Form):
    """A sheet exported from another screening platform, one row per child."""

    file = forms.FileField(label=gettext_lazy("Sheet (.xlsx or .csv)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not PurePath(upload.name or "").name.lower().endswith(SHEET_EXTENSIONS):
            raise forms.ValidationError(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))
        if (upload.size or 0) > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s.")
                % {"size": filesizeformat(settings.IMPORT_MAX_BYTES)}
            )
        return upload
