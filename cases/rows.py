"""The child list's rows, written as markup in Python (`{{ row }}` in the template).

A province supervisor's list page writes 25 of them on every request; as a template each row was
two dozen variable lookups, an included badge and a URL reverse, about a tenth of the page's
time. The markup is the template's, unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from cases.models import Child
from core.lists import choice_label, url_for_each


def risk_badge(level: int, label: str) -> SafeString:
    return format_html('<span class="badge risk-{}">{}</span>', level, label)


@dataclass(frozen=True)
class ChildRow:
    """One child of the list; the template writes `{{ row }}`, safe markup."""

    child: Child
    url: str

    def __str__(self) -> str:
        child = self.child
        status = "" if child.status == "active" else f" · {choice_label(child, 'status')}"
        needs_plan = (
            format_html(
                '<div class="small text-danger" data-testid="needs-plan">{}</div>',
                _("No care plan"),
            )
            if child.risk_level >= 3 and not child.has_active_plan  # type: ignore[attr-defined]
            else ""
        )
        region = child.residence_region.name if child.residence_region is not None else ""
        school = (child.school.name if child.school is not None else "") or "—"
        born = child.birth_date.isoformat() if child.birth_date else ""  # Y-m-d
        return format_html(
            '<tr data-region="{}"><td><a href="{}">{}</a>'
            '<div class="small text-secondary">{} · {}{}</div></td>'
            "<td>{}{}</td>"
            '<td class="d-none d-sm-table-cell">{}</td>'
            '<td class="d-none d-md-table-cell">{}</td>'
            '<td class="d-none d-md-table-cell">{}</td></tr>',
            child.residence_region_id or "",
            self.url,
            child.name,
            child.record_number,
            choice_label(child, "sex"),
            status,
            risk_badge(child.risk_level, choice_label(child, "risk_level")),
            needs_plan,
            born,
            region,
            school,
        )


def child_rows(children: Iterable[Child]) -> list[ChildRow]:
    url: Callable[[int], str] = url_for_each("cases:child_detail")
    return [ChildRow(child, url(child.pk)) for child in children]
