"""Pages of class and institution screenings: open a session, the roster with fast keyboard
entry, absences, a sheet import, the summary, closing."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from assessments.forms import AssessmentForm
from assessments.models import Instrument, ScreeningSession
from assessments.screening import (
    CONSENT_HEADER,
    NAME_HEADER,
    RECORD_HEADER,
    THRESHOLD,
    Group,
    RosterRow,
    ScreeningConflict,
    entry_problems,
    parse_typed,
    progress_of,
    screening_absence_record,
    screening_groups,
    screening_result_save,
    screening_session_close,
    screening_session_open,
    screening_sheet_check,
    screening_sheet_import,
    session_progress,
    session_roster,
    session_summary,
    sheet_template,
)
from assessments.selectors import current_instruments, sessions_visible_to
from cases.models import Child, RiskLevel
from cases.selectors import children_visible_to
from core.access import fetch
from core.access_log import access_record_many
from core.models import AccessEvent
from core.pagination import CappedPaginator
from core.spreadsheets import spreadsheet_response
from core.submissions import SubmitOnceMixin
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user

OPEN_PERMISSION = "assessments.add_screeningsession"
SCREEN_PERMISSION = "assessments.change_screeningsession"
SHEET_EXTENSIONS = (".xlsx", ".csv")


class ScreeningOpenForm(BootstrapFormMixin, forms.Form):
    """The instrument, the class or institution, the date and an optional title."""

    instrument = forms.ModelChoiceField(
        label=gettext_lazy("Instrument"), queryset=Instrument.objects.none()
    )
    group = forms.ChoiceField(label=gettext_lazy("Class or institution"))
    administered_on = forms.DateField(
        label=gettext_lazy("Date"),
        widget=DateInput(),
    )
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Empty: the instrument, the class and the date."),
    )

    def __init__(self, *args: Any, groups: list[Group], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = {g.key: g for g in groups}
        instrument = self.fields["instrument"]
        instrument.queryset = current_instruments()  # type: ignore[attr-defined]
        instrument.label_from_instance = lambda i: f"{i.code} · {i.name}"  # type: ignore[attr-defined]
        self.fields["group"].choices = [("", "---------")] + [  # type: ignore[attr-defined]
            (g.key, g.label) for g in groups
        ]
        self.fields["administered_on"].initial = timezone.localdate()

    def clean_group(self) -> Group:
        group = self.groups.get(self.cleaned_data["group"])
        if group is None:
            raise forms.ValidationError(_("Choose one of the classes or institutions listed."))
        return group

    def clean_administered_on(self) -> Any:
        day = self.cleaned_data["administered_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A screening cannot be dated in the future."))
        return day


class ScreeningChildForm(AssessmentForm):
    """One child's answers as radio groups; the session gives the date and the setting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["administered_on"]
        del self.fields["setting"]


class SheetForm(BootstrapFormMixin, forms.Form):
    """A sheet exported from another screening platform, one row per child."""

    file = forms.FileField(label=gettext_lazy("Sheet (.xlsx or .csv)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not PurePath(upload.name or "").name.lower().endswith(SHEET_EXTENSIONS):
            raise forms.ValidationError(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))
        if (upload.size or 0) > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s.")
                % {"size": filesizeformat(settings.IMPORT_MAX_BYTES)}
            )
        return upload


class ScreeningListView(ScopedViewMixin, View):
    """The sessions of my schools and institutions, newest first."""

    scope_selector = sessions_visible_to
    permission_required = OPEN_PERMISSION

    def get(self, request: HttpRequest) -> HttpResponse:
        sessions = self.get_scoped_queryset().select_related("opened_by")
        page = CappedPaginator(sessions, 25).get_page(request.GET.get("page"))
        return render(request, "assessments/screening_list.html", {"page_obj": page})


class ScreeningCreateView(SubmitOnceMixin, ScopedViewMixin, View):
    """Open a session for a class of my school or the residents of my institution."""

    scope_selector = sessions_visible_to
    permission_required = OPEN_PERMISSION
    template_name = "assessments/screening_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = ScreeningOpenForm(groups=screening_groups(user=signed_in_user(request)))
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        form = ScreeningOpenForm(request.POST, groups=screening_groups(user=user))
        if not form.is_valid():
            return render(request, self.template_name, {"form": form})
        session = screening_session_open(
            group=form.cleaned_data["group"],
            instrument=form.cleaned_data["instrument"],
            administered_on=form.cleaned_data["administered_on"],
            title=form.cleaned_data["title"].strip(),
            by=user,
        )
        return redirect("assessments:screening_detail", pk=session.pk)


class SessionViewMixin(ScopedViewMixin):
    """A session the user may see (and, to write, one their scope reaches at contribute), and
    the children of its roster they may see."""

    fetch_model = ScreeningSession
    read_level = Level.READ
    level = Level.CONTRIBUTE
    permission_required = SCREEN_PERMISSION

    def get_fetch_queryset(self) -> QuerySet[ScreeningSession]:
        return ScreeningSession.objects.select_related("instrument", "school", "institution")

    def get_session(self, pk: int) -> ScreeningSession:
        session: ScreeningSession = self.object
        return session

    def entry_row(self, session: ScreeningSession, child_pk: int) -> RosterRow:
        """The roster row of a child whose result or absence the user records: the child at
        contribute (403 with read only, 404 out of scope), and on the roster (404 otherwise)."""
        fetch(self.request, Child, child_pk, level=Level.CONTRIBUTE)
        return self.get_row(session, child_pk)

    def get_row(self, session: ScreeningSession, child_pk: int) -> RosterRow:
        rows = session_roster(session=session, user=signed_in_user(self.request), child_id=child_pk)
        if not rows:
            raise Http404
        return rows[0]

    def row_response(
        self,
        request: HttpRequest,
        session: ScreeningSession,
        row: RosterRow,
        *,
        errors: list[str] | None = None,
        typed: str = "",
        after: str = "",
    ) -> HttpResponse:
        """htmx: the row again (and the progress, out of band); otherwise back to the roster."""
        if not getattr(request, "htmx", False):
            for error in errors or []:
                messages.error(request, f"{row.child.name}: {error}")
            url = reverse("assessments:screening_detail", args=[session.pk])
            return redirect(f"{url}#row-{row.child.pk}")
        return render(
            request,
            "assessments/partials/screening_row_response.html",
            {
                "session": session,
                "row": row,
                "errors": errors or [],
                "typed": typed,
                "after": after,
                "item_count": len(session.instrument.parsed.items),
                "progress": session_progress(session=session, user=signed_in_user(request)),
            },
        )


class ScreeningDetailView(SessionViewMixin, View):
    """The roster with progress and one fast-entry line per child."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = self.get_session(pk)
        rows = session_roster(session=session, user=signed_in_user(request))
        return render(
            request,
            "assessments/screening_detail.html",
            {
                "session": session,
                "rows": rows,
                "progress": progress_of(rows),
                "item_count": len(session.instrument.parsed.items),
            },
        )


def require_entry_permissions(user: User) -> None:
    if not user.has_perm("assessments.add_assessment"):
        raise PermissionDenied


class ScreeningEntryView(SubmitOnceMixin, SessionViewMixin, View):
    """POST one child's typed answers (htmx returns the row); GET the full radio form."""

    template_name = "assessments/screening_child_form.html"

    def get(self, request: HttpRequest, pk: int, child_pk: int) -> HttpResponse:
        session = self.get_session(pk)
        row = self.entry_row(session, child_pk)
        form = ScreeningChildForm(instrument=session.instrument, child=row.child)
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
        errors = entry_problems(session=session, row=row, consent_today=consent_today)
        if consent_today and not user.has_perm("cases.record_consent"):
            errors.append(_("You may not record consent."))
        definition = session.instrument.parsed
        answers, answer_errors = parse_typed(typed, definition)
        errors += answer_errors
        if not errors:
            try:
                screening_result_save(
                    session=session,
                    child=row.child,
                    answers=answers,
                    result=definition.score(answers),
                    by=user,
                    record_consent=consent_today,
                    consent_guardian=row.primary_guardian,
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
        form = ScreeningChildForm(request.POST, instrument=session.instrument, child=row.child)
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
                consent_guardian=None
                if given_by in ("", "child")
                else row.child.guardians.get(pk=int(given_by)),
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
        check = screening_sheet_check(
            session=session,
            user=user,
            content=upload.read(),
            filename=PurePath(upload.name or "").name,
        )
        screened = {r.child.pk for r in check.rows}
        if len(screened) != (
            children_visible_to(user, Level.CONTRIBUTE).filter(pk__in=screened).count()
        ):
            raise PermissionDenied  # a child of the sheet is one the user may only read
        needs_consent = any(r.record_consent for r in check.rows)
        if check.ok and needs_consent and not user.has_perm("cases.record_consent"):
            check.errors.append((None, _("You may not record consent.")))
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


class ScreeningSummaryView(SessionViewMixin, View):
    """Results by band, and the children at or above a chosen risk level."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = self.get_session(pk)
        try:
            threshold = int(request.GET.get("threshold", THRESHOLD))
        except ValueError:
            threshold = THRESHOLD
        if threshold not in RiskLevel.values or threshold == RiskLevel.NONE:
            threshold = THRESHOLD
        summary = session_summary(
            session=session, user=signed_in_user(request), threshold=threshold
        )
        return render(
            request,
            "assessments/screening_summary.html",
            {
                "session": session,
                "summary": summary,
                "thresholds": [c for c in RiskLevel.choices if c[0] != RiskLevel.NONE],
            },
        )


class ScreeningCloseView(SessionViewMixin, View):
    """Ask, then close the session: no more entries."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = self.get_session(pk)
        rows = session_roster(session=session, user=signed_in_user(request))
        return render(
            request,
            "assessments/screening_close.html",
            {"session": session, "progress": progress_of(rows)},
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = self.get_session(pk)
        screening_session_close(session=session, by=signed_in_user(request))
        messages.success(request, _("The screening is closed."))
        return redirect("assessments:screening_detail", pk=session.pk)
