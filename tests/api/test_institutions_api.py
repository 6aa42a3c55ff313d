"""Regions, institutions and venues through the API: read only, for every verified staff member
(administrators included), with the pages' filters and a fixed number of queries per list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import AccessEvent
from institutions.models import Institution, Region
from tests.demo import (
    CHILDRENS_HOME,
    COUNTY,
    HOSPITAL,
    MIDDLE_SCHOOL,
    SOCIAL_PSYCH,
    TOWNSHIP_A,
    VILLAGE_A,
    WELFARE,
)
from tests.factories import InstitutionFactory, institution

pytestmark = pytest.mark.django_db

EVERYONE = ["director_a", "volunteer", "clinician", "county_women", "admin", "auditor"]


def rows(client, url: str, **params) -> list[dict]:
    response = client.get(url, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


class TestRegions:
    def test_every_staff_member_reads_the_tree_and_nobody_else(self, login):
        for username in EVERYONE:
            codes = {row["code"] for row in rows(login(username), "/api/v1/regions/")}
            assert {COUNTY, TOWNSHIP_A, VILLAGE_A} <= codes, username
        anonymous = Client().get("/api/v1/regions/")
        assert anonymous.status_code in (401, 403)
        assert anonymous.json()["code"] in ("not_authenticated", "authentication_failed")

    def test_filters_by_parent_level_and_code_prefix(self, login):
        client = login("director_a")
        under_town = rows(client, "/api/v1/regions/", parent=TOWNSHIP_A)
        assert under_town and all(row["parent"] == TOWNSHIP_A for row in under_town)
        assert VILLAGE_A in {row["code"] for row in under_town}
        villages = rows(client, "/api/v1/regions/", level=Region.Level.VILLAGE)
        assert villages and all(len(row["code"]) == 12 for row in villages)
        county = rows(client, "/api/v1/regions/", prefix=COUNTY)
        assert {row["code"] for row in county} == set(
            Region.objects.filter(code__startswith=COUNTY).values_list("code", flat=True)
        )

    def test_the_list_is_ordered_by_code_and_pages_by_cursor(self, login):
        client = login("director_a")
        first = client.get("/api/v1/regions/", {"page_size": 3}).json()
        second = client.get(first["next"]).json()
        codes = [row["code"] for row in first["results"] + second["results"]]
        assert codes == sorted(codes) and len(set(codes)) == 6

    def test_one_region_by_its_code(self, login):
        client = login("admin")
        response = client.get(f"/api/v1/regions/{VILLAGE_A}/")
        assert response.status_code == 200
        assert response.json() == {
            "code": VILLAGE_A,
            "name": Region.objects.get(code=VILLAGE_A).name,
            "level": Region.Level.VILLAGE,
            "parent": TOWNSHIP_A,
        }
        missing = client.get("/api/v1/regions/990199/")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        assert client.get("/api/v1/regions/abc/").status_code == 404

    def test_bad_filters_are_400_naming_the_parameter(self, login):
        client = login("director_a")
        for params, field in (
            ({"level": "9"}, "level"),
            ({"parent": "12345"}, "parent"),
            ({"prefix": "99x"}, "prefix"),
        ):
            response = client.get("/api/v1/regions/", params)
            assert response.status_code == 400, params
            assert field in response.json()["fields"]

    def test_reading_regions_writes_nothing_and_nothing_can_be_written(self, login):
        client = login("admin")  # even the administrator who edits regions in the admin site
        before = AccessEvent.objects.count()
        rows(client, "/api/v1/regions/")
        assert AccessEvent.objects.count() == before
        post = client.post(
            "/api/v1/regions/", {"code": "98", "name": "x"}, content_type="application/json"
        )
        assert post.status_code in (403, 405)
        assert not Region.objects.filter(code="98").exists()

    def test_query_count_does_not_grow_with_page_size(self, login):
        client = login("director_a")
        assert count_queries(client, "/api/v1/regions/?page_size=2") == count_queries(
            client, "/api/v1/regions/?page_size=100"
        )


class TestInstitutions:
    def test_every_institution_is_listed_with_its_region_and_agency(self, login):
        school = InstitutionFactory(services=[], name="测试无服务学校（演示）")
        closed = InstitutionFactory(is_active=False, name="测试已撤销机构（演示）")
        for username in ("director_a", "auditor"):
            listed = {row["name"]: row for row in rows(login(username), "/api/v1/institutions/")}
            assert {MIDDLE_SCHOOL, WELFARE, HOSPITAL, school.name, closed.name} <= set(listed)
        row = listed[HOSPITAL]
        hospital = institution(HOSPITAL)
        assert row["kind"] == "hospital" and row["region"] == COUNTY
        assert row["region_name"] == hospital.region.name
        assert row["supervising_agency_name"] == hospital.supervising_agency.name
        assert set(row["services"]) == set(hospital.services)
        assert listed[closed.name]["is_active"] is False

    def test_filters_by_kind_service_region_and_activity(self, login):
        client = login("director_a")
        closed = InstitutionFactory(is_active=False)
        schools = {row["name"] for row in rows(client, "/api/v1/institutions/", kind="school")}
        assert {MIDDLE_SCHOOL} <= schools and HOSPITAL not in schools
        clinics = rows(client, "/api/v1/institutions/", service="psychiatric_clinic")
        assert {row["name"] for row in clinics} == {HOSPITAL}
        township = {row["name"] for row in rows(client, "/api/v1/institutions/", region=TOWNSHIP_A)}
        assert MIDDLE_SCHOOL in township and HOSPITAL not in township
        active = {row["id"] for row in rows(client, "/api/v1/institutions/", is_active="true")}
        assert closed.pk not in active and institution(HOSPITAL).pk in active

    def test_bad_filters_are_400(self, login):
        client = login("director_a")
        for params, field in (
            ({"kind": "castle"}, "kind"),
            ({"service": "magic"}, "service"),
            ({"region": "99x"}, "region"),
        ):
            response = client.get("/api/v1/institutions/", params)
            assert response.status_code == 400, params
            assert field in response.json()["fields"]

    def test_one_institution_even_one_that_is_no_venue(self, login):
        school = InstitutionFactory(services=[], kind=Institution.Kind.SCHOOL)
        client = login("volunteer")
        response = client.get(f"/api/v1/institutions/{school.pk}/")
        assert response.status_code == 200 and response.json()["name"] == school.name
        assert client.get("/api/v1/institutions/999999999/").status_code == 404
        for bad in ("x", "-1", "1.5", "9" * 25):
            assert client.get(f"/api/v1/institutions/{bad}/").status_code == 404, bad
            assert client.get(f"/api/v1/venues/{bad}/").status_code == 404, bad

    def test_query_count_does_not_grow_with_page_size(self, login):
        client = login("county_civil")
        assert count_queries(client, "/api/v1/institutions/?page_size=2") == count_queries(
            client, "/api/v1/institutions/?page_size=100"
        )


class TestVenues:
    def test_the_directory_as_on_the_venue_page(self, login):
        not_a_venue = InstitutionFactory(services=[], kind=Institution.Kind.SCHOOL)
        closed = InstitutionFactory(kind=Institution.Kind.CHILDRENS_HOME, is_active=False)
        client = login("clinician")
        listed = {row["name"] for row in rows(client, "/api/v1/venues/")}
        assert {CHILDRENS_HOME, HOSPITAL, SOCIAL_PSYCH} <= listed
        assert not_a_venue.name not in listed and closed.name not in listed
        assert client.get(f"/api/v1/venues/{not_a_venue.pk}/").status_code == 404
        assert client.get(f"/api/v1/venues/{closed.pk}/").status_code == 404
        home = client.get(f"/api/v1/venues/{institution(CHILDRENS_HOME).pk}/")
        assert home.status_code == 200 and home.json()["kind"] == "childrens_home"

    def test_the_directory_search_and_filters_of_the_page(self, login):
        client = login("director_b")

        def names(**params) -> set[str]:
            return {row["name"] for row in rows(client, "/api/v1/venues/", **params)}

        assert names(service="hotline") == {SOCIAL_PSYCH}
        township = names(region=TOWNSHIP_A)
        assert CHILDRENS_HOME in township and HOSPITAL not in township
        assert names(kind="hospital") == {HOSPITAL}
        # The text matches a region the venue lies in, as on the page ("青石镇").
        by_place = names(q=Region.objects.get(code=TOWNSHIP_A).name)
        assert {CHILDRENS_HOME, MIDDLE_SCHOOL} <= by_place and HOSPITAL not in by_place
        assert names(q="儿童之家") >= {CHILDRENS_HOME}
        bad = client.get("/api/v1/venues/", {"region": "99x"})
        assert bad.status_code == 400 and "region" in bad.json()["fields"]

    def test_a_venue_read_writes_nothing_to_the_access_log(self, login):
        client = login("director_a")
        before = AccessEvent.objects.count()
        assert client.get(f"/api/v1/venues/{institution(HOSPITAL).pk}/").status_code == 200
        assert AccessEvent.objects.count() == before

    def test_query_count_does_not_grow_with_page_size(self, login):
        client = login("director_a")
        assert count_queries(client, "/api/v1/venues/?page_size=2") == count_queries(
            client, "/api/v1/venues/?page_size=100"
        )
