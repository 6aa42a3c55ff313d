"""The staff responsible for a child: who is told, who may act."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import CareTeamMember, Child
from institutions.models import Institution, Membership, User
from institutions.roles import Role


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


def care_team_users(*, child: Child) -> QuerySet[User]:
    """The active staff members of a child's care team (peer partners have no account)."""

    member_ids = CareTeamMember.objects.filter(
        child=child, is_active=True, user__isnull=False
    ).values("user_id")
    return User.objects.filter(pk__in=member_ids, is_active=True)
