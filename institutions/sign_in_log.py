"""Signing in and out in the access log (MLPS: who came in, who tried and failed, who was
locked out): receivers of Django's and django-axes' signals, connected in `ready()`. The API's
token sign-in writes its own entry (institutions.api_tokens)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.access_log import access_record
from core.models import AccessEvent
from institutions.models import User


def _attempted(username: Any) -> tuple[User | None, str]:
    """The account a sign-in named, if it exists, and the name as typed (capped)."""
    name = str(username or "")[:150]
    return User.objects.filter(username=name).first() if name else None, name


def signed_in(sender: Any, request: HttpRequest | None, user: User, **_: Any) -> None:
    access_record(user=user, action=AccessEvent.Action.SIGN_IN, request=request)


def signed_out(sender: Any, request: HttpRequest | None, user: User | None, **_: Any) -> None:
    if user is not None:
        access_record(user=user, action=AccessEvent.Action.SIGN_OUT, request=request)


def sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    account, name = _attempted(credentials.get("username"))
    access_record(
        user=account,
        action=AccessEvent.Action.SIGN_IN_FAILED,
        request=request,
        detail={"username": name},
    )


def locked_out(sender: Any, request: HttpRequest | None, username: Any, **_: Any) -> None:
    account, name = _attempted(username)
    access_record(
        user=account,
        action=AccessEvent.Action.LOCKED_OUT,
        request=request,
        detail={"username": name},
    )


def two_factor_event(*, user: User, request: HttpRequest, event: str, **detail: Any) -> None:
    """Two-factor authentication set up, or reset by the security administrator."""
    access_record(
        user=request.user if event == "reset" else user,
        action=AccessEvent.Action.TWO_FACTOR,
        request=request,
        detail={"event": event, "member": user.pk, **detail},
    )


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(signed_in, dispatch_uid="access_log.sign_in")
    user_logged_out.connect(signed_out, dispatch_uid="access_log.sign_out")
    user_login_failed.connect(sign_in_failed, dispatch_uid="access_log.sign_in_failed")
    user_locked_out.connect(locked_out, dispatch_uid="access_log.locked_out")
