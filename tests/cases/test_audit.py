"""Access log pages: auditors list events per child and per user; nobody else may; names masked."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Child
from core.access_log import access_record
from core.models import AccessEvent
from institutions.masking import mask_name
from institutions.models import User
from tests.demo import VILLAGE_A

pytestmark = pytest.mark.django_db


def village_children(count: int) -> list[Child]:
    """The first `count` children living in director_a's village."""
    children = list(Child.objects.filter(residence_region_id=VILLAGE_A).order_by("id")[:count])
    assert len(children) == count
    return children


def open_file(client, child: Child) -> None:
    """A demo user opens a child's file, which records a VIEW event."""
    response = client.get(reverse("cases:child_detail", args=[child.pk]))
    assert response.status_code == 200


def record_events(count: int, *, children: list[Child], users: list[User]) -> None:
    """Record `count` events through the real logging service, spread over users and children."""
    factory = RequestFactory()
    for i in range(count):
        child = children[i % len(children)]
        request = factory.get(f"/children/{child.pk}/", REMOTE_ADDR=f"10.0.0.{i % 250 + 1}")
        access_record(
            user=users[i % len(users)],
            action=AccessEvent.Action.VIEW,
            child=child,
            request=request,
        )


def event_ids(response) -> list[int]:
    """The ids of the events a log page lists, in its order."""
    assert response.status_code == 200
    return [entry.pk for entry in response.context["page"].entries]


def today_in_china():
    """Today's date in Asia/Shanghai, the zone the date filters use."""
    return timezone.localdate(timezone=ZoneInfo("Asia/Shanghai"))


def test_auditor_lists_every_event_for_one_child(login):
    first, second = village_children(2)
    open_file(login("director_a"), first)
    open_file(login("county_civil"), first)
    open_file(login("director_a"), second)
    response = login("auditor").get(reverse("cases:audit_child", args=[first.pk]))
    events = AccessEvent.objects.filter(child=first).order_by("-at", "-id")
    assert event_ids(response) == list(events.values_list("id", flat=True))
    assert {e.username for e in response.context["page"].entries} >= {
        "director_a",
        "county_civil",
    }
    assert {e.child_id for e in response.context["page"].entries} == {first.pk}
    html = response.content.decode()
    assert first.record_number in html
    assert second.record_number not in html


def test_auditor_lists_every_event_by_one_user(login):
    first, second = village_children(2)
    director = login("director_a")
    open_file(director, first)
    open_file(director, second)
    open_file(login("county_civil"), first)
    director_a = User.objects.get(username="director_a")
    response = login("auditor").get(reverse("cases:audit_user", args=[director_a.pk]))
    ids = event_ids(response)
    assert ids == list(
        AccessEvent.objects.filter(user=director_a)
        .order_by("-at", "-id")
        .values_list("id", flat=True)[:50]
    )
    assert {e.username for e in response.context["page"].entries} == {"director_a"}
    children = {e.child_id for e in response.context["page"].entries}
    assert {first.pk, second.pk} <= children


def test_security_administrator_may_not_read_the_log(login):
    """Separated administrators: only the auditor reads the access log."""
    (child,) = village_children(1)
    open_file(login("director_a"), child)
    client = login("security")
    assert client.get(reverse("cases:audit_log")).status_code == 403
    assert client.get(reverse("cases:audit_child", args=[child.pk])).status_code == 403


def test_whole_log_is_newest_first_and_shows_who_what_when_where(login):
    (child,) = village_children(1)
    auditor = login("auditor")  # signed in first: the file's read is the newest event
    open_file(login("director_a"), child)
    response = auditor.get(reverse("cases:audit_log"))
    entries = response.context["page"].entries
    keys = [(e.at, e.pk) for e in entries]
    assert keys == sorted(keys, reverse=True)
    newest = AccessEvent.objects.latest("at", "id")
    top = entries[0]
    assert top.pk == newest.pk
    assert (top.username, top.action, top.child_id) == ("director_a", "view", child.pk)
    assert top.path == f"/children/{child.pk}/"
    assert top.ip_address == "127.0.0.1"
    html = response.content.decode()
    shanghai = timezone.localtime(newest.at, ZoneInfo("Asia/Shanghai"))
    assert shanghai.strftime("%H:%M:%S") in html
    assert reverse("cases:audit_user", args=[newest.user_id]) in html
    assert reverse("cases:audit_child", args=[child.pk]) in html


@pytest.mark.parametrize("username", ["director_a", "county_civil"])
def test_user_without_the_permission_gets_403(login, username):
    (child,) = village_children(1)
    client = login(username)
    someone = User.objects.get(username="director_a")
    for url in (
        reverse("cases:audit_log"),
        reverse("cases:audit_child", args=[child.pk]),
        reverse("cases:audit_user", args=[someone.pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_sign_in(client):
    for url in (
        reverse("cases:audit_log"),
        reverse("cases:audit_child", args=[1]),
        reverse("cases:audit_user", args=[1]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_missing_child_or_user_is_404(login):
    client = login("auditor")
    missing_child = (Child.objects.order_by("-id").values_list("id", flat=True)[0]) + 1000
    missing_user = (User.objects.order_by("-id").values_list("id", flat=True)[0]) + 1000
    assert client.get(reverse("cases:audit_child", args=[missing_child])).status_code == 404
    assert client.get(reverse("cases:audit_user", args=[missing_user])).status_code == 404


def test_auditor_sees_the_masked_name_never_the_file(login):
    (child,) = village_children(1)
    director = login("director_a")
    open_file(director, child)
    # A search by the child's name is logged with the query in its path: the page drops it.
    request = RequestFactory().get("/children/", {"q": child.name})
    access_record(
        user=User.objects.get(username="director_a"),
        action=AccessEvent.Action.LIST,
        request=request,
    )
    auditor = login("auditor")
    director_a = User.objects.get(username="director_a")
    for url in (
        reverse("cases:audit_log"),
        reverse("cases:audit_child", args=[child.pk]),
        reverse("cases:audit_user", args=[director_a.pk]),
    ):
        html = auditor.get(url).content.decode()
        assert child.name not in html, url
        assert quote(child.name) not in html, url
        assert mask_name(child.name) in html, url
        assert child.record_number in html, url
        assert f'href="{reverse("cases:child_detail", args=[child.pk])}"' not in html, url
    heading = auditor.get(reverse("cases:audit_child", args=[child.pk])).context["heading"]
    assert child.record_number in heading
    assert mask_name(child.name) in heading


def test_filter_by_user_name(login):
    first, second = village_children(2)
    open_file(login("director_a"), first)
    open_file(login("county_civil"), second)
    auditor = login("auditor")
    civil = User.objects.get(username="county_civil")
    for text in ("county_civ", civil.display_name):
        entries = auditor.get(reverse("cases:audit_log"), {"user": text}).context["page"].entries
        assert entries
        assert {e.username for e in entries} == {"county_civil"}, text


def test_filter_by_record_number(login):
    first, second = village_children(2)
    director = login("director_a")
    open_file(director, first)
    open_file(director, second)
    response = login("auditor").get(
        reverse("cases:audit_log"), {"record_number": f" {second.record_number.lower()} "}
    )
    entries = response.context["page"].entries
    assert entries
    assert {e.child_id for e in entries} == {second.pk}


def test_filter_by_action(login):
    (child,) = village_children(1)
    open_file(login("director_a"), child)
    access_record(
        user=User.objects.get(username="county_civil"),
        action=AccessEvent.Action.EXPORT,
        child=child,
    )
    auditor = login("auditor")
    url = reverse("cases:audit_child", args=[child.pk])
    exports = auditor.get(url, {"action": "export"}).context["page"].entries
    assert [e.action for e in exports] == ["export"]
    assert exports[0].username == "county_civil"
    views = auditor.get(url, {"action": "view"}).context["page"].entries
    assert views
    assert {e.action for e in views} == {"view"}


def test_filter_by_dates_in_china(login):
    (child,) = village_children(1)
    open_file(login("director_a"), child)
    auditor = login("auditor")
    url = reverse("cases:audit_child", args=[child.pk])
    today = today_in_china()
    yesterday = today - timedelta(days=1)
    assert auditor.get(url, {"date_from": today.isoformat()}).context["page"].entries
    assert auditor.get(url, {"date_to": today.isoformat()}).context["page"].entries
    assert not auditor.get(url, {"date_to": yesterday.isoformat()}).context["page"].entries
    tomorrow = today + timedelta(days=1)
    assert not auditor.get(url, {"date_from": tomorrow.isoformat()}).context["page"].entries


def test_a_range_that_ends_before_it_starts_is_an_error(login):
    (child,) = village_children(1)
    open_file(login("director_a"), child)
    today = today_in_china()
    response = login("auditor").get(
        reverse("cases:audit_log"),
        {"date_from": today.isoformat(), "date_to": (today - timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 200
    assert response.context["page"].entries == []
    assert 'data-testid="audit-filter-errors"' in response.content.decode()


def test_htmx_filter_returns_only_the_rows(login):
    (child,) = village_children(1)
    open_file(login("director_a"), child)
    response = login("auditor").get(
        reverse("cases:audit_log"), {"user": "director_a"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'data-testid="audit-table"' in html


def test_pages_of_fifty_by_keyset_cursor(login):
    children = village_children(3)
    users = list(User.objects.filter(username__in=["director_a", "county_civil"]))
    record_events(110, children=children[:1], users=users)
    auditor = login("auditor")
    url = reverse("cases:audit_child", args=[children[0].pk])
    expected = list(
        AccessEvent.objects.filter(child=children[0])
        .order_by("-at", "-id")
        .values_list("id", flat=True)
    )
    assert len(expected) == 110

    first = auditor.get(url)
    assert event_ids(first) == expected[:50]
    older = first.context["page"].older_cursor
    assert older == expected[49]
    assert f"before={older}" in first.content.decode()

    second = auditor.get(url, {"before": older})
    assert event_ids(second) == expected[50:100]
    third = auditor.get(url, {"before": second.context["page"].older_cursor})
    assert event_ids(third) == expected[100:]
    assert third.context["page"].older_cursor is None

    # Going back to newer pages gives the same pages again.
    back = auditor.get(url, {"after": third.context["page"].newer_cursor})
    assert event_ids(back) == expected[50:100]
    back_to_first = auditor.get(url, {"after": back.context["page"].newer_cursor})
    assert event_ids(back_to_first) == expected[:50]
    assert back_to_first.context["page"].is_newest

    # A malformed cursor is the first page; one past the end of the ids is an empty page.
    for cursor in ("x", "²", "-5"):
        assert event_ids(auditor.get(url, {"before": cursor})) == expected[:50], cursor
    assert event_ids(auditor.get(url, {"before": "9" * 30})) == []


def test_cursor_keeps_the_filters(login):
    children = village_children(2)
    users = list(User.objects.filter(username__in=["director_a", "county_civil"]))
    record_events(120, children=children, users=users)
    auditor = login("auditor")
    url = reverse("cases:audit_log")
    first = auditor.get(url, {"record_number": children[1].record_number})
    html = first.content.decode()
    assert f"record_number={children[1].record_number}" in html
    second = auditor.get(
        url,
        {"record_number": children[1].record_number, "before": first.context["page"].older_cursor},
    )
    entries = second.context["page"].entries
    assert entries
    assert {e.child_id for e in entries} == {children[1].pk}


def count_queries(client, url: str, params: dict | None = None) -> int:
    """The number of queries one GET of the page makes."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_query_count_does_not_grow_with_events(login):
    children = village_children(5)
    child = children[0]
    director_a = User.objects.get(username="director_a")
    users = list(User.objects.filter(is_demo=True).order_by("id")[:8])
    assert len(users) == 8
    auditor = login("auditor")
    pages = [
        (reverse("cases:audit_child", args=[child.pk]), None),
        (reverse("cases:audit_user", args=[director_a.pk]), None),
        (reverse("cases:audit_log"), {"record_number": child.record_number}),
        (reverse("cases:audit_log"), {"action": "view", "user": "director_a"}),
    ]

    # Five events for the child, by five users; then sixty, by eight users, on five children.
    record_events(5, children=[child], users=[director_a, *users[:4]])
    few = [count_queries(auditor, url, params) for url, params in pages]
    assert len(auditor.get(pages[0][0]).context["page"].entries) == 5
    record_events(55, children=children, users=[director_a, *users])
    many = [count_queries(auditor, url, params) for url, params in pages]
    assert len(auditor.get(pages[2][0], pages[2][1]).context["page"].entries) == 16
    assert few == many
    # An older page costs the same as the first.
    page = auditor.get(reverse("cases:audit_log")).context["page"]
    assert count_queries(
        auditor, reverse("cases:audit_log"), {"before": page.older_cursor}
    ) == count_queries(auditor, reverse("cases:audit_log"))


def test_navigation_shows_the_audit_log_only_to_auditors(login):
    audit_url = reverse("cases:audit_log")
    html = login("auditor").get(audit_url).content.decode()
    assert f'href="{audit_url}"' in html
    html = login("director_a").get(reverse("cases:child_list")).content.decode()
    assert f'href="{audit_url}"' not in html
