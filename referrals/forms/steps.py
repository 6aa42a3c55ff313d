"""The forms of the life-cycle steps, each based on the referral's latest step so that a step
taken on an older state is refused, and the supervisor's override review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.forms import BootstrapFormMixin
from institutions.models import User
from referrals.forms.consent import ConsentFieldsMixin
from referrals.models import Referral
from referrals.services.lifecycle import (
    FOLLOWUP_BY_CHOICES,
    FOLLOWUP_DAYS,
    FOLLOWUP_WEEKS,
    followup_settled,
    seen_before_appointment,
)
from referrals.services.transitions import referral_last_step


class DateTimeInput(forms.DateTimeInput):
    """A browser date-and-time picker; its value is ISO (YYYY-MM-DDTHH:MM) in any language."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, object] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class StepForm(BootstrapFormMixin, forms.Form):
    """A form for one step of a referral (the referral it acts on is `self.referral`).

    It carries the referral's latest step when it was opened (`seen_step`): a step based on an
    older state is refused rather than written over someone else's.
    """

    seen_step = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    # Fields the page shows apart, inside a warning, rather than with the others (SeenForm).
    early_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, referral: Referral, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.user = user
        self.fields["seen_step"].initial = referral_last_step(referral)


class SendForm(ConsentFieldsMixin, StepForm):
    """Send a draft: consent on file or given now, or an emergency override."""

    def __init__(self, *args: Any, referral: Referral, user: User, **kwargs: Any) -> None:
        super().__init__(*args, referral=referral, user=user, **kwargs)
        self.setup_consent(referral.child, sending=True, user=user)
        if "override_reason" in self.fields and referral.override_reason:
            self.fields["override_reason"].initial = referral.override_reason
            self.fields["emergency_override"].initial = referral.emergency_override

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.clean_consent(data, self.referral.urgency)
        return data


class NoteForm(StepForm):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseForm(NoteForm):
    """Closing. After a discharge with no follow-up plan yet, the person closing may say why no
    follow-up is needed instead (the service refuses to close otherwise)."""

    no_followup_reason = forms.CharField(
        label=_("No follow-up needed because…"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "The child was discharged and has no follow-up plan yet. Make the plan from the "
            "referral's page, or say here why none is needed."
        ),
    )

    def __init__(self, *args: Any, referral: Referral, user: User, **kwargs: Any) -> None:
        super().__init__(*args, referral=referral, user=user, **kwargs)
        if not referral.discharged_at or followup_settled(referral):
            del self.fields["no_followup_reason"]


class ReasonForm(StepForm):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why."))
        return reason


class BookForm(StepForm):
    appointment_at = forms.DateTimeField(label=_("Appointment"), widget=DateTimeInput())
    note = forms.CharField(
        label=_("Note for the referring side"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example what to bring. No clinical details."),
    )

    def clean_appointment_at(self) -> Any:
        at = self.cleaned_data["appointment_at"]
        today = timezone.localdate()
        if timezone.localdate(at) < today:
            raise forms.ValidationError(_("An appointment cannot be in the past."))
        if at > timezone.now() + timedelta(days=365):
            raise forms.ValidationError(_("An appointment must be within a year."))
        return at


EARLY_UNCONFIRMED = _("The child was seen before the booked appointment: confirm it to go on.")
EARLY_NO_REASON = _("Say why the child was seen before the booked appointment.")


class SeenForm(StepForm):
    """The visit. One before the booked appointment's day is recorded only when confirmed and
    with a reason (`seen_before_appointment`, checked again by the service); the page shows
    those two fields, with a warning, when the visit is or will be early (`early_warning`)."""

    early_fields = ("confirm_early", "early_reason")

    seen_at = forms.DateTimeField(label=_("Seen at"), widget=DateTimeInput())
    diagnosis = forms.CharField(
        label=_("Diagnosis"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Visible to the clinic, the child's counsellor and health roles only."),
    )
    confirm_early = forms.BooleanField(
        label=_("Yes, the child was seen before the booked appointment"),
        required=False,
        error_messages={"required": EARLY_UNCONFIRMED},
    )
    early_reason = forms.CharField(
        label=_("Why before the appointment"),
        required=False,
        error_messages={"required": EARLY_NO_REASON},
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with this step, for both sides of the referral to read."),
    )

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, referral=referral, **kwargs)
        self.fields["seen_at"].initial = (
            referral.appointment_at
            if referral.appointment_at and referral.appointment_at <= timezone.now()
            else timezone.now()
        )
        self.fields["diagnosis"].initial = referral.diagnosis
        if referral.appointment_at is None:
            for name in self.early_fields:
                del self.fields[name]
        # Before the appointment's day, any visit recorded now is early.
        self.early_warning = False
        if referral.appointment_at is not None:
            self.early_warning = timezone.localdate(referral.appointment_at) > timezone.localdate()
        if self.early_warning:
            self.require_early()

    def require_early(self) -> None:
        """The visit is early: show the warning, and ask for the confirmation and the reason."""
        self.early_warning = all(name in self.fields for name in self.early_fields)
        for name in self.early_fields:
            if name in self.fields:
                self.fields[name].required = True

    @property
    def early_message(self) -> str:
        if self.referral.appointment_at is None:
            return ""
        return _(
            "The appointment is booked for %(date)s. A visit recorded before that day needs "
            "your confirmation and a reason."
        ) % {"date": f"{timezone.localtime(self.referral.appointment_at):%Y-%m-%d %H:%M}"}

    def clean_seen_at(self) -> Any:
        at = self.cleaned_data["seen_at"]
        if at > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("A visit cannot be recorded in the future."))
        return at

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seen_at = data.get("seen_at")
        if seen_at is None or not seen_before_appointment(self.referral, seen_at):
            data["early_reason"] = ""
            return data
        self.require_early()
        if not data.get("confirm_early") and "confirm_early" not in self.errors:
            self.add_error("confirm_early", str(EARLY_UNCONFIRMED))
        if not data.get("early_reason") and "early_reason" not in self.errors:
            self.add_error("early_reason", str(EARLY_NO_REASON))
        return data


class ClinicalDetailsForm(StepForm):
    """A clinic step that may record the diagnosis and the treatment details, pre-filled with
    what the referral holds (clinical details stay on the clinic's side)."""

    diagnosis = forms.CharField(
        label=_("Diagnosis"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    treatment = forms.CharField(
        label=_("Treatment details"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, referral=referral, **kwargs)
        self.fields["diagnosis"].initial = referral.diagnosis
        self.fields["treatment"].initial = referral.treatment


class TreatmentForm(ClinicalDetailsForm):
    field_order = ["treatment_type", "treatment", "diagnosis"]

    treatment_type = forms.ChoiceField(
        label=_("Treatment"), choices=Referral.TreatmentType.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, referral=referral, **kwargs)
        self.fields["treatment_type"].initial = (
            referral.treatment_type or Referral.TreatmentType.OUTPATIENT
        )


class DischargeForm(ClinicalDetailsForm):
    field_order = [
        "outcome_summary",
        "followup_interval_days",
        "followup_by",
        "followup_weeks",
        "diagnosis",
        "treatment",
    ]

    outcome_summary = forms.CharField(
        label=_("Outcome summary for the referring side"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The referring side reads this. Keep diagnosis and treatment out of it."),
    )
    followup_interval_days = forms.IntegerField(
        label=_("Follow up every (days)"),
        min_value=FOLLOWUP_DAYS[0],
        max_value=FOLLOWUP_DAYS[1],
        initial=7,
    )
    followup_by = forms.ChoiceField(label=_("Who should follow up"), choices=FOLLOWUP_BY_CHOICES)
    followup_weeks = forms.IntegerField(
        label=_("Follow up for (weeks)"),
        min_value=FOLLOWUP_WEEKS[0],
        max_value=FOLLOWUP_WEEKS[1],
        initial=4,
    )

    def clean_outcome_summary(self) -> str:
        summary: str = self.cleaned_data["outcome_summary"].strip()
        if not summary:
            raise forms.ValidationError(_("Write an outcome summary for the referring side."))
        return summary


class ReviewForm(StepForm):
    note = forms.CharField(
        label=_("Review note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_note(self) -> str:
        note: str = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError(_("Write what you found."))
        return note
