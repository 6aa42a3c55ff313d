"""The admin site: for system and security administrators only, never for children's files.

Separated administrators (三员分立): the system administrator asks for memberships and creates
accounts without a password; the security administrator approves or refuses memberships and
issues one-time set-password links; nobody decides about their own account. Each of these steps
is written to the access log (cases.AccessEvent, action "admin").

This module and nothing else in `institutions` imports `cases` (the access log): an upward
import to remove when the access log moves to the ground floor.
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import views as auth_views
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.access_log import access_record
from core.models import AccessEvent
from institutions.forms import BootstrapFormMixin
from institutions.models import Agency, Institution, Membership, Region, User
from institutions.selectors import scope_for
from institutions.services import (
    administrator_roles_check,
    membership_approve,
    membership_end,
    membership_refuse,
    membership_request,
    membership_request_check,
    password_link_check,
    password_link_hours,
    password_link_issue,
)
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


def admin_record(*, request: HttpRequest, user: User | None = None, **detail: Any) -> None:
    """Write one administration step to the access log (no child; `detail` says what)."""
    actor = user if user is not None else request.user
    access_record(
        user=actor,
        action=AccessEvent.Action.ADMIN,
        request=request,
        detail=detail,
    )


def _membership_detail(membership: Membership) -> dict[str, Any]:
    return {
        "membership": membership.pk,
        "member": membership.user_id,
        "role": membership.role,
        "jurisdiction": list(membership.jurisdiction),
        "agency": membership.agency_id,
        "institution": membership.institution_id,
    }


class MembershipAdminForm(forms.ModelForm):
    """Jurisdiction codes must name existing regions; the separation rules of the services hold
    here too, as field errors, before anything is saved."""

    class Meta:
        model = Membership
        fields = ["user", "agency", "institution", "role", "jurisdiction", "is_active"]

    # Set by MembershipAdmin.get_form: who is asking.
    request_user: User | None = None

    def clean_jurisdiction(self) -> list[str]:
        codes = sorted(set(self.cleaned_data.get("jurisdiction") or []))
        known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise forms.ValidationError(
                _("Unknown region codes: %(codes)s") % {"codes": ", ".join(unknown)}
            )
        return codes

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        adding = self.instance.pk is None
        member = cleaned.get("user") if adding else self.instance.user
        role = cleaned.get("role") or self.instance.role
        if member is None or not role or "role" not in self.fields:
            return cleaned  # an approved membership can only be ended: nothing to check
        try:
            if adding and self.request_user is not None:
                membership_request_check(by=self.request_user, user=member, role=role)
            else:
                administrator_roles_check(user=member, role=role, exclude_pk=self.instance.pk)
            waiting = Membership.objects.filter(
                user=member,
                agency=cleaned.get("agency") if adding else self.instance.agency,
                institution=cleaned.get("institution") if adding else self.instance.institution,
                role=role,
                approval_status=Membership.Approval.PENDING,
            ).exclude(pk=self.instance.pk)
            if waiting.exists():
                raise ValidationError(_("The same membership already waits for approval."))
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


@admin.register(Membership, site=site)
class MembershipAdmin(NoDeleteMixin, admin.ModelAdmin):
    """The system administrator asks for memberships; the security administrator approves or
    refuses them (the actions of the list). A membership gives nothing until approved, nobody
    changes or decides their own, and an approved one can only be ended: to change its role or
    jurisdiction, ask for a new one, which replaces it when approved."""

    form = MembershipAdminForm
    list_display = ["user", "role", "agency", "institution", "approval_status", "is_active"]
    list_filter = ["approval_status", "role", "is_active"]
    search_fields = ["user__username"]
    raw_id_fields = ["user", "agency", "institution"]
    actions = ["approve_memberships", "refuse_memberships"]

    _ADD_FIELDS = ("user", "agency", "institution", "role", "jurisdiction")
    _RECORD_FIELDS = (
        "is_active",
        "started_on",
        "ended_on",
        "approval_status",
        "requested_by",
        "decided_by",
        "decided_at",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return list(self._ADD_FIELDS)
        return [*self._ADD_FIELDS, *self._RECORD_FIELDS]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        everything = [*self._ADD_FIELDS, *self._RECORD_FIELDS]
        if obj.approval_status == Membership.Approval.PENDING:
            # A request may still be corrected; it stays a request.
            return [f for f in everything if f not in ("role", "jurisdiction")]
        if obj.is_active:
            return [f for f in everything if f != "is_active"]  # it can only be ended
        return everything

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.user_id == request.user.pk:
            return False  # nobody changes their own membership
        return super().has_change_permission(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form: Any = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if not change:
            created = membership_request(
                by=request.user,  # type: ignore[arg-type]
                user=obj.user,
                role=obj.role,
                agency=obj.agency,
                institution=obj.institution,
                jurisdiction=obj.jurisdiction,
            )
            # The admin goes on with `obj` (its log entry and redirect): make it the saved row.
            obj.pk = created.pk
            obj._state.adding = False
            for field in ("is_active", "approval_status", "requested_by", "started_on"):
                setattr(obj, field, getattr(created, field))
            admin_record(request=request, event="membership_requested", **_membership_detail(obj))
            return
        if "is_active" in form.changed_data and not obj.is_active:
            membership_end(membership=obj)
            admin_record(request=request, event="membership_ended", **_membership_detail(obj))
            return
        super().save_model(request, obj, form, change)
        if form.changed_data:
            admin_record(
                request=request,
                event="membership_request_changed",
                changed=list(form.changed_data),
                **_membership_detail(obj),
            )

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("institutions.approve_membership")

    def _decide(self, request: HttpRequest, queryset: QuerySet[Membership], approve: bool) -> None:
        decide = membership_approve if approve else membership_refuse
        event = "membership_approved" if approve else "membership_refused"
        done = 0
        for membership in queryset.select_related("user"):
            try:
                with transaction.atomic():
                    decided = decide(membership=membership, by=request.user)  # type: ignore[arg-type]
                    admin_record(request=request, event=event, **_membership_detail(decided))
                    self.log_change(request, decided, str(decided.get_approval_status_display()))
            except ValidationError as exc:
                self.message_user(
                    request,
                    f"{membership}: {' '.join(exc.messages)}",
                    level=messages.ERROR,
                )
            else:
                done += 1
        if done:
            text = (
                _("%(count)d membership(s) approved.")
                if approve
                else _("%(count)d membership(s) refused.")
            )
            self.message_user(request, text % {"count": done}, level=messages.SUCCESS)

    @admin.action(description=_("Approve the selected memberships"), permissions=["approve"])
    def approve_memberships(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Refuse the selected memberships"), permissions=["approve"])
    def refuse_memberships(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        self._decide(request, queryset, approve=False)


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


class OwnPasswordForm(BootstrapFormMixin, SetPasswordForm):
    """The new password, twice, checked by the password rules."""


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The page a one-time set-password link opens; that a password was set is logged."""

    form_class = OwnPasswordForm
    template_name = "registration/password_set.html"
    success_url = reverse_lazy("password_set_done")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        signed_in = self.request.user.pk if self.request.user.is_authenticated else None
        admin_record(
            request=self.request,
            user=form.user,
            event="password_set_by_link",
            member=form.user.pk,
            signed_in_as=signed_in,
        )
        return response


class PasswordSetDoneView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_set_done.html"
