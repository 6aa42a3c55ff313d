"""Pages for the alerts about children in scope, and for acknowledging one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from assessments.models import Alert
from assessments.selectors import alerts_visible_to
from assessments.services import alert_acknowledge
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
    """An alert, and its acknowledgement with a note."""

    fetch_model = Alert
    read_level = Level.READ
    level = Level.CONTRIBUTE  # acknowledging records what the user did
    permission_required = "cases.view_child"

    def get_fetch_queryset(self) -> QuerySet[Alert]:
        return Alert.objects.select_related("child", "assessment__instrument", "acknowledged_by")

    def get_log_detail(self) -> dict[str, Any]:
        return {"alert": self.kwargs["pk"]}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        alert = self.object
        return render(request, "assessments/alert_detail.html", {"alert": alert, "error": ""})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        alert = self.object
        if not user.has_perm("assessments.acknowledge_alert"):
            return render(request, "403.html", status=403)
        note = request.POST.get("note", "").strip()
        if not note:
            return render(
                request,
                "assessments/alert_detail.html",
                {"alert": alert, "error": _("Write what you did or will do.")},
                status=400,
            )
        alert = alert_acknowledge(alert=alert, by=user, note=note[:2000])
        if alert.acknowledged_by_id != user.pk or alert.note != note[:2000]:
            # The first acknowledgement stands; this one was not written over it.
            messages.warning(
                request,
                _("%(who)s acknowledged this alert first; your note was not saved: %(note)s")
                % {"who": alert.acknowledged_by, "note": note[:2000]},
            )
        else:
            messages.success(request, _("The alert was acknowledged."))
        return redirect("assessments:alert_detail", pk=alert.pk)
