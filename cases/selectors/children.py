"""Reads of children for pages: the list and its search, the duplicate search and the file (its
change history: cases.selectors.history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.postgres.lookups import DataContains
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from cases.identity import name_key, national_id_hash
from cases.models import (
    CarePlan,
    CarePlanReview,
    CareTeamMember,
    Child,
    Consent,
    Guardian,
    Handover,
    RiskLevel,
)
from cases.models.child import name_grams, name_search_grams
from cases.selectors.scope import children_visible_to
from institutions.masking import FieldKind, masked
from institutions.models import Region, User


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
    """Name (characters anywhere, or a pinyin prefix), record number (any case), or a whole ID
    number (matched by hash).

    Every arm has an index (DESIGN.md §8): the name through the GIN index of its characters and
    character pairs (`name_grams`, which the pairs of the text narrow to candidates and the
    `icontains` checks), the record number through its UPPER index, the pinyin through
    name_pinyin's pattern index, the ID number through its hash's unique index.
    """
    text = text.strip()
    compact = text.replace(" ", "").upper()
    if len(compact) == 18 and compact[:17].isdigit():
        return Q(national_id_hash=national_id_hash(compact))
    in_name = DataContains(name_grams(F("name")), name_search_grams(text))
    # The LIKE first: where PostgreSQL checks the arms row by row (a clinician's few thousand
    # children, found by id), the cheap test rules out most rows before the characters of each
    # name are computed (18.8 ms → 6 ms for 2,113 children); an index path uses either arm.
    q = (Q(name__icontains=text) & Q(in_name)) | Q(record_number__iexact=text)
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


def regions_for_choice(*, prefix: str = "", level_at_least: int = 1) -> QuerySet[Region]:
    return Region.objects.filter(code__startswith=prefix, level__gte=level_at_least)
