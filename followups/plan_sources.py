"""What a follow-up plan made by hand may start from: a record of a higher floor (a referral's
discharge, `?referral=<id>` on the new-plan page) that pre-fills the plan and is stored as its
origin. The app that owns the record registers a finder in its `AppConfig.ready()`; followups
never imports it (DESIGN.md §3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cases.models import Child


@dataclass(frozen=True)
class PlanSource:
    """The values a plan starts from, and the record it is made from (`plan_create(referral=)`)."""

    record: Any
    partner_role: str
    interval_days: int
    weeks: int
    goal: str


# finder(child, id as typed in the address) -> the source, or None when the id names no
# record of this child that a plan can start from.
Finder = Callable[[Child, str], "PlanSource | None"]

_FINDERS: dict[str, Finder] = {}


def register_plan_source(param: str, finder: Finder) -> None:
    """`param` is the name of the query parameter that carries the record's id."""
    _FINDERS[param] = finder


def plan_source(child: Child, query: Any) -> PlanSource | None:
    """The source named in the page's query string (a QueryDict), if any and valid."""
    for param, finder in _FINDERS.items():
        value = (query.get(param) or "").strip()
        if value:
            return finder(child, value)
    return None
