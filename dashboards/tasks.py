"""Background jobs of the dashboards: preparing a region's snapshot of figures."""

from __future__ import annotations

from celery import shared_task

from core.db_routing import replica_reads
from dashboards.snapshots import REFRESH_SECONDS, REFRESH_TASK, build_snapshot, refresh_done


@shared_task(
    name=REFRESH_TASK,
    acks_late=True,
    time_limit=REFRESH_SECONDS,
    soft_time_limit=REFRESH_SECONDS - 60,
)
def refresh_snapshot(region: str, months: int) -> None:
    """Compute and keep the snapshot of a region's dashboard for a period (read from the
    replica when there is one), then let another refresh be queued."""
    try:
        with replica_reads():
            build_snapshot(region, months)
    finally:
        refresh_done(region, months)
