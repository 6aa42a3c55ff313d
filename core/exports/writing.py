"""Writing an export: the file through `core.spreadsheets`, in the site's language, masked for
the requester or de-identified; and its record in the access log."""

from __future__ import annotations

import io
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation

from core.access_log import access_record_many
from core.exports.spec import FORMATS, Column, ExportContext, ExportSpec, as_querydict, iterate_rows
from core.models import AccessEvent, ExportJob
from core.spreadsheets import Sheet, csv_write, xlsx_write

PROGRESS_EVERY = 200  # rows between two progress updates of a job
LOG_BATCH = 5000  # access-log events written per query


@dataclass(frozen=True)
class Written:
    """A written export: the file (when written into memory), its name, how many rows and
    which children it holds."""

    content: bytes
    filename: str
    rows: int
    child_ids: Sequence[int]


def export_write(
    spec: ExportSpec,
    *,
    user: Any,
    rows: Any,
    fmt: str,
    deidentified: bool,
    params: dict[str, list[str]] | None = None,
    on_progress: Callable[[int], object] | None = None,
    out: BinaryIO | None = None,
) -> Written:
    """Write `rows` as an XLSX or CSV file, in the site's language, masked for `user`: into
    `out` (a long export's temporary file: memory stays flat however many rows), or into
    memory, returned as `content`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    with translation.override(settings.LANGUAGE_CODE):
        context = ExportContext(
            user=user,
            deidentified=deidentified,
            today=timezone.localdate(),
            params=as_querydict(params or {}),
        )
        columns = [c for c in spec.columns if not c.left_out(deidentified=deidentified)]
        header = [str(c.header) for c in columns]
        child_ids = array("q")  # 8 bytes a child, not a Python int each
        written = 0

        def cell(column: Column, row: Any) -> Any:
            value = column.value(row, context)
            if column.field_kind and value not in (None, ""):
                value = spec.masker(user, column.field_kind, str(value))
            return value

        def data() -> Iterable[list[Any]]:
            nonlocal written
            for row in iterate_rows(rows, spec.chunk_size):
                if spec.child_id is not None and (child := spec.child_id(row)) is not None:
                    child_ids.append(child)
                yield [cell(column, row) for column in columns]
                written += 1
                if on_progress is not None and written % PROGRESS_EVERY == 0:
                    on_progress(written)

        memory = io.BytesIO()
        target = out if out is not None else memory
        if fmt == ExportJob.Format.CSV:
            csv_write(chain([header], data()), target)
        else:
            xlsx_write(
                [
                    Sheet(
                        title=str(spec.title),
                        header=header,
                        rows=data(),
                        widths=[c.width for c in columns],
                        text_columns=[i for i, c in enumerate(columns) if c.text],
                        freeze_header=True,
                    )
                ],
                target,
            )
        content = memory.getvalue() if out is None else b""
    filename = f"{spec.filename}-{timezone.localdate():%Y%m%d}.{fmt}"
    return Written(content=content, filename=filename, rows=written, child_ids=child_ids)


def export_record(
    *,
    spec: ExportSpec,
    user: Any,
    written: Written,
    fmt: str,
    deidentified: bool,
    request: HttpRequest | None = None,
    path: str = "",
    ip_address: str | None = None,
    job_id: int | None = None,
) -> None:
    """The export in the access log: one EXPORT event per child the file holds (one event
    without a child when it holds none), each saying which export, format and how many rows."""
    detail: dict[str, Any] = {
        "export": spec.kind,
        "format": fmt,
        "rows": written.rows,
        "deidentified": deidentified,
    }
    if job_id is not None:
        detail["export_job"] = job_id
    ids = list(dict.fromkeys(written.child_ids))
    for start in range(0, max(len(ids), 1), LOG_BATCH):
        access_record_many(
            user=user,
            action=AccessEvent.Action.EXPORT,
            child_ids=ids[start : start + LOG_BATCH],
            request=request,
            detail=detail,
            path=path,
            ip_address=ip_address,
        )


@transaction.atomic
def export_now(
    spec: ExportSpec,
    *,
    user: Any,
    rows: Any,
    fmt: str,
    deidentified: bool,
    params: dict[str, list[str]],
    request: HttpRequest,
) -> Written:
    """Write a short export at once and record it in the access log."""
    written = export_write(
        spec, user=user, rows=rows, fmt=fmt, deidentified=deidentified, params=params
    )
    export_record(
        spec=spec,
        user=user,
        written=written,
        fmt=fmt,
        deidentified=deidentified,
        request=request,
    )
    return written
