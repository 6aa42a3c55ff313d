"""Pages that enter screening results: one child's answers (typed or in full), an absence, and
a sheet import with its template."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from assessments.forms.screening import ScreeningChildForm, SheetForm
from assessments.models import ScreeningSession
from assessments.screening.entry import entry_problems, parse_typed
from assessments.screening.roster import RosterRow
from assessments.screening.services import (
    ScreeningConflict,
    screening_absence_record,
    screening_result_save,
    screening_row_save,
    screening_sheet_import,
)
from assessments.screening.sheets import (
    CONSENT_HEADER,
    NAME_HEADER,
    RECORD_HEADER,
    screening_sheet_check,
    sheet_template,
)
from assessments.views.screening import SCREEN_PERMISSION, SessionViewMixin
from core.access_log import access_record_many
from core.models import AccessEvent
from core.spreadsheets import spreadsheet_response
from core.submissions import SubmitOnceMixin
from institutions.models import User
from institutions.selectors import signed_in_user


def require_entry_permissions(user: User) -> None:
    if not user.has_perm("assessments.add_assessment"):
        raise PermissionDenied


class ScreeningEntryView(SubmitOnceMixin, SessionViewMixin, View):
    """POST one child's typed answers (htmx returns the row); GET the full radio form."""

    read_permission = SCREEN_PERMISSION
    template_name = "assessments/screening_child_form.html"

    def get(self, request: HttpRequest, pk: int, child_pk: int) -> HttpResponse:
        session = self.get_session(pk)
        row = self.entry_row(session, child_pk)
        form = ScreeningChildForm(
            instrument=session.instrument, child=row.child, user=signed_in_user(request)
        )
        problems = entry_problems(session=session, row=row, consent_today=True)
        return render(
            request,
            self.template_name,
            {"session": session, "row": row, "form": form, "problems": problems},
        )

    def post(self, request: HttpRequest, pk: int, child_pk: int) -> HttpResponse:
        user = signed_in_user(request)
        require_entry_permissions(user)
        session = self.get_session(pk)
        row = self.entry_row(session, child_pk)
        if request.POST.get("mode") == "full":
            return self.post_full(request, session, row, user)
        typed = request.POST.get("answers", "")[:200]
        consent_today = bool(request.POST.get("consent")) and not row.consent_on_file
        errors = entry_problems(session=session, row=row, consent_today=consent_today, user=user)
        definition = session.instrument.parsed
        answers, answer_errors = parse_typed(typed, definition)
        errors += answer_errors
        if not errors:
            try:
                screening_row_save(
                    session=session, row=row, answers=answers, by=user, consent_today=consent_today
                )
            except ScreeningConflict as conflict:
                errors.append(str(conflict))
            row = self.get_row(session, child_pk)
        if errors:
            return self.row_response(
                request, session, row, errors=errors, typed=typed, after="self"
            )
        if not getattr(request, "htmx", False):
            messages.success(request, _("%(name)s: saved.") % {"name": row.child.name})
        return self.row_response(request, session, row, after="next")

    def post_full(
        self, request: HttpRequest, session: ScreeningSession, row: RosterRow, user: User
    ) -> HttpResponse:
        form = ScreeningChildForm(
            request.POST, instrument=session.instrument, child=row.child, user=user
        )
        problems = entry_problems(session=session, row=row, consent_today=True)
        if problems or not form.is_valid() or form.result is None:
            return render(
                request,
                self.template_name,
                {"session": session, "row": row, "form": form, "problems": problems},
            )
        given_by = str(form.cleaned_data.get("consent_by") or "")
        if given_by and not user.has_perm("cases.record_consent"):
            raise PermissionDenied
        try:
            screening_result_save(
                session=session,
                child=row.child,
                answers=form.answers,
                result=form.result,
                by=user,
                record_consent=bool(given_by),
                consent_guardian=form.cleaned_data.get("consent_guardian"),
            )
        except ScreeningConflict as conflict:
            messages.error(request, str(conflict))
        else:
            messages.success(request, _("%(name)s: saved.") % {"name": row.child.name})
        url = reverse("assessments:screening_detail", args=[session.pk])
        return redirect(f"{url}#row-{row.child.pk}")


class ScreeningAbsentView(SubmitOnceMixin, SessionViewMixin, View):
    """Mark a child of the roster absent, with an optional reason."""

    def post(self, request: HttpRequest, pk: int, child_pk: int) -> HttpResponse:
        user = signed_in_user(request)
        session = self.get_session(pk)
        row = self.entry_row(session, child_pk)
        if session.status != ScreeningSession.Status.OPEN:
            return self.row_response(request, session, row, errors=[_("This screening is closed.")])
        if row.result is not None:
            return self.row_response(
                request, session, row, errors=[_("This child already has a result.")]
            )
        screening_absence_record(
            session=session,
            child=row.child,
            reason=request.POST.get("reason", "").strip(),
            by=user,
        )
        return self.row_response(request, session, self.get_row(session, child_pk), after="next")


class ScreeningImportView(SubmitOnceMixin, SessionViewMixin, View):
    """Upload a sheet; every row is checked and either all are saved or none."""

    read_permission = SCREEN_PERMISSION  # the template lists the children still to screen
    template_name = "assessments/screening_import.html"

    def context(self, session: ScreeningSession, form: SheetForm, **extra: Any) -> dict[str, Any]:
        return {
            "session": session,
            "form": form,
            "record_header": RECORD_HEADER,
            "name_header": NAME_HEADER,
            "consent_header": CONSENT_HEADER,
            "item_count": len(session.instrument.parsed.items),
            **extra,
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = self.get_session(pk)
        fmt = request.GET.get("template")
        if fmt in ("xlsx", "csv"):
            user = signed_in_user(request)
            template = sheet_template(session=session, user=user, fmt=fmt)
            access_record_many(
                user=user,
                action=AccessEvent.Action.EXPORT,
                child_ids=template.child_ids,
                request=request,
                detail={"screening_sheet": session.pk},
            )
            return spreadsheet_response(template.content, filename=f"screening-{session.pk}.{fmt}")
        return render(request, self.template_name, self.context(session, SheetForm()))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        require_entry_permissions(user)
        session = self.get_session(pk)
        form = SheetForm(request.POST, request.FILES)
        if session.status != ScreeningSession.Status.OPEN:
            form.add_error(None, _("This screening is closed."))
        if not form.is_valid():
            return render(request, self.template_name, self.context(session, form))
        upload = form.cleaned_data["file"]
        check = screening_sheet_check(session=session, user=user, upload=upload)
        if not check.ok:
            return render(
                request,
                self.template_name,
                self.context(session, form, check=check),
                status=400,
            )
        try:
            saved = screening_sheet_import(session=session, rows=check.rows, by=user)
        except ScreeningConflict as conflict:
            check.errors.append((None, str(conflict)))
            return render(
                request, self.template_name, self.context(session, form, check=check), status=409
            )
        messages.success(
            request,
            _("%(count)d results were saved from the sheet.") % {"count": len(saved)},
        )
        if check.ignored_columns:
            messages.info(
                request,
                _("These columns were ignored: %(columns)s.")
                % {"columns": "、".join(check.ignored_columns)},
            )
        return redirect("assessments:screening_summary", pk=session.pk)
