"""The list pages' shared plumbing: a bounded page of rows, and the whole page or, for an htmx
request that targets the rows (a filter changed, the next page), the rows alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

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


def url_for_each(name: str) -> Callable[[Any], str]:
    """`reverse(name, args=[pk])` for the many rows of a page at the cost of one reverse: the URL
    is reversed once around a stand-in key, and each row's key put in its place."""
    stand_in = "2147483647"  # a key no row of the page has a reason to hold but still an int
    head, found, tail = reverse(name, args=[int(stand_in)]).partition(stand_in)
    if not found:  # pragma: no cover: a URL that does not show its key
        return lambda pk: reverse(name, args=[pk])
    return lambda pk: f"{head}{int(pk)}{tail}"
