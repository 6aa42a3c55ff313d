"""Out-of-scope cases of the dashboards app's API: a region outside the caller's jurisdiction is
as unknown as one that does not exist."""

from __future__ import annotations

from tests.api.scope_cases import OutOfScope
from tests.demo import TOWNSHIP_B

CASES: dict[str, OutOfScope] = {
    "dashboards_index": OutOfScope(
        unscoped="lists the caller's own jurisdiction only (tests/api/test_dashboards_api.py)"
    ),
    # The township supervisor of 青石镇 asks for 白水乡, a township beside theirs.
    "dashboards_region": OutOfScope(
        user="supervisor_town", kwargs=lambda user: {"region": TOWNSHIP_B}
    ),
}
