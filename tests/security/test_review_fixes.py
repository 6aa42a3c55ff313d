"""Defects found by a security review, each held by a test."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from assessments.models import Assessment, Instrument
from assessments.services import AlreadyCorrected, assessment_submit
from cases.models import Child, Consent
from cases.services.care import care_team_add
from cases.services.child import child_update
from core.models import AccessEvent
from institutions.models import Membership, User
from institutions.roles import Role
from tests.conftest import user
from tests.demo import MIDDLE_SCHOOL, VILLAGE_A
from tests.factories import ConsentFactory, GuardianFactory, UserFactory, membership_of

pytestmark = pytest.mark.django_db


def pupil() -> Child:
    """A middle-school pupil of VILLAGE_A whose new guardian consented to assessment."""
    child = Child.objects.filter(
        school__name=MIDDLE_SCHOOL, residence_region_id=VILLAGE_A
    ).order_by("id")[0]
    counselor = user("counselor")
    guardian = GuardianFactory(child=child, name="测试家长", by=counselor)
    ConsentFactory(child=child, purpose=Consent.Purpose.ASSESSMENT, guardian=guardian, by=counselor)
    return child


def result_by_counsellor(child: Child) -> Assessment:
    phq9 = Instrument.objects.get(code="PHQ-9", version=1)
    answers = dict.fromkeys(range(1, 9), 1) | {9: 0}
    return assessment_submit(
        child=child,
        instrument=phq9,
        answers=answers,
        result=phq9.parsed.score(answers),
        setting="school_screening",
        administered_on=timezone.localdate(),
        by=user("counselor"),
    )


def test_the_user_admin_cannot_grant_superuser_or_permissions(login):
    target = user("director_b")
    client = login("admin")
    page = client.get(f"/admin/institutions/user/{target.pk}/change/").content.decode()
    for field in ("is_superuser", "user_permissions", 'name="groups"'):
        assert field not in page
    client.post(
        f"/admin/institutions/user/{target.pk}/change/",
        {
            "username": target.username,
            "display_name": "x",
            "is_active": "on",
            "is_superuser": "on",
            "email": "",
            "phone": "",
            "first_name": "",
            "last_name": "",
        },
    )
    target.refresh_from_db()
    assert not target.is_superuser


def test_nobody_reads_an_authenticator_secret_in_the_admin(login):
    device = TOTPDevice.objects.create(user=user("supervisor_town"), name="phone", confirmed=True)
    page = login("security").get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page


def test_correcting_a_result_is_for_those_who_may_see_its_answers(login):
    original = result_by_counsellor(pupil())
    url = reverse("assessments:assessment_amend", args=[original.pk])
    assert login("supervisor_town").get(url).status_code == 403
    assert login("director_a").get(url).status_code == 403
    before = AccessEvent.objects.filter(child=original.child, user__username="counselor").count()
    assert login("counselor").get(url).status_code == 200
    assert (
        AccessEvent.objects.filter(child=original.child, user__username="counselor").count()
        == before + 1
    )


def test_a_result_is_corrected_only_once_at_a_time():
    original = result_by_counsellor(pupil())
    answers = dict.fromkeys(range(1, 10), 0)
    phq9 = original.instrument
    kwargs = {
        "child": original.child,
        "instrument": phq9,
        "answers": answers,
        "result": phq9.parsed.score(answers),
        "setting": "school_screening",
        "administered_on": timezone.localdate(),
        "by": user("counselor"),
        "amends": original,
        "amendment_reason": "录入错误",
    }
    assessment_submit(**kwargs)
    with pytest.raises(AlreadyCorrected):
        assessment_submit(**kwargs)
    assert Assessment.objects.filter(amends=original).count() == 1


def test_confidential_notes_stay_hidden_in_history_and_edit_form(login):
    child = Child.objects.filter(residence_region_id=VILLAGE_A).order_by("id")[0]
    child = child_update(
        child=child,
        changes={"notes": "家暴线索", "notes_confidential": True},
        expected_version=child.version,
        by=user("supervisor_town"),
    )
    director = login("director_a")
    history = director.get(reverse("cases:child_history", args=[child.pk])).content.decode()
    assert "家暴线索" not in history
    assert (
        "家暴线索"
        in login("supervisor_town")
        .get(reverse("cases:child_history", args=[child.pk]))
        .content.decode()
    )
    form = director.get(reverse("cases:child_edit", args=[child.pk])).context["form"]
    assert "notes" not in form.fields and "notes_confidential" not in form.fields


def test_reading_an_assessment_through_the_api_is_logged(login):
    original = result_by_counsellor(pupil())
    client = login("supervisor_town")
    before = AccessEvent.objects.filter(child=original.child, action="api_view").count()
    assert client.get(f"/api/v1/assessments/{original.pk}/").status_code == 200
    assert AccessEvent.objects.filter(child=original.child, action="api_view").count() == before + 1


def test_ending_a_membership_in_the_admin_takes_the_role_and_dates_it(login):
    newcomer = UserFactory(role=Role.CHILD_DIRECTOR, jurisdiction=["990101003001"])
    membership = membership_of(newcomer)
    response = login("admin").post(
        f"/admin/institutions/membership/{membership.pk}/change/",
        {
            "role": Role.CHILD_DIRECTOR,
            "jurisdiction": "990101003001",
            "user": user("admin").pk,
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(pk=membership.pk)
    assert membership.user == newcomer  # the person cannot be swapped
    assert not membership.is_active and membership.ended_on == timezone.localdate()
    assert not User.objects.get(pk=newcomer.pk).has_perm("cases.view_child")


def test_roles_without_childrens_files_join_no_care_team_and_read_no_child_api(login):
    child = Child.objects.filter(residence_region_id=VILLAGE_A).order_by("id")[0]
    response = login("director_a").post(
        reverse("cases:care_team_add", args=[child.pk]),
        {"team_role": "volunteer", "username": "auditor"},
    )
    assert "username" in response.context["form"].errors
    care_team_add(child=child, team_role="volunteer", user=user("auditor"), by=user("director_a"))
    assert login("auditor").get(f"/api/v1/children/{child.pk}/").status_code == 403
