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


def test_every_page_of_the_list_shows_the_lists_own_order(login):
    """A page is read as its ids first, then its rows (core.pagination): the rows shown, page
    after page, are exactly the list in its order (risk first, then name), each child once."""
    from cases.selectors.children import child_list
    from tests.demo import user

    client = login("county_civil")
    expected = list(child_list(user=user("county_civil")).values_list("pk", flat=True))
    shown: list[int] = []
    page = 1
    while True:
        response = client.get("/children/", {"page": page})
        shown.extend(child.pk for child in response.context["children"])
        if not response.context["page_obj"].has_next():
            break
        page += 1
    assert page > 2
    assert shown == expected


def test_a_list_offers_a_bounded_number_of_pages_and_says_so_on_the_last():
    """However long the list, it offers `max_pages` pages (a deep page's cost grows with its
    depth); a page number past them shows the last offered page, which asks to narrow."""
    from django.template.loader import render_to_string

    from cases.selectors.children import child_list
    from core.pagination import CappedPaginator
    from tests.demo import user

    rows = child_list(user=user("county_civil"))
    paginator = CappedPaginator(rows, 10, max_pages=3)
    assert rows.count() > 30
    assert paginator.num_pages == 3
    assert paginator.is_truncated
    last = paginator.get_page(50)
    assert last.number == 3 and not last.has_next()
    assert [c.pk for c in last] == list(rows.values_list("pk", flat=True)[20:30])
    note = render_to_string("partials/pages_truncated.html", {"page_obj": last})
    assert "3" in note and 'data-testid="pages-truncated"' in note
    assert not render_to_string(
        "partials/pages_truncated.html", {"page_obj": paginator.get_page(2)}
    ).strip()
    whole = CappedPaginator(rows, 10, max_pages=1000)
    assert not whole.is_truncated
    assert not render_to_string(
        "partials/pages_truncated.html", {"page_obj": whole.get_page(whole.num_pages)}
    ).strip()


def test_the_child_list_uses_its_index_for_the_order_and_the_scope():
    """The list's ids come from one index-only walk (child_list_order carries the scope's
    columns) that filters on the scope in the index itself."""
    from cases.selectors.children import child_list
    from tests.demo import user

    ids = child_list(user=user("county_civil")).values_list("pk", flat=True)[100:125]
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        # Plain index scans off too: what is left must read the ids from the index alone
        # (the test database is too small for the planner to prefer it by cost).
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using child_list_order" in plan, plan
