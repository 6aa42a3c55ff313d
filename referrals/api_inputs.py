"""The input of the referral endpoints (referrals.api): a draft, and each step of the life
cycle. Each is checked for its types and bounds here, then by the page's own form (the draft's
`ReferralForm`, each step's form in referrals.forms.steps), so a rule lives in one place."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from assessments.models import Assessment
from assessments.selectors import assessments_visible_to
from cases.models import Child
from core.access import fetch
from core.api_inputs import present, validated_by
from core.inputs import BoundedSerializerMixin
from followups.models import Visit
from followups.selectors import visits_visible_to
from institutions.models import Institution
from institutions.roles import Level
from institutions.selectors import signed_in_user
from referrals.forms.create import ReferralForm, area_choices
from referrals.models import Referral
from referrals.services.lifecycle import FOLLOWUP_BY_CHOICES, FOLLOWUP_DAYS, FOLLOWUP_WEEKS


class ConsentInputMixin(serializers.Serializer):
    """Consent to the referral given now (when none is on file), or an emergency override."""

    consent_by = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text='Who gave consent now: a guardian\'s id, or "child" (14 and older).',
    )
    consent_given_on = serializers.DateField(required=False, allow_null=True)
    emergency_override = serializers.BooleanField(
        default=False, help_text="An emergency referral sent without consent."
    )
    override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why consent could not wait."
    )


class ReferralCreateSerializer(BoundedSerializerMixin, ConsentInputMixin):
    """A draft referral of a child the caller contributes to, to an active institution of the
    child's province that offers the service."""

    child = serializers.IntegerField()
    to_institution = serializers.IntegerField()
    service = serializers.ChoiceField(choices=Institution.Service.choices)
    urgency = serializers.ChoiceField(
        choices=Referral.Urgency.choices, default=Referral.Urgency.ROUTINE
    )
    reason = serializers.CharField(max_length=4000)
    from_institution = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="On behalf of which of the caller's institutions (if they have several).",
    )
    from_agency = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="On behalf of which of the caller's agencies (if they have several).",
    )
    assessment = serializers.IntegerField(required=False, allow_null=True)
    visit = serializers.IntegerField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context["request"]
        user = signed_in_user(request)
        # Referring records work on the child: contribute (404 out of scope, 403 read only).
        child = fetch(request._request, Child, attrs["child"], level=Level.CONTRIBUTE, api=True)
        # What it is based on: this child's (404 otherwise, as any record out of reach).
        if attrs.get("assessment") is not None:
            fetch(
                request._request,
                Assessment,
                attrs["assessment"],
                level=Level.READ,
                queryset=Assessment.objects.filter(child=child, amendments__isnull=True),
                api=True,
            )
        if attrs.get("visit") is not None:
            fetch(
                request._request,
                Visit,
                attrs["visit"],
                level=Level.READ,
                queryset=Visit.objects.filter(child=child),
                api=True,
            )
        organisation = ""
        if attrs.get("from_institution") is not None:
            organisation = f"i{attrs['from_institution']}"
        elif attrs.get("from_agency") is not None:
            organisation = f"a{attrs['from_agency']}"
        areas = area_choices(child)
        form = ReferralForm(
            present(
                {
                    **{
                        k: v
                        for k, v in attrs.items()
                        if k not in ("child", "from_institution", "from_agency")
                    },
                    # The widest area the page offers: the child's province.
                    "area": areas[-1][0] if areas else "",
                    "from_organisation": organisation,
                }
            ),
            child=child,
            user=user,
            assessments=assessments_visible_to(user).filter(child=child, amendments__isnull=True),
            visits=visits_visible_to(user).filter(child=child),
        )
        data = validated_by(
            form, {"from_organisation": "from_institution", "area": "to_institution"}
        )
        return {**data, "child": child, "consent_on_file": form.consent_on_file}


class ReasonSerializer(BoundedSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class NoteSerializer(BoundedSerializerMixin, serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReviewSerializer(BoundedSerializerMixin, serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="What the review found.")


class CloseSerializer(NoteSerializer):
    no_followup_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="After a discharge without a follow-up plan: why none is needed.",
    )


class SendSerializer(BoundedSerializerMixin, ConsentInputMixin):
    """Consent on file is used; without one, consent given now or an emergency override."""


class BookSerializer(NoteSerializer):
    appointment_at = serializers.DateTimeField(help_text="Not in the past, within a year.")


class SeenSerializer(BoundedSerializerMixin, serializers.Serializer):
    seen_at = serializers.DateTimeField(help_text="Not in the future.")
    diagnosis = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    confirm_early = serializers.BooleanField(
        default=False,
        help_text="Needed (true) when seen_at is on a day before the booked appointment's.",
    )
    early_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Needed when seen_at is on a day before the booked appointment's: why. "
        "Kept as the step's note.",
    )


class TreatmentSerializer(BoundedSerializerMixin, serializers.Serializer):
    treatment_type = serializers.ChoiceField(choices=Referral.TreatmentType.choices)
    treatment = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    diagnosis = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class DischargeSerializer(BoundedSerializerMixin, serializers.Serializer):
    outcome_summary = serializers.CharField(
        max_length=4000, help_text="For the referring side: no diagnosis or treatment here."
    )
    followup_interval_days = serializers.IntegerField(
        min_value=FOLLOWUP_DAYS[0], max_value=FOLLOWUP_DAYS[1]
    )
    followup_by = serializers.ChoiceField(choices=FOLLOWUP_BY_CHOICES)
    followup_weeks = serializers.IntegerField(
        min_value=FOLLOWUP_WEEKS[0], max_value=FOLLOWUP_WEEKS[1]
    )
    diagnosis = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    treatment = serializers.CharField(required=False, allow_blank=True, max_length=4000)


# The input of each step, by the name of its page (referrals.views.steps.STEPS).
STEP_INPUTS: dict[str, type[serializers.Serializer]] = {
    "send": SendSerializer,
    "withdraw": ReasonSerializer,
    "accept": NoteSerializer,
    "decline": ReasonSerializer,
    "book": BookSerializer,
    "seen": SeenSerializer,
    "treatment": TreatmentSerializer,
    "discharge": DischargeSerializer,
    "close": CloseSerializer,
}
