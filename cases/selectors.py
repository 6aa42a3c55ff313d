"""Scoped reads of children: the one selector every view, API, export and dashboard starts from."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from cases.models import Child, ChildGroupObjectPermission, ChildUserObjectPermission
from institutions.models import User
from institutions.selectors import scope_for


def child_scope_q(user: User | AnonymousUser, *, via: str = "") -> Q:
    """A filter for the children `user` may see, for Child (via="") or a model related to it.

    For a model with a `child` foreign key pass via="child__", so that a visit or an assessment is
    scoped through its child with a join, never with a list of ids (DESIGN.md §5 and §8).
    """
    scope = scope_for(user)
    if scope.user_id is None:
        return Q(pk__in=[])
    q = Q()
    for prefix in scope.region_prefixes:
        # `region__code` is the foreign key column itself (code is the key): no join.
        q |= Q(**{f"{via}residence_region__code__startswith": prefix})
        q |= Q(**{f"{via}household_region__code__startswith": prefix})
    if scope.school_ids:
        q |= Q(**{f"{via}school_id__in": scope.school_ids})
    if scope.residential_institution_ids:
        q |= Q(**{f"{via}residential_institution_id__in": scope.residential_institution_ids})
    # Explicit django-guardian grants (mentors, one-off shares, referrals) widen any role's scope.
    user_grants = ChildUserObjectPermission.objects.filter(
        user_id=scope.user_id,
        permission__codename="view_child",
        permission__content_type__app_label="cases",
    ).values("content_object_id")
    group_grants = ChildGroupObjectPermission.objects.filter(
        group__user=scope.user_id,
        permission__codename="view_child",
        permission__content_type__app_label="cases",
    ).values("content_object_id")
    q |= Q(**{f"{via}pk__in": user_grants}) | Q(**{f"{via}pk__in": group_grants})
    return q


def children_visible_to(user: User | AnonymousUser) -> QuerySet[Child]:
    """Every child `user` may see. Out of scope is indistinguishable from missing."""
    return Child.objects.filter(child_scope_q(user))


def child_list(*, user: User, search: str = "") -> QuerySet[Child]:
    """The children list page and API: scoped, with the columns a list shows."""
    qs = children_visible_to(user).select_related("residence_region", "school")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(record_number__iexact=search))
    return qs.order_by("name", "id")
