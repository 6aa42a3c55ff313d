"""Long exports: queued as an `ExportJob`, written by the worker with its progress, kept for
the requester alone until they expire."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from core.access import Level
from core.access_log import client_ip
from core.exports.spec import ExportSpec, count_rows, export_spec, rows_for
from core.exports.writing import export_record, export_write
from core.jobs import enqueue
from core.models import ExportChunk, ExportJob

_LOCK_NAMESPACE = 7302  # pg advisory-lock class for export jobs (imports use 7301)


def export_job_scope_q(user: Any, level: Level = Level.READ) -> Q:
    """An export job is its requester's alone: nobody else reaches it at any level."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    return Q(requester_id=user.pk)


def export_jobs_of(user: Any) -> QuerySet[ExportJob]:
    """The user's own export jobs, newest first (their files stay in the database)."""
    return ExportJob.objects.filter(export_job_scope_q(user))


def export_expiry(now: Any = None) -> Any:
    return (now or timezone.now()) + timedelta(hours=settings.EXPORT_TTL_HOURS)


@transaction.atomic
def export_job_start(
    spec: ExportSpec,
    *,
    user: Any,
    params: dict[str, list[str]],
    fmt: str,
    deidentified: bool,
    total: int,
    request: HttpRequest | None = None,
) -> ExportJob:
    """Queue a long export; the job writes the file (and the access log) in the background."""
    job = ExportJob.objects.create(
        requester=user,
        kind=spec.kind,
        params=params,
        fmt=fmt,
        deidentified=deidentified,
        total=total,
        path=request.get_full_path()[:300] if request is not None else "",
        ip_address=client_ip(request),
        expires_at=export_expiry(),
    )
    enqueue("core.export_run", job.pk)
    return job


@contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """A session lock on the job: a second run at the same time does nothing. After a crash the
    lock goes with the dead connection, so a redelivered task takes the job over."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, job_id])
        (locked,) = cursor.fetchone()
    try:
        yield bool(locked)
    finally:
        if locked:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, job_id])
            except (OperationalError, InterfaceError):
                pass  # the connection is gone, and its lock with it


class JobError:
    """Why a job failed, stored as a code and worded in the reader's language on its page."""

    REFUSED = "refused"  # the requester may no longer export this list
    INVALID = "invalid"  # the filters are no longer valid, or name what is out of scope
    FAILED = "failed"  # anything else


def export_job_fail(*, job_id: int, error: str = JobError.FAILED) -> None:
    """Mark a job that could not finish as failed (a finished job is left as it is)."""
    ExportJob.objects.filter(
        pk=job_id, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
    ).update(status=ExportJob.Status.FAILED, error=error, finished_at=timezone.now())


def export_job_run(*, job_id: int) -> None:
    """Write a queued export for its requester, with the scope and masking they have now.
    Idempotent: a finished job, or one another worker is writing, is left alone."""
    with _job_lock(job_id) as locked:
        if not locked:
            return
        job = (
            ExportJob.objects.select_related("requester")
            .filter(pk=job_id, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING])
            .first()
        )
        if job is None:
            return
        same = ExportJob.objects.filter(pk=job.pk)
        user = job.requester
        try:
            spec = export_spec(job.kind)
        except LookupError:
            export_job_fail(job_id=job.pk)
            return
        if not user.is_active or not spec.may_export(user):
            export_job_fail(job_id=job.pk, error=JobError.REFUSED)
            return
        try:
            rows = rows_for(spec, user=user, params=job.params)
            total = count_rows(rows)
        except (Http404, ValidationError):
            export_job_fail(job_id=job.pk, error=JobError.INVALID)
            return
        same.update(status=ExportJob.Status.RUNNING, done=0, total=total)
        # Into a temporary file, then into the database piece by piece: however many rows,
        # the worker holds one piece of the file at a time.
        with tempfile.TemporaryFile(prefix="xinqiao-export-") as out:
            written = export_write(
                spec,
                user=user,
                rows=rows,
                fmt=job.fmt,
                deidentified=job.deidentified,
                params=job.params,
                on_progress=lambda n: same.update(done=min(n, total)),
                out=out,
            )
            now = timezone.now()
            with transaction.atomic():
                size = _store_file(job.pk, out)
                same.update(
                    status=ExportJob.Status.DONE,
                    file_size=size,
                    filename=written.filename,
                    done=written.rows,
                    total=written.rows,
                    finished_at=now,
                    expires_at=export_expiry(now),
                )
                export_record(
                    spec=spec,
                    user=user,
                    written=written,
                    fmt=job.fmt,
                    deidentified=job.deidentified,
                    path=job.path,
                    ip_address=job.ip_address,
                    job_id=job.pk,
                )


def _store_file(job_id: int, out: BinaryIO) -> int:
    """The written file into the database in pieces of EXPORT_CHUNK_BYTES (replacing any a
    failed run left); its size."""
    ExportChunk.objects.filter(job_id=job_id).delete()
    out.seek(0)
    size = seq = 0
    while piece := out.read(settings.EXPORT_CHUNK_BYTES):
        ExportChunk.objects.create(job_id=job_id, seq=seq, data=piece)
        size += len(piece)
        seq += 1
    return size


def export_file_pieces(job: ExportJob) -> Iterator[bytes]:
    """A kept file, piece by piece (one query each): a download streams these."""
    seq = 0
    while True:
        piece = (
            ExportChunk.objects.filter(job_id=job.pk, seq=seq)
            .values_list("data", flat=True)
            .first()
        )
        if piece is None:
            return
        yield bytes(piece)
        seq += 1


def export_file_bytes(job: ExportJob) -> bytes | None:
    """A kept file whole (None once purged): for tests and short files."""
    if job.file_size is None:
        return None
    return b"".join(export_file_pieces(job))


def export_jobs_purge(*, now: Any = None) -> int:
    """Drop the files of expired exports; the rows stay, a record of what was exported."""
    expired = ExportJob.objects.filter(
        expires_at__lte=now or timezone.now(), file_size__isnull=False
    )
    with transaction.atomic():
        ExportChunk.objects.filter(job__in=expired).delete()
        return expired.update(file_size=None)
