"""What follow-up plans add to the child's file: a section listing the child's plans with
their status, schedule and next visit due (two queries, whatever the number of plans)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy

from cases import sections
from cases.models import Child
from cases.selectors.scope import access_level
from followups.models import FollowupPlan, Task
from followups.plan_forms import plan_schedule_in_words
from institutions.models import User
from institutions.roles import Level

SHOWN = 20


def section_context(child: Child, user: User) -> dict[str, Any]:
    plans = list(FollowupPlan.objects.filter(child=child).order_by("-start_on", "-id")[:SHOWN])
    due = {
        t.source_id: t
        for t in Task.objects.filter(
            child=child, kind=Task.Kind.FOLLOWUP_VISIT, status__in=Task.PENDING
        ).order_by("due_on")
    }
    for plan in plans:
        plan.schedule_words = plan_schedule_in_words(plan)  # type: ignore[attr-defined]
        plan.next_task = (  # type: ignore[attr-defined]
            due.get(plan.pk) if plan.status == FollowupPlan.Status.ACTIVE else None
        )
    may_make = False
    if child.status == Child.Status.ACTIVE and user.has_perm("cases.manage_care"):
        level = access_level(user, child)
        may_make = level is not None and level >= Level.MANAGE
    has_active = any(p.status == FollowupPlan.Status.ACTIVE for p in plans)
    return {
        "plans": plans,
        "may_make": may_make and not has_active,
        "today": timezone.localdate(),
    }


def register() -> None:
    """Add the section to the child's file (from AppConfig.ready())."""
    sections.register(
        sections.FileSection(
            anchor="followup-plans",
            title=gettext_lazy("Follow-up plans"),
            template="followups/plan_file_section.html",
            context=section_context,
            order=40,
        )
    )
