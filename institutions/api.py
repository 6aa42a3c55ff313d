"""Base classes for the JSON API: scoping, action permissions, 2FA and bounded pagination.

An API view names `scope_selector` and, for writes, `action_permissions`; anything out of scope
answers 404 as in the pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from rest_framework import permissions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from core.access import fetch
from core.db_routing import replica_reads
from institutions.roles import Level
from institutions.scoping import ScopeSelector
from institutions.twofactor import two_factor_step

if TYPE_CHECKING:
    from rest_framework.views import APIView


class IsVerifiedStaff(permissions.BasePermission):
    """Signed in, active, and past any two-factor step the user owes."""

    message = "Authentication (and two-factor verification where required) is needed."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return two_factor_step(user) is None


class ActionPermission(permissions.BasePermission):
    """Checks the Django permission a view declares for the action (or HTTP method) requested."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        required: dict[str, str] = getattr(view, "action_permissions", {})
        key = getattr(view, "action", None) or request.method.lower()  # type: ignore[union-attr]
        needed = required.get(key) or required.get(request.method.lower())  # type: ignore[union-attr]
        if needed is None:
            # A write must name its permission: an undeclared unsafe method is refused.
            return request.method in permissions.SAFE_METHODS
        return request.user.has_perm(needed)


class ScopedAPIMixin:
    """Gives an API view its queryset from the model's scoping selector, and its one object
    from the one fetch (`core.access.fetch`) at the level the method needs: reads at
    READ, writes at `write_level`; out of scope 404, in scope without the level 403, the read
    of a child's data logged."""

    scope_selector: ClassVar[ScopeSelector | None] = None
    action_permissions: ClassVar[dict[str, str]] = {}
    write_level: ClassVar[Level] = Level.CONTRIBUTE
    fetch_model: ClassVar[type[Model] | None] = None  # the model `get_object` fetches

    def get_fetch_queryset(self) -> QuerySet[Any] | None:
        return None

    def get_log_detail(self) -> dict[str, Any] | None:
        """What the access log says was read, beside the child and the path."""
        return None

    def check_permissions(self, request: Request) -> None:
        """Out of scope answers 404 before any action permission answers 403, as in the pages:
        an action on one object fetches it first."""
        view: Any = self
        lookup = view.lookup_url_kwarg or view.lookup_field
        if lookup in view.kwargs and request.user and request.user.is_authenticated:
            self.get_object()
        super().check_permissions(request)  # type: ignore[misc]

    def get_object(self) -> Any:
        view: Any = self
        fetched = getattr(view, "_fetched", None)
        if fetched is not None:
            return fetched
        request = view.request
        level = Level.READ if request.method in permissions.SAFE_METHODS else self.write_level
        lookup = view.lookup_url_kwarg or view.lookup_field
        obj = fetch(
            request._request,
            self.fetch_model or view.get_queryset().model,
            view.kwargs.get(lookup),
            level=level,
            queryset=self.get_fetch_queryset(),
            api=True,
            detail=self.get_log_detail(),
        )
        view.check_object_permissions(request, obj)
        view._fetched = obj
        return obj

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        """A list (a GET without an object's id) reads from the replica when one is configured
        (core.db_routing); one object, and every write, from the primary."""
        view: Any = self
        lookup = view.lookup_url_kwarg or view.lookup_field
        if request.method == "GET" and lookup not in kwargs:
            with replica_reads(request):
                return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def get_queryset(self) -> QuerySet[Any]:
        selector = type(self).scope_selector
        if selector is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must set scope_selector.")
        if getattr(self, "swagger_fake_view", False):  # schema generation: no real user
            return selector(AnonymousUser())
        return selector(self.request.user)  # type: ignore[attr-defined]


class BoundedPageNumberPagination(PageNumberPagination):
    """Page-number pagination with a client-chosen size capped at 100."""

    page_size_query_param = "page_size"
    max_page_size = 100
