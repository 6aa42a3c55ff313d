"""What assessments add to the child's file: a section (latest results, next due date, trend
charts, open alerts) and timeline entries. One query each, whatever the number of results."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import Alert, Assessment
from assessments.selectors import (
    due_rules,
    next_reassessment_due,
    no_instrument_for_age,
    trend_series,
)
from cases import sections, timeline
from cases.models import Child
from core.lists import choice_label, url_for_each
from institutions.models import User

# The child's current results the file page reads (newest first).
FILE_RESULTS = 500


def file_results(child: Child) -> list[Assessment]:
    """The child's current results, newest first (at most FILE_RESULTS), with their
    instruments: loaded once per page and shared by this section, the timeline and the
    referrals section's "refer" links."""
    return sections.read_once(
        child,
        "assessments",
        lambda: list(
            Assessment.objects.filter(child=child, amendments__isnull=True)
            .select_related("instrument")
            .order_by("-administered_on", "-id")[:FILE_RESULTS]
        ),
    )


def section_context(child: Child, user: User) -> dict[str, Any]:
    results = file_results(child)
    latest: dict[str, Assessment] = {}
    for a in results:
        latest.setdefault(a.instrument.code, a)
    last = results[0].administered_on if results else None
    rules = due_rules(user)
    no_instrument = no_instrument_for_age(child, ranges=rules.age_ranges)
    due = None if no_instrument else next_reassessment_due(child=child, last=last, rules=rules)
    trends = trend_series(results=list(reversed(results)))
    for index, series in enumerate(trends, start=1):
        series["script_id"] = f"trend-{index}"
    open_alerts = list(
        Alert.objects.filter(child=child, acknowledged_at__isnull=True).order_by("-created_at")[:5]
    )
    held_at = max((alert.risk_level for alert in open_alerts), default=None)
    for a in latest.values():
        # A newer, lower score does not lower the risk while an alert is open.
        a.awaiting_review = held_at is not None and a.risk_level < held_at  # type: ignore[attr-defined]
    return {
        "latest": list(latest.values()),
        "next_due": due,
        "no_instrument": no_instrument,
        "overdue": due is not None and due < timezone.localdate(),
        "trends": trends,
        "open_alerts": open_alerts,
    }


def timeline_entries(child: Child, user: User) -> list[timeline.TimelineEntry]:

    entries = []
    detail_url = url_for_each("assessments:assessment_detail")
    for a in file_results(child)[:50]:
        entries.append(
            timeline.TimelineEntry(
                a.administered_on,
                "clipboard-data",
                _("%(code)s: total %(total)s, %(band)s")
                % {"code": a.instrument.code, "total": a.total, "band": a.band_text},
                choice_label(a, "risk_level"),
                detail_url(a.pk),
                recorded_at=a.created_at,
            )
        )
    return entries


def register() -> None:
    sections.register(
        sections.FileSection(
            anchor="assessments",
            title=gettext_lazy("Assessments"),
            template="assessments/file_section.html",
            context=section_context,
            order=10,
        )
    )
    timeline.register(timeline_entries)
