"""Pages about children; every object comes from children_visible_to."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet

from cases.models import AccessEvent, Child
from cases.selectors import child_list, children_visible_to
from cases.services.access import access_record
from institutions.scoping import ScopedDetailView, ScopedListView
from institutions.selectors import signed_in_user


class ChildListView(ScopedListView):
    """The children the signed-in user may see, searchable by name or record number."""

    scope_selector = children_visible_to
    template_name = "cases/child_list.html"
    context_object_name = "children"

    def get_queryset(self) -> QuerySet[Child]:
        return child_list(
            user=signed_in_user(self.request), search=self.request.GET.get("q", "").strip()
        )

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False):
            return ["cases/partials/child_rows.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["q"] = self.request.GET.get("q", "")
        return context


class ChildDetailView(ScopedDetailView):
    """A child's file. Every read is logged."""

    scope_selector = children_visible_to
    template_name = "cases/child_detail.html"
    context_object_name = "child"

    def get_queryset(self) -> QuerySet[Child]:
        return (
            super()
            .get_queryset()
            .select_related(
                "residence_region", "household_region", "school", "residential_institution"
            )
        )

    def object_loaded(self, obj: Model) -> None:
        access_record(
            user=signed_in_user(self.request),
            action=AccessEvent.Action.VIEW,
            child=obj,  # type: ignore[arg-type]
            request=self.request,
        )
