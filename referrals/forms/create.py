"""The form that writes a referral: destination by service and region, on whose behalf, what
it is based on, consent and attachments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment
from cases.models import Child
from core.widgets import LongSelect
from followups.models import Visit
from institutions.forms import BootstrapFormMixin
from institutions.models import Institution, Membership, Region, User
from referrals.forms.attachments import MAX_ATTACHMENTS, AttachmentsField, attachment_max_bytes
from referrals.forms.consent import ConsentFieldsMixin
from referrals.models import Referral
from referrals.selectors import user_organisations


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
        widget=LongSelect,
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
        self.setup_consent(child, sending, user)
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
