"""What visits add to the child's file: timeline entries (one query)."""

from __future__ import annotations

from datetime import datetime, time

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import timeline
from cases.models import Child
from followups.models import Visit
from institutions.models import User


def timeline_entries(child: Child, user: User) -> list[timeline.TimelineEntry]:
    entries = []
    for visit in (
        Visit.objects.filter(child=child)
        .select_related("visitor")
        .order_by("-visited_on", "-id")[:50]
    ):
        concerns = "、".join(str(Visit.Concern(c).label) for c in visit.concerns)
        title = _("%(kind)s by %(who)s") % {"kind": visit.get_kind_display(), "who": visit.visitor}
        if visit.flagged:
            title = _("Flagged: %(title)s") % {"title": title}
        entries.append(
            timeline.TimelineEntry(
                timezone.make_aware(datetime.combine(visit.visited_on, time(9))),
                "exclamation-octagon" if visit.flagged else "house-heart",
                title,
                concerns,
                reverse("followups:visit_detail", args=[visit.pk]),
            )
        )
    return entries


def register() -> None:
    timeline.register(timeline_entries)
