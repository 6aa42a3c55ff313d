"""Out-of-scope cases of the assessments app's API."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from assessments.models import ScreeningSession
from assessments.screening.roster import Group
from assessments.screening.services import screening_session_open
from assessments.selectors import current_instruments
from tests.api.scope_cases import OutOfScope
from tests.demo import WELFARE, user
from tests.factories import AssessmentFactory, child_out_of_scope_of, institution


def _phq9_body(user: str) -> dict[str, Any]:
    child = child_out_of_scope_of(user, birth_date="2010-03-01")
    return {"child": child.pk, "instrument": "PHQ-9", "answers": {str(n): 0 for n in range(1, 10)}}


def _alert(user: str) -> int:
    """An open alert (a severe result) about a child out of the user's scope."""
    alert = AssessmentFactory(child=child_out_of_scope_of(user), value=3).alerts.get()
    return alert.pk


def _welfare_session() -> ScreeningSession:
    """A screening of the welfare institution's residents, which no school's staff reach."""
    home = institution(WELFARE)
    return screening_session_open(
        group=Group(key=f"i:{home.pk}", label="", size=0, institution=home),
        instrument=current_instruments().get(code="PHQ-9"),
        administered_on=timezone.localdate(),
        title="",
        by=user("welfare_staff"),
    )


def _session_kwargs(user: str) -> dict[str, Any]:
    return {"pk": _welfare_session().pk}


CASES: dict[str, OutOfScope] = {
    "assessment-list": OutOfScope(
        user="counselor",
        hidden=lambda user: AssessmentFactory(child=child_out_of_scope_of(user)).pk,
        body=_phq9_body,
    ),
    "assessment-detail": OutOfScope(
        kwargs=lambda user: {"pk": AssessmentFactory(child=child_out_of_scope_of(user)).pk}
    ),
    "instrument-list": OutOfScope(unscoped="questionnaire definitions, no child's data"),
    "instrument-detail": OutOfScope(unscoped="one questionnaire definition, no child's data"),
    # The counsellor screens the classes of the school; the welfare home's residents are not
    # theirs to open a session for, to read, or to close.
    "screening-session-list": OutOfScope(
        user="counselor",
        hidden=lambda user: _welfare_session().pk,
        body=lambda user: {"instrument": "PHQ-9", "institution": institution(WELFARE).pk},
    ),
    "screening-session-detail": OutOfScope(user="counselor", kwargs=_session_kwargs),
    "screening-session-roster": OutOfScope(user="counselor", kwargs=_session_kwargs),
    "screening-session-close": OutOfScope(user="counselor", kwargs=_session_kwargs),
    "screening-session-results": OutOfScope(user="counselor", kwargs=_session_kwargs),
    "screening-session-absences": OutOfScope(user="counselor", kwargs=_session_kwargs),
    "screening-session-sheet": OutOfScope(user="counselor", kwargs=_session_kwargs),
    "alert-list": OutOfScope(user="counselor", hidden=_alert),
    "alert-detail": OutOfScope(kwargs=lambda user: {"pk": _alert(user)}),
    "alert-acknowledge": OutOfScope(
        user="supervisor_town", kwargs=lambda user: {"pk": _alert(user)}
    ),
    "alert-guardian-informed": OutOfScope(kwargs=lambda user: {"pk": _alert(user)}),
}
