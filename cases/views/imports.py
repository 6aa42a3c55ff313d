"""Pages of the child import: upload, follow the job, download the template."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import FormView

from cases.imports.job import (
    child_import_expire_if_stale,
    child_import_restart,
    child_import_start,
    child_imports_of,
)
from cases.imports.template import template_csv, template_workbook
from cases.imports.upload import ChildImportForm
from cases.models import ChildImport
from core.access_log import access_record_many
from core.models import AccessEvent
from core.spreadsheets import spreadsheet_response
from core.submissions import SubmitOnceMixin
from institutions.scoping import ScopedDetailView, ScopedViewMixin
from institutions.selectors import signed_in_user

PERMISSION = "cases.import_children"
RUNNING = {ChildImport.Status.QUEUED, ChildImport.Status.CHECKING, ChildImport.Status.IMPORTING}
RECENT = 5


class ImportStartView(SubmitOnceMixin, ScopedViewMixin, FormView):
    """The upload form, the template links and the user's recent imports."""

    scope_selector = child_imports_of
    permission_required = PERMISSION
    template_name = "cases/import_start.html"
    form_class = ChildImportForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["recent"] = self.get_scoped_queryset()[:RECENT]
        return context

    def form_valid(self, form: ChildImportForm) -> HttpResponse:
        job = child_import_start(
            uploaded_file=form.cleaned_data["file"], by=signed_in_user(self.request)
        )
        return HttpResponseRedirect(reverse("cases:import_status", args=[job.pk]))


class ImportStatusView(ScopedDetailView):
    """One import: its progress while it runs, then its row errors or its result."""

    scope_selector = child_imports_of
    permission_required = PERMISSION
    template_name = "cases/import_status.html"
    context_object_name = "job"

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False):
            return ["cases/partials/import_progress.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        job: ChildImport = context["job"]
        if job.status in RUNNING and child_import_expire_if_stale(job_id=job.pk):
            job.refresh_from_db()
        context["running"] = job.status in RUNNING
        return context


class ImportRestartView(SubmitOnceMixin, ScopedViewMixin, View):
    """Queue the file of one's own failed import again (as a new import)."""

    scope_selector = child_imports_of
    permission_required = PERMISSION

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job: ChildImport = get_object_or_404(self.get_scoped_queryset().only("pk", "status"), pk=pk)
        if job.status != ChildImport.Status.FAILED:
            return HttpResponseRedirect(reverse("cases:import_status", args=[job.pk]))
        again = child_import_restart(
            job=ChildImport.objects.get(pk=job.pk), by=signed_in_user(request)
        )
        return HttpResponseRedirect(reverse("cases:import_status", args=[again.pk]))


class ImportTemplateView(ScopedViewMixin, View):
    """The template to fill in: an Excel workbook or a CSV file with the Chinese headers."""

    scope_selector = child_imports_of
    permission_required = PERMISSION

    def get(self, request: HttpRequest, fmt: str) -> HttpResponse:
        content = template_workbook() if fmt == "xlsx" else template_csv()
        # A blank template holds no child's data: one event without a child.
        access_record_many(
            user=signed_in_user(request),
            action=AccessEvent.Action.EXPORT,
            child_ids=[],
            request=request,
            detail={"children_template": fmt},
        )
        return spreadsheet_response(content, filename=f"children-template.{fmt}")
