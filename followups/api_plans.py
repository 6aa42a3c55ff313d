"""Follow-up plans in the JSON API: made, paired and ended through the plan pages' forms and
services (manage on the child and the care permission)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import Child
from core.access import fetch
from core.api_errors import Conflict
from core.api_inputs import service_errors, validated_by
from core.inputs import BoundedSerializerMixin
from followups.api_filters import FollowupPlanFilter
from followups.models import FollowupPlan
from followups.plan_forms import EndPlanForm, PairForm, PlanForm, plan_schedule_in_words
from followups.plan_sources import plan_source
from followups.selectors import followup_plans_visible_to
from followups.services.plans import (
    PARTNER_ROLES,
    Schedule,
    plan_create,
    plan_end,
    plan_set_partners,
    plan_visits_count,
)
from followups.views.plans import MANAGE_PERMISSION, next_followup_due
from institutions.api import LoggedChildListMixin, ScopedAPIMixin
from institutions.masking import FieldKind, MaskedField
from institutions.models import User
from institutions.roles import Level
from institutions.selectors import signed_in_user

# --- Follow-up plans ---------------------------------------------------------------------------


class PlanPartnerSerializer(serializers.ModelSerializer):
    """A person paired with the child."""

    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "name"]
        read_only_fields = fields

    def get_name(self, obj: User) -> str:
        return str(obj)


class FollowupPlanSerializer(serializers.ModelSerializer):
    """A plan as the child's file lists it: who is paired, the schedule, the period, the goal,
    and how it ended."""

    child_record_number = serializers.CharField(source="child.record_number")
    child_name = MaskedField(FieldKind.NAME, source="child.name")
    partners = PlanPartnerSerializer(many=True, read_only=True)
    schedule = serializers.SerializerMethodField()

    class Meta:
        model = FollowupPlan
        fields = [
            "id",
            "child",
            "child_record_number",
            "child_name",
            "referral",
            "partners",
            "partner_role",
            "first_interval_days",
            "first_period_days",
            "interval_days",
            "schedule",
            "start_on",
            "end_on",
            "goal",
            "status",
            "end_reason",
            "ended_at",
            "ended_by",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_schedule(self, obj: FollowupPlan) -> str:
        """The schedule in words, in the request's language."""
        return plan_schedule_in_words(obj)


class PlanNextVisitSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    overdue = serializers.BooleanField()
    assignee = serializers.IntegerField(allow_null=True)
    assignee_name = serializers.CharField(allow_null=True)


class FollowupPlanDetailSerializer(FollowupPlanSerializer):
    """A plan as its page shows it: also the follow-up visits logged and expected so far, and
    the next one due."""

    visits_done = serializers.SerializerMethodField()
    visits_expected = serializers.SerializerMethodField()
    next_visit = serializers.SerializerMethodField()

    class Meta(FollowupPlanSerializer.Meta):
        fields = [
            *FollowupPlanSerializer.Meta.fields,
            "visits_done",
            "visits_expected",
            "next_visit",
        ]
        read_only_fields = fields

    def _counts(self, obj: FollowupPlan) -> tuple[int, int]:
        if "visit_counts" not in self.context:
            self.context["visit_counts"] = plan_visits_count(plan=obj)
        counts: tuple[int, int] = self.context["visit_counts"]
        return counts

    def get_visits_done(self, obj: FollowupPlan) -> int:
        return self._counts(obj)[0]

    def get_visits_expected(self, obj: FollowupPlan) -> int:
        return self._counts(obj)[1]

    @extend_schema_field(PlanNextVisitSerializer(allow_null=True))
    def get_next_visit(self, obj: FollowupPlan) -> dict[str, Any] | None:
        task = next_followup_due(obj)
        if task is None:
            return None
        return {
            "due_on": task.due_on,
            "overdue": task.due_on < timezone.localdate(),
            "assignee": task.assignee_id,
            "assignee_name": str(task.assignee) if task.assignee else None,
        }


class FollowupPlanInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """A plan by hand, or from a discharge (`referral`, which fills what is left out), checked
    by the plan form and the plan's rules: a schedule preset or the days, a period of at most
    two years, a goal, and the people paired among the care team and the colleagues serving
    the child's region."""

    child = serializers.IntegerField(help_text="The child's id (manage level needed).")
    referral = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A discharged referral of this child the plan starts from.",
    )
    preset = serializers.IntegerField(
        required=False, allow_null=True, help_text="A follow-up schedule preset's id."
    )
    first_interval_days = serializers.IntegerField(required=False, allow_null=True)
    first_period_days = serializers.IntegerField(required=False, allow_null=True)
    interval_days = serializers.IntegerField(required=False, allow_null=True)
    partner_role = serializers.ChoiceField(choices=PARTNER_ROLES, required=False)
    partners = serializers.ListField(
        child=serializers.IntegerField(), max_length=50, help_text="Ids of the people paired."
    )
    start_on = serializers.DateField(required=False, help_text="Default: today.")
    end_on = serializers.DateField(
        required=False, allow_null=True, help_text="Empty: the start plus the preset's weeks."
    )
    goal = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="What it should achieve."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A plan is care management: manage on the child (404 out of scope, 403 below it).
        child = fetch(
            self.context["request"]._request, Child, attrs["child"], level=Level.MANAGE, api=True
        )
        source = None
        if attrs.get("referral") is not None:
            source = plan_source(child, {"referral": str(attrs["referral"])})
            if source is None:
                raise serializers.ValidationError(
                    {"referral": _("No discharge of this child that a plan can start from.")}
                )
        values = {
            "preset": attrs.get("preset"),
            "first_interval_days": attrs.get("first_interval_days"),
            "first_period_days": attrs.get("first_period_days"),
            "interval_days": attrs.get("interval_days"),
            "partner_role": attrs.get("partner_role"),
            "end_on": attrs.get("end_on"),
            "goal": attrs.get("goal"),
        }
        if source is not None:  # what the discharge recommends, where the caller says nothing
            defaults = {
                "first_interval_days": source.interval_days,
                "interval_days": source.interval_days,
                "first_period_days": 0,
                "partner_role": source.partner_role,
                "end_on": (attrs.get("start_on") or timezone.localdate())
                + timedelta(weeks=source.weeks),
                "goal": source.goal,
            }
            values = {k: defaults.get(k) if v is None else v for k, v in values.items()}
        form = PlanForm(
            data={
                **{k: "" if v is None else v for k, v in values.items()},
                "partners": attrs["partners"],
                "start_on": attrs.get("start_on") or timezone.localdate(),
            },
            child=child,
            source=source,
        )
        validated_by(form)
        return {"child": child, "source": source, **form.cleaned_data}


class PlanPairInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    partners = serializers.ListField(
        child=serializers.IntegerField(),
        max_length=50,
        help_text="Ids of the people to pair with the child, in the plan's role.",
    )


class PlanEndInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=2000, help_text="Why it ends.")


@extend_schema(tags=["follow-up plans"])
@extend_schema_view(
    list=extend_schema(summary="Follow-up plans of the children the caller may see."),
    retrieve=extend_schema(summary="One plan, with its visits and the next one due."),
)
class FollowupPlanViewSet(
    ScopedAPIMixin,
    LoggedChildListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Follow-up plans after treatment; one out of scope answers 404. Making, pairing and
    ending need manage on the child and the care-management permission."""

    scope_selector = followup_plans_visible_to
    fetch_model = FollowupPlan
    write_level = Level.MANAGE
    action_permissions = {
        "list": "cases.view_child",
        "retrieve": "cases.view_child",
        "create": MANAGE_PERMISSION,
        "pair": MANAGE_PERMISSION,
        "end": MANAGE_PERMISSION,
    }
    serializer_class = FollowupPlanSerializer
    filterset_class = FollowupPlanFilter
    cursor_ordering = ("-start_on", "-id")
    list_log_detail = {"followup_plans": True}

    def get_queryset(self) -> QuerySet[FollowupPlan]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return FollowupPlan.objects.none()
        return super().get_queryset().select_related("child").prefetch_related("partners")

    def get_fetch_queryset(self) -> QuerySet[FollowupPlan]:
        # No prefetch of the partners: a pairing's answer reads them after the change.
        return FollowupPlan.objects.select_related("child")

    log_key = "followup_plan"

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return FollowupPlanSerializer if self.action == "list" else FollowupPlanDetailSerializer

    def detail_response(self, plan: FollowupPlan, code: int = status.HTTP_200_OK) -> Response:
        data = FollowupPlanDetailSerializer(plan, context=self.get_serializer_context()).data
        return Response(data, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Make a follow-up plan (by hand or from a discharge); the paired are told.",
        request=FollowupPlanInputSerializer,
        responses={201: FollowupPlanDetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = FollowupPlanInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            plan = plan_create(
                child=data["child"],
                by=signed_in_user(request),
                partners=list(data["partners"]),
                partner_role=data["partner_role"],
                schedule=Schedule(
                    data["first_interval_days"], data["first_period_days"], data["interval_days"]
                ),
                start_on=data["start_on"],
                end_on=data["end_on"],
                goal=data["goal"],
                referral=data["source"].record if data["source"] else None,
            )
        except DjangoValidationError as error:
            raise service_errors(error) from error
        return self.detail_response(plan, status.HTTP_201_CREATED)

    def active_plan(self) -> FollowupPlan:
        plan: FollowupPlan = self.get_object()
        if plan.status != FollowupPlan.Status.ACTIVE:
            raise Conflict(_("This follow-up plan has ended."))
        return plan

    @extend_schema(
        summary="Pair more people with the child in the plan's role; they join the care team.",
        request=PlanPairInputSerializer,
        responses={200: FollowupPlanDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def pair(self, request: Request, pk: str | None = None) -> Response:
        plan = self.active_plan()
        serializer = PlanPairInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = PairForm(data=serializer.validated_data, plan=plan)
        validated_by(form)
        try:
            plan_set_partners(
                plan=plan, partners=list(form.cleaned_data["partners"]), by=signed_in_user(request)
            )
        except DjangoValidationError as error:  # ended meanwhile
            raise Conflict(error.messages[0]) from error
        return self.detail_response(plan)

    @extend_schema(
        summary="End the plan, saying why; its follow-up visit still due is cancelled.",
        request=PlanEndInputSerializer,
        responses={200: FollowupPlanDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        plan = self.active_plan()
        serializer = PlanEndInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = EndPlanForm(data=serializer.validated_data)
        validated_by(form)
        user = signed_in_user(request)
        ended = plan_end(plan=plan, by=user, reason=form.cleaned_data["reason"])
        if ended.ended_by_id != user.pk:  # someone else ended it meanwhile
            raise Conflict(_("This follow-up plan has ended."))
        return self.detail_response(ended)
