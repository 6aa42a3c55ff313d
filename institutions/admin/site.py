"""The admin site: for system and security administrators only, never for children's files.

Separated administrators (三员分立): the system administrator asks for memberships and creates
accounts without a password; the security administrator approves or refuses memberships and
issues one-time set-password links; nobody decides about their own account. Each of these steps
is written to the access log (core.AccessEvent, action "admin") through `admin_record`.

This module holds the site, what every admin page shares, and the third-party models the
administrators manage here; the institutions' own models are registered by the modules beside it
(imported in `InstitutionsConfig.ready()`).
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from core.access_log import access_record
from core.models import AccessEvent, OutboxMessage
from institutions.models import User
from institutions.selectors import scope_for
from institutions.twofactor import two_factor_step


class XinqiaoAdminSite(admin.AdminSite):
    """Admin for administrator roles that have passed any two-factor step they owe."""

    site_header = _("Xinqiao administration")
    site_title = _("Xinqiao administration")
    index_title = _("Organisations, users and roles")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and scope_for(user).may_use_admin_site
            and two_factor_step(user) is None
        )


site = XinqiaoAdminSite(name="admin")

# Security administrators unlock accounts (axes) and reset lost authenticators (django-otp) here.
site.register(AccessAttempt, AccessAttemptAdmin)
site.register(AccessFailureLog, AccessFailureLogAdmin)
site.register(AccessLog, AccessLogAdmin)


class LoggedTOTPDeviceAdmin(TOTPDeviceAdmin):
    """Authenticators (the security administrator's): removing one resets that user's
    two-factor authentication, which the access log records."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete_queryset(request, TOTPDevice.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        from institutions.sign_in_log import two_factor_event

        for device in queryset.select_related("user"):
            two_factor_event(user=device.user, request=request, event="reset", devices=1)
        queryset.delete()


site.register(TOTPDevice, LoggedTOTPDeviceAdmin)


@admin.register(AuthToken, site=site)
class AuthTokenAdmin(admin.ModelAdmin):
    """API tokens (only their public prefix and hash are stored): the security administrator
    revokes one by deleting it. Tokens are issued through the API only."""

    list_display = ("token_key", "user", "created", "expiry")
    list_filter = ("created", "expiry")
    search_fields = ("user__username", "token_key")
    readonly_fields = ("digest", "token_key", "user", "created", "expiry")
    ordering = ("-created",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete_queryset(request, AuthToken.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for token in queryset.select_related("user"):
            admin_record(
                request=request,
                event="api_token_revoked",
                token_key=token.token_key,
                of_user=token.user.username,
            )
        queryset.delete()


# System administrators see and pause the scheduled jobs.
site.register(PeriodicTask, PeriodicTaskAdmin)


@admin.register(OutboxMessage, site=site)
class OutboxMessageAdmin(admin.ModelAdmin):
    """The outbox (core.jobs), read only: jobs waiting for the broker (not sent), and when each
    was sent and finished. Jobs name records by id only, never a child's details."""

    list_display = ("created_at", "task", "sent_at", "finished_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), "task")
    fields = readonly_fields = (
        "key",
        "task",
        "args",
        "created_at",
        "attempts",
        "last_error",
        "sent_at",
        "finished_at",
    )
    ordering = ("-id",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NoDeleteMixin:
    """Nothing is hard-deleted from the admin either: records are deactivated instead."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def admin_record(*, request: HttpRequest, user: User | None = None, **detail: Any) -> None:
    """Write one administration step to the access log (no child; `detail` says what)."""
    actor = user if user is not None else request.user
    access_record(
        user=actor,
        action=AccessEvent.Action.ADMIN,
        request=request,
        detail=detail,
    )
