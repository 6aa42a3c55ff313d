"""Out-of-scope cases of the cases app's API (children and their family, consent and care)."""

from __future__ import annotations

from tests.api.scope_cases import OutOfScope
from tests.factories.scope import child_out_of_scope_of

CASES: dict[str, OutOfScope] = {
    "child-list": OutOfScope(hidden=lambda user: child_out_of_scope_of(user).pk),
    "child-detail": OutOfScope(kwargs=lambda user: {"pk": child_out_of_scope_of(user).pk}),
}
