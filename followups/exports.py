"""Exports of the followups app: the visits to the children in scope (by region, dates and
kind: there is no visits list, so the export has its own page of filters) and the task lists
(the user's own, or a supervisor's overdue tasks of their team)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict
from django.utils.translation import gettext_lazy as _

from cases.exports import filter_errors, may_export_children
from core.exports import Column, ExportContext, ExportSpec, register_export, yes_no
from followups.models import Task, Visit
from followups.selectors import my_tasks, team_overdue, visits_visible_to
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.masking import FieldKind, mask
from institutions.models import User, validate_region_code
from institutions.selectors import region_within_scope

# --- Visits ------------------------------------------------------------------------------------


class VisitExportFilterForm(BootstrapFormMixin, forms.Form):
    """Which visits to export: a region subtree (the child's residence or household), a date
    range and a kind; all optional."""

    region = forms.CharField(
        label=_("Region code"), required=False, validators=[validate_region_code]
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Visit.Kind.choices]
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


def visit_rows(user: User, params: QueryDict) -> QuerySet[Visit]:
    """The visits to the children `user` may see, newest first, narrowed by the filters; a
    region outside the user's scope is 404."""
    form = VisitExportFilterForm(params)
    if not form.is_valid():
        raise filter_errors(form)
    data = form.cleaned_data
    qs = visits_visible_to(user).select_related("child__residence_region")
    if data["region"]:
        if not region_within_scope(user, data["region"]):
            raise Http404
        qs = qs.filter(
            Q(child__residence_region__code__startswith=data["region"])
            | Q(child__household_region__code__startswith=data["region"])
        )
    if data["date_from"]:
        qs = qs.filter(visited_on__gte=data["date_from"])
    if data["date_to"]:
        qs = qs.filter(visited_on__lte=data["date_to"])
    if data["kind"]:
        qs = qs.filter(kind=data["kind"])
    return qs.order_by("-visited_on", "-id")


def _labels(choices: Any, values: list[str]) -> str:
    names = dict(choices)
    return "、".join(str(names.get(v, v)) for v in values)


def _note(visit: Visit, ctx: ExportContext) -> str:
    # A note marked confidential is shown only to the roles that read confidential notes.
    return mask(
        ctx.user, FieldKind.CONFIDENTIAL_NOTE, visit.note, sensitive=visit.note_confidential
    )


VISIT_COLUMNS = [
    Column(_("Record number"), lambda v, ctx: v.child.record_number, width=18, text=True),
    Column(_("Name"), lambda v, ctx: v.child.name, field_kind=FieldKind.NAME, width=10),
    Column(_("Current residence"), lambda v, ctx: v.child.residence_region.name, width=14),
    Column(_("Date"), lambda v, ctx: v.visited_on, width=12),
    Column(_("Kind"), lambda v, ctx: v.get_kind_display(), width=12),
    Column(_("Visited by"), lambda v, ctx: str(v.visitor), width=12),
    Column(_("Present"), lambda v, ctx: _labels(Visit.Present.choices, v.present), width=14),
    Column(_("Concerns"), lambda v, ctx: _labels(Visit.Concern.choices, v.concerns), width=20),
    Column(_("Observed mood"), lambda v, ctx: v.get_mood_display(), width=8),
    Column(_("Guardian informed"), lambda v, ctx: yes_no(v.guardian_informed), width=8),
    Column(_("Next step"), lambda v, ctx: v.get_next_step_display(), width=16),
    Column(_("Flagged"), lambda v, ctx: yes_no(v.flagged), width=6),
    Column(_("Reviewed at"), lambda v, ctx: v.reviewed_at, width=18),
    Column(_("Note"), _note, identifying=True, width=30),
]

VISITS = ExportSpec(
    kind="visits",
    title=_("Visits"),
    filename="visits",
    columns=VISIT_COLUMNS,
    rows=visit_rows,
    may_export=may_export_children,
    masker=mask,
    child_id=lambda visit: visit.child_id,
)

# --- Tasks -------------------------------------------------------------------------------------


def task_rows(user: User, params: QueryDict) -> QuerySet[Task]:
    """`scope=team`: a supervisor's overdue tasks of their team (404 for others, as the page);
    otherwise the user's own tasks still to do, in the order of their work list."""
    if params.get("scope") == "team":
        if not user.has_perm("followups.review_visit"):
            raise Http404
        return (
            team_overdue(user)
            .select_related("child", "assignee", "escalated_to")
            .order_by("-child__risk_level", "due_on", "id")
        )
    return my_tasks(user).select_related("assignee", "escalated_to")


TASK_COLUMNS = [
    Column(_("Record number"), lambda t, ctx: t.child.record_number, width=18, text=True),
    Column(_("Name"), lambda t, ctx: t.child.name, field_kind=FieldKind.NAME, width=10),
    Column(_("Risk level"), lambda t, ctx: t.child.get_risk_level_display(), width=8),
    Column(_("Kind"), lambda t, ctx: t.get_kind_display(), width=16),
    Column(_("Due"), lambda t, ctx: t.due_on, width=12),
    Column(_("Overdue"), lambda t, ctx: yes_no(t.due_on < ctx.today), width=6),
    Column(_("Status"), lambda t, ctx: t.get_status_display(), width=8),
    Column(_("Assigned to"), lambda t, ctx: str(t.assignee) if t.assignee else "", width=12),
    Column(
        _("Escalated to"), lambda t, ctx: str(t.escalated_to) if t.escalated_to else "", width=12
    ),
    Column(_("Created"), lambda t, ctx: t.created_at, width=18),
]

TASKS = ExportSpec(
    kind="tasks",
    title=_("Tasks"),
    filename="tasks",
    columns=TASK_COLUMNS,
    rows=task_rows,
    may_export=may_export_children,
    masker=mask,
    child_id=lambda task: task.child_id,
)


def register() -> None:
    register_export(VISITS, TASKS)
