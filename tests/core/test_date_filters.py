"""`|isodate` and `|isominute` (core/templatetags/dates.py) write what Django's
`|date:"Y-m-d"` and `|date:"Y-m-d H:i"` write, in every template without a `{% load %}`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.template import engines
from django.utils import timezone as django_timezone

VALUES = [
    date(2026, 3, 1),
    date(999, 1, 9),  # a four-digit year, as Django writes it
    datetime(2026, 12, 31, 16, 5, tzinfo=UTC),  # the next day in Shanghai
    datetime(2026, 6, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=-7))),
    datetime(2026, 6, 1, 8, 7),  # noqa: DTZ001 (naive: written as it is)
    None,
    "",
]


def _render(body: str, value: object) -> str:
    # The project's engine: its builtins, its time zone handling.
    return engines["django"].from_string(body).render({"value": value})


@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Urumqi", "UTC"])
def test_the_short_filters_write_what_djangos_date_filter_writes(value, zone):
    with django_timezone.override(ZoneInfo(zone)):
        assert _render("{{ value|isodate }}", value) == _render('{{ value|date:"Y-m-d" }}', value)
        if not (isinstance(value, date) and not isinstance(value, datetime)):
            assert _render("{{ value|isominute }}", value) == _render(
                '{{ value|date:"Y-m-d H:i" }}', value
            )


def test_a_moment_is_written_in_the_current_time_zone_and_a_day_as_a_day():
    moment = datetime(2026, 12, 31, 16, 5, tzinfo=UTC)
    with django_timezone.override(ZoneInfo("Asia/Shanghai")):
        assert _render("{{ value|isominute }}", moment) == "2027-01-01 00:05"
        assert _render("{{ value|isodate }}", moment) == "2027-01-01"
    assert _render("{{ value|isominute }}", date(2026, 3, 1)) == "2026-03-01"


def test_what_is_not_a_date_writes_nothing_and_escapes_nothing():
    assert _render("{{ value|isodate }}|{{ value|isominute }}", "<b>2026</b>") == "|"
    assert _render("{{ value|isodate }}", 20260301) == ""
