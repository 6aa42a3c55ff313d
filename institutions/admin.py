"""The admin site: for system and security administrators only, never for children's files."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from institutions.models import Agency, Institution, Membership, Region, User
from institutions.selectors import scope_for
from institutions.services import user_roles_sync
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
site.register(TOTPDevice, TOTPDeviceAdmin)
# System administrators see and pause the scheduled jobs.
site.register(PeriodicTask, PeriodicTaskAdmin)


class NoDeleteMixin:
    """Nothing is hard-deleted from the admin either: records are deactivated instead."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Region, site=site)
class RegionAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    show_full_result_count = False


@admin.register(Agency, site=site)
class AgencyAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "region__code"]
    raw_id_fields = ["region"]


@admin.register(Institution, site=site)
class InstitutionAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "region__code"]
    raw_id_fields = ["region", "supervising_agency"]


class MembershipAdminForm(forms.ModelForm):
    """Jurisdiction codes must name existing regions, as membership_grant requires."""

    class Meta:
        model = Membership
        fields = ["user", "agency", "institution", "role", "jurisdiction", "is_active", "ended_on"]

    def clean_jurisdiction(self) -> list[str]:
        codes = sorted(set(self.cleaned_data.get("jurisdiction") or []))
        known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise forms.ValidationError(
                _("Unknown region codes: %(codes)s") % {"codes": ", ".join(unknown)}
            )
        return codes


@admin.register(Membership, site=site)
class MembershipAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Memberships edited here still give and take role groups, as the services do."""

    form = MembershipAdminForm

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A membership belongs to one person and one organisation: end it and add another.
        return ["user", "agency", "institution", "ended_on"] if obj is not None else ["ended_on"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        with transaction.atomic():
            if not obj.is_active and obj.ended_on is None:
                obj.ended_on = timezone.localdate()
            super().save_model(request, obj, form, change)
            user_roles_sync(obj.user)

    list_display = ["user", "role", "agency", "institution", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username"]
    raw_id_fields = ["user", "agency", "institution"]


@admin.register(User, site=site)
class XinqiaoUserAdmin(NoDeleteMixin, UserAdmin):
    """Accounts only: permissions come from memberships (roles.py), never from this page."""

    list_display = ["username", "display_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Profile"), {"fields": ("display_name", "first_name", "last_name", "email", "phone")}),
        (
            _("Status"),
            {"fields": ("is_active", "is_staff", "is_demo", "last_login", "date_joined")},
        ),
    )
    readonly_fields = ["is_staff", "is_demo", "last_login", "date_joined"]
