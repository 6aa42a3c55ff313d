"""Navigation by role: each user sees the menu entries their permissions and scope allow."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from institutions.selectors import scope_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    items: list[dict[str, Any]] = []
    if user.is_authenticated:
        scope = scope_for(user)
        items.append({"label": _("Work list"), "url": reverse("home"), "icon": "house"})
        if user.has_perm("cases.view_child"):
            items.append(
                {"label": _("Children"), "url": reverse("cases:child_list"), "icon": "people"}
            )
        if user.has_perm("cases.view_child"):
            items.append(
                {"label": _("Alerts"), "url": reverse("assessments:alert_list"), "icon": "bell"}
            )
        if user.has_perm("assessments.add_screeningsession"):
            items.append(
                {
                    "label": _("Screenings"),
                    "url": reverse("assessments:screening_list"),
                    "icon": "clipboard-check",
                }
            )
        if user.has_perm("referrals.add_referral"):
            items.append(
                {"label": _("Referrals"), "url": reverse("referrals:list"), "icon": "send"}
            )
        if user.has_perm("referrals.process_referral"):
            items.append(
                {"label": _("Clinic inbox"), "url": reverse("referrals:inbox"), "icon": "inbox"}
            )
        if scope.region_prefixes or scope.school_ids or scope.residential_institution_ids:
            items.append(
                {
                    "label": _("Handed over"),
                    "url": reverse("cases:handover_list"),
                    "icon": "truck",
                }
            )
        if user.has_perm("cases.view_accessevent"):
            items.append(
                {
                    "label": _("Audit log"),
                    "url": reverse("cases:audit_log"),
                    "icon": "journal-text",
                }
            )
            items.append(
                {
                    "label": _("Administrators' actions"),
                    "url": reverse("cases:audit_admin_actions"),
                    "icon": "person-gear",
                }
            )
            items.append(
                {
                    "label": _("Emergency accesses"),
                    "url": reverse("cases:emergency_reviews"),
                    "icon": "exclamation-octagon",
                }
            )
        if user.has_perm("assessments.view_instrument"):
            items.append(
                {
                    "label": _("Instruments"),
                    "url": reverse("assessments:instrument_list"),
                    "icon": "ui-checks",
                }
            )
        if user.has_perm("followups.add_activity"):
            items.append(
                {
                    "label": _("Activities"),
                    "url": reverse("activities:activity_list"),
                    "icon": "easel",
                }
            )
        items.append({"label": _("Venues"), "url": reverse("venues:venue_list"), "icon": "geo-alt"})
        if user.has_perm("institutions.add_training") or user.has_perm(
            "institutions.view_training_report"
        ):
            items.append(
                {
                    "label": _("Training"),
                    "url": reverse("training:training_list"),
                    "icon": "mortarboard",
                }
            )
        if scope.may_use_admin_site:
            items.append(
                {"label": _("Administration"), "url": reverse("admin:index"), "icon": "gear"}
            )
    unread = 0
    if user.is_authenticated:
        from followups.models import Notification

        unread = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    return {
        "nav_items": items,
        "unread_notifications": unread,
        "demo_mode": settings.DJANGO_ENV != "production",
        "request_path": request.path,
    }
