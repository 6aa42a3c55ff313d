"""Exports of lists to XLSX and CSV: the one service every list's export goes through.

Each app describes its exports in its own `exports.py`, as an `ExportSpec`: the rows a user may
export for the list's filters (from the list's own scoping selector), the columns with their
translatable headers, and which columns are sensitive. Apps register their specs from their
`AppConfig.ready()`. This package then

- writes the file through `core.spreadsheets` (formula-safe), headers and labels in the site's
  language (Simplified Chinese) whoever asks, dates and times as real date cells;
- shows each sensitive value (a name, an ID number, a phone number) through the spec's masker, as
  the requester's role may see it; a de-identified export leaves those columns out entirely;
- records every export in the access log (EXPORT), one event per child it holds;
- hands a list longer than EXPORT_SYNC_MAX_ROWS to a background job (`ExportJob`): its page
  shows the progress, and the file is kept for its requester alone until it expires.

This package knows no domain model: the scoping and the masking come from the specs.
"""

from core.exports.jobs import (
    JobError,
    export_file_bytes,
    export_file_pieces,
    export_job_fail,
    export_job_run,
    export_job_scope_q,
    export_job_start,
    export_jobs_of,
    export_jobs_purge,
)
from core.exports.spec import (
    FORMATS,
    IDENTIFYING_KINDS,
    NOT_FILTERS,
    Column,
    ExportContext,
    ExportSpec,
    Masker,
    RowsOf,
    as_querydict,
    count_rows,
    export_params,
    export_spec,
    register_export,
    rows_for,
    yes_no,
)
from core.exports.writing import Written, export_now, export_record, export_write

__all__ = [
    "FORMATS",
    "IDENTIFYING_KINDS",
    "NOT_FILTERS",
    "Column",
    "ExportContext",
    "ExportSpec",
    "JobError",
    "Masker",
    "RowsOf",
    "Written",
    "as_querydict",
    "count_rows",
    "export_file_bytes",
    "export_file_pieces",
    "export_job_fail",
    "export_job_run",
    "export_job_scope_q",
    "export_job_start",
    "export_jobs_of",
    "export_jobs_purge",
    "export_now",
    "export_params",
    "export_record",
    "export_spec",
    "export_write",
    "register_export",
    "rows_for",
    "yes_no",
]
