"""Children in the JSON API, through the same selector as the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from cases.filters import ChildFilter
from cases.models import Category, Child, RiskLevel
from cases.selectors.children import child_list
from cases.selectors.scope import children_visible_to
from core.access_log import access_record_many
from core.models import AccessEvent
from institutions.api import ScopedAPIMixin
from institutions.masking import FieldKind, MaskedField
from institutions.selectors import signed_in_user


class ChildSummarySerializer(serializers.ModelSerializer):
    """The columns of a child in a list or a minimal file."""

    residence_region = serializers.CharField(source="residence_region_id")
    household_region = serializers.CharField(source="household_region_id")
    name = MaskedField(FieldKind.NAME)
    residence_region_name = serializers.CharField(source="residence_region.name")
    school = serializers.CharField(source="school.name", default=None)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices))

    class Meta:
        model = Child
        fields = [
            "id",
            "record_number",
            "name",
            "sex",
            "birth_date",
            "residence_region",
            "residence_region_name",
            "household_region",
            "school",
            "grade",
            "class_name",
            "categories",
            "risk_level",
            "status",
            "version",
        ]
        read_only_fields = fields


@extend_schema(tags=["children"])
class ChildViewSet(ScopedAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Children visible to the caller; a child out of scope answers 404."""

    scope_selector = children_visible_to
    fetch_model = Child
    action_permissions = {"list": "cases.view_child", "retrieve": "cases.view_child"}
    serializer_class = ChildSummarySerializer
    filterset_class = ChildFilter

    def get_queryset(self) -> QuerySet[Child]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Child.objects.none()
        if self.action == "list":
            return child_list(user=signed_in_user(self.request))
        return super().get_queryset()

    def get_fetch_queryset(self) -> QuerySet[Child]:
        return Child.objects.select_related("residence_region", "school")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        access_record_many(
            user=signed_in_user(request),
            action=AccessEvent.Action.LIST,
            child_ids=[child.pk for child in rows],
            request=request._request,
            detail={"api": True},
        )
        data = self.get_serializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)


ROUTES = [("children", ChildViewSet, "child")]
