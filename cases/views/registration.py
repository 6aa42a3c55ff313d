"""Registering a child: the create form and the duplicate search that runs while it is filled in."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from cases.access_tokens import child_token_make
from cases.forms.child import ChildForm
from cases.forms.places import region_search
from cases.selectors.children import duplicate_candidates
from cases.selectors.scope import children_visible_to
from cases.services.child import DuplicateChild, child_create
from cases.views.children import file_url
from core.submissions import SubmitOnceMixin
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


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


class RegionSearchView(ScopedViewMixin, View):
    """htmx: the household registration picker again, with the regions found by name anywhere
    (a child may be registered far from where they live); the first one found is chosen."""

    scope_selector = children_visible_to
    permission_required = "cases.add_child"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = ChildForm(user=signed_in_user(request))
        form.offer_found_regions(region_search(request.GET.get("household_search", "")[:50]))
        return render(request, "cases/partials/household_region.html", {"form": form})
