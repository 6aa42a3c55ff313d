"""What activities add to the child's file: a section listing the activities the child (or a
guardian) attended, and timeline entries. One query for both, whatever the number of activities."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import sections, timeline
from cases.models import Child
from core.lists import choice_label, url_for_each
from followups.models import ActivityAttendance
from institutions.models import User

SHOWN = 200


def _attended(child: Child) -> list[ActivityAttendance]:
    """The child's attendance, newest first, loaded once per page for section and timeline."""
    return sections.read_once(
        child,
        "activity_attendance",
        lambda: list(
            ActivityAttendance.objects.filter(child=child)
            .select_related("activity__venue")
            .order_by("-activity__held_on", "-activity_id")[:SHOWN]
        ),
    )


def section_context(child: Child, user: User) -> dict[str, Any]:
    attended = _attended(child)
    return {"attended": attended, "more": len(attended) >= SHOWN}


def timeline_entries(child: Child, user: User) -> list[timeline.TimelineEntry]:
    entries = []
    detail_url = url_for_each("activities:activity_detail")
    for row in _attended(child)[:50]:
        activity = row.activity
        detail = choice_label(activity, "kind")
        if row.guardian_attended:
            detail = f"{detail} · {_('a guardian attended')}"
        entries.append(
            timeline.TimelineEntry(
                activity.held_on,
                "easel",
                _("Activity: %(topic)s") % {"topic": activity.topic},
                detail,
                detail_url(activity.pk),
                recorded_at=activity.created_at,
            )
        )
    return entries


def register() -> None:
    """Add the section and the timeline entries to the child's file (from AppConfig.ready())."""
    sections.register(
        sections.FileSection(
            anchor="activities",
            title=gettext_lazy("Activities"),
            template="followups/activity_file_section.html",
            context=section_context,
            order=60,
        )
    )
    timeline.register(timeline_entries)
