"""The import job: queue a checked upload, then check the whole file and create all its children
or none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pghistory
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.identity import national_id_hash
from cases.imports.rows import RowChecker
from cases.imports.template import header_errors
from cases.imports.upload import check_upload
from cases.models import Child, ChildImport
from cases.services.child import _record_number, build_child
from core.access_log import access_record
from core.jobs import enqueue
from core.models import AccessEvent
from core.spreadsheets import UnreadableFile, read_table
from institutions.models import User

FINISHED = (ChildImport.Status.REJECTED, ChildImport.Status.DONE, ChildImport.Status.FAILED)
# The job's time limit (the Celery task's); a run older than this, plus a margin, has died.
TIME_LIMIT = 1800
STALE_AFTER = timedelta(seconds=TIME_LIMIT + 120)
PROGRESS_EVERY = 200
MAX_REPORTED_ERRORS = 1000
_LOCK_NAMESPACE = 7301  # pg advisory-lock class for import jobs


def child_imports_of(user: User) -> QuerySet[ChildImport]:
    """The imports a user may follow: their own uploads only (the content is left unloaded)."""
    return ChildImport.objects.filter(uploaded_by_id=user.pk).defer("content")


@transaction.atomic
def child_import_start(*, uploaded_file: UploadedFile, by: User) -> ChildImport:
    """Store an upload that passes the file checks and queue the job that checks and imports it."""
    checked = check_upload(uploaded_file)
    job = ChildImport.objects.create(
        uploaded_by=by, filename=checked.filename, content=checked.content, total_rows=checked.rows
    )
    enqueue("cases.child_import_run", job.pk)
    return job


@contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """A session lock on the job: a second run waits for nothing and does nothing.

    After a crash the lock goes with the dead connection, so a redelivered task can take over
    a job left CHECKING or IMPORTING (nothing of it was saved: the import is one transaction).
    """
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


def _row_error(row: int | None, field: str, message: str) -> dict[str, Any]:
    return {"row": row, "field": field, "message": str(message)}


def _finish(job_id: int, status: str, **values: Any) -> None:
    ChildImport.objects.filter(pk=job_id).update(
        status=status, finished_at=timezone.now(), **values
    )


def _limit(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors.sort(key=lambda e: e["row"] or 0)
    if len(errors) <= MAX_REPORTED_ERRORS:
        return errors
    more = len(errors) - MAX_REPORTED_ERRORS
    return [
        *errors[:MAX_REPORTED_ERRORS],
        _row_error(
            None,
            "",
            _("%(count)d more errors are not listed: correct the rows above and upload again.")
            % {"count": more},
        ),
    ]


def _registered_rows(hashes: dict[str, int]) -> list[int]:
    """Rows of the file whose ID number is already on a child's file (anywhere)."""
    found: list[int] = []
    keys = list(hashes)
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        existing = Child.objects.filter(national_id_hash__in=chunk)
        found += [hashes[key] for key in existing.values_list("national_id_hash", flat=True) if key]
    return sorted(found)


def _already_registered(rows: list[int]) -> list[dict[str, Any]]:
    # Says nothing about the existing file: not its region, name or record number.
    message = _("A child with this ID number is already registered.")
    return [_row_error(row, "身份证号", message) for row in rows]


def reserve_child_ids(count: int) -> list[int]:
    """Take `count` values of the children's id sequence at once."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('cases_child', 'id')) "
            "FROM generate_series(1, %s)",
            [count],
        )
        return sorted(int(value) for (value,) in cursor.fetchall())


def child_import_run(*, job_id: int) -> None:
    """Check a queued import whole; if every row is valid create all its children, else none.

    The check commits its progress as it goes (so the page can show it); the import is then one
    transaction. Running a job again after it finished changes nothing.
    """
    runnable = [
        ChildImport.Status.QUEUED,
        ChildImport.Status.CHECKING,
        ChildImport.Status.IMPORTING,
    ]
    with _job_lock(job_id) as locked:
        if not locked:
            return
        claimed = ChildImport.objects.filter(pk=job_id, status__in=runnable).update(
            status=ChildImport.Status.CHECKING,
            processed_rows=0,
            errors=[],
            started_at=timezone.now(),
            finished_at=None,
        )
        if not claimed:
            return
        job = ChildImport.objects.select_related("uploaded_by").get(pk=job_id)
        try:
            _check_and_import(job)
        except (OperationalError, InterfaceError):
            raise  # the database went away: nothing was saved, and a retry takes the job over
        except Exception:
            child_import_fail(job_id=job_id)
            raise


def child_import_fail(*, job_id: int) -> None:
    """Mark an unfinished import as failed (nothing of it was saved), so its page stops waiting."""
    message = _("The import stopped unexpectedly and nothing was imported. Try again.")
    ChildImport.objects.exclude(status__in=FINISHED).filter(pk=job_id).update(
        status=ChildImport.Status.FAILED,
        finished_at=timezone.now(),
        errors=[_row_error(None, "", message)],
    )


def child_import_expire_if_stale(*, job_id: int) -> bool:
    """Mark failed a job whose run has outlived its time limit without finishing (its worker
    died and no redelivery took it over: nobody holds its lock); True if it was."""
    stale = ChildImport.objects.filter(
        pk=job_id,
        status__in=[ChildImport.Status.CHECKING, ChildImport.Status.IMPORTING],
        started_at__lt=timezone.now() - STALE_AFTER,
    )
    if not stale.exists():
        return False
    with _job_lock(job_id) as free:
        if free:
            child_import_fail(job_id=job_id)
        return free


@transaction.atomic
def child_import_restart(*, job: ChildImport, by: User) -> ChildImport:
    """Queue a failed import's file again, as a new job of the same user."""
    again = ChildImport.objects.create(
        uploaded_by=by,
        filename=job.filename,
        content=job.content,
        total_rows=job.total_rows,
    )
    enqueue("cases.child_import_run", again.pk)
    return again


def _check_and_import(job: ChildImport) -> None:
    user = job.uploaded_by
    if not (user.is_active and user.has_perm("cases.import_children")):
        _finish(
            job.pk,
            ChildImport.Status.FAILED,
            errors=[
                _row_error(None, "", _("You may no longer import children: nothing was imported."))
            ],
        )
        return
    try:
        table = read_table(content=bytes(job.content), filename=job.filename)
        problems = header_errors(table.headers)
    except UnreadableFile as exc:
        problems = [str(exc)]
    if problems:
        _finish(
            job.pk, ChildImport.Status.REJECTED, errors=[_row_error(1, "", p) for p in problems]
        )
        return
    checker = RowChecker(user)
    errors: list[dict[str, Any]] = []
    valid: list[tuple[int, dict[str, Any], str]] = []
    hashes: dict[str, int] = {}
    count = 0
    for count, (number, values) in enumerate(table.rows, start=1):
        form, row_errors = checker.check(values)
        # An ID number that is valid itself is matched even if another cell of the row is wrong.
        national_id = form.cleaned_data.get("national_id") or ""
        if national_id:
            key = national_id_hash(national_id)
            if key in hashes:
                message = _("This ID number is also on row %(row)d of this file.")
                row_errors.append(("身份证号", message % {"row": hashes[key]}))
            else:
                hashes[key] = number
        errors += [_row_error(number, column, message) for column, message in row_errors]
        if not row_errors:
            valid.append((number, form.model_data(), national_id))
        if count % PROGRESS_EVERY == 0:
            ChildImport.objects.filter(pk=job.pk).update(processed_rows=count)
    errors += _already_registered(_registered_rows(hashes))
    ChildImport.objects.filter(pk=job.pk).update(processed_rows=count, total_rows=count)
    if errors:
        _finish(job.pk, ChildImport.Status.REJECTED, errors=_limit(errors))
        return
    children = []
    for pk, (_number, data, national_id) in zip(reserve_child_ids(len(valid)), valid, strict=True):
        child = build_child(data=data, national_id=national_id, by=user)
        child.pk = pk
        child.record_number = _record_number(pk, child.residence_region)
        children.append(child)
    ChildImport.objects.filter(pk=job.pk).update(status=ChildImport.Status.IMPORTING)
    try:
        _save(job, user, children)
    except IntegrityError:
        # Someone registered one of these children while the file was being checked.
        late = _registered_rows(hashes)
        if not late:
            raise
        _finish(job.pk, ChildImport.Status.REJECTED, errors=_already_registered(late))


@transaction.atomic
def _save(job: ChildImport, user: User, children: list[Child]) -> None:
    # One history context for the whole import: each history row points to it (who imported,
    # which job), and the trigger finds it set rather than failing to read it row after row
    # (a scale test measured a 20,000-row import at 9.4 s without a context, 2.6 s with one).
    with pghistory.context(user=user.pk, import_job=job.pk):
        Child.objects.bulk_create(children, batch_size=500)
    access_record(
        user=user,
        action=AccessEvent.Action.CHANGE,
        child=None,
        detail={"import": job.pk, "created": len(children)},
    )
    _finish(job.pk, ChildImport.Status.DONE, created_count=len(children))
