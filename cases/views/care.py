"""Pages about the child's care: the care team and the care plans with their reviews."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from cases.forms.care import CarePlanForm, CarePlanReviewForm, CareTeamForm
from cases.models import CarePlan, CareTeamMember, Child
from cases.services.care import (
    care_plan_create,
    care_plan_review,
    care_plan_state,
    care_team_add,
    care_team_remove,
)
from cases.views.children import file_url
from cases.views.object_form import ObjectFormView
from core.widgets import search_answer
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


class CareTeamAddView(ObjectFormView):
    permission_required = "cases.manage_care"
    form_class = CareTeamForm
    title = gettext_lazy("Add to the care team")
    success_message = gettext_lazy("The care team was updated.")
    anchor = "team"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"child": obj}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        data = form.cleaned_data
        care_team_add(
            child=obj,
            team_role=data["team_role"],
            by=user,
            user=data.get("user"),
            peer_name=data.get("peer_name", "").strip(),
        )


class CareTeamColleaguesView(ScopedViewMixin, View):
    """htmx: the care-team form's colleague select again, holding the colleagues whose name
    holds what was typed (core.widgets.SearchSelect); for whoever may add to this team."""

    fetch_model = Child
    level = Level.MANAGE
    permission_required = "cases.manage_care"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = CareTeamForm(request.GET, child=self.object)
        return HttpResponse(search_answer(form["username"], request.GET))


class CareTeamRemoveView(ScopedViewMixin, View):
    fetch_model = CareTeamMember
    level = Level.MANAGE
    permission_required = "cases.manage_care"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        member = self.object
        care_team_remove(member=member, by=signed_in_user(request))
        messages.success(
            request, _("%(who)s left the care team.") % {"who": member.user or member.peer_name}
        )
        return redirect(file_url(member.child, "team"))


class CarePlanAddView(ObjectFormView):
    permission_required = "cases.manage_care"
    form_class = CarePlanForm
    title = gettext_lazy("New care plan")
    success_message = gettext_lazy("The care plan was saved.")
    conflict_message = gettext_lazy(
        "Someone else started or ended a care plan for this child after you opened the form. "
        "Nothing was saved. Look at the child's care plan first: saving this form again makes "
        "it the active plan and completes the one now active."
    )
    conflict_keeps_input = True
    anchor = "plan"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"child": obj, "user": user}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        data = dict(form.cleaned_data)
        replacing = data.pop("replaces", None)
        care_plan_create(child=obj, data=data, by=user, replacing=replacing)


class CarePlanReviewView(ObjectFormView):
    fetch_model = CarePlan
    permission_required = "cases.manage_care"
    form_class = CarePlanReviewForm
    title = gettext_lazy("Review the care plan")
    success_message = gettext_lazy("The review was recorded.")
    conflict_message = gettext_lazy(
        "Someone else reviewed this plan after you opened the form, and its status or review "
        "date changed. Your review was not saved, so that theirs is not undone. Check the plan "
        "on the child's file; the form keeps what you wrote, send it again if it still applies."
    )
    conflict_keeps_input = True
    anchor = "plan"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"initial": {"new_status": obj.status, "plan_state": care_plan_state(obj)}}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        data = form.cleaned_data
        care_plan_review(
            plan=obj,
            reviewed_on=data["reviewed_on"],
            note=data["note"],
            next_review_date=data.get("next_review_date"),
            new_status=data["new_status"],
            expected_state=data["plan_state"],
            by=user,
        )
