"""The child's timeline as the file shows it: events known by their day only (a visit, a
questionnaire result, an activity) are ordered by that day and shown without a time of day;
events with a real timestamp keep it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import user
from tests.demo import VILLAGE_A
from tests.factories import AssessmentFactory, ChildFactory, VisitFactory

pytestmark = pytest.mark.django_db


def _timeline(html: str) -> list[tuple[str, str]]:
    """(when, title) of each timeline entry, top to bottom, as the page shows them."""
    part = html.split('data-testid="timeline"')[1].split("</ul>")[0]
    rows = []
    for item in part.split("<li>")[1:]:
        when = re.search(r'data-testid="timeline-when">([^<]*)<', item)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item.split("</div>", 1)[1])).strip()
        rows.append((when.group(1) if when else "", text))
    return rows


def test_date_only_events_are_ordered_by_day_without_an_invented_time(login):
    today = timezone.localdate()
    child = ChildFactory(region=VILLAGE_A, name="蒋十三", by=user("director_a"))
    # Recorded in this order; each is known by its day only.
    VisitFactory(child=child, visited_on=today - timedelta(days=3), by=user("director_a"))
    VisitFactory(child=child, visited_on=today, by=user("director_a"), note="今天的家访")
    AssessmentFactory(child=child, administered_on=today - timedelta(days=1))
    VisitFactory(child=child, visited_on=today - timedelta(days=2), by=user("director_a"))

    html = login("director_a").get(reverse("cases:child_detail", args=[child.pk])).content
    rows = _timeline(html.decode())
    days = {f"{today - timedelta(days=n):%Y-%m-%d}": n for n in range(4)}

    visits = [(when, title) for when, title in rows if "家访" in title]
    assert [when for when, _ in visits] == [
        f"{today - timedelta(days=n):%Y-%m-%d}" for n in (0, 2, 3)
    ]  # by the day of the visit, not the order they were recorded in
    result = next(when for when, title in rows if "PHQ-9" in title)
    assert result == f"{today - timedelta(days=1):%Y-%m-%d}"  # the date alone, no clock time

    # Timed events keep their time; the whole list runs from the newest day to the oldest.
    opened = next(when for when, title in rows if title.startswith("建立档案"))
    assert re.fullmatch(rf"{today:%Y-%m-%d} \d\d:\d\d", opened)
    order = [days[when[:10]] for when, _ in rows]
    assert order == sorted(order)
    # Today: the visit was recorded after the file was opened, so it stands above it.
    titles = [title for _, title in rows]
    assert titles.index(next(t for t in titles if "家访" in t)) < titles.index(
        next(t for t in titles if t.startswith("建立档案"))
    )


def test_same_day_events_keep_a_stable_order(login):
    today = timezone.localdate()
    child = ChildFactory(region=VILLAGE_A, name="沈十四", by=user("director_a"))
    for _ in range(3):
        VisitFactory(child=child, visited_on=today - timedelta(days=1), by=user("director_a"))
    client = login("director_a")
    url = reverse("cases:child_detail", args=[child.pk])
    html = client.get(url).content.decode()
    first = _timeline(html)
    part = html.split('data-testid="timeline"')[1].split("</ul>")[0]
    links = re.findall(r"/visits/(\d+)/", part)
    assert len(links) == 3
    assert _timeline(client.get(url).content.decode()) == first
    # Newest recorded first within the day.
    assert links == sorted(links, key=int, reverse=True)
