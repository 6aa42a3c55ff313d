"""The staff responsible for a child: who is told, who may act."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.models import CareTeamMember, Child
from institutions.models import LEVEL_LENGTHS, Institution, Membership, Region, User
from institutions.roles import ROLE_TABLE, Role

# Roles whose holders work with a child in person (they log visits): those a care team takes.
CARE_TEAM_ROLES = tuple(
    role for role, role_spec in ROLE_TABLE.items() if "followups.add_visit" in role_spec.permissions
)
COUNTY_LENGTH = LEVEL_LENGTHS[2]


def responsible_staff(
    *,
    region_code: str,
    roles: tuple[Role, ...] = (Role.CHILD_DIRECTOR, Role.CHILD_SUPERVISOR),
) -> QuerySet[User]:
    """Active users holding one of `roles` whose jurisdiction covers the region."""
    member_ids = Membership.objects.filter(
        is_active=True, role__in=roles, jurisdiction__overlap=Region.path_codes(region_code)
    ).values("user_id")
    return User.objects.filter(pk__in=member_ids, is_active=True)


def staff_of(*, institution: Institution) -> QuerySet[User]:
    """Active users with an active membership in the institution."""
    member_ids = Membership.objects.filter(is_active=True, institution=institution).values(
        "user_id"
    )
    return User.objects.filter(pk__in=member_ids, is_active=True)


def care_team_users(*, child: Child) -> QuerySet[User]:
    """The active staff members of a child's care team (peer partners have no account)."""

    member_ids = CareTeamMember.objects.filter(
        child=child, is_active=True, user__isnull=False
    ).values("user_id")
    return User.objects.filter(pk__in=member_ids, is_active=True)


def care_team_candidates(*, child: Child) -> QuerySet[User]:
    """Who may be put on a child's care team: active staff in a role that works with children
    in person, responsible for the child's region (residence or household), or working at an
    institution or agency of the child's county (its schools, homes, hospital, volunteers)."""
    regions = {child.residence_region_id, child.household_region_id}
    covering = sorted({above for code in regions for above in Region.path_codes(code)})
    counties = {code[:COUNTY_LENGTH] for code in regions}
    # Staff with a jurisdiction come if it covers the child; staff without one (teachers,
    # volunteers, institution staff) if their institution or agency is near the child.
    place = Q(agency__region__code__in=covering)
    for county in sorted(counties):
        place |= Q(institution__region__code__startswith=county)
        place |= Q(agency__region__code__startswith=county)
    if child.school_id:
        place |= Q(institution_id=child.school_id)
    if child.residential_institution_id:
        place |= Q(institution_id=child.residential_institution_id)
    near = Q(jurisdiction__overlap=covering) | (Q(jurisdiction=[]) & place)
    member_ids = (
        Membership.objects.in_force().filter(near, role__in=CARE_TEAM_ROLES).values("user_id")
    )
    return User.objects.filter(pk__in=member_ids, is_active=True).order_by(
        "display_name", "username"
    )
