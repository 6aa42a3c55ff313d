"""Pages of class and institution screenings: the list, opening a session, the roster, the
summary, closing. Entering results is in `screening_entry`."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from assessments.forms.screening import ScreeningOpenForm
from assessments.models import ScreeningSession
from assessments.screening.roster import (
    RosterRow,
    progress_of,
    screening_groups,
    session_progress,
    session_roster,
)
from assessments.screening.services import screening_session_close, screening_session_open
from assessments.screening.summary import THRESHOLD, session_summary
from assessments.selectors import sessions_visible_to
from cases.models import Child, RiskLevel
from core.access import fetch
from core.access_log import access_record_many
from core.models import AccessEvent
from core.pagination import CappedPaginator
from core.submissions import SubmitOnceMixin
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user
from institutions.views.exports import ExportView

OPEN_PERMISSION = "assessments.add_screeningsession"
SCREEN_PERMISSION = "assessments.change_screeningsession"
# Reading sessions and summaries (results and bands, not answers): an education bureau reads
# its schools' screenings without entering or closing them.
VIEW_PERMISSION = "assessments.view_screeningsession"


class ScreeningListView(ScopedViewMixin, View):
    """The sessions of my schools and institutions, newest first."""

    scope_selector = sessions_visible_to
    permission_required = VIEW_PERMISSION

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
    read_permission = VIEW_PERMISSION  # the roster and the summary; entering needs more
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
        user = signed_in_user(request)
        rows = session_roster(session=session, user=user)
        # The roster shows each child's name and result: a read of every child on it.
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[row.child.pk for row in rows],
            request=request,
            detail={"screening": session.pk},
        )
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
        user = signed_in_user(request)
        summary = session_summary(session=session, user=user, threshold=threshold)
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[a.child_id for a in summary.above]
            + [c.assessment.child_id for c in summary.critical],
            request=request,
            detail={"screening_summary": session.pk},
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

    read_permission = SCREEN_PERMISSION

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


class ScreeningSummaryExportView(SessionViewMixin, ExportView):
    """The summary's results as a file (`?fmt=xlsx|csv&threshold=`): the session at read (404
    out of scope), and the export's own permission (403 without it)."""

    export_kind = "screening_summary"
