"""Reads of organisations and of what a user is responsible for (their scope)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from institutions.models import Institution, Region, User
from institutions.principal import scope_of
from institutions.scopes import EMPTY_SCOPE, Scope, minimal_prefixes

__all__ = ["EMPTY_SCOPE", "Scope", "minimal_prefixes", "scope_for"]


def scope_for(user: User | AnonymousUser) -> Scope:
    """The user's scope: read once per user object, and kept between requests by
    `institutions.principal` (one query when it is not)."""
    if not user.is_authenticated or not user.is_active:
        return EMPTY_SCOPE
    return scope_of(user)


def region_within_scope(user: User | AnonymousUser, code: str) -> bool:
    """Whether the region `code` lies inside the user's jurisdiction (a list filtered on a
    region outside it answers 404, not an empty list)."""
    code = (code or "").strip()
    return bool(code) and any(code.startswith(p) for p in scope_for(user).region_prefixes)


def regions_under(*, code: str) -> QuerySet[Region]:
    """A region and its whole subtree: one indexed prefix match."""
    return Region.objects.filter(code__startswith=code)


def institutions_offering(*, service: str, region_prefix: str = "") -> QuerySet[Institution]:
    """Active institutions that offer a service, optionally within a region subtree."""
    qs = Institution.objects.filter(is_active=True, services__contains=[service])
    if region_prefix:
        qs = qs.filter(region__code__startswith=region_prefix)
    return qs.select_related("region")


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, typed; only for views that already require sign-in."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def regions_visible_to(user: User | AnonymousUser) -> QuerySet[Region]:
    """Every region, for any signed-in staff member: the division codes are public."""
    if scope_for(user).user_id is None:
        return Region.objects.none()
    return Region.objects.all()


def institutions_visible_to(user: User | AnonymousUser) -> QuerySet[Institution]:
    """Every institution (active or not: a child's old school is still named on the file), for
    any signed-in staff member. Institutions are organisations, not personal information."""
    if scope_for(user).user_id is None:
        return Institution.objects.none()
    return Institution.objects.all()
