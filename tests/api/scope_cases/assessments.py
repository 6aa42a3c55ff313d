"""Out-of-scope cases of the assessments app's API."""

from __future__ import annotations

from typing import Any

from tests.api.scope_cases import OutOfScope
from tests.factories import AssessmentFactory, child_out_of_scope_of


def _phq9_body(user: str) -> dict[str, Any]:
    child = child_out_of_scope_of(user, birth_date="2010-03-01")
    return {"child": child.pk, "instrument": "PHQ-9", "answers": {str(n): 0 for n in range(1, 10)}}


CASES: dict[str, OutOfScope] = {
    "assessment-list": OutOfScope(
        user="counselor",
        hidden=lambda user: AssessmentFactory(child=child_out_of_scope_of(user)).pk,
        body=_phq9_body,
    ),
    "assessment-detail": OutOfScope(
        kwargs=lambda user: {"pk": AssessmentFactory(child=child_out_of_scope_of(user)).pk}
    ),
}
