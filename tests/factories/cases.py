"""Factories for the cases app: children, guardians, consent, care teams and care plans.

Each one writes through the app's own service (`child_create`, `guardian_add`,
`consent_record`, `care_team_add`, `care_plan_create`), so a record made here is what a user
would have made: a child gets its record number, pinyin key and protected identity number; a
care-team place opens the access grant that goes with it; every write is in the access log.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from cases.models import CarePlan, CareTeamMember, Child, Consent, Guardian
from cases.services.care import care_plan_create, care_team_add
from cases.services.child import EDITABLE_FIELDS, child_create
from cases.services.family import consent_record, guardian_add
from institutions.roles import Role
from tests.demo import COUNTY, FAR_VILLAGE, MIDDLE_SCHOOL, VILLAGE_A, WELFARE, user
from tests.factories.institutions import UserFactory, institution, region

# Synthetic given names; every child's name starts with 测试 so none can be taken for real.
_GIVEN = "小晓子雨星梓欣浩宇涵然轩一可乐安禾木朵豆"
_GIVEN2 = "明月阳晨辰琪悦航杰彤萌泽语佳睿瑶岚川果苗"


def _child_name(n: int) -> str:
    return "测试" + _GIVEN[n % len(_GIVEN)] + _GIVEN2[(n // len(_GIVEN)) % len(_GIVEN2)]


def thirteen_years_ago() -> date:
    """A birth date that makes the child 13 all year: old enough for the built-in
    questionnaires (12+), young enough that only a guardian consents (under 14)."""
    return date(timezone.localdate().year - 13, 1, 1)


class ChildFactory(DjangoModelFactory):
    """A child registered through `child_create`.

    `region` (a code) is where the child lives, by default a village only the county roles
    see (FAR_VILLAGE); `household` is where the household is registered (default: the same).
    `national_id` is protected as the form would; `by` is who registers (county_civil unless
    said). Traits: `pupil` (a middle-school pupil of VILLAGE_A, the counsellor's), `resident`
    (a resident of the county welfare institution). Values `child_create` does not set (a risk
    level, a status) are written afterwards, for tests that need a child already in that state.
    """

    class Meta:
        model = Child

    class Params:
        region = FAR_VILLAGE
        household = None
        pupil = factory.Trait(
            region=VILLAGE_A,
            school=factory.LazyFunction(lambda: institution(MIDDLE_SCHOOL)),
            grade=8,
            class_name="1班",
        )
        resident = factory.Trait(
            region=COUNTY,
            residential_institution=factory.LazyFunction(lambda: institution(WELFARE)),
        )

    name = factory.Sequence(_child_name)
    sex = Child.Sex.FEMALE
    birth_date = factory.LazyFunction(thirteen_years_ago)
    residence_region = factory.LazyAttribute(lambda o: region(o.region))
    household_region = factory.LazyAttribute(
        lambda o: region(o.household) if o.household else o.residence_region
    )
    categories = factory.LazyFunction(list)
    national_id = ""
    by = factory.LazyFunction(lambda: user("county_civil"))

    @classmethod
    def _create(cls, model_class: type[Child], *args: Any, **kwargs: Any) -> Child:
        national_id = kwargs.pop("national_id")
        by = kwargs.pop("by")
        later = {k: kwargs.pop(k) for k in list(kwargs) if k not in EDITABLE_FIELDS}
        child = child_create(data=kwargs, national_id=national_id, by=by)
        if later:
            Child.objects.filter(pk=child.pk).update(**later)
            child.refresh_from_db()
        return child


class GuardianFactory(DjangoModelFactory):
    """A guardian added through `guardian_add` (the first one becomes the primary contact);
    phone numbers start 000, which no real number does."""

    class Meta:
        model = Guardian

    child = factory.SubFactory(ChildFactory)
    name = factory.Sequence(lambda n: f"测试监护人{n}")
    relation = Guardian.Relation.MOTHER
    phone = factory.Sequence(lambda n: f"000{n:08d}")
    lives_with_child = True
    by = factory.LazyAttribute(lambda o: o.child.created_by or user("county_civil"))

    @classmethod
    def _create(cls, model_class: type[Guardian], *args: Any, **kwargs: Any) -> Guardian:
        child, by = kwargs.pop("child"), kwargs.pop("by")
        return guardian_add(child=child, data=kwargs, by=by)


class ConsentFactory(DjangoModelFactory):
    """Consent for one purpose (assessment unless said), given by a guardian of the child
    (an existing one, or a new one); `guardian=None` records the child's own consent."""

    class Meta:
        model = Consent

    child = factory.SubFactory(ChildFactory)
    purpose = Consent.Purpose.ASSESSMENT
    guardian = factory.LazyAttribute(
        lambda o: (
            o.child.guardians.filter(is_active=True).first()
            or GuardianFactory(child=o.child, by=o.by)
        )
    )
    given_on = factory.LazyFunction(timezone.localdate)
    shared_with = None
    note = ""
    by = factory.LazyAttribute(lambda o: o.child.created_by or user("county_civil"))

    @classmethod
    def _create(cls, model_class: type[Consent], *args: Any, **kwargs: Any) -> Consent:
        return consent_record(**kwargs)


_TEAM_ROLE_OF = {
    CareTeamMember.TeamRole.CHILD_DIRECTOR: Role.CHILD_DIRECTOR,
    CareTeamMember.TeamRole.MENTOR: Role.MENTOR_TEACHER,
    CareTeamMember.TeamRole.COUNSELLOR: Role.SCHOOL_COUNSELLOR,
    CareTeamMember.TeamRole.SOCIAL_WORKER: Role.SOCIAL_WORKER,
    CareTeamMember.TeamRole.VOLUNTEER: Role.VOLUNTEER,
}


class CareTeamMemberFactory(DjangoModelFactory):
    """A care-team place added through `care_team_add`: a staff member (a new user of the
    matching role unless `user` is given) gets the contribute grant that goes with it. Trait
    `peer`: a peer partner, a name only, who gets no access."""

    class Meta:
        model = CareTeamMember

    class Params:
        peer = factory.Trait(
            team_role=CareTeamMember.TeamRole.PEER_PARTNER,
            user=None,
            peer_name=factory.Sequence(lambda n: f"测试伙伴{n}"),
        )

    child = factory.SubFactory(ChildFactory)
    team_role = CareTeamMember.TeamRole.MENTOR
    user = factory.LazyAttribute(lambda o: UserFactory(role=_TEAM_ROLE_OF[o.team_role]))
    peer_name = ""
    by = factory.LazyAttribute(lambda o: o.child.created_by or user("county_civil"))

    @classmethod
    def _create(
        cls, model_class: type[CareTeamMember], *args: Any, **kwargs: Any
    ) -> CareTeamMember:
        return care_team_add(**kwargs)


class CarePlanFactory(DjangoModelFactory):
    """A care plan started through `care_plan_create` (it completes the child's active plan,
    as starting a new plan does); owned by its author unless said."""

    class Meta:
        model = CarePlan

    child = factory.SubFactory(ChildFactory)
    classification = CarePlan.Classification.GENERAL
    goals = "测试目标：每周谈心一次，情绪稳定"
    interventions = factory.LazyFunction(lambda: [CarePlan.Intervention.COMFORT])
    start_date = factory.LazyFunction(timezone.localdate)
    review_date = factory.LazyAttribute(lambda o: o.start_date + timedelta(days=30))
    by = factory.LazyAttribute(lambda o: o.child.created_by or user("county_civil"))
    owner = factory.SelfAttribute("by")

    @classmethod
    def _create(cls, model_class: type[CarePlan], *args: Any, **kwargs: Any) -> CarePlan:
        child, by = kwargs.pop("child"), kwargs.pop("by")
        return care_plan_create(child=child, data=kwargs, by=by)
