"""Pages of psycho-education activities: the list, recording one with its attendance, one
activity with the attendees the viewer may see."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from core.access_log import access_record_many
from core.lists import list_page, render_list
from core.models import AccessEvent
from core.submissions import SubmitOnceMixin
from followups.activities import (
    MAX_ATTENDEES,
    activities_visible_to,
    activity_detail_queryset,
    activity_list,
    activity_record,
    attendance_visible_to,
)
from followups.forms import ActivityFilterForm, ActivityForm, activity_values
from followups.models import Activity
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user

ADD_PERMISSION = "followups.add_activity"


class ActivityListView(ScopedViewMixin, View):
    """Activities the user organised, held in their regions or attended by their children."""

    scope_selector = activities_visible_to

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        form = ActivityFilterForm(request.GET)
        valid = form.is_valid()
        filters = form.cleaned_data if valid else {}
        qs = activity_list(user=user, kind=filters.get("kind", ""), search=filters.get("q", ""))
        if not valid:  # a bad filter lists nothing, with its error, not everything
            qs = qs.none()
        listed = list_page(request, qs)
        return render_list(
            request,
            template="followups/activity_list.html",
            rows_template="followups/activity_rows.html",
            rows_target="activity-rows",
            context={"form": form, "activities": listed["rows"], **listed},
        )


class ActivityCreateView(SubmitOnceMixin, ScopedViewMixin, View):
    """Record an activity; every child on the list must be in the organiser's scope."""

    scope_selector = activities_visible_to
    permission_required = ADD_PERMISSION
    template_name = "followups/activity_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        initial = {}
        # "Record an activity" from a child's file starts with that child on the list.
        child = request.GET.get("child", "").strip()
        if child:
            initial["children"] = child[:32]
        form = ActivityForm(user=user, initial=initial)
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        form = ActivityForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                activity = activity_record(by=user, **activity_values(data))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("activities:activity_detail", pk=activity.pk)
        return render(request, self.template_name, {"form": form}, status=200)


class ActivityDetailView(ScopedViewMixin, View):
    """One activity; attendees outside the viewer's scope are counted, never named."""

    fetch_model = Activity

    def get_fetch_queryset(self) -> QuerySet[Activity]:
        return activity_detail_queryset()

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        activity = self.object
        attendees = list(attendance_visible_to(user=user, activity=activity)[:MAX_ATTENDEES])
        # The page names these children: each read is logged (one query).
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[a.child_id for a in attendees],
            request=request,
        )
        total = activity.children_count
        return render(
            request,
            "followups/activity_detail.html",
            {
                "activity": activity,
                "attendees": attendees,
                "others": max(total - len(attendees), 0),
            },
        )
