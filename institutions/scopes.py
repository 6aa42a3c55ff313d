"""A user's scope: what they are responsible for, resolved from their active memberships."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from institutions.models import Institution, Membership, User
from institutions.roles import CONSENT_PERMISSION, Level, Role, ScopeSource, spec


@dataclass(frozen=True)
class Scope:
    """What a user is responsible for, resolved from their active memberships.

    Each region prefix, school and residential institution carries the level its role gives
    (the highest where two memberships cover the same one).
    """

    user_id: int | None
    roles: frozenset[Role]
    regions: tuple[tuple[str, Level], ...] = ()
    schools: tuple[tuple[int, Level], ...] = ()
    residences: tuple[tuple[int, Level], ...] = ()
    # (agency kind, region code, level) of each jurisdiction held in an agency: an agency
    # sees the institutions it supervises (an education bureau its schools) in its region.
    agency_regions: tuple[tuple[str, str, Level], ...] = ()
    # Institutions the user acts for as a guardian (国家监护): staff there whose role records
    # consent are its responsible persons.
    consent_institution_ids: tuple[int, ...] = ()

    @property
    def requires_two_factor(self) -> bool:
        return any(spec(role).requires_two_factor for role in self.roles)

    @property
    def may_use_admin_site(self) -> bool:
        return any(spec(role).admin_site for role in self.roles)

    def region_prefixes_at(self, level: Level = Level.READ) -> tuple[str, ...]:
        return minimal_prefixes({code for code, lvl in self.regions if lvl >= level})

    def school_ids_at(self, level: Level = Level.READ) -> tuple[int, ...]:
        return tuple(pk for pk, lvl in self.schools if lvl >= level)

    def residence_ids_at(self, level: Level = Level.READ) -> tuple[int, ...]:
        return tuple(pk for pk, lvl in self.residences if lvl >= level)

    def agency_regions_at(self, level: Level = Level.READ) -> tuple[tuple[str, str], ...]:
        """(agency kind, region code) pairs held at `level` or higher."""
        return tuple((kind, code) for kind, code, lvl in self.agency_regions if lvl >= level)

    @property
    def region_prefixes(self) -> tuple[str, ...]:
        return self.region_prefixes_at(Level.READ)

    @property
    def school_ids(self) -> tuple[int, ...]:
        return self.school_ids_at(Level.READ)

    @property
    def residential_institution_ids(self) -> tuple[int, ...]:
        return self.residence_ids_at(Level.READ)

    def level_by_scope(
        self, *, residence: str, household: str, school_id: int | None, residence_id: int | None
    ) -> Level | None:
        """The highest level this scope gives on a child with these regions and places."""
        levels = [
            lvl
            for code, lvl in self.regions
            if residence.startswith(code) or household.startswith(code)
        ]
        levels += [lvl for pk, lvl in self.schools if pk == school_id]
        levels += [lvl for pk, lvl in self.residences if pk == residence_id]
        return max(levels, default=None)


EMPTY_SCOPE = Scope(None, frozenset())


def minimal_prefixes(codes: set[str]) -> tuple[str, ...]:
    """Drop codes already covered by a shorter code in the set (990101 covers 990101001)."""
    kept: list[str] = []
    for code in sorted(codes, key=lambda c: (len(c), c)):
        if not any(code.startswith(prefix) for prefix in kept):
            kept.append(code)
    return tuple(sorted(kept))


def _raise(levels: dict[Any, Level], key: Any, level: Level) -> None:
    levels[key] = max(levels.get(key, level), level)


def read_scope(user: User) -> Scope:
    """The user's scope as their memberships give it now (one query). Use
    `institutions.selectors.scope_for`, which keeps it between requests."""
    roles: set[Role] = set()
    regions: dict[str, Level] = {}
    schools: dict[int, Level] = {}
    residences: dict[int, Level] = {}
    agency_regions: dict[tuple[str, str], Level] = {}
    consent_institutions: set[int] = set()
    rows = (
        Membership.objects.in_force()
        .filter(user_id=user.pk)
        .values_list("role", "jurisdiction", "institution_id", "institution__kind", "agency__kind")
    )
    for role_value, jurisdiction, institution_id, institution_kind, agency_kind in rows:
        role = Role(role_value)
        roles.add(role)
        role_spec = spec(role)
        sources, level = role_spec.scope, role_spec.scope_level
        if ScopeSource.JURISDICTION in sources:
            for code in jurisdiction:
                _raise(regions, code, level)
                if agency_kind:
                    _raise(agency_regions, (agency_kind, code), level)
        if institution_id and CONSENT_PERMISSION in role_spec.permissions:
            consent_institutions.add(institution_id)
        if (
            ScopeSource.ENROLMENT in sources
            and institution_id
            and institution_kind in Institution.ENROLLING_KINDS
        ):
            _raise(schools, institution_id, level)
        if (
            ScopeSource.RESIDENCE in sources
            and institution_id
            and institution_kind in Institution.RESIDENTIAL_KINDS
        ):
            _raise(residences, institution_id, level)
    scope = Scope(
        user_id=user.pk,
        roles=frozenset(roles),
        regions=tuple(sorted(regions.items())),
        schools=tuple(sorted(schools.items())),
        residences=tuple(sorted(residences.items())),
        agency_regions=tuple(
            (kind, code, level) for (kind, code), level in sorted(agency_regions.items())
        ),
        consent_institution_ids=tuple(sorted(consent_institutions)),
    )
    return scope
