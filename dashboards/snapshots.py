"""Dashboard snapshots (issue 13): a region's figures computed once and kept in the cache, so
that a dashboard opens in well under a second whatever the size of the province.

A snapshot holds the raw figures of a region for a period and a day (every indicator's rows and
total, the breakdown of the children, the monthly trends, the tasks by kind and by person's id),
as plain numbers and codes: no translated labels, no names, nothing about the user who asked
(the access check comes before any cache lookup; the key holds the region, the period and the
day only). Labels, names and links are added when the page is drawn.

- Fresh (younger than `DASHBOARD_FRESH_SECONDS`): served as it is.
- Stale: still served, and one background refresh is queued (stale-while-revalidate).
- Missing: a county, township or village (code of 6 digits or more) is computed in the request
  and kept; a province or city is too large for that: one background job is queued and the page
  says the figures are being prepared, polling until they are.
- `DASHBOARD_FRESH_SECONDS=0` switches snapshots off: every dashboard is computed in the request
  and nothing is kept (the tests' default, so known-answer tests compute live).

A refresh job is deduplicated by a lock key added with `cache.add` for the job's time limit and
deleted when the job ends. Bump `DASHBOARD_SNAPSHOT_VERSION` to ignore every snapshot kept.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils import timezone, translation

from core.jobs import enqueue
from dashboards.indicators import Context, breakdown_counts, task_counts
from dashboards.selectors import indicator_figures, trends

REFRESH_TASK = "dashboards.refresh_snapshot"
# The dashboard's figures drawn from a snapshot (dashboards.views._figures), and what it includes.
FIGURES_TEMPLATE = "dashboards/partials/figures.html"
FIGURES_PARTS = (
    FIGURES_TEMPLATE,
    "dashboards/partials/indicator.html",
    "dashboards/partials/breakdown.html",
    "dashboards/partials/tasks.html",
)
# The key names the day, so a snapshot is never served after it; a day bounds its life.
SNAPSHOT_SECONDS = 24 * 3600
# The refresh job's time limit, and so the longest a lock can outlive a job that died.
REFRESH_SECONDS = 900
# Regions with codes this long or longer (counties and below) are computed in the request.
LIVE_MIN_LENGTH = 6


@dataclass(frozen=True)
class Snapshot:
    data: dict[str, Any]
    refreshing: bool = False  # stale: a newer one is being prepared

    @property
    def computed_at(self) -> datetime:
        return datetime.fromisoformat(self.data["computed_at"])

    @property
    def today(self) -> date:
        return date.fromisoformat(self.data["today"])


def snapshots_enabled() -> bool:
    return settings.DASHBOARD_FRESH_SECONDS > 0


def snapshot_key(region: str, months: int, today: date) -> str:
    version = settings.DASHBOARD_SNAPSHOT_VERSION
    return f"dashboards:snapshot:{version}:{region}:{months}:{today.isoformat()}"


def refresh_lock_key(region: str, months: int) -> str:
    return f"dashboards:refresh:{settings.DASHBOARD_SNAPSHOT_VERSION}:{region}:{months}"


def compute_snapshot(region: str, months: int) -> dict[str, Any]:
    """The region's figures for the last `months` months, computed now: plain numbers,
    strings and lists only."""
    ctx = Context(region=region, months=months, today=timezone.localdate())
    # Taken before the first query: every figure is at least as recent as this.
    computed_at = timezone.now()
    return {
        "region": region,
        "months": months,
        "today": ctx.today.isoformat(),
        "computed_at": computed_at.isoformat(),
        "indicators": indicator_figures(ctx),
        "breakdown": breakdown_counts(ctx),
        "trends": trends(ctx),
        "tasks": task_counts(ctx),
    }


def build_snapshot(region: str, months: int) -> dict[str, Any]:
    """Compute the region's snapshot and keep it (when snapshots are on)."""
    data = compute_snapshot(region, months)
    if snapshots_enabled():
        key = snapshot_key(region, months, date.fromisoformat(data["today"]))
        cache.set(key, data, SNAPSHOT_SECONDS)
    return data


def queue_refresh(region: str, months: int) -> bool:
    """Queue one refresh job for the region and period, unless one is already queued or
    running; whether this call queued it."""
    if not cache.add(refresh_lock_key(region, months), timezone.now().isoformat(), REFRESH_SECONDS):
        return False
    enqueue(REFRESH_TASK, region, months)
    return True


def refresh_done(region: str, months: int) -> None:
    """The refresh job has ended (done or failed): another may be queued."""
    cache.delete(refresh_lock_key(region, months))


def dashboard_snapshot(region: str, months: int) -> Snapshot | None:
    """The figures to show for the region and period, or None while they are being prepared
    (a province or city with no snapshot yet: a job is queued). Call it only once the user's
    access to the region has been checked."""
    if not snapshots_enabled():
        return Snapshot(compute_snapshot(region, months))
    data = cache.get(snapshot_key(region, months, timezone.localdate()))
    if data is None:
        if len(region) >= LIVE_MIN_LENGTH:
            return Snapshot(build_snapshot(region, months))
        queue_refresh(region, months)
        return None
    snapshot = Snapshot(data)
    age = (timezone.now() - snapshot.computed_at).total_seconds()
    if age >= settings.DASHBOARD_FRESH_SECONDS:
        queue_refresh(region, months)
        return Snapshot(data, refreshing=True)
    return snapshot


@functools.cache
def _figures_templates() -> str:
    """A digest of the figures' templates as this process loaded them: a deployment that
    changes one never serves figures drawn by the old one. (Python that draws them, such as
    the indicator_row tag, is covered by bumping DASHBOARD_SNAPSHOT_VERSION.)"""
    sources = "\0".join(
        get_template(name).template.source  # type: ignore[attr-defined]  # Django's backend
        for name in FIGURES_PARTS
    )
    return hashlib.sha256(sources.encode()).hexdigest()[:16]


def figures_key(
    region: str, months: int, snapshot: Snapshot, groups: Iterable[str], names: Iterable[str]
) -> str | None:
    """The cache key of the figures drawn from `snapshot` for the region and period, in the
    active language with the `groups` in this order, and the `names` the page shows that do
    not come from the snapshot (subregions, people) as they are now; None when the snapshot is
    not kept (snapshots switched off)."""
    if not snapshots_enabled():
        return None
    shown = hashlib.sha256("\0".join(names).encode()).hexdigest()[:16]
    return ":".join(
        [
            "dashboards:figures",
            str(settings.DASHBOARD_SNAPSHOT_VERSION),
            _figures_templates(),
            region,
            str(months),
            translation.get_language() or "",
            get_script_prefix(),
            snapshot.data["computed_at"],
            ",".join(groups),
            shown,
        ]
    )
