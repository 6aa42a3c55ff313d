"""Reproductions 1, 2, 5 and 13 of the security review (issue 9): any tie to a child used to give
everything. Each tie now gives its level only: an approved access request or a clinic's referral
reads; break the glass reads, once per token, for a few hours, and tells someone; reads are
logged; the duplicate-search token says nothing."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CareTeamMember, Child, EmergencyAccess, Guardian
from cases.services.access import access_request_create, access_request_decide
from core.models import AccessEvent, Notification
from referrals.services.lifecycle import referral_withdraw
from tests.assessments.test_screening import open_session
from tests.cases.test_file import child_form, tokens_shown
from tests.conftest import user
from tests.demo import VILLAGE_A, VILLAGE_B, VILLAGE_B2
from tests.factories import ChildFactory, GuardianFactory
from tests.referrals import pupil, sent

pytestmark = pytest.mark.django_db

MANAGE_PAGES = [
    "cases:child_edit",
    "cases:child_close",
    "cases:child_handover",
    "cases:guardian_add",
    "cases:consent_add",
    "cases:care_team_add",
    "cases:care_plan_add",
]


def read_share(child: Child, *, asker: str = "director_a", owner: str = "director_b") -> None:
    request = access_request_create(child=child, by=user(asker), reason="孩子已搬到本村")
    access_request_decide(access_request=request, by=user(owner), approve=True)


def assert_reads_but_cannot_manage(client, child: Child) -> None:
    assert client.get(reverse("cases:child_detail", args=[child.pk])).status_code == 200
    for name in MANAGE_PAGES:
        url = reverse(name, args=[child.pk])
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code == 403, url


def test_an_approved_access_request_reads_but_cannot_edit_share_or_hand_over(login):
    child = ChildFactory(region=VILLAGE_B, name="共享孩子")
    guardian = GuardianFactory(child=child, name="共享监护人", by=user("director_b"))
    read_share(child)
    client = login("director_a")
    assert_reads_but_cannot_manage(client, child)

    # Hand the child over into her own village: refused, the residence unchanged.
    response = client.post(
        reverse("cases:child_handover", args=[child.pk]),
        {"to_region": VILLAGE_A, "reason": "搬到本村"},
    )
    assert response.status_code == 403
    child.refresh_from_db()
    assert child.residence_region_id == VILLAGE_B
    # Add a volunteer to the care team (who would then see the file): refused.
    response = client.post(
        reverse("cases:care_team_add", args=[child.pk]),
        {"team_role": "volunteer", "user": user("volunteer").pk},
    )
    assert response.status_code == 403
    assert not CareTeamMember.objects.filter(child=child).exists()
    assert client.get(reverse("cases:guardian_edit", args=[guardian.pk])).status_code == 403
    assert Guardian.objects.get(pk=guardian.pk).name == "共享监护人"


def test_a_referral_lets_the_clinic_read_but_not_manage_the_file(login):
    referral = sent(pupil(3))
    client = login("clinician")
    assert_reads_but_cannot_manage(client, referral.child)


def test_a_withdrawn_referral_leaves_the_clinic_nothing(login):
    referral = sent(pupil(4))
    url = reverse("cases:child_detail", args=[referral.child.pk])
    client = login("clinician")
    assert client.get(url).status_code == 200
    referral_withdraw(referral=referral, by=user("counselor"), reason="家长改变主意")
    assert client.get(url).status_code == 404


def found_outside(login, *, region: str = VILLAGE_B2, finder: str = "director_a"):
    """`finder` meets, through the duplicate search, a child outside their scope."""
    child = ChildFactory(region=region, name="破窗孩子", birth_date=date(2012, 2, 2))
    client = login(finder)
    response = client.post(
        "/children/new/",
        child_form(name="破窗孩子", birth_date="2012-02-02", residence_region=VILLAGE_A),
    )
    return client, child, tokens_shown(response)[child.pk]


GOOD_REASON = {"reason_code": "self_harm", "reason": "孩子在路边说要轻生，需要立刻联系监护人"}


@pytest.mark.parametrize(
    "data",
    [
        {"reason_code": "danger", "reason": ".........."},
        {"reason_code": "danger", "reason": "...............  ...... 急"},
        {"reason": "孩子在路边说要轻生，需要立刻联系监护人"},
        {"reason_code": "bored", "reason": "孩子在路边说要轻生，需要立刻联系监护人"},
    ],
)
def test_breaking_the_glass_needs_a_kind_of_emergency_and_a_real_reason(login, data):
    client, child, token = found_outside(login)
    response = client.post("/children/emergency-access/", {"token": token, **data})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not EmergencyAccess.objects.filter(child=child).exists()


def test_a_token_breaks_the_glass_once(login):
    client, child, token = found_outside(login)
    first = client.post("/children/emergency-access/", {"token": token, **GOOD_REASON})
    assert first.status_code == 302
    second = client.post(
        "/children/emergency-access/",
        {"token": token, "reason_code": "other", "reason": "再次打开这个档案看看最新的情况"},
    )
    assert second.status_code == 200
    assert "already used" in str(second.context["form"].non_field_errors()) or (
        "已经用过" in str(second.context["form"].non_field_errors())
    )
    assert EmergencyAccess.objects.filter(child=child).count() == 1


def test_emergency_access_reads_only_and_cannot_make_itself_permanent(login):
    client, child, token = found_outside(login)
    client.post("/children/emergency-access/", {"token": token, **GOOD_REASON})
    assert_reads_but_cannot_manage(client, child)
    response = client.post(
        reverse("cases:care_team_add", args=[child.pk]),
        {"team_role": "child_director", "user": user("director_a").pk},
    )
    assert response.status_code == 403
    assert not CareTeamMember.objects.filter(child=child).exists()

    EmergencyAccess.objects.filter(child=child).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(reverse("cases:child_detail", args=[child.pk])).status_code == 404


def test_a_township_without_a_child_supervisor_tells_the_county(login):
    # Township 990101002 has no child supervisor: the county's civil-affairs supervisor is told.
    client, child, token = found_outside(login, region=VILLAGE_B2)
    client.post("/children/emergency-access/", {"token": token, **GOOD_REASON})
    told = set(
        Notification.objects.filter(kind="emergency_access", child=child).values_list(
            "recipient__username", flat=True
        )
    )
    assert "county_civil" in told
    # It waits on the supervisors' and the auditor's review lists until reviewed.
    page = login("county_civil").get("/children/emergency-reviews/").content.decode()
    assert child.record_number in page
    auditor_page = login("auditor").get("/children/emergency-reviews/").content.decode()
    assert child.record_number in auditor_page


def test_reads_of_forms_and_of_the_api_search_are_logged(login):
    child = ChildFactory(region=VILLAGE_A, name="记录孩子")
    guardian = GuardianFactory(
        child=child, name="记录监护人", relation="father", by=user("director_a")
    )
    client = login("director_a")

    def logged(url: str) -> int:
        before = AccessEvent.objects.filter(child=child, user__username="director_a").count()
        assert client.get(url).status_code == 200
        return AccessEvent.objects.filter(child=child, user__username="director_a").count() - before

    assert logged(reverse("cases:child_edit", args=[child.pk])) == 1
    assert logged(reverse("cases:guardian_edit", args=[guardian.pk])) == 1
    assert logged(f"/api/v1/children/?search={child.name}") == 1
    assert AccessEvent.objects.filter(
        child=child, action=AccessEvent.Action.LIST, detail__api=True
    ).exists()


def test_the_duplicate_search_token_reveals_nothing(login):
    client, child, token = found_outside(login)
    # Not Django's signed JSON, not base64 of anything readable.
    padded = token + "=" * (-len(token) % 4)
    raw = base64.urlsafe_b64decode(padded)
    with pytest.raises(ValueError):
        json.loads(raw)
    for part in token.split(":"):
        try:
            decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            continue
        assert b'"child"' not in decoded and b'"c"' not in decoded
    # A second search gives another token for the same child: nothing stable to collect.
    again = client.post(
        "/children/new/",
        child_form(name="破窗孩子", birth_date="2012-02-02", residence_region=VILLAGE_A),
    )
    assert tokens_shown(again)[child.pk] != token


def test_opening_a_screening_roster_logs_each_child_on_it(login):
    session = open_session(user("counselor"))
    client = login("counselor")
    before = AccessEvent.objects.filter(action=AccessEvent.Action.LIST).count()
    response = client.get(reverse("assessments:screening_detail", args=[session.pk]))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert rows
    logged = AccessEvent.objects.filter(
        action=AccessEvent.Action.LIST, user__username="counselor", detail__screening=session.pk
    )
    assert (
        logged.count()
        == len(rows)
        == (AccessEvent.objects.filter(action=AccessEvent.Action.LIST).count() - before)
    )
    assert {e.child_id for e in logged} == {row.child.pk for row in rows}
