"""What visits add to the child's file (timeline entries) and to a flagged-visit alert's page
(its visits), one query each."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from assessments import alert_items as alert_page
from assessments.alert_items import AlertItem
from assessments.models import Alert
from cases import sections, timeline
from cases.models import Child
from core.lists import choice_label, url_for_each
from followups.models import Visit
from followups.selectors import alert_visits
from institutions.models import User

# The child's latest visits the file page reads.
FILE_VISITS = 50


def file_visits(child: Child) -> list[Visit]:
    """The child's latest visits (at most FILE_VISITS), newest first, with their visitors:
    loaded once per page and shared by the timeline and the referrals section."""
    return sections.read_once(
        child,
        "visits",
        lambda: list(
            Visit.objects.filter(child=child)
            .select_related("visitor")
            .order_by("-visited_on", "-id")[:FILE_VISITS]
        ),
    )


def timeline_entries(child: Child, user: User) -> list[timeline.TimelineEntry]:
    entries = []
    detail_url = url_for_each("followups:visit_detail")
    for visit in file_visits(child):
        concerns = "、".join(str(Visit.Concern(c).label) for c in visit.concerns)
        title = _("%(kind)s by %(who)s") % {
            "kind": choice_label(visit, "kind"),
            "who": visit.visitor,
        }
        if visit.flagged:
            title = _("Flagged: %(title)s") % {"title": title}
        entries.append(
            timeline.TimelineEntry(
                visit.visited_on,
                "exclamation-octagon" if visit.flagged else "house-heart",
                title,
                concerns,
                detail_url(visit.pk),
                recorded_at=visit.created_at,
            )
        )
    return entries


def alert_items(alert: Alert) -> list[AlertItem]:
    """The flagged visits of a "flagged visit" alert, for its page (one query)."""
    if alert.reason != Alert.Reason.FLAGGED_VISIT:
        return []
    items = []
    for visit in alert_visits(alert=alert):
        concerns = "、".join(str(Visit.Concern(c).label) for c in visit.concerns)
        text = _("%(kind)s on %(date)s by %(who)s: %(concerns)s") % {
            "kind": visit.get_kind_display(),
            "date": f"{visit.visited_on:%Y-%m-%d}",
            "who": visit.visitor,
            "concerns": concerns,
        }
        if visit.reviewed_at is None:
            text = _("%(text)s (not reviewed yet)") % {"text": text}
        items.append(AlertItem(text, reverse("followups:visit_detail", args=[visit.pk])))
    return items


def register() -> None:
    timeline.register(timeline_entries)
    alert_page.register(alert_items)
