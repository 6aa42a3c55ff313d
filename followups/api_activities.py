"""Psycho-education activities in the JSON API, through the pages' selectors, form and
service: an activity is recorded with its attendance by `activity_record`; a reader sees the
attendees in their scope and a count of the others."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import fetch
from core.access_log import access_record_many
from core.api_inputs import service_errors, validated_by
from core.inputs import BoundedSerializerMixin
from core.models import AccessEvent
from followups.activities import (
    MAX_ATTENDEES,
    activities_visible_to,
    activity_detail_queryset,
    activity_list,
    activity_record,
    attendance_visible_to,
)
from followups.api_filters import ActivityFilter
from followups.forms import ActivityForm, activity_values
from followups.models import Activity, ActivityAttendance
from institutions.api import ScopedAPIMixin
from institutions.masking import FieldKind, MaskedField
from institutions.roles import Level
from institutions.selectors import signed_in_user


class ActivitySerializer(serializers.ModelSerializer):
    """An activity as the list shows it."""

    venue_name = serializers.CharField(source="venue.name", default=None, allow_null=True)
    region_name = serializers.CharField(source="region.name")
    organiser_name = serializers.SerializerMethodField()
    agency_name = serializers.CharField(source="agency.name", default=None, allow_null=True)
    children_count = serializers.IntegerField(help_text="Children on the attendance list.")

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "topic",
            "held_on",
            "venue",
            "venue_name",
            "venue_text",
            "region",
            "region_name",
            "organiser",
            "organiser_name",
            "agency",
            "agency_name",
            "guardians_attending",
            "children_count",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    def get_organiser_name(self, obj: Activity) -> str:
        return str(obj.organiser)


class ActivityAttendeeSerializer(serializers.ModelSerializer):
    """A child on the attendance list whom the reader may see."""

    record_number = serializers.CharField(source="child.record_number")
    name = MaskedField(FieldKind.NAME, source="child.name")

    class Meta:
        model = ActivityAttendance
        fields = ["child", "record_number", "name", "guardian_attended"]
        read_only_fields = fields


class ActivityDetailSerializer(ActivitySerializer):
    """An activity with the attendees the reader may see; the others are only counted."""

    attendees = serializers.SerializerMethodField()
    others = serializers.SerializerMethodField()

    class Meta(ActivitySerializer.Meta):
        fields = [*ActivitySerializer.Meta.fields, "attendees", "others"]
        read_only_fields = fields

    @extend_schema_field(ActivityAttendeeSerializer(many=True))
    def get_attendees(self, obj: Activity) -> list[Any]:
        rows = ActivityAttendeeSerializer(
            self.context["attendees"], many=True, context=self.context
        )
        return list(rows.data)

    def get_others(self, obj: Activity) -> int:
        """Attendees outside the reader's scope: counted, never named."""
        return max(int(getattr(obj, "children_count", 0)) - len(self.context["attendees"]), 0)


class ActivityInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """An activity and its attendance, checked by the activity form and the service: every
    child listed (by record number) must be one the organiser may see, or nothing is saved
    (an unknown record number and one outside the scope are refused alike)."""

    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    topic = serializers.CharField(max_length=200)
    held_on = serializers.DateField()
    region = serializers.CharField(
        max_length=12, help_text="Code of the region where it was held: one the organiser works in."
    )
    venue = serializers.IntegerField(
        required=False, allow_null=True, help_text="A registered venue's id."
    )
    venue_text = serializers.CharField(
        max_length=200, allow_blank=True, default="", help_text="The place, if not a venue."
    )
    agency = serializers.IntegerField(required=False, allow_null=True)
    children = serializers.ListField(
        child=serializers.CharField(max_length=32),
        default=list,
        max_length=MAX_ATTENDEES,
        help_text="Record numbers of the children who attended.",
    )
    guardian_children = serializers.ListField(
        child=serializers.CharField(max_length=32),
        default=list,
        max_length=MAX_ATTENDEES,
        help_text="Record numbers of the children whose guardian attended.",
    )
    guardians_attending = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=10_000,
        help_text="Guardians attending in all; empty: those named above.",
    )
    note = serializers.CharField(allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = signed_in_user(self.context["request"])
        guardians = attrs.get("guardians_attending")
        form = ActivityForm(
            data={
                **attrs,
                "venue": attrs.get("venue") or "",
                "agency": attrs.get("agency") or "",
                "children": "\n".join(attrs["children"]),
                "guardian_children": "\n".join(attrs["guardian_children"]),
                "guardians_attending": "" if guardians is None else guardians,
            },
            user=user,
        )
        validated_by(form)
        data: dict[str, Any] = form.cleaned_data
        return data


# The service's refusals, on the field each is about.
ACTIVITY_ERROR_FIELDS = {
    "out_of_scope": "children",
    "too_many": "children",
    "guardians": "guardians_attending",
    "venue_closed": "venue",
}


@extend_schema(tags=["activities"])
@extend_schema_view(
    list=extend_schema(
        summary="Activities the caller organised, held in their regions or attended by their "
        "children, newest first."
    ),
    retrieve=extend_schema(
        summary="One activity with the attendees the caller may see (the others counted)."
    ),
)
class ActivityViewSet(
    ScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Psycho-education activities; one out of scope answers 404. Recorded once, with their
    attendance; not edited (as in the pages)."""

    scope_selector = activities_visible_to
    fetch_model = Activity
    action_permissions = {"create": "followups.add_activity"}
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    cursor_ordering = ("-held_on", "-id")

    def get_queryset(self) -> QuerySet[Activity]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Activity.objects.none()
        return activity_list(user=signed_in_user(self.request))

    def get_fetch_queryset(self) -> QuerySet[Activity]:
        return activity_detail_queryset()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ActivitySerializer if self.action == "list" else ActivityDetailSerializer

    def detail_response(self, activity: Activity, *, created: bool = False) -> Response:
        """The activity with the attendees the reader may see, each named child logged (one
        query), as on its page."""
        request = self.request
        user = signed_in_user(request)
        attendees = list(attendance_visible_to(user=user, activity=activity)[:MAX_ATTENDEES])
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[a.child_id for a in attendees],
            request=request._request,
            detail={"api": True, "activity": activity.pk},
        )
        context = {**self.get_serializer_context(), "attendees": attendees}
        data = ActivityDetailSerializer(activity, context=context).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.detail_response(self.get_object())

    @extend_schema(
        summary="Record an activity with its attendance.",
        request=ActivityInputSerializer,
        responses={201: ActivityDetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ActivityInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            activity = activity_record(by=signed_in_user(request), **activity_values(data))
        except DjangoValidationError as error:
            field = ACTIVITY_ERROR_FIELDS.get(str(getattr(error, "code", "")))
            if field is None:
                raise service_errors(error) from error
            raise serializers.ValidationError({field: error.messages}) from error
        # Read back with what its page shows (the attendance count), through the one fetch.
        recorded = fetch(
            request._request,
            Activity,
            activity.pk,
            level=Level.READ,
            queryset=activity_detail_queryset(),
            api=True,
        )
        return self.detail_response(recorded, created=True)
