"""Screening sessions in the JSON API, as the screening pages allow: the sessions of the
caller's schools and institutions, one with its progress and its roster, opening one for a
class or an institution's residents, and closing it."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from assessments.api_common import UniqueKeysJSONParser, validated_by
from assessments.forms.screening import ScreeningOpenForm
from assessments.models import ScreeningSession
from assessments.screening.roster import (
    RosterRow,
    screening_groups,
    session_progress,
    session_roster,
)
from assessments.screening.services import screening_session_close, screening_session_open
from assessments.selectors import current_instruments, sessions_visible_to
from cases.models import RiskLevel
from core.access_log import access_record_many
from core.inputs import BoundedSerializerMixin
from core.models import AccessEvent
from institutions.api import ScopedAPIMixin
from institutions.masking import FieldKind, mask
from institutions.roles import Level
from institutions.selectors import scope_for, signed_in_user

# The screening pages' permissions (assessments.views.screening).
VIEW = "assessments.view_screeningsession"
OPEN = "assessments.add_screeningsession"
SCREEN = "assessments.change_screeningsession"


class ScreeningSessionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ScreeningSession.Status.choices)
    instrument = django_filters.CharFilter(
        field_name="instrument__code", lookup_expr="iexact", help_text="Instrument code."
    )

    class Meta:
        model = ScreeningSession
        fields = ["status", "instrument"]


class ScreeningSessionSerializer(serializers.ModelSerializer):
    """A session: what was screened, where, when, and whether it is still open."""

    instrument = serializers.CharField(source="instrument.code")
    instrument_version = serializers.IntegerField(source="instrument.version")
    school_name = serializers.CharField(source="school.name", default=None, allow_null=True)
    institution_name = serializers.CharField(
        source="institution.name", default=None, allow_null=True
    )

    class Meta:
        model = ScreeningSession
        fields = [
            "id",
            "title",
            "instrument",
            "instrument_version",
            "school",
            "school_name",
            "grade",
            "class_name",
            "institution",
            "institution_name",
            "administered_on",
            "status",
            "opened_by",
            "opened_at",
            "closed_at",
        ]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer):
    """How far the session is, among the children of its roster the caller may see."""

    done = serializers.IntegerField()
    pending = serializers.IntegerField()
    absent = serializers.IntegerField()
    total = serializers.IntegerField()
    percent_done = serializers.IntegerField()


class ScreeningSessionDetailSerializer(ScreeningSessionSerializer):
    progress = serializers.SerializerMethodField()

    class Meta(ScreeningSessionSerializer.Meta):
        fields = [*ScreeningSessionSerializer.Meta.fields, "progress"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, obj: ScreeningSession) -> dict[str, int]:
        progress = session_progress(session=obj, user=self.context["request"].user)
        return ProgressSerializer(progress).data


class RosterResultSerializer(serializers.Serializer):
    """A child's result in the session: scores and band, never the answers."""

    id = serializers.IntegerField()
    total = serializers.IntegerField()
    band = serializers.CharField(source="band_text")
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    critical = serializers.SerializerMethodField()
    valid = serializers.BooleanField()

    def get_critical(self, obj: Any) -> bool:
        return bool(obj.critical_items)


class RosterRowSerializer(serializers.Serializer):
    """One child of the roster, as the roster page shows them."""

    child = serializers.IntegerField(source="child.pk")
    name = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=["done", "pending", "absent"])
    result = RosterResultSerializer(allow_null=True)
    absence_reason = serializers.CharField(source="absence.reason", default=None, allow_null=True)
    consent_on_file = serializers.BooleanField()
    fit_problem = serializers.CharField(
        allow_null=True, help_text="Why the instrument cannot be used for this child, if so."
    )

    def get_name(self, row: RosterRow) -> str:
        return mask(self.context["request"].user, FieldKind.NAME, row.child.name)


class ScreeningSessionInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """A session for a class of one of the caller's schools (school, grade and class) or for
    the residents of one of the caller's institutions (institution)."""

    instrument = serializers.CharField(
        max_length=32, help_text="Instrument code: its version in use is taken."
    )
    school = serializers.IntegerField(required=False, allow_null=True)
    grade = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=32767)
    class_name = serializers.CharField(required=False, allow_blank=True, max_length=32)
    institution = serializers.IntegerField(required=False, allow_null=True)
    administered_on = serializers.DateField(required=False, help_text="Today when absent.")
    title = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Empty: the instrument, the class and the date.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = signed_in_user(self.context["request"])
        school, institution = attrs.get("school"), attrs.get("institution")
        # A school or institution that is not the caller's is out of scope: 404, as a child
        # or a referral would be (before anything else is said about the input).
        scope = scope_for(user)
        if school is not None and school not in scope.school_ids:
            raise NotFound
        if institution is not None and institution not in scope.residential_institution_ids:
            raise NotFound
        if (school is None) == (institution is None):
            raise serializers.ValidationError(
                {
                    "school": _(
                        "Give either a school with a grade and a class, or a residential "
                        "institution."
                    )
                }
            )
        key = (
            f"s:{school}:{attrs.get('grade')}:{attrs.get('class_name', '')}"
            if school is not None
            else f"i:{institution}"
        )
        instrument = current_instruments().filter(code=attrs["instrument"]).first()
        if instrument is None:
            raise serializers.ValidationError(
                {
                    "instrument": _("There is no instrument %(code)s in use.")
                    % {"code": attrs["instrument"]}
                }
            )
        form = ScreeningOpenForm(
            {
                "instrument": instrument.pk,
                "group": key,
                "administered_on": attrs.get("administered_on") or timezone.localdate(),
                "title": attrs.get("title", ""),
            },
            groups=screening_groups(user=user),
        )
        return validated_by(form, {"group": "class_name" if school is not None else "institution"})


@extend_schema(tags=["screening sessions"])
class ScreeningSessionViewSet(
    ScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Screening sessions of the caller's schools and institutions (and those they opened);
    one out of scope answers 404."""

    scope_selector = sessions_visible_to
    parser_classes = [UniqueKeysJSONParser]
    fetch_model = ScreeningSession
    write_level = Level.CONTRIBUTE  # closing, as on the page
    action_permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "roster": VIEW,
        "create": OPEN,
        "close": SCREEN,
    }
    filterset_class = ScreeningSessionFilter

    def get_queryset(self) -> QuerySet[ScreeningSession]:
        return super().get_queryset().order_by("-id")

    def get_fetch_queryset(self) -> QuerySet[ScreeningSession]:
        return ScreeningSession.objects.select_related("instrument", "school", "institution")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return ScreeningSessionSerializer
        if self.action == "create":
            return ScreeningSessionInputSerializer
        return ScreeningSessionDetailSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        return Response(
            ScreeningSessionDetailSerializer(session, context={"request": request}).data
        )

    @extend_schema(
        request=ScreeningSessionInputSerializer,
        responses={201: ScreeningSessionDetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ScreeningSessionInputSerializer(
            data=request.data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session = screening_session_open(
            group=data["group"],
            instrument=data["instrument"],
            administered_on=data["administered_on"],
            title=data["title"].strip(),
            by=signed_in_user(request),
        )
        output = ScreeningSessionDetailSerializer(session, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RosterRowSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def roster(self, request: Request, pk: str | None = None) -> Response:
        """The children of the session's class or institution that the caller may see, each
        with their result or absence (the roster page). A read of every child listed."""
        session = self.get_object()
        user = signed_in_user(request)
        rows = session_roster(session=session, user=user)
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[row.child.pk for row in rows],
            request=request._request,
            detail={"screening": session.pk, "api": True},
        )
        return Response(RosterRowSerializer(rows, many=True, context={"request": request}).data)

    @extend_schema(request=None, responses={200: ScreeningSessionDetailSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the session: no more entries (closing a closed one changes nothing)."""
        session = screening_session_close(session=self.get_object(), by=signed_in_user(request))
        return Response(
            ScreeningSessionDetailSerializer(session, context={"request": request}).data
        )
