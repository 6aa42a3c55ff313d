"""Handing a child over to another region, and what the sending side keeps of it afterwards."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views import View

from cases.forms.child import HandoverForm
from cases.forms.places import region_search
from cases.models import Child, Handover
from cases.selectors.scope import children_visible_to, handovers_sent_by_my_scope
from cases.services.child import EditConflict, HandoverTarget, child_handover
from cases.snapshots import snapshot_for_display, snapshot_from_history
from cases.views.children import file_url
from cases.views.object_form import ObjectFormView
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


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


class HandoverRegionSearchView(ScopedViewMixin, View):
    """htmx: the hand-over form's new-residence picker again, with the villages and townships
    found by name anywhere (a child may move to another county); the first one is chosen."""

    fetch_model = Child
    level = Level.MANAGE
    permission_required = "cases.handover_child"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = HandoverForm(child=self.object)
        form.offer_found_regions(region_search(request.GET.get("region_search", "")[:50]))
        return render(request, "cases/partials/handover_region.html", {"form": form})


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
