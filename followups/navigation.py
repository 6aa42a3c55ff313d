"""Visits, tasks and activities in the menu and on the home page (registered in
FollowupsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.access_log import access_record_many
from core.models import AccessEvent
from core.navigation import (
    HomePanel,
    MenuEntry,
    has_perm,
    register_home_panels,
    register_menu_entries,
)
from followups.selectors import (
    HOME_TASKS,
    SUPERVISE_TASKS,
    flagged_visits_to_review,
    my_tasks_first,
    team_overdue_by_person,
)


def _flagged_panel(user: Any) -> dict[str, Any] | None:
    visits = list(flagged_visits_to_review(user=user))
    return {"visits": visits} if visits else None


def _tasks_panel(user: Any) -> dict[str, Any] | None:
    """The first page of the user's tasks with how many there are (one query); an empty list
    says "nothing due" to those whose work makes tasks, and is left out for the others."""
    tasks, total = my_tasks_first(user, limit=HOME_TASKS)
    if not total and not user.has_perm("followups.add_visit"):
        return None
    if tasks:  # the rows name children: each is in the access log (one query)
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[task.child_id for task in tasks],
            path="/",
            detail={"tasks": True},
        )
    return {"tasks": tasks, "total": total, "today": timezone.localdate()}


# How many people the supervisor's panel names; the team page lists them all.
TEAM_PANEL_PEOPLE = 5


def _team_panel(user: Any) -> dict[str, Any] | None:
    """Supervisors: their team's overdue tasks by person and those escalated to them (one
    query), when there are any."""
    if not user.has_perm(SUPERVISE_TASKS):
        return None
    people = list(team_overdue_by_person(user).by_person)
    if not people:
        return None
    return {
        "people": people[:TEAM_PANEL_PEOPLE],
        "more_people": max(len(people) - TEAM_PANEL_PEOPLE, 0),
        "overdue": sum(p["tasks"] for p in people),
        "to_me": sum(p["to_me"] for p in people),
    }


def register() -> None:
    register_menu_entries(
        MenuEntry(
            15,
            _("Team tasks"),
            "followups:team_tasks",
            "list-check",
            has_perm(SUPERVISE_TASKS),
        ),
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
        HomePanel(35, "followups/panels/team_tasks.html", _team_panel, "team_tasks"),
        HomePanel(40, "followups/panels/my_tasks.html", _tasks_panel, "my_tasks"),
    )
