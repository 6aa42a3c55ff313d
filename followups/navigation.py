"""Visits and activities in the menu and on the home page (registered in FollowupsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.navigation import (
    HomePanel,
    MenuEntry,
    has_perm,
    register_home_panels,
    register_menu_entries,
)
from followups.selectors import flagged_visits_to_review, visits_due


def _flagged_panel(user: Any) -> dict[str, Any] | None:
    visits = list(flagged_visits_to_review(user=user))
    return {"visits": visits} if visits else None


def _due_panel(user: Any) -> dict[str, Any] | None:
    if not user.has_perm("followups.add_visit"):
        return None
    children = list(visits_due(user=user))
    return {"children": children, "today": timezone.localdate()} if children else None


def register() -> None:
    register_menu_entries(
        MenuEntry(
            90,
            _("Activities"),
            "activities:activity_list",
            "easel",
            has_perm("followups.add_activity"),
        ),
    )
    register_home_panels(
        HomePanel(30, "followups/panels/flagged_visits.html", _flagged_panel, "flagged_visits"),
        HomePanel(40, "followups/panels/visits_due.html", _due_panel, "visits_due"),
    )
