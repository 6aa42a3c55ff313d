"""Pages of the child's file. Every object comes from a scoping selector; writes go to services."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import View

from cases.access_tokens import ChildToken, child_token_make, child_token_read
from cases.filters import ChildFilter
from cases.forms import (
    AccessRequestForm,
    ChildEditForm,
    ChildForm,
    CloseForm,
    EmergencyAccessForm,
)
from cases.identity import national_id_for
from cases.models import Child
from cases.sections import render_context
from cases.selectors import (
    child_file_queryset,
    child_history,
    child_list,
    children_visible_to,
    duplicate_candidates,
    emergency_accesses_to_review,
)
from cases.services.access import (
    EmergencyTokenUsed,
    access_request_create,
    emergency_access_open,
    emergency_access_review,
    emergency_access_until,
)
from cases.services.child import (
    DuplicateChild,
    EditConflict,
    child_close,
    child_create,
    child_reopen,
    child_update,
)
from cases.timeline import timeline
from core.access_log import access_record_many
from core.models import AccessEvent
from core.pagination import CappedPaginator
from core.submissions import SubmitOnceMixin
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


def file_url(child: Child, anchor: str = "") -> str:
    url = reverse("cases:child_detail", args=[child.pk])
    return f"{url}#{anchor}" if anchor else url


class ChildListView(ScopedViewMixin, View):
    """The children the user may see: filters, search, sort and bounded pagination."""

    scope_selector = children_visible_to
    permission_required = "cases.view_child"
    page_size = 25

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        filterset = ChildFilter(request.GET, queryset=child_list(user=user), user=user)
        # A bad filter value is shown on its field and lists nothing rather than everything.
        qs = filterset.qs if filterset.is_valid() else filterset.queryset.none()
        paginator = CappedPaginator(qs, self.page_size)
        page = paginator.get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[c.pk for c in page.object_list],
            request=request,
        )
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "filter": filterset,
            "page_obj": page,
            "children": page.object_list,
            "paginator": paginator,
            "query": query.urlencode(),
        }
        template = (
            "cases/partials/child_rows.html"
            if getattr(request, "htmx", False) and request.headers.get("HX-Target") == "child-rows"
            else "cases/child_list.html"
        )
        return render(request, template, context)


class ChildDetailView(ScopedViewMixin, View):
    """A child's file. Every read is logged."""

    fetch_model = Child
    permission_required = "cases.view_child"

    def get_fetch_queryset(self) -> QuerySet[Child]:
        return child_file_queryset()

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = self.object
        plans = list(child.care_plans.all())
        active_plan = next((p for p in plans if p.status == "active"), None)
        return render(
            request,
            "cases/child_detail.html",
            {
                "child": child,
                "national_id": national_id_for(user=user, child=child),
                "guardians": list(child.guardians.all()),
                "consents": list(child.consents.all()),
                "team": list(child.care_team.all()),
                "active_plan": active_plan,
                "past_plans": [p for p in plans if p is not active_plan],
                "needs_plan": child.is_high_risk and active_plan is None,
                "timeline": timeline(child, user),
                "sections": render_context(child, user),
            },
        )


class ChildHistoryView(ScopedViewMixin, View):
    """Every change to the file's fields, who made it and when."""

    fetch_model = Child
    permission_required = "cases.view_child"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = self.object
        history = child_history(child=child, user=signed_in_user(request))

        users = {u.pk: u for u in User.objects.filter(pk__in={h["user_id"] for h in history})}
        for entry in history:
            entry["user"] = users.get(entry["user_id"])
        return render(request, "cases/child_history.html", {"child": child, "history": history})


def with_tokens(candidates: list[Any], request: HttpRequest) -> list[Any]:
    """Out-of-scope matches get an opaque per-user token to ask for access or break the glass."""
    user_id = signed_in_user(request).pk
    return [
        c
        if c.in_scope
        else replace(c, token=child_token_make(child_id=c.child.pk, user_id=user_id))
        for c in candidates
    ]


class ChildCreateView(SubmitOnceMixin, ScopedViewMixin, View):
    """Register a child, after searching every region for the same child."""

    scope_selector = children_visible_to
    permission_required = "cases.add_child"
    template_name = "cases/child_create.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = ChildForm(user=signed_in_user(request))
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        form = ChildForm(request.POST, user=user)
        candidates: list[Any] = []
        if form.is_valid():
            data = form.model_data()
            candidates = duplicate_candidates(
                user=user,
                name=data["name"],
                birth_date=data["birth_date"],
                sex=data["sex"],
                national_id=form.cleaned_data["national_id"],
            )
            same_id = [c for c in candidates if c.strength == "id"]
            if same_id:
                form.add_error(
                    "national_id",
                    _("A child with this ID number is already registered (see below)."),
                )
            elif candidates and request.POST.get("confirm_new") != "1":
                messages.warning(
                    request,
                    _("Possible duplicates found. Check them before registering a new child."),
                )
            else:
                try:
                    child = child_create(
                        data=data,
                        national_id=form.cleaned_data["national_id"],
                        by=user,
                        request=request,
                    )
                except DuplicateChild:
                    form.add_error(
                        "national_id", _("A child with this ID number is already registered.")
                    )
                else:
                    messages.success(
                        request, _("The file of %(name)s was created.") % {"name": child.name}
                    )
                    return redirect(file_url(child))
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "candidates": with_tokens(candidates, request),
                "confirm_possible": bool(candidates)
                and not any(c.strength == "id" for c in candidates),
            },
        )


class DuplicateCheckView(ScopedViewMixin, View):
    """htmx: likely matches while the create form is being filled in."""

    scope_selector = children_visible_to
    permission_required = "cases.add_child"

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        form = ChildForm(request.POST, user=user)
        form.is_valid()
        data = form.cleaned_data
        candidates = []
        if data.get("name") and (data.get("birth_date") or data.get("national_id")):
            candidates = duplicate_candidates(
                user=user,
                name=data["name"],
                birth_date=data.get("birth_date"),
                sex=data.get("sex", ""),
                national_id=data.get("national_id", ""),
            )
        return render(
            request,
            "cases/partials/duplicates.html",
            {"candidates": with_tokens(candidates, request)},
        )


def token_of(request: HttpRequest) -> ChildToken:
    """The duplicate-search token of this request, made for this user, or 404."""
    raw = request.POST.get("token") or request.GET.get("token", "")
    token = child_token_read(raw, user_id=signed_in_user(request).pk)
    if token is None:
        raise Http404
    return token


def child_from_token(request: HttpRequest) -> Child:
    """The child a duplicate search showed this user (an opaque, per-user token), or 404. The
    token is the user's only way to name a child outside their scope; nothing of the file is
    read here beyond what the search showed (masked name, birth year, county)."""
    token = token_of(request)
    return get_object_or_404(Child.objects.select_related("residence_region"), pk=token.child_id)


class AccessRequestCreateView(SubmitOnceMixin, ScopedViewMixin, View):
    """Ask the owning region for access to a child found by the duplicate search."""

    scope_selector = children_visible_to
    permission_required = "cases.view_child"

    def _child(self, request: HttpRequest) -> Child:
        return child_from_token(request)

    def get(self, request: HttpRequest) -> HttpResponse:
        child = self._child(request)
        return render(
            request,
            "cases/access_request_form.html",
            {
                "form": AccessRequestForm(),
                "token": request.GET.get("token", ""),
                "county": child.residence_region_id[:6],
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        child = self._child(request)
        form = AccessRequestForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "cases/access_request_form.html",
                {
                    "form": form,
                    "token": request.POST.get("token", ""),
                    "county": child.residence_region_id[:6],
                },
            )
        access_request_create(
            child=child, by=signed_in_user(request), reason=form.cleaned_data["reason"]
        )
        messages.success(
            request,
            _("Your request was sent to the child director and supervisor who hold the file."),
        )
        return redirect("cases:child_list")


class ChildEditView(SubmitOnceMixin, ScopedViewMixin, View):
    """Edit the file; a save based on an outdated version is refused, the other change kept."""

    fetch_model = Child
    level = Level.MANAGE
    permission_required = "cases.change_child"
    template_name = "cases/child_edit.html"

    def _initial(self, child: Child) -> dict[str, Any]:
        return {
            "name": child.name,
            "sex": child.sex,
            "birth_date": child.birth_date,
            "residence_region": child.residence_region_id,
            "household_region": child.household_region_id,
            "categories": child.categories,
            "school": child.school_id,
            "grade": child.grade,
            "class_name": child.class_name,
            "residential_institution": child.residential_institution_id,
            "notes": child.notes,
            "notes_confidential": child.notes_confidential,
            "version": child.version,
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = self.object
        form = ChildEditForm(
            initial=self._initial(child), user=signed_in_user(request), child=child
        )
        return render(request, self.template_name, {"form": form, "child": child})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = self.object
        form = ChildEditForm(request.POST, user=user, child=child)
        if form.is_valid():
            national_id = form.cleaned_data["national_id"] or None
            try:
                child = child_update(
                    child=child,
                    changes=form.model_data(),
                    expected_version=form.cleaned_data["version"],
                    by=user,
                    national_id=national_id,
                    request=request,
                )
            except EditConflict as conflict:
                current = conflict.current
                form = ChildEditForm(initial=self._initial(current), user=user, child=current)
                form.conflict = _(  # type: ignore[attr-defined]
                    "Someone else saved this file at %(time)s, after you opened it. Your changes "
                    "were not saved, so that theirs are not lost: the form now shows the file as "
                    "it is. Make your changes again and save."
                ) % {"time": date_format(current.updated_at, "DATETIME_FORMAT")}
                return render(
                    request, self.template_name, {"form": form, "child": current}, status=409
                )
            messages.success(request, _("The file was saved."))
            return redirect(file_url(child))
        return render(request, self.template_name, {"form": form, "child": child})


class ChildCloseView(SubmitOnceMixin, ScopedViewMixin, View):
    """Close a file with a reason (nothing is deleted); or reopen it."""

    fetch_model = Child
    level = Level.MANAGE
    permission_required = "cases.change_child"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = self.object
        form = CloseForm(initial={"version": child.version})
        return render(request, "cases/child_close.html", {"form": form, "child": child})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = self.object
        if request.POST.get("reopen"):
            try:
                child_reopen(
                    child=child, expected_version=int(request.POST.get("version", 0)), by=user
                )
            except (EditConflict, ValueError):
                messages.error(request, _("The file changed meanwhile; look again and retry."))
            return redirect(file_url(child))
        form = CloseForm(request.POST)
        if form.is_valid():
            try:
                child_close(
                    child=child,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                    by=user,
                )
            except EditConflict as conflict:
                form = CloseForm(
                    {"reason": form.cleaned_data["reason"], "version": conflict.current.version}
                )
                form.add_error(
                    None, _("The file changed meanwhile; look at it again before closing.")
                )
                return render(
                    request,
                    "cases/child_close.html",
                    {"form": form, "child": conflict.current},
                    status=409,
                )
            else:
                messages.success(
                    request, _("The file was closed. It stays on record and can be reopened.")
                )
                return redirect(file_url(child))
        return render(request, "cases/child_close.html", {"form": form, "child": child})


class EmergencyAccessView(SubmitOnceMixin, ScopedViewMixin, View):
    """Break the glass for a child the duplicate search showed: a reason, then a few hours."""

    scope_selector = children_visible_to
    permission_required = "cases.view_child"

    def _child(self, request: HttpRequest) -> Child:
        return child_from_token(request)

    def get(self, request: HttpRequest) -> HttpResponse:
        child = self._child(request)
        return render(
            request,
            "cases/emergency_access_form.html",
            {
                "form": EmergencyAccessForm(),
                "token": request.GET.get("token", ""),
                "county": child.residence_region_id[:6],
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        token = token_of(request)
        child = self._child(request)
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
        return render(
            request,
            "cases/emergency_access_form.html",
            {
                "form": form,
                "token": request.POST.get("token", ""),
                "county": child.residence_region_id[:6],
            },
        )


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
