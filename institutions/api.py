"""Base classes for the JSON API: scoping, action permissions, 2FA and bounded pagination.

An API view names `scope_selector` and, for writes, `action_permissions`; anything out of scope
answers 404 as in the pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, IntegerField, Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from core.access import fetch
from core.access_log import access_record_many, client_ip
from core.db_routing import replica_reads
from core.inputs import whole_number
from core.models import AccessEvent
from institutions.roles import Level
from institutions.scoping import ScopeSelector
from institutions.selectors import signed_in_user
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
    log_key: ClassVar[str | None] = None  # the access log names the record read by this key

    def get_fetch_queryset(self) -> QuerySet[Any] | None:
        return None

    def get_log_detail(self) -> dict[str, Any] | None:
        """What the access log says was read, beside the child and the path: the record's id
        under `log_key` (`{"visit": 12}`)."""
        if self.log_key is None:
            return None
        number = whole_number(str(getattr(self, "kwargs", {}).get("pk", "")))
        return {self.log_key: number} if number is not None else None  # not a number: 404

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


class LoggedChildListMixin:
    """A list whose rows are about children writes one "listed" event per child on the page
    (one query), as the pages log their lists; `list_log_detail` says what was listed."""

    list_log_detail: ClassVar[dict[str, Any]] = {}

    def logged_child_id(self, row: Any) -> int:
        return int(row.child_id)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        queryset = view.filter_queryset(view.get_queryset())
        page = view.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        access_record_many(
            user=signed_in_user(request),
            action=AccessEvent.Action.LIST,
            child_ids=[self.logged_child_id(row) for row in rows],
            request=request._request,
            detail={"api": True, **self.list_log_detail},
        )
        data = view.get_serializer(rows, many=True).data
        return view.get_paginated_response(data) if page is not None else Response(data)


class BoundedCursorPagination(CursorPagination):
    """Cursor pagination with a client-chosen size capped at 100: a page costs the same at
    the millionth row as at the first (no OFFSET, no count), and a row added meanwhile is not
    seen twice. Ordered by the view's `cursor_ordering` (unique: newest id first by default).

    A page of a narrow list (at most NARROW rows: a village, a school) is sorted from its rows,
    not read by walking the whole table's id index: PostgreSQL assumes the rows it wants are
    spread evenly along that index, and a school's pupils imported together sit at one end of
    it (a counsellor's first page read 997,000 children to find 26 at 1,000,000). A capped
    count, one cheap query, tells the two apart.
    """

    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-id",)
    NARROW = 10_000
    SORT_KEY = "cursor_sort_key"

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> tuple[str, ...]:
        ordering = tuple(getattr(view, "cursor_ordering", self.ordering))
        if getattr(self, "_narrow", False):
            first = ordering[0]
            return ("-" if first.startswith("-") else "") + self.SORT_KEY, *ordering[1:]
        return ordering

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        """The page's keys first, from the list's filter alone (no joins, no annotations such
        as "has an active plan", which PostgreSQL may compute for every row of the scope
        before it sorts); then those rows as the list shows them, in the same order."""
        model = self._model = queryset.model
        self._narrow = False
        ordering = tuple(getattr(view, "cursor_ordering", self.ordering))
        field = self._sort_field = self._field(ordering[0])
        fields = {"pk", *(order.lstrip("-") for order in ordering)}
        base = queryset.order_by()
        if self._joins(base) == 0:
            # No join: each row of the list is one row of its table, read by the list's own
            # filter (a self-join would read the whole table's ids to match them).
            keys = base.values(*fields)
        else:
            # A join may repeat a row: the keys are the table's rows the list names.
            keys = model._base_manager.filter(pk__in=base.values("pk")).values(*fields)
        if isinstance(field, IntegerField) and self._is_narrow(queryset):
            # The same values under an expression no index provides: the planner sorts the
            # list's rows instead of walking the index (the cursor's positions are unchanged).
            keys = keys.annotate(**{self.SORT_KEY: F(field.name) + 0})
            self._narrow = True
        page = super().paginate_queryset(keys, request, view)
        if page is None:
            return None
        wanted = [key["pk"] for key in page]
        rows = {row.pk: row for row in base.filter(pk__in=wanted)}
        return [rows[pk] for pk in wanted if pk in rows]

    @staticmethod
    def _joins(queryset: QuerySet[Any]) -> int:
        """The joins the list's SQL makes (a join a filter set up and then trimmed, whose
        alias nothing refers to any more, is left out of the SQL, and so here)."""
        query = queryset.query
        return sum(1 for alias in query.alias_map if query.alias_refcount[alias]) - 1

    def _field(self, order: str) -> Any:
        return self._model._meta.get_field(order.lstrip("-"))

    def _is_narrow(self, queryset: QuerySet[Any]) -> bool:
        return queryset.order_by().values("pk")[: self.NARROW + 1].count() <= self.NARROW

    def decode_cursor(self, request: Request) -> Any:
        """A cursor is the client's to send back, and so to forge: its position must be a
        value of the ordering field (a forged one answers 404 like any bad cursor, not 500)."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self._sort_field
        try:
            value = field.to_python(cursor.position)
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                raise ValueError(value)
        except (DjangoValidationError, ValueError, TypeError) as error:
            raise exceptions.NotFound(self.invalid_cursor_message) from error
        return cursor


class PerUserThrottle(UserRateThrottle):
    """Requests per signed-in user (per address for anonymous callers)."""

    scope = "user"

    def get_rate(self) -> str | None:
        # Read at each request, so that a changed setting applies without a restart.
        return str(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))


class PerAddressThrottle(SimpleRateThrottle):
    """Requests per client address, whoever is signed in: many accounts from one address are
    throttled together. The address is the socket's peer, which the deployment's proxy sets
    (a client cannot choose it with X-Forwarded-For)."""

    scope = "address"

    def get_rate(self) -> str | None:
        return str(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request._request)}


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_code = "precondition_required"
    default_detail = _("Send If-Match with the ETag of the record you read.")


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_code = "precondition_failed"
    default_detail = _("The record changed since you read it: read it again and redo the change.")


def etag_of(obj: Any) -> str:
    """The ETag of a record: its version number where it keeps one, else its last change."""
    version: Any = getattr(obj, "version", None)
    if version is None:
        changed = getattr(obj, "updated_at", None)
        version = f"{changed.timestamp():.6f}" if changed is not None else ""
    return f'"{obj.pk}-{version}"'


class ConditionalUpdateMixin:
    """Updates through the API need `If-Match` with the ETag the read returned: a record
    changed meanwhile answers 412 instead of being overwritten, one without If-Match 428.
    Reads of one record return its ETag."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        response = super().retrieve(request, *args, **kwargs)  # type: ignore[misc]
        response["ETag"] = etag_of(self.get_object())  # type: ignore[attr-defined]
        return response

    def check_precondition(self, obj: Any) -> None:
        given = self.request.headers.get("If-Match")  # type: ignore[attr-defined]
        if not given:
            raise PreconditionRequired()
        tags = {tag.strip() for tag in given.split(",")}
        if "*" not in tags and etag_of(obj) not in tags:
            raise PreconditionFailed()

    def perform_update(self, serializer: Any) -> None:
        self.check_precondition(serializer.instance)
        super().perform_update(serializer)  # type: ignore[misc]
        self._updated = serializer.instance

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        response = super().update(request, *args, **kwargs)  # type: ignore[misc]
        response["ETag"] = etag_of(self._updated)
        return response
