"""Out-of-scope cases of the cases app's API (children and their family, consent and care)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.api.scope_cases import OutOfScope
from tests.factories import (
    CarePlanFactory,
    CareTeamMemberFactory,
    ConsentFactory,
    GuardianFactory,
)
from tests.factories.scope import child_out_of_scope_of


def _outside(user: str) -> int:
    return child_out_of_scope_of(user).pk


def _guardian(user: str) -> int:
    return GuardianFactory(child=child_out_of_scope_of(user)).pk


def _consent(user: str) -> int:
    return ConsentFactory(child=child_out_of_scope_of(user)).pk


def _team_member(user: str) -> int:
    return CareTeamMemberFactory(child=child_out_of_scope_of(user), peer=True).pk


def _plan(user: str) -> int:
    return CarePlanFactory(child=child_out_of_scope_of(user)).pk


def _today() -> str:
    return timezone.localdate().isoformat()


CASES: dict[str, OutOfScope] = {
    "child-list": OutOfScope(hidden=_outside),
    "child-detail": OutOfScope(kwargs=lambda user: {"pk": _outside(user)}),
    "child-close": OutOfScope(kwargs=lambda user: {"pk": _outside(user)}),
    "child-reopen": OutOfScope(kwargs=lambda user: {"pk": _outside(user)}),
    "child-handover": OutOfScope(kwargs=lambda user: {"pk": _outside(user)}),
    "guardian-list": OutOfScope(
        hidden=_guardian,
        body=lambda user: {"child": _outside(user), "name": "测试监护人", "relation": "mother"},
    ),
    "guardian-detail": OutOfScope(kwargs=lambda user: {"pk": _guardian(user)}),
    "guardian-deactivate": OutOfScope(kwargs=lambda user: {"pk": _guardian(user)}),
    "consent-list": OutOfScope(
        hidden=_consent,
        body=lambda user: {
            "child": _outside(user),
            "purpose": "assessment",
            "guardian": _guardian(user),
            "given_on": _today(),
        },
    ),
    "consent-detail": OutOfScope(kwargs=lambda user: {"pk": _consent(user)}),
    "consent-withdraw": OutOfScope(kwargs=lambda user: {"pk": _consent(user)}),
    "care-team-member-list": OutOfScope(
        hidden=_team_member,
        body=lambda user: {
            "child": _outside(user),
            "team_role": "peer_partner",
            "peer_name": "测试伙伴",
        },
    ),
    "care-team-member-detail": OutOfScope(kwargs=lambda user: {"pk": _team_member(user)}),
    "care-team-member-remove": OutOfScope(kwargs=lambda user: {"pk": _team_member(user)}),
    "care-plan-list": OutOfScope(
        hidden=_plan,
        body=lambda user: {
            "child": _outside(user),
            "classification": "general",
            "goals": "测试目标",
            "interventions": ["comfort"],
            "review_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
    ),
    "care-plan-detail": OutOfScope(kwargs=lambda user: {"pk": _plan(user)}),
    "care-plan-review": OutOfScope(kwargs=lambda user: {"pk": _plan(user)}),
}
