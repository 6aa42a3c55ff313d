"""Out-of-scope cases of the followups app's API."""

from __future__ import annotations

from tests.api.scope_cases import OutOfScope

CASES: dict[str, OutOfScope] = {}
