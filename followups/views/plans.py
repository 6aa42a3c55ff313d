"""Follow-up plans after treatment: read one; make one by hand (or from a discharge); pair
someone with the child; end it with a reason. Reading needs read on the child; the writes need
manage on it and the care-management permission (the one fetch answers 404 or 403)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from cases.models import Child
from cases.selectors.scope import access_level
from core.submissions import SubmitOnceMixin
from followups.models import FollowupPlan, Task, Visit
from followups.plan_forms import EndPlanForm, PairForm, PlanForm, plan_schedule_in_words
from followups.plan_sources import plan_source
from followups.services.plans import (
    PARTNER_ROLES,
    Schedule,
    plan_create,
    plan_end,
    plan_set_partners,
    plan_visits_count,
)
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user

MANAGE_PERMISSION = "cases.manage_care"


def may_manage_plans(user: User, child: Child) -> bool:
    """Making, pairing and ending plans: manage on the child and the care permission."""
    if not user.has_perm(MANAGE_PERMISSION):
        return False
    level = access_level(user, child)
    return level is not None and level >= Level.MANAGE


def add_service_errors(form: Any, exc: ValidationError) -> None:
    """The service's refusal on the fields it names (the rest above the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages_ in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def next_followup_due(plan: FollowupPlan) -> Task | None:
    """The plan's follow-up visit still to do (the scheduler keeps at most one)."""
    if plan.status != FollowupPlan.Status.ACTIVE:
        return None
    return (
        Task.objects.filter(
            child_id=plan.child_id,
            kind=Task.Kind.FOLLOWUP_VISIT,
            status__in=Task.PENDING,
            source_id=plan.pk,
        )
        .select_related("assignee")
        .first()
    )


class PlanDetailView(ScopedViewMixin, View):
    """A plan: who is paired, the schedule in words, the visits logged against it and the
    next one due, and what the reader may do with it."""

    fetch_model = FollowupPlan
    permission_required = "cases.view_child"

    def get_fetch_queryset(self) -> QuerySet[FollowupPlan]:
        return FollowupPlan.objects.select_related(
            "child", "created_by", "ended_by", "referral__to_institution"
        )

    def get_log_detail(self) -> dict[str, Any]:
        return {"followup_plan": self.kwargs["pk"]}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        plan: FollowupPlan = self.object
        child = plan.child
        active = plan.status == FollowupPlan.Status.ACTIVE
        level = access_level(user, child)
        done, expected = plan_visits_count(plan=plan)
        visits = list(
            Visit.objects.filter(
                child=child,
                kind=Visit.Kind.FOLLOWUP_VISIT,
                visited_on__gte=plan.start_on,
                visited_on__lte=plan.end_on,
            )
            .select_related("visitor")
            .order_by("-visited_on", "-id")[:50]
        )
        return render(
            request,
            "followups/plan_detail.html",
            {
                "plan": plan,
                "child": child,
                "active": active,
                "partners": list(plan.partners.order_by("display_name", "username")),
                "schedule": plan_schedule_in_words(plan),
                "role_label": dict(PARTNER_ROLES).get(plan.partner_role, plan.partner_role),
                "done": done,
                "expected": expected,
                "next_task": next_followup_due(plan),
                "visits": visits,
                "today": timezone.localdate(),
                "may_manage": active
                and level is not None
                and level >= Level.MANAGE
                and user.has_perm(MANAGE_PERMISSION),
                "may_visit": active
                and level is not None
                and level >= Level.CONTRIBUTE
                and user.has_perm("followups.add_visit"),
            },
        )


class PlanCreateView(SubmitOnceMixin, ScopedViewMixin, View):
    """A plan by hand, or from a discharge (`?referral=<id>` pre-fills it); the people
    paired are chosen by name from the care team and the region's colleagues."""

    fetch_model = Child
    level = Level.MANAGE
    permission_required = MANAGE_PERMISSION
    template_name = "followups/plan_form.html"

    def render_form(self, request: HttpRequest, form: PlanForm, status: int = 200) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {"form": form, "child": self.object, "presets": form.presets_data()},
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child: Child = self.object
        return self.render_form(
            request, PlanForm(child=child, source=plan_source(child, request.GET))
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child: Child = self.object
        source = plan_source(child, request.GET)
        form = PlanForm(request.POST, child=child, source=source)
        if not form.is_valid():
            return self.render_form(request, form, status=400)
        data = form.cleaned_data
        try:
            plan = plan_create(
                child=child,
                by=user,
                partners=list(data["partners"]),
                partner_role=data["partner_role"],
                schedule=Schedule(
                    data["first_interval_days"], data["first_period_days"], data["interval_days"]
                ),
                start_on=data["start_on"],
                end_on=data["end_on"],
                goal=data["goal"],
                referral=source.record if source else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.render_form(request, form, status=400)
        messages.success(request, _("The follow-up plan was made; the people paired were told."))
        return redirect("followups:plan_detail", pk=plan.pk)


class PlanWriteView(SubmitOnceMixin, ScopedViewMixin, View):
    """A write on an active plan (pair, end): manage on the child and the care permission."""

    fetch_model = FollowupPlan
    level = Level.MANAGE
    permission_required = MANAGE_PERMISSION
    template_name = ""

    def get_fetch_queryset(self) -> QuerySet[FollowupPlan]:
        return FollowupPlan.objects.select_related("child")

    def get_log_detail(self) -> dict[str, Any]:
        return {"followup_plan": self.kwargs["pk"]}

    def make_form(self, data: Any = None) -> Any:
        raise NotImplementedError

    def act(self, form: Any, user: User) -> str:
        """Call the service; the message to show."""
        raise NotImplementedError

    def render_form(self, request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
        plan: FollowupPlan = self.object
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "plan": plan,
                "child": plan.child,
                "schedule": plan_schedule_in_words(plan),
            },
            status=status,
        )

    def ended(self, request: HttpRequest) -> HttpResponse:
        messages.info(request, _("This follow-up plan has ended."))
        return redirect("followups:plan_detail", pk=self.object.pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        if self.object.status != FollowupPlan.Status.ACTIVE:
            return self.ended(request)
        return self.render_form(request, self.make_form())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        if self.object.status != FollowupPlan.Status.ACTIVE:
            return self.ended(request)
        form = self.make_form(request.POST)
        if not form.is_valid():
            return self.render_form(request, form, status=400)
        try:
            message = self.act(form, user)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.render_form(request, form, status=400)
        messages.success(request, message)
        return redirect("followups:plan_detail", pk=self.object.pk)


class PlanPairView(PlanWriteView):
    """Pair someone more with the child (the supervisor naming the person a discharge lacked)."""

    template_name = "followups/plan_pair.html"

    def make_form(self, data: Any = None) -> PairForm:
        return PairForm(data, plan=self.object)

    def act(self, form: Any, user: User) -> str:
        added = plan_set_partners(
            plan=self.object, partners=list(form.cleaned_data["partners"]), by=user
        )
        if not added:
            return _("They were already paired with the child.")
        return _("Paired with the child: %(names)s.") % {"names": ", ".join(str(u) for u in added)}


class PlanEndView(PlanWriteView):
    """End the plan, saying why; its follow-up visit still due is cancelled."""

    template_name = "followups/plan_end.html"

    def make_form(self, data: Any = None) -> EndPlanForm:
        return EndPlanForm(data)

    def act(self, form: Any, user: User) -> str:
        plan_end(plan=self.object, by=user, reason=form.cleaned_data["reason"])
        return _("The follow-up plan was ended.")
