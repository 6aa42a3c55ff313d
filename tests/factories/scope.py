"""Children in and out of a user's scope, made with the factories, for the access matrix.

`child_in_scope_of(username)` makes a new child that the user reaches through the user's own
way to children: the first region of a jurisdiction, the school that enrols, the institution
where children live; a role without such a scope gets its tie instead (a mentor or volunteer
a care-team place, a clinician a referral sent to the clinic). `child_out_of_scope_of(username)`
makes a near miss: a child in a village under none of the user's regions, at no school and in
no institution (for the county roles, a village of the neighbouring county).
"""

from __future__ import annotations

from typing import Any

from cases.models import CareTeamMember, Child
from institutions.models import Membership, User
from institutions.roles import Role, ScopeSource, spec
from tests.demo import VILLAGES, user
from tests.factories.cases import CareTeamMemberFactory, ChildFactory
from tests.factories.institutions import neighbouring_village
from tests.factories.referrals import ReferralFactory

_TEAM_PLACE = {
    Role.MENTOR_TEACHER: CareTeamMember.TeamRole.MENTOR,
    Role.VOLUNTEER: CareTeamMember.TeamRole.VOLUNTEER,
}


def _memberships(who: User) -> list[Membership]:
    return list(
        Membership.objects.filter(user=who, is_active=True)
        .select_related("institution")
        .order_by("id")
    )


def _village_under(code: str) -> str:
    """The first demo village in a region (a village is its own)."""
    return next(village for village in VILLAGES if village.startswith(code))


def child_in_scope_of(username: str, **fields: Any) -> Child:
    """A new child `username` reaches through their own scope (or tie); `fields` go to
    ChildFactory. Raises LookupError for the roles that reach no child at all."""
    who = user(username)
    for membership in _memberships(who):
        role = Role(membership.role)
        sources = spec(role).scope
        if ScopeSource.JURISDICTION in sources and membership.jurisdiction:
            fields.setdefault("region", _village_under(membership.jurisdiction[0]))
            return ChildFactory(**fields)
        school = membership.institution
        if ScopeSource.ENROLMENT in sources and school is not None:
            fields.setdefault("region", _village_under(school.region_id))
            return ChildFactory(school=school, grade=8, class_name="1班", **fields)
        if ScopeSource.RESIDENCE in sources and school is not None:
            fields.setdefault("region", school.region_id)
            return ChildFactory(residential_institution=school, **fields)
        if role in _TEAM_PLACE:
            child = ChildFactory(**fields)
            CareTeamMemberFactory(child=child, user=who, team_role=_TEAM_PLACE[role])
            return child
        if role == Role.CLINICIAN and membership.institution is not None:
            child = ChildFactory(pupil=True, **fields)
            ReferralFactory(child=child, to_institution=membership.institution, send=True)
            return child
    raise LookupError(f"{username} reaches no child: there is none to put in scope")


def child_out_of_scope_of(username: str, **fields: Any) -> Child:
    """A new child `username` does not reach: living and registered in a village under none
    of the user's regions, at no school, in no institution, with no tie to the user."""
    codes = [code for m in _memberships(user(username)) for code in m.jurisdiction]
    outside = [v for v in VILLAGES if not any(v.startswith(code) for code in codes)]
    if "region" not in fields:
        fields["region"] = outside[0] if outside else neighbouring_village().code
    return ChildFactory(**fields)
