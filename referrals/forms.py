"""Forms of referrals: writing one (destination by service and region, consent or emergency
override, checked attachments) and each step of its life cycle."""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment
from cases.models import Child, Consent
from followups.models import Visit
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import Institution, Membership, Region, User
from referrals.models import Referral
from referrals.selectors import user_organisations
from referrals.services import (
    FOLLOWUP_BY_CHOICES,
    AttachmentData,
    ConsentGiven,
    referral_last_step,
)

# What an attachment may be: the extension names the type, and the first bytes must agree.
ATTACHMENT_TYPES: dict[str, tuple[str, bytes]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
}
DEFAULT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 5
CHILD_CONSENT = "child"


def attachment_max_bytes() -> int:
    return int(getattr(settings, "REFERRAL_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES))


def check_attachment(upload: UploadedFile) -> AttachmentData:
    """The upload as checked data, or ValidationError saying what is wrong with it."""
    name = PurePath(upload.name or "").name
    limit = attachment_max_bytes()
    if (upload.size or 0) > limit:
        raise forms.ValidationError(
            _("%(name)s is larger than %(limit)s."),
            params={"name": name, "limit": filesizeformat(limit)},
            code="too_large",
        )
    kind = ATTACHMENT_TYPES.get(PurePath(name).suffix.lower())
    head = upload.read(16)
    upload.seek(0)
    if kind is None or not head.startswith(kind[1]):
        raise forms.ValidationError(
            _("%(name)s is not a PDF, PNG or JPEG file."),
            params={"name": name},
            code="wrong_type",
        )
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise forms.ValidationError(
            _("%(name)s is larger than %(limit)s."),
            params={"name": name, "limit": filesizeformat(limit)},
            code="too_large",
        )
    return AttachmentData(filename=name, content_type=kind[0], content=content)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to MAX_ATTACHMENTS PDFs or images, each checked by its content and size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[AttachmentData]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(
                _("Attach at most %(count)d files."), params={"count": MAX_ATTACHMENTS}
            )
        checked = []
        errors = []
        for upload in files:
            try:
                checked.append(check_attachment(upload))
            except forms.ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise forms.ValidationError(errors)
        return checked


class DateTimeInput(forms.DateTimeInput):
    """A browser date-and-time picker; its value is ISO (YYYY-MM-DDTHH:MM) in any language."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, object] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def consent_on_file(child: Child) -> Consent | None:
    """The newest unwithdrawn consent to referral, if any."""
    return (
        Consent.objects.filter(
            child=child, purpose=Consent.Purpose.REFERRAL, withdrawn_at__isnull=True
        )
        .select_related("guardian")
        .order_by("-given_on", "-id")
        .first()
    )


class ConsentFieldsMixin(forms.Form):
    """Consent given now (when none is on file), or an emergency override with a reason.

    Needed only when the referral is sent; a draft may be saved without either."""

    consent_by = forms.ChoiceField(label=_("Consent to the referral given by"), required=False)
    consent_given_on = forms.DateField(
        label=_("Consent given on"), required=False, widget=DateInput()
    )
    emergency_override = forms.BooleanField(
        label=_("Emergency: send without consent"), required=False
    )
    override_reason = forms.CharField(
        label=_("Why consent could not wait"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Logged and reviewed by the supervisor."),
    )

    child: Child
    sending: bool

    def setup_consent(self, child: Child, sending: bool) -> None:
        self.child = child
        self.sending = sending
        self.consent_on_file = consent_on_file(child)
        if self.consent_on_file is not None:
            for name in ("consent_by", "consent_given_on", "emergency_override", "override_reason"):
                del self.fields[name]
            return
        options = [("", "---------")]
        options += [(str(g.pk), str(g)) for g in child.guardians.filter(is_active=True)]
        if child.age() >= Consent.SELF_CONSENT_AGE:
            options.append((CHILD_CONSENT, str(_("The child themself"))))
        self.fields["consent_by"].choices = options  # type: ignore[attr-defined]
        self.fields["consent_by"].help_text = _(
            "No consent to referral is on file: record who gave it."
        )
        self.fields["consent_given_on"].initial = timezone.localdate()

    def clean_consent(self, data: dict[str, Any], urgency: str) -> None:
        data["consent_given"] = None
        if self.consent_on_file is not None:
            data["emergency_override"] = False
            data["override_reason"] = ""
            return
        given_by = data.get("consent_by") or ""
        if given_by:
            guardian = None
            if given_by == CHILD_CONSENT:
                if self.child.age() < Consent.SELF_CONSENT_AGE:
                    self.add_error(
                        "consent_by", _("The child is under 14: only a guardian can consent.")
                    )
            else:
                guardian = self.child.guardians.filter(pk=given_by, is_active=True).first()
            given_on = data.get("consent_given_on")
            if given_on is None:
                self.add_error("consent_given_on", _("Say when consent was given."))
            elif given_on > timezone.localdate():
                self.add_error("consent_given_on", _("Consent cannot be dated in the future."))
            else:
                data["consent_given"] = ConsentGiven(guardian=guardian, given_on=given_on)
            data["emergency_override"] = False
            data["override_reason"] = ""
            return
        if data.get("emergency_override"):
            if urgency != Referral.Urgency.EMERGENCY:
                self.add_error(
                    "emergency_override",
                    _("Only an emergency referral can be sent without consent."),
                )
            if not (data.get("override_reason") or "").strip():
                self.add_error("override_reason", _("Say why consent could not wait."))
            return
        data["override_reason"] = ""
        if self.sending:
            self.add_error(
                "consent_by",
                _(
                    "Guardian consent to the referral is required: record who gave it, or, in "
                    "an emergency, send without it and say why."
                ),
            )


def area_choices(child: Child) -> list[tuple[str, str]]:
    """Where to look for an institution: the child's county, city or province."""
    code = child.residence_region_id
    prefixes = [code[:n] for n in (6, 4, 2) if len(code) >= n]
    names = dict(Region.objects.filter(code__in=prefixes).values_list("code", "name"))
    return [(p, names.get(p, p)) for p in prefixes]


def institutions_in(*, area: str, service: str = "") -> Any:
    """Active institutions in an area, those offering `service` when one is named."""
    qs = Institution.objects.filter(is_active=True, region__code__startswith=area).exclude(
        services=[]
    )
    if service:
        qs = qs.filter(services__contains=[service])
    return qs.select_related("region").order_by("region_id", "name")


def organisation_key(membership: Membership) -> str:
    if membership.institution_id:
        return f"i{membership.institution_id}"
    return f"a{membership.agency_id}"


class ReferralForm(BootstrapFormMixin, ConsentFieldsMixin, forms.Form):
    """A new referral, pre-filled from an assessment or a visit when started from one."""

    service = forms.ChoiceField(
        label=_("Service needed"), choices=[("", "---------"), *Institution.Service.choices]
    )
    area = forms.ChoiceField(label=_("Look in"))
    to_institution = forms.ModelChoiceField(
        label=_("Refer to"),
        queryset=Institution.objects.none(),
        error_messages={
            "invalid_choice": _("Choose an institution in the area you look in."),
            "required": _("Choose the institution the child is referred to."),
        },
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Referral.Urgency.choices,
        initial=Referral.Urgency.ROUTINE,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason for the referral"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was observed, and what you ask the institution to do."),
    )
    from_organisation = forms.ChoiceField(label=_("Referred on behalf of"))
    assessment = forms.ModelChoiceField(
        label=_("Based on the assessment"), queryset=Assessment.objects.none(), required=False
    )
    visit = forms.ModelChoiceField(
        label=_("Based on the visit"), queryset=Visit.objects.none(), required=False
    )
    attachments = AttachmentsField(
        label=_("Attachments (PDF or image)"),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        child: Child,
        user: User,
        assessments: Any,
        visits: Any,
        sending: bool = False,
        options_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.setup_consent(child, sending)
        self.user = user
        if options_url:
            # Changing the service or the area reloads the institution choices (htmx).
            for name in ("service", "area"):
                self.fields[name].widget.attrs.update(
                    {
                        "hx-get": options_url,
                        "hx-target": "#id_to_institution",
                        "hx-include": "#id_service, #id_area, #id_to_institution",
                        "hx-trigger": "change",
                    }
                )
        self.fields["attachments"].help_text = _(
            "Up to %(count)d files, each at most %(limit)s."
        ) % {"count": MAX_ATTACHMENTS, "limit": filesizeformat(attachment_max_bytes())}
        areas = area_choices(child)
        self.fields["area"].choices = areas  # type: ignore[attr-defined]
        self.fields["area"].initial = areas[0][0] if areas else ""
        area = self.data.get("area") or self.initial.get("area") or self.fields["area"].initial
        if area not in dict(areas):
            area = areas[0][0] if areas else ""
        self.fields["to_institution"].queryset = institutions_in(area=area)  # type: ignore[attr-defined]
        self.memberships = {organisation_key(m): m for m in user_organisations(user)}
        self.fields["from_organisation"].choices = [  # type: ignore[attr-defined]
            (key, str(m.organisation)) for key, m in self.memberships.items()
        ]
        if len(self.memberships) <= 1:
            # One organisation (the usual case): nothing to choose.
            self.fields["from_organisation"].required = False
            self.fields["from_organisation"].initial = next(iter(self.memberships), "")
            self.fields["from_organisation"].widget = forms.HiddenInput(attrs={"class": ""})
        self.fields["assessment"].queryset = assessments  # type: ignore[attr-defined]
        self.fields["visit"].queryset = visits  # type: ignore[attr-defined]
        self.fields["assessment"].label_from_instance = lambda a: (  # type: ignore[attr-defined]
            f"{a.instrument.code} · {a.administered_on:%Y-%m-%d} · {a.get_risk_level_display()}"
        )
        self.fields["visit"].label_from_instance = lambda v: (  # type: ignore[attr-defined]
            f"{v.get_kind_display()} · {v.visited_on:%Y-%m-%d}"
        )

    def institution_options(self) -> list[Institution]:
        """The institutions shown: in the chosen area, offering the chosen service."""
        service = self["service"].value() or ""
        qs = self.fields["to_institution"].queryset  # type: ignore[attr-defined]
        if service:
            qs = qs.filter(services__contains=[service])
        return list(qs)

    def selected_institution(self) -> str:
        value = self["to_institution"].value()
        return str(value) if value else ""

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the child is referred."))
        return reason

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        institution = data.get("to_institution")
        service = data.get("service")
        if institution is not None and service and service not in institution.services:
            self.add_error(
                "to_institution",
                _("%(institution)s does not offer %(service)s.")
                % {
                    "institution": institution.name,
                    "service": dict(Institution.Service.choices)[service],
                },
            )
        key = data.get("from_organisation") or ""
        if not key and len(self.memberships) == 1:
            key = next(iter(self.memberships))
        membership = self.memberships.get(key)
        data["from_agency"] = membership.agency if membership else None
        data["from_institution"] = membership.institution if membership else None
        self.clean_consent(data, data.get("urgency") or "")
        return data


class StepForm(BootstrapFormMixin, forms.Form):
    """A form for one step of a referral (the referral it acts on is `self.referral`).

    It carries the referral's latest step when it was opened (`seen_step`): a step based on an
    older state is refused rather than written over someone else's.
    """

    seen_step = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.fields["seen_step"].initial = referral_last_step(referral)


class SendForm(ConsentFieldsMixin, StepForm):
    """Send a draft: consent on file or given now, or an emergency override."""

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, referral=referral, **kwargs)
        self.setup_consent(referral.child, sending=True)
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


class SeenForm(StepForm):
    seen_at = forms.DateTimeField(label=_("Seen at"), widget=DateTimeInput())
    diagnosis = forms.CharField(
        label=_("Diagnosis"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Visible to the clinic, the child's counsellor and health roles only."),
    )

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, referral=referral, **kwargs)
        self.fields["seen_at"].initial = (
            referral.appointment_at
            if referral.appointment_at and referral.appointment_at <= timezone.now()
            else timezone.now()
        )
        self.fields["diagnosis"].initial = referral.diagnosis

    def clean_seen_at(self) -> Any:
        at = self.cleaned_data["seen_at"]
        if at > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("A visit cannot be recorded in the future."))
        return at


class TreatmentForm(StepForm):
    treatment_type = forms.ChoiceField(
        label=_("Treatment"), choices=Referral.TreatmentType.choices, widget=forms.RadioSelect
    )
    treatment = forms.CharField(
        label=_("Treatment details"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    diagnosis = forms.CharField(
        label=_("Diagnosis"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, referral=referral, **kwargs)
        self.fields["diagnosis"].initial = referral.diagnosis
        self.fields["treatment"].initial = referral.treatment
        self.fields["treatment_type"].initial = (
            referral.treatment_type or Referral.TreatmentType.OUTPATIENT
        )


class DischargeForm(StepForm):
    outcome_summary = forms.CharField(
        label=_("Outcome summary for the referring side"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The referring side reads this. Keep diagnosis and treatment out of it."),
    )
    followup_interval_days = forms.IntegerField(
        label=_("Follow up every (days)"), min_value=1, max_value=365, initial=7
    )
    followup_by = forms.ChoiceField(label=_("Who should follow up"), choices=FOLLOWUP_BY_CHOICES)
    followup_weeks = forms.IntegerField(
        label=_("Follow up for (weeks)"), min_value=1, max_value=104, initial=4
    )
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
