"""The referrals list's export: the referrals of the children the user may see, for the list's
status filter, with each step's date. Clinical details (reason, diagnosis, treatment, outcome)
are never exported: they are for the clinic and the case owner, on the referral's page."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from cases.exports import may_export_children
from core.exports import Column, ExportSpec, register_export, yes_no
from institutions.masking import FieldKind, mask
from institutions.models import Institution, User
from referrals.models import Referral
from referrals.selectors import referral_list

SERVICE_LABELS = dict(Institution.Service.choices)


def referral_rows(user: User, params: QueryDict) -> QuerySet[Referral]:
    """The list's rows: an unknown status lists every status, as the page does."""
    status = params.get("status") or ""
    if status not in Referral.Status.values:
        status = ""
    return referral_list(user=user, status=status)


def _from(referral: Referral) -> str:
    organisation = referral.from_institution or referral.from_agency
    return organisation.name if organisation else ""


REFERRAL_COLUMNS = [
    Column(_("Record number"), lambda r, ctx: r.child.record_number, width=18, text=True),
    Column(_("Name"), lambda r, ctx: r.child.name, field_kind=FieldKind.NAME, width=10),
    Column(_("Referred by"), lambda r, ctx: str(r.from_user), width=12),
    Column(_("Referred from"), lambda r, ctx: _from(r), width=20),
    Column(_("Referred to"), lambda r, ctx: r.to_institution.name, width=20),
    Column(
        _("Service needed"), lambda r, ctx: str(SERVICE_LABELS.get(r.service, r.service)), width=14
    ),
    Column(_("Urgency"), lambda r, ctx: r.get_urgency_display(), width=8),
    Column(_("Status"), lambda r, ctx: r.get_status_display(), width=10),
    Column(_("Overdue"), lambda r, ctx: yes_no(r.is_overdue), width=8),
    Column(_("Created"), lambda r, ctx: r.created_at, width=18),
    Column(_("Sent at"), lambda r, ctx: r.sent_at, width=18),
    Column(
        _("Answer due"),
        lambda r, ctx: r.answer_due_at if r.status == Referral.Status.SENT else None,
        width=18,
    ),
    Column(_("Accepted at"), lambda r, ctx: r.accepted_at, width=18),
    Column(_("Declined at"), lambda r, ctx: r.declined_at, width=18),
    Column(_("First seen at"), lambda r, ctx: r.first_seen_at, width=18),
    Column(_("Discharged at"), lambda r, ctx: r.discharged_at, width=18),
    Column(_("Closed at"), lambda r, ctx: r.closed_at, width=18),
]

REFERRALS = ExportSpec(
    kind="referrals",
    title=_("Referrals"),
    filename="referrals",
    columns=REFERRAL_COLUMNS,
    rows=referral_rows,
    may_export=may_export_children,
    masker=mask,
    child_id=lambda referral: referral.child_id,
)


def register() -> None:
    register_export(REFERRALS)
