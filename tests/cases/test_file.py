"""The child's file: registration with duplicate search, editing safely, closing, family, care."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import AccessRequest, CarePlan, Child, Consent, Guardian, RiskLevel
from cases.services.family import has_consent
from core.models import AccessEvent, Notification
from tests.cases.test_identity import make_id
from tests.conftest import user
from tests.demo import FAR_VILLAGE, VILLAGE_A, VILLAGE_A2, VILLAGE_B
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db


def child_form(**overrides):
    data = {
        "name": "测试小明",
        "sex": "M",
        "birth_date": "2015-05-05",
        "national_id": "",
        "residence_region": VILLAGE_A,
        "household_region": "",
        "categories": ["rural_left_behind"],
        "grade": "",
        "class_name": "",
        "notes": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_child(region: str = FAR_VILLAGE, household: str | None = None, **fields) -> Child:
    """A girl born 2013-03-03 named 远方孩子, in a village only the county roles see, unless
    said otherwise; registered by county_civil through the service (ChildFactory)."""
    fields.setdefault("name", "远方孩子")
    fields.setdefault("birth_date", date(2013, 3, 3))
    return ChildFactory(region=region, household=household, **fields)


class TestRegistration:
    def test_a_child_is_registered_with_protected_identity(self, login):
        client = login("director_a")
        number = make_id(born=date(2015, 5, 5))
        response = client.post("/children/new/", child_form(national_id=number))
        child = Child.objects.get(name="测试小明")
        assert response.status_code == 302
        assert response["Location"] == reverse("cases:child_detail", args=[child.pk])
        assert child.record_number.startswith("990101-")
        assert child.name_pinyin == "ceshixiaoming"
        assert child.national_id_hash and number not in child.national_id_encrypted
        assert child.national_id_masked == number[:6] + "********" + number[-4:]
        assert child.household_region_id == VILLAGE_A  # defaults to the residence
        assert child.created_by.username == "director_a"
        page = client.get(response["Location"]).content.decode()
        assert number in page  # a child director may see the whole number

    @pytest.mark.parametrize(
        ("overrides", "field", "words"),
        [
            (
                {
                    "national_id": make_id()[:-1] + "0"
                    if make_id()[-1] != "0"
                    else make_id()[:-1] + "1"
                },
                "national_id",
                "校验",
            ),
            (
                {"birth_date": (timezone.localdate() + timedelta(days=3)).isoformat()},
                "birth_date",
                "未来",
            ),
            ({"birth_date": "2000-01-01"}, "birth_date", "18"),
            ({"residence_region": "990101001009"}, "residence_region", "990101001009"),
            ({"residence_region": "990101"}, "residence_region", "990101"),
            ({"national_id": make_id(born=date(2014, 1, 1))}, "national_id", "2014-01-01"),
            ({"residence_region": FAR_VILLAGE}, "residence_region", "区域"),
            ({"name": "  "}, "name", ""),
        ],
    )
    def test_bad_input_is_refused_on_its_field_and_nothing_saved(
        self, login, overrides, field, words
    ):
        client = login("director_a")
        before = Child.objects.count()
        response = client.post("/children/new/", child_form(**overrides))
        assert response.status_code == 200
        form = response.context["form"]
        assert field in form.errors, form.errors
        assert words in " ".join(form.errors[field])
        assert Child.objects.count() == before

    def test_a_role_without_the_permission_cannot_register(self, login):
        assert login("county_civil").get("/children/new/").status_code == 403
        assert login("mentor").post("/children/new/", child_form()).status_code == 403


class TestDuplicateSearch:
    def test_a_match_in_another_region_is_shown_masked_with_a_way_to_ask(self, login):
        existing = make_child(name="張偉", birth_date=date(2012, 6, 1), sex="M")
        client = login("director_a")
        response = client.post(
            "/children/new/", child_form(name="张伟", birth_date="2012-06-01", sex="M")
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="duplicates"' in html
        assert "張*" in html  # masked name
        assert "2012" in html and "990101" in html  # birth year and county
        # Never the file: not the full name, not the record number, not a link to it.
        assert "張偉" not in html
        assert existing.record_number not in html
        assert reverse("cases:child_detail", args=[existing.pk]) not in html
        assert "request-access/?token=" in html
        assert Child.objects.filter(name="张伟").count() == 0

    def test_pinyin_spelling_finds_the_same_child(self, login):
        make_child(name="王小雨", birth_date=date(2011, 1, 2))
        response = login("director_a").post(
            "/children/new/", child_form(name="Wang Xiaoyu", birth_date="2011-01-02", sex="F")
        )
        assert 'data-testid="duplicates"' in response.content.decode()

    def test_the_user_can_still_register_a_different_child(self, login):
        make_child(name="李雷", birth_date=date(2012, 6, 1), sex="M")
        client = login("director_a")
        client.post("/children/new/", child_form(name="李雷", birth_date="2012-06-01"))
        assert Child.objects.filter(name="李雷").count() == 1
        response = client.post(
            "/children/new/", child_form(name="李雷", birth_date="2012-06-01", confirm_new="1")
        )
        assert response.status_code == 302
        assert Child.objects.filter(name="李雷").count() == 2

    def test_the_same_id_number_is_refused_even_when_confirmed(self, login):
        number = make_id(region="990101", born=date(2013, 3, 3), seq="555")
        make_child(national_id=number)
        client = login("director_a")
        before = Child.objects.count()
        response = client.post(
            "/children/new/",
            child_form(
                name="另一个名字", birth_date="2013-03-03", national_id=number, confirm_new="1"
            ),
        )
        assert "national_id" in response.context["form"].errors
        assert Child.objects.count() == before

    def test_in_scope_matches_link_to_the_file(self, login):
        mine = make_child(region=VILLAGE_A, name="赵一", birth_date=date(2014, 4, 4))
        html = (
            login("director_a")
            .post("/children/new/", child_form(name="赵一", birth_date="2014-04-04", sex="F"))
            .content.decode()
        )
        assert reverse("cases:child_detail", args=[mine.pk]) in html

    def test_live_check_answers_with_the_candidates(self, login):
        make_child(name="钱二", birth_date=date(2014, 4, 4))
        html = (
            login("director_a")
            .post("/children/new/duplicates/", {"name": "钱二", "birth_date": "2014-04-04"})
            .content.decode()
        )
        assert 'data-testid="masked-candidate"' in html and "钱*" in html


def tokens_shown(response) -> dict[int, str]:
    """The opaque tokens the duplicate search gave for matches outside the user's scope."""
    return {c.child.pk: c.token for c in response.context["candidates"] if not c.in_scope}


class TestAccessRequests:
    def _token_for(self, client, child_name, birth):
        response = client.post("/children/new/", child_form(name=child_name, birth_date=birth))
        return tokens_shown(response)

    def test_asking_for_access_reaches_the_owner_who_can_grant_it(self, login):
        child = make_child(region=VILLAGE_B, name="孙三", birth_date=date(2012, 2, 2))
        asker = login("director_a")
        token = self._token_for(asker, "孙三", "2012-02-02")[child.pk]
        assert asker.get(reverse("cases:child_detail", args=[child.pk])).status_code == 404
        response = asker.post(
            "/children/request-access/", {"token": token, "reason": "孩子已搬到本村"}
        )
        assert response.status_code == 302
        request = AccessRequest.objects.get(child=child)
        assert Notification.objects.filter(
            recipient__username="director_b", kind="access_request"
        ).exists()

        owner = login("director_b")
        assert "孙三" in owner.get("/children/access-requests/").content.decode()
        owner.post("/children/access-requests/", {"request": request.pk, "approve": "yes"})
        assert asker.get(reverse("cases:child_detail", args=[child.pk])).status_code == 200
        assert Notification.objects.filter(
            recipient__username="director_a", kind="access_request_approved", child=child
        ).exists()

    def test_a_forged_or_borrowed_token_is_404(self, login):
        child = make_child(region=VILLAGE_B, name="周四", birth_date=date(2012, 2, 2))
        token = self._token_for(login("director_a"), "周四", "2012-02-02")[child.pk]
        other = login("counselor")
        assert (
            other.post("/children/request-access/", {"token": token, "reason": "x"}).status_code
            == 404
        )
        assert other.get("/children/request-access/?token=forged").status_code == 404

    def test_someone_outside_the_owning_region_cannot_decide(self, login):
        child = make_child(region=VILLAGE_B, name="吴五", birth_date=date(2012, 2, 2))
        token = self._token_for(login("director_a"), "吴五", "2012-02-02")[child.pk]
        login("director_a").post("/children/request-access/", {"token": token, "reason": "x"})
        request = AccessRequest.objects.get(child=child)
        response = login("director_a").post(
            "/children/access-requests/", {"request": request.pk, "approve": "yes"}
        )
        assert response.status_code == 404
        request.refresh_from_db()
        assert request.status == AccessRequest.Status.PENDING


class TestEditing:
    def _form_from(self, client, child):
        form = client.get(reverse("cases:child_edit", args=[child.pk])).context["form"]
        data = {}
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if value is None:
                continue
            if isinstance(value, list):
                data[name] = value
            elif hasattr(value, "isoformat"):
                data[name] = value.isoformat()
            elif isinstance(value, bool):
                if value:
                    data[name] = "on"
            else:
                data[name] = str(value)
        return data

    def test_the_second_of_two_simultaneous_edits_is_refused_and_the_first_kept(self, login):
        child = make_child(region=VILLAGE_A, name="郑六")
        first, second = login("director_a"), login("supervisor_town")
        first_data = self._form_from(first, child)
        second_data = self._form_from(second, child)
        first_data["class_name"] = "三年级一班"
        assert (
            first.post(reverse("cases:child_edit", args=[child.pk]), first_data).status_code == 302
        )
        second_data["notes"] = "第二个人的修改"
        response = second.post(reverse("cases:child_edit", args=[child.pk]), second_data)
        assert response.status_code == 409
        assert 'data-testid="edit-conflict"' in response.content.decode()
        child.refresh_from_db()
        assert child.class_name == "三年级一班"
        assert child.notes == ""
        assert child.version == 2

    def test_editing_to_another_files_id_number_is_refused_on_the_field(self, login):
        """The database's unique key used to refuse this save with a server error."""
        number = make_id(born=date(2015, 6, 1))
        make_child(region=VILLAGE_A, name="褚十", national_id=number, birth_date=date(2015, 6, 1))
        child = make_child(region=VILLAGE_A, name="卫十一", birth_date=date(2015, 6, 1))
        client = login("director_a")
        data = {**self._form_from(client, child), "national_id": number}
        response = client.post(reverse("cases:child_edit", args=[child.pk]), data)
        assert response.status_code == 200
        assert "national_id" in response.context["form"].errors
        child.refresh_from_db()
        assert child.national_id_hash is None and child.version == 1

    def test_an_edit_is_in_the_change_history_with_who_made_it(self, login):
        child = make_child(region=VILLAGE_A, name="冯七")
        client = login("director_a")
        data = self._form_from(client, child)
        data["name"] = "冯小七"
        client.post(reverse("cases:child_edit", args=[child.pk]), data)
        html = client.get(reverse("cases:child_history", args=[child.pk])).content.decode()
        assert "冯七" in html and "冯小七" in html
        assert "演示·东岭村儿童主任" in html
        assert AccessEvent.objects.filter(
            child=child, action="change", user__username="director_a"
        ).exists()

    def test_closing_needs_a_reason_and_deletes_nothing(self, login):
        child = make_child(region=VILLAGE_A, name="陈八")
        client = login("director_a")
        url = reverse("cases:child_close", args=[child.pk])
        response = client.post(url, {"version": child.version, "reason": ""})
        assert "reason" in response.context["form"].errors
        client.post(url, {"version": child.version, "reason": "已满18周岁"})
        child.refresh_from_db()
        assert child.status == Child.Status.CLOSED and child.status_reason == "已满18周岁"
        assert client.get(reverse("cases:child_detail", args=[child.pk])).status_code == 200
        client.post(url, {"version": child.version, "reopen": "1"})
        child.refresh_from_db()
        assert child.status == Child.Status.ACTIVE

    def test_the_api_offers_no_way_to_delete(self, login):
        child = make_child(region=VILLAGE_A)
        response = login("director_a").delete(f"/api/v1/children/{child.pk}/")
        assert response.status_code in (403, 405)
        assert Child.objects.filter(pk=child.pk).exists()


class TestFamily:
    def test_guardians_are_added_and_the_first_is_the_primary_contact(self, login):
        child = make_child(region=VILLAGE_A)
        client = login("director_a")
        url = reverse("cases:guardian_add", args=[child.pk])
        client.post(
            url,
            {
                "name": "爷爷",
                "relation": "grandparent",
                "phone": "13800000000",
                "lives_with_child": "on",
            },
        )
        client.post(
            url,
            {
                "name": "妈妈",
                "relation": "mother",
                "phone": "13900000000",
                "works_away": "on",
                "work_location": "广东东莞",
            },
        )
        grandpa, mother = Guardian.objects.filter(child=child).order_by("id")
        assert grandpa.is_primary_contact and not mother.is_primary_contact
        assert mother.works_away and mother.work_location == "广东东莞"
        client.post(url, {"name": "爸爸", "relation": "father", "is_primary_contact": "on"})
        assert list(
            Guardian.objects.filter(child=child, is_primary_contact=True).values_list(
                "name", flat=True
            )
        ) == ["爸爸"]
        html = client.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
        assert "广东东莞" in html

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"name": "x", "relation": "mother", "phone": "12ab"}, "phone"),
            ({"name": "x", "relation": "mother", "works_away": "on"}, "work_location"),
            ({"name": "", "relation": "mother"}, "name"),
        ],
    )
    def test_bad_guardian_input_is_refused(self, login, data, field):
        child = make_child(region=VILLAGE_A)
        response = login("director_a").post(reverse("cases:guardian_add", args=[child.pk]), data)
        assert field in response.context["form"].errors
        assert not Guardian.objects.filter(child=child).exists()

    def test_a_former_guardian_stays_on_record(self, login):
        child = make_child(region=VILLAGE_A)
        client = login("director_a")
        client.post(
            reverse("cases:guardian_add", args=[child.pk]), {"name": "舅舅", "relation": "relative"}
        )
        guardian = Guardian.objects.get(child=child)
        client.post(reverse("cases:guardian_edit", args=[guardian.pk]), {"remove": "1"})
        guardian.refresh_from_db()
        assert not guardian.is_active

    def test_a_child_under_14_cannot_consent_alone(self, login):
        child = make_child(
            region=VILLAGE_A,
            birth_date=timezone.localdate().replace(year=timezone.localdate().year - 10),
        )
        client = login("director_a")
        response = client.post(
            reverse("cases:consent_add", args=[child.pk]),
            {
                "purpose": "assessment",
                "given_by": "child",
                "given_on": timezone.localdate().isoformat(),
            },
        )
        assert "given_by" in response.context["form"].errors
        assert not Consent.objects.filter(child=child).exists()

    def test_a_child_of_14_can_consent_and_a_guardian_always_can(self, login):
        today = timezone.localdate()
        teen = make_child(region=VILLAGE_A, birth_date=date(today.year - 15, 1, 1))
        client = login("director_a")
        client.post(
            reverse("cases:consent_add", args=[teen.pk]),
            {"purpose": "assessment", "given_by": "child", "given_on": today.isoformat()},
        )
        assert has_consent(child=teen, purpose="assessment")
        client.post(
            reverse("cases:guardian_add", args=[teen.pk]),
            {"name": "奶奶", "relation": "grandparent"},
        )
        guardian = Guardian.objects.get(child=teen)
        client.post(
            reverse("cases:consent_add", args=[teen.pk]),
            {"purpose": "referral", "given_by": str(guardian.pk), "given_on": today.isoformat()},
        )
        consent = Consent.objects.get(child=teen, purpose="referral")
        assert consent.guardian == guardian and consent.recorded_by.username == "director_a"

    def test_sharing_consent_names_the_agency_and_can_be_withdrawn(self, login):
        today = timezone.localdate()
        child = make_child(region=VILLAGE_A, birth_date=date(today.year - 15, 1, 1))
        client = login("director_a")
        url = reverse("cases:consent_add", args=[child.pk])
        response = client.post(
            url, {"purpose": "sharing", "given_by": "child", "given_on": today.isoformat()}
        )
        assert "shared_with" in response.context["form"].errors
        future = client.post(
            url,
            {
                "purpose": "assessment",
                "given_by": "child",
                "given_on": (today + timedelta(days=1)).isoformat(),
            },
        )
        assert "given_on" in future.context["form"].errors
        from institutions.models import Agency

        health = Agency.objects.get(kind="health")
        client.post(
            url,
            {
                "purpose": "sharing",
                "given_by": "child",
                "given_on": today.isoformat(),
                "shared_with": health.pk,
            },
        )
        consent = Consent.objects.get(child=child, purpose="sharing")
        assert has_consent(child=child, purpose="sharing", agency=health)
        client.post(reverse("cases:consent_withdraw", args=[consent.pk]), {"reason": "监护人撤回"})
        consent.refresh_from_db()
        assert consent.withdrawn_at is not None and consent.withdrawal_reason == "监护人撤回"
        assert not has_consent(child=child, purpose="sharing", agency=health)


class TestCareTeamAndPlan:
    def test_adding_a_mentor_grants_access_and_removing_takes_it_away(self, login):
        child = make_child(region=VILLAGE_A, name="褚九")
        mentor = login("mentor")
        file_url = reverse("cases:child_detail", args=[child.pk])
        assert mentor.get(file_url).status_code == 404
        director = login("director_a")
        director.post(
            reverse("cases:care_team_add", args=[child.pk]),
            {"team_role": "mentor", "username": "mentor"},
        )
        assert mentor.get(file_url).status_code == 200
        assert Notification.objects.filter(
            recipient__username="mentor", kind="care_team_added"
        ).exists()
        member = child.care_team.get(user__username="mentor")
        director.post(reverse("cases:care_team_remove", args=[member.pk]))
        assert mentor.get(file_url).status_code == 404
        member.refresh_from_db()
        assert not member.is_active and member.ended_on is not None

    def test_peer_partners_are_names_only(self, login):
        child = make_child(region=VILLAGE_A)
        client = login("director_a")
        url = reverse("cases:care_team_add", args=[child.pk])
        response = client.post(url, {"team_role": "peer_partner", "peer_name": ""})
        assert "peer_name" in response.context["form"].errors
        client.post(url, {"team_role": "peer_partner", "peer_name": "小红"})
        assert child.care_team.get(team_role="peer_partner").peer_name == "小红"
        bad = client.post(url, {"team_role": "mentor", "username": "nobody_here"})
        assert "username" in bad.context["form"].errors

    def test_a_high_risk_child_without_an_active_plan_is_flagged(self, login):
        child = make_child(region=VILLAGE_A)
        Child.objects.filter(pk=child.pk).update(risk_level=RiskLevel.HIGH)
        client = login("director_a")
        file_url = reverse("cases:child_detail", args=[child.pk])
        assert 'data-testid="needs-plan-flag"' in client.get(file_url).content.decode()
        flagged = list(client.get("/children/?needs_plan=on").context["children"])
        assert child.pk in [c.pk for c in flagged]
        assert all(c.risk_level >= RiskLevel.HIGH and not c.has_active_plan for c in flagged)
        today = timezone.localdate()
        plan_url = reverse("cases:care_plan_add", args=[child.pk])
        bad = client.post(
            plan_url,
            {
                "classification": "focused",
                "goals": "稳定情绪",
                "interventions": ["counselling"],
                "owner": user("director_a").pk,
                "start_date": today.isoformat(),
                "review_date": (today - timedelta(days=1)).isoformat(),
            },
        )
        assert "review_date" in bad.context["form"].errors
        client.post(
            plan_url,
            {
                "classification": "focused",
                "goals": "稳定情绪",
                "interventions": ["counselling", "family_guidance"],
                "owner": user("director_a").pk,
                "start_date": today.isoformat(),
                "review_date": (today + timedelta(days=30)).isoformat(),
            },
        )
        plan = CarePlan.objects.get(child=child)
        assert plan.status == CarePlan.Status.ACTIVE
        assert 'data-testid="needs-plan-flag"' not in client.get(file_url).content.decode()
        client.post(
            reverse("cases:care_plan_review", args=[plan.pk]),
            {
                "reviewed_on": today.isoformat(),
                "note": "情绪好转",
                "new_status": "active",
                "next_review_date": (today + timedelta(days=60)).isoformat(),
                "plan_state": f"active:{plan.review_date.isoformat()}",
            },
        )
        plan.refresh_from_db()
        assert plan.review_date == today + timedelta(days=60)
        assert plan.reviews.get().note == "情绪好转"

    def test_agency_supervisors_read_but_do_not_write_the_file(self, login):
        child = make_child(region=VILLAGE_A)
        client = login("county_civil")
        assert client.get(reverse("cases:child_detail", args=[child.pk])).status_code == 200
        for name in (
            "guardian_add",
            "care_team_add",
            "care_plan_add",
            "child_edit",
            "child_handover",
        ):
            assert client.get(reverse(f"cases:{name}", args=[child.pk])).status_code == 403, name


class TestHandover:
    def test_a_move_hands_the_child_over_with_history_and_keeps_the_senders_view(self, login):
        # Registered in another village of the township, so that only the residence ties the
        # child to director_a (a household region in scope would keep the child visible).
        child = make_child(region=VILLAGE_A, household=VILLAGE_A2, name="卫十")
        sender = login("director_a")
        sender.post(
            reverse("cases:guardian_add", args=[child.pk]),
            {"name": "外婆", "relation": "grandparent"},
        )
        sender.post(
            reverse("cases:care_team_add", args=[child.pk]),
            {"team_role": "child_director", "username": "director_a"},
        )
        response = sender.post(
            reverse("cases:child_handover", args=[child.pk]),
            {"to_region": VILLAGE_B, "reason": "随父母迁居", "version": child.version},
        )
        assert response.status_code == 302
        child.refresh_from_db()
        assert child.residence_region_id == VILLAGE_B
        # The receiving child director is told and now holds the file, with its history.
        assert Notification.objects.filter(
            recipient__username="director_b", kind="handover", child=child
        ).exists()
        receiver = login("director_b")
        page = receiver.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
        assert "外婆" in page and "随父母迁居" in page
        # The sending side no longer opens the file...
        assert sender.get(reverse("cases:child_detail", args=[child.pk])).status_code == 404
        assert not child.care_team.filter(user__username="director_a", is_active=True).exists()
        # ...but sees what it wrote up to the hand-over, and nothing newer.
        receiver_data = TestEditing()._form_from(receiver, child)
        receiver_data["name"] = "卫十一"
        receiver.post(reverse("cases:child_edit", args=[child.pk]), receiver_data)
        handover = child.handovers.get()
        assert str(handover.pk) in sender.get("/children/handed-over/").content.decode()
        snapshot = sender.get(reverse("cases:handover_detail", args=[handover.pk])).content.decode()
        assert "卫十" in snapshot and "卫十一" not in snapshot and "外婆" in snapshot
        # Someone who never held the child does not see the hand-over.
        assert (
            login("counselor").get(reverse("cases:handover_detail", args=[handover.pk])).status_code
            == 404
        )

    def test_handing_over_to_the_same_place_or_an_unknown_region_is_refused(self, login):
        child = make_child(region=VILLAGE_A)
        client = login("director_a")
        url = reverse("cases:child_handover", args=[child.pk])
        same = client.post(url, {"to_region": VILLAGE_A, "reason": "x"})
        assert "to_region" in same.context["form"].errors
        unknown = client.post(url, {"to_region": "990101009009", "reason": "x"})
        assert "to_region" in unknown.context["form"].errors
        child.refresh_from_db()
        assert child.residence_region_id == VILLAGE_A and not child.handovers.exists()


class TestLists:
    def test_filters_narrow_the_list(self, login):
        client = login("county_civil")
        school = Child.objects.filter(school__isnull=False).first().school
        for params, check in [
            (
                {"region": "990101002"},
                lambda c: (
                    c.residence_region_id.startswith("990101002")
                    or c.household_region_id.startswith("990101002")
                ),
            ),
            ({"school": school.pk}, lambda c: c.school_id == school.pk),
            ({"status": "active"}, lambda c: c.status == "active"),
        ]:
            response = client.get("/children/", params)
            children = list(response.context["children"])
            assert children, params
            assert all(check(c) for c in children), params

    def test_category_and_risk_filters(self, login):
        child = make_child(region=VILLAGE_A, categories=["orphan", "disability"])
        Child.objects.filter(pk=child.pk).update(risk_level=RiskLevel.MODERATE)
        client = login("director_a")
        found = list(client.get("/children/", {"category": "orphan"}).context["children"])
        assert child.pk in [c.pk for c in found]
        assert all("orphan" in c.categories for c in found)
        found = list(client.get("/children/", {"risk": "2"}).context["children"])
        assert child.pk in [c.pk for c in found]
        assert all(c.risk_level == RiskLevel.MODERATE for c in found)

    def test_search_by_id_number_and_pinyin(self, login):
        number = make_id(born=date(2013, 3, 3), seq="777")
        child = make_child(region=VILLAGE_A, name="蒋十二", national_id=number)
        client = login("director_a")
        assert [c.pk for c in client.get("/children/", {"q": number}).context["children"]] == [
            child.pk
        ]
        assert child.pk in [
            c.pk for c in client.get("/children/", {"q": "jiang"}).context["children"]
        ]

    def test_a_bad_filter_value_is_explained_and_lists_nothing(self, login):
        response = login("director_a").get("/children/", {"region": "99x"})
        assert "region" in response.context["filter"].errors
        assert list(response.context["children"]) == []

    def test_sorting_by_name_is_stable_across_pages(self, login):
        client = login("county_civil")
        seen = []
        for page in (1, 2, 3):
            seen += [
                c.pk
                for c in client.get("/children/", {"sort": "name", "page": page}).context[
                    "children"
                ]
            ]
        assert len(seen) == len(set(seen)) == 75


class TestApi:
    def test_the_api_lists_with_the_same_filters_and_refuses_bad_ones(self, login):
        child = make_child(region=VILLAGE_A, categories=["migrant"])
        client = login("director_a")
        rows = client.get("/api/v1/children/", {"category": "migrant", "page_size": 100}).json()
        rows = rows["results"]
        assert child.pk in [r["id"] for r in rows]
        assert all("migrant" in r["categories"] for r in rows)
        mine = next(r for r in rows if r["id"] == child.pk)
        assert mine["categories"] == ["migrant"] and mine["version"] == 1
        bad = client.get("/api/v1/children/", {"region": "99x"})
        assert bad.status_code == 400 and "region" in bad.json()["fields"]
