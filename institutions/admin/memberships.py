"""Memberships in the admin site: the system administrator asks for them, the security
administrator approves or refuses them, and each step is in the access log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from institutions.admin.site import NoDeleteMixin, admin_record, site
from institutions.models import Membership, Region, User
from institutions.services import (
    administrator_roles_check,
    membership_approve,
    membership_end,
    membership_refuse,
    membership_request,
    membership_request_check,
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
