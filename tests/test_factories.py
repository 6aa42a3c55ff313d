"""The shared fixture set: factories write through the services and make valid, obviously
fictional records; each role gets a child it reaches and one it does not."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Alert
from cases.models import CarePlan, ChildAccessGrant, Consent
from cases.selectors.scope import children_visible_to
from core.models import AccessEvent
from institutions.roles import Level, Role
from referrals.models import Referral
from tests.demo import (
    ADMINISTRATORS,
    FAR_VILLAGE,
    MIDDLE_SCHOOL,
    ROLES_WITH_CHILDREN,
    VILLAGE_A,
    user,
)
from tests.factories import (
    AssessmentFactory,
    CarePlanFactory,
    CareTeamMemberFactory,
    ChildFactory,
    ConsentFactory,
    GuardianFactory,
    ReferralFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

EVERY_ROLE_WITH_A_WAY_TO_CHILDREN = [*ROLES_WITH_CHILDREN, "clinician"]


def test_a_child_is_registered_through_the_service_with_its_identity_protected():
    child = ChildFactory(national_id="990101201303030014", categories=["orphan"])
    assert child.name.startswith("测试")
    assert child.record_number.startswith("990101-")
    assert child.name_pinyin.startswith("ceshi")
    assert child.residence_region_id == child.household_region_id == FAR_VILLAGE
    assert child.national_id_hash and "990101201303030014" not in child.national_id_encrypted
    assert AccessEvent.objects.filter(child=child, detail__created=True).exists()


def test_traits_put_a_child_in_the_middle_school():
    pupil = ChildFactory(pupil=True)
    assert pupil.school.name == MIDDLE_SCHOOL and pupil.residence_region_id == VILLAGE_A
    assert 12 <= pupil.age() <= 15


def test_family_and_care_records_are_made_by_the_services():
    child = ChildFactory()
    guardian = GuardianFactory(child=child)
    assert guardian.phone.startswith("000") and guardian.is_primary_contact
    consent = ConsentFactory(child=child)
    assert consent.guardian == guardian and consent.purpose == Consent.Purpose.ASSESSMENT
    member = CareTeamMemberFactory(child=child)
    grant = ChildAccessGrant.objects.get(child=child, user=member.user)
    assert grant.level == Level.CONTRIBUTE and grant.source == ChildAccessGrant.Source.CARE_TEAM
    peer = CareTeamMemberFactory(child=child, peer=True)
    assert peer.user is None and peer.peer_name.startswith("测试")
    first, second = CarePlanFactory(child=child), CarePlanFactory(child=child)
    first.refresh_from_db()
    assert (first.status, second.status) == (CarePlan.Status.COMPLETED, CarePlan.Status.ACTIVE)


def test_a_severe_assessment_raises_its_alert_and_a_flagged_visit_the_risk():
    child = ChildFactory(pupil=True)
    AssessmentFactory(child=child, value=3)
    assert Alert.objects.filter(child=child).exists()
    other = ChildFactory()
    VisitFactory(child=other, concerns=["self_harm_talk"])
    other.refresh_from_db()
    assert other.is_high_risk


def test_a_sent_referral_lets_the_clinic_read_the_child():
    referral = ReferralFactory(send=True)
    assert referral.status == Referral.Status.SENT
    assert children_visible_to(user("clinician")).filter(pk=referral.child_id).exists()


def test_a_user_with_a_role_signs_in_and_sees_that_roles_children(login):
    director = UserFactory(role=Role.CHILD_DIRECTOR, jurisdiction=[VILLAGE_A])
    child = ChildFactory(region=VILLAGE_A)
    client = login(director.username)
    assert client.get(reverse("cases:child_detail", args=[child.pk])).status_code == 200
    assert UserFactory().memberships.count() == 0


@pytest.mark.parametrize("username", EVERY_ROLE_WITH_A_WAY_TO_CHILDREN)
def test_each_role_reaches_its_in_scope_child_and_not_its_out_of_scope_child(
    username, child_in_scope_of, child_out_of_scope_of
):
    inside, outside = child_in_scope_of(username), child_out_of_scope_of(username)
    visible = children_visible_to(user(username))
    assert visible.filter(pk=inside.pk).exists()
    assert not visible.filter(pk=outside.pk).exists()


@pytest.mark.parametrize("username", ADMINISTRATORS)
def test_administrators_have_no_child_to_put_in_scope(username, child_in_scope_of):
    with pytest.raises(LookupError):
        child_in_scope_of(username)
