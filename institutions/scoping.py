"""Base page views that apply a model's scoping, so a new view is safe by default.

A list view names its `scope_selector` (for example `children_visible_to`); every row it lists
comes from that queryset. A view about one object names `fetch_model` and the `level` it needs
(`read_level` may lower it for GET): before any handler runs, the object named by the URL's
`fetch_kwarg` is fetched through `core.access.fetch` (404 out of scope or missing, 403 in
scope without the level or `permission_required`, the read logged) and kept as `self.object`.
`read_permission`, like `read_level`, may ask a GET for less than the writes need.
Handlers never look an object up themselves.
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

from core.access import fetch
from institutions.roles import Level

ScopeSelector = Callable[[Any], QuerySet[Any]]


class ScopedViewMixin(LoginRequiredMixin):
    """Signed-in only; rows from `scope_selector(user)`, the one object from `fetch()`."""

    scope_selector: ClassVar[ScopeSelector | None] = None
    permission_required: ClassVar[str | None] = None
    read_permission: ClassVar[str | None] = None
    fetch_model: ClassVar[type[Model] | None] = None
    fetch_kwarg: ClassVar[str] = "pk"
    level: ClassVar[Level] = Level.READ
    read_level: ClassVar[Level | None] = None
    request: HttpRequest
    object: Any

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        permission = self.permission_for(request.method or "GET")
        if self.fetch_model is not None:
            self.object = fetch(
                request,
                self.fetch_model,
                kwargs.get(self.fetch_kwarg),
                level=self.level_for(request.method or "GET"),
                permission=permission,
                queryset=self.get_fetch_queryset(),
                detail=self.get_log_detail(),
            )
        elif permission and not request.user.has_perm(permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def level_for(self, method: str) -> Level:
        if method in ("GET", "HEAD") and self.read_level is not None:
            return self.read_level
        return self.level

    def permission_for(self, method: str) -> str | None:
        if method in ("GET", "HEAD") and self.read_permission is not None:
            return self.read_permission
        return self.permission_required

    def get_fetch_queryset(self) -> QuerySet[Any] | None:
        """Rows to fetch from (select_related, prefetches); the scope is applied by fetch()."""
        return None

    def get_log_detail(self) -> dict[str, Any] | None:
        """What the access log says was read, beside the child and the path (e.g. which visit)."""
        return None

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
        if self.fetch_model is not None:
            return self.object
        obj = super().get_object(queryset)
        self.object_loaded(obj)
        return obj

    def object_loaded(self, obj: Model) -> None:
        """Hook for views that must record the read (a child's file is always logged)."""
