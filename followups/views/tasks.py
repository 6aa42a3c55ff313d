"""The work lists: the signed-in user's tasks, and a supervisor's view of their team's overdue
tasks. A task is done by saving the record it asks for, so these pages only lead to the forms."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from core.access_log import access_record_many
from core.lists import list_page
from core.models import AccessEvent
from followups.selectors import (
    HOME_TASKS,
    SUPERVISE_TASKS,
    my_tasks,
    tasks_visible_to,
    team_overdue_by_person,
)
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


def log_listed(request: HttpRequest, tasks: Any) -> None:
    """A list of tasks names children: one LIST entry per child shown (one query)."""
    access_record_many(
        user=signed_in_user(request),
        action=AccessEvent.Action.LIST,
        child_ids=[task.child_id for task in tasks],
        request=request,
        detail={"tasks": True},
    )


class MyTaskListView(ScopedViewMixin, View):
    """All the user's tasks still to do, overdue first, then by risk and due date, a page at a
    time (the home page shows the first page)."""

    scope_selector = my_tasks

    def get(self, request: HttpRequest) -> HttpResponse:
        listed = list_page(request, self.get_scoped_queryset(), per_page=HOME_TASKS)
        log_listed(request, listed["rows"])
        return render(
            request,
            "followups/task_list.html",
            {"tasks": listed["rows"], "today": timezone.localdate(), **listed},
        )


class TeamTaskView(ScopedViewMixin, View):
    """For supervisors: the overdue tasks of the children they oversee, counted by the person
    each falls to, and the tasks escalated to them, a page at a time. Not found for others."""

    scope_selector = tasks_visible_to

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        if not user.has_perm(SUPERVISE_TASKS):
            raise Http404
        team = team_overdue_by_person(user)
        people = list(team.by_person)
        listed = list_page(request, team.escalated_to_me, per_page=HOME_TASKS)
        log_listed(request, listed["rows"])
        return render(
            request,
            "followups/team_tasks.html",
            {
                "people": people,
                "overdue": sum(p["tasks"] for p in people),
                "tasks": listed["rows"],
                "today": timezone.localdate(),
                **listed,
            },
        )
