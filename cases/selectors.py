"""Scoped reads of children: the one selector every view, API, export and dashboard starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from cases.identity import name_key, national_id_hash
from cases.models import (
    AccessRequest,
    CarePlan,
    CarePlanReview,
    CareTeamMember,
    Child,
    ChildAccessGrant,
    Consent,
    EmergencyAccess,
    Guardian,
    Handover,
    RiskLevel,
)
from core.access import id_in, register
from institutions.masking import FieldKind, mask, masked, may_see
from institutions.models import Institution, Membership, Region, User
from institutions.roles import Level, Role
from institutions.selectors import scope_for


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
    q = Q(pk__in=[])
    for prefix in scope.region_prefixes_at(level):
        # `region__code` is the foreign key column itself (code is the key): no join.
        q |= Q(**{f"{via}residence_region__code__startswith": prefix})
        q |= Q(**{f"{via}household_region__code__startswith": prefix})
    if schools := scope.school_ids_at(level):
        q |= Q(**{f"{via}school_id__in": schools})
    if residences := scope.residence_ids_at(level):
        q |= Q(**{f"{via}residential_institution_id__in": residences})
    child_id = _child_id_path(via)
    q |= id_in(child_id, live_grants(user_id=scope.user_id, level=level).values("child_id"))
    if level == Level.READ:
        emergency = (
            EmergencyAccess.objects.filter(user_id=scope.user_id, expires_at__gt=timezone.now())
            .order_by()
            .values("child_id")
        )
        q |= id_in(child_id, emergency)
    return q


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
    found = Child.objects.filter(pk=child.pk).aggregate(
        grant=Max(
            "access_grants__level",
            filter=Q(access_grants__in=live_grants(user_id=scope.user_id)),
        ),
        emergency=Exists(
            EmergencyAccess.objects.filter(
                user_id=scope.user_id, child_id=child.pk, expires_at__gt=timezone.now()
            )
        ),
    )
    levels = [lvl for lvl in (by_scope, found["grant"]) if lvl is not None]
    if found["emergency"]:
        levels.append(Level.READ)
    return Level(max(levels)) if levels else None


def children_visible_to(user: User | AnonymousUser, level: Level = Level.READ) -> QuerySet[Child]:
    """Every child `user` reaches at `level`. Out of scope is indistinguishable from missing."""
    return Child.objects.filter(child_scope_q(user, level=level))


def needs_care_plan_q() -> Q:
    """High-risk children without an active care plan: flagged on the file and in lists."""
    active_plan = CarePlan.objects.filter(child=OuterRef("pk"), status=CarePlan.Status.ACTIVE)
    return Q(risk_level__gte=RiskLevel.HIGH) & ~Q(Exists(active_plan))


def child_list(*, user: User, search: str = "") -> QuerySet[Child]:
    """The children list page and API: scoped, with the columns a list shows."""
    qs = (
        children_visible_to(user)
        .select_related("residence_region", "school")
        .annotate(
            has_active_plan=Exists(
                CarePlan.objects.filter(child=OuterRef("pk"), status=CarePlan.Status.ACTIVE)
            )
        )
    )
    if search:
        qs = qs.filter(search_q(search))
    return qs.order_by("-risk_level", "name_pinyin", "id")


def search_q(text: str) -> Q:
    """Name (characters or pinyin), record number, or a whole ID number (matched by hash)."""
    text = text.strip()
    compact = text.replace(" ", "").upper()
    if len(compact) == 18 and compact[:17].isdigit():
        return Q(national_id_hash=national_id_hash(compact))
    q = Q(name__icontains=text) | Q(record_number__iexact=text)
    key = name_key(text)
    if key and len(key) >= 2:
        q |= Q(name_pinyin__startswith=key)
    return q


@dataclass(frozen=True)
class DuplicateCandidate:
    """A possible match for a new child; out of scope, only enough to recognise the child."""

    child: Child
    in_scope: bool
    strength: str  # "id" (same ID number), "strong" (name and birth date), "possible"
    token: str = ""  # out of scope: the opaque token to ask for access or break the glass

    @property
    def display_name(self) -> str:
        # In scope the user reads the file anyway; out of scope, the table's masked name only.
        return self.child.name if self.in_scope else masked(FieldKind.NAME, self.child.name)

    @property
    def birth_year(self) -> int:
        return self.child.birth_date.year

    @property
    def county(self) -> str:
        return self.child.residence_region.code[:6]


def duplicate_candidates(
    *, user: User, name: str, birth_date: date | None, sex: str = "", national_id: str = ""
) -> list[DuplicateCandidate]:
    """Likely existing files for a new child, searched in every region (DESIGN.md §4).

    The caller shows out-of-scope matches masked; this never opens their files.
    """
    conditions = Q()
    if national_id:
        conditions |= Q(national_id_hash=national_id_hash(national_id))
    key = name_key(name)
    if key and birth_date:
        near = Q(
            name_pinyin=key,
            birth_date__range=(birth_date - timedelta(days=366), birth_date + timedelta(days=366)),
        )
        if sex:
            near &= Q(sex=sex) | Q(birth_date=birth_date)
        conditions |= near
    if not conditions:
        return []
    matches = list(
        Child.objects.filter(conditions)
        .select_related("residence_region")
        .annotate(in_scope=Exists(children_visible_to(user).filter(pk=OuterRef("pk"))))
        .order_by("id")[:10]
    )
    id_hash = national_id_hash(national_id) if national_id else None
    result = []
    for child in matches:
        if id_hash and child.national_id_hash == id_hash:
            strength = "id"
        elif birth_date and child.birth_date == birth_date:
            strength = "strong"
        else:
            strength = "possible"
        in_scope = bool(getattr(child, "in_scope", False))
        result.append(DuplicateCandidate(child, in_scope, strength))
    order = {"id": 0, "strong": 1, "possible": 2}
    return sorted(result, key=lambda c: order[c.strength])


def child_file_queryset() -> QuerySet[Child]:
    """Children with everything the file page shows, in a fixed number of queries (unscoped:
    the one fetch applies the user's scope)."""

    return Child.objects.select_related(
        "residence_region",
        "household_region",
        "school",
        "residential_institution",
        "created_by",
    ).prefetch_related(
        Prefetch(
            "guardians",
            queryset=Guardian.objects.order_by("-is_active", "-is_primary_contact", "id"),
        ),
        Prefetch(
            "consents",
            queryset=Consent.objects.select_related(
                "guardian", "recorded_by", "shared_with"
            ).order_by("-given_on", "-id"),
        ),
        Prefetch(
            "care_team",
            queryset=CareTeamMember.objects.filter(is_active=True).select_related("user"),
        ),
        Prefetch(
            "care_plans",
            queryset=CarePlan.objects.select_related("owner").prefetch_related(
                Prefetch(
                    "reviews",
                    queryset=CarePlanReview.objects.select_related("reviewed_by"),
                )
            ),
        ),
        Prefetch(
            "handovers",
            # The frozen snapshot is read only by the hand-over page, not the file.
            queryset=Handover.objects.select_related("from_region", "to_region").defer("snapshot"),
        ),
    )


def responsible_staff(
    *,
    region_code: str,
    roles: tuple[Role, ...] = (Role.CHILD_DIRECTOR, Role.CHILD_SUPERVISOR),
) -> QuerySet[User]:
    """Active users holding one of `roles` whose jurisdiction covers the region."""
    prefixes = [region_code[:n] for n in (2, 4, 6, 9, 12) if n <= len(region_code)]
    member_ids = Membership.objects.filter(
        is_active=True, role__in=roles, jurisdiction__overlap=prefixes
    ).values("user_id")
    return User.objects.filter(pk__in=member_ids, is_active=True)


def staff_of(*, institution: Institution) -> QuerySet[User]:
    """Active users with an active membership in the institution."""
    member_ids = Membership.objects.filter(is_active=True, institution=institution).values(
        "user_id"
    )
    return User.objects.filter(pk__in=member_ids, is_active=True)


def emergency_accesses_to_review(*, user: User) -> QuerySet[EmergencyAccess]:
    """Unreviewed emergency accesses to children in the reviewer's regions (for the auditor:
    all of them), oldest first."""
    if user.has_perm("core.view_accessevent"):
        q = Q()
    elif user.has_perm("cases.review_emergency_access"):
        q = Q(pk__in=[])
        for prefix in scope_for(user).region_prefixes:
            q |= Q(child__residence_region__code__startswith=prefix)
            q |= Q(child__household_region__code__startswith=prefix)
    else:
        return EmergencyAccess.objects.none()
    return (
        EmergencyAccess.objects.filter(q, reviewed_at__isnull=True)
        .select_related("user", "child")
        .order_by("created_at", "id")
    )


def pending_access_requests(*, user: User) -> QuerySet[AccessRequest]:
    """Requests the user can decide: for children in their scope, when they may edit children."""
    if not user.has_perm("cases.change_child"):
        return AccessRequest.objects.none()
    return (
        AccessRequest.objects.filter(
            child_scope_q(user, via="child__"), status=AccessRequest.Status.PENDING
        )
        .select_related("child", "requested_by")
        .order_by("created_at")
    )


def handovers_sent_by_my_scope(*, user: User) -> QuerySet[Handover]:
    """Hand-overs out of the user's scope: the sending side keeps sight of what it wrote."""
    return Handover.objects.filter(handover_scope_q(user)).select_related(
        "child", "from_region", "to_region"
    )


def regions_for_choice(*, prefix: str = "", level_at_least: int = 1) -> QuerySet[Region]:
    return Region.objects.filter(code__startswith=prefix, level__gte=level_at_least)


def child_history(*, child: Child, user: User, limit: int = 200) -> list[dict[str, Any]]:
    """Field-by-field change history of a child's file (from django-pghistory), newest first.

    Notes that were confidential at either end of a change stay hidden from roles that may not
    read confidential notes, as on the file itself.
    """

    hide_confidential = not may_see(user, FieldKind.CONFIDENTIAL_NOTE)

    events = list(
        apps.get_model("cases", "ChildEvent")
        .objects.filter(pgh_obj_id=child.pk)
        .select_related("pgh_context")
        .order_by("pgh_id")[:limit]
    )
    skip = {
        "pgh_id",
        "pgh_created_at",
        "pgh_label",
        "pgh_obj",
        "pgh_obj_id",
        "pgh_context",
        "pgh_context_id",
        "version",
        "name_pinyin",
        "national_id_hash",
    }
    fields = [f for f in Child._meta.concrete_fields if f.attname not in skip]
    history: list[dict[str, Any]] = []
    previous = None
    for event in events:
        changes = []
        for field in fields:
            name = field.attname
            if not hasattr(event, name):
                continue
            new = getattr(event, name)
            old = getattr(previous, name) if previous is not None else None
            if previous is None or old != new:
                if previous is None and new in (None, "", [], False):
                    continue
                if (
                    name == "notes"
                    and hide_confidential
                    and (event.notes_confidential or getattr(previous, "notes_confidential", False))
                ):
                    old = mask(user, FieldKind.CONFIDENTIAL_NOTE, old) if old else old
                    new = mask(user, FieldKind.CONFIDENTIAL_NOTE, new) if new else new
                changes.append({"field": field.verbose_name, "old": old, "new": new})
        context = event.pgh_context.metadata if event.pgh_context_id else {}
        history.append(
            {
                "at": event.pgh_created_at,
                "label": event.pgh_label,
                "user_id": context.get("user"),
                "changes": changes,
            }
        )
        previous = event
    history.reverse()
    return history


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


def care_team_users(*, child: Child) -> QuerySet[User]:
    """The active staff members of a child's care team (peer partners have no account)."""

    member_ids = CareTeamMember.objects.filter(
        child=child, is_active=True, user__isnull=False
    ).values("user_id")
    return User.objects.filter(pk__in=member_ids, is_active=True)


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


def register_scopes() -> None:
    """The scoping of this app's models for the one fetch (called from CasesConfig.ready)."""

    register_child_related(Child, via="")
    for model in (Guardian, Consent, CareTeamMember, CarePlan):
        register_child_related(model)
    register(Handover, q=handover_scope_q, child_id=lambda handover: handover.child_id)
