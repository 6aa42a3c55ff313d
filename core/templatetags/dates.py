"""`|isodate` and `|isominute`: a date as 2026-03-01 and a moment as 2026-03-01 14:05.

The same text as Django's `|date:"Y-m-d"` and `|date:"Y-m-d H:i"` (a moment in the current time
zone), without building a formatter for each value: Django's filter parses its format and looks
the time zone up again for every date it writes, some 30 µs each, and a file page writes a few
dozen. Loaded into every template (settings.TEMPLATES' builtins).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template

register = template.Library()


def _day(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


@register.filter(expects_localtime=True, is_safe=False)
def isodate(value: Any) -> str:
    """`|date:"Y-m-d"`: nothing for no value (or for anything that is not a date)."""
    if isinstance(value, date):
        return _day(value)
    return ""


@register.filter(expects_localtime=True, is_safe=False)
def isominute(value: Any) -> str:
    """`|date:"Y-m-d H:i"`, in the current time zone (the engine converts an aware value
    before the filter sees it, as for Django's); a date without a time is written as a day."""
    if isinstance(value, datetime):
        return f"{_day(value)} {value.hour:02d}:{value.minute:02d}"
    if isinstance(value, date):
        return _day(value)
    return ""
