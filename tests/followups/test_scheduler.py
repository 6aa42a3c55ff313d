"""The scheduler (DESIGN.md §6, issue 11): tasks made from the data, closed by the records that
fulfil them, moved when their due date moves, handed over with the child, reminded once in a
digest, escalated past the threshold; every job idempotent, catching up, set-based."""

from __future__ import annotations

import difflib
from datetime import timedelta
from io import StringIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import CareTeamMember
from cases.services.child import HandoverTarget, child_handover
from config.celery import app
from core.models import Notification
from followups import scheduling
from followups.models import Task, Visit
from followups.scheduling import task_kinds
from followups.services.schedule import tasks_escalate, tasks_mark_overdue, tasks_plan, tasks_remind
from tests.conftest import user
from tests.demo import VILLAGE_A, VILLAGE_B
from tests.factories import (
    AssessmentFactory,
    CarePlanFactory,
    CareTeamMemberFactory,
    ChildFactory,
    VisitFactory,
    child_in_scope_of,
    region,
)

pytestmark = pytest.mark.django_db


def pending(child, kind):
    return Task.objects.filter(child=child, kind=kind, status__in=Task.PENDING).first()


def all_tasks():
    return set(Task.objects.values_list("child_id", "kind", "due_on", "status", "assignee_id"))


def test_every_job_run_twice_creates_nothing_new():
    child = child_in_scope_of("director_a")
    call_command("run_scheduled_jobs", verbosity=0)
    first = all_tasks()
    messages = Notification.objects.count()
    call_command("run_scheduled_jobs", verbosity=0)
    assert all_tasks() == first
    assert Notification.objects.count() == messages  # nobody is reminded twice in a day
    task = pending(child, Task.Kind.HOME_VISIT)
    # Never visited: due from the day the file was opened, for the village's child director.
    assert task.due_on == timezone.localdate(child.created_at)
    assert task.assignee == user("director_a")


def test_after_a_month_down_the_missed_tasks_come_with_their_real_dates_and_one_digest():
    today = timezone.localdate()
    child, other = child_in_scope_of("director_a"), child_in_scope_of("director_a")
    # Care-plan reviews beyond the look-ahead today: a scheduler down for a month missed them.
    plan = CarePlanFactory(child=child, by=user("director_a"), review_date=today + timedelta(20))
    CarePlanFactory(child=other, by=user("director_a"), review_date=today + timedelta(25))
    call_command("run_scheduled_jobs", today=today.isoformat(), verbosity=0)
    assert pending(child, Task.Kind.CARE_PLAN_REVIEW) is None

    since = timezone.now()
    later = today + timedelta(days=30)
    call_command("run_scheduled_jobs", today=later.isoformat(), verbosity=0)
    review = pending(child, Task.Kind.CARE_PLAN_REVIEW)
    assert review.due_on == plan.review_date  # its real, past due date
    assert review.status == Task.Status.OVERDUE
    assert review.source_id == plan.pk
    # director_a has tasks overdue and coming due: one message for them all.
    digests = Notification.objects.filter(
        recipient=user("director_a"), kind="tasks_due", created_at__gte=since
    )
    assert digests.count() == 1
    assert digests.get().params["overdue"] >= 2
    # And the run, repeated, sends nothing more.
    call_command("run_scheduled_jobs", today=later.isoformat(), verbosity=0)
    assert (
        Notification.objects.filter(kind="tasks_due", created_at__gte=since)
        .filter(recipient=user("director_a"))
        .count()
        == 1
    )


def test_days_ahead_runs_the_jobs_as_on_that_day_in_the_apps_time_zone():
    out = StringIO()
    call_command("run_scheduled_jobs", days_ahead=1, only=["followups.plan_tasks"], stdout=out)
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert out.getvalue().splitlines()[0] == f"as on {tomorrow.isoformat()}"
    with pytest.raises(CommandError, match="not both"):
        call_command("run_scheduled_jobs", days_ahead=1, today=tomorrow.isoformat())


def test_a_home_visit_closes_its_task_and_plans_the_next():
    child = child_in_scope_of("director_a")
    tasks_plan(today=timezone.localdate())
    task = pending(child, Task.Kind.HOME_VISIT)
    visit = VisitFactory(child=child, by=user("director_a"))
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.closed_by_record == f"visit:{visit.pk}"
    # The next routine visit is 90 days away: beyond the look-ahead, so not yet a task.
    assert pending(child, Task.Kind.HOME_VISIT) is None


def test_the_statement_compiled_for_one_child_plans_the_next_childs_tasks_and_only_theirs():
    today = timezone.localdate()
    first, second = child_in_scope_of("director_a"), child_in_scope_of("director_a")
    tasks_plan(today=today, child_ids=[first.pk])  # compiles each generator's statement
    assert pending(first, Task.Kind.HOME_VISIT) is not None
    assert pending(second, Task.Kind.HOME_VISIT) is None
    # The same statements, run again with the second child's id in the marker's place.
    tasks_plan(today=today, child_ids=[second.pk])
    task = pending(second, Task.Kind.HOME_VISIT)
    assert task.due_on == timezone.localdate(second.created_at)
    assert task.assignee == user("director_a")
    # Both children at once give the same tasks as one by one.
    before = all_tasks()
    tasks_plan(today=today, child_ids=[first.pk, second.pk])
    assert all_tasks() == before
    kinds = {kind.kind for kind in task_kinds()}
    assert {key[0] for key in scheduling._compiled if key[2] == today and key[3]} == kinds


def test_planning_a_few_children_is_one_statement_that_moves_cancels_and_creates():
    """A write plans its children's tasks of every kind in one statement; it leaves them as
    the full run would."""
    from cases.models import Child
    from followups.scheduling import KindResult

    today = timezone.localdate()
    moved, closed, new = (child_in_scope_of("director_a") for _ in range(3))
    tasks_plan(today=today)
    # Changed behind the signals' back, as a bulk change or another process would:
    # the first child's care team names another director, the second's file is closed,
    # and the third has no task yet.
    CareTeamMember.objects.bulk_create(
        [
            CareTeamMember(
                child=moved,
                team_role=CareTeamMember.TeamRole.CHILD_DIRECTOR,
                user=user("director_b"),
                is_active=True,
            )
        ]
    )
    Child.objects.filter(pk=closed.pk).update(
        status=Child.Status.CLOSED, status_reason="测试：已成年", closed_at=timezone.now()
    )
    Task.objects.filter(child=new).delete()

    with CaptureQueriesContext(connection) as queries:
        result = tasks_plan(today=today, child_ids=[moved.pk, closed.pk, new.pk])
    writes = [q["sql"] for q in queries.captured_queries if "followups_task " in q["sql"]]
    assert len(writes) == 1
    assert result[Task.Kind.HOME_VISIT] == KindResult(moved=1, cancelled=1, created=1)
    assert pending(moved, Task.Kind.HOME_VISIT).assignee == user("director_b")
    assert pending(closed, Task.Kind.HOME_VISIT) is None
    assert pending(new, Task.Kind.HOME_VISIT).assignee == user("director_a")
    # The full run finds nothing left to do.
    planned = all_tasks()
    tasks_plan(today=today)
    assert all_tasks() == planned


def test_a_talk_does_not_close_the_home_visit_task():
    child = child_in_scope_of("director_a")
    tasks_plan(today=timezone.localdate())
    VisitFactory(child=child, by=user("director_a"), kind=Visit.Kind.TALK)
    assert pending(child, Task.Kind.HOME_VISIT).status == Task.Status.OPEN


def test_an_assessment_closes_the_reassessment_task():
    child = ChildFactory(pupil=True)
    tasks_plan(today=timezone.localdate())
    task = pending(child, Task.Kind.REASSESSMENT)
    assert task is not None
    result = AssessmentFactory(child=child)
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.closed_by_record == f"assessment:{result.pk}"
    assert pending(child, Task.Kind.REASSESSMENT) is None  # next one a year away


def test_the_due_date_moves_when_the_risk_changes():
    today = timezone.localdate()
    child = child_in_scope_of("director_a")
    VisitFactory(child=child, by=user("director_a"), visited_on=today - timedelta(days=80))
    task = pending(child, Task.Kind.HOME_VISIT)  # planned at once by the visit
    assert task.due_on == today + timedelta(days=10)  # 80 days ago + 90 (no risk)
    # A flagged talk raises the child's risk to high: visits every 14 days.
    VisitFactory(
        child=child,
        by=user("director_a"),
        kind=Visit.Kind.TALK,
        concerns=[Visit.Concern.SELF_HARM_TALK],
    )
    task.refresh_from_db()
    assert task.status == Task.Status.OVERDUE
    assert task.due_on == today - timedelta(days=80) + timedelta(days=14)
    assert Task.objects.filter(child=child, kind=Task.Kind.HOME_VISIT).count() == 1


def test_an_overdue_task_escalates_to_the_supervisor_past_the_threshold():
    child = child_in_scope_of("director_a")
    today = timezone.localdate()
    tasks_plan(today=today)
    task = pending(child, Task.Kind.HOME_VISIT)
    due = task.due_on
    tasks_mark_overdue(today=due + timedelta(days=13))
    assert tasks_escalate(today=due + timedelta(days=13)).get(user("supervisor_town").pk) is None
    task.refresh_from_db()
    assert task.status == Task.Status.OVERDUE
    escalated = tasks_escalate(today=due + timedelta(days=14))  # the home-visit threshold
    task.refresh_from_db()
    assert task.status == Task.Status.ESCALATED
    assert task.escalated_to == user("supervisor_town")
    assert escalated[user("supervisor_town").pk] >= 1
    told = Notification.objects.filter(recipient=user("supervisor_town"), kind="tasks_escalated")
    assert told.count() == 1


def test_a_hand_over_moves_open_tasks_to_the_receiving_side():
    child = child_in_scope_of("director_a")
    tasks_plan(today=timezone.localdate())
    task = pending(child, Task.Kind.HOME_VISIT)
    assert task.assignee == user("director_a")
    child_handover(
        child=child,
        target=HandoverTarget(region=region(VILLAGE_B), school=None, institution=None),
        reason="测试：随父母迁居",
        by=user("supervisor_town"),
    )
    task.refresh_from_db()
    assert task.status in Task.PENDING
    assert task.assignee == user("director_b")


def test_the_care_team_director_comes_before_the_village_director():
    child = child_in_scope_of("director_a")
    CareTeamMemberFactory(
        child=child, team_role=CareTeamMember.TeamRole.CHILD_DIRECTOR, user=user("director_b")
    )
    tasks_plan(today=timezone.localdate())
    assert pending(child, Task.Kind.HOME_VISIT).assignee == user("director_b")


def test_a_closed_file_cancels_its_tasks():
    from cases.services.child import child_close

    child = child_in_scope_of("director_a")
    tasks_plan(today=timezone.localdate())
    task = pending(child, Task.Kind.HOME_VISIT)
    child_close(
        child=child, reason="测试：已成年", expected_version=child.version, by=user("director_a")
    )
    task.refresh_from_db()
    assert task.status == Task.Status.CANCELLED


def test_reminders_come_before_and_on_the_due_date_once_each():
    child = child_in_scope_of("director_a")
    today = timezone.localdate()
    plan = CarePlanFactory(child=child, by=user("director_a"), review_date=today + timedelta(5))
    tasks_plan(today=today)
    task = pending(child, Task.Kind.CARE_PLAN_REVIEW)
    assert task.due_on == plan.review_date
    tasks_remind(today=today)  # five days ahead: not yet (reminded three days before)
    task.refresh_from_db()
    assert task.reminded_on is None
    tasks_remind(today=today + timedelta(2))
    task.refresh_from_db()
    assert task.reminded_on == today + timedelta(2)
    tasks_remind(today=today + timedelta(3))  # already reminded before the date
    task.refresh_from_db()
    assert task.reminded_on == today + timedelta(2)
    tasks_remind(today=plan.review_date)  # and once on the day
    task.refresh_from_db()
    assert task.reminded_on == plan.review_date


def _run_every_job(today):
    tasks_plan(today=today)
    tasks_mark_overdue(today=today)
    tasks_escalate(today=today)
    tasks_remind(today=today)


def _job_queries(captured):
    """The jobs' own statements; telling people (finding who is told, writing their messages)
    costs a query or two per person told, not per child."""
    telling = ("notification", "delivery", 'FROM "institutions_user"')
    return [
        q["sql"] for q in captured.captured_queries if not any(word in q["sql"] for word in telling)
    ]


def test_the_jobs_cost_the_same_queries_for_ten_times_the_children():
    today = timezone.localdate()
    for _ in range(3):
        ChildFactory(region=VILLAGE_A)
    _run_every_job(today)  # settle what the demo world already has
    with CaptureQueriesContext(connection) as few:
        _run_every_job(today + timedelta(days=40))
    for _ in range(30):
        ChildFactory(region=VILLAGE_A)
    with CaptureQueriesContext(connection) as many:
        _run_every_job(today + timedelta(days=80))
    assert Task.objects.filter(child__residence_region_id=VILLAGE_A).count() >= 33
    assert len(_job_queries(many)) == len(_job_queries(few)), "\n".join(
        difflib.unified_diff(
            [q[:150] for q in _job_queries(few)],
            [q[:150] for q in _job_queries(many)],
            lineterm="",
        )
    )


@pytest.mark.django_db(transaction=True)
def test_the_planning_job_runs_through_the_real_broker_and_worker(demo_world):
    child = child_in_scope_of("director_a")
    assert pending(child, Task.Kind.HOME_VISIT) is None
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        result = app.send_task(
            "followups.plan_tasks", kwargs={"today": timezone.localdate().isoformat()}
        )
        summary = result.get(timeout=120)
    assert summary["home_visit_created"] >= 1
    assert pending(child, Task.Kind.HOME_VISIT).assignee == user("director_a")
