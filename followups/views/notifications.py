"""The signed-in user's notifications."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.models import Notification
from core.notifications import notifications_mark_read
from core.pagination import CappedPaginator
from institutions.selectors import signed_in_user


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """My notifications, newest first; only ever the user's own."""
    user = signed_in_user(request)
    qs = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    page = CappedPaginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "followups/notifications.html", {"page_obj": page})


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one (`id`) or all of my notifications read, then follow its link if it has one."""
    user = signed_in_user(request)
    raw = request.POST.get("id")
    if raw and raw.isdigit():
        notifications_mark_read(user=user, ids=[int(raw)])
        target = (
            Notification.objects.filter(recipient=user, pk=int(raw))
            .values_list("link", flat=True)
            .first()
        )
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return redirect(target)
    else:
        notifications_mark_read(user=user)
    return redirect("followups:notifications")
