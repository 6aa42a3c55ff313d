"""Visits: log, read, review."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views import View

from cases.models import Child
from core.offline import is_sync, sync_answer
from core.submissions import SubmitOnceMixin
from followups.forms import VisitForm, VisitReviewForm
from followups.models import Visit
from followups.services import visit_record, visit_review
from institutions.masking import FieldKind, mask
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


class VisitCreateView(SubmitOnceMixin, ScopedViewMixin, View):
    """Log a visit in a few taps: every field has a sensible default."""

    fetch_model = Child
    level = Level.CONTRIBUTE
    permission_required = "followups.add_visit"
    template_name = "followups/visit_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = self.object
        form = VisitForm(kind=request.GET.get("kind", ""))
        return render(request, self.template_name, {"form": form, "child": child})

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(request, *args, **kwargs)
        if request.method == "POST" and is_sync(request):
            # A visit sent from the phone's queue (static/js/offline.js) is answered in JSON.
            return sync_answer(request, response, errors=getattr(self, "refused", None))
        return response

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = self.object
        form = VisitForm(request.POST)
        visit = None
        if form.is_valid():
            try:
                visit = visit_record(child=child, data=form.cleaned_data, by=user)
            except ValidationError as refused:
                form.add_error(None, refused)
        if visit is None:
            self.refused = form.errors
            return render(request, self.template_name, {"form": form, "child": child})
        if visit.flagged:
            messages.warning(
                request,
                _("The visit was flagged: the township supervisor and the care team were told."),
            )
            return redirect("followups:visit_detail", pk=visit.pk)
        messages.success(request, _("The visit was logged."))
        return redirect(reverse("cases:child_detail", args=[child.pk]) + "#timeline")


def referral_link(visit_pk: int, child_pk: int) -> str:
    """Where "start a referral" leads, pre-filled from the visit (once referrals exist)."""
    try:
        return reverse("referrals:referral_create", args=[child_pk]) + f"?visit={visit_pk}"
    except NoReverseMatch:
        return ""


class VisitDetailView(SubmitOnceMixin, ScopedViewMixin, View):
    """A visit; a flagged one asks about a referral and takes the supervisor's review (a
    supervisor's act on their region: the child at read, and the review permission)."""

    fetch_model = Visit
    permission_required = "cases.view_child"

    def get_fetch_queryset(self) -> QuerySet[Visit]:
        return Visit.objects.select_related("child", "visitor")

    def get_log_detail(self) -> dict[str, Any]:
        return {"visit": self.kwargs["pk"]}

    def render_page(
        self, request: HttpRequest, visit: Visit, form: VisitReviewForm
    ) -> HttpResponse:
        user = signed_in_user(request)
        return render(
            request,
            "followups/visit_detail.html",
            {
                "visit": visit,
                "form": form,
                # The visitor may always read the note they wrote.
                "note": mask(
                    user,
                    FieldKind.CONFIDENTIAL_NOTE,
                    visit.note,
                    sensitive=visit.note_confidential and visit.visitor_id != user.pk,
                ),
                "referral_url": referral_link(visit.pk, visit.child_id),
            },
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_page(request, self.object, VisitReviewForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        visit = self.object
        if not user.has_perm("followups.review_visit"):
            return render(request, "403.html", status=403)
        form = VisitReviewForm(request.POST)
        if not form.is_valid():
            return self.render_page(request, visit, form)
        note = form.cleaned_data["note"]
        visit = visit_review(visit=visit, by=user, note=note)
        if visit.reviewed_by_id != user.pk or visit.review_note != note:
            # The first review stands; this one was not written over it.
            messages.warning(
                request,
                _("%(who)s reviewed this visit first; your note was not saved: %(note)s")
                % {"who": visit.reviewed_by, "note": note},
            )
        else:
            messages.success(request, _("Your review was recorded."))
        return redirect("followups:visit_detail", pk=visit.pk)
