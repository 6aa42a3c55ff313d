"""Retention of closed files: a file closed more than `RETENTION_YEARS_AFTER_CLOSE` years ago is
de-identified (core.deidentify: names, contacts, identity numbers and free text removed from the
file, its records and their history; birth date kept to the year, regions to the county) by the
daily job `cases.deidentify_closed_files`, which reports what it did: its result, and one
"de-identified" row per child in the access log. Nothing is deleted: the file stays, closed,
with its dates, scores and choices, for statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.models import Child
from core.access_log import access_record_many
from core.deidentify import children_deidentify
from core.models import AccessEvent

if TYPE_CHECKING:
    from django.db.models import QuerySet

JOB_PATH = "job:cases.deidentify_closed_files"


@dataclass
class Deidentified:
    children: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    cutoff: datetime | None = None


def retention_cutoff(today: date | None = None) -> datetime:
    """Files closed before this moment are due."""
    today = today or timezone.localdate()
    years = int(settings.RETENTION_YEARS_AFTER_CLOSE)
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return timezone.make_aware(datetime.combine(day, time.min))


def closed_files_due(today: date | None = None) -> QuerySet[Child]:
    return Child.objects.filter(
        status=Child.Status.CLOSED,
        deidentified_at__isnull=True,
        closed_at__lt=retention_cutoff(today),
    )


def closed_files_deidentify(
    *, today: date | None = None, batch_size: int = 1000, dry_run: bool = False
) -> Deidentified:
    """De-identify every file due, `batch_size` children per transaction (a run stopped midway
    leaves whole batches done, and the next run takes the rest)."""
    report = Deidentified(cutoff=retention_cutoff(today))
    if dry_run:
        report.children = closed_files_due(today).count()
        return report
    while True:
        with transaction.atomic():
            ids = list(
                closed_files_due(today)
                .order_by("closed_at", "pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            for label, count in children_deidentify(ids).items():
                report.rows[label] = report.rows.get(label, 0) + count
            Child.objects.filter(pk__in=ids).update(
                deidentified_at=timezone.now(), version=F("version") + 1
            )
            access_record_many(
                user=None,
                action=AccessEvent.Action.DEIDENTIFIED,
                child_ids=ids,
                path=JOB_PATH,
                detail={"years_after_close": int(settings.RETENTION_YEARS_AFTER_CLOSE)},
            )
            report.children += len(ids)
    return report
