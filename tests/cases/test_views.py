"""Children's list and file pages: fixed query counts, logging, and the append-only log."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Child
from core.models import AccessEvent

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_list_query_count_does_not_grow_with_rows(login):
    small = login("director_a")  # about 20 children
    large = login("county_civil")  # 200 children, a full page of 25
    assert count_queries(small, "/children/") == count_queries(large, "/children/")
    assert count_queries(large, "/children/?page=2") == count_queries(large, "/children/")


def test_api_list_query_count_does_not_grow_with_page_size(login):
    client = login("county_civil")
    assert count_queries(client, "/api/v1/children/?page_size=5") == count_queries(
        client, "/api/v1/children/?page_size=100"
    )


def test_list_is_paginated_and_bounded(login):
    client = login("county_civil")
    page = client.get("/children/")
    assert len(page.context["children"]) == 25
    api = client.get("/api/v1/children/?page_size=5000").json()
    assert len(api["results"]) == 100


def test_search_by_name_within_scope(login):
    client = login("director_a")
    child = Child.objects.filter(residence_region_id="990101001001").order_by("id")[0]
    html = client.get("/children/", {"q": child.name}).content.decode()
    assert child.record_number in html
    # The same name outside the scope is not found.
    outside = Child.objects.exclude(residence_region_id="990101001001").exclude(
        household_region_id="990101001001"
    )[0]
    html = client.get("/children/", {"q": outside.record_number}).content.decode()
    assert 'data-testid="no-children"' in html


def test_htmx_search_returns_only_the_rows(login):
    client = login("director_a")
    response = client.get(
        "/children/", {"q": "DEMO"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="child-rows"
    )
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-testid="child-table"' in html or 'data-testid="no-children"' in html


def test_file_page_query_count_is_fixed(login):
    client = login("county_civil")
    first, second = Child.objects.order_by("id")[:2]
    one = count_queries(client, reverse("cases:child_detail", args=[first.pk]))
    assert one == count_queries(client, reverse("cases:child_detail", args=[second.pk]))


def test_access_log_cannot_be_changed_or_deleted(login):
    client = login("director_a")
    child = Child.objects.filter(residence_region_id="990101001001")[0]
    client.get(reverse("cases:child_detail", args=[child.pk]))
    event = AccessEvent.objects.latest("id")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(action="export")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()
    assert AccessEvent.objects.filter(pk=event.pk, action="view").exists()


def test_pages_work_in_english(login):
    client = login("director_a")
    client.post("/i18n/setlang/", {"language": "en", "next": "/children/"})
    html = client.get("/children/").content.decode()
    assert "Children" in html and "Search" in html
    main = html.split("<main")[1].split("</main>")[0]
    # UI words are English; only data (names of people and places) stays Chinese.
    for chinese_ui_word in ("搜索", "姓名", "出生日期", "下一页"):
        assert chinese_ui_word not in main
