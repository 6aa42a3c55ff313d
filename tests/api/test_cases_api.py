"""Children, guardians, consents, care teams and care plans through the API: the same forms,
services, levels, permissions and masking as the pages; updates with If-Match; lists with a
fixed number of queries."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import CarePlan, CareTeamMember, Child, ChildAccessGrant, Consent, Guardian
from cases.services.access import grant_open
from cases.services.child import child_update
from cases.services.family import has_consent
from core.models import AccessEvent, Notification
from institutions.masking import mask_phone
from institutions.roles import Level
from tests.cases.test_identity import make_id
from tests.conftest import user
from tests.demo import FAR_VILLAGE, VILLAGE_A, VILLAGE_A2, VILLAGE_B
from tests.factories import (
    CarePlanFactory,
    CareTeamMemberFactory,
    ChildFactory,
    ConsentFactory,
    GuardianFactory,
    agency,
    child_in_scope_of,
)

pytestmark = pytest.mark.django_db

CONFIDENTIAL = "测试机密：家中有冲突"


def send(client, method: str, url: str, data: Any = None, etag: str | None = None):
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    body = json.dumps(data if data is not None else {})
    return getattr(client, method)(url, body, content_type="application/json", **headers)


def etag_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response["ETag"]


def fields_of(response) -> dict[str, list[str]]:
    assert response.status_code == 400, (response.status_code, response.content)
    body = response.json()
    assert body["code"] == "invalid"
    return body["fields"]


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def new_child(**fields: Any) -> dict[str, Any]:
    body = {
        "name": "测试小明",
        "sex": "M",
        "birth_date": "2015-05-05",
        "residence_region": VILLAGE_A,
        "categories": ["rural_left_behind"],
    }
    body.update(fields)
    return body


def shared_with(username: str, child: Child, level: Level = Level.READ) -> Child:
    """Give `username` a one-off share of `child` at `level` (read unless said)."""
    grant_open(
        child=child,
        user=user(username),
        level=level,
        source=ChildAccessGrant.Source.SHARE,
        by=user("admin"),
    )
    return child


# ---------------------------------------------------------------------------------------------


class TestRegisteringAChild:
    def test_a_child_is_registered_through_the_service(self, login):
        number = make_id(born=date(2015, 5, 5), seq="731")
        response = send(
            login("director_a"), "post", "/api/v1/children/", new_child(national_id=number)
        )
        assert response.status_code == 201, response.content
        body = response.json()
        child = Child.objects.get(pk=body["id"])
        assert child.name == "测试小明" and child.name_pinyin == "ceshixiaoming"
        assert child.record_number.startswith("990101-") and body["record_number"]
        assert child.household_region_id == VILLAGE_A  # defaults to the residence
        assert child.created_by == user("director_a")
        assert child.national_id_hash and number not in child.national_id_encrypted
        assert body["national_id"] == number  # a child director sees it whole
        assert response["ETag"] == f'"{child.pk}-{child.version}"'
        assert AccessEvent.objects.filter(
            child=child, action=AccessEvent.Action.CHANGE, detail__created=True
        ).exists()

    def test_an_id_number_on_file_anywhere_is_refused(self, login):
        number = make_id(born=date(2015, 5, 5), seq="732")
        ChildFactory(region=FAR_VILLAGE, national_id=number, birth_date=date(2015, 5, 5))
        before = Child.objects.count()
        response = send(
            login("director_a"),
            "post",
            "/api/v1/children/",
            new_child(name="测试另一个", national_id=number, confirm_new=True),
        )
        assert "national_id" in fields_of(response)
        assert Child.objects.count() == before

    def test_likely_duplicates_are_listed_masked_until_confirmed(self, login):
        ChildFactory(region=FAR_VILLAGE, name="测试重名", birth_date=date(2014, 4, 4))
        client = login("director_a")
        body = new_child(name="测试重名", birth_date="2014-04-04", sex="F")
        before = Child.objects.count()
        errors = fields_of(send(client, "post", "/api/v1/children/", body))
        message = " ".join(errors["confirm_new"])
        assert "测**" in message and "测试重名" not in message  # out of scope: masked
        assert "2014" in message
        assert Child.objects.count() == before
        confirmed = send(client, "post", "/api/v1/children/", {**body, "confirm_new": True})
        assert confirmed.status_code == 201
        assert Child.objects.count() == before + 1

    def test_the_registration_form_rules_apply(self, login):
        client = login("director_a")
        future = (timezone.localdate() + timedelta(days=3)).isoformat()
        for body, field in (
            (new_child(birth_date=future), "birth_date"),
            (new_child(birth_date="2000-01-01"), "birth_date"),  # 18 or older
            (new_child(residence_region=FAR_VILLAGE), "residence_region"),  # outside the area
            (new_child(residence_region="990101001999"), "residence_region"),  # no such region
            (new_child(national_id="123"), "national_id"),
            (new_child(national_id=make_id(born=date(2014, 1, 1))), "national_id"),  # other date
            (new_child(categories=["unicorn"]), "categories.0"),
            (new_child(grade=13), "grade"),
            (new_child(name=""), "name"),
        ):
            before = Child.objects.count()
            assert field in fields_of(send(client, "post", "/api/v1/children/", body)), body
            assert Child.objects.count() == before

    @pytest.mark.parametrize("username", ["mentor", "county_civil", "clinician", "admin"])
    def test_roles_that_do_not_register_children_get_403(self, username, login):
        response = send(login(username), "post", "/api/v1/children/", new_child())
        assert response.status_code == 403
        assert not Child.objects.filter(name="测试小明", created_by=user(username)).exists()


class TestReadingAndChangingAFile:
    def test_the_file_is_masked_by_role(self, login):
        number = make_id(born=date(2013, 1, 1), seq="741")
        child = child_in_scope_of("counselor", national_id=number, birth_date=date(2013, 1, 1))
        child_update(
            child=child,
            changes={"notes": CONFIDENTIAL, "notes_confidential": True},
            expected_version=child.version,
            by=user("counselor"),
        )
        CareTeamMemberFactory(child=child, user=user("mentor"))
        url = f"/api/v1/children/{child.pk}/"
        counselor = login("counselor").get(url).json()
        assert counselor["notes"] == CONFIDENTIAL
        assert counselor["national_id"] == number[:6] + "********" + number[-4:]
        mentor = login("mentor").get(url).json()
        assert mentor["notes"] and CONFIDENTIAL not in json.dumps(mentor, ensure_ascii=False)
        assert number not in json.dumps(mentor)
        director = child_in_scope_of("director_a", national_id=make_id(seq="742"))
        assert login("director_a").get(f"/api/v1/children/{director.pk}/").json()[
            "national_id"
        ] == make_id(seq="742")

    def test_an_update_needs_the_etag_of_the_file_as_read(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        url = f"/api/v1/children/{child.pk}/"
        etag = etag_of(client, url)
        missing = send(client, "patch", url, {"grade": 3})
        assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
        response = send(client, "patch", url, {"grade": 3, "class_name": "二班"}, etag)
        assert response.status_code == 200, response.content
        child.refresh_from_db()
        assert (child.grade, child.class_name) == (3, "二班")
        assert response["ETag"] == f'"{child.pk}-{child.version}"' != etag
        assert response.json()["version"] == child.version
        stale = send(client, "patch", url, {"grade": 4}, etag)
        assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
        child.refresh_from_db()
        assert child.grade == 3

    def test_an_update_is_checked_with_the_whole_file_by_the_edit_form(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        url = f"/api/v1/children/{child.pk}/"
        etag = etag_of(client, url)
        future = (timezone.localdate() + timedelta(days=1)).isoformat()
        for body, field in (
            # Both regions outside the area: the editor would lose sight of the child.
            (
                {"residence_region": FAR_VILLAGE, "household_region": FAR_VILLAGE},
                "residence_region",
            ),
            ({"birth_date": future}, "birth_date"),
            ({"grade": 0}, "grade"),
            ({"sex": "X"}, "sex"),
        ):
            assert field in fields_of(send(client, "patch", url, body, etag)), body
        moved = send(client, "patch", url, {"residence_region": VILLAGE_A2}, etag)
        assert moved.status_code == 200
        child.refresh_from_db()
        assert child.residence_region_id == VILLAGE_A2
        assert child.name.startswith("测试")  # the fields not given are kept

    def test_an_id_number_of_another_file_is_refused_and_the_own_one_kept(self, login):
        taken = make_id(born=date(2013, 6, 6), seq="743")
        ChildFactory(region=FAR_VILLAGE, national_id=taken, birth_date=date(2013, 6, 6))
        own = make_id(born=date(2013, 6, 6), seq="744")
        child = child_in_scope_of("director_a", national_id=own, birth_date=date(2013, 6, 6))
        client = login("director_a")
        url = f"/api/v1/children/{child.pk}/"
        etag = etag_of(client, url)
        assert "national_id" in fields_of(send(client, "patch", url, {"national_id": taken}, etag))
        same = send(client, "patch", url, {"national_id": own, "grade": 6}, etag)
        assert same.status_code == 200 and same.json()["national_id"] == own

    def test_confidential_notes_stay_as_they_are_for_roles_that_may_not_read_them(self, login):
        child = child_in_scope_of("director_a")
        child_update(
            child=child,
            changes={"notes": CONFIDENTIAL, "notes_confidential": True},
            expected_version=child.version,
            by=user("supervisor_town"),
        )
        client = login("director_a")
        url = f"/api/v1/children/{child.pk}/"
        etag = etag_of(client, url)
        refused = send(client, "patch", url, {"notes": "覆盖"}, etag)
        assert "notes" in fields_of(refused)
        assert send(client, "patch", url, {"grade": 5}, etag).status_code == 200
        child.refresh_from_db()
        assert child.notes == CONFIDENTIAL and child.notes_confidential and child.grade == 5

    def test_changing_needs_the_manage_level_and_the_permission(self, login):
        child = child_in_scope_of("director_a")
        url = f"/api/v1/children/{child.pk}/"
        # Read through the county (agency supervisor): 403 at any level of detail.
        civil = login("county_civil")
        assert send(civil, "patch", url, {"grade": 2}, etag_of(civil, url)).status_code == 403
        # The mentor on the care team contributes, but does not manage the file.
        CareTeamMemberFactory(child=child, user=user("mentor"))
        mentor = login("mentor")
        assert send(mentor, "patch", url, {"grade": 2}, etag_of(mentor, url)).status_code == 403
        # A share gives read only, even to a role that manages its own children.
        other = shared_with("director_a", ChildFactory(region=FAR_VILLAGE))
        client = login("director_a")
        other_url = f"/api/v1/children/{other.pk}/"
        assert (
            send(client, "patch", other_url, {"grade": 2}, etag_of(client, other_url)).status_code
            == 403
        )
        child.refresh_from_db()
        assert child.grade is None

    def test_closing_and_reopening_a_file(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        url = f"/api/v1/children/{child.pk}/"
        etag = etag_of(client, url)
        assert send(client, "post", f"{url}close/", {"reason": "迁出"}).status_code == 428
        assert "reason" in fields_of(send(client, "post", f"{url}close/", {}, etag))
        closed = send(client, "post", f"{url}close/", {"reason": "已满18周岁"}, etag)
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        child.refresh_from_db()
        assert child.status == Child.Status.CLOSED and child.status_reason == "已满18周岁"
        assert send(client, "post", f"{url}reopen/", {}, etag).status_code == 412
        reopened = send(client, "post", f"{url}reopen/", {}, closed["ETag"])
        assert reopened.status_code == 200
        child.refresh_from_db()
        assert child.status == Child.Status.ACTIVE

    def test_a_child_is_handed_over_through_the_pages_form_and_service(self, login):
        child = ChildFactory(residence_region_id=VILLAGE_A, household_region_id=VILLAGE_A2)
        client = login("director_a")
        url = f"/api/v1/children/{child.pk}/"
        etag = etag_of(client, url)
        body = {"to_region": VILLAGE_B, "reason": "随父母迁居"}
        assert send(client, "post", f"{url}handover/", body).status_code == 428
        # The page form's rules: not to where the child lives, not to an unknown region.
        same = send(client, "post", f"{url}handover/", {**body, "to_region": VILLAGE_A}, etag)
        assert "to_region" in fields_of(same)
        unknown = send(
            client, "post", f"{url}handover/", {**body, "to_region": "990101009009"}, etag
        )
        assert "to_region" in fields_of(unknown)
        assert "reason" in fields_of(
            send(client, "post", f"{url}handover/", {**body, "reason": ""}, etag)
        )
        moved = send(client, "post", f"{url}handover/", body, etag)
        assert moved.status_code == 201, moved.content
        assert moved.json()["to_region"] == VILLAGE_B and moved.json()["reason"] == "随父母迁居"
        child.refresh_from_db()
        assert child.residence_region_id == VILLAGE_B and child.handovers.count() == 1
        # The receiving child director is told; the sender no longer reaches the file.
        assert Notification.objects.filter(
            recipient__username="director_b", kind="handover", child=child
        ).exists()
        assert client.get(url).status_code == 404
        assert send(client, "post", f"{url}handover/", body, etag).status_code == 404

    def test_a_handover_on_an_outdated_file_is_refused(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        url = f"/api/v1/children/{child.pk}/"
        etag = etag_of(client, url)
        child_update(
            child=child, changes={"grade": 3}, expected_version=child.version, by=user("director_a")
        )
        body = {"to_region": VILLAGE_B, "reason": "随父母迁居"}
        assert send(client, "post", f"{url}handover/", body, etag).status_code == 412
        assert not child.handovers.exists()

    def test_handing_over_needs_the_permission(self, login):
        child = shared_with("county_civil", child_in_scope_of("director_a"))
        client = login("county_civil")
        url = f"/api/v1/children/{child.pk}/"
        body = {"to_region": VILLAGE_B, "reason": "随父母迁居"}
        assert (
            send(client, "post", f"{url}handover/", body, etag_of(client, url)).status_code == 403
        )
        assert not child.handovers.exists()

    def test_no_put_and_no_delete(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        url = f"/api/v1/children/{child.pk}/"
        etag = etag_of(client, url)
        assert send(client, "put", url, new_child(), etag).status_code == 405
        assert client.delete(url).status_code in (403, 405)
        assert Child.objects.filter(pk=child.pk).exists()


# ---------------------------------------------------------------------------------------------


class TestGuardians:
    def test_a_childs_guardians_are_listed_phones_masked_by_role_and_the_read_logged(self, login):
        child = child_in_scope_of("director_a")
        first = GuardianFactory(child=child)
        second = GuardianFactory(child=child, relation=Guardian.Relation.FATHER)
        GuardianFactory(child=child_in_scope_of("director_a"))  # another child's
        CareTeamMemberFactory(child=child, user=user("mentor"))
        director = login("director_a").get("/api/v1/guardians/", {"child": child.pk}).json()
        assert {row["id"] for row in director["results"]} == {first.pk, second.pk}
        assert {row["phone"] for row in director["results"]} == {first.phone, second.phone}
        before = AccessEvent.objects.filter(child=child, action=AccessEvent.Action.LIST).count()
        mentor = login("mentor").get("/api/v1/guardians/", {"child": child.pk}).json()
        assert {row["phone"] for row in mentor["results"]} == {
            mask_phone(first.phone),
            mask_phone(second.phone),
        }
        logged = AccessEvent.objects.filter(child=child, action=AccessEvent.Action.LIST)
        assert logged.count() == before + 1
        assert logged.order_by("-id")[0].detail == {"api": True, "listed": "guardians"}
        one = login("mentor").get(f"/api/v1/guardians/{first.pk}/")
        assert one.status_code == 200 and one.json()["phone"] == mask_phone(first.phone)

    def test_a_guardian_is_added_through_the_service(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        body = {
            "child": child.pk,
            "name": "测试妈妈",
            "relation": "mother",
            "phone": "000 1234-5678",
        }
        response = send(client, "post", "/api/v1/guardians/", body)
        assert response.status_code == 201, response.content
        guardian = Guardian.objects.get(pk=response.json()["id"])
        assert guardian.child == child and guardian.phone == "00012345678"
        assert guardian.is_primary_contact  # the first guardian is the contact
        assert guardian.created_by == user("director_a")
        father = send(
            client,
            "post",
            "/api/v1/guardians/",
            {
                "child": child.pk,
                "name": "测试爸爸",
                "relation": "father",
                "is_primary_contact": True,
            },
        )
        assert father.status_code == 201
        guardian.refresh_from_db()
        assert not guardian.is_primary_contact

    def test_the_guardian_form_rules_apply(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        base = {"child": child.pk, "name": "测试", "relation": "mother"}
        for extra, field in (
            ({"phone": "12ab"}, "phone"),
            ({"works_away": True}, "work_location"),
            ({"relation": "institution"}, "institution"),
            ({"relation": "uncle"}, "relation"),
            ({"child": "x"}, "child"),
        ):
            assert field in fields_of(send(client, "post", "/api/v1/guardians/", {**base, **extra}))
        assert not Guardian.objects.filter(child=child).exists()

    def test_adding_needs_the_permission_and_the_manage_level(self, login):
        child = child_in_scope_of("director_a")
        CareTeamMemberFactory(child=child, user=user("mentor"))
        body = {"child": child.pk, "name": "测试", "relation": "mother"}
        for username in ("mentor", "county_civil"):
            assert send(login(username), "post", "/api/v1/guardians/", body).status_code == 403
        shared = shared_with("director_a", ChildFactory(region=FAR_VILLAGE))
        response = send(
            login("director_a"), "post", "/api/v1/guardians/", {**body, "child": shared.pk}
        )
        assert response.status_code == 403
        assert not Guardian.objects.filter(child__in=[child, shared]).exists()

    def test_a_change_needs_if_match_and_keeps_what_was_not_sent(self, login):
        guardian = GuardianFactory(child=child_in_scope_of("director_a"), works_away=False)
        client = login("director_a")
        url = f"/api/v1/guardians/{guardian.pk}/"
        etag = etag_of(client, url)
        assert send(client, "patch", url, {"works_away": True}).status_code == 428
        assert "work_location" in fields_of(send(client, "patch", url, {"works_away": True}, etag))
        response = send(
            client, "patch", url, {"works_away": True, "work_location": "广东东莞"}, etag
        )
        assert response.status_code == 200, response.content
        guardian.refresh_from_db()
        assert guardian.works_away and guardian.work_location == "广东东莞"
        assert guardian.name.startswith("测试监护人") and guardian.version == 2
        assert send(client, "patch", url, {"name": "改名"}, etag).status_code == 412

    def test_a_removed_guardian_stays_on_file_as_former(self, login):
        guardian = GuardianFactory(child=child_in_scope_of("director_a"))
        client = login("director_a")
        url = f"/api/v1/guardians/{guardian.pk}/"
        response = send(client, "post", f"{url}deactivate/", {}, etag_of(client, url))
        assert response.status_code == 200 and response.json()["is_active"] is False
        guardian.refresh_from_db()
        assert not guardian.is_active and not guardian.is_primary_contact
        assert client.delete(url).status_code in (403, 405)
        assert Guardian.objects.filter(pk=guardian.pk).exists()


# ---------------------------------------------------------------------------------------------


class TestConsents:
    def test_consent_is_recorded_through_the_service(self, login):
        child = child_in_scope_of("director_a")
        guardian = GuardianFactory(child=child)
        body = {
            "child": child.pk,
            "purpose": "assessment",
            "guardian": guardian.pk,
            "given_on": timezone.localdate().isoformat(),
            "note": "电话同意",
        }
        response = send(login("director_a"), "post", "/api/v1/consents/", body)
        assert response.status_code == 201, response.content
        consent = Consent.objects.get(pk=response.json()["id"])
        assert consent.guardian == guardian and consent.recorded_by == user("director_a")
        assert response.json()["is_active"] is True
        assert has_consent(child=child, purpose=Consent.Purpose.ASSESSMENT)

    def test_the_consent_rules_apply(self, login):
        child = child_in_scope_of("director_a")  # 13: only a guardian consents
        guardian = GuardianFactory(child=child)
        elsewhere = GuardianFactory(child=child_in_scope_of("director_a"))
        client = login("director_a")
        today = timezone.localdate()
        base = {"child": child.pk, "purpose": "assessment", "guardian": guardian.pk}
        for extra, field in (
            ({"guardian": None}, "guardian"),  # the child, under 14
            ({"guardian": elsewhere.pk}, "guardian"),  # not this child's guardian
            ({"purpose": "sharing"}, "shared_with"),
            ({"given_on": (today + timedelta(days=1)).isoformat()}, "given_on"),
            ({"purpose": "forever"}, "purpose"),
        ):
            body = {"given_on": today.isoformat(), **base, **extra}
            assert field in fields_of(send(client, "post", "/api/v1/consents/", body)), extra
        sharing = send(
            client,
            "post",
            "/api/v1/consents/",
            {
                **base,
                "purpose": "sharing",
                "shared_with": agency().pk,
                "given_on": today.isoformat(),
            },
        )
        assert sharing.status_code == 201 and sharing.json()["shared_with"] == agency().pk
        assert Consent.objects.filter(child=child).count() == 1

    def test_a_withdrawal_stands_once_and_nothing_is_deleted(self, login):
        consent = ConsentFactory(child=child_in_scope_of("director_a"))
        client = login("director_a")
        url = f"/api/v1/consents/{consent.pk}/"
        assert "reason" in fields_of(send(client, "post", f"{url}withdraw/", {}))
        response = send(client, "post", f"{url}withdraw/", {"reason": "家长改变主意"})
        assert response.status_code == 200, response.content
        assert response.json()["is_active"] is False and response.json()["withdrawn_at"]
        again = send(client, "post", f"{url}withdraw/", {"reason": "再次"})
        assert again.status_code == 409 and again.json()["code"] == "conflict"
        consent.refresh_from_db()
        assert consent.withdrawal_reason == "家长改变主意"
        assert client.delete(url).status_code in (403, 405)
        assert send(client, "patch", url, {"note": "x"}).status_code in (403, 405)
        active = client.get("/api/v1/consents/", {"child": consent.child_id, "is_active": "true"})
        assert active.json()["results"] == []

    def test_recording_consent_needs_the_permission_and_the_manage_level(self, login):
        child = child_in_scope_of("director_a")
        guardian = GuardianFactory(child=child)
        CareTeamMemberFactory(child=child, user=user("mentor"))
        body = {
            "child": child.pk,
            "purpose": "assessment",
            "guardian": guardian.pk,
            "given_on": timezone.localdate().isoformat(),
        }
        assert send(login("mentor"), "post", "/api/v1/consents/", body).status_code == 403
        consent = ConsentFactory(child=child, guardian=guardian)
        withdraw = send(
            login("mentor"), "post", f"/api/v1/consents/{consent.pk}/withdraw/", {"reason": "x"}
        )
        assert withdraw.status_code == 403
        assert Consent.objects.filter(child=child).count() == 1


# ---------------------------------------------------------------------------------------------


class TestCareTeam:
    def test_a_staff_member_added_sees_the_child_until_removed(self, login):
        child = child_in_scope_of("director_a")
        volunteer = login("volunteer")
        assert volunteer.get(f"/api/v1/children/{child.pk}/").status_code == 404
        response = send(
            login("director_a"),
            "post",
            "/api/v1/care-team-members/",
            {"child": child.pk, "team_role": "volunteer", "username": "volunteer"},
        )
        assert response.status_code == 201, response.content
        member = CareTeamMember.objects.get(pk=response.json()["id"])
        assert member.user == user("volunteer") and member.is_active
        assert response.json()["user_name"] == str(user("volunteer"))
        assert volunteer.get(f"/api/v1/children/{child.pk}/").status_code == 200
        removed = send(
            login("director_a"), "post", f"/api/v1/care-team-members/{member.pk}/remove/"
        )
        assert removed.status_code == 200 and removed.json()["is_active"] is False
        member.refresh_from_db()
        assert not member.is_active and member.ended_on == timezone.localdate()
        assert volunteer.get(f"/api/v1/children/{child.pk}/").status_code == 404

    def test_the_care_team_form_rules_apply(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        for body, field in (
            ({"team_role": "mentor", "username": "nobody_at_all"}, "username"),
            ({"team_role": "mentor", "username": "auditor"}, "username"),  # no children's files
            ({"team_role": "peer_partner"}, "peer_name"),
            ({"team_role": "captain", "username": "mentor"}, "team_role"),
        ):
            response = send(
                client, "post", "/api/v1/care-team-members/", {"child": child.pk, **body}
            )
            assert field in fields_of(response), body
        peer = send(
            client,
            "post",
            "/api/v1/care-team-members/",
            {"child": child.pk, "team_role": "peer_partner", "peer_name": "测试伙伴"},
        )
        assert peer.status_code == 201 and peer.json()["user"] is None
        assert CareTeamMember.objects.filter(child=child).count() == 1

    def test_managing_the_team_needs_the_permission(self, login):
        child = child_in_scope_of("director_a")
        member = CareTeamMemberFactory(child=child, user=user("mentor"))
        mentor = login("mentor")
        body = {"child": child.pk, "team_role": "peer_partner", "peer_name": "测试"}
        assert send(mentor, "post", "/api/v1/care-team-members/", body).status_code == 403
        assert (
            send(mentor, "post", f"/api/v1/care-team-members/{member.pk}/remove/").status_code
            == 403
        )
        member.refresh_from_db()
        assert member.is_active


# ---------------------------------------------------------------------------------------------


def plan_body(child: Child, **extra: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "child": child.pk,
        "classification": "focused",
        "goals": "测试目标：情绪稳定",
        "interventions": ["counselling", "family_guidance"],
        "review_date": (today + timedelta(days=30)).isoformat(),
        **extra,
    }


class TestCarePlans:
    def test_a_new_plan_completes_the_active_one(self, login):
        child = child_in_scope_of("director_a")
        earlier = CarePlanFactory(child=child)
        response = send(
            login("director_a"),
            "post",
            "/api/v1/care-plans/",
            plan_body(child, replaces=earlier.pk),
        )
        assert response.status_code == 201, response.content
        plan = CarePlan.objects.get(pk=response.json()["id"])
        assert plan.status == CarePlan.Status.ACTIVE and plan.owner == user("director_a")
        assert plan.start_date == timezone.localdate()
        assert plan.interventions == ["counselling", "family_guidance"]
        earlier.refresh_from_db()
        assert earlier.status == CarePlan.Status.COMPLETED
        assert response["ETag"] and response.json()["reviews"] == []

    def test_a_plan_started_meanwhile_is_a_conflict(self, login):
        child = child_in_scope_of("director_a")
        CarePlanFactory(child=child)  # someone else's plan, started after the caller read
        response = send(
            login("director_a"), "post", "/api/v1/care-plans/", plan_body(child, replaces=0)
        )
        assert response.status_code == 409 and response.json()["code"] == "conflict"
        assert CarePlan.objects.filter(child=child).count() == 1

    def test_the_care_plan_form_rules_apply(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        today = timezone.localdate()
        for extra, field in (
            ({"review_date": (today - timedelta(days=1)).isoformat()}, "review_date"),
            ({"interventions": ["other"]}, "other_intervention"),
            ({"interventions": []}, "interventions"),
            ({"owner": user("director_b").pk}, "owner"),  # not on the child's team
            ({"classification": "vague"}, "classification"),
        ):
            assert field in fields_of(
                send(client, "post", "/api/v1/care-plans/", plan_body(child, **extra))
            )
        assert not CarePlan.objects.filter(child=child).exists()
        owned = send(
            client,
            "post",
            "/api/v1/care-plans/",
            plan_body(child, owner=CareTeamMemberFactory(child=child).user_id),
        )
        assert owned.status_code == 201

    def test_a_review_needs_the_plans_etag_and_can_end_the_plan(self, login):
        plan = CarePlanFactory(child=child_in_scope_of("director_a"))
        client = login("director_a")
        url = f"/api/v1/care-plans/{plan.pk}/"
        etag = etag_of(client, url)
        today = timezone.localdate()
        review = {
            "reviewed_on": today.isoformat(),
            "note": "情况好转",
            "next_review_date": (today + timedelta(days=60)).isoformat(),
            "new_status": "active",
        }
        assert send(client, "post", f"{url}review/", review).status_code == 428
        assert "next_review_date" in fields_of(
            send(client, "post", f"{url}review/", {**review, "next_review_date": None}, etag)
        )
        response = send(client, "post", f"{url}review/", review, etag)
        assert response.status_code == 200, response.content
        plan.refresh_from_db()
        assert plan.review_date == today + timedelta(days=60)
        assert [r["note"] for r in response.json()["reviews"]] == ["情况好转"]
        assert response["ETag"] != etag
        # A review based on the plan as it was before is refused, not applied over the first.
        stale = send(client, "post", f"{url}review/", {**review, "new_status": "completed"}, etag)
        assert stale.status_code == 412
        ended = send(
            client,
            "post",
            f"{url}review/",
            {**review, "new_status": "completed", "next_review_date": None},
            response["ETag"],
        )
        assert ended.status_code == 200 and ended.json()["status"] == "completed"

    def test_managing_plans_needs_the_permission(self, login):
        child = child_in_scope_of("director_a")
        plan = CarePlanFactory(child=child)
        CareTeamMemberFactory(child=child, user=user("mentor"))
        mentor = login("mentor")
        assert mentor.get(f"/api/v1/care-plans/{plan.pk}/").status_code == 200
        assert send(mentor, "post", "/api/v1/care-plans/", plan_body(child)).status_code == 403
        url = f"/api/v1/care-plans/{plan.pk}/review/"
        assert (
            send(
                mentor, "post", url, {}, etag_of(mentor, f"/api/v1/care-plans/{plan.pk}/")
            ).status_code
            == 403
        )
        assert CarePlan.objects.filter(child=child).count() == 1


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["guardians", "consents", "care-team-members", "care-plans", "children"]
)
def test_list_query_count_does_not_grow_with_page_size(path, login):
    for _ in range(4):
        child = child_in_scope_of("director_a")
        ConsentFactory(child=child)  # and its guardian
        CareTeamMemberFactory(child=child, peer=True)
        plan = CarePlanFactory(child=child)
        send(
            login("director_a"),
            "post",
            f"/api/v1/care-plans/{plan.pk}/review/",
            {
                "reviewed_on": timezone.localdate().isoformat(),
                "note": "测试",
                "new_status": "completed",
            },
            f'"{plan.pk}-active:{plan.review_date.isoformat()}"',
        )
    client = login("director_a")
    small = count_queries(client, f"/api/v1/{path}/?page_size=1")
    assert small == count_queries(client, f"/api/v1/{path}/?page_size=100")


@pytest.mark.parametrize("path", ["guardians", "consents", "care-team-members", "care-plans"])
def test_lists_hold_only_the_callers_children_and_filter_by_child(path, login):
    mine = child_in_scope_of("director_a")
    ConsentFactory(child=mine)
    CareTeamMemberFactory(child=mine, peer=True)
    CarePlanFactory(child=mine)
    client = login("director_a")
    rows = client.get(f"/api/v1/{path}/", {"child": mine.pk}).json()["results"]
    assert rows and {row["child"] for row in rows} == {mine.pk}
    bad = client.get(f"/api/v1/{path}/", {"child": "x"})
    assert "child" in fields_of(bad)
