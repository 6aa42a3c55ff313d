"""Alerts in the JSON API, as the alert pages show them: read about the children in scope,
closed by a responsible person with an outcome and a note (`acknowledge`), and the record that a
guardian was told (`guardian-informed`)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from assessments.forms.alerts import AlertCloseForm, GuardianInformedForm
from assessments.models import Alert, Assessment, GuardianInformed
from assessments.selectors import GUARDIAN_INFORMED_PERMISSION, alerts_visible_to
from assessments.services import CLOSING_OUTCOMES, alert_acknowledge, alert_guardian_informed
from cases.models import RiskLevel
from core.api_errors import Conflict
from core.api_inputs import UniqueKeysJSONParser, present, validated_by
from core.inputs import BoundedSerializerMixin
from institutions.api import LoggedChildListMixin, ScopedAPIMixin
from institutions.masking import FieldKind, MaskedField
from institutions.roles import Level
from institutions.selectors import signed_in_user

CLOSE_PERMISSION = "assessments.acknowledge_alert"


class AlertFilter(django_filters.FilterSet):
    open = django_filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", help_text="true: not yet closed."
    )
    reason = django_filters.ChoiceFilter(choices=Alert.Reason.choices)
    child = django_filters.NumberFilter(field_name="child_id")

    class Meta:
        model = Alert
        fields = ["open", "reason", "child"]


class AlertSerializer(serializers.ModelSerializer):
    """An alert: its child, cause, risk, and how (and whether) it was closed."""

    child_name = MaskedField(FieldKind.NAME, source="child.name")
    instrument = serializers.CharField(
        source="assessment.instrument.code", default=None, allow_null=True
    )
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "child",
            "child_name",
            "assessment",
            "instrument",
            "reason",
            "risk_level",
            "created_at",
            "raised_by",
            "is_open",
            "acknowledged_by",
            "acknowledged_at",
            "outcome",
            "note",
        ]
        read_only_fields = fields


class GuardianInformedSerializer(serializers.ModelSerializer):
    """That a guardian was told about the alert: which guardian, when, by whom, and what."""

    class Meta:
        model = GuardianInformed
        fields = ["id", "guardian", "informed_at", "note", "recorded_by", "recorded_at"]
        read_only_fields = fields


class AlertDetailSerializer(AlertSerializer):
    """An alert with the results attached to it and the guardians told."""

    results: serializers.PrimaryKeyRelatedField[Assessment] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    guardians_informed = GuardianInformedSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "results", "guardians_informed"]
        read_only_fields = fields


class AlertCloseSerializer(BoundedSerializerMixin, serializers.Serializer):
    """What the responsible person did (the outcome) and a note; both are needed."""

    outcome = serializers.ChoiceField(choices=[(o.value, o.label) for o in CLOSING_OUTCOMES])
    note = serializers.CharField(max_length=2000)


class GuardianInformedInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """Which current guardian of the child was told, when (not in the future), and what."""

    guardian = serializers.IntegerField()
    informed_at = serializers.DateTimeField()
    note = serializers.CharField(max_length=500)


@extend_schema(tags=["alerts"])
class AlertViewSet(
    ScopedAPIMixin,
    LoggedChildListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Alerts about the children the caller may see; one out of scope answers 404. Closing
    and recording a guardian told need contribute on the child and the action's permission."""

    scope_selector = alerts_visible_to
    parser_classes = [UniqueKeysJSONParser]
    fetch_model = Alert
    write_level = Level.CONTRIBUTE  # both actions record what the caller did
    action_permissions = {
        "list": "cases.view_child",
        "retrieve": "cases.view_child",
        "acknowledge": CLOSE_PERMISSION,
        "guardian_informed": GUARDIAN_INFORMED_PERMISSION,
    }
    serializer_class = AlertSerializer
    filterset_class = AlertFilter

    def get_queryset(self) -> QuerySet[Alert]:
        return super().get_queryset().order_by("-id")

    def get_fetch_queryset(self) -> QuerySet[Alert]:
        return Alert.objects.select_related("child", "assessment__instrument").prefetch_related(
            Prefetch("results", queryset=Assessment.objects.only("pk").order_by("id")),
            Prefetch("guardians_informed", queryset=GuardianInformed.objects.order_by("id")),
        )

    log_key = "alert"
    list_log_detail = {"alerts": True}

    def _detail(self, request: Request, alert: Alert, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            AlertDetailSerializer(alert, context={"request": request}).data, status=code
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(request, self.get_object())  # the one fetch, which logs the read

    @extend_schema(request=AlertCloseSerializer, responses={200: AlertDetailSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Close the alert with an outcome and a note; the child's risk no longer rests on
        it. An alert someone has closed already answers 409 (the first closing stands)."""
        alert = self.get_object()
        serializer = AlertCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = validated_by(AlertCloseForm(serializer.validated_data))
        if not alert.is_open:
            raise Conflict(_("This alert was closed already."))
        user = signed_in_user(request)
        closed = alert_acknowledge(alert=alert, by=user, note=data["note"], outcome=data["outcome"])
        if closed.acknowledged_by_id != user.pk or closed.note != data["note"]:
            raise Conflict(_("Someone else closed this alert first; your note was not saved."))
        return self._detail(request, closed)

    @extend_schema(
        request=GuardianInformedInputSerializer, responses={201: GuardianInformedSerializer}
    )
    @action(detail=True, methods=["post"], url_path="guardian-informed")
    def guardian_informed(self, request: Request, pk: str | None = None) -> Response:
        """Record that a current guardian of the child was told about the alert; the alert
        stays as it is."""
        alert = self.get_object()
        serializer = GuardianInformedInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = validated_by(GuardianInformedForm(present(serializer.validated_data), alert=alert))
        record = alert_guardian_informed(
            alert=alert,
            by=signed_in_user(request),
            guardian=data["guardian"],
            informed_at=data["informed_at"],
            note=data["note"],
        )
        return Response(GuardianInformedSerializer(record).data, status=status.HTTP_201_CREATED)
