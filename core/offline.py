"""Offline visit logging on a phone (issue 16): the service worker, the web app manifest, and
the answers a queued visit gets when the phone sends it later.

The service worker (`/sw.js`, served from the site's root so that it may control every page)
keeps the app shell (styles, scripts, icons) and the pages a child director needs on a village
road: the home page with the work list, and the visit form of each child on it. A visit saved
without a network waits on the phone (IndexedDB, static/js/offline.js) with its own one-time
submission key, and is sent when the network returns: the key makes the server save it once
however often it arrives (core.submissions). Everything kept on the phone is erased at
sign-out (`Clear-Site-Data`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# The app shell: what every page loads (kept on the phone by the service worker).
SHELL_FILES = (
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap-icons/icons.css",
    "css/app.css",
    "img/favicon.svg",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/htmx/htmx.min.js",
    "js/htmx-errors.js",
    "js/option-search.js",
    "js/offline.js",
)
# A request with this header is a visit sent from the phone's queue: it is answered in JSON.
SYNC_HEADER = "X-Offline-Sync"


@require_GET
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = [static(path) for path in SHELL_FILES]
    version = hashlib.sha256(json.dumps(shell).encode()).hexdigest()[:12]
    body = render_to_string(
        "offline/sw.js",
        {
            "shell": json.dumps(shell),
            "version": version,
            "static_prefix": json.dumps(settings.STATIC_URL),
            "hashed": "true" if settings.STATIC_HASHED else "false",
            "offline_page": json.dumps(
                render_to_string("offline/not_saved.html", {"home": "/"}, request=None)
            ),
        },
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def web_manifest(request: HttpRequest) -> JsonResponse:
    """Lets the phone add the app to its home screen."""
    return JsonResponse(
        {
            "name": _("Xinqiao: children's mental-health care"),
            "short_name": _("Xinqiao"),
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0d6efd",
            "icons": [{"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


def is_sync(request: HttpRequest) -> bool:
    return request.headers.get(SYNC_HEADER) == "1"


def sync_answer(
    request: HttpRequest, response: HttpResponseBase, errors: Any = None
) -> HttpResponseBase:
    """A queued visit's answer in JSON: saved (with where it led), or refused with the
    messages a person reads; a sign-in page for an expired session says so."""
    location = response.get("Location", "") if response.status_code in (301, 302, 303) else ""
    if location.startswith(resolve_url(settings.LOGIN_URL)):
        return JsonResponse(
            {"status": "signed_out", "message": _("Sign in again to send it.")}, status=401
        )
    if location:
        return JsonResponse({"status": "saved", "url": location}, status=200)
    if errors:
        messages = [str(message) for field in errors.values() for message in field]
        return JsonResponse({"status": "refused", "messages": messages}, status=409)
    return response
