"""Base page views that apply a model's scoping selector, so a new view is safe by default.

A view names its `scope_selector` (for example `children_visible_to`); every object it lists or
shows comes from that queryset, so an object out of scope answers 404 exactly like a missing one.
Writes also name the action permission they need (`permission_required`), checked before the
service is called: in scope but without the permission answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.generic import DetailView, ListView

ScopeSelector = Callable[[Any], QuerySet[Any]]


class ScopedViewMixin(LoginRequiredMixin):
    """Signed-in only; objects come from `scope_selector(user)`; optional action permission."""

    scope_selector: ClassVar[ScopeSelector | None] = None
    permission_required: ClassVar[str | None] = None
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.permission_required and not request.user.has_perm(self.permission_required):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_scoped_queryset(self) -> QuerySet[Any]:
        selector = type(self).scope_selector
        if selector is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must set scope_selector.")
        return selector(self.request.user)

    def get_queryset(self) -> QuerySet[Any]:
        return self.get_scoped_queryset()


class ScopedListView(ScopedViewMixin, ListView):
    """A paginated list of the rows the user may see."""

    paginate_by = 25
    max_page_size = 100


class ScopedDetailView(ScopedViewMixin, DetailView):
    """One row the user may see; anything else is 404."""

    def get_object(self, queryset: QuerySet[Any] | None = None) -> Model:
        obj = super().get_object(queryset)
        self.object_loaded(obj)
        return obj

    def object_loaded(self, obj: Model) -> None:
        """Hook for views that must record the read (a child's file is always logged)."""
