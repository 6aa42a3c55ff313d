"""The referral lists: the sending side's referrals by status and the clinic's inbox. Every list
comes from a scoping selector."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from core.pagination import CappedPaginator
from institutions.models import Institution
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user
from referrals.models import Referral
from referrals.selectors import (
    INBOX_TABS,
    inbox_counts,
    inbox_tab,
    referral_inbox,
    referral_list,
    referrals_visible_to,
)

S = Referral.Status
SERVICE_LABELS = dict(Institution.Service.choices)


def label_services(referrals: Any) -> None:
    """Give each referral its service's label (the field stores the code)."""
    for referral in referrals:
        referral.service_label = SERVICE_LABELS.get(referral.service, referral.service)


class ReferralListView(ScopedViewMixin, View):
    """Referrals of the children the user may see, newest first, by status."""

    scope_selector = referrals_visible_to
    permission_required = "cases.view_child"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        status = request.GET.get("status", "")
        if status not in S.values:
            status = ""
        page = CappedPaginator(referral_list(user=user, status=status), 25).get_page(
            request.GET.get("page")
        )
        label_services(page.object_list)
        return render(
            request,
            "referrals/referral_list.html",
            {"page_obj": page, "status": status, "statuses": S.choices},
        )


class InboxView(ScopedViewMixin, View):
    """The clinic's inbox: new (overdue first), overdue, active and ended referrals."""

    scope_selector = referral_inbox
    permission_required = "referrals.process_referral"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        now = timezone.now()
        tab = request.GET.get("tab", "new")
        if tab not in INBOX_TABS:
            tab = "new"
        qs = referral_inbox(user, now=now)
        page = CappedPaginator(inbox_tab(qs, tab=tab, now=now), 25).get_page(
            request.GET.get("page")
        )
        label_services(page.object_list)
        tabs = [
            ("new", _("New")),
            ("overdue", _("Overdue")),
            ("active", _("In progress")),
            ("ended", _("Ended")),
        ]
        return render(
            request,
            "referrals/inbox.html",
            {
                "page_obj": page,
                "tab": tab,
                "tabs": tabs,
                "counts": inbox_counts(qs, now=now),
            },
        )
