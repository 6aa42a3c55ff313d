"""Age bands of children, as ranges of birth dates (so the birth-date index answers them): the
children list filters on them and the dashboards count by them, with the same boundaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AgeBand:
    """Completed years `low` to `high`, both included; `key` is its value in a URL."""

    key: str
    low: int
    high: int
    label: Any  # a lazy translation


AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("0-5", 0, 5, _("0–5 years")),
    AgeBand("6-11", 6, 11, _("6–11 years")),
    AgeBand("12-14", 12, 14, _("12–14 years")),
    AgeBand("15-17", 15, 17, _("15–17 years")),
)
AGE_BAND_BY_KEY = {band.key: band for band in AGE_BANDS}


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier; 29 February becomes the 28th in a year without it, so that
    a child born on or before the result has completed `years` years on `day`."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_band_q(band: AgeBand, *, today: date) -> Q:
    """Children whose completed years on `today` fall in the band (cases.models.age_on agrees)."""
    return Q(
        birth_date__lte=years_before(today, band.low),
        birth_date__gt=years_before(today, band.high + 1),
    )
