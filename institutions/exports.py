"""The training report's export: hours trained in a year per staff member under the supervisor,
the same rows as the report page for the same year, search and sort."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from core.exports import Column, ExportSpec, register_export
from institutions.masking import mask
from institutions.models import User
from institutions.training import report_year, training_hours_report

REPORT_PERMISSION = "institutions.view_training_report"


def training_report_rows(user: User, params: QueryDict) -> QuerySet[User]:
    return training_hours_report(
        user=user,
        year=report_year(params.get("year") or ""),
        search=(params.get("q") or "")[:100],
        sort=params.get("sort") or "hours",
    )


# Staff names are not a child's data: shown whole, and left out of a de-identified export.
TRAINING_COLUMNS = [
    Column(_("Staff member"), lambda u, ctx: str(u), identifying=True, width=12),
    Column(_("User name"), lambda u, ctx: u.username, identifying=True, width=14),
    Column(_("Organisation"), lambda u, ctx: u.organisation or "", width=24),
    Column(_("Hours"), lambda u, ctx: u.hours, width=8),
    Column(_("Trainings"), lambda u, ctx: u.sessions, width=8),
]

TRAINING_REPORT = ExportSpec(
    kind="training_report",
    title=_("Training hours"),
    filename="training-hours",
    columns=TRAINING_COLUMNS,
    rows=training_report_rows,
    may_export=lambda user: user.has_perm(REPORT_PERMISSION),
    masker=mask,
)


def register() -> None:
    register_export(TRAINING_REPORT)
