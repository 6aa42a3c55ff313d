"""Factories for the institutions app: regions, organisations and users with a role.

Regions and organisations come from the demo world (looked up, not created); a user is new,
with an approved membership given through `membership_grant`, as seed_demo gives them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import factory
from factory.django import DjangoModelFactory

from institutions.models import Agency, Institution, Membership, Region, User
from institutions.roles import Role
from institutions.services import membership_grant, region_load
from tests.demo import (
    DEMO_PASSWORD,
    NEIGHBOUR_COUNTY,
    NEIGHBOUR_TOWNSHIP,
    NEIGHBOUR_VILLAGE,
    seed_demo,
)


def region(code: str) -> Region:
    """A region of the demo world (or one a test loaded) by its code."""
    return Region.objects.get(code=code)


def neighbouring_village() -> Region:
    """A village of a neighbouring county that seed_demo does not create: outside every demo
    user's scope. Loaded (once) through `region_load`, as an administrator would."""
    region_load(
        rows=[
            (NEIGHBOUR_COUNTY, "邻县（演示）"),
            (NEIGHBOUR_TOWNSHIP, "邻镇（演示）"),
            (NEIGHBOUR_VILLAGE, "邻村（演示）"),
        ]
    )
    return region(NEIGHBOUR_VILLAGE)


def agency(kind: str = Agency.Kind.CIVIL_AFFAIRS) -> Agency:
    """The demo county's agency of a kind (民政局, 教育局, …)."""
    return Agency.objects.get(region_id=seed_demo.COUNTY, kind=kind)


def institution(name: str) -> Institution:
    """A demo institution by name (tests.demo.MIDDLE_SCHOOL, HOSPITAL, …)."""
    return Institution.objects.get(name=name)


class InstitutionFactory(DjangoModelFactory):
    """A new institution of the demo county, for tests that need one the demo world lacks."""

    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"测试机构{n}（演示）")
    kind = Institution.Kind.SCHOOL
    region = factory.LazyFunction(lambda: region(seed_demo.COUNTY))
    supervising_agency = factory.LazyFunction(lambda: agency(Agency.Kind.EDUCATION))
    services = factory.LazyFunction(lambda: [Institution.Service.COUNSELLING_ROOM])
    address = "测试地址（演示）"
    phone = "0000-0000000"


# Where a new user of each role works unless a test says otherwise: where the demo user of
# that role works (seed_demo.USERS), and the same jurisdiction.
_DEMO_POST = {role: (organisation, codes) for _n, _d, role, organisation, codes in seed_demo.USERS}


def _organisation(role: Role) -> dict[str, Any]:
    organisation, _codes = _DEMO_POST[role]
    if isinstance(organisation, Agency.Kind):
        return {"agency": agency(organisation)}
    return {"institution": institution(seed_demo.INSTITUTIONS[organisation][0])}


class UserFactory(DjangoModelFactory):
    """A staff user who signs in with the demo password.

    With `role`, the user also gets an approved membership (through `membership_grant`): at
    `agency` or `institution` if given, else where the demo user of that role works, over
    `jurisdiction` if given, else over the demo user's jurisdiction. Without `role`: no
    membership, so no children and no permissions.
    """

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"test_user_{n}")
    display_name = factory.Sequence(lambda n: f"测试·用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@test.invalid")
    phone = factory.Sequence(lambda n: f"000{n:08d}")
    is_demo = False

    # Not fields of User: the membership to give (see the class docstring).
    role: Role | None = None
    agency: Agency | None = None
    institution: Institution | None = None
    jurisdiction: Iterable[str] | None = None

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        role = kwargs.pop("role", None)
        organisation = {
            key: value
            for key in ("agency", "institution")
            if (value := kwargs.pop(key, None)) is not None
        }
        jurisdiction = kwargs.pop("jurisdiction", None)
        password = kwargs.pop("password", DEMO_PASSWORD)
        new = model_class.objects.create_user(*args, password=password, **kwargs)
        if role is not None:
            role = Role(role)
            if jurisdiction is None:
                jurisdiction = _DEMO_POST[role][1]
            membership_grant(
                user=new,
                role=role,
                jurisdiction=jurisdiction,
                **(organisation or _organisation(role)),
            )
        return new


def membership_of(user: User) -> Membership:
    """The user's one active membership (demo users and factory users hold one)."""
    return Membership.objects.get(user=user, is_active=True)
