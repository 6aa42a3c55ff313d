"""Tasks in the JSON API: the work list. A task is never ticked off: it is closed by the record
it asks for (a visit, an assessment, a review), so the work list is read-only here as on its
page."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import RiskLevel
from followups.api_filters import TaskFilter
from followups.models import Task
from followups.selectors import SUPERVISE_TASKS, my_tasks, tasks_visible_to, team_overdue
from institutions.api import LoggedChildListMixin, ScopedAPIMixin
from institutions.masking import FieldKind, MaskedField
from institutions.selectors import signed_in_user


class TaskSerializer(serializers.ModelSerializer):
    """A task as the work list shows it: the child (name as the reader may see it), its risk,
    what is due and when. It is closed by the record it asks for: a visit (home_visit,
    followup_visit: POST /api/v1/visits/ with that kind), an assessment (reassessment), the
    care plan's review, the referral's answer, the alert's review."""

    child_record_number = serializers.CharField(source="child.record_number")
    child_name = MaskedField(FieldKind.NAME, source="child.name")
    risk_level = serializers.ChoiceField(
        source="child.risk_level",
        choices=RiskLevel.choices,
        help_text="The child's current risk level.",
    )
    is_overdue = serializers.SerializerMethodField()
    assignee_name = serializers.SerializerMethodField()
    escalated_to_name = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "child",
            "child_record_number",
            "child_name",
            "risk_level",
            "kind",
            "due_on",
            "is_overdue",
            "status",
            "assignee",
            "assignee_name",
            "escalated_to",
            "escalated_to_name",
            "escalated_at",
            "source_id",
            "created_at",
            "closed_at",
            "closed_by_record",
        ]
        read_only_fields = fields

    def get_is_overdue(self, obj: Task) -> bool:
        return obj.status in Task.PENDING and obj.due_on < timezone.localdate()

    def get_assignee_name(self, obj: Task) -> str | None:
        return str(obj.assignee) if obj.assignee_id else None

    def get_escalated_to_name(self, obj: Task) -> str | None:
        return str(obj.escalated_to) if obj.escalated_to_id else None


@extend_schema(tags=["tasks"])
@extend_schema_view(
    list=extend_schema(
        summary="The caller's work list: their tasks still to do, soonest due first; or "
        "(scope=team, supervisors) their team's overdue and escalated tasks."
    ),
    retrieve=extend_schema(summary="One task about a child the caller may see."),
)
class TaskViewSet(ScopedAPIMixin, LoggedChildListMixin, viewsets.ReadOnlyModelViewSet):
    """Tasks; one about a child out of scope answers 404. Read only: a task is done by saving
    the record it asks for."""

    scope_selector = tasks_visible_to
    fetch_model = Task
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    cursor_ordering = ("due_on", "id")
    list_log_detail = {"tasks": True}

    def get_queryset(self) -> QuerySet[Task]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Task.objects.none()
        user = signed_in_user(self.request)
        if self.request.query_params.get("scope") == "team":
            # The team page's rows; not found for anyone who does not supervise (as the page).
            if not user.has_perm(SUPERVISE_TASKS):
                raise Http404
            return team_overdue(user).select_related("child", "assignee", "escalated_to")
        return my_tasks(user).select_related("assignee", "escalated_to")

    def get_fetch_queryset(self) -> QuerySet[Task]:
        return Task.objects.select_related("child", "assignee", "escalated_to")

    log_key = "task"

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)
