"""Assessments in the JSON API: submit answers, get the scores, band and risk level back. The
app's other resources (instruments, screening sessions, alerts) are in `api_*` beside it; all
are routed from ROUTES here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from assessments.api_alerts import AlertViewSet
from assessments.api_instruments import InstrumentViewSet
from assessments.api_screening import ScreeningSessionViewSet
from assessments.models import Assessment
from assessments.scoring import text_in
from assessments.selectors import assessments_visible_to, current_instruments, may_see_item_answers
from assessments.services import assessment_submit, instrument_fit_problem
from cases.models import Child, Consent, RiskLevel
from cases.services.family import has_consent
from core.access import fetch
from core.api_inputs import UniqueKeysJSONParser
from core.inputs import BoundedSerializerMixin
from institutions.api import LoggedChildListMixin, ScopedAPIMixin
from institutions.roles import Level
from institutions.selectors import signed_in_user


class AssessmentInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """A child's answers to an instrument, by item key; any key that is not exactly an item's,
    and any value that is not a whole number of its options, is an error naming the item
    (400)."""

    child = serializers.IntegerField()
    instrument = serializers.CharField(help_text="Instrument code, e.g. PHQ-9 (newest version).")
    answers = serializers.DictField(
        child=serializers.JSONField(),
        help_text='Answer value per item key, e.g. {"1": 0, "2": 3}: the keys exactly as the '
        "instrument numbers its items, each once; the values JSON integers of the options "
        "(not strings or decimals); null or absent only for an optional item.",
    )
    administered_on = serializers.DateField(required=False)
    setting = serializers.ChoiceField(
        choices=Assessment.Setting.choices, default=Assessment.Setting.OTHER
    )

    def validate_administered_on(self, value: Any) -> Any:
        if value > timezone.localdate():
            raise serializers.ValidationError(_("An assessment cannot be dated in the future."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Taking an assessment records work on the child: contribute (404 out of scope or
        # missing, 403 with read only).
        child = fetch(
            self.context["request"]._request,
            Child,
            attrs["child"],
            level=Level.CONTRIBUTE,
            api=True,
        )
        instrument = current_instruments().filter(code=attrs["instrument"]).first()
        if instrument is None:
            raise serializers.ValidationError(
                {
                    "instrument": _("There is no instrument %(code)s in use.")
                    % {"code": attrs["instrument"]}
                }
            )
        problem = instrument_fit_problem(instrument=instrument, child=child)
        if problem:
            raise serializers.ValidationError({"instrument": problem})
        if not has_consent(child=child, purpose=Consent.Purpose.ASSESSMENT):
            raise serializers.ValidationError(
                {"child": _("No consent for assessment is on file for this child.")}
            )
        answers, errors = instrument.parsed.read_answers(attrs["answers"])
        if errors:
            raise serializers.ValidationError({"answers": errors})
        attrs.update(
            child=child,
            instrument=instrument,
            answers=answers,
            result=instrument.parsed.score(answers),
        )
        attrs.setdefault("administered_on", timezone.localdate())
        return attrs


class AssessmentOutputSerializer(serializers.ModelSerializer):
    """A stored result. `answers` is present only for roles allowed to see them."""

    instrument = serializers.CharField(source="instrument.code")
    instrument_version = serializers.IntegerField(source="instrument.version")
    band = serializers.SerializerMethodField()
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    subscales = serializers.DictField(source="scores.subscales", child=serializers.IntegerField())
    answers = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "child",
            "instrument",
            "instrument_version",
            "administered_on",
            "setting",
            "total",
            "subscales",
            "band",
            "risk_level",
            "critical_items",
            "valid",
            "amends",
            "answers",
        ]
        read_only_fields = fields

    def get_band(self, obj: Assessment) -> str:
        return text_in(obj.band_label) if obj.band_label else ""

    def get_answers(self, obj: Assessment) -> dict[str, int] | None:
        user = self.context["request"].user
        return obj.answers if may_see_item_answers(user, obj) else None


@extend_schema(tags=["assessments"])
class AssessmentViewSet(
    ScopedAPIMixin,
    LoggedChildListMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Submit an assessment (scored on the server) and read results in scope."""

    scope_selector = assessments_visible_to
    fetch_model = Assessment
    parser_classes = [UniqueKeysJSONParser]
    action_permissions = {
        "create": "assessments.add_assessment",
        "list": "cases.view_child",
        "retrieve": "cases.view_child",
    }

    def get_fetch_queryset(self) -> QuerySet[Assessment]:
        return Assessment.objects.select_related("child", "instrument", "administered_by")

    log_key = "assessment"
    list_log_detail = {"listed": "assessments"}

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        assessment = self.get_object()  # the one fetch, which logs the read
        return Response(AssessmentOutputSerializer(assessment, context={"request": request}).data)

    def get_queryset(self) -> QuerySet[Assessment]:
        return super().get_queryset().order_by("-administered_on", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return AssessmentInputSerializer if self.action == "create" else AssessmentOutputSerializer

    @extend_schema(request=AssessmentInputSerializer, responses={201: AssessmentOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = AssessmentInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assessment = assessment_submit(
            child=data["child"],
            instrument=data["instrument"],
            answers=data["answers"],
            result=data["result"],
            setting=data["setting"],
            administered_on=data["administered_on"],
            by=signed_in_user(request),
        )
        output = AssessmentOutputSerializer(assessment, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)


ROUTES = [
    ("assessments", AssessmentViewSet, "assessment"),
    ("instruments", InstrumentViewSet, "instrument"),
    ("screening-sessions", ScreeningSessionViewSet, "screening-session"),
    ("alerts", AlertViewSet, "alert"),
]
