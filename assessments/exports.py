"""Exports of screenings: the list of sessions the user may see, and one session's summary (each
current result of a child the user may see, with its band and whether it is at or above the
summary's threshold). Item-level answers are never exported."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment, ScreeningSession
from assessments.screening.summary import THRESHOLD
from assessments.selectors import assessments_visible_to, sessions_visible_to
from cases.exports import may_export_children
from cases.models import RiskLevel
from core.exports import Column, ExportContext, ExportSpec, register_export, yes_no
from core.inputs import whole_number
from institutions.masking import FieldKind, mask
from institutions.models import User

VIEW_PERMISSION = "assessments.view_screeningsession"


def may_export_screenings(user: User) -> bool:
    return may_export_children(user) and user.has_perm(VIEW_PERMISSION)


def session_rows(user: User, params: QueryDict) -> QuerySet[ScreeningSession]:
    """The sessions list's rows: the user's schools' and institutions' sessions, newest first."""
    return sessions_visible_to(user).select_related("opened_by").order_by("-administered_on", "-id")


def threshold_of(params: QueryDict) -> int:
    """The summary's risk threshold (`?threshold=`), as the summary page reads it."""
    raw = params.get("threshold") or ""
    value = whole_number(raw, default=THRESHOLD)
    return value if value in RiskLevel.values and value != RiskLevel.NONE else THRESHOLD


def summary_rows(user: User, params: QueryDict) -> QuerySet[Assessment]:
    """One session's current results of the children the user may see (the session named by
    the URL; 404 out of scope), the most at risk first, as the summary lists them."""
    session = sessions_visible_to(user).filter(pk=params.get("pk") or 0).first()
    if session is None:
        raise Http404
    return (
        assessments_visible_to(user)
        .filter(session=session, amendments__isnull=True)
        .order_by("-risk_level", "-total", "child__name_pinyin", "id")
    )


def _place(session: ScreeningSession) -> str:
    place = session.school or session.institution
    return place.name if place else ""


def _class(session: ScreeningSession) -> str:
    return f"{session.grade or ''}{session.class_name}".strip()


SESSION_COLUMNS = [
    Column(_("Title"), lambda s, ctx: s.title, width=24),
    Column(_("School or institution"), lambda s, ctx: _place(s), width=20),
    Column(_("Class"), lambda s, ctx: _class(s), width=8),
    Column(_("Instrument"), lambda s, ctx: s.instrument.name, width=16),
    Column(_("Date"), lambda s, ctx: s.administered_on, width=12),
    Column(_("Status"), lambda s, ctx: s.get_status_display(), width=8),
    Column(_("Opened by"), lambda s, ctx: str(s.opened_by), width=12),
    Column(_("Ended at"), lambda s, ctx: s.closed_at, width=18),
]

SESSIONS = ExportSpec(
    kind="screening_sessions",
    title=_("Screenings"),
    filename="screenings",
    columns=SESSION_COLUMNS,
    rows=session_rows,
    may_export=may_export_screenings,
    masker=mask,
)


def _above(assessment: Assessment, ctx: ExportContext) -> str:
    # As the summary lists them: at or above the chosen risk level, or with a critical answer.
    threshold = threshold_of(ctx.params)
    return yes_no(assessment.risk_level >= threshold or bool(assessment.critical_items))


SUMMARY_COLUMNS = [
    Column(_("Record number"), lambda a, ctx: a.child.record_number, width=18, text=True),
    Column(_("Name"), lambda a, ctx: a.child.name, field_kind=FieldKind.NAME, width=10),
    Column(_("Sex"), lambda a, ctx: a.child.get_sex_display(), width=6),
    Column(_("Age"), lambda a, ctx: a.child.age(a.administered_on), width=6),
    Column(_("Grade"), lambda a, ctx: a.child.grade, width=6),
    Column(_("Class"), lambda a, ctx: a.child.class_name, width=8),
    Column(_("Instrument"), lambda a, ctx: a.instrument.name, width=16),
    Column(_("Date"), lambda a, ctx: a.administered_on, width=12),
    Column(_("Total"), lambda a, ctx: a.total, width=6),
    Column(_("Band"), lambda a, ctx: a.band_text, width=12),
    Column(_("Risk level"), lambda a, ctx: a.get_risk_level_display(), width=8),
    Column(_("Critical answer"), lambda a, ctx: yes_no(a.critical_items), width=8),
    Column(_("At or above the threshold"), _above, width=10),
    Column(_("Valid answers"), lambda a, ctx: yes_no(a.valid), width=8),
]

SUMMARY = ExportSpec(
    kind="screening_summary",
    title=_("Screening results"),
    filename="screening-results",
    columns=SUMMARY_COLUMNS,
    rows=summary_rows,
    may_export=may_export_screenings,
    masker=mask,
    child_id=lambda assessment: assessment.child_id,
)


def register() -> None:
    register_export(SESSIONS, SUMMARY)
