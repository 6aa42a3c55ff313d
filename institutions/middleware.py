"""Session safety: idle sign-out, the two-factor step, and response security headers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import logout
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from core.notifications import notification_preference
from institutions.principal import principal_for
from institutions.twofactor import two_factor_step

Handler = Callable[[HttpRequest], HttpResponse]

# Only rewrite the session timestamp this often: fewer writes, same effect.
_TOUCH_EVERY_SECONDS = 30


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


SESSION_LANGUAGE = "preferred_language"


def remember_language_at_sign_in(sender: Any, request: HttpRequest, user: Any, **_: Any) -> None:
    """`user_logged_in` receiver: keep the user's chosen language in the session."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_LANGUAGE] = notification_preference(user).language
        # The idle clock starts at sign-in: the next request has no session to write (the
        # session is written to the database: a write per request would cost one each).
        request.session["last_activity"] = time.time()


class LanguageMiddleware(LocaleMiddleware):
    """Simplified Chinese unless the user chose another language: with the switch on this
    device (its cookie), or in their notification settings (remembered in the session when
    they sign in, so a new device speaks their language from the first page).

    The browser's Accept-Language is not consulted for pages: staff on borrowed or English-set
    devices should still get the interface their colleagues use. The API (/api/) follows
    Accept-Language instead: its callers are other systems that say what they want.
    """

    def process_request(self, request: HttpRequest) -> None:
        supported = {code for code, _name in settings.LANGUAGES}
        if _is_api(request):
            # Another system's client names its language per request (issue 14): the API
            # answers in the language of Accept-Language, Simplified Chinese by default.
            language = translation.get_language_from_request(request)
            chosen = language if request.headers.get("Accept-Language") else ""
        else:
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "") or (
                request.session.get(SESSION_LANGUAGE, "") if hasattr(request, "session") else ""
            )
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class IdleTimeoutMiddleware:
    """Signs a user out after SESSION_IDLE_TIMEOUT without a request."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last = request.session.get("last_activity")
            limit = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            if last is not None and now - float(last) > limit:
                logout(request)
                minutes = int(limit // 60)
                text = _("You were signed out after %(minutes)d minutes without activity.") % {
                    "minutes": minutes
                }
                if _is_api(request):
                    return JsonResponse({"detail": text}, status=401)
                messages.info(request, text)
                response = redirect_to_login(request.get_full_path())
                if getattr(request, "htmx", False):
                    response["HX-Redirect"] = response["Location"]
                return response
            if last is None or now - float(last) > _TOUCH_EVERY_SECONDS:
                request.session["last_activity"] = now
        return self.get_response(request)


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with `request.user` read at once rather than behind a lazy proxy. Every page
    reads the user (the two-factor check below does, before any view), and a page reads its
    attributes hundreds of times: through a proxy, each read costs a failed attribute lookup
    and a call. A request without a signed-in session still costs no query."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = auth.get_user(request)


class TwoFactorMiddleware(OTPMiddleware):
    """django-otp's middleware (`request.user.is_verified()`), knowing the session's device from
    the user's principal (institutions.principal: the ids of their confirmed devices, kept
    between requests) instead of reading the device on every request. The device itself is
    read only if something uses `request.user.otp_device`. A device deleted or no longer
    confirmed renews the principal, so the session stops counting as verified at once."""

    def __call__(self, request: HttpRequest) -> Any:
        if self._is_async:
            return super().__call__(request)
        # Verified at once, as the user is read (AuthenticationMiddleware above): no second
        # lazy proxy in front of every attribute of `request.user`.
        user = getattr(request, "user", None)
        if user is not None:
            request.user = self._verify_user_sync(request, user)
        return self.get_response(request)

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        self._init_user_fields(user)
        persistent_id = (
            request.session.get(DEVICE_ID_SESSION_KEY) if user.is_authenticated else None
        )
        if persistent_id:
            principal = principal_for(user)
            if principal is not None and persistent_id in principal.device_ids:
                user.otp_device = SimpleLazyObject(lambda: Device.from_persistent_id(persistent_id))
            else:
                user.otp_device = self._finalize_device(request, user, None)
        return user


class TwoFactorRequiredMiddleware:
    """Sends a signed-in user who owes a two-factor step there before anything else."""

    ALLOWED_URL_NAMES = ("two_factor_setup", "two_factor_verify", "logout", "set_language")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = two_factor_step(request.user)  # type: ignore[arg-type]
        if step is not None and not self._allowed(request):
            if _is_api(request):
                return JsonResponse(
                    {"detail": _("Two-factor authentication is required first.")}, status=403
                )
            return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    def _allowed(self, request: HttpRequest) -> bool:
        if request.path.startswith(settings.STATIC_URL):
            return True
        return any(request.path == reverse(name) for name in self.ALLOWED_URL_NAMES)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy: everything the page loads is our own."""

    CSP = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'self'; object-src 'none'"
    )

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.CSP)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.user.is_authenticated:
            # Children's records must not linger in shared browsers' caches.
            response.setdefault("Cache-Control", "no-store")
        return response
