"""The dashboards' tests compute every figure live unless a test turns snapshots on."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def live_dashboards(settings):
    """No snapshot: each dashboard is computed when it opens and nothing is kept, so a figure
    never comes from another test's cache (DASHBOARD_FRESH_SECONDS=0, also the default of
    DJANGO_ENV=test; set here so that an exported variable cannot change it)."""
    settings.DASHBOARD_FRESH_SECONDS = 0
