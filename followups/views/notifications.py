"""The signed-in user's notifications, how they want to be told, and the language switch that
also remembers the signed-in user's language for what is sent to them."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from core.inputs import whole_number
from core.models import Notification
from core.notifications import (
    notification_preference,
    notification_preference_set,
    notifications_mark_read,
)
from core.pagination import CappedPaginator
from followups.forms import NotificationPreferenceForm
from followups.notifications import render_all
from institutions.selectors import signed_in_user


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """My notifications, newest first, in the page's language; only ever the user's own."""
    user = signed_in_user(request)
    qs = (
        Notification.objects.filter(recipient=user)
        .select_related("child")
        .order_by("-created_at", "-id")
    )
    page = CappedPaginator(qs, 25).get_page(request.GET.get("page"))
    rows = list(zip(page.object_list, render_all(list(page.object_list), reader=user), strict=True))
    return render(request, "followups/notifications.html", {"page_obj": page, "rows": rows})


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one (`id`) or all of my notifications read, then follow its link if it has one."""
    user = signed_in_user(request)
    raw = request.POST.get("id")
    number = whole_number(raw)
    if raw and number is None:  # not an id: nothing to mark (and not everything)
        return redirect("followups:notifications")
    if number is not None:
        notifications_mark_read(user=user, ids=[number])
        target = (
            Notification.objects.filter(recipient=user, pk=number)
            .values_list("link", flat=True)
            .first()
        )
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return redirect(target)
    else:
        notifications_mark_read(user=user)
    return redirect("followups:notifications")


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=cast(Any, settings.LANGUAGE_COOKIE_SAMESITE),
    )


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """How I am told: the language of messages, e-mail, text messages, a daily digest. Saving
    the language also switches the pages to it."""
    user = signed_in_user(request)
    preference = notification_preference(user)
    if request.method == "POST":
        form = NotificationPreferenceForm(request.POST, instance=preference)
        if form.is_valid():
            data = form.cleaned_data
            notification_preference_set(
                user=user,
                language=data["language"],
                by_email=data["by_email"],
                by_sms=data["by_sms"],
                daily_digest=data["daily_digest"],
            )
            response = redirect("followups:notification_settings")
            _set_language_cookie(response, data["language"])
            with translation.override(data["language"]):
                messages.success(request, _("Your notification settings were saved."))
            return response
    else:
        form = NotificationPreferenceForm(instance=preference)
    return render(
        request,
        "followups/notification_settings.html",
        {"form": form, "has_email": bool(user.email), "has_phone": bool(user.phone)},
    )


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch; for a signed-in user it also becomes the language their
    e-mails and text messages are written in."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if (
        request.method == "POST"
        and user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and response.cookies.get(settings.LANGUAGE_COOKIE_NAME) is not None
    ):
        notification_preference_set(user=user, language=language)
    return response
