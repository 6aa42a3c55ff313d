"""The data the dashboard's charts draw (the same numbers as its tables, which stay the reference
for screen readers and printing)."""

from __future__ import annotations

from typing import Any

from cases.models import RiskLevel


def chart_data(tables: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """One chart per indicator marked "bar" (its first column by region) or "stacked" (all its
    columns by region), for regions with lower regions."""
    charts = []
    for group in tables.values():
        for table in group:
            kind = table.indicator.chart
            if not kind or not table.rows:
                continue
            names = [row.name or table.total.code for row in table.rows]
            series: list[dict[str, Any]]
            if kind == "bar":
                series = [
                    {
                        "name": str(table.columns[0].label),
                        "data": [row.cells[0].value or 0 for row in table.rows],
                    }
                ]
            else:
                series = [
                    {
                        "name": str(column.label),
                        "data": [row.cells[i].value or 0 for row in table.rows],
                        "risk": level,
                    }
                    for i, (column, level) in enumerate(
                        zip(table.columns, RiskLevel.values, strict=False)
                    )
                ]
            charts.append(
                {
                    "id": f"chart-{table.indicator.key}",
                    "title": str(table.indicator.label),
                    "kind": kind,
                    "regions": names,
                    "series": series,
                }
            )
    return charts
