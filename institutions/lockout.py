"""The answer to a locked-out sign-in (django-axes' AXES_LOCKOUT_CALLABLE): the page for the
sign-in form, the API's error shape for a token request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.api_errors import is_api_request


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    # django-axes fills in its defaults on Django's settings object when it loads.
    status = int(getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429))
    if is_api_request(request):
        message = _(
            "Too many failed sign-in attempts. This account is locked for a while; try again "
            "later or ask your security administrator to unlock it."
        )
        return JsonResponse({"code": "locked_out", "message": message}, status=status)
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=status)
