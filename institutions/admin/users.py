"""Accounts in the admin site: created without a password; the security administrator issues a
one-time set-password link instead of setting one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from institutions.admin.site import NoDeleteMixin, admin_record, site
from institutions.models import User
from institutions.services import (
    password_link_check,
    password_link_hours,
    password_link_issue,
)
from institutions.sign_in_log import two_factor_event


class AccountCreationForm(forms.ModelForm):
    """A new account has no password: the security administrator issues a set-password link."""

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "phone"]

    def save(self, commit: bool = True) -> User:
        account = super().save(commit=False)
        account.set_unusable_password()
        if commit:
            account.save()
        return account


@admin.register(User, site=site)
class XinqiaoUserAdmin(NoDeleteMixin, UserAdmin):
    """Accounts only: permissions come from memberships (roles.py), never from this page.

    Nobody sets a password here: a new account has none, and the security administrator issues
    a one-time set-password link instead (a page of its own, linked from the account).
    """

    add_form = AccountCreationForm
    change_form_template = "admin/institutions/user/change_form.html"
    list_display = ["username", "display_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff"]
    add_fieldsets = ((None, {"fields": ("username", "display_name", "email", "phone")}),)
    fieldsets = (
        (None, {"fields": ("username", "password_state")}),
        (_("Profile"), {"fields": ("display_name", "first_name", "last_name", "email", "phone")}),
        (
            _("Status"),
            {"fields": ("is_active", "is_staff", "is_demo", "last_login", "date_joined")},
        ),
    )
    readonly_fields = ["password_state", "is_staff", "is_demo", "last_login", "date_joined"]
    actions = ["reset_two_factor"]

    @admin.action(
        description=_("Reset two-factor authentication (a lost phone)"),
        permissions=["reset_two_factor"],
    )
    def reset_two_factor(self, request: HttpRequest, queryset: Any) -> None:
        """The accounts' authenticators removed: each sets up a new one at the next sign-in.
        Each reset is in the access log."""
        with transaction.atomic():
            for account in queryset:
                removed, _kinds = TOTPDevice.objects.filter(user=account).delete()
                two_factor_event(user=account, request=request, event="reset", devices=removed)
        self.message_user(
            request, gettext("Two-factor authentication was reset for the chosen accounts.")
        )

    def has_reset_two_factor_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("institutions.issue_password_link"))

    @admin.display(description=_("password"))
    def password_state(self, obj: User) -> str:
        if obj.has_usable_password():
            return gettext("Set by the user.")
        return gettext("Not set yet: the security administrator issues a set-password link.")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.has_perm("institutions.add_user"):
            # The security administrator may lock an account, not edit who it is.
            readonly += ["username", "display_name", "first_name", "last_name", "email", "phone"]
        return readonly

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """Nobody sets another person's password (issue a set-password link instead)."""
        raise PermissionDenied

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<id>/password-link/",
                self.admin_site.admin_view(self.password_link_view),
                name="institutions_user_password_link",
            ),
            *super().get_urls(),
        ]

    def password_link_view(self, request: HttpRequest, id: str) -> HttpResponse:
        """Issue a one-time set-password link (security administrator): e-mailed to the user if
        they have an address, and shown once on this page to hand over."""
        if not request.user.has_perm("institutions.issue_password_link"):
            raise PermissionDenied
        account = self.get_object(request, unquote(id))
        if account is None:
            raise Http404
        errors: list[str] = []
        link = None
        try:
            password_link_check(user=account, by=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            errors = exc.messages
        if request.method == "POST" and not errors:
            with transaction.atomic():
                link = password_link_issue(
                    user=account,
                    by=request.user,  # type: ignore[arg-type]
                    base_url=request.build_absolute_uri("/"),
                )
                admin_record(
                    request=request,
                    event="password_link_issued",
                    member=account.pk,
                    emailed=link.emailed,
                )
                self.log_change(request, account, gettext("Issued a set-password link."))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Set-password link for %(name)s") % {"name": account.get_username()},
            "opts": self.opts,
            "original": account,
            "errors": errors,
            "link": link,
            "hours": password_link_hours(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/institutions/user/password_link.html", context)
