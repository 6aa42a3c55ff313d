"""Out-of-scope cases of the followups app's API: visits, activities, follow-up plans, tasks and
notifications (a notification is its recipient's alone: another user's is out of scope)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from core.models import Notification
from core.notifications import notify
from followups.activities import Attendee, activity_record
from followups.models import Activity, Task
from institutions.models import Region
from tests.api.scope_cases import OutOfScope
from tests.demo import user
from tests.factories import VisitFactory, child_out_of_scope_of
from tests.factories.followups import FollowupPlanFactory


def activity_out_of_scope_of(username: str) -> Activity:
    """An activity the user neither organised nor may see: held in the village of a child out
    of their scope, by the county's supervisor, with that child attending."""
    child = child_out_of_scope_of(username)
    return activity_record(
        by=user("county_civil"),
        kind=Activity.Kind.CLASS_MEETING,
        topic="测试活动：情绪管理主题班会",
        held_on=timezone.localdate(),
        region=Region.objects.get(pk=child.residence_region_id),
        venue_text="村委会",
        attendees=[Attendee(child.record_number)],
    )


def task_out_of_scope_of(username: str) -> Task:
    """A task assigned to the user about a child they no longer reach (as after a handover,
    before the scheduler hands the task on): it must not show."""
    return Task.objects.create(
        child=child_out_of_scope_of(username),
        kind=Task.Kind.HOME_VISIT,
        due_on=timezone.localdate(),
        assignee=user(username),
    )


def notification_of_another(username: str) -> Notification:
    """A notification to someone else than `username`."""
    other = "director_b" if username != "director_b" else "director_a"
    (row,) = notify(
        recipients=[user(other)],
        kind="tasks_due",
        params={"overdue": 1, "today": 0, "soon": 0},
        in_app_only=True,
    )
    return row


def _plan_body(username: str) -> dict[str, Any]:
    child = child_out_of_scope_of(username)
    return {
        "child": child.pk,
        "partners": [user(username).pk],
        "partner_role": "child_director",
        "first_interval_days": 14,
        "interval_days": 14,
        "end_on": str(timezone.localdate() + timedelta(weeks=4)),
        "goal": "测试随访",
    }


CASES: dict[str, OutOfScope] = {
    "visit-list": OutOfScope(
        hidden=lambda u: VisitFactory(child=child_out_of_scope_of(u)).pk,
        body=lambda u: {"child": child_out_of_scope_of(u).pk},
    ),
    "visit-detail": OutOfScope(
        kwargs=lambda u: {"pk": VisitFactory(child=child_out_of_scope_of(u)).pk}
    ),
    "visit-review": OutOfScope(
        user="supervisor_town",
        kwargs=lambda u: {
            "pk": VisitFactory(child=child_out_of_scope_of(u), concerns=["self_harm_talk"]).pk
        },
    ),
    # Attendees are named by record number, as on the page: one out of scope is refused with a
    # field error (400) naming it, as an unknown one is (tests/api/test_followups_api.py).
    "activity-list": OutOfScope(hidden=lambda u: activity_out_of_scope_of(u).pk),
    "activity-detail": OutOfScope(kwargs=lambda u: {"pk": activity_out_of_scope_of(u).pk}),
    "followup-plan-list": OutOfScope(
        hidden=lambda u: FollowupPlanFactory(child=child_out_of_scope_of(u)).pk,
        body=_plan_body,
    ),
    "followup-plan-detail": OutOfScope(
        kwargs=lambda u: {"pk": FollowupPlanFactory(child=child_out_of_scope_of(u)).pk}
    ),
    "followup-plan-pair": OutOfScope(
        kwargs=lambda u: {"pk": FollowupPlanFactory(child=child_out_of_scope_of(u)).pk}
    ),
    "followup-plan-end": OutOfScope(
        kwargs=lambda u: {"pk": FollowupPlanFactory(child=child_out_of_scope_of(u)).pk}
    ),
    "task-list": OutOfScope(hidden=lambda u: task_out_of_scope_of(u).pk),
    "task-detail": OutOfScope(kwargs=lambda u: {"pk": task_out_of_scope_of(u).pk}),
    "notification-list": OutOfScope(hidden=lambda u: notification_of_another(u).pk),
    "notification-detail": OutOfScope(kwargs=lambda u: {"pk": notification_of_another(u).pk}),
    "notification-read": OutOfScope(kwargs=lambda u: {"pk": notification_of_another(u).pk}),
    "notification-read-all": OutOfScope(
        unscoped="marks the caller's own notifications only (tests/api/test_followups_api.py)"
    ),
}
