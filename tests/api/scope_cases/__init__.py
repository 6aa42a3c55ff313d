"""How to reach, through each URL pattern of the API, a record the caller may not see.

One module per app; each holds `CASES`: {URL pattern name: OutOfScope}. The out-of-scope test
(tests/api/test_out_of_scope.py) walks every pattern of the API's URL resolver and fails on a
pattern without a case here, so a new endpoint cannot land without its scope being tried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutOfScope:
    """What a caller (`user`, a demo username) must not reach through one pattern.

    - `kwargs(user)`: for a pattern naming one record, URL kwargs of a record out of the
      user's scope; every method the pattern answers must then say 404.
    - `hidden(user)`: for a list, the id of a record out of scope, which must not be listed.
    - `body(user)`: for a list that also creates, a body naming an out-of-scope record (its
      child, its referral…), which must answer 404 and create nothing.
    - `unscoped`: for a pattern that holds nothing of a child's (tokens, instruments, the
      schema), why no scope applies.
    """

    user: str = "director_a"
    kwargs: Callable[[str], dict[str, Any]] | None = None
    hidden: Callable[[str], int] | None = None
    body: Callable[[str], dict[str, Any]] | None = None
    unscoped: str = ""


def all_cases() -> dict[str, OutOfScope]:
    from tests.api.scope_cases import (
        assessments,
        cases,
        dashboards,
        followups,
        institutions,
        referrals,
    )

    found: dict[str, OutOfScope] = {}
    for module in (institutions, cases, assessments, referrals, followups, dashboards):
        found.update(module.CASES)
    return found
