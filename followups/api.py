"""Visits, activities, follow-up plans, tasks and notifications in the JSON API.

The resources live in followups/api_visits.py, api_activities.py, api_plans.py and api_tasks.py;
the caller's own notifications are here, with the routes of all.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.inputs import whole_number
from core.models import Notification
from core.notifications import notifications_mark_read
from followups.api_activities import ActivityViewSet
from followups.api_filters import NotificationFilter
from followups.api_plans import FollowupPlanViewSet
from followups.api_tasks import TaskViewSet
from followups.api_visits import VisitViewSet
from followups.notifications import render_all
from institutions.api import IsVerifiedStaff, ScopedAPIMixin
from institutions.models import User
from institutions.selectors import signed_in_user


def notifications_of(user: User | AnonymousUser) -> QuerySet[Notification]:
    """The user's own notifications: nobody reads another's."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk).select_related("child")


class NotificationSerializer(serializers.ModelSerializer):
    """A notification in the request's language, naming the child as the reader may see them
    (masked for a child they no longer reach)."""

    message = serializers.SerializerMethodField()
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "link", "child", "created_at", "read", "read_at"]
        read_only_fields = fields

    def get_message(self, obj: Notification) -> str:
        messages: dict[int, str] = self.context.get("messages", {})
        if obj.pk not in messages:
            user = self.context["request"].user
            messages.update({obj.pk: render_all([obj], reader=user)[0]})
        return messages[obj.pk]

    def get_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationsReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread.")


@extend_schema(tags=["notifications"])
@extend_schema_view(
    list=extend_schema(summary="The caller's notifications, newest first."),
    retrieve=extend_schema(summary="One of the caller's notifications."),
)
class NotificationViewSet(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's own notifications; another user's answers 404. Signing in is all it takes
    (as the page): they are the caller's own."""

    scope_selector = notifications_of
    permission_classes = [IsVerifiedStaff]
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        return super().get_queryset()

    def get_object(self) -> Notification:
        """The caller's notification by id: their own rows are the whole scope (a notification
        holds no child's file, so the read is not logged)."""
        fetched: Notification | None = getattr(self, "_fetched", None)
        if fetched is not None:
            return fetched
        number = whole_number(str(self.kwargs.get("pk", "")))
        found = self.get_queryset().filter(pk=number).first() if number is not None else None
        if found is None:
            raise exceptions.NotFound()
        self._fetched = found
        return found

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        # One query for the whole page: which of the children named the reader still reaches.
        texts = render_all(rows, reader=signed_in_user(request))
        context = {
            **self.get_serializer_context(),
            "messages": {n.pk: t for n, t in zip(rows, texts, strict=True)},
        }
        data = NotificationSerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(
        summary="Mark one notification read.", request=None, responses={200: NotificationSerializer}
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        notifications_mark_read(user=signed_in_user(request), ids=[notification.pk])
        notification.refresh_from_db(fields=["read_at"])
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        summary="Mark all the caller's notifications read.",
        request=None,
        responses={200: NotificationsReadAllSerializer},
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        marked = notifications_mark_read(user=signed_in_user(request))
        return Response(NotificationsReadAllSerializer({"marked": marked}).data)


ROUTES: list[tuple[str, Any, str]] = [
    ("visits", VisitViewSet, "visit"),
    ("activities", ActivityViewSet, "activity"),
    ("followup-plans", FollowupPlanViewSet, "followup-plan"),
    ("tasks", TaskViewSet, "task"),
    ("notifications", NotificationViewSet, "notification"),
]
