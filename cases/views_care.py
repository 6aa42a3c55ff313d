"""Pages that add to a child's file: guardians, consent, care team, care plans, hand-over,
access requests. Each finds its object through a scoping selector and writes through a service."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from cases.forms import (
    AccessDecisionForm,
    CarePlanForm,
    CarePlanReviewForm,
    CareTeamForm,
    ConsentForm,
    GuardianForm,
    HandoverForm,
    WithdrawConsentForm,
)
from cases.models import Child
from cases.selectors import (
    care_plans_visible_to,
    care_team_visible_to,
    children_visible_to,
    consents_visible_to,
    guardians_visible_to,
    handovers_sent_by_my_scope,
    pending_access_requests,
)
from cases.services.access import access_request_decide
from cases.services.care import (
    care_plan_create,
    care_plan_review,
    care_team_add,
    care_team_remove,
)
from cases.services.child import HandoverTarget, child_handover
from cases.services.family import (
    consent_record,
    consent_withdraw,
    guardian_add,
    guardian_deactivate,
    guardian_update,
)
from cases.views import file_url
from institutions.models import User
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


class ObjectFormView(ScopedViewMixin, View):
    """A form about one object of a child's file, found through the object's selector.

    Subclasses set the selector, permission, form, title and `perform`; the object's child is
    `object` itself for Child, otherwise `object.child`.
    """

    form_class: ClassVar[type[forms.BaseForm]]
    title: ClassVar[Any] = ""
    success_message: ClassVar[Any] = gettext_lazy("Saved.")
    anchor: ClassVar[str] = ""
    template_name = "cases/child_form.html"

    def child_of(self, obj: Any) -> Child:
        return obj if isinstance(obj, Child) else obj.child

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        raise NotImplementedError

    def render_form(self, request: HttpRequest, obj: Any, form: Any) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "child": self.child_of(obj),
                "object": obj,
                "title": self.title,
                **self.extra_context(obj),
            },
        )

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(self.get_scoped_queryset(), pk=pk)
        form = self.form_class(**self.form_kwargs(obj, signed_in_user(request)))
        return self.render_form(request, obj, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        obj = get_object_or_404(self.get_scoped_queryset(), pk=pk)
        form = self.form_class(request.POST, **self.form_kwargs(obj, user))
        if not form.is_valid():
            return self.render_form(request, obj, form)
        self.perform(obj, form, user)
        messages.success(request, str(self.success_message))
        return redirect(file_url(self.child_of(obj), self.anchor))


class GuardianAddView(ObjectFormView):
    scope_selector = children_visible_to
    permission_required = "cases.record_consent"
    form_class = GuardianForm
    title = gettext_lazy("Add a guardian")
    success_message = gettext_lazy("The guardian was added.")
    anchor = "family"

    def perform(self, obj: Any, form: Any, user: User) -> None:
        guardian_add(child=obj, data=form.cleaned_data, by=user)


class GuardianEditView(ObjectFormView):
    scope_selector = guardians_visible_to
    permission_required = "cases.record_consent"
    form_class = GuardianForm
    title = gettext_lazy("Edit a guardian")
    success_message = gettext_lazy("The guardian was saved.")
    anchor = "family"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"instance": obj}

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {"removable": obj.is_active}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.POST.get("remove"):
            guardian = get_object_or_404(self.get_scoped_queryset(), pk=pk)
            guardian_deactivate(guardian=guardian, by=signed_in_user(request))
            messages.success(request, _("The guardian is now listed as former."))
            return redirect(file_url(guardian.child, self.anchor))
        return super().post(request, pk)

    def perform(self, obj: Any, form: Any, user: User) -> None:
        # The ModelForm changed `obj` in memory; the service writes it.
        guardian_update(guardian=obj, data=form.cleaned_data, by=user)


class ConsentAddView(ObjectFormView):
    scope_selector = children_visible_to
    permission_required = "cases.record_consent"
    form_class = ConsentForm
    title = gettext_lazy("Record consent")
    success_message = gettext_lazy("The consent was recorded.")
    anchor = "family"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"child": obj}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        data = form.cleaned_data
        consent_record(
            child=obj,
            purpose=data["purpose"],
            given_on=data["given_on"],
            by=user,
            guardian=data["guardian"],
            shared_with=data["shared_with"],
            note=data.get("note", ""),
        )


class ConsentWithdrawView(ObjectFormView):
    scope_selector = consents_visible_to
    permission_required = "cases.record_consent"
    form_class = WithdrawConsentForm
    title = gettext_lazy("Withdraw consent")
    success_message = gettext_lazy("The withdrawal was recorded; it applies from now on.")
    anchor = "family"

    def perform(self, obj: Any, form: Any, user: User) -> None:
        consent_withdraw(consent=obj, reason=form.cleaned_data["reason"], by=user)


class CareTeamAddView(ObjectFormView):
    scope_selector = children_visible_to
    permission_required = "cases.manage_care"
    form_class = CareTeamForm
    title = gettext_lazy("Add to the care team")
    success_message = gettext_lazy("The care team was updated.")
    anchor = "team"

    def perform(self, obj: Any, form: Any, user: User) -> None:
        data = form.cleaned_data
        care_team_add(
            child=obj,
            team_role=data["team_role"],
            by=user,
            user=data.get("user"),
            peer_name=data.get("peer_name", "").strip(),
        )


class CareTeamRemoveView(ScopedViewMixin, View):
    scope_selector = care_team_visible_to
    permission_required = "cases.manage_care"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        member = get_object_or_404(self.get_scoped_queryset(), pk=pk)
        care_team_remove(member=member, by=signed_in_user(request))
        messages.success(
            request, _("%(who)s left the care team.") % {"who": member.user or member.peer_name}
        )
        return redirect(file_url(member.child, "team"))


class CarePlanAddView(ObjectFormView):
    scope_selector = children_visible_to
    permission_required = "cases.manage_care"
    form_class = CarePlanForm
    title = gettext_lazy("New care plan")
    success_message = gettext_lazy("The care plan was saved.")
    anchor = "plan"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"child": obj, "user": user}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        data = dict(form.cleaned_data)
        care_plan_create(child=obj, data=data, by=user)


class CarePlanReviewView(ObjectFormView):
    scope_selector = care_plans_visible_to
    permission_required = "cases.manage_care"
    form_class = CarePlanReviewForm
    title = gettext_lazy("Review the care plan")
    success_message = gettext_lazy("The review was recorded.")
    anchor = "plan"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"initial": {"new_status": obj.status}}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        data = form.cleaned_data
        care_plan_review(
            plan=obj,
            reviewed_on=data["reviewed_on"],
            note=data["note"],
            next_review_date=data.get("next_review_date"),
            new_status=data["new_status"],
            by=user,
        )


class HandoverView(ObjectFormView):
    scope_selector = children_visible_to
    permission_required = "cases.handover_child"
    form_class = HandoverForm
    title = gettext_lazy("Hand over to another region")
    success_message = gettext_lazy(
        "The child was handed over; the receiving child director and supervisor were told."
    )

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"child": obj}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = get_object_or_404(self.get_scoped_queryset(), pk=pk)
        form = HandoverForm(request.POST, child=child)
        if not form.is_valid():
            return self.render_form(request, child, form)
        data = form.cleaned_data
        child_handover(
            child=child,
            target=HandoverTarget(
                data["to_region"], data.get("to_school"), data.get("to_institution")
            ),
            reason=data["reason"],
            by=user,
        )
        messages.success(request, str(self.success_message))
        # The child may now be outside the sender's scope: go to the hand-over record.
        if children_visible_to(user).filter(pk=child.pk).exists():
            return redirect(file_url(child))
        return redirect("cases:handover_list")


class HandoverListView(ScopedViewMixin, View):
    """Children this user's area handed over: what the sending side wrote, nothing newer."""

    scope_selector = children_visible_to

    def get(self, request: HttpRequest) -> HttpResponse:
        handovers = handovers_sent_by_my_scope(user=signed_in_user(request)).order_by("-at")[:100]
        return render(request, "cases/handover_list.html", {"handovers": handovers})


class HandoverDetailView(ScopedViewMixin, View):
    """The file as it was at the hand-over, for the sending side."""

    scope_selector = children_visible_to

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        from django.apps import apps

        from cases.models import AccessEvent
        from cases.services.access import access_record

        user = signed_in_user(request)
        handover = get_object_or_404(handovers_sent_by_my_scope(user=user), pk=pk)
        snapshot = (
            apps.get_model("cases", "ChildEvent")
            .objects.filter(pgh_obj_id=handover.child_id, version=handover.child_version)
            .order_by("-pgh_id")
            .first()
        )
        if snapshot is None:
            raise Http404
        access_record(
            user=user,
            action=AccessEvent.Action.VIEW,
            child=handover.child,
            request=request,
            detail={"handover_snapshot": handover.pk},
        )
        guardians = handover.child.guardians.filter(created_at__lt=handover.at, is_active=True)
        plans = handover.child.care_plans.filter(created_at__lt=handover.at).select_related("owner")
        return render(
            request,
            "cases/handover_detail.html",
            {"handover": handover, "snapshot": snapshot, "guardians": guardians, "plans": plans},
        )


class AccessRequestListView(ScopedViewMixin, View):
    """Requests for access to files this user holds, to approve or decline."""

    scope_selector = children_visible_to
    permission_required = "cases.change_child"

    def get(self, request: HttpRequest) -> HttpResponse:
        requests = pending_access_requests(user=signed_in_user(request))[:100]
        return render(
            request,
            "cases/access_requests.html",
            {"requests": requests, "form": AccessDecisionForm()},
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        access_request = get_object_or_404(
            pending_access_requests(user=user), pk=request.POST.get("request")
        )
        form = AccessDecisionForm(request.POST)
        if form.is_valid():
            access_request_decide(
                access_request=access_request,
                by=user,
                approve=form.cleaned_data["approve"],
                note=form.cleaned_data.get("note", ""),
            )
            messages.success(request, _("The decision was recorded and the requester told."))
        return redirect("cases:access_requests")
