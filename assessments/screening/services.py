"""Every change a screening makes: opening and closing a session, saving one child's result or
absence, and saving a checked sheet whole."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Assessment, Instrument, ScreeningAbsence, ScreeningSession
from assessments.scoring import Result
from assessments.screening.roster import Group, RosterRow, current_results
from assessments.screening.sheets import SheetRow
from assessments.services import assessment_submit
from cases.models import Child, Consent, Guardian
from cases.services.family import consent_record
from core.access_log import access_record
from core.models import AccessEvent
from institutions.models import User


class ScreeningConflict(Exception):
    """Someone else closed the session or saved this child's result first."""


@transaction.atomic
def screening_session_open(
    *, group: Group, instrument: Instrument, administered_on: date, title: str, by: User
) -> ScreeningSession:
    """Open a session for a class or an institution's residents (the form chose the group)."""
    if not title:
        where = (
            f"{group.school.name} "
            + _("grade %(grade)s") % {"grade": group.grade}
            + f" {group.class_name}"
            if group.school
            else str(group.institution.name if group.institution else "")
        )
        title = f"{instrument.code} · {where} · {administered_on:%Y-%m-%d}"
    return ScreeningSession.objects.create(
        title=title[:200],
        instrument=instrument,
        school=group.school,
        grade=group.grade,
        class_name=group.class_name,
        institution=group.institution,
        administered_on=administered_on,
        opened_by=by,
    )


@transaction.atomic
def screening_result_save(
    *,
    session: ScreeningSession,
    child: Child,
    answers: dict[int, int],
    result: Result,
    by: User,
    record_consent: bool = False,
    consent_guardian: Guardian | None = None,
) -> Assessment:
    """Save one child's checked answers in the session, recording the consent given today first
    (from `consent_guardian`, or the child when None); the result raises any alert."""
    locked = ScreeningSession.objects.select_for_update().get(pk=session.pk)
    if locked.status != ScreeningSession.Status.OPEN:
        raise ScreeningConflict(_("This screening was closed meanwhile."))
    if current_results(session=locked).filter(child=child).exists():
        raise ScreeningConflict(_("Someone saved a result for this child meanwhile."))
    if record_consent:
        consent_record(
            child=child,
            purpose=Consent.Purpose.ASSESSMENT,
            given_on=timezone.localdate(),
            by=by,
            guardian=consent_guardian,
            note=_("Given at the screening %(title)s") % {"title": locked.title[:200]},
        )
    return assessment_submit(
        child=child,
        instrument=locked.instrument,
        answers=answers,
        result=result,
        setting=Assessment.Setting.SCHOOL_SCREENING
        if locked.school_id
        else Assessment.Setting.INSTITUTION_PERIODIC,
        administered_on=locked.administered_on,
        by=by,
        session=locked,
    )


def screening_row_save(
    *,
    session: ScreeningSession,
    row: RosterRow,
    answers: dict[int, int],
    by: User,
    consent_today: bool,
) -> Assessment:
    """Save a roster row's answers, scored by the session's instrument; consent given today is
    recorded from the row's primary guardian (the child's own when there is none)."""
    return screening_result_save(
        session=session,
        child=row.child,
        answers=answers,
        result=session.instrument.parsed.score(answers),
        by=by,
        record_consent=consent_today,
        consent_guardian=row.primary_guardian,
    )


@transaction.atomic
def screening_absence_record(
    *, session: ScreeningSession, child: Child, reason: str, by: User
) -> ScreeningAbsence:
    """Note that a child of the roster was not screened, and why (once per session)."""
    absence, created = ScreeningAbsence.objects.get_or_create(
        session=session, child=child, defaults={"reason": reason[:200], "recorded_by": by}
    )
    if created:
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=child,
            detail={"screening_absence": session.pk},
        )
    return absence


@transaction.atomic
def screening_session_close(*, session: ScreeningSession, by: User) -> ScreeningSession:
    """Close the session: no more entries. Closing twice changes nothing."""
    ScreeningSession.objects.filter(pk=session.pk, status=ScreeningSession.Status.OPEN).update(
        status=ScreeningSession.Status.CLOSED, closed_at=timezone.now()
    )
    session.refresh_from_db()
    return session


@transaction.atomic
def screening_sheet_import(
    *, session: ScreeningSession, rows: list[SheetRow], by: User
) -> list[Assessment]:
    """Save every row of a checked sheet, or none of them."""
    return [
        screening_result_save(
            session=session,
            child=row.child,
            answers=row.answers,
            result=row.result,
            by=by,
            record_consent=row.record_consent,
            consent_guardian=row.consent_guardian,
        )
        for row in rows
    ]
