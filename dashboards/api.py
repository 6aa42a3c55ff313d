"""The dashboards' indicators in the JSON API: the figures the dashboard page shows, for the
caller's jurisdiction or a region inside it (the drill-down), from the same snapshot and the same
tables (dashboards/snapshots.py, dashboards/selectors.py): aggregates only, no child's data.

- `GET /api/v1/dashboards/`: the regions the caller's dashboard covers and the order of the
  groups for their agency; 404 for a user without a dashboard (as the page).
- `GET /api/v1/dashboards/{region}/?months=12`: one region's indicators, breakdown, trends and
  tasks. A region outside the caller's jurisdiction answers 404, as one that does not exist,
  checked before anything is looked up. While a province's or a city's figures are being
  prepared, 202 with `Retry-After` (the page shows "being prepared" and polls).

The dashboard page suppresses no small numbers and masks no figure (it shows counts of children
and links to the children behind them, which the children list then scopes); the API shows the
same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Category, Child
from core.db_routing import replica_reads
from dashboards.indicators import AGE_BANDS, GROUPS, breakdown_sections, task_tables
from dashboards.selectors import (
    LEVEL_LENGTHS,
    PERIODS,
    Access,
    Table,
    dashboard_access,
    dashboard_region,
    ordered_groups,
    tables_from,
)
from dashboards.snapshots import dashboard_snapshot
from institutions.models import Region
from institutions.selectors import signed_in_user

# How long a client waits before asking again for figures being prepared (seconds).
RETRY_AFTER = 5


# --- Output ------------------------------------------------------------------------------------


@extend_schema_field({"type": "number", "nullable": True})
class FigureField(serializers.Field):
    """A figure as computed: a whole number, a decimal (medians, averages, hours), or null
    where there is nothing to compute it from."""

    def to_representation(self, value: Any) -> Any:
        return value


class DashboardRegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DashboardGroupNameSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a key; stubs type Field.label


class DashboardIndexSerializer(serializers.Serializer):
    regions = DashboardRegionSerializer(many=True, help_text="The regions the dashboard covers.")
    groups = DashboardGroupNameSerializer(
        many=True, help_text="The groups of indicators, the caller's agency's first."
    )
    first_groups = serializers.ListField(
        child=serializers.CharField(), help_text="The groups the caller's page opens with."
    )
    periods = serializers.ListField(
        child=serializers.IntegerField(), help_text="The periods (months) one may ask for."
    )


class DashboardColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a key; stubs type Field.label
    unit = serializers.CharField(help_text='"days", "hours", "per month", or empty.')
    share_of = serializers.CharField(
        allow_null=True, help_text="The column this figure is a share of, if any."
    )
    counts_children = serializers.BooleanField(
        help_text="Whether the figure counts children (each count then lists them)."
    )


class DashboardCellSerializer(serializers.Serializer):
    column = serializers.CharField()
    value = FigureField()
    share = serializers.FloatField(allow_null=True, help_text="Per cent of `share_of`.")
    children_url = serializers.CharField(
        allow_null=True, help_text="The children behind a count of children (the API's list)."
    )


class DashboardRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text="Empty for the children registered at the region.")
    direct = serializers.BooleanField(
        help_text="The children registered at the region itself, not in a lower region."
    )
    dashboard_url = serializers.CharField(
        allow_null=True, help_text="This lower region's dashboard (the drill-down)."
    )
    cells = DashboardCellSerializer(many=True)


class DashboardIndicatorSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a key; stubs type Field.label
    definition = serializers.CharField()
    chart = serializers.CharField(help_text='"bar", "stacked", or empty.')
    additive = serializers.BooleanField(help_text="Whether the rows add up to the total.")
    columns = DashboardColumnSerializer(many=True)
    rows = DashboardRowSerializer(many=True, help_text="By lower region.")
    total = DashboardRowSerializer(help_text="The region as a whole.")


class DashboardGroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a key; stubs type Field.label
    first = serializers.BooleanField(help_text="Shown first for the caller's agency.")
    indicators = DashboardIndicatorSerializer(many=True)


class DashboardBreakdownItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a key; stubs type Field.label
    count = serializers.IntegerField()
    children_url = serializers.CharField()


class DashboardBreakdownSerializer(serializers.Serializer):
    category = DashboardBreakdownItemSerializer(many=True)
    sex = DashboardBreakdownItemSerializer(many=True)
    age = DashboardBreakdownItemSerializer(many=True)


class DashboardTrendsSerializer(serializers.Serializer):
    months = serializers.ListField(child=serializers.CharField(), help_text="YYYY-MM.")
    assessments = serializers.ListField(child=serializers.IntegerField())
    visits = serializers.ListField(child=serializers.IntegerField())
    referrals = serializers.ListField(child=serializers.IntegerField())


class DashboardTaskKindSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a key; stubs type Field.label
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()


class DashboardTaskPersonSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(allow_null=True, help_text="Null: nobody holds them yet.")
    name = serializers.CharField(allow_null=True)
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()


class DashboardTasksSerializer(serializers.Serializer):
    by_kind = DashboardTaskKindSerializer(many=True)
    by_person = DashboardTaskPersonSerializer(many=True, help_text="The 20 with most overdue.")


class DashboardSerializer(serializers.Serializer):
    region = DashboardRegionSerializer()
    trail = DashboardRegionSerializer(
        many=True, help_text="The regions above it in the jurisdiction."
    )
    months = serializers.IntegerField()
    as_of = serializers.DateTimeField(help_text="When the figures were computed.")
    refreshing = serializers.BooleanField(help_text="Newer figures are being prepared.")
    groups = DashboardGroupSerializer(many=True)
    breakdown = DashboardBreakdownSerializer(help_text="The region's active children.")
    trends = DashboardTrendsSerializer(help_text="The last 12 months.")
    tasks = DashboardTasksSerializer()


class DashboardPreparingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[("preparing", "preparing")])
    region = DashboardRegionSerializer()
    months = serializers.IntegerField()


class DashboardQuerySerializer(serializers.Serializer):
    months = serializers.ChoiceField(
        choices=[(n, str(n)) for n in PERIODS], default=12, help_text="The period, in months."
    )


# --- Building the figures ----------------------------------------------------------------------


def _children_url(page_link: str) -> str | None:
    """The children list behind a figure, in the API: the page's filters apply alike."""
    if not page_link or "?" not in page_link:
        return None
    return f"{reverse('api:child-list')}?{page_link.split('?', 1)[1]}"


def _row(row: Any, region: str) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "direct": row.code == region,
        "dashboard_url": row.drill or None,
        "cells": [],
    }


def _indicator(table: Table, region: str) -> dict[str, Any]:
    def cells(row: Any) -> list[dict[str, Any]]:
        return [
            {
                "column": column.key,
                "value": cell.value,
                "share": cell.share,
                "children_url": _children_url(cell.link),
            }
            for column, cell in zip(table.columns, row.cells, strict=True)
        ]

    indicator = table.indicator
    return {
        "key": indicator.key,
        "label": str(indicator.label),
        "definition": str(indicator.definition),
        "chart": indicator.chart,
        "additive": indicator.additive,
        "columns": [
            {
                "key": column.key,
                "label": str(column.label),
                "unit": column.unit,
                "share_of": column.share_of,
                "counts_children": column.children is not None,
            }
            for column in table.columns
        ],
        "rows": [{**_row(row, region), "cells": cells(row)} for row in table.rows],
        "total": {**_row(table.total, region), "direct": False, "cells": cells(table.total)},
    }


def _breakdown(region: str, counts: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    parts = breakdown_sections(region, counts)
    keys = {
        "category": [code for code, _label in Category.choices],
        "sex": [code for code, _label in Child.Sex.choices],
        "age": [band for band, _low, _high in AGE_BANDS],
    }
    return {
        part: [
            {"key": key, "label": str(label), "count": count, "children_url": _children_url(link)}
            for key, (label, count, link) in zip(keys[part], items, strict=True)
        ]
        for part, items in parts.items()
    }


def _tasks(counts: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    shown = task_tables(counts)
    return {
        "by_kind": [
            {"kind": raw["kind"], "label": str(row["kind"]), **_open_overdue(row)}
            for raw, row in zip(counts["by_kind"], shown["by_kind"], strict=True)
        ],
        "by_person": [
            {
                "assignee": row["assignee_id"],
                "name": (row["assignee__display_name"] or row["assignee__username"] or None)
                if row["assignee_id"] is not None
                else None,
                **_open_overdue(row),
            }
            for row in shown["by_person"]
        ],
    }


def _open_overdue(row: dict[str, Any]) -> dict[str, int]:
    return {"open": row["open"], "overdue": row["overdue"]}


def _trail(access: Access, region: Region) -> list[Region]:
    """The regions above `region` that the jurisdiction covers, as the page's header."""
    prefixes = [region.code[:n] for n in LEVEL_LENGTHS if n < len(region.code)]
    return [
        r
        for r in Region.objects.filter(code__in=prefixes).order_by("code")
        if access.covers(r.code)
    ]


def _drill(months: int) -> Callable[[str], str]:
    def url(code: str) -> str:
        path = reverse("api:dashboards_region", kwargs={"region": code})
        return f"{path}?{urlencode({'months': months})}"

    return url


def _access(request: Request) -> Access:
    """The caller's dashboard (404 for a user without one, as the page)."""
    access = dashboard_access(signed_in_user(request))
    if not access.regions:
        raise Http404
    return access


class ReplicaReadsMixin:
    """The dashboards read from the replica when one is configured (as the pages)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with replica_reads(request):
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class DashboardIndexView(ReplicaReadsMixin, APIView):
    """The caller's jurisdiction and the order of the groups for their agency."""

    @extend_schema(
        tags=["dashboards"],
        operation_id="dashboards_index",
        summary="The regions the caller's dashboard covers.",
        responses={200: DashboardIndexSerializer},
    )
    def get(self, request: Request) -> Response:
        access = _access(request)
        names = dict(Region.objects.filter(code__in=access.regions).values_list("code", "name"))
        first, others = ordered_groups(access)
        data = {
            "regions": [
                {"code": code, "name": names[code]} for code in access.regions if code in names
            ],
            "groups": [{"key": key, "label": str(GROUPS[key])} for key in [*first, *others]],
            "first_groups": first,
            "periods": list(PERIODS),
        }
        return Response(DashboardIndexSerializer(data).data)


class DashboardRegionView(ReplicaReadsMixin, APIView):
    """The figures of a region in the caller's jurisdiction, from its snapshot."""

    @extend_schema(
        tags=["dashboards"],
        operation_id="dashboards_region",
        summary="One region's indicators for a period, as the dashboard page shows them.",
        parameters=[
            OpenApiParameter(
                "region",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="A region code inside the caller's jurisdiction (404 otherwise).",
            ),
            DashboardQuerySerializer,
        ],
        responses={
            200: DashboardSerializer,
            202: OpenApiResponse(
                DashboardPreparingSerializer,
                description="The figures are being prepared: ask again after Retry-After seconds.",
            ),
        },
    )
    def get(self, request: Request, region: str) -> Response:
        access = _access(request)
        place = dashboard_region(access, region)  # 404 outside the jurisdiction
        query = DashboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        months: int = query.validated_data["months"]
        snapshot = dashboard_snapshot(place.code, months)
        where = {"code": place.code, "name": place.name}
        if snapshot is None:
            preparing = DashboardPreparingSerializer(
                {"status": "preparing", "region": where, "months": months}
            )
            return Response(
                preparing.data,
                status=status.HTTP_202_ACCEPTED,
                headers={"Retry-After": str(RETRY_AFTER)},
            )
        data = snapshot.data
        subregions = list(Region.objects.filter(parent_id=place.code).order_by("code"))
        tables = tables_from(
            data["indicators"], region=place.code, subregions=subregions, drill_url=_drill(months)
        )
        first, others = ordered_groups(access)
        groups = [
            {
                "key": key,
                "label": str(GROUPS[key]),
                "first": key in first,
                "indicators": [_indicator(table, place.code) for table in tables.get(key, [])],
            }
            for key in [*first, *others]
        ]
        body = DashboardSerializer(
            {
                "region": where,
                "trail": [{"code": r.code, "name": r.name} for r in _trail(access, place)],
                "months": months,
                "as_of": snapshot.computed_at,
                "refreshing": snapshot.refreshing,
                "groups": groups,
                "breakdown": _breakdown(place.code, data["breakdown"]),
                "trends": data["trends"],
                "tasks": _tasks(data["tasks"]),
            }
        )
        return Response(body.data)


ROUTES: list[tuple[str, Any, str]] = []
PATHS: list[tuple[str, Any, str]] = [
    ("", DashboardIndexView.as_view(), "index"),
    ("<str:region>/", DashboardRegionView.as_view(), "region"),
]
