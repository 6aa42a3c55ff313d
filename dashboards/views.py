"""The home page (the signed-in user's work list, made of the panels the apps register) and the
supervisors' dashboards."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRefresh

from core.access_log import access_record
from core.db_routing import reads_from_replica
from core.lists import kept_reverse
from core.models import AccessEvent
from core.navigation import home_panels
from core.spreadsheets import Sheet, csv_bytes, spreadsheet_response, xlsx_bytes
from dashboards.charts import chart_data
from dashboards.indicators import GROUPS, breakdown_sections, task_tables
from dashboards.selectors import (
    DASHBOARD_PERMISSION,
    LEVEL_LENGTHS,
    PERIODS,
    Access,
    dashboard_access,
    dashboard_region,
    ordered_groups,
    tables_from,
)
from dashboards.snapshots import FIGURES_TEMPLATE, Snapshot, dashboard_snapshot, figures_key
from institutions.models import Region
from institutions.selectors import signed_in_user

# The element of the preparing page that polls for the figures.
PREPARING = "dashboard-preparing"


def opens_on_dashboard(user: Any) -> bool:
    """An agency supervisor, who works from figures and has no work list of their own, lands on
    the dashboard."""
    return (
        user.has_perm(DASHBOARD_PERMISSION)
        and not user.has_perm("followups.add_visit")
        and not user.has_perm("referrals.process_referral")
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What is due and waiting for this user, panel by panel (each shown only when it has
    something for them)."""
    user = signed_in_user(request)
    if opens_on_dashboard(user) and "work" not in request.GET:
        return redirect("dashboards:dashboard")
    panels = []
    for panel in home_panels():
        context = panel.context(user)
        if context is not None:
            panels.append((panel.template, context))
    return render(request, "dashboards/home.html", {"panels": panels})


def _dashboard_request(request: HttpRequest) -> tuple[Access, Region, int]:
    """The access, region and period a dashboard request asks for (404 outside the user's
    jurisdiction, or for a user without a dashboard)."""
    user = signed_in_user(request)
    access = dashboard_access(user)
    if not access.regions:
        raise Http404
    region = dashboard_region(access, request.GET.get("region"))
    try:
        months = int(request.GET.get("months") or 12)
    except ValueError:
        months = 12
    return access, region, months if months in PERIODS else 12


def _header(access: Access, region: Region, months: int) -> dict[str, Any]:
    """The region's trail (the regions above it in the user's jurisdiction) and the period
    picker: what both the dashboard and the page preparing it show."""
    prefixes = [region.code[:n] for n in LEVEL_LENGTHS if n < len(region.code)]
    trail = [
        r
        for r in Region.objects.filter(code__in=prefixes).order_by("code")
        if access.covers(r.code)
    ]
    return {
        "region": region,
        "trail": trail,
        "months": months,
        "periods": PERIODS,
        "export_query": urlencode({"region": region.code, "months": months}),
    }


def _polling(request: HttpRequest) -> bool:
    """The preparing page asking, through htmx, whether the figures are ready."""
    return bool(getattr(request, "htmx", False)) and request.headers.get("HX-Target") == PREPARING


def _figures(
    region: Region,
    months: int,
    snapshot: Snapshot,
    subregions: list[Region],
    groups: tuple[list[str], list[str]],
) -> SafeString:
    """Every group's tables, the trends and the charts' data of the region's snapshot, as HTML.

    They are the same for everyone who may see the region (in their language, with their
    agency's groups first): rendered once per snapshot and kept beside it, a supervisor's
    dashboard costs a read of the cache rather than rendering a few hundred table rows. The
    key names the snapshot (its time), the region's subregions as they are named now and the
    templates' text (with the language and the order of the groups), so none of them can
    change without a new key."""
    first, others = groups
    tasks = task_tables(snapshot.data["tasks"])
    names = [f"{sub.code}={sub.name}" for sub in subregions] + [
        f"{row['assignee_id']}={row['assignee__display_name']}|{row['assignee__username']}"
        for row in tasks["by_person"]
    ]
    cache_key = figures_key(region.code, months, snapshot, [*first, "|", *others], names)
    kept = cache.get(cache_key) if cache_key is not None else None
    if kept is not None:
        return mark_safe(kept)  # noqa: S308 (HTML this function rendered and kept)

    def drill_url(code: str) -> str:
        query = urlencode({"region": code, "months": months})
        return f"{kept_reverse('dashboards:dashboard')}?{query}"

    data = snapshot.data
    tables = tables_from(
        data["indicators"], region=region.code, subregions=subregions, drill_url=drill_url
    )
    parts = breakdown_sections(region.code, data["breakdown"])
    trend = data["trends"]
    html = render_to_string(
        FIGURES_TEMPLATE,
        {
            "region": region,
            "first_groups": [(key, GROUPS[key], tables.get(key, [])) for key in first],
            "other_groups": [(key, GROUPS[key], tables.get(key, [])) for key in others],
            "breakdown_sections": [
                (_("By category"), parts["category"]),
                (_("By sex"), parts["sex"]),
                (_("By age"), parts["age"]),
            ],
            "tasks": tasks,
            "trends": trend,
            "trend_rows": list(
                zip(
                    trend["months"],
                    trend["assessments"],
                    trend["visits"],
                    trend["referrals"],
                    strict=True,
                )
            ),
            "charts": chart_data(tables),
        },
    )
    if cache_key is not None:
        cache.set(cache_key, html, settings.DASHBOARD_FRESH_SECONDS)
    return mark_safe(html)  # noqa: S308 (rendered by the template engine, which escapes)


@login_required
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    """The indicators of a region (the user's jurisdiction, or a region inside it: the
    drill-down) for a period: the user's agency's groups first, every other group a tap away.
    A region outside the jurisdiction answers 404, as one that does not exist (checked before
    anything is looked up in the cache). The figures come from the region's snapshot; while a
    province's or a city's is being prepared, a page saying so polls until it is ready."""
    access, region, months = _dashboard_request(request)
    snapshot = dashboard_snapshot(region.code, months)
    if snapshot is None:
        template = (
            "dashboards/partials/preparing.html"
            if _polling(request)
            else "dashboards/preparing.html"
        )
        return render(request, template, _header(access, region, months))
    if _polling(request):
        return HttpResponseClientRefresh()  # ready: the whole page, with its charts
    subregions = list(Region.objects.filter(parent_id=region.code).order_by("code"))
    return render(
        request,
        "dashboards/dashboard.html",
        {
            **_header(access, region, months),
            "figures": _figures(region, months, snapshot, subregions, ordered_groups(access)),
            "as_of": snapshot.computed_at,
            "refreshing": snapshot.refreshing,
            "regions": access.regions,
        },
    )


@login_required
@reads_from_replica
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """Every indicator table of a region, as on the page (from the same snapshot), to XLSX (a
    sheet per group) or CSV (the tables one after another): headers in Chinese, aggregates only
    (no child's data), and the export recorded in the access log. While the figures are being
    prepared, the dashboard says so."""
    _access, region, months = _dashboard_request(request)
    fmt = request.GET.get("fmt", "xlsx")
    if fmt not in ("xlsx", "csv"):
        raise Http404
    snapshot = dashboard_snapshot(region.code, months)
    if snapshot is None:
        query = urlencode({"region": region.code, "months": months})
        return redirect(f"{reverse('dashboards:dashboard')}?{query}")
    subregions = list(Region.objects.filter(parent_id=region.code).order_by("code"))
    tables = tables_from(
        snapshot.data["indicators"],
        region=region.code,
        subregions=subregions,
        drill_url=lambda code: "",
    )
    with translation.override(settings.LANGUAGE_CODE):
        sheets = [
            Sheet(
                title=str(GROUPS[group]),
                header=[_("Indicator"), _("Region code"), _("Region"), _("Figure"), _("Value")],
                rows=[
                    [
                        str(table.indicator.label),
                        row.code,
                        row.name or region.name,
                        str(column.label),
                        cell.value,
                    ]
                    for table in group_tables
                    for row in [*table.rows, table.total]
                    for column, cell in zip(table.columns, row.cells, strict=True)
                ],
                widths=(30, 14, 18, 18, 10),
                text_columns=(1,),
                freeze_header=True,
            )
            for group, group_tables in tables.items()
        ]
    if fmt == "xlsx":
        content = xlsx_bytes(sheets)
    else:
        content = csv_bytes([sheets[0].header, *(r for sheet in sheets for r in sheet.rows)])
    access_record(
        user=signed_in_user(request),
        action=AccessEvent.Action.EXPORT,
        request=request,
        detail={"dashboard": region.code, "months": months, "format": fmt},
    )
    return spreadsheet_response(
        content, filename=f"dashboard-{region.code}-{snapshot.today:%Y%m%d}.{fmt}"
    )
