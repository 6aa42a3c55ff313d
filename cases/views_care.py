"""Pages that add to a child's file: guardians, consent, care team, care plans, hand-over,
access requests. Each finds its object through a scoping selector and writes through a service."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from cases.forms import (
    AccessDecisionForm,
    CarePlanForm,
    CarePlanReviewForm,
    CareTeamForm,
    ConsentForm,
    GuardianEditForm,
    GuardianForm,
    HandoverForm,
    WithdrawConsentForm,
)
from cases.models import CarePlan, CareTeamMember, Child, Consent, Guardian, Handover
from cases.selectors import (
    children_visible_to,
    handovers_sent_by_my_scope,
    pending_access_requests,
)
from cases.services.access import access_request_decide
from cases.services.care import (
    care_plan_create,
    care_plan_review,
    care_plan_state,
    care_team_add,
    care_team_remove,
)
from cases.services.child import EditConflict, HandoverTarget, child_handover
from cases.services.family import (
    consent_record,
    consent_withdraw,
    guardian_add,
    guardian_deactivate,
    guardian_update,
)
from cases.snapshots import snapshot_for_display, snapshot_from_history
from cases.views import file_url
from core.submissions import SubmitOnceMixin
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


class ObjectFormView(SubmitOnceMixin, ScopedViewMixin, View):
    """A form about one object of a child's file, found through the object's selector.

    Subclasses set the selector, permission, form, title and `perform`; the object's child is
    `object` itself for Child, otherwise `object.child`. The form carries a one-time submission
    key (a repeated POST gets the first result); when `perform` finds that someone else changed
    the object since the form was opened (EditConflict), the answer is 409 with the object as it
    is now, and nothing of this submission is written.
    """

    fetch_model: ClassVar[type[Model] | None] = Child
    level = Level.MANAGE

    form_class: ClassVar[type[forms.BaseForm]]
    title: ClassVar[Any] = ""
    success_message: ClassVar[Any] = gettext_lazy("Saved.")
    conflict_message: ClassVar[Any] = gettext_lazy(
        "Someone else changed this after you opened the form. Your changes were not saved, so "
        "that theirs are not lost: the form now shows what is on file. Make your changes again "
        "if they are still needed."
    )
    # A create form keeps what was typed on a conflict (only its hidden state is renewed); an
    # edit form shows the record as it now is.
    conflict_keeps_input: ClassVar[bool] = False
    anchor: ClassVar[str] = ""
    template_name = "cases/child_form.html"

    def child_of(self, obj: Any) -> Child:
        return obj if isinstance(obj, Child) else obj.child

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        raise NotImplementedError

    def render_form(
        self, request: HttpRequest, obj: Any, form: Any, *, status: int = 200, conflict: str = ""
    ) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "child": self.child_of(obj),
                "object": obj,
                "title": self.title,
                "conflict": conflict,
                **self.extra_context(obj),
            },
            status=status,
        )

    def describe_conflict(self, current: Any) -> str:
        return str(self.conflict_message)

    def render_conflict(self, request: HttpRequest, current: Any) -> HttpResponse:
        """409: the form again, based on the record as it is now."""
        kwargs = self.form_kwargs(current, signed_in_user(request))
        form = self.form_class(**kwargs)
        if self.conflict_keeps_input:
            data = request.POST.copy()
            for field in form.hidden_fields():
                if field.name in form.fields:
                    data[field.name] = "" if field.value() is None else str(field.value())
            form = self.form_class(data, **kwargs)
        return self.render_form(
            request, current, form, status=409, conflict=self.describe_conflict(current)
        )

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.object
        form = self.form_class(**self.form_kwargs(obj, signed_in_user(request)))
        return self.render_form(request, obj, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        obj = self.object
        form = self.form_class(request.POST, **self.form_kwargs(obj, user))
        if not form.is_valid():
            return self.render_form(request, obj, form)
        try:
            self.perform(obj, form, user)
        except EditConflict as conflict:
            return self.render_conflict(request, conflict.current)
        messages.success(request, str(self.success_message))
        return redirect(file_url(self.child_of(obj), self.anchor))


class GuardianAddView(ObjectFormView):
    permission_required = "cases.record_consent"
    form_class = GuardianForm
    title = gettext_lazy("Add a guardian")
    success_message = gettext_lazy("The guardian was added.")
    anchor = "family"

    def perform(self, obj: Any, form: Any, user: User) -> None:
        guardian_add(child=obj, data=form.cleaned_data, by=user)


class GuardianEditView(ObjectFormView):
    """Edit or remove a guardian; both carry the version the form was opened at."""

    fetch_model = Guardian
    permission_required = "cases.record_consent"
    form_class = GuardianEditForm
    title = gettext_lazy("Edit a guardian")
    success_message = gettext_lazy("The guardian was saved.")
    conflict_message = gettext_lazy(
        "Someone else saved this guardian after you opened the form. Your changes were not "
        "saved, so that theirs are not lost: the form now shows the guardian as on file. Make "
        "your changes again and save."
    )
    anchor = "family"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"instance": obj}

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {"removable": obj.is_active}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.POST.get("remove"):
            guardian = self.object
            version = request.POST.get("version", "")
            try:
                guardian_deactivate(
                    guardian=guardian,
                    by=signed_in_user(request),
                    expected_version=int(version) if version.isdigit() else None,
                )
            except EditConflict as conflict:
                return self.render_conflict(request, conflict.current)
            messages.success(request, _("The guardian is now listed as former."))
            return redirect(file_url(guardian.child, self.anchor))
        return super().post(request, pk)

    def perform(self, obj: Any, form: Any, user: User) -> None:
        guardian_update(
            guardian=obj,
            data=form.cleaned_data,
            expected_version=form.cleaned_data["version"],
            by=user,
        )


class ConsentAddView(ObjectFormView):
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
    fetch_model = Consent
    permission_required = "cases.record_consent"
    form_class = WithdrawConsentForm
    title = gettext_lazy("Withdraw consent")
    success_message = gettext_lazy("The withdrawal was recorded; it applies from now on.")
    anchor = "family"

    def describe_conflict(self, current: Any) -> str:
        return _(
            "This consent was already withdrawn on %(date)s by %(who)s (“%(reason)s”). Your "
            "withdrawal was not recorded again."
        ) % {
            "date": date_format(localtime(current.withdrawn_at), "DATETIME_FORMAT"),
            "who": current.withdrawn_by or "—",
            "reason": current.withdrawal_reason,
        }

    def perform(self, obj: Any, form: Any, user: User) -> None:
        consent_withdraw(consent=obj, reason=form.cleaned_data["reason"], by=user)


class CareTeamAddView(ObjectFormView):
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


class HandoverView(ObjectFormView):
    permission_required = "cases.handover_child"
    form_class = HandoverForm
    title = gettext_lazy("Hand over to another region")
    success_message = gettext_lazy(
        "The child was handed over; the receiving child director and supervisor were told."
    )
    conflict_message = gettext_lazy(
        "The file changed after you opened this form (it may have been handed over already). "
        "Nothing was done: the form now shows the file as it is; hand over again if still needed."
    )

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"child": obj}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = self.object
        form = HandoverForm(request.POST, child=child)
        if not form.is_valid():
            return self.render_form(request, child, form)
        data = form.cleaned_data
        try:
            child_handover(
                child=child,
                target=HandoverTarget(
                    data["to_region"], data.get("to_school"), data.get("to_institution")
                ),
                reason=data["reason"],
                by=user,
                expected_version=data["version"],
            )
        except EditConflict as conflict:
            return self.render_conflict(request, conflict.current)
        messages.success(request, str(self.success_message))
        # The child may now be outside the sender's scope: go to the hand-over record.
        if children_visible_to(user).filter(pk=child.pk).exists():
            return redirect(file_url(child))
        return redirect("cases:handover_list")


class HandoverListView(ScopedViewMixin, View):
    """Children this user's area handed over: what the sending side wrote, nothing newer."""

    scope_selector = children_visible_to

    def get(self, request: HttpRequest) -> HttpResponse:
        handovers = (
            handovers_sent_by_my_scope(user=signed_in_user(request))
            .defer("snapshot")
            .order_by("-at")[:100]
        )
        return render(request, "cases/handover_list.html", {"handovers": handovers})


class HandoverDetailView(ScopedViewMixin, View):
    """The file as it was at the hand-over, for the sending side: only the frozen snapshot
    (or, for a hand-over older than snapshots, the file rebuilt from its change history)."""

    fetch_model = Handover

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        handover = self.object
        snapshot = handover.snapshot or snapshot_from_history(handover)
        return render(
            request,
            "cases/handover_detail.html",
            {
                "handover": handover,
                "file": snapshot_for_display(snapshot, user) if snapshot else None,
            },
        )


class AccessRequestListView(SubmitOnceMixin, ScopedViewMixin, View):
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
            decided = access_request_decide(
                access_request=access_request,
                by=user,
                approve=form.cleaned_data["approve"],
                note=form.cleaned_data.get("note", ""),
            )
            if decided.decided_by_id != user.pk:
                # The first decision stands; this one was not written over it.
                messages.warning(
                    request,
                    _("%(who)s decided this request first (%(status)s); yours was not recorded.")
                    % {"who": decided.decided_by, "status": decided.get_status_display()},
                )
            else:
                messages.success(request, _("The decision was recorded and the requester told."))
        return redirect("cases:access_requests")
