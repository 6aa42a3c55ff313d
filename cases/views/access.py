"""Access beyond the user's scope: asking for a file the duplicate search found, deciding such
requests, breaking the glass in an emergency and reviewing it afterwards."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import View

from cases.access_tokens import ChildToken, child_token_read
from cases.forms.access import AccessDecisionForm, AccessRequestForm, EmergencyAccessForm
from cases.models import Child
from cases.selectors.access import emergency_accesses_to_review, pending_access_requests
from cases.selectors.scope import children_visible_to
from cases.services.access import (
    EmergencyTokenUsed,
    access_request_create,
    access_request_decide,
    emergency_access_open,
    emergency_access_review,
    emergency_access_until,
)
from cases.views.children import file_url
from core.submissions import SubmitOnceMixin
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


def token_of(request: HttpRequest) -> ChildToken:
    """The duplicate-search token of this request, made for this user, or 404."""
    raw = request.POST.get("token") or request.GET.get("token", "")
    token = child_token_read(raw, user_id=signed_in_user(request).pk)
    if token is None:
        raise Http404
    return token


class TokenChildFormView(SubmitOnceMixin, ScopedViewMixin, View):
    """A form about a child the duplicate search showed this user outside their scope, named
    by its opaque token (404 for anyone else). Nothing of the file is read here beyond what
    the search showed: the county holding it."""

    scope_selector = children_visible_to
    permission_required = "cases.view_child"
    form_class: ClassVar[type[forms.Form]]
    template_name: ClassVar[str]

    def token_child(self, request: HttpRequest) -> tuple[ChildToken, Child]:
        token = token_of(request)
        child = get_object_or_404(
            Child.objects.select_related("residence_region"), pk=token.child_id
        )
        return token, child

    def render_form(self, request: HttpRequest, form: forms.Form, child: Child) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "token": request.POST.get("token") or request.GET.get("token", ""),
                "county": child.residence_region_id[:6],
            },
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        _token, child = self.token_child(request)
        return self.render_form(request, self.form_class(), child)


class AccessRequestCreateView(TokenChildFormView):
    """Ask the owning region for access to a child found by the duplicate search."""

    form_class = AccessRequestForm
    template_name = "cases/access_request_form.html"

    def post(self, request: HttpRequest) -> HttpResponse:
        _token, child = self.token_child(request)
        form = AccessRequestForm(request.POST)
        if not form.is_valid():
            return self.render_form(request, form, child)
        access_request_create(
            child=child, by=signed_in_user(request), reason=form.cleaned_data["reason"]
        )
        messages.success(
            request,
            _("Your request was sent to the child director and supervisor who hold the file."),
        )
        return redirect("cases:child_list")


class EmergencyAccessView(TokenChildFormView):
    """Break the glass for a child the duplicate search showed: a reason, then a few hours."""

    form_class = EmergencyAccessForm
    template_name = "cases/emergency_access_form.html"

    def post(self, request: HttpRequest) -> HttpResponse:
        token, child = self.token_child(request)
        form = EmergencyAccessForm(request.POST)
        if form.is_valid():
            try:
                emergency_access_open(
                    child=child,
                    by=signed_in_user(request),
                    reason_code=form.cleaned_data["reason_code"],
                    reason=form.cleaned_data["reason"],
                    token_nonce=token.nonce,
                )
            except EmergencyTokenUsed:
                form.add_error(
                    None,
                    _(
                        "This emergency link was already used. Search for the child again if "
                        "you still need the file."
                    ),
                )
            else:
                messages.warning(
                    request,
                    _(
                        "Emergency access is open, read only, until %(time)s; the supervisor "
                        "has been told."
                    )
                    % {"time": date_format(emergency_access_until(), "DATETIME_FORMAT")},
                )
                return redirect(file_url(child))
        return self.render_form(request, form, child)


class EmergencyReviewView(ScopedViewMixin, View):
    """Supervisors review emergency accesses to children of their regions, with a note; the
    auditor sees every one still unreviewed."""

    scope_selector = children_visible_to

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not (
            user.has_perm("cases.review_emergency_access") or user.has_perm("core.view_accessevent")
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[return-value]

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        accesses = emergency_accesses_to_review(user=user)[:100]
        return render(
            request,
            "cases/emergency_reviews.html",
            {"accesses": accesses, "may_review": user.has_perm("cases.review_emergency_access")},
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        if not user.has_perm("cases.review_emergency_access"):
            raise PermissionDenied
        access = get_object_or_404(
            emergency_accesses_to_review(user=user), pk=request.POST.get("access")
        )
        note = request.POST.get("note", "").strip()
        if not note:
            messages.error(request, _("Write what you found and decided."))
        else:
            emergency_access_review(access=access, by=user, note=note[:2000])
            messages.success(request, _("Your review was recorded."))
        return redirect("cases:emergency_reviews")


class AccessRequestListView(SubmitOnceMixin, ScopedViewMixin, View):
    """Requests for access to files this user holds, to approve or decline."""

    scope_selector = children_visible_to
    permission_required = "cases.change_child"

    def get(self, request: HttpRequest) -> HttpResponse:
        requests = pending_access_requests(user=signed_in_user(request))[:100]
        return render(
            request,
            "cases/access_requests.html",
            {"requests": requests, "form": AccessDecisionForm()},
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        access_request = get_object_or_404(
            pending_access_requests(user=user), pk=request.POST.get("request")
        )
        form = AccessDecisionForm(request.POST)
        if form.is_valid():
            decided = access_request_decide(
                access_request=access_request,
                by=user,
                approve=form.cleaned_data["approve"],
                note=form.cleaned_data.get("note", ""),
            )
            if decided.decided_by_id != user.pk:
                # The first decision stands; this one was not written over it.
                messages.warning(
                    request,
                    _("%(who)s decided this request first (%(status)s); yours was not recorded.")
                    % {"who": decided.decided_by, "status": decided.get_status_display()},
                )
            else:
                messages.success(request, _("The decision was recorded and the requester told."))
        return redirect("cases:access_requests")
