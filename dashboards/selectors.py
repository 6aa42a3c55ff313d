"""The dashboard as a supervisor sees it: which regions they may look at, and every indicator for
one region and period with its drill-down rows, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from assessments.models import Assessment
from dashboards.indicators import (
    AGENCY_GROUPS,
    GROUPS,
    Column,
    Context,
    Indicator,
    children_link,
    in_region,
    indicators,
)
from followups.models import Visit
from institutions.models import LEVEL_LENGTHS, Membership, Region, User
from institutions.roles import Role
from referrals.models import Referral

# Who has a dashboard: the supervisors, of an agency or of child directors, over their
# jurisdiction.
DASHBOARD_ROLES = (Role.AGENCY_SUPERVISOR, Role.CHILD_SUPERVISOR)
DASHBOARD_PERMISSION = "institutions.view_dashboard"
PERIODS = (1, 3, 6, 12)


@dataclass(frozen=True)
class Access:
    """The regions a user's dashboard covers and the agency kinds whose view they get first."""

    regions: tuple[str, ...]
    agencies: tuple[str, ...]

    def covers(self, code: str) -> bool:
        return any(code.startswith(region) for region in self.regions)


def dashboard_access(user: User) -> Access:
    """One query: the jurisdictions of the user's supervisor memberships (none without the
    dashboard permission)."""
    if not user.has_perm(DASHBOARD_PERMISSION):
        return Access((), ())
    rows = Membership.objects.filter(
        user=user, is_active=True, role__in=DASHBOARD_ROLES
    ).values_list("jurisdiction", "agency__kind")
    regions: list[str] = []
    agencies: list[str] = []
    for jurisdiction, kind in rows:
        regions += [code for code in jurisdiction if code not in regions]
        if kind and kind not in agencies:
            agencies.append(kind)
    return Access(tuple(regions), tuple(agencies))


def dashboard_region(access: Access, code: str | None) -> Region:
    """The region asked for, which must lie in the user's jurisdiction (404 otherwise: a region
    outside it is as unknown as one that does not exist); by default the first jurisdiction."""
    code = (code or "").strip() or (access.regions[0] if access.regions else "")
    if not code or not access.covers(code):
        raise Http404
    region = Region.objects.filter(pk=code).select_related("parent").first()
    if region is None:
        raise Http404
    return region


def sub_length(code: str) -> int | None:
    """The length of the codes one level below `code` (None for a village)."""
    index = LEVEL_LENGTHS.index(len(code))
    return LEVEL_LENGTHS[index + 1] if index + 1 < len(LEVEL_LENGTHS) else None


@dataclass
class Cell:
    """One figure of a table; rendered by its own markup (`{{ cell }}`), not a template each:
    a county of a province shows some 700 of them."""

    value: Any
    link: str = ""
    share: float | None = None  # a share of another column, in per cent
    column: int = 0  # its column's position in the table (the charts read it)

    def __str__(self) -> str:  # the template writes str(cell): safe markup
        if self.value is None:
            shown = mark_safe('<span class="text-secondary">–</span>')  # a constant
        elif self.link:
            shown = format_html(
                '<a href="{}" class="figure-link">{}</a>', self.link, localize(self.value)
            )
        else:
            shown = conditional_escape(localize(self.value))
        share = (
            format_html(' <span class="text-secondary">({}%)</span>', localize(self.share))
            if self.share is not None
            else ""
        )
        return format_html(
            '<td class="text-end" data-column="{}">{}{}</td>', self.column, shown, share
        )


@dataclass
class Row:
    code: str
    name: str
    cells: list[Cell]
    drill: str = ""  # the dashboard of this row's region


@dataclass
class Table:
    indicator: Indicator
    columns: tuple[Column, ...]
    rows: list[Row]
    total: Row


def _cells(indicator: Indicator, code: str, values: dict[str, Any] | None) -> list[Cell]:
    values = values or {}
    cells = []
    for position, column in enumerate(indicator.columns):
        value = values.get(column.key)
        if value is None and indicator.additive:
            value = 0
        share = None
        if column.share_of:
            whole = values.get(column.share_of) or 0
            share = round(100 * (value or 0) / whole, 1) if whole else None
        link = children_link(code, column.children) if column.children is not None else ""
        cells.append(Cell(value, link if value else "", share, position))
    return cells


def summed_total(indicator: Indicator, by_row: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The region's figures of an additive indicator from its rows (every lower region's and
    the one of the children registered at the region itself): the sum of each column. Sums of
    fractional figures (hours, kept to one decimal) are added as decimals, so that the total is
    the figure the database would have summed, not a float's rounding of it."""
    total: dict[str, Any] = {}
    for column in indicator.columns:
        values = [row.get(column.key) for row in by_row.values()]
        values = [value for value in values if value is not None]
        if any(isinstance(value, float) for value in values):
            total[column.key] = float(sum(Decimal(repr(value)) for value in values))
        else:
            total[column.key] = sum(values)
    return total


def indicator_figures(ctx: Context) -> dict[str, dict[str, Any]]:
    """Every indicator's figures for the region, as plain numbers: {indicator key: {"rows":
    {lower region code: {column: value}}, "total": {column: value}}}. One query for an
    additive indicator (its total is the sum of its rows), two for the others (medians,
    averages, people counted once across regions), one for a village (no lower regions)."""
    n = sub_length(ctx.region)
    figures: dict[str, dict[str, Any]] = {}
    for indicator in indicators():
        if n is None:
            by_row: dict[str, dict[str, Any]] = {}
            total = indicator.compute(ctx, None).get("", {})
        else:
            by_row = indicator.compute(ctx, n)
            if indicator.additive:
                total = summed_total(indicator, by_row)
            else:
                total = indicator.compute(ctx, None).get("", {})
        figures[indicator.key] = {"rows": by_row, "total": total}
    return figures


def tables_from(
    figures: dict[str, dict[str, Any]],
    *,
    region: str,
    subregions: list[Region],
    drill_url: Any,
) -> dict[str, list[Table]]:
    """The indicator tables of a region, by group, from its figures (`indicator_figures`, or a
    snapshot of them): no query."""
    names = {sub.code: sub.name for sub in subregions}
    tables: dict[str, list[Table]] = {}
    for indicator in indicators():
        figure = figures.get(indicator.key) or {"rows": {}, "total": {}}
        by_row = figure["rows"]
        rows = [
            Row(code, names[code], _cells(indicator, code, by_row.get(code)), drill_url(code))
            for code in names
        ]
        if region in by_row:  # children registered at the region itself
            rows.append(Row(region, "", _cells(indicator, region, by_row[region])))
        tables.setdefault(indicator.group, []).append(
            Table(
                indicator,
                indicator.columns,
                rows,
                Row(region, "", _cells(indicator, region, figure["total"])),
            )
        )
    return tables


def dashboard_tables(
    ctx: Context, *, subregions: list[Region], drill_url: Any
) -> dict[str, list[Table]]:
    """Every indicator for the region, by group, computed now (see `indicator_figures`)."""
    return tables_from(
        indicator_figures(ctx), region=ctx.region, subregions=subregions, drill_url=drill_url
    )


def ordered_groups(access: Access) -> tuple[list[str], list[str]]:
    """The user's agencies' groups first (in their order), then the others."""
    first: list[str] = []
    for kind in access.agencies:
        first += [g for g in AGENCY_GROUPS.get(kind, ()) if g not in first]
    if not first:  # a child supervisor: the children, risk and visits first
        first = ["children", "risk", "visits"]
    return first, [g for g in GROUPS if g not in first]


def trends(ctx: Context) -> dict[str, Any]:
    """The last 12 months: results, home visits and referrals sent in the region, by month
    (three queries)."""
    # The first of the month eleven months ago: this month and the eleven before it.
    back = ctx.today.year * 12 + ctx.today.month - 1 - 11
    start = date(back // 12, back % 12 + 1, 1)
    months = []
    day = start
    while day <= ctx.today:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)

    def monthly(qs: QuerySet[Any], field: str) -> list[int]:
        counts = {
            row["m"].date() if hasattr(row["m"], "date") else row["m"]: row["c"]
            for row in qs.annotate(m=TruncMonth(field)).values("m").annotate(c=Count("pk"))
        }
        return [counts.get(month, 0) for month in months]

    return {
        "months": [month.strftime("%Y-%m") for month in months],
        "assessments": monthly(
            Assessment.objects.filter(
                in_region("child__residence_region_id", ctx), administered_on__gte=start
            ).order_by(),
            "administered_on",
        ),
        "visits": monthly(
            Visit.objects.filter(
                in_region("child__residence_region_id", ctx), visited_on__gte=start
            ).order_by(),
            "visited_on",
        ),
        "referrals": monthly(
            Referral.objects.filter(
                in_region("child__residence_region_id", ctx), sent_at__date__gte=start
            ).order_by(),
            "sent_at",
        ),
    }


def context_for(region: Region, months: int) -> Context:
    return Context(region=region.code, months=months, today=timezone.localdate())
