"""Referrals in the JSON API (read-only), through the same selector as the pages.

Diagnosis and treatment are null for callers who may not read clinical details. To publish it,
register the viewset on the API router: `router.register("referrals", ReferralViewSet,
basename="referral")`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.inputs import whole_number
from institutions.api import ScopedAPIMixin
from referrals.models import Referral
from referrals.selectors import REFERRAL_RELATED, clinical_access, referrals_visible_to


class ReferralSerializer(serializers.ModelSerializer):
    """A referral's step, times and outcome; clinical fields only for those allowed."""

    to_institution_name = serializers.CharField(source="to_institution.name")
    diagnosis = serializers.SerializerMethodField()
    treatment = serializers.SerializerMethodField()
    treatment_type = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "child",
            "from_user",
            "to_institution",
            "to_institution_name",
            "service",
            "urgency",
            "status",
            "reason",
            "emergency_override",
            "appointment_at",
            "outcome_summary",
            "decline_reason",
            "followup_interval_days",
            "followup_by",
            "followup_weeks",
            "created_at",
            "sent_at",
            "accepted_at",
            "declined_at",
            "first_seen_at",
            "discharged_at",
            "closed_at",
            "diagnosis",
            "treatment",
            "treatment_type",
        ]
        read_only_fields = fields

    def _clinical(self, obj: Referral) -> bool:
        if "clinical_access" not in self.context:
            self.context["clinical_access"] = clinical_access(self.context["request"].user)
        allowed: bool = self.context["clinical_access"](obj)
        return allowed

    def get_diagnosis(self, obj: Referral) -> str | None:
        return obj.diagnosis if self._clinical(obj) else None

    def get_treatment(self, obj: Referral) -> str | None:
        return obj.treatment if self._clinical(obj) else None

    def get_treatment_type(self, obj: Referral) -> str | None:
        return obj.treatment_type if self._clinical(obj) else None


@extend_schema(tags=["referrals"])
class ReferralViewSet(ScopedAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Referrals visible to the caller; one out of scope answers 404. Every read of one
    referral is logged."""

    scope_selector = referrals_visible_to
    fetch_model = Referral
    action_permissions = {"list": "cases.view_child", "retrieve": "cases.view_child"}
    serializer_class = ReferralSerializer

    def get_queryset(self) -> QuerySet[Referral]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Referral.objects.none()
        return super().get_queryset().order_by("-created_at", "-id")

    def get_fetch_queryset(self) -> QuerySet[Referral]:
        return Referral.objects.select_related(*REFERRAL_RELATED)

    def get_log_detail(self) -> dict[str, Any] | None:
        pk = str(self.kwargs.get("pk", ""))
        number = whole_number(pk)
        return {"referral": number} if number is not None else None  # not a number: 404 anyway

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        referral = self.get_object()  # the one fetch, which logs the read
        return Response(self.get_serializer(referral).data)


ROUTES = [("referrals", ReferralViewSet, "referral")]
