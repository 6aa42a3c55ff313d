"""The export pages every list shares: the export itself (`?fmt=xlsx|csv` with the list's own
filters), the page of a long export written in the background, and its download, which only
its requester reaches (404 for anyone else) until it expires (410).

The mechanics (scoping, masking, the access log, the job) are in `core.exports`; each list's
columns are in its app's `exports.py`. A URL names the export by `export_kind`:

    path("export/", ExportView.as_view(export_kind="children"), name="child_export")
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from core.access_log import access_record_many
from core.exports import (
    FORMATS,
    count_rows,
    export_file_pieces,
    export_job_start,
    export_now,
    export_params,
    export_spec,
    rows_for,
)
from core.models import AccessEvent, ExportJob
from core.spreadsheets import spreadsheet_response, spreadsheet_stream
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user

RUNNING = (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)


def wants_deidentified(request: HttpRequest) -> bool:
    return request.GET.get("deidentified", "") in ("1", "on", "true")


class ExportView(ScopedViewMixin, View):
    """An export of a list: with `fmt`, the file (or, for a long list, the page of the job that
    writes it); without, a page to choose the format and, where the list is not shown anywhere
    (visits), its filters. 403 for users the export's spec refuses; the rows come from the
    list's scoping selector, so a filter naming a region outside the user's scope is 404."""

    export_kind: ClassVar[str] = ""
    # The filters offered on the export's own page, for a list that has no page of its own.
    filter_form_class: ClassVar[type[forms.Form] | None] = None
    template_name = "institutions/export.html"

    def url_params(self, **kwargs: Any) -> dict[str, Any]:
        """The ids the URL names, added to the filters (a session's summary: its id)."""
        return kwargs

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        user = signed_in_user(request)
        spec = export_spec(self.export_kind)
        if not spec.may_export(user):
            raise PermissionDenied
        params = export_params(request.GET, **self.url_params(**kwargs))
        fmt = request.GET.get("fmt", "")
        if fmt not in FORMATS:
            # The rows are not read, but their scope is checked (404 outside it) before the
            # page offers to export them.
            try:
                rows_for(spec, user=user, params=params)
            except ValidationError as error:
                return self.choose(request, spec, params, errors=error.messages, status=400)
            return self.choose(request, spec, params)
        deidentified = wants_deidentified(request)
        try:
            rows = rows_for(spec, user=user, params=params)
        except ValidationError as error:
            return self.choose(request, spec, params, errors=error.messages, status=400)
        total = count_rows(rows)
        if total > settings.EXPORT_SYNC_MAX_ROWS:
            job = export_job_start(
                spec,
                user=user,
                params=params,
                fmt=fmt,
                deidentified=deidentified,
                total=total,
                request=request,
            )
            return redirect("exports:job", pk=job.pk)
        written = export_now(
            spec,
            user=user,
            rows=rows,
            fmt=fmt,
            deidentified=deidentified,
            params=params,
            request=request,
        )
        return spreadsheet_response(written.content, filename=written.filename)

    def choose(
        self,
        request: HttpRequest,
        spec: Any,
        params: dict[str, list[str]],
        *,
        errors: list[str] | None = None,
        status: int = 200,
    ) -> HttpResponse:
        form = self.filter_form_class(request.GET or None) if self.filter_form_class else None
        in_form = set(form.fields) if form is not None else set()
        hidden = [
            (name, value)
            for name, values in params.items()
            if name not in in_form and name not in self.url_params(**self.kwargs)
            for value in values
        ]
        return render(
            request,
            self.template_name,
            {
                "spec": spec,
                "form": form,
                "hidden": hidden,
                "errors": errors or [],
                "deidentified": wants_deidentified(request),
            },
            status=status,
        )


class ExportJobView(ScopedViewMixin, View):
    """A long export: its progress while the job writes it (polled by htmx), then the link to
    download it, until it expires. Only its requester reaches it."""

    fetch_model = ExportJob

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job: ExportJob = self.object
        context = {
            "job": job,
            "spec": _spec_or_none(job.kind),
            "running": job.status in RUNNING,
            "expired": job.expires_at <= timezone.now(),
        }
        if getattr(request, "htmx", False):
            return render(request, "institutions/partials/export_progress.html", context)
        return render(request, "institutions/export_job.html", context)


class ExportJobDownloadView(ScopedViewMixin, View):
    """The file a finished export wrote, for its requester alone; 410 once it has expired."""

    fetch_model = ExportJob

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        job: ExportJob = self.object
        if job.status != ExportJob.Status.DONE:
            raise Http404
        if job.expires_at <= timezone.now() or job.file_size is None:
            return render(
                request,
                "institutions/export_expired.html",
                {"job": job, "spec": _spec_or_none(job.kind)},
                status=410,
            )
        # The children the file holds were logged when it was written; each download is logged.
        access_record_many(
            user=signed_in_user(request),
            action=AccessEvent.Action.EXPORT,
            child_ids=[],
            request=request,
            detail={"export": job.kind, "export_job": job.pk, "downloaded": True},
        )
        # Sent piece by piece: a web worker never holds a province's file whole.
        return spreadsheet_stream(
            export_file_pieces(job), filename=job.filename, size=job.file_size
        )


def _spec_or_none(kind: str) -> Any:
    try:
        return export_spec(kind)
    except LookupError:
        return None
