"""Every endpoint of the API answers 404 for what the caller may not see, and lists none of it.

The endpoints are read from the URL resolver, not from a list kept by hand: an endpoint without
an out-of-scope case (tests/api/scope_cases/) fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.models import AccessEvent
from tests.api.scope_cases import OutOfScope, all_cases
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def api_patterns() -> list[URLPattern]:
    """The named URL patterns under the API's namespace."""
    found: list[URLPattern] = []

    def walk(patterns: list[Any], inside: bool) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, inside or entry.namespace == "api")
            elif inside and entry.name:
                found.append(entry)

    walk(get_resolver().url_patterns, False)
    return found


def methods_of(pattern: URLPattern) -> list[str]:
    """The HTTP methods a pattern answers (not OPTIONS or HEAD)."""
    callback: Any = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF adds "head" to a viewset's actions once one of its URLs has been requested.
        return sorted(set(actions) - {"head", "options"})
    view_class = callback.view_class
    return sorted(
        name
        for name in view_class.http_method_names
        if hasattr(view_class, name) and name not in {"options", "head"}
    )


PATTERNS = {pattern.name: pattern for pattern in api_patterns()}


def test_the_resolver_lists_the_api():
    # The walk finds the API: a bug here would make the test below check nothing.
    assert {"child-list", "child-detail", "assessment-list", "token"} <= set(PATTERNS)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_every_endpoint_has_an_out_of_scope_case(name):
    assert name in all_cases(), (
        f"API pattern {name!r} has no out-of-scope case: add one to tests/api/scope_cases/"
    )


def _listed_ids(response: Any) -> set[int]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["id"] for row in rows}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_out_of_scope_answers_404_or_is_not_listed(name):
    case: OutOfScope = all_cases()[name]
    if case.unscoped:
        pytest.skip(f"no child's data: {case.unscoped}")
    pattern = PATTERNS[name]
    client = client_for(case.user)
    checked = 0
    if case.kwargs is not None:
        path = reverse(f"api:{name}", kwargs=case.kwargs(case.user))
        for method in methods_of(pattern):
            before = AccessEvent.objects.count()
            if method == "get":
                response = client.get(path)
            else:
                response = getattr(client, method)(path, "{}", content_type="application/json")
            assert response.status_code == 404, (method, path, response.status_code)
            assert response.json()["code"] == "not_found"
            assert AccessEvent.objects.count() == before, "a refused read must not log a read"
            checked += 1
    if case.hidden is not None:
        hidden = case.hidden(case.user)
        path = reverse(f"api:{name}")
        response = client.get(path, {"page_size": 100})
        assert response.status_code == 200, response.content
        assert hidden not in _listed_ids(response)
        checked += 1
    if case.body is not None:
        path = reverse(f"api:{name}")
        body = case.body(case.user)
        response = client.post(path, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 404, response.content
        checked += 1
    assert checked, f"the case of {name} checks nothing"
