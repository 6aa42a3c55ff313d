"""A session's summary: results by band, and the children at or above a risk level."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from assessments.models import Assessment, ScreeningSession
from assessments.scoring import TOTAL, text_in
from assessments.screening.roster import Progress, progress_of, session_roster
from assessments.selectors import (
    assessments_visible_to,
    due_rules,
    no_instrument_for_age,
)
from cases.models import RiskLevel
from institutions.models import User

ITEM_ANSWERS_PERMISSION = "assessments.view_item_answers"
THRESHOLD = RiskLevel.MODERATE  # "above the threshold" in the summary, unless chosen otherwise


@dataclass(frozen=True)
class BandCount:
    label: str
    min: int
    max: int
    risk: int
    count: int


@dataclass(frozen=True)
class CriticalResult:
    """A result with a critical answer, and what each critical answer means."""

    assessment: Assessment
    labels: list[str]


@dataclass(frozen=True)
class Summary:
    """Results by band, and the children at or above the threshold (critical answers first)."""

    progress: Progress
    bands: list[BandCount]
    above: list[Assessment]
    critical: list[CriticalResult]
    threshold: int
    no_instrument: int = 0  # children not screened because no instrument in use fits their age


def session_summary(
    *, session: ScreeningSession, user: User, threshold: int = THRESHOLD
) -> Summary:
    """The summary a counsellor acts on, from the results of children the user may see."""
    definition = session.instrument.parsed
    results = list(
        assessments_visible_to(user)
        .filter(session=session, amendments__isnull=True)
        .order_by("-risk_level", "-total", "child__name_pinyin", "id")
    )
    bands = []
    for band in sorted((b for b in definition.bands if b.scale == TOTAL), key=lambda b: b.min):
        count = sum(1 for r in results if band.contains(r.total))
        bands.append(BandCount(text_in(band.label), band.min, band.max, band.risk, count))
    meaning = {
        int(rule["item"]): text_in(rule["label"]) if rule.get("label") else ""
        for rule in definition.critical
    }
    # Which question was answered critically is an item-level answer (DESIGN.md §5, fields):
    # a reader without them sees that there is a critical answer, not which.
    answers_shown = user.has_perm(ITEM_ANSWERS_PERMISSION)
    critical = [
        CriticalResult(
            r,
            [meaning.get(n) or _("question %(n)d") % {"n": n} for n in r.critical_items]
            if answers_shown
            else [],
        )
        for r in results
        if r.critical_items
    ]
    roster = session_roster(session=session, user=user)
    ranges = due_rules(user).age_ranges
    no_instrument = sum(
        1
        for row in roster
        if row.result is None
        and no_instrument_for_age(row.child, ranges=ranges, on=session.administered_on)
    )
    return Summary(
        progress=progress_of(roster),
        no_instrument=no_instrument,
        bands=bands,
        above=[r for r in results if r.risk_level >= threshold or r.critical_items],
        critical=critical,
        threshold=threshold,
    )
