"""What referrals add to the child's file: a section (each referral with its current step, and
"refer" links from a severe result or a flagged visit) and timeline entries. The child's
referrals are read in one query, shared by the section and the timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.file_integration import FILE_RESULTS, file_results
from assessments.models import Assessment
from cases import sections, timeline
from cases.models import Child, RiskLevel
from core.lists import choice_label, url_for_each
from followups.file_integration.visits import FILE_VISITS, file_visits
from followups.models import Visit
from institutions.models import User
from referrals.models import Referral
from referrals.selectors import answer_limits, child_referrals

# How far back a severe result or a flagged visit still offers a "refer" link, and how many
# of each (the newest).
REFER_FROM_DAYS = 180
REFER_FROM_EACH = 3

R = TypeVar("R", Assessment, Visit)


def _mark_overdue(referrals: list[Referral]) -> None:
    now = timezone.now()
    limits = answer_limits()
    for r in referrals:
        limit = limits.get(r.urgency)
        r.is_overdue = bool(  # type: ignore[attr-defined]
            r.status == Referral.Status.SENT and r.sent_at and limit and r.sent_at + limit < now
        )


def _newest(
    rows: list[R], since: date, day: Callable[[R], date], wanted: Callable[[R], bool], *, read: int
) -> list[R] | None:
    """The REFER_FROM_EACH newest `wanted` rows on or after `since`, from `rows` (newest first,
    as the page read them, `read` at most); None when those rows may not hold them all (the
    page read `read` rows and the oldest is still on or after `since`)."""
    found = [row for row in rows if day(row) >= since and wanted(row)][:REFER_FROM_EACH]
    if len(found) < REFER_FROM_EACH and len(rows) >= read and day(rows[-1]) >= since:
        return None
    return found


def refer_sources(child: Child, referrals: list[Referral]) -> list[dict[str, Any]]:
    """Recent severe results and flagged visits not yet referred, the newest few of each, from
    the results and visits the page reads for its other sections (no query of its own unless
    the child has more of them since then than the page reads)."""
    since = timezone.localdate() - timedelta(days=REFER_FROM_DAYS)
    referred_assessments = {r.assessment_id for r in referrals if r.assessment_id}
    referred_visits = {r.visit_id for r in referrals if r.visit_id}
    create = reverse("referrals:referral_create", args=[child.pk])
    sources: list[dict[str, Any]] = []
    severe = _newest(
        file_results(child),
        since,
        lambda a: a.administered_on,
        lambda a: a.risk_level >= RiskLevel.HIGH,
        read=FILE_RESULTS,
    )
    if severe is None:
        severe = list(
            Assessment.objects.filter(
                child=child,
                amendments__isnull=True,
                risk_level__gte=RiskLevel.HIGH,
                administered_on__gte=since,
            )
            .select_related("instrument")
            .order_by("-administered_on", "-id")[:REFER_FROM_EACH]
        )
    for a in severe:
        if a.pk not in referred_assessments:
            sources.append(
                {
                    "label": _("%(code)s on %(date)s (%(risk)s)")
                    % {
                        "code": a.instrument.code,
                        "date": f"{a.administered_on:%Y-%m-%d}",
                        "risk": a.get_risk_level_display(),
                    },
                    "url": f"{create}?assessment={a.pk}",
                    "kind": "assessment",
                }
            )
    flagged = _newest(
        file_visits(child), since, lambda v: v.visited_on, lambda v: v.flagged, read=FILE_VISITS
    )
    if flagged is None:
        flagged = list(
            Visit.objects.filter(child=child, flagged=True, visited_on__gte=since).order_by(
                "-visited_on", "-id"
            )[:REFER_FROM_EACH]
        )
    for v in flagged:
        if v.pk not in referred_visits:
            sources.append(
                {
                    "label": _("Flagged visit on %(date)s") % {"date": f"{v.visited_on:%Y-%m-%d}"},
                    "url": f"{create}?visit={v.pk}",
                    "kind": "visit",
                }
            )
    return sources


def section_context(child: Child, user: User) -> dict[str, Any]:
    referrals = child_referrals(child)
    _mark_overdue(referrals)
    may_refer = user.has_perm("referrals.add_referral")
    return {
        "referrals": referrals,
        "may_refer": may_refer,
        "refer_from": refer_sources(child, referrals) if may_refer else [],
    }


def timeline_entries(child: Child, user: User) -> list[timeline.TimelineEntry]:
    entries = []
    detail_url = url_for_each("referrals:detail")
    for r in child_referrals(child):
        entries.append(
            timeline.TimelineEntry(
                r.sent_at or r.created_at,
                "send",
                _("Referral to %(institution)s: %(step)s")
                % {"institution": r.to_institution.name, "step": choice_label(r, "status")},
                choice_label(r, "urgency"),
                detail_url(r.pk),
            )
        )
    return entries


def register() -> None:
    sections.register(
        sections.FileSection(
            anchor="referrals",
            title=gettext_lazy("Referrals"),
            template="referrals/file_section.html",
            context=section_context,
            order=30,
        )
    )
    timeline.register(timeline_entries)
