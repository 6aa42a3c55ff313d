"""The children list's export: the same rows as the list for the same filters (ChildFilter on
the scoped `child_list`), with the columns of the file a supervisor works from."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404, QueryDict
from django.utils.translation import gettext_lazy as _

from cases.filters import AUDIT_TIMEZONE, AccessEventFilter, ChildFilter
from cases.identity import national_id_for
from cases.models import Child, Guardian
from cases.selectors.audit import access_events, may_audit
from cases.selectors.children import child_list
from core.exports import Column, ExportContext, ExportSpec, register_export, yes_no
from core.models import AccessEvent
from institutions.masking import FieldKind, mask
from institutions.models import User
from institutions.selectors import region_within_scope

EXPORT_PERMISSION = "cases.export_child"


def may_export_children(user: User) -> bool:
    """Children's data leave the system only with the export permission (and the list's)."""
    return user.has_perm(EXPORT_PERMISSION) and user.has_perm("cases.view_child")


def filter_errors(form: Any) -> ValidationError:
    """A bound filter form's errors, as one error with a message per field."""
    return ValidationError(
        [
            f"{form.fields[name].label}: {' '.join(str(e) for e in errors)}"
            if name in form.fields
            else " ".join(str(e) for e in errors)
            for name, errors in form.errors.items()
        ]
    )


def children_rows(user: User, params: QueryDict) -> QuerySet[Child]:
    """The children list's rows for these filters; a region outside the user's scope is 404."""
    filterset = ChildFilter(params, queryset=child_list(user=user), user=user)
    if not filterset.is_valid():
        raise filter_errors(filterset.form)
    region = (params.get("region") or "").strip()
    if region and not region_within_scope(user, region):
        raise Http404
    guardians = Guardian.objects.filter(is_active=True).order_by("-is_primary_contact", "id")
    return filterset.qs.select_related(
        "household_region", "residential_institution"
    ).prefetch_related(Prefetch("guardians", queryset=guardians, to_attr="current_guardians"))


def _guardian(child: Child) -> Guardian | None:
    guardians = getattr(child, "current_guardians", None) or []
    return guardians[0] if guardians else None


def _guardian_name(child: Child, ctx: ExportContext) -> str:
    guardian = _guardian(child)
    return guardian.name if guardian else ""


def _guardian_phone(child: Child, ctx: ExportContext) -> str:
    guardian = _guardian(child)
    return guardian.phone if guardian else ""


def _national_id(child: Child, ctx: ExportContext) -> str:
    # Decrypted only for a role that may see it whole; the masker then leaves it as it is.
    return national_id_for(user=ctx.user, child=child)


CHILD_COLUMNS = [
    Column(_("Record number"), lambda c, ctx: c.record_number, width=18, text=True),
    Column(_("Name"), lambda c, ctx: c.name, field_kind=FieldKind.NAME, width=10),
    Column(_("Sex"), lambda c, ctx: c.get_sex_display(), width=6),
    Column(_("Date of birth"), lambda c, ctx: c.birth_date, width=12),
    Column(_("Age"), lambda c, ctx: c.age(ctx.today), width=6),
    Column(_("National ID"), _national_id, field_kind=FieldKind.NATIONAL_ID, width=20, text=True),
    Column(_("Current residence"), lambda c, ctx: c.residence_region.name, width=14),
    Column(_("Residence region code"), lambda c, ctx: c.residence_region_id, width=14, text=True),
    Column(_("Household registration"), lambda c, ctx: c.household_region.name, width=14),
    Column(_("Categories"), lambda c, ctx: "、".join(c.category_labels), width=20),
    Column(_("School"), lambda c, ctx: c.school.name if c.school else "", width=18),
    Column(_("Grade"), lambda c, ctx: c.grade, width=6),
    Column(_("Class"), lambda c, ctx: c.class_name, width=8),
    Column(
        _("Residential institution"),
        lambda c, ctx: c.residential_institution.name if c.residential_institution else "",
        width=18,
    ),
    Column(_("Risk level"), lambda c, ctx: c.get_risk_level_display(), width=8),
    Column(_("Active care plan"), lambda c, ctx: yes_no(c.has_active_plan), width=8),
    Column(_("Status"), lambda c, ctx: c.get_status_display(), width=8),
    Column(_("Guardian"), _guardian_name, field_kind=FieldKind.NAME, width=10),
    Column(_("Guardian's phone"), _guardian_phone, field_kind=FieldKind.PHONE, width=14),
    Column(_("Registered"), lambda c, ctx: c.created_at, width=18),
]

CHILDREN = ExportSpec(
    kind="children",
    title=_("Children"),
    filename="children",
    columns=CHILD_COLUMNS,
    rows=children_rows,
    may_export=may_export_children,
    masker=mask,
    child_id=lambda child: child.pk,
)


def access_log_rows(user: User, params: QueryDict) -> QuerySet[AccessEvent]:
    """The access log for the auditor's filters, as its page lists it (newest first)."""
    filterset = AccessEventFilter(params, queryset=access_events(user=user))
    if not filterset.is_valid():
        raise filter_errors(filterset.form)
    return (
        filterset.qs.select_related("user", "child")
        .only(
            "at", "action", "path", "ip_address", "detail", "user__username", "child__record_number"
        )
        .order_by("-at", "-id")
    )


# The log names a child by record number only; an auditor does not read children's files.
ACCESS_LOG_COLUMNS = [
    Column(
        _("Time"), lambda e, ctx: e.at.astimezone(AUDIT_TIMEZONE).replace(tzinfo=None), width=18
    ),
    Column(_("User"), lambda e, ctx: e.user.username if e.user else "", width=14),
    Column(_("Action"), lambda e, ctx: e.get_action_display(), width=12),
    Column(_("Record number"), lambda e, ctx: e.child.record_number if e.child else "", width=14),
    Column(_("Path"), lambda e, ctx: e.path, width=30),
    Column(_("IP address"), lambda e, ctx: e.ip_address or "", width=14),
    Column(_("Detail"), lambda e, ctx: json.dumps(e.detail, ensure_ascii=False), width=30),
]

ACCESS_LOG = ExportSpec(
    kind="access_log",
    title=_("Access log"),
    filename="access-log",
    columns=ACCESS_LOG_COLUMNS,
    rows=access_log_rows,
    may_export=may_audit,
    masker=mask,
    child_id=lambda event: event.child_id,
)


def register() -> None:
    register_export(CHILDREN, ACCESS_LOG)
