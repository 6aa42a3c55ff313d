"""One JSON shape for every error the API returns.

    {"code": "invalid", "message": "…", "fields": {"birth_date": ["…"]}}

`code` is stable and machine-readable, `message` is in the request's language, and `fields`
(present only for invalid input) holds the messages of each field, with "non_field_errors" for
the input as a whole. The DRF views answer through `exception_handler`; the API's URLs that no
view answers (an unknown path, a request Django refuses before any view, a server error) through
`json_error` from the project's error handlers, so no HTML page and no stack trace leaves the
API.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.csrf import csrf_failure as page_csrf_failure
from psycopg import errors as psycopg_errors
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"


class Conflict(exceptions.APIException):
    """The record's state refuses the write (already closed, already sent, taken meanwhile by
    someone else); nothing was written."""

    status_code = 409
    default_code = "conflict"
    default_detail = gettext_lazy("The record is not in a state that allows this.")


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _messages(detail: Any) -> list[str]:
    """The flat list of messages in a field's error detail."""
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, list[str]]:
    """{field: [messages]} from a ValidationError's detail; nested fields joined with dots."""
    if isinstance(detail, list):
        return {"non_field_errors": _messages(detail)}
    if not isinstance(detail, dict):
        return {"non_field_errors": [str(detail)]}
    fields: dict[str, list[str]] = {}
    for name, value in detail.items():
        if isinstance(value, dict):
            for inner, messages in _fields(value).items():
                key = name if inner == "non_field_errors" else f"{name}.{inner}"
                fields.setdefault(key, []).extend(messages)
        else:
            fields[str(name)] = _messages(value)
    return fields


# The message of each kind of error, in the request's language (DRF's own messages are
# English-only details such as "Not found."; ours are translated).
def _message_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return _("The input is not valid: see the fields.")
    if isinstance(exc, exceptions.NotFound):
        return _("Not found.")
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        detail = str(exc.detail)
        default = str(type(exc).default_detail)
        return detail if detail != default else _("Sign in or send a valid token.")
    if isinstance(exc, exceptions.PermissionDenied):
        detail = str(exc.detail)
        if detail != str(exceptions.PermissionDenied.default_detail):
            return detail
        return _("You do not have permission to do this.")
    if isinstance(exc, exceptions.Throttled):
        return _("Too many requests: try again in %(seconds)s seconds.") % {
            "seconds": int(getattr(exc, "wait", None) or 1)
        }
    if isinstance(exc, exceptions.MethodNotAllowed):
        return _("This method is not allowed here.")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return _("This content type is not accepted; send JSON.")
    if isinstance(exc, exceptions.NotAcceptable):
        return _("This response format is not available.")
    if isinstance(exc, exceptions.ParseError):
        detail = str(exc.detail)
        return (
            detail
            if detail != str(exceptions.ParseError.default_detail)
            else _("The request could not be read.")
        )
    return str(exc.detail)


def _code_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every handled error in the one shape. Anything unhandled
    propagates to the project's 500 handler, which answers the API in the same shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    body: dict[str, Any] = {"code": _code_for(exc), "message": _message_for(exc)}
    if isinstance(exc, exceptions.ValidationError):
        body["fields"] = _fields(exc.detail)
    response.data = body
    return response


def json_error(status_code: int) -> JsonResponse:
    """The error shape for a request no API view answered (Django's own 400/403/404/500)."""
    code, message = {
        status.HTTP_400_BAD_REQUEST: ("bad_request", _("The request could not be read.")),
        status.HTTP_403_FORBIDDEN: (
            "permission_denied",
            _("You do not have permission to do this."),
        ),
        status.HTTP_404_NOT_FOUND: ("not_found", _("Not found.")),
    }.get(status_code, ("server_error", _("Something went wrong on our side; it has been logged.")))
    return JsonResponse({"code": code, "message": message}, status=status_code)


def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """A path under /api/ that no endpoint answers."""
    return json_error(status.HTTP_404_NOT_FOUND)


def _database_unreachable(error: BaseException | None) -> bool:
    """A connection that failed or was lost, not a statement the database refused (a timeout,
    a deadlock, a lock not granted: psycopg files those under OperationalError too)."""
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    refused = (
        psycopg_errors.QueryCanceled,
        psycopg_errors.TransactionRollback,
        psycopg_errors.DeadlockDetected,
        psycopg_errors.SerializationFailure,
        psycopg_errors.LockNotAvailable,
    )
    return not isinstance(error.__cause__, refused)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The answer while the database cannot be reached (restarting, failing over): 503 with
    a message that says so and that nothing was saved, and when to try again. The page is
    rendered from a template that needs no database."""
    message = _(
        "The database cannot be reached just now, so nothing was saved. Try again in a minute."
    )
    if is_api_request(request):
        response: HttpResponse = JsonResponse(
            {"code": "database_unavailable", "message": message},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    else:
        response = HttpResponse(
            render_to_string("503.html", {"message": message}),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    response["Retry-After"] = "30"
    return response


def page_or_json(default_handler: Any, status_code: int) -> Any:
    """A project error handler (handler400/403/404/500) that answers the API in its JSON shape
    and the pages with `default_handler`. An error because the database cannot be reached
    (in a view or a middleware) is a 503 that says so."""

    def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if status_code == 500 and _database_unreachable(sys.exc_info()[1]):
            return database_unavailable(request)
        if is_api_request(request):
            return json_error(status_code)
        return default_handler(request, *args, **kwargs)

    return handler


def csrf_failure(request: HttpRequest, reason: str = "") -> Any:
    """CSRF_FAILURE_VIEW: a session's write under /api/ without its CSRF token is refused in
    the API's shape; the pages keep Django's page."""
    if is_api_request(request):
        body = {
            "code": "csrf_failed",
            "message": _(
                "A signed-in session must send its CSRF token with a write (or use a token)."
            ),
        }
        return JsonResponse(body, status=status.HTTP_403_FORBIDDEN)
    return page_csrf_failure(request, reason=reason)
