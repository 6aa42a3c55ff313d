"""Pages of the child's file. Every object comes from a scoping selector; writes go to services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import View

from cases.filters import ChildFilter
from cases.forms import (
    AccessRequestForm,
    ChildEditForm,
    ChildForm,
    CloseForm,
    EmergencyAccessForm,
)
from cases.identity import decrypt
from cases.models import AccessEvent, Child
from cases.sections import render_context
from cases.selectors import (
    child_file,
    child_history,
    child_list,
    children_visible_to,
    duplicate_candidates,
    emergency_accesses_to_review,
)
from cases.services.access import (
    access_record,
    access_request_create,
    emergency_access_open,
    emergency_access_review,
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
from institutions.masking import may_see
from institutions.pagination import CappedPaginator
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user

ACCESS_TOKEN_SALT = "cases.access-request"  # noqa: S105 (a signing namespace, not a secret)
ACCESS_TOKEN_MAX_AGE = 24 * 3600


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

    scope_selector = children_visible_to
    permission_required = "cases.view_child"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        try:
            child = child_file(user=user, pk=pk)
        except Child.DoesNotExist:
            raise Http404 from None
        access_record(user=user, action=AccessEvent.Action.VIEW, child=child, request=request)
        plans = list(child.care_plans.all())
        active_plan = next((p for p in plans if p.status == "active"), None)
        national_id = child.national_id_masked
        if national_id and may_see(user, "national_id"):
            national_id = decrypt(child.national_id_encrypted) or national_id
        return render(
            request,
            "cases/child_detail.html",
            {
                "child": child,
                "national_id": national_id,
                "show_notes": not child.notes_confidential or may_see(user, "confidential_note"),
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

    scope_selector = children_visible_to
    permission_required = "cases.view_child"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = get_object_or_404(self.get_scoped_queryset(), pk=pk)
        access_record(
            user=signed_in_user(request),
            action=AccessEvent.Action.VIEW,
            child=child,
            request=request,
            detail={"history": True},
        )
        history = child_history(child=child, user=signed_in_user(request))
        from institutions.models import User

        users = {u.pk: u for u in User.objects.filter(pk__in={h["user_id"] for h in history})}
        for entry in history:
            entry["user"] = users.get(entry["user_id"])
        return render(request, "cases/child_history.html", {"child": child, "history": history})


def _access_token(child: Child, request: HttpRequest) -> str:
    return signing.dumps({"child": child.pk, "user": request.user.pk}, salt=ACCESS_TOKEN_SALT)


class ChildCreateView(ScopedViewMixin, View):
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
                "candidates": candidates,
                "tokens": {
                    c.child.pk: _access_token(c.child, request)
                    for c in candidates
                    if not c.in_scope
                },
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
            {
                "candidates": candidates,
                "tokens": {
                    c.child.pk: _access_token(c.child, request)
                    for c in candidates
                    if not c.in_scope
                },
            },
        )


def child_from_token(request: HttpRequest) -> Child:
    """The child a duplicate search showed this user (a signed, per-user token), or 404."""
    try:
        data = signing.loads(
            request.POST.get("token") or request.GET.get("token", ""),
            salt=ACCESS_TOKEN_SALT,
            max_age=ACCESS_TOKEN_MAX_AGE,
        )
    except signing.BadSignature:
        raise Http404 from None
    if data.get("user") != request.user.pk:
        raise Http404
    return get_object_or_404(Child.objects.select_related("residence_region"), pk=data["child"])


class AccessRequestCreateView(ScopedViewMixin, View):
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


class ChildEditView(ScopedViewMixin, View):
    """Edit the file; a save based on an outdated version is refused, the other change kept."""

    scope_selector = children_visible_to
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
        child = get_object_or_404(self.get_scoped_queryset(), pk=pk)
        form = ChildEditForm(
            initial=self._initial(child), user=signed_in_user(request), child=child
        )
        return render(request, self.template_name, {"form": form, "child": child})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = get_object_or_404(self.get_scoped_queryset(), pk=pk)
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


class ChildCloseView(ScopedViewMixin, View):
    """Close a file with a reason (nothing is deleted); or reopen it."""

    scope_selector = children_visible_to
    permission_required = "cases.change_child"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = get_object_or_404(self.get_scoped_queryset(), pk=pk)
        form = CloseForm(initial={"version": child.version})
        return render(request, "cases/child_close.html", {"form": form, "child": child})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = get_object_or_404(self.get_scoped_queryset(), pk=pk)
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
            except EditConflict:
                form.add_error(
                    None, _("The file changed meanwhile; look at it again before closing.")
                )
            else:
                messages.success(
                    request, _("The file was closed. It stays on record and can be reopened.")
                )
                return redirect(file_url(child))
        return render(request, "cases/child_close.html", {"form": form, "child": child})


class EmergencyAccessView(ScopedViewMixin, View):
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
        child = self._child(request)
        form = EmergencyAccessForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "cases/emergency_access_form.html",
                {
                    "form": form,
                    "token": request.POST.get("token", ""),
                    "county": child.residence_region_id[:6],
                },
            )
        emergency_access_open(
            child=child, by=signed_in_user(request), reason=form.cleaned_data["reason"]
        )
        messages.warning(
            request,
            _("Emergency access is open for a few hours; the supervisor has been told."),
        )
        return redirect(file_url(child))


class EmergencyReviewView(ScopedViewMixin, View):
    """Supervisors review emergency accesses to children of their regions, with a note."""

    scope_selector = children_visible_to
    permission_required = "cases.review_emergency_access"

    def get(self, request: HttpRequest) -> HttpResponse:
        accesses = emergency_accesses_to_review(user=signed_in_user(request))[:100]
        return render(request, "cases/emergency_reviews.html", {"accesses": accesses})

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
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
