"""Which children, and which records about them, a user reaches: the one scope every view, API,
export and dashboard starts from, and its registration with the one fetch."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, Max, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from cases.models import (
    CarePlan,
    CareTeamMember,
    Child,
    ChildAccessGrant,
    Consent,
    EmergencyAccess,
    Guardian,
    Handover,
)
from core.access import id_in, register
from institutions.models import LEVEL_LENGTHS, User
from institutions.roles import Level
from institutions.selectors import scope_for

# Region codes of this length and longer (townships, villages) hold a few thousand children at
# most; shorter ones (counties, cities, the province) may hold hundreds of thousands.
NARROW_PREFIX = LEVEL_LENGTHS[3]


def _child_id_path(via: str) -> str:
    """The column holding the child's id on a model reached by `via` ("" is Child itself)."""
    return f"{via[:-2]}_id" if via else "pk"


def live_grants(*, user_id: int, level: Level = Level.READ) -> QuerySet[ChildAccessGrant]:
    """The user's grants in force at `level` or higher: not ended and not expired."""
    return ChildAccessGrant.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        user_id=user_id,
        level__gte=level,
        ended_at__isnull=True,
    )


def child_scope_q(user: User | AnonymousUser, *, level: Level = Level.READ, via: str = "") -> Q:
    """A filter for the children `user` reaches at `level` or higher, for Child (via="") or a
    model related to it (via="child__": a visit or an assessment is scoped through its child).

    Region, school and residence scope give the level of the role (DESIGN.md §5); grants give
    their own level; break the glass gives read only. Written as OR-ed indexed conditions with
    the grant arms as `id = ANY(ARRAY(...))`, so PostgreSQL combines the region-prefix indexes
    and the primary key in a BitmapOr rather than scanning the children (DESIGN.md §8).
    """
    scope = scope_for(user)
    if scope.user_id is None:
        return Q(pk__in=[])
    if via:
        # A record is scoped by its child's id, never by joining every record to its child and
        # filtering the joined rows (a township's flagged visits read 2,000,000 visits that
        # way at 1,000,000 children). A narrow scope (townships, villages, schools, homes,
        # grants: a few thousand children at most) is handed over as an array of ids, so
        # PostgreSQL reads those children's records through the child-id index and sorts
        # them; a wide one (a county and up) as a semi-join, which the planner may answer by
        # walking the records in the order asked for.
        in_scope = Child.objects.filter(child_scope_q(user, level=level)).order_by().values("pk")
        column = _child_id_path(via)
        narrow = all(len(prefix) >= NARROW_PREFIX for prefix in scope.region_prefixes_at(level))
        return id_in(column, in_scope) if narrow else Q(**{f"{column}__in": in_scope})
    q = Q(pk__in=[])
    for prefix in scope.region_prefixes_at(level):
        # `region__code` is the foreign key column itself (code is the key): no join.
        q |= Q(residence_region__code__startswith=prefix)
        q |= Q(household_region__code__startswith=prefix)
    if schools := scope.school_ids_at(level):
        q |= Q(school_id__in=schools)
    if residences := scope.residence_ids_at(level):
        q |= Q(residential_institution_id__in=residences)
    # The children given to this user one by one (grants, and break the glass for reading):
    # one array, so that a user with no area of their own gets one indexed `id = ANY(...)`.
    return q | id_in("pk", given_children(user_id=scope.user_id, level=level))


def given_children(*, user_id: int, level: Level) -> RawSQL:
    """The children given to the user one by one at `level` or higher: `live_grants`, and for
    reading the user's break-the-glass accesses not yet expired, as one statement.

    Every scoped statement holds it, two or three on every list page. Written with the ORM
    (a union of two filtered querysets) it took about a millisecond to compile each time, a
    tenth of a list page's own time; its SQL is the same (tests/security/test_scope_given.py
    holds the two to the same children)."""
    now = timezone.now()
    sql, params = _GRANTS_SQL, [user_id, int(level), now]
    if level == Level.READ:
        sql, params = sql + _EMERGENCY_SQL, [*params, user_id, now]
    return RawSQL(sql, params)  # noqa: S611 (constant statements, every value a parameter)


# The tables are ChildAccessGrant's and EmergencyAccess's (a wrong name fails every scope test).
_GRANTS_SQL = (
    'SELECT "child_id" FROM "cases_childaccessgrant" WHERE "user_id" = %s AND "level" >= %s'
    ' AND "ended_at" IS NULL AND ("expires_at" IS NULL OR "expires_at" > %s)'
)
_EMERGENCY_SQL = (
    ' UNION ALL SELECT "child_id" FROM "cases_emergencyaccess"'
    ' WHERE "user_id" = %s AND "expires_at" > %s'
)


def access_level(user: User | AnonymousUser, child: Child) -> Level | None:
    """The highest level `user` has on `child` (None: out of scope). One query at most."""
    scope = scope_for(user)
    if scope.user_id is None:
        return None
    by_scope = scope.level_by_scope(
        residence=child.residence_region_id,
        household=child.household_region_id,
        school_id=child.school_id,
        residence_id=child.residential_institution_id,
    )
    if by_scope == Level.MANAGE:
        return by_scope
    # Exists cannot sit in aggregate(): annotated first, the row is grouped by it.
    rows = (
        Child.objects.filter(pk=child.pk)
        .order_by()
        .annotate(
            emergency=Exists(
                EmergencyAccess.objects.filter(
                    user_id=scope.user_id, child_id=child.pk, expires_at__gt=timezone.now()
                )
            )
        )
        .values("emergency")
        .annotate(
            grant=Max(
                "access_grants__level",
                filter=Q(access_grants__in=live_grants(user_id=scope.user_id)),
            )
        )
        .values("grant", "emergency")[:1]
    )
    found = next(iter(rows), {"grant": None, "emergency": False})
    levels = [lvl for lvl in (by_scope, found["grant"]) if lvl is not None]
    if found["emergency"]:
        levels.append(Level.READ)
    return Level(max(levels)) if levels else None


def children_visible_to(user: User | AnonymousUser, level: Level = Level.READ) -> QuerySet[Child]:
    """Every child `user` reaches at `level`. Out of scope is indistinguishable from missing."""
    return Child.objects.filter(child_scope_q(user, level=level))


def guardians_visible_to(user: User | AnonymousUser) -> QuerySet[Any]:
    """Guardians of the children `user` may see."""

    return Guardian.objects.filter(child_scope_q(user, via="child__")).select_related("child")


def consents_visible_to(user: User | AnonymousUser) -> QuerySet[Any]:
    """Consents of the children `user` may see."""

    return Consent.objects.filter(child_scope_q(user, via="child__")).select_related("child")


def care_team_visible_to(user: User | AnonymousUser) -> QuerySet[Any]:
    """Care-team memberships of the children `user` may see."""

    return CareTeamMember.objects.filter(child_scope_q(user, via="child__")).select_related(
        "child", "user"
    )


def care_plans_visible_to(user: User | AnonymousUser) -> QuerySet[CarePlan]:
    """Care plans of the children `user` may see."""
    return CarePlan.objects.filter(child_scope_q(user, via="child__")).select_related("child")


def handover_scope_q(user: User | AnonymousUser, level: Level = Level.READ) -> Q:
    """Hand-overs the user's area sent: the sending side reads its snapshot, nothing more."""
    if level > Level.READ:
        return Q(pk__in=[])
    scope = scope_for(user)
    q = Q(pk__in=[])
    for prefix in scope.region_prefixes:
        q |= Q(from_region__code__startswith=prefix)
    if scope.school_ids:
        q |= Q(from_school_id__in=scope.school_ids)
    if scope.residential_institution_ids:
        q |= Q(from_institution_id__in=scope.residential_institution_ids)
    return q


def handovers_sent_by_my_scope(*, user: User) -> QuerySet[Handover]:
    """Hand-overs out of the user's scope: the sending side keeps sight of what it wrote."""
    return Handover.objects.filter(handover_scope_q(user)).select_related(
        "child", "from_region", "to_region"
    )


def register_child_related(model: type[Any], *, via: str = "child__") -> None:
    """Let `core.access.fetch()` scope `model` through its child (see child_scope_q)."""
    column = _child_id_path(via)
    path = column.split("__")

    def child_id(obj: Any) -> int | None:
        for name in path[:-1]:
            obj = getattr(obj, name)
        return obj.pk if column == "pk" else getattr(obj, path[-1])

    register(
        model, q=lambda user, level: child_scope_q(user, level=level, via=via), child_id=child_id
    )


def register_scopes() -> None:
    """The scoping of this app's models for the one fetch (called from CasesConfig.ready)."""

    register_child_related(Child, via="")
    for model in (Guardian, Consent, CareTeamMember, CarePlan):
        register_child_related(model)
    register(Handover, q=handover_scope_q, child_id=lambda handover: handover.child_id)
