"""The service venue directory: any staff member can search it by region, service, kind and
text; the detail page has address, hours, contact and services; closed venues are gone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions.models import Agency, Institution
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

pytestmark = pytest.mark.django_db

LIST = "/venues/"


def names(client, **params) -> set[str]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {v.name for v in response.context["venues"]}


def test_every_signed_in_staff_member_can_search_and_outsiders_sign_in_first(login):
    assert reverse("venues:venue_list") == LIST
    for username in ("director_a", "volunteer", "clinician", "auditor", "county_women"):
        assert CHILDRENS_HOME in names(login(username)), username
    response = Client().get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    home = Institution.objects.get(name=CHILDRENS_HOME)
    response = Client().get(reverse("venues:venue_detail", args=[home.pk]))
    assert response.status_code == 302


def test_the_directory_filters_by_service(login):
    client = login("director_a")
    found = names(client, service="group_activity_room")
    assert CHILDRENS_HOME in found and HOSPITAL not in found
    assert names(client, service="psychiatric_clinic") == {HOSPITAL}
    assert names(client, service="hotline") == {SOCIAL_PSYCH}
    counselling = names(client, service="counselling_room")
    assert CHILDRENS_HOME in counselling and WELFARE in counselling


def test_the_directory_filters_by_region_code_prefix_and_kind(login):
    client = login("director_b")
    township = names(client, region=TOWNSHIP_A)
    assert CHILDRENS_HOME in township and MIDDLE_SCHOOL in township
    assert HOSPITAL not in township
    assert names(client, region=TOWNSHIP_A, kind="childrens_home") == {CHILDRENS_HOME}
    assert names(client, region="990101002") == set()


def test_text_search_matches_name_address_and_any_region_the_venue_lies_in(login):
    client = login("director_a")
    assert CHILDRENS_HOME in names(client, q="儿童之家")
    assert CHILDRENS_HOME in names(client, q="青石镇")  # the township of 东岭村, by name
    assert HOSPITAL not in names(client, q="青石镇")
    Institution.objects.filter(name=HOSPITAL).update(address="演示县健康路1号")
    assert names(client, q="健康路") == {HOSPITAL}


def test_a_bad_region_code_lists_nothing_and_says_why(login):
    response = login("director_a").get(LIST, {"region": "99-01"})
    assert response.status_code == 200
    assert list(response.context["venues"]) == []
    assert "region" in response.context["form"].errors


def test_the_list_is_grouped_by_region_and_htmx_gets_only_the_rows(login):
    client = login("director_a")
    html = client.get(LIST).content.decode()
    assert "东岭村" in html and "990101001001" in html
    partial = client.get(
        LIST, {"q": "儿童之家"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="venue-rows"
    ).content.decode()
    assert CHILDRENS_HOME in partial and "<html" not in partial


def test_the_detail_page_shows_address_hours_contact_and_services(login):
    home = Institution.objects.get(name=CHILDRENS_HOME)
    home.opening_hours = "周一至周五 15:00–18:00；周六 9:00–12:00"
    home.phone = "0000-1234567"
    home.save()
    html = login("volunteer").get(reverse("venues:venue_detail", args=[home.pk])).content.decode()
    assert home.address in html
    assert "周一至周五 15:00–18:00" in html
    assert 'href="tel:0000-1234567"' in html
    services = html.split('data-testid="venue-services"')[1].split("</dd>")[0]
    assert str(Institution.Service.GROUP_ACTIVITY_ROOM.label) in services
    assert str(Institution.Service.COUNSELLING_ROOM.label) in services
    # The region path, each step a link to the directory of that region.
    for code in (COUNTY, TOWNSHIP_A, VILLAGE_A):
        assert f"?region={code}" in html


def test_a_closed_venue_is_neither_listed_nor_shown(login):
    home = Institution.objects.get(name=CHILDRENS_HOME)
    home.is_active = False
    home.save()
    client = login("director_a")
    assert CHILDRENS_HOME not in names(client)
    assert client.get(reverse("venues:venue_detail", args=[home.pk])).status_code == 404


def test_an_institution_without_services_that_is_not_a_venue_is_not_listed(login):
    agency = Agency.objects.get(kind=Agency.Kind.EDUCATION)
    Institution.objects.create(
        name="没有服务的学校", kind=Institution.Kind.SCHOOL, region_id="990101002", services=[]
    )
    Institution.objects.create(
        name="河口村儿童之家",
        kind=Institution.Kind.CHILDRENS_HOME,
        region_id="990101002001",
        supervising_agency=agency,
    )
    found = names(login("director_b"))
    assert "河口村儿童之家" in found and "没有服务的学校" not in found


def test_the_list_query_count_does_not_grow_with_venues(login):
    client = login("director_a")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    agency = Agency.objects.get(kind=Agency.Kind.CIVIL_AFFAIRS)
    Institution.objects.bulk_create(
        Institution(
            name=f"演示社工站{i}",
            kind=Institution.Kind.SOCIAL_WORK_STATION,
            region_id="990101003",
            supervising_agency=agency,
            services=[Institution.Service.SOCIAL_WORK, Institution.Service.COUNSELLING_ROOM],
        )
        for i in range(40)
    )
    assert queries() == few
    page = client.get(LIST)
    assert len(page.context["venues"]) == 25 and page.context["page_obj"].has_next()
