"""The list pages' shared plumbing: a bounded page of rows, and the whole page or, for an htmx
request that targets the rows (a filter changed, the next page), the rows alone."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

from core.pagination import CappedPaginator


def list_page(request: HttpRequest, queryset: Any, *, per_page: int = 25) -> dict[str, Any]:
    """The requested page of `queryset` (its rows evaluated once, as a list) with what the
    templates' pager needs: `page_obj`, `paginator`, `rows`, and `query` (the filters without
    the page number)."""
    paginator = CappedPaginator(queryset, per_page)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page_obj": page,
        "paginator": paginator,
        "rows": page.object_list,
        "query": query.urlencode(),
    }


def render_list(
    request: HttpRequest,
    *,
    template: str,
    rows_template: str,
    rows_target: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The list page, or only its rows when htmx asks for the element `rows_target`."""
    partial = getattr(request, "htmx", False) and request.headers.get("HX-Target") == rows_target
    return render(request, rows_template if partial else template, context)


@cache
def _kept_reverse(name: str, urlconf: str | None, prefix: str, args: tuple[Any, ...]) -> str:
    return reverse(name, urlconf=urlconf, args=list(args))


def kept_reverse(name: str, *args: Any) -> str:
    """`reverse(name, args=args)` for constant arguments, reversed once per process, URL
    configuration and script prefix (the menu every page writes, the rows' stand-in below)."""
    return _kept_reverse(name, get_urlconf(), get_script_prefix(), args)


_STAND_IN = 2147483647  # an int, so that the URL pattern takes it


def url_for_each(name: str) -> Callable[[Any], str]:
    """`reverse(name, args=[pk])` for the many rows of a page at the cost of none: the URL is
    reversed once per process around a stand-in key, and each row's key put in its place."""
    head, found, tail = kept_reverse(name, _STAND_IN).partition(str(_STAND_IN))
    if not found:  # pragma: no cover: a URL that does not show its key
        return lambda pk: reverse(name, args=[pk])
    return lambda pk: f"{head}{int(pk)}{tail}"


@cache
def _choice_labels(model: type[Model], name: str, language: str | None) -> dict[Any, str]:
    field = model._meta.get_field(name)
    return {value: str(label) for value, label in field.flatchoices}  # type: ignore[union-attr]


def choice_label(instance: Model, name: str) -> Any:
    """`instance.get_<name>_display()` for rows written in Python: Django's builds the table
    of the field's choices for every call, translating each of its labels again; this one is
    built once per process and language."""
    labels = _choice_labels(type(instance), name, get_language())
    value = getattr(instance, name)
    return labels.get(value, value)
