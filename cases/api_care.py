"""A child's care team and care plans in the JSON API, through the same selectors, forms and
services as the care pages: read with the file, managed with `cases.manage_care` at the manage
level. A team place ends (it is not deleted); a plan is reviewed, and a new plan completes the
active one."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.api_base import ID_MAX, IF_MATCH, ChildInputSerializer, IdFilter, check_if_match
from cases.forms.care import CarePlanForm, CarePlanReviewForm, CareTeamForm
from cases.models import CarePlan, CarePlanReview, CareTeamMember
from cases.selectors.scope import care_plans_visible_to, care_team_visible_to
from cases.services.care import (
    care_plan_create,
    care_plan_review,
    care_plan_state,
    care_team_add,
    care_team_remove,
)
from cases.services.child import EditConflict
from core.access import fetch
from core.api_errors import Conflict
from core.api_inputs import IdField, form_data, validated_by
from core.inputs import BoundedSerializerMixin
from institutions.api import LoggedChildListMixin, PreconditionFailed, ScopedAPIMixin
from institutions.roles import Level
from institutions.selectors import signed_in_user

MANAGE_CARE = "cases.manage_care"


def _user_name(user: Any) -> str | None:
    return str(user) if user is not None else None


# ---------------------------------------------------------------------------------------------
# Care team


class CareTeamMemberSerializer(serializers.ModelSerializer):
    """A place on a child's care team: a staff member (who sees the child while serving) or a
    peer partner (a name only)."""

    team_role = serializers.ChoiceField(choices=CareTeamMember.TeamRole.choices)
    user = serializers.IntegerField(source="user_id", allow_null=True)
    user_name = serializers.SerializerMethodField()

    class Meta:
        model = CareTeamMember
        fields = [
            "id",
            "child",
            "team_role",
            "user",
            "user_name",
            "peer_name",
            "is_active",
            "started_on",
            "ended_on",
        ]
        read_only_fields = fields

    def get_user_name(self, obj: CareTeamMember) -> str | None:
        return _user_name(obj.user)


class CareTeamMemberCreateSerializer(ChildInputSerializer):
    """A staff member by user name (an active staff member whose role works with children's
    files), or a peer partner by name, as on the page."""

    team_role = serializers.ChoiceField(choices=CareTeamMember.TeamRole.choices)
    username = serializers.CharField(
        max_length=150, required=False, allow_blank=True, help_text="For staff members."
    )
    peer_name = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="For peer partners."
    )


class CareTeamFilter(django_filters.FilterSet):
    child = IdFilter(field_name="child_id", label=gettext_lazy("Child"))
    team_role = django_filters.ChoiceFilter(
        choices=CareTeamMember.TeamRole.choices, label=gettext_lazy("Role in the team")
    )
    is_active = django_filters.BooleanFilter(label=gettext_lazy("Current"))

    class Meta:
        model = CareTeamMember
        fields = ["child", "team_role", "is_active"]


@extend_schema(tags=["care team"])
class CareTeamMemberViewSet(
    ScopedAPIMixin,
    LoggedChildListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Care-team places of the children visible to the caller (filter `child`). Adding and
    ending one need `cases.manage_care` and the manage level on the child."""

    scope_selector = care_team_visible_to
    fetch_model = CareTeamMember
    write_level = Level.MANAGE
    action_permissions = {
        "list": "cases.view_child",
        "retrieve": "cases.view_child",
        "create": MANAGE_CARE,
        "remove": MANAGE_CARE,
    }
    serializer_class = CareTeamMemberSerializer
    filterset_class = CareTeamFilter
    list_log_detail = {"listed": "care_team"}

    def get_queryset(self) -> QuerySet[CareTeamMember]:
        return super().get_queryset().order_by("-id")

    def get_fetch_queryset(self) -> QuerySet[CareTeamMember]:
        return CareTeamMember.objects.select_related("user")

    log_key = "care_team_member"

    def _answer(self, member: CareTeamMember, status_code: int = status.HTTP_200_OK) -> Response:
        data = CareTeamMemberSerializer(member, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    @extend_schema(
        request=CareTeamMemberCreateSerializer, responses={201: CareTeamMemberSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add a staff member (who then sees the child, at the contribute level) or a peer
        partner to the child's care team."""
        serializer = CareTeamMemberCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        child = values.pop("child")
        cleaned = validated_by(CareTeamForm(form_data(values), child=child))
        member = care_team_add(
            child=child,
            team_role=cleaned["team_role"],
            by=signed_in_user(request),
            user=cleaned.get("user"),
            peer_name=cleaned.get("peer_name", "").strip(),
        )
        return self._answer(member, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: CareTeamMemberSerializer})
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: str | None = None) -> Response:
        """End the place (kept on file with its end date); a staff member loses the access it
        gave. Ending a place already ended changes nothing."""
        member = care_team_remove(member=self.get_object(), by=signed_in_user(request))
        return self._answer(member)


# ---------------------------------------------------------------------------------------------
# Care plans


def plan_etag(plan: CarePlan) -> str:
    """A plan's ETag: what its review is based on (its status and review date)."""
    return f'"{plan.pk}-{care_plan_state(plan)}"'


class CarePlanReviewSerializer(serializers.ModelSerializer):
    reviewed_by = serializers.IntegerField(source="reviewed_by_id")
    reviewed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = CarePlanReview
        fields = [
            "id",
            "reviewed_on",
            "note",
            "next_review_date",
            "reviewed_by",
            "reviewed_by_name",
            "created_at",
        ]
        read_only_fields = fields

    def get_reviewed_by_name(self, obj: CarePlanReview) -> str | None:
        return _user_name(obj.reviewed_by)


class CarePlanSerializer(serializers.ModelSerializer):
    """A care plan (心理关爱方案) with its reviews, newest first."""

    classification = serializers.ChoiceField(choices=CarePlan.Classification.choices)
    interventions = serializers.ListField(
        child=serializers.ChoiceField(choices=CarePlan.Intervention.choices)
    )
    status = serializers.ChoiceField(choices=CarePlan.Status.choices)
    owner = serializers.IntegerField(source="owner_id")
    owner_name = serializers.SerializerMethodField()
    reviews = CarePlanReviewSerializer(many=True)

    class Meta:
        model = CarePlan
        fields = [
            "id",
            "child",
            "classification",
            "goals",
            "interventions",
            "other_intervention",
            "owner",
            "owner_name",
            "start_date",
            "review_date",
            "status",
            "created_at",
            "reviews",
        ]
        read_only_fields = fields

    def get_owner_name(self, obj: CarePlan) -> str | None:
        return _user_name(obj.owner)


class CarePlanCreateSerializer(ChildInputSerializer):
    """A new plan, checked by the page's form (an owner on the child's team, or the author; a
    review date on or after the start; the other intervention described)."""

    classification = serializers.ChoiceField(choices=CarePlan.Classification.choices)
    goals = serializers.CharField()
    interventions = serializers.ListField(
        child=serializers.ChoiceField(choices=CarePlan.Intervention.choices), min_length=1
    )
    other_intervention = serializers.CharField(max_length=200, required=False, allow_blank=True)
    owner = IdField(
        required=False,
        help_text="User id of the owner: a staff member on the child's care team, or the "
        "caller (the default).",
    )
    start_date = serializers.DateField(required=False, help_text="Default: today.")
    review_date = serializers.DateField()
    replaces = serializers.IntegerField(
        min_value=0,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        help_text="The id of the child's active plan as the caller last read it (0: there was "
        "none). The new plan completes the active one; when another plan was started or "
        "ended meanwhile, the answer is 409 and nothing is saved. Left out: no such check.",
    )


class CarePlanReviewInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    reviewed_on = serializers.DateField()
    note = serializers.CharField()
    next_review_date = serializers.DateField(required=False, allow_null=True)
    new_status = serializers.ChoiceField(
        choices=CarePlan.Status.choices,
        help_text="The plan's status after this review (an active plan needs a next review date).",
    )


class CarePlanFilter(django_filters.FilterSet):
    child = IdFilter(field_name="child_id", label=gettext_lazy("Child"))
    status = django_filters.ChoiceFilter(
        choices=CarePlan.Status.choices, label=gettext_lazy("Status")
    )

    class Meta:
        model = CarePlan
        fields = ["child", "status"]


def _with_reviews(queryset: QuerySet[CarePlan]) -> QuerySet[CarePlan]:
    return queryset.select_related("owner").prefetch_related(
        Prefetch(
            "reviews",
            queryset=CarePlanReview.objects.select_related("reviewed_by").order_by(
                "-reviewed_on", "-id"
            ),
        )
    )


@extend_schema(tags=["care plans"])
class CarePlanViewSet(
    ScopedAPIMixin,
    LoggedChildListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Care plans of the children visible to the caller (filter `child`). Starting a plan and
    recording a review need `cases.manage_care` and the manage level on the child; a review
    needs If-Match with the plan's ETag."""

    scope_selector = care_plans_visible_to
    fetch_model = CarePlan
    write_level = Level.MANAGE
    action_permissions = {
        "list": "cases.view_child",
        "retrieve": "cases.view_child",
        "create": MANAGE_CARE,
        "review": MANAGE_CARE,
    }
    serializer_class = CarePlanSerializer
    filterset_class = CarePlanFilter
    list_log_detail = {"listed": "care_plans"}

    def get_queryset(self) -> QuerySet[CarePlan]:
        return _with_reviews(super().get_queryset()).order_by("-id")

    def get_fetch_queryset(self) -> QuerySet[CarePlan]:
        return _with_reviews(CarePlan.objects.all())

    log_key = "care_plan"

    def _answer(self, plan: CarePlan, status_code: int = status.HTTP_200_OK) -> Response:
        data = CarePlanSerializer(plan, context=self.get_serializer_context()).data
        response = Response(data, status=status_code)
        response["ETag"] = plan_etag(plan)
        return response

    def _reloaded(self, plan: CarePlan) -> CarePlan:
        """The plan as saved, with its reviews, through the one fetch."""
        return fetch(
            self.request._request,
            CarePlan,
            plan.pk,
            level=Level.READ,
            queryset=self.get_fetch_queryset(),
            api=True,
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(self.get_object())

    @extend_schema(request=CarePlanCreateSerializer, responses={201: CarePlanSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a care plan; it completes the child's active plan."""
        user = signed_in_user(request)
        serializer = CarePlanCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        child = values.pop("child")
        values.setdefault("owner", user.pk)
        values.setdefault("start_date", timezone.localdate())
        replacing = values.pop("replaces", None)
        form = CarePlanForm(form_data(values), child=child, user=user)
        cleaned = validated_by(form)
        cleaned.pop("replaces", None)
        try:
            plan = care_plan_create(child=child, data=cleaned, by=user, replacing=replacing)
        except EditConflict:
            raise Conflict(
                _(
                    "Someone else started or ended a care plan for this child meanwhile: read "
                    "the child's plans again, then send replaces with the active plan's id."
                )
            ) from None
        return self._answer(self._reloaded(plan), status.HTTP_201_CREATED)

    @extend_schema(
        request=CarePlanReviewInputSerializer,
        responses={200: CarePlanSerializer},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """Record a review of the plan: it can set the next review date and end the plan."""
        plan: CarePlan = self.get_object()
        check_if_match(request, plan_etag(plan))
        serializer = CarePlanReviewInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        state = care_plan_state(plan)
        form = CarePlanReviewForm(form_data({**serializer.validated_data, "plan_state": state}))
        cleaned = validated_by(form)
        try:
            care_plan_review(
                plan=plan,
                reviewed_on=cleaned["reviewed_on"],
                note=cleaned["note"],
                next_review_date=cleaned.get("next_review_date"),
                new_status=cleaned["new_status"],
                expected_state=state,
                by=signed_in_user(request),
            )
        except EditConflict:
            raise PreconditionFailed() from None
        return self._answer(self._reloaded(plan))
