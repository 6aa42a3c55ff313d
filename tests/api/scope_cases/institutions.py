"""Out-of-scope cases of the institutions' API and of the API's own plumbing."""

from __future__ import annotations

from tests.api.scope_cases import OutOfScope

CASES: dict[str, OutOfScope] = {
    "token": OutOfScope(unscoped="obtains or revokes the caller's own token"),
    "tokens": OutOfScope(unscoped="lists the caller's own tokens only"),
    "token_detail": OutOfScope(unscoped="revokes one of the caller's own tokens only"),
    "schema": OutOfScope(unscoped="the OpenAPI document"),
    "docs": OutOfScope(unscoped="the documentation page"),
    "region-list": OutOfScope(unscoped="the division code tree, public reference data"),
    "region-detail": OutOfScope(unscoped="one region, public reference data"),
    "institution-list": OutOfScope(unscoped="organisations, not personal information"),
    "institution-detail": OutOfScope(unscoped="one organisation, not personal information"),
    "venue-list": OutOfScope(unscoped="the service venue directory, for all staff"),
    "venue-detail": OutOfScope(unscoped="one service venue, for all staff"),
}
