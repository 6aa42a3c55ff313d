"""Pages for the alerts about children in scope, and for closing one with an outcome."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from assessments.alert_items import alert_items
from assessments.forms.alerts import AlertCloseForm, GuardianInformedForm
from assessments.models import Alert, Assessment
from assessments.selectors import (
    GUARDIAN_INFORMED_PERMISSION,
    actions_on_child,
    alerts_visible_to,
)
from assessments.services import alert_acknowledge, alert_guardian_informed
from core.pagination import CappedPaginator
from core.submissions import SubmitOnceMixin
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


class AlertListView(ScopedViewMixin, View):
    """Alerts about children in my scope, the unacknowledged first."""

    scope_selector = alerts_visible_to
    permission_required = "cases.view_child"

    def get(self, request: HttpRequest) -> HttpResponse:
        qs = self.get_scoped_queryset().order_by("-acknowledged_at", "-created_at", "-id")
        if request.GET.get("open"):
            qs = qs.filter(acknowledged_at__isnull=True)
        page = CappedPaginator(qs.order_by("acknowledged_at", "-created_at", "-id"), 25).get_page(
            request.GET.get("page")
        )
        return render(request, "assessments/alert_list.html", {"page_obj": page})


class AlertDetailView(SubmitOnceMixin, ScopedViewMixin, View):
    """An alert with the results attached to it, the actions it leads to, and its closing
    with an outcome and a note."""

    fetch_model = Alert
    read_level = Level.READ
    level = Level.CONTRIBUTE  # closing records what the user did
    permission_required = "cases.view_child"

    def get_fetch_queryset(self) -> QuerySet[Alert]:
        return Alert.objects.select_related(
            "child", "assessment__instrument", "acknowledged_by"
        ).prefetch_related(
            Prefetch(
                "results",
                queryset=Assessment.objects.select_related("instrument")
                .annotate(corrected=Exists(Assessment.objects.filter(amends=OuterRef("pk"))))
                .order_by("administered_on", "id"),
            )
        )

    def get_log_detail(self) -> dict[str, Any]:
        return {"alert": self.kwargs["pk"]}

    def _page(
        self,
        request: HttpRequest,
        form: AlertCloseForm,
        status: int = 200,
        informed_form: GuardianInformedForm | None = None,
    ) -> HttpResponse:
        alert = self.object
        user = signed_in_user(request)
        return render(
            request,
            "assessments/alert_detail.html",
            {
                "alert": alert,
                "form": form,
                "results": list(alert.results.all()),
                "attached": alert_items(alert),
                "informed": list(
                    alert.guardians_informed.select_related("guardian", "recorded_by")
                ),
                "informed_form": informed_form or GuardianInformedForm(alert=alert),
                **actions_on_child(user=user, child=alert.child),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._page(request, AlertCloseForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        alert = self.object
        if not user.has_perm("assessments.acknowledge_alert"):
            return render(request, "403.html", status=403)
        form = AlertCloseForm(request.POST)
        if not form.is_valid():
            return self._page(request, form, status=400)
        note, outcome = form.cleaned_data["note"], form.cleaned_data["outcome"]
        alert = alert_acknowledge(alert=alert, by=user, note=note, outcome=outcome)
        if alert.acknowledged_by_id != user.pk or alert.note != note:
            # The first closing stands; this one was not written over it.
            messages.warning(
                request,
                _("%(who)s closed this alert first; your note was not saved: %(note)s")
                % {"who": alert.acknowledged_by, "note": note},
            )
        else:
            messages.success(request, _("The alert was closed."))
        return redirect("assessments:alert_detail", pk=alert.pk)


class AlertGuardianInformedView(AlertDetailView):
    """Record on an open or closed alert that a guardian was told (与监护人沟通); the alert
    stays as it is. Contribute on the child, and the permission of those who record contacts
    with the family."""

    http_method_names = ["post"]
    read_level = Level.CONTRIBUTE
    level = Level.CONTRIBUTE
    permission_required = GUARDIAN_INFORMED_PERMISSION

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        alert = self.object
        form = GuardianInformedForm(request.POST, alert=alert)
        if not form.is_valid():
            return self._page(request, AlertCloseForm(), status=400, informed_form=form)
        alert_guardian_informed(
            alert=alert,
            by=user,
            guardian=form.cleaned_data["guardian"],
            informed_at=form.cleaned_data["informed_at"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("It was recorded that the guardian was told."))
        return redirect("assessments:alert_detail", pk=alert.pk)
