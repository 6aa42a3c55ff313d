"""`{% indicator_row row region %}`: one row of an indicator's table, written in Python.

A county's dashboard shows some 20 tables of a row per township, and a township's a row per
village: as template loops, the rows were half of the page's time. The markup is the
template's: the region (a link to its own dashboard, or "directly in" the region for the
children registered at the region itself) and the row's figures (`Cell`, already markup).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from dashboards.selectors import Row

register = template.Library()


@register.simple_tag
def indicator_row(row: Row, region: Any) -> SafeString:
    if row.drill:
        head = format_html(
            '<a href="{}" data-testid="drill-{}">{}</a>', row.drill, row.code, row.name
        )
    else:
        head = format_html(
            '<span class="text-secondary">{}</span>',
            _("Directly in %(name)s") % {"name": region.name},
        )
    cells = mark_safe("".join(str(cell) for cell in row.cells))  # noqa: S308 (Cell is markup)
    return format_html(
        '<tr data-region="{}">\n        <th scope="row" class="fw-normal">{}</th>\n        {}</tr>',
        row.code,
        head,
        cells,
    )
