"""A session's summary: results by band, and the children at or above a risk level."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from assessments.models import Assessment, ScreeningSession
from assessments.scoring import TOTAL, text_in
from assessments.screening.roster import Progress, progress_of, session_roster
from assessments.selectors import assessments_visible_to
from cases.models import RiskLevel
from institutions.models import User

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
    critical = [
        CriticalResult(
            r,
            [meaning.get(n) or _("question %(n)d") % {"n": n} for n in r.critical_items],
        )
        for r in results
        if r.critical_items
    ]
    return Summary(
        progress=progress_of(session_roster(session=session, user=user)),
        bands=bands,
        above=[r for r in results if r.risk_level >= threshold or r.critical_items],
        critical=critical,
        threshold=threshold,
    )
