"""Pages of the child's file: the list, the file, its history, editing and closing it. Every
object comes from a scoping selector; writes go to services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View

from cases.filters import ChildFilter
from cases.forms.child import ChildEditForm, CloseForm
from cases.forms.places import region_search
from cases.identity import national_id_for
from cases.models import Child
from cases.rows import child_rows
from cases.sections import render_context
from cases.selectors.children import child_file_queryset, child_list
from cases.selectors.history import child_history
from cases.selectors.scope import children_visible_to
from cases.services.child import EditConflict, child_close, child_reopen, child_update
from cases.timeline import timeline
from core.access_log import access_record_many
from core.lists import list_page, render_list
from core.models import AccessEvent
from core.submissions import SubmitOnceMixin
from core.widgets import search_answer
from institutions.principal import principal_tag
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


def file_url(child: Child, anchor: str = "") -> str:
    url = reverse("cases:child_detail", args=[child.pk])
    return f"{url}#{anchor}" if anchor else url


def _filters_key(user: Any, query: str) -> str:
    """What the list's filter form depends on: the user's principal (their schools and homes
    fill its pickers; a change of area, role or institution renames it), the language and the
    filters asked for. Empty when it cannot be kept."""
    tag = principal_tag(user)
    return f"{user.pk}:{tag}:{get_language()}:{query}" if tag else ""


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
        listed = list_page(request, qs, per_page=self.page_size)
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[c.pk for c in listed["rows"]],
            request=request,
        )
        return render_list(
            request,
            template="cases/child_list.html",
            rows_template="cases/partials/child_rows.html",
            rows_target="child-rows",
            context={
                "filter": filterset,
                "filters_key": _filters_key(user, listed["query"]),
                "children": listed["rows"],
                "child_rows": child_rows(listed["rows"]),
                **listed,
            },
        )


class ChildFilterOptionsView(ScopedViewMixin, View):
    """htmx: a select of the list's filters again, holding the options whose name holds what
    was typed in its search box (core.widgets.SearchSelect), from the filter's own scoped
    queryset; the chosen option stays offered."""

    scope_selector = children_visible_to
    permission_required = "cases.view_child"
    FIELDS = ("school", "residential_institution")

    def get(self, request: HttpRequest, field: str) -> HttpResponse:
        if field not in self.FIELDS:
            raise Http404
        user = signed_in_user(request)
        filterset = ChildFilter(request.GET, queryset=Child.objects.none(), user=user)
        return HttpResponse(search_answer(filterset.form[field], request.GET))


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
        return render(request, "cases/child_history.html", {"child": child, "history": history})


class ChildEditView(SubmitOnceMixin, ScopedViewMixin, View):
    """Edit the file; a save based on an outdated version is refused, the other change kept."""

    fetch_model = Child
    level = Level.MANAGE
    permission_required = "cases.change_child"
    template_name = "cases/child_edit.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = self.object
        form = ChildEditForm(
            initial=ChildEditForm.values_of(child), user=signed_in_user(request), child=child
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
                form = ChildEditForm(
                    initial=ChildEditForm.values_of(current), user=user, child=current
                )
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


class ChildRegionSearchView(ScopedViewMixin, View):
    """htmx: the edit form's household registration picker again, with the regions found by
    name anywhere; for whoever may edit this file (registering children is not needed)."""

    fetch_model = Child
    level = Level.MANAGE
    permission_required = "cases.change_child"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = self.object
        found = region_search(request.GET.get("household_search", "")[:50])
        initial = ChildEditForm.values_of(child)
        if found:  # the first one found is chosen, the current one still offered
            initial["household_region"] = found[0].code
        form = ChildEditForm(initial=initial, user=signed_in_user(request), child=child)
        form.offer_found_regions(found)
        return render(request, "cases/partials/household_region.html", {"form": form})


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
            except ValidationError as refused:
                messages.error(request, " ".join(refused.messages))
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
