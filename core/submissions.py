"""One-time submission keys: a form posted twice (a double tap on a slow network, a resent
request) makes one record, and the repeat is answered with the first result.

The form carries a hidden key (`{% submission_key %}` from the `submissions` template library,
placed beside `{% csrf_token %}`); the view takes `SubmitOnceMixin`. The first POST with a key
claims it in the same transaction as the record it makes; a POST that ends in a redirect keeps
the claim with that redirect as its result, any other answer (a form shown again with errors)
releases it so that the corrected form can be sent with the same key. A repeat with a claimed
key is redirected to the first result and makes nothing; a repeat that arrives while the first
is still being saved waits for it on the key's unique index.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from core.models import Submission

FIELD_NAME = "submission_key"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def new_key() -> str:
    return str(uuid.uuid4())


def posted_key(request: HttpRequest) -> uuid.UUID | None:
    """The key a POST carries, or None when it carries none (or garbage)."""
    raw = request.POST.get(FIELD_NAME, "") if request.method == "POST" else ""
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def result_url(response: HttpResponseBase) -> str:
    """Where a successful POST sent the user: its redirect (or htmx's), else ""."""
    if response.status_code in REDIRECT_STATUSES and response.has_header("Location"):
        return str(response["Location"])
    for header in ("HX-Redirect", "HX-Location"):
        if response.has_header(header):
            return str(response[header])
    return ""


def replay(request: HttpRequest, url: str) -> HttpResponse:
    """The answer to a repeated POST: the first result, and a word that nothing new was made."""
    messages.info(request, _("This was already saved; here is what the first submission saved."))
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def submit_once(request: HttpRequest, handler: Callable[[], HttpResponseBase]) -> HttpResponseBase:
    """Run `handler` for a POST once per (user, key); a repeat gets the first redirect."""
    key = posted_key(request)
    user = request.user
    if key is None or not user.is_authenticated:
        return handler()
    earlier = Submission.objects.filter(user=user, key=key).exclude(result_url="").first()
    if earlier is not None:
        return replay(request, earlier.result_url)
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = Submission.objects.create(user=user, key=key, path=request.path[:300])
        except IntegrityError:
            # The same key is being (or was just) saved by a concurrent request, now committed.
            earlier = Submission.objects.filter(user=user, key=key).first()
            if earlier is not None and earlier.result_url:
                return replay(request, earlier.result_url)
            return handler()  # not reachable in practice: a committed claim has its result
        response = handler()
        url = result_url(response)
        if url and response.status_code < 400:
            claim.result_url = url[:500]
            claim.save(update_fields=["result_url"])
        else:
            claim.delete()
        return response


class SubmitOnceMixin:
    """For a view whose POST makes or changes a record: a repeated POST does it only once.

    Put it first among the bases. The whole POST (the view's own sign-in, permission and scope
    checks included) runs inside the key's claim: a refusal or an error releases the claim, and
    a repeat is only ever sent to the user's own earlier result, which checks access again.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        handle = super().dispatch  # type: ignore[misc]
        if request.method != "POST":
            return handle(request, *args, **kwargs)
        return submit_once(request, lambda: handle(request, *args, **kwargs))
