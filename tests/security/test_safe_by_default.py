"""Every URL needs a signed-in user unless it is on a short public list; the base views refuse
to work without a scoping selector; writes must declare their permission."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from cases.models import Child
from cases.selectors.scope import children_visible_to
from institutions.api import ScopedAPIMixin
from institutions.scoping import ScopedDetailView
from tests.conftest import user

pytestmark = pytest.mark.django_db

PUBLIC_PREFIXES = (
    "accounts/login/",
    "accounts/logout/",
    "accounts/set-password/",  # a one-time link, opened before signing in
    "i18n/",
    "healthz",
    # The service worker and the web app manifest hold no data (the manifest is fetched
    # without cookies by the browser): the pages they serve still need sign-in.
    "sw.js",
    "manifest.webmanifest",
    "admin/",
    "api/schema/",
)


def all_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from all_routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def concrete(route: str) -> str:
    """Fill path converters and regex groups with a plausible value."""
    import re

    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<(?:str:|slug:|path:)?\w+>", "x", route)
    route = route.replace("^", "").replace("$", "").replace("\\.", ".").replace("\\Z", "")
    route = re.sub(r"\[[^\]]*\]\+?", "", route)
    return "/" + route


def test_every_non_public_url_needs_sign_in():
    client = Client()
    checked = 0
    for route in all_routes():
        if route.startswith(PUBLIC_PREFIXES) or "format" in route:
            continue
        url = concrete(route)
        response = client.get(url)
        assert response.status_code in (302, 401, 403, 404), (url, response.status_code)
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"], url
        checked += 1
    assert checked >= 5


def test_schema_requires_sign_in():
    assert Client().get("/api/v1/schema/").status_code in (401, 403)
    assert Client().get("/api/schema/")["Location"] == "/api/v1/schema/"


def test_admin_site_refuses_anonymous_users():
    response = Client().get("/admin/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_detail_view_without_selector_is_refused():
    class Careless(ScopedDetailView):
        model = Child
        template_name = "cases/child_detail.html"

    request = RequestFactory().get("/x/")
    request.user = user("county_civil")
    with pytest.raises(ImproperlyConfigured):
        Careless.as_view()(request, pk=Child.objects.first().pk)


class _NoteSerializer(serializers.Serializer):
    note = serializers.CharField()


class _ChildNoteViewSet(ScopedAPIMixin, viewsets.GenericViewSet):
    """A write endpoint built on the base class, as a later issue would add one."""

    scope_selector = children_visible_to
    serializer_class = _NoteSerializer
    action_permissions = {"create": "cases.change_child"}

    def create(self, request, *args, **kwargs):
        return Response({"ok": True}, status=201)

    def destroy(self, request, *args, **kwargs):  # declared nowhere in action_permissions
        self.get_object()
        return Response(status=204)


def _call(username, method, action, **kwargs):
    factory = APIRequestFactory()
    request = getattr(factory, method)("/x/", {"note": "n"}, format="json")
    force_authenticate(request, user=user(username))
    return _ChildNoteViewSet.as_view({method: action})(request, **kwargs)


def test_a_write_needs_its_declared_permission():
    assert _call("director_a", "post", "create").status_code == 201
    # Agency supervisors read but do not edit children.
    assert _call("county_civil", "post", "create").status_code == 403


def test_an_undeclared_write_is_refused_even_to_a_permitted_user():
    child = children_visible_to(user("director_a")).first()
    response = _call("director_a", "delete", "destroy", pk=child.pk)
    assert response.status_code == 403
