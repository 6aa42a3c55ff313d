"""Reads of organisations and of what a user is responsible for (their scope)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from institutions.models import Institution, Membership, Region, User
from institutions.roles import Role, ScopeSource, spec


@dataclass(frozen=True)
class Scope:
    """What a user is responsible for, resolved from their active memberships."""

    user_id: int | None
    roles: frozenset[Role]
    region_prefixes: tuple[str, ...]
    school_ids: tuple[int, ...]
    residential_institution_ids: tuple[int, ...]

    @property
    def requires_two_factor(self) -> bool:
        return any(spec(role).requires_two_factor for role in self.roles)

    @property
    def may_use_admin_site(self) -> bool:
        return any(spec(role).admin_site for role in self.roles)


EMPTY_SCOPE = Scope(None, frozenset(), (), (), ())


def minimal_prefixes(codes: set[str]) -> tuple[str, ...]:
    """Drop codes already covered by a shorter code in the set (990101 covers 990101001)."""
    kept: list[str] = []
    for code in sorted(codes, key=lambda c: (len(c), c)):
        if not any(code.startswith(prefix) for prefix in kept):
            kept.append(code)
    return tuple(sorted(kept))


def active_memberships(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("agency__region", "institution__region")
        .order_by("id")
    )


def scope_for(user: User | AnonymousUser) -> Scope:
    """The user's scope, computed once per user object (one query) and cached on it."""
    if not user.is_authenticated or not user.is_active:
        return EMPTY_SCOPE
    cached = getattr(user, "_xq_scope", None)
    if cached is not None:
        return cached
    roles: set[Role] = set()
    prefixes: set[str] = set()
    schools: set[int] = set()
    residences: set[int] = set()
    rows = Membership.objects.filter(user_id=user.pk, is_active=True).values_list(
        "role", "jurisdiction", "institution_id", "institution__kind"
    )
    for role_value, jurisdiction, institution_id, institution_kind in rows:
        role = Role(role_value)
        roles.add(role)
        sources = spec(role).scope
        if ScopeSource.JURISDICTION in sources:
            prefixes.update(jurisdiction)
        if (
            ScopeSource.ENROLMENT in sources
            and institution_id
            and institution_kind in Institution.ENROLLING_KINDS
        ):
            schools.add(institution_id)
        if (
            ScopeSource.RESIDENCE in sources
            and institution_id
            and institution_kind in Institution.RESIDENTIAL_KINDS
        ):
            residences.add(institution_id)
    scope = Scope(
        user_id=user.pk,
        roles=frozenset(roles),
        region_prefixes=minimal_prefixes(prefixes),
        school_ids=tuple(sorted(schools)),
        residential_institution_ids=tuple(sorted(residences)),
    )
    user._xq_scope = scope  # type: ignore[attr-defined]
    return scope


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
