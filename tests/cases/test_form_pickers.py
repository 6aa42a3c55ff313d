"""Forms without typing codes (issue 16): the child's regions are picked by name from the user's
area, care-team colleagues are picked by name among those who may be on the team, and consent
options fit the child's age. The server still refuses what the pickers do not offer."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Child
from institutions.roles import Role
from tests.demo import COUNTY, FAR_VILLAGE, TOWNSHIP_A, VILLAGE_A, VILLAGE_A2, VILLAGE_B, VILLAGES
from tests.factories import GuardianFactory
from tests.factories.institutions import UserFactory

pytestmark = pytest.mark.django_db


def new_child(**fields: str) -> dict[str, str]:
    return {"name": "测试童甲", "sex": "F", "birth_date": "2016-05-04", **fields}


def options_of(html: str, select_id: str) -> str:
    match = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S)
    assert match, f"no select {select_id}"
    return match.group(0)


class TestRegionPicker:
    def test_a_village_director_finds_her_village_chosen_by_name(self, login):
        page = login("director_a").get(reverse("cases:child_create")).content.decode()
        residence = options_of(page, "id_residence_region")
        assert re.search(
            rf'<option value="{VILLAGE_A}"[^>]*selected[^>]*>东岭村</option>', residence
        )
        assert '<optgroup label="青石镇">' in residence
        assert 'inputmode="numeric"' not in residence

    def test_a_township_supervisor_picks_among_the_villages_of_the_township(
        self, login, django_assert_max_num_queries
    ):
        client = login("supervisor_town")
        with django_assert_max_num_queries(20):
            page = client.get(reverse("cases:child_create")).content.decode()
        residence = options_of(page, "id_residence_region")
        for code, name in ((VILLAGE_A, "东岭村"), (VILLAGE_A2, "西岭村")):
            assert f'<option value="{code}">{name}</option>' in residence
        assert f'value="{TOWNSHIP_A}"' in residence
        assert "河口村" not in residence
        assert "selected" not in residence.split("</option>", 1)[1]  # nothing chosen for them

    def test_a_county_worker_picks_a_village_grouped_by_township(
        self, client, django_assert_max_num_queries
    ):
        worker = UserFactory(role=Role.SOCIAL_WORKER, jurisdiction=[COUNTY])
        client.force_login(worker)
        with django_assert_max_num_queries(20):
            page = client.get(reverse("cases:child_create")).content.decode()
        residence = options_of(page, "id_residence_region")
        groups = re.findall(r'<optgroup label="([^"]+)">', residence)
        assert groups == ["青石镇", "白水乡", "柳林乡"]
        assert residence.count('<option value="9901010') == len(VILLAGES) + len(groups)
        assert f'value="{COUNTY}"' not in residence

    def test_a_region_outside_the_area_is_refused_on_its_field_and_nothing_saved(self, login):
        client = login("director_a")
        response = client.post(
            reverse("cases:child_create"), new_child(residence_region=FAR_VILLAGE)
        )
        assert response.status_code == 200
        assert "residence_region" in response.context["form"].errors
        assert not Child.objects.filter(name="测试童甲").exists()

    def test_the_household_defaults_to_the_residence(self, login):
        client = login("director_a")
        response = client.post(reverse("cases:child_create"), new_child(residence_region=VILLAGE_A))
        assert response.status_code == 302
        child = Child.objects.get(name="测试童甲")
        assert child.household_region_id == VILLAGE_A

    def test_a_household_registered_elsewhere_is_found_by_name(self, login):
        client = login("director_a")
        found = client.get(reverse("cases:region_search"), {"household_search": "新庄"})
        picker = found.content.decode()
        assert re.search(rf'<option value="{FAR_VILLAGE}"[^>]*selected[^>]*>[^<]*新庄村', picker)
        assert 'id="id_household_region"' in picker
        response = client.post(
            reverse("cases:child_create"),
            new_child(residence_region=VILLAGE_A, household_region=FAR_VILLAGE),
        )
        assert response.status_code == 302
        child = Child.objects.get(name="测试童甲")
        assert (child.residence_region_id, child.household_region_id) == (VILLAGE_A, FAR_VILLAGE)

    def test_the_edit_form_keeps_the_current_regions_chosen(self, login, child_in_scope_of):
        child = child_in_scope_of("director_a")
        Child.objects.filter(pk=child.pk).update(household_region_id=FAR_VILLAGE)
        page = login("director_a").get(reverse("cases:child_edit", args=[child.pk]))
        html = page.content.decode()
        residence = options_of(html, "id_residence_region")
        household = options_of(html, "id_household_region")
        assert re.search(rf'<option value="{child.residence_region_id}"[^>]*selected', residence)
        assert re.search(rf'<option value="{FAR_VILLAGE}"[^>]*selected', household)

    def test_the_edit_forms_household_search_is_the_files_own(
        self, login, child_in_scope_of, child_out_of_scope_of
    ):
        """On the edit page the search answers for that file (whoever may edit it, registering
        children or not), keeping its current regions; another area's file answers 404."""
        child = child_in_scope_of("director_a")
        client = login("director_a")
        url = reverse("cases:child_region_search", args=[child.pk])
        page = client.get(reverse("cases:child_edit", args=[child.pk])).content.decode()
        assert f'hx-get="{url}"' in page
        found = client.get(url, {"household_search": "新庄"}).content.decode()
        assert re.search(rf'<option value="{FAR_VILLAGE}"[^>]*selected[^>]*>[^<]*新庄村', found)
        assert f'<option value="{child.household_region_id}"' in found
        other = child_out_of_scope_of("director_a")
        answer = client.get(
            reverse("cases:child_region_search", args=[other.pk]), {"household_search": "新庄"}
        )
        assert answer.status_code == 404

    def test_the_api_still_takes_region_codes(self, login):
        response = login("director_a").post(
            "/api/v1/children/",
            json.dumps(new_child(residence_region=VILLAGE_A)),
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        outside = login("director_a").post(
            "/api/v1/children/",
            json.dumps(new_child(name="测试童乙", residence_region=VILLAGE_B)),
            content_type="application/json",
        )
        assert outside.status_code == 400 and "residence_region" in outside.json()["fields"]


class TestColleaguePicker:
    def test_colleagues_of_the_childs_area_are_offered_by_name(self, login, child_in_scope_of):
        child = child_in_scope_of("director_a")
        page = login("director_a").get(reverse("cases:care_team_add", args=[child.pk]))
        team = options_of(page.content.decode(), "id_username")
        assert ">演示·成长导师</option>" in team  # the mentor of the county's middle school
        assert ">演示·东岭村儿童主任</option>" in team
        assert "演示·河口村儿童主任" not in team  # another village's director
        assert "auditor" not in team

    def test_someone_not_offered_cannot_be_added(self, login, child_in_scope_of):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        url = reverse("cases:care_team_add", args=[child.pk])
        for username in ("director_b", "auditor", "nobody_here"):
            response = client.post(url, {"team_role": "child_director", "username": username})
            assert "username" in response.context["form"].errors
        assert not child.care_team.exists()
        client.post(url, {"team_role": "mentor", "username": "mentor"})
        assert child.care_team.get().user.username == "mentor"

    def test_past_thirty_colleagues_they_are_found_by_name(self, login, child_in_scope_of):
        """A county's teachers and staff are not all written into the form: the select holds
        the chosen one, its search box finds the others by name among those who may join."""
        child = child_in_scope_of("director_a")
        for i in range(31):
            UserFactory(role=Role.MENTOR_TEACHER, display_name=f"演示·导师{i:02d}")
        client = login("director_a")
        page = client.get(reverse("cases:care_team_add", args=[child.pk])).content.decode()
        assert "data-option-search" in page
        assert re.findall(r'<option value="([^"]*)"', options_of(page, "id_username")) == [""]
        url = reverse("cases:care_team_colleagues", args=[child.pk])
        found = client.get(url, {"username_search": "导师0", "username": "mentor"})
        html = found.content.decode()
        assert html.startswith('<select name="username"')
        names = re.findall(r">(演示·[^<]+)</option>", html)
        assert sorted(names) == sorted(["演示·成长导师", *(f"演示·导师0{i}" for i in range(10))])
        assert '<option value="mentor" selected>' in html  # the chosen one stays offered
        nobody = client.get(url, {"username_search": "河口村"}).content.decode()
        assert "演示·河口村儿童主任" not in nobody  # another village's director is not offered
        # Choosing a found colleague adds them, as with the short list.
        chosen = re.search(r'<option value="([^"]+)">演示·导师07<', html)[1]
        client.post(
            reverse("cases:care_team_add", args=[child.pk]),
            {"team_role": "mentor", "username": chosen},
        )
        assert child.care_team.get().user.display_name == "演示·导师07"


class TestConsentByAge:
    def given_by_options(self, client, child: Child) -> str:
        page = client.get(reverse("cases:consent_add", args=[child.pk])).content.decode()
        return options_of(page, "id_given_by")

    @pytest.mark.parametrize(("age", "offered"), [(10, False), (13, False), (14, True)])
    def test_the_child_consents_only_from_14(self, login, child_in_scope_of, age, offered):
        today = timezone.localdate()
        child = child_in_scope_of("director_a", birth_date=date(today.year - age, 1, 1))
        GuardianFactory(child=child)
        options = self.given_by_options(login("director_a"), child)
        assert ('value="child"' in options) is offered
